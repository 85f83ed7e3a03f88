"""``fastlr bench`` and ``fastlr demo``: what they print, their exit status, JSON and plot.

Timings are never asserted (the machine is shared and noisy). What is checked: every registry
entry is run, checked and labelled as its fields say, at the thread counts its fields say; a wrong
kernel makes the run fail; the derived figures in the JSON agree with a recomputation from the
medians; the noise rules and the interleaving order, on synthetic timings and fake calls; and the
demo learns (against scikit-learn's accuracy on the same split as an independent yardstick).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fastlr import cli, implementations, reference
from fastlr.bench import options
from fastlr.bench.checks import TOLERANCE, max_rel_error
from fastlr.bench.data import make_csr_problem, make_problem
from fastlr.bench.flags import WIDE_SPREAD, noise_flags, starved_thread_counts
from fastlr.bench.headline import headline
from fastlr.bench.tables import Row, dense_table, derive_figures
from fastlr.bench.timing import Contender, relative_spread, time_interleaved
from fastlr.implementations import Kernel, select

# one small dense size and one small CSR size (the pure-Python loop runs on a slice), two samples
# per row (so every row has a spread): float64/C reuse the other tests' compiles
TINY = ["bench", "--quick", "--sizes", "3000x7", "--sparse", "3000x50@0.05", "--repeat", "2",
        "--no-progress", "--threads", "1,all"]


def _bench(args):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(args)
    return status, out.getvalue()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "results.json"
    status, text = _bench(TINY + ["--json", str(path)])
    return status, text, json.loads(path.read_text())


def _add_entries(monkeypatch, *entries):
    """Register extra kernels for one test, the way a new registry entry would be added."""
    monkeypatch.setattr(implementations, "_ENTRIES", implementations._ENTRIES + entries)
    for k in entries:
        monkeypatch.setitem(implementations.KERNELS, k.key, k)


# ----------------------------------------------------------------------------- a whole run
def test_bench_passes_and_prints_every_entry(tiny_run):
    status, text, results = tiny_run
    assert status == 0
    lines = text.splitlines()
    assert lines[0].startswith("Machine: ") and "load average" in lines[0]
    assert "threading layer" in lines[1] and "BLAS" in lines[1]
    assert "Slide 015" in text
    threads = results["config"]["threads"]
    for kernel in select("loss_grad", "dense") + select("loss_grad", "csr"):
        if kernel.parallel:
            for t in threads:
                assert f"{kernel.label}, {t} thread{'s' if t > 1 else ''}" in text
        elif kernel.blas:
            assert f"{kernel.label}, 1 BLAS thread" in text
        else:
            assert kernel.label in text
    for capped in (k for k in select("loss_grad", "dense") if k.max_elements is not None):
        assert f"{capped.label}*" in text  # timed on a slice, marked
    assert "timed on the first" in text
    assert "on CSR X of 3,000 x 50" in text
    assert "all agree" in text and "MISMATCH" not in text and "FAILED" not in text
    assert "spread" in text and "% read" in text


def test_every_registry_entry_is_checked(tiny_run):
    _, _, results = tiny_run
    checked = {c["key"] for c in results["checks"]}
    non_reference = {k.key for k in implementations.KERNELS.values() if not k.reference}
    assert checked == non_reference  # every operation and input, not only loss_grad
    assert all(c["ok"] and c["max_error"] <= TOLERANCE[c["dtype"]] for c in results["checks"])


def test_tables_follow_the_registry_fields(tiny_run):
    _, _, results = tiny_run
    threads = set(results["config"]["threads"])
    dense, sparse = results["tables"]
    for table, input in ((dense, "dense"), (sparse, "csr")):
        assert table["input"] == input and table["repeat"] == 2
        kernel_rows = [r for r in table["rows"] if r["role"] == "kernel"]
        for kernel in select("loss_grad", input):
            counts = {r["threads"] for r in kernel_rows if r["key"] == kernel.key}
            assert counts == (threads if kernel.parallel or kernel.blas else {1}), kernel.key
            for r in kernel_rows:
                if r["key"] == kernel.key:
                    assert r["reference"] == kernel.reference
                    assert (r["scaled_from_rows"] is not None) == (
                        kernel.max_elements is not None and 20_000 < 3000 * table["n_features"])
        assert {r["threads"] for r in table["rows"] if r["role"] == "read"} == threads | {1}
        assert {r["key"] for r in kernel_rows} == {k.key for k in select("loss_grad", input)}
    # --quick times capped entries on 20,000 elements: 2,857 rows of 7
    (python,) = [r for r in dense["rows"] if r["scaled_from_rows"]]
    assert python["scaled_from_rows"] == 20_000 // 7


def test_bench_json_figures_agree_with_the_medians(tiny_run):
    _, _, results = tiny_run
    dense, sparse = results["tables"]
    assert (dense["n_samples"], dense["n_features"], dense["dtype"], dense["layout"]) == (3000, 7, "float64", "C")
    assert dense["nbytes"] == 3000 * 7 * 8
    X = make_csr_problem(3000, 50, 0.05, seed=0)[2]
    assert sparse["nnz"] == X.nnz and sparse["nbytes"] == X.nnz * (8 + 4)  # float64 data, int32 indices
    for table in results["tables"]:
        read = {r["threads"]: r["median_s"] for r in table["rows"] if r["role"] == "read"}
        ref_key = {k.key: implementations.reference_for(k).key for k in select("loss_grad", table["input"])}
        medians = {(r["key"], r["threads"]): r["median_s"] for r in table["rows"] if r["role"] == "kernel"}
        slowest = max(s for (_, t), s in medians.items() if t == 1)
        for r in table["rows"]:
            assert r["samples"] == 2 and r["min_s"] <= r["median_s"] <= r["max_s"]
            assert r["spread"] == pytest.approx((r["max_s"] - r["min_s"]) / r["median_s"])
            assert r["gb_per_s"] == pytest.approx(table["nbytes"] / r["median_s"] / 1e9)
            assert ("wide spread" in r["flags"]) == (r["spread"] > WIDE_SPREAD)
            if r["role"] == "read":
                continue
            pct = 100 * read[r["threads"]] / r["median_s"]
            assert r["pct_of_read"] == pytest.approx(pct)
            assert ("faster than a read" in r["flags"]) == (pct > 100)
            assert r["noisy"] == bool(r["flags"])
            if r["role"] == "kernel":
                assert r["ok"] and r["max_error"] <= TOLERANCE["float64"]
                ref = medians.get((ref_key[r["key"]], r["threads"]), medians[ref_key[r["key"]], 1])
                assert r["speedup_vs_reference"] == pytest.approx(ref / r["median_s"])
                assert r["speedup_vs_slowest"] == pytest.approx(slowest / r["median_s"])
    demo = results["dot_demo"]
    assert demo["n"] == 1_000_000 and demo["ok"]
    assert results["machine"]["cpu_count"] >= 1 and results["machine"]["numba_threading_layer"]


def test_entry_added_at_runtime_shows_up(monkeypatch, tmp_path):
    """A new registry entry is checked and timed, with its own label and thread counts, without any
    change to the bench code; ``max_elements`` makes it timed on a slice."""
    def twice_reference(w, b, X, y, sample_weight=None, l2=0.0):
        reference.loss_grad(w, b, X, y, sample_weight, l2)
        return reference.loss_grad(w, b, X, y, sample_weight, l2)

    _add_entries(
        monkeypatch,
        Kernel("twice", "loss_grad", "dense", twice_reference, "test entry: reference twice",
               parallel=True),
        Kernel("slow", "loss_grad", "dense", reference.loss_grad, "test entry: capped",
               max_elements=700),
        Kernel("twice", "loss_grad", "csr", twice_reference, "test entry: CSR reference twice"),
    )
    path = tmp_path / "r.json"
    status, text = _bench(TINY + ["--threads", "1,2", "--json", str(path)])
    assert status == 0
    for label in ("test entry: reference twice, 1 thread", "test entry: reference twice, 2 threads",
                  "test entry: capped*", "test entry: CSR reference twice"):
        assert label in text
    results = json.loads(path.read_text())
    checked = {c["key"] for c in results["checks"]}
    assert {"loss_grad-dense-twice", "loss_grad-dense-slow", "loss_grad-csr-twice"} <= checked
    dense, sparse = results["tables"]
    rows = {(r["key"], r["threads"]): r for r in dense["rows"] if r["role"] == "kernel"}
    assert {("loss_grad-dense-twice", 1), ("loss_grad-dense-twice", 2)} <= set(rows)
    assert rows["loss_grad-dense-slow", 1]["scaled_from_rows"] == 20_000 // 7  # --quick's slice
    assert [r["threads"] for r in sparse["rows"] if r["key"] == "loss_grad-csr-twice"] == [1]
    # without --quick, each capped entry is timed on its own max_elements
    table = dense_table(3000, 7, "float64", "C", (1,), 1)
    scaled = {r.key: r.scaled_from_rows for r in table.rows if r.role == "kernel"}
    assert scaled["loss_grad-dense-slow"] == 700 // 7
    python = [k for k in select("loss_grad", "dense") if k.max_elements and k.max_elements >= 3000 * 7]
    assert python and all(scaled[k.key] is None for k in python)  # small enough: timed in full


def test_blas_entries_without_threadpoolctl_run_once_unlimited(monkeypatch):
    """Without threadpoolctl BLAS cannot be limited: a ``blas`` entry gets one row, labelled so."""
    from fastlr.bench import tables

    monkeypatch.setattr(tables, "have_threadpoolctl", lambda: False)
    table = tables.dense_table(3000, 7, "float64", "C", (1, 2), 1)
    for kernel in select("loss_grad", "dense"):
        rows = [r for r in table.rows if r.key == kernel.key]
        if kernel.blas:
            assert [(r.threads, r.label) for r in rows] == [(None, f"{kernel.label}, BLAS threads not limited")]
        else:
            assert {r.threads for r in rows} == ({1, 2} if kernel.parallel else {1})
    (reference_row,) = [r for r in table.rows if r.reference]  # one row, whatever its threads
    for r in table.rows:  # every entry, at every thread count, is compared with it
        if r.role == "kernel":
            assert r.speedup_vs_reference == pytest.approx(reference_row.median_s / r.median_s)


def test_bench_fails_on_a_wrong_kernel(monkeypatch):
    def off_by_a_bit(w, b, X, y, sample_weight=None, l2=0.0):
        J, dw, db = reference.loss_grad(w, b, X, y, sample_weight, l2)
        return J, dw * (1 + 1e-6), db

    def raises(w, b, X, y, sample_weight=None, l2=0.0):
        raise RuntimeError("kernel exploded")

    _add_entries(monkeypatch,
                 Kernel("broken", "loss_grad", "dense", off_by_a_bit, "broken: dw off by 1e-6"),
                 Kernel("raises", "loss_grad", "csr", raises, "broken: raises"))
    status, out = _bench(TINY)
    assert status == 1
    assert "MISMATCH loss_grad-dense-broken float64 C" in out
    assert "MISMATCH loss_grad-csr-raises float64 CSR: raised RuntimeError: kernel exploded" in out
    (row,) = [line for line in out.splitlines() if line.lstrip().startswith("broken: dw off")]
    assert "MISMATCH" in row
    (row,) = [line for line in out.splitlines() if line.lstrip().startswith("broken: raises")]
    assert "FAILED: RuntimeError: kernel exploded" in row
    assert "fused CSR kernel" in out  # the rest of the table was still timed
    assert "FAILED: some results disagree" in out


# ----------------------------------------------------------------------------- noise, pure rules
def test_noise_flags_rules():
    assert noise_flags(0.10, 80.0) == []
    assert noise_flags(WIDE_SPREAD, 100.0) == []  # at the thresholds: still a result
    assert noise_flags(0.26, 80.0) == ["wide spread"]
    assert noise_flags(None, 100.5) == ["faster than a read"]  # one sample: no spread to judge
    assert noise_flags(0.9, 130.0, starved=True) == ["wide spread", "faster than a read",
                                                     "threads starved"]
    assert noise_flags(None, None) == []
    assert starved_thread_counts({1: 0.010, 2: 0.012, 4: 0.004}) == {2}
    assert starved_thread_counts({2: 0.5}) == set()  # no 1-thread read to compare with
    assert relative_spread([1.0, 1.2, 1.1]) == pytest.approx(0.2 / 1.1)
    assert relative_spread([0.5]) is None


def _row(label, role, threads, samples_ms, key=None, reference=False):
    s = sorted(x / 1e3 for x in samples_ms)
    median = s[len(s) // 2]
    return Row(label, role, threads, median, s[0], s[-1], relative_spread(s), len(s), 1, s[0],
               key=key, reference=reference)


def test_derived_figures_and_flags_on_synthetic_timings():
    rows = [
        _row("read 1", "read", 1, [10, 10.2, 10.1]),
        _row("read 2", "read", 2, [12, 12.1, 12.2]),  # slower than at 1 thread: starved
        _row("ref", "kernel", 1, [20, 20.4, 20.2], key="r", reference=True),
        _row("ref 2", "kernel", 2, [15, 15.1, 15.2], key="r", reference=True),
        _row("quiet", "kernel", 1, [12.5, 12.6, 12.4], key="a"),
        _row("bursty", "kernel", 1, [12, 25, 12.2], key="b"),  # spread 13/12.2 > 25 %
        _row("too fast", "kernel", 1, [8, 8.1, 8.2], key="c"),  # 10.1 / 8.1 > 100 % read
        _row("two threads", "kernel", 2, [13, 13.1, 13.2], key="a"),
    ]
    derive_figures(rows, nbytes=80e6, reference_keys={"r": "r", "a": "r", "b": "r", "c": "r"})
    by = {r.label: r for r in rows}
    assert by["quiet"].flags == [] and not by["quiet"].noisy
    assert by["quiet"].pct_of_read == pytest.approx(100 * 10.1 / 12.5)
    assert by["quiet"].speedup_vs_reference == pytest.approx(20.2 / 12.5)
    assert by["quiet"].speedup_vs_slowest == pytest.approx(20.2 / 12.5)
    assert by["quiet"].gb_per_s == pytest.approx(80e6 / 12.5e-3 / 1e9)
    assert by["bursty"].flags == ["wide spread"]
    assert by["too fast"].flags == ["faster than a read"]
    assert by["two threads"].flags == ["threads starved"]
    assert by["two threads"].speedup_vs_reference == pytest.approx(15.1 / 13.1)  # same thread count
    assert by["read 2"].flags == ["threads starved"] and by["read 1"].flags == []


def test_headline_marks_figures_that_rest_on_noisy_rows():
    def row(key, threads, t, *, ref=False, parallel=False, pct=50.0, flags=(), role="kernel",
            capped=False, scaled=None):
        return {"key": key, "label": f"{key}, {threads} thr", "entry_label": key, "role": role,
                "threads": threads, "median_s": t, "samples": 5, "ok": True, "reference": ref,
                "parallel": parallel, "capped": capped, "scaled_from_rows": scaled,
                "pct_of_read": pct, "speedup_vs_reference": None, "flags": list(flags)}

    def table(m, dtype, layout, rows, input="dense", nnz=None):
        for r in rows:  # as derive_figures would
            ref = next((x for x in rows if x["reference"] and x["threads"] == r["threads"]), None)
            r["speedup_vs_reference"] = ref["median_s"] / r["median_s"] if ref else None
        return {"input": input, "n_samples": m, "n_features": 100, "dtype": dtype, "layout": layout,
                "rows": rows, "nnz": nnz}

    tables = [
        table(10_000, "float64", "C", [row("python", 1, 3.0, capped=True), row("loops", 1, 0.01),
                                       row("numpy", 1, 0.02, ref=True)]),
        table(1_000_000, "float64", "C", [row("read", 1, 0.05, role="read"),
                                          row("numpy", 1, 0.16, ref=True),
                                          row("fused", 1, 0.1, parallel=True, pct=60.0),
                                          row("fused", 2, 0.05, parallel=True, flags=["wide spread"])]),
        table(1_000_000, "float64", "F", [row("fused", 1, 0.12, parallel=True)]),
        table(1_000_000, "float32", "C", [row("fused", 1, 0.06, parallel=True)]),
    ]
    figures = {s["figure"]: s for s in headline(tables)}
    assert figures["fused vs NumPy reference, 1 thread"]["value"] == pytest.approx(1.6)
    assert figures["fused, 1 thread, as % of reading X once"]["value"] == 60.0
    assert figures["fused: F order time / C order time, 1 thread"]["value"] == pytest.approx(1.2)
    assert figures["fused: float64 time / float32 time, 1 thread"]["value"] == pytest.approx(0.1 / 0.06)
    assert figures["loops, 1 thr vs python, 1 thr (timed in full)"]["value"] == pytest.approx(300.0)
    two = figures["fused, 2 threads vs 1 thread"]
    assert two["value"] == pytest.approx(2.0) and two["noisy"] == ["fused, 2 thr: wide spread"]
    assert all(not s["noisy"] for name, s in figures.items() if "2 threads" not in name)


# ----------------------------------------------------------------------------- interleaving
def _recording(log, cost_of, name, now):
    def call():
        log.append(name)
        now[0] += cost_of(name)
        return name
    return call


def test_samples_are_taken_round_robin():
    log, now = [], [0.0]
    names = ["a", "b", "c"]
    contenders = [Contender(n, _recording(log, lambda n: 0.001, n, now)) for n in names]
    timings = time_interleaved(contenders, 4, min_sample_s=0.0, clock=lambda: now[0])
    assert log[:6] == ["a", "a", "b", "b", "c", "c"]  # first call and probe of each
    rounds = [log[6 + 3 * i: 9 + 3 * i] for i in range(4)]
    assert len(log) == 6 + 12
    assert all(sorted(r) == names for r in rounds)  # every round: one sample of each, then the next
    assert [t.result for t in timings] == names and all(len(t.samples) == 4 for t in timings)


def test_a_burst_of_load_hits_every_contender_alike():
    """Virtual time: each call costs its contender's base time, doubled during round 2. k is chosen
    so a sample lasts >= min_sample_s; every contender sees the burst once, and its median not."""
    log, now = [], [0.0]
    base = {"fast": 0.001, "slow": 0.004}
    rounds_seen = []
    cost = lambda n: base[n] * (2 if rounds_seen and rounds_seen[-1] == 1 else 1)  # noqa: E731
    contenders = [Contender(n, _recording(log, cost, n, now)) for n in base]
    timings = time_interleaved(contenders, 3, min_sample_s=0.01, clock=lambda: now[0],
                               on_round=lambda i, n: rounds_seen.append(i))
    fast, slow = timings
    assert (fast.calls_per_sample, slow.calls_per_sample) == (10, 3)
    assert fast.samples[1] == pytest.approx(0.002) and slow.samples[1] == pytest.approx(0.008)
    assert fast.median_s == pytest.approx(0.001) and slow.median_s == pytest.approx(0.004)
    assert fast.spread == pytest.approx(1.0) and slow.spread == pytest.approx(1.0)
    assert rounds_seen == [0, 1, 2]


def test_a_contender_that_raises_is_reported_and_skipped():
    def boom():
        raise ValueError("bad")

    calls = []
    ok, bad = time_interleaved([Contender("ok", lambda: calls.append(1)), Contender("bad", boom)],
                               2, min_sample_s=0.0)
    assert bad.error == "ValueError: bad" and bad.samples == [] and math.isnan(bad.median_s)
    assert len(ok.samples) == 2 and len(calls) == 4


# ----------------------------------------------------------------------------- options, plot
def test_plot_needs_matplotlib(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert cli.main(TINY + ["--plot", str(tmp_path / "b.png")]) == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and "pip install" in err
    assert not (tmp_path / "b.png").exists()


def test_plot_is_written(tiny_run, tmp_path):
    pytest.importorskip("matplotlib")
    from fastlr import bench

    _, _, results = tiny_run
    path = tmp_path / "bench.png"
    bench.plot(results, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--sizes", "100by7"], "N_SAMPLESxN_FEATURES"),
    (["--sizes", "0x7"], "at least one sample"),
    (["--dtype", "float16"], "float16"),
    (["--layout", "K"], "layout"),
    (["--threads", "0"], "thread count"),
    (["--repeat", "0"], "--repeat"),
    (["--sparse", "1000x10"], "N_SAMPLESxN_FEATURES@DENSITY"),
    (["--sparse", "1000x10@0"], "(0, 1]"),
    (["--sparse", "1000x10@lots"], "(0, 1]"),
    (["--sparse", "1000x10@0.1", "--no-sparse"], "not allowed with"),
    (["--fit-size", "1000x10,2000x10"], "one size"),
])
def test_bad_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["bench"] + args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_parsers():
    assert options.parse_sizes("200000x100, 50_000X1000") == ((200_000, 100), (50_000, 1000))
    assert options.parse_sparse("200000x2000@0.01,10x5@1") == ((200_000, 2000, 0.01), (10, 5, 1.0))
    assert options.parse_threads("all,1,1", 4) == (1, 4)
    assert options.parse_choices("f,C", ("C", "F"), "layout") == ("F", "C")


def test_python_dash_m_fastlr_help():
    done = subprocess.run([sys.executable, "-m", "fastlr", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for option in ("--sizes", "--dtype", "--threads", "--layout", "--json", "--plot", "--quick",
                   "--repeat", "--slides", "--sparse", "--no-sparse"):
        assert option in done.stdout


def test_importing_the_bench_is_light():
    code = textwrap.dedent("""
        import json, sys
        import fastlr.bench, fastlr.cli
        heavy = ["numba", "sklearn", "matplotlib", "threadpoolctl", "scipy", "dask"]
        print(json.dumps([m for m in heavy if m in sys.modules]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# ----------------------------------------------------------------------------- data and floors
@pytest.mark.parametrize("order", ["C", "F"])
def test_make_problem_layout_and_labels(order):
    w, b, X, y = make_problem(50, 3, "float32", order)
    assert X.dtype == np.float32 and X.shape == (50, 3)
    assert X.flags.c_contiguous if order == "C" else X.flags.f_contiguous
    assert set(np.unique(y)) == {0.0, 1.0} and w.shape == (3,)


def test_make_csr_problem_is_a_canonical_csr_of_the_asked_density():
    w, b, X, y = make_csr_problem(4000, 300, 0.02, "float32", seed=3)
    assert X.format == "csr" and X.shape == (4000, 300) and X.dtype == np.float32
    dense = X.toarray()
    assert np.count_nonzero(dense) == X.nnz  # no stored zeros, no repeated (row, column)
    assert 0.018 < X.nnz / dense.size < 0.021
    for i in range(0, 4000, 397):
        cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
        assert np.all(np.diff(cols) > 0)  # sorted, distinct
    assert set(np.unique(y)) == {0.0, 1.0} and w.shape == (300,)


@pytest.mark.parametrize("order", ["C", "F"])
def test_read_once_sums_every_element(order):
    """The read-speed floors really read every element: their sums equal math.fsum's."""
    from fastlr.bench.demo import dot_loop
    from fastlr.bench.readonce import read_csr, read_dense

    _, _, X, _ = make_problem(1001, 13, "float64", order)
    assert read_dense(X) == pytest.approx(math.fsum(X.ravel().tolist()), rel=1e-12, abs=1e-9)
    a, b = X[:, 0].copy(), X[:, 1].copy()
    assert dot_loop()(a, b) == pytest.approx(math.fsum((a * b).tolist()), rel=1e-12)
    _, _, S, _ = make_csr_problem(1001, 130, 0.1, seed=2)
    expected = math.fsum(S.data.tolist()) + int(S.indices.astype(np.int64).sum())
    assert read_csr(S) == pytest.approx(expected, rel=1e-12)


def test_max_rel_error():
    got = (1.0, np.array([1.0, 2.001]), 0.5)
    assert max_rel_error(got, (1.0, np.array([1.0, 2.0]), 0.5)) == pytest.approx(0.001 / 2)
    assert max_rel_error(0.25, 0.5) == pytest.approx(0.25)  # |expected| < 1: absolute
    assert max_rel_error((1.0, np.array([np.nan]), 0.0), (1.0, np.array([1.0]), 0.0)) == math.inf
    assert max_rel_error((1.0, np.zeros(3)), (1.0, np.zeros(2))) == math.inf


# ----------------------------------------------------------------------------- the demo
def test_demo_data_is_the_course_layout():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    from fastlr.demo import load_zero_vs_rest

    X_train, Y_train, X_test, Y_test = load_zero_vs_rest()
    digits = load_digits()
    assert X_train.shape[0] == X_test.shape[0] == 64  # (n_x, m): one image per column
    assert X_train.shape[1] + X_test.shape[1] == len(digits.target)
    assert Y_train.shape == (1, X_train.shape[1]) and Y_test.shape == (1, X_test.shape[1])
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0
    # each column is one flattened image, labelled 1 exactly when it is a zero
    rows = {tuple(r): t for r, t in zip(digits.data / 16.0, digits.target)}
    for j in range(0, X_train.shape[1], 97):
        assert Y_train[0, j] == (rows[tuple(X_train[:, j])] == 0)


def test_demo_learns(tmp_path, capsys):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    from fastlr.demo import load_zero_vs_rest

    path = tmp_path / "curve.png"
    assert cli.main(["demo", "--iterations", "300", "--plot", str(path)]) == 0
    out = capsys.readouterr().out
    costs = [float(line.rsplit(":", 1)[1]) for line in out.splitlines()
             if line.startswith("Cost after iteration")]
    assert len(costs) == 3 and costs[0] == pytest.approx(np.log(2)) and costs == sorted(costs, reverse=True)
    test_acc = float(out.split("test accuracy:")[1].split("%")[0]) / 100
    # yardstick: scikit-learn on the same split
    X_train, Y_train, X_test, Y_test = load_zero_vs_rest()
    sk = LogisticRegression().fit(X_train.T, Y_train.ravel()).score(X_test.T, Y_test.ravel())
    assert test_acc >= sk - 0.02
    if "learning curve saved" in out:
        assert path.read_bytes()[:4] == b"\x89PNG"
