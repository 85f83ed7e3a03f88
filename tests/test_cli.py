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
import warnings

import numpy as np
import pytest

from fastlr import cli, implementations, reference
from fastlr.bench import options
from fastlr.bench.checks import TOLERANCE, max_rel_error
from fastlr.bench.data import make_csr_problem, make_multinomial_problem, make_problem
from fastlr.bench.fit import format_fit_table
from fastlr.bench.flags import WIDE_SPREAD, noise_flags, starved_thread_counts
from fastlr.bench.headline import headline
from fastlr.bench.tables import Row, dense_table, derive_figures
from fastlr.bench.timing import Contender, relative_spread, time_interleaved
from fastlr.implementations import Kernel, select

# one small dense size and one small CSR size (the pure-Python loop runs on a slice), two samples
# per row (so every row has a spread): float64/C reuse the other tests' compiles
TINY = ["bench", "--quick", "--sizes", "3000x7", "--sparse", "3000x50@0.05", "--multinomial",
        "3000x7x3", "--repeat", "2", "--no-progress", "--threads", "1,all"]
#: the operation and input of each table of a TINY run, in order
TINY_TABLES = [("loss_grad", "dense"), ("loss_grad", "csr"), ("multinomial_loss_grad", "dense")]


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
    for kernel in [k for operation, input in TINY_TABLES for k in select(operation, input)]:
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
    assert "multinomial_loss_grad on X of 3,000 x 7 float64, C order, K = 3 classes" in text
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
    assert [(t["operation"], t["input"]) for t in results["tables"]] == TINY_TABLES
    dense = results["tables"][0]
    for table, (operation, input) in zip(results["tables"], TINY_TABLES):
        assert table["repeat"] == 2
        kernel_rows = [r for r in table["rows"] if r["role"] == "kernel"]
        for kernel in select(operation, input):
            counts = {r["threads"] for r in kernel_rows if r["key"] == kernel.key}
            assert counts == (threads if kernel.parallel or kernel.blas else {1}), kernel.key
            for r in kernel_rows:
                if r["key"] == kernel.key:
                    assert r["reference"] == kernel.reference
                    assert (r["scaled_from_rows"] is not None) == (
                        kernel.max_elements is not None and 20_000 < 3000 * table["n_features"])
        assert {r["threads"] for r in table["rows"] if r["role"] == "read"} == threads | {1}
        assert {r["key"] for r in kernel_rows} == {k.key for k in select(operation, input)}
    # --quick times capped entries on 20,000 elements: 2,857 rows of 7
    (python,) = [r for r in dense["rows"] if r["scaled_from_rows"]]
    assert python["scaled_from_rows"] == 20_000 // 7


def test_bench_json_figures_agree_with_the_medians(tiny_run):
    _, _, results = tiny_run
    dense, sparse, multinomial = results["tables"]
    assert (dense["n_samples"], dense["n_features"], dense["dtype"], dense["layout"]) == (3000, 7, "float64", "C")
    assert dense["nbytes"] == 3000 * 7 * 8 and dense["n_classes"] is None
    X = make_csr_problem(3000, 50, 0.05, seed=0)[2]
    assert sparse["nnz"] == X.nnz and sparse["nbytes"] == X.nnz * (8 + 4)  # float64 data, int32 indices
    assert (multinomial["n_samples"], multinomial["n_features"], multinomial["n_classes"],
            multinomial["layout"], multinomial["nbytes"]) == (3000, 7, 3, "C", 3000 * 7 * 8)
    for table in results["tables"]:
        read = {r["threads"]: r["median_s"] for r in table["rows"] if r["role"] == "read"}
        ref_key = {k.key: implementations.reference_for(k).key
                   for k in select(table["operation"], table["input"])}
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
    dense, sparse, multinomial = results["tables"]
    assert not any(r["key"] and "twice" in r["key"] for r in multinomial["rows"])  # another operation
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


def test_multinomial_tables_are_registry_driven(monkeypatch, tmp_path):
    """An entry added to ``multinomial_loss_grad`` at runtime is timed in the multinomial table at
    the thread counts its fields give; one that is wrong fails the run there, and the loss_grad
    tables do not show either."""
    def twice(W, b, X, y, sample_weight=None, l2=0.0):
        reference.multinomial_loss_grad(W, b, X, y, sample_weight, l2)
        return reference.multinomial_loss_grad(W, b, X, y, sample_weight, l2)

    def off(W, b, X, y, sample_weight=None, l2=0.0):
        J, dW, db = reference.multinomial_loss_grad(W, b, X, y, sample_weight, l2)
        return J, dW, db * (1 + 1e-6) + 1e-6

    _add_entries(monkeypatch,
                 Kernel("twice", "multinomial_loss_grad", "dense", twice, "test entry: softmax twice",
                        parallel=True),
                 Kernel("off", "multinomial_loss_grad", "dense", off, "test entry: db off"))
    path = tmp_path / "r.json"
    status, text = _bench(TINY + ["--threads", "1,2", "--json", str(path)])
    assert status == 1  # the wrong entry
    results = json.loads(path.read_text())
    dense, _, multinomial = results["tables"]
    rows = {(r["key"], r["threads"]): r for r in multinomial["rows"] if r["role"] == "kernel"}
    assert rows["multinomial_loss_grad-dense-twice", 1]["ok"]
    assert rows["multinomial_loss_grad-dense-twice", 2]["ok"]
    assert [t for (k, t) in rows if k == "multinomial_loss_grad-dense-off"] == [1]
    assert not rows["multinomial_loss_grad-dense-off", 1]["ok"]
    assert not any("test entry" in r["label"] for r in dense["rows"])
    (row,) = [line for line in text.splitlines() if line.lstrip().startswith("test entry: db off")]
    assert "MISMATCH" in row
    assert "test entry: softmax twice, 2 threads" in text


def test_multinomial_options(tmp_path):
    """--multinomial sets the tables' sizes (one table per size, dtype and layout), and
    --no-multinomial drops them."""
    path = tmp_path / "r.json"
    status, _ = _bench(["bench", "--quick", "--sizes", "500x4", "--no-sparse", "--multinomial",
                        "400x3x2,300x5x4", "--layout", "C,F", "--repeat", "1", "--no-progress",
                        "--threads", "1", "--json", str(path)])
    assert status == 0
    tables = json.loads(path.read_text())["tables"]
    assert [(t["operation"], t["layout"], t["n_samples"], t["n_features"], t["n_classes"])
            for t in tables if t["operation"] != "loss_grad"] == [
        ("multinomial_loss_grad", "C", 400, 3, 2), ("multinomial_loss_grad", "C", 300, 5, 4),
        ("multinomial_loss_grad", "F", 400, 3, 2), ("multinomial_loss_grad", "F", 300, 5, 4)]
    status, _ = _bench(["bench", "--quick", "--sizes", "500x4", "--no-sparse", "--no-multinomial",
                        "--repeat", "1", "--no-progress", "--threads", "1", "--json", str(path)])
    assert status == 0
    assert {t["operation"] for t in json.loads(path.read_text())["tables"]} == {"loss_grad"}


def _config(*args):
    import argparse

    parser = argparse.ArgumentParser()
    bench_parser = cli._bench_parser(parser.add_subparsers(dest="command"))
    return cli._bench_config(parser.parse_args(["bench", *args]), bench_parser)


def test_presets_and_defaults_of_the_multinomial_table():
    import numba

    from fastlr import bench

    default = _config()
    assert default.multinomial == bench.DEFAULT_MULTINOMIAL == ((200_000, 100, 10),)
    assert default.fit and default.fit_multinomial is None and default.fit_repeat == 3
    slides = _config("--slides")  # the headline: 1e6 x 100, K = 10, at 1 and all threads
    assert slides.multinomial == ((1_000_000, 100, 10),)
    assert slides.threads == tuple(sorted({1, numba.config.NUMBA_NUM_THREADS}))
    assert _config("--quick").multinomial == ((50_000, 100, 10),)
    assert _config("--fit-multinomial").fit_multinomial == bench.DEFAULT_FIT_MULTINOMIAL
    assert _config("--fit-multinomial", "1000x5x3", "--fit-repeat", "5").fit_multinomial == (1000, 5, 3)
    assert _config("--fit-repeat", "5").fit_repeat == 5


def test_make_multinomial_problem_draws_labels_from_the_softmax():
    """y is a draw from softmax(X·W + b): over 200,000 samples each class's frequency matches the
    mean softmax probability (computed here) to within 5 standard errors."""
    W, b, X, y = make_multinomial_problem(200_000, 6, 4, "float32", "F", seed=5)
    assert X.shape == (200_000, 6) and X.dtype == np.float32 and X.flags.f_contiguous
    assert W.shape == (6, 4) and b.shape == (4,) and y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1, 2, 3}
    Z = X.astype(np.float64) @ W + b
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    expected = P.mean(axis=0)
    observed = np.bincount(y, minlength=4) / y.size
    assert np.all(np.abs(observed - expected) < 5 * np.sqrt(expected * (1 - expected) / y.size))
    # and the labels follow each sample's own probabilities, not only the marginals
    assert np.mean(np.log(P[np.arange(y.size), y])) > np.mean(np.log(P[:, ::-1][np.arange(y.size), y]))


def test_headline_is_picked_per_operation():
    """The multinomial figures come from the multinomial table only (at 1 and all threads, vs the
    reference and as % of a read), and loss_grad's from its own, even when the multinomial table
    is the larger one."""
    def row(key, threads, t, *, ref=False, parallel=False, pct=None, role="kernel", flags=()):
        return {"key": key, "label": f"{key}, {threads} thr", "entry_label": key, "role": role,
                "threads": threads, "median_s": t, "samples": 5, "ok": True, "reference": ref,
                "parallel": parallel, "capped": False, "scaled_from_rows": None,
                "pct_of_read": pct, "speedup_vs_reference": None, "flags": list(flags)}

    def table(operation, m, rows, n_classes=None):
        for r in rows:
            ref = next((x for x in rows if x["reference"] and x["threads"] == r["threads"]), None)
            r["speedup_vs_reference"] = ref["median_s"] / r["median_s"] if ref and r["role"] == "kernel" else None
        return {"operation": operation, "input": "dense", "n_samples": m, "n_features": 100,
                "dtype": "float64", "layout": "C", "rows": rows, "nnz": None, "n_classes": n_classes}

    tables = [
        table("loss_grad", 1000, [row("read", 1, 0.01, role="read"), row("read", 2, 0.006, role="read"),
                                  row("ref", 1, 0.03, ref=True), row("fused", 1, 0.02, parallel=True, pct=50.0)]),
        table("multinomial_loss_grad", 1_000_000, [
            row("read", 1, 0.07, role="read"), row("read", 2, 0.04, role="read"),
            row("mref", 1, 0.7, ref=True), row("mref", 2, 0.5, ref=True, flags=["wide spread"]),
            row("softmax", 1, 0.25, parallel=True, pct=28.0),
            row("softmax", 2, 0.14, parallel=True, pct=29.0)], n_classes=10),
    ]
    figures = {s["figure"]: s for s in headline(tables)}
    assert figures["fused vs NumPy reference, 1 thread"]["where"] == "1000x100 float64 C"
    assert figures["fused vs NumPy reference, 1 thread"]["value"] == pytest.approx(1.5)
    one = figures["softmax vs NumPy reference, 1 thread"]
    assert one["value"] == pytest.approx(0.7 / 0.25) and one["where"] == "1000000x100 K=10 float64 C"
    assert not one["noisy"]
    two = figures["softmax vs NumPy reference, 2 threads"]
    assert two["value"] == pytest.approx(0.5 / 0.14) and two["noisy"] == ["mref, 2 thr: wide spread"]
    assert figures["softmax, 1 thread, as % of reading X once"]["value"] == 28.0
    assert figures["softmax, 2 threads, as % of reading X once"]["value"] == 29.0
    assert figures["softmax, 2 threads vs 1 thread"]["value"] == pytest.approx(0.25 / 0.14)
    assert not any("fused" in name and "2 threads" in name for name in figures)  # not timed there
    order = [s["figure"] for s in headline(tables)]
    assert order.index("fused vs NumPy reference, 1 thread") < order.index(
        "softmax vs NumPy reference, 1 thread")  # per operation, in the order the tables ran


# ----------------------------------------------------------------------------- the fit protocol
def _sk_objective(model, X, y, C):
    """scikit-learn's objective from its own log_loss: an independent computation."""
    from sklearn.metrics import log_loss

    W = np.asarray(model.coef_, dtype=np.float64)
    return C * log_loss(y, model.predict_proba(X), labels=model.classes_, normalize=False) \
        + 0.5 * float(np.sum(W * W))


@pytest.mark.parametrize("kind", ["binary", "multinomial", "csr", "float32"])
def test_fit_objective_is_sklearns(kind):
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    from fastlr.bench.fit import objective

    if kind == "multinomial":
        _, _, X, y = make_multinomial_problem(2000, 6, 4, seed=1)
    elif kind == "csr":
        _, _, X, y = make_csr_problem(2000, 40, 0.1, seed=1)
    else:
        _, _, X, y = make_problem(2000, 6, "float32" if kind == "float32" else "float64", seed=1)
    y = np.where(np.asarray(y) == 1, "yes", "no") if kind == "binary" else y  # labels, not 0/1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: far from the optimum, any point will do
        model = LogisticRegression(C=0.5, max_iter=2).fit(X, y)
    # scikit-learn's probabilities of float32 X are float32; the objective is formed in float64
    X64 = X.astype(np.float64)
    assert objective(model, X, y, 0.5) == pytest.approx(_sk_objective(model, X64, y, 0.5), rel=1e-12)


class _Toward:
    """A fake estimator: scikit-learn's optimum plus ``scale``·√tol along a fixed direction, so
    its objective gap grows like tol; counts its fits."""

    calls: list = []

    def __init__(self, optimum, tol, scale, offset=0.0, raises=False):
        self.optimum, self.tol, self.scale, self.offset, self.raises = optimum, tol, scale, offset, raises

    def fit(self, X, y):
        if self.raises:
            raise RuntimeError("solver exploded")
        _Toward.calls.append((self.scale, self.tol, X.shape[0]))
        coef, intercept, classes = self.optimum
        step = self.scale * np.sqrt(self.tol) + self.offset
        self.coef_ = coef + step * np.linspace(-1.0, 1.0, coef.size).reshape(coef.shape)
        self.intercept_, self.classes_ = intercept, classes
        self.n_iter_ = np.array([int(-np.log10(self.tol))])
        return self

    def predict_proba(self, X):  # binary: [1 − σ(z), σ(z)]
        from scipy.special import expit

        p = expit(X @ self.coef_[0] + self.intercept_[0])
        return np.column_stack([1.0 - p, p])


def test_equal_optimum_times_each_contender_at_its_loosest_tol_within_the_gap():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    from fastlr.bench.fit import GAP, LADDER, FitContender, equal_optimum

    _, _, X, y = make_problem(3000, 5, seed=2)
    opt = LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y)
    optimum = (opt.coef_.copy(), opt.intercept_.copy(), opt.classes_)
    entries = [FitContender(f"fake {s}", "fastlr" if s == 1 else "peer",
                            lambda tol, s=s: _Toward(optimum, tol, s)) for s in (1.0, 30.0)]
    entries.append(FitContender("never", "peer", lambda tol: _Toward(optimum, tol, 0.0, offset=0.05)))
    entries.append(FitContender("broken", "peer", lambda tol: _Toward(optimum, tol, 0.0, raises=True)))
    _Toward.calls = []
    case = equal_optimum(X, y, 1.0, entries=entries, repeat=4, memory=True, warmup_rows=500)
    made = list(_Toward.calls)  # the fits the protocol made (the checks below fit again)
    fits = {f["model"]: f for f in case["fits"]}
    assert [f["model"] for f in case["fits"]] == ["fake 1.0", "fake 30.0", "never", "broken"]
    best = min(_sk_objective(_Toward(optimum, LADDER[-1], s).fit(X, y), X, y, 1.0) for s in (1.0, 30.0))
    assert case["best_objective"] == pytest.approx(best, rel=1e-12)
    for scale in (1.0, 30.0):
        f = fits[f"fake {scale}"]
        assert f["status"] == "ok" and f["tol"] in LADDER and f["samples"] == 4
        chosen = _sk_objective(_Toward(optimum, f["tol"], scale).fit(X, y), X, y, 1.0)
        assert (chosen - best) / best <= GAP and f["objective_gap"] == pytest.approx((chosen - best) / best, abs=1e-15)
        looser = [t for t in LADDER if t > f["tol"]]
        for t in looser:  # every looser tolerance missed the gap: the loosest that reaches it
            assert (_sk_objective(_Toward(optimum, t, scale).fit(X, y), X, y, 1.0) - best) / best > GAP
        assert [tol for tol, _ in f["trail"]] == looser + [f["tol"]]
        assert f["peak_bytes"] is not None and f["peak_bytes"] >= 0
        # warm-up on 500 rows, the tightest fit, the ladder (the last rung reuses the tightest fit),
        # 4 timed fits and the memory fit: nothing else
        calls = [(tol, rows) for s, tol, rows in made if s == scale]
        assert calls[0] == (1e-3, 500) and calls[1] == (LADDER[-1], 3000)
        ladder_fits = [t for t in looser + [f["tol"]] if t != LADDER[-1]]
        assert calls[2:] == [(t, 3000) for t in ladder_fits] + [(f["tol"], 3000)] * 5
    assert fits["fake 30.0"]["tol"] < fits["fake 1.0"]["tol"]  # further off: needs a tighter tol
    assert fits["never"]["status"] == "not reached" and fits["never"]["closest_gap"] > GAP
    assert fits["broken"]["status"] == "failed" and "solver exploded" in fits["broken"]["error"]
    text = "\n".join(format_fit_table(case))
    flat = " ".join(text.split())  # the header is wrapped
    assert "loosest tol of 1e-02, 1e-03, ..., 1e-10" in flat and "within 1e-06 (relative)" in flat
    assert "median of 4 fits" in flat and f"f* = {best:.10g}" in flat
    assert "the lbfgs and Newton contenders" not in flat  # every fake set f* here
    assert "never within 1e-06 of f*" in text and "failed: RuntimeError: solver exploded" in text
    fake_row = next(line for line in text.splitlines() if line.lstrip().startswith("fake 1.0"))
    ratio = fits["fake 30.0"]["seconds"] / fits["fake 1.0"]["seconds"]  # the only timed peer
    assert f"{ratio:.2f}x" in fake_row


def test_a_steady_fit_row_is_not_called_wide_spread_for_its_noisy_peer():
    """A row with a 1 % spread whose ratio rests on a noisy fastest peer: the ratio is marked, and
    the note names the peer's flag as the peer's, not the row's."""
    def row(model, library, seconds, spread):
        return {"model": model, "library": library, "status": "ok", "error": None, "tol": 1e-4,
                "seconds": seconds, "spread": spread, "samples": 3, "n_iter": 10,
                "objective_gap": 1e-8, "peak_bytes": None, "flags": noise_flags(spread, None)}

    case = {"C": 1.0, "problem": "binary", "input": "dense", "n_samples": 1000, "n_features": 5,
            "dtype": "float64", "threads": 1, "notes": [], "best_objective": 1.0, "gap": 1e-6,
            "ladder": [1e-2, 1e-4], "repeat": 3, "budget": None,
            "fits": [row("fastlr lbfgs", "fastlr", 0.1, 0.01), row("sklearn lbfgs", "sklearn", 0.3, 0.6)]}
    lines = format_fit_table(case)
    steady = next(line for line in lines if line.lstrip().startswith("fastlr lbfgs"))
    noisy_peer = next(line for line in lines if line.lstrip().startswith("sklearn lbfgs"))
    assert "1%" in steady and "(3.00x)" in steady
    assert "noisy: wide spread" not in steady
    assert "ratio rests on sklearn lbfgs (wide spread)" in steady
    assert "noisy: wide spread" in noisy_peer and "rests on" not in noisy_peer


class _FakeClock:
    """``time.perf_counter`` for the fit protocol's budget: advanced only by :class:`_Slow`, so
    what is over the budget does not depend on how busy the machine is."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


class _Slow(_Toward):
    """A fake whose fits at ``slow_tols`` take ``delay`` seconds of ``clock``'s time."""

    def __init__(self, optimum, tol, scale, slow_tols, delay, clock, offset=0.0):
        super().__init__(optimum, tol, scale, offset)
        self.slow_tols, self.delay, self.clock = slow_tols, delay, clock

    def fit(self, X, y):
        if self.tol in self.slow_tols and X.shape[0] > 500:  # not the warm-up
            self.clock.now += self.delay
        return super().fit(X, y)


def test_a_contender_over_the_budget_stops_and_is_reported(monkeypatch):
    """With a budget, a contender whose fit at the tightest tol takes longer still counts for f*
    but is not climbed or timed; one that only climbs stops at its first slow rung that misses."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    from fastlr.bench import fit as fit_protocol
    from fastlr.bench.fit import LADDER, FitContender, equal_optimum

    clock = _FakeClock()
    monkeypatch.setattr(fit_protocol, "time", clock)

    _, _, X, y = make_problem(3000, 5, seed=4)
    opt = LogisticRegression(tol=1e-12, max_iter=1000).fit(X, y)
    optimum = (opt.coef_.copy(), opt.intercept_.copy(), opt.classes_)
    entries = [
        FitContender("quick", "fastlr", lambda tol: _Toward(optimum, tol, 1.0)),
        FitContender("slow at 1e-10", "peer",
                     lambda tol: _Slow(optimum, tol, 0.0, {LADDER[-1]}, 0.3, clock, offset=-1e-9)),
        FitContender("slow climber", "peer",
                     lambda tol: _Slow(optimum, tol, 100.0, set(LADDER), 0.3, clock),
                     sets_optimum=False),
    ]
    case = equal_optimum(X, y, 1.0, entries=entries, repeat=1, memory=False, budget=0.2,
                         warmup_rows=500)
    fits = {f["model"]: f for f in case["fits"]}
    assert fits["quick"]["status"] == "ok"
    slow = fits["slow at 1e-10"]
    assert slow["status"] == "over budget" and slow["fit_tol"] == LADDER[-1]
    assert slow["fit_seconds"] == pytest.approx(0.3) and "seconds" not in slow
    # its fit still set f* (it is the lowest: the optimum, nudged by 1e-9 along the fixed direction)
    assert case["best_objective"] == pytest.approx(
        _sk_objective(_Toward(optimum, LADDER[-1], 0.0, offset=-1e-9).fit(X, y), X, y, 1.0), rel=1e-14)
    climber = fits["slow climber"]
    assert climber["status"] == "over budget" and climber["fit_tol"] == LADDER[0]
    assert [t for t, _ in climber["trail"]] == [LADDER[0]]  # stopped after its first slow miss
    assert case["set_by"] == ["quick", "slow at 1e-10"]
    text = " ".join("\n".join(format_fit_table(case)).split())
    assert "slow at 1e-10 over budget: one fit at tol 1e-10 took" in text
    assert "the lbfgs and Newton contenders reached" in text and "single fit over 0.2 s" in text


def test_contenders_follow_the_problem(monkeypatch):
    """Binary: fastlr auto/lbfgs/newton/newton-cg, scikit-learn lbfgs/newton-cholesky/newton-cg/
    liblinear; multinomial: no liblinear; CSR adds saga; Newton-Cholesky
    methods only up to NEWTON_PARAMS parameters; glum only when installed, binary only."""
    pytest.importorskip("sklearn")
    from fastlr.bench.fit import NEWTON_PARAMS, contenders

    monkeypatch.setitem(sys.modules, "glum", None)  # not installed
    _, _, X, y = make_problem(100, 5)
    notes = []
    assert [c.label for c in contenders(X, y, notes=notes)] == [
        "fastlr auto (default)", "fastlr lbfgs", "fastlr newton", "fastlr newton-cg",
        "sklearn lbfgs", "sklearn newton-cholesky", "sklearn newton-cg", "sklearn liblinear"]
    assert any("glum is not installed" in n for n in notes)
    _, _, Xm, ym = make_multinomial_problem(300, 5, 3)
    assert [c.label for c in contenders(Xm, ym)] == [
        "fastlr auto (default)", "fastlr lbfgs", "fastlr newton", "fastlr newton-cg",
        "sklearn lbfgs", "sklearn newton-cholesky", "sklearn newton-cg"]
    _, _, Xs, ys = make_csr_problem(100, NEWTON_PARAMS, 0.05)  # NEWTON_PARAMS + 1 parameters
    labels = [c.label for c in contenders(Xs, ys)]
    assert "sklearn saga" in labels and "fastlr newton" not in labels
    assert "sklearn newton-cholesky" not in labels
    assert {c.library for c in contenders(X, y)} == {"fastlr", "sklearn"}


def test_glum_contenders_solve_the_same_problem(monkeypatch):
    """With glum installed (here a stand-in that solves its own objective, ½·α·‖w‖² + mean loss,
    with scikit-learn at C = 1/(α·m)), its contenders reach f*: the α mapping is right."""
    pytest.importorskip("sklearn")
    import types

    from sklearn.linear_model import LogisticRegression

    from fastlr.bench.fit import FitContender, contenders, equal_optimum

    class GeneralizedLinearRegressor:
        def __init__(self, family, alpha, l1_ratio, gradient_tol, solver, max_iter):
            assert family == "binomial" and l1_ratio == 0.0
            self.alpha, self.tol = alpha, gradient_tol

        def fit(self, X, y):
            sk = LogisticRegression(C=1.0 / (self.alpha * X.shape[0]), tol=self.tol, max_iter=1000)
            sk.fit(X, y)
            self.coef_, self.intercept_, self.n_iter_ = sk.coef_[0], sk.intercept_[0], sk.n_iter_[0]
            return self

    monkeypatch.setitem(sys.modules, "glum", types.SimpleNamespace(
        GeneralizedLinearRegressor=GeneralizedLinearRegressor))
    _, _, X, y = make_problem(2000, 4, seed=3)
    found = [c for c in contenders(X, y, C=0.3) if c.library == "glum"]
    assert [c.label for c in found] == ["glum lbfgs", "glum irls"]
    sk = FitContender("sklearn lbfgs", "sklearn",
                      lambda tol: LogisticRegression(C=0.3, tol=tol, max_iter=1000))
    case = equal_optimum(X, y, 0.3, entries=[sk] + found, repeat=1, memory=False)
    assert all(f["status"] == "ok" for f in case["fits"]), case["fits"]
    _, _, Xm, ym = make_multinomial_problem(300, 4, 3)
    assert not [c for c in contenders(Xm, ym) if c.library == "glum"]


def test_fit_options_run_the_protocol(tmp_path):
    """The binary and the multinomial fit of ``fastlr bench``, small: every contender reaches f*
    at a tolerance of the ladder, and scikit-learn's lbfgs, refitted here at the chosen tolerance
    and the next looser one, lands within the gap at the first only."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    from fastlr.bench.fit import GAP, LADDER

    path = tmp_path / "r.json"
    status, text = _bench(["bench", "--sizes", "2000x5", "--no-sparse", "--no-multinomial",
                           "--repeat", "1", "--threads", "1", "--fit-size", "3000x5",
                           "--fit-multinomial", "1500x4x3", "--fit-repeat", "2", "--no-progress",
                           "--json", str(path)])
    assert status == 0
    results = json.loads(path.read_text())
    binary, multi = results["fit"], results["fit_multinomial"]
    assert (binary["problem"], binary["n_samples"], binary["n_features"]) == ("binary", 3000, 5)
    assert (multi["problem"], multi["n_classes"], multi["n_samples"]) == ("multinomial", 3, 1500)
    assert "multinomial, 3 classes, on 1,500 x 4 float64, 1 thread" in text
    assert text.count("protocol: each contender is timed at the loosest tol") == 2
    assert "sklearn liblinear" not in "\n".join(
        line for line in text.splitlines() if "multinomial" in line)
    for case, (_, _, X, y) in ((binary, make_problem(3000, 5)),
                               (multi, make_multinomial_problem(1500, 4, 3))):
        assert case["threads"] == 1 and case["repeat"] == 2
        for f in case["fits"]:
            assert f["status"] == "ok", f
            assert f["tol"] in LADDER and f["objective_gap"] <= GAP and f["samples"] == 2
        sk = next(f for f in case["fits"] if f["model"] == "sklearn lbfgs")
        best = case["best_objective"]
        model = LogisticRegression(tol=sk["tol"], max_iter=5000).fit(X, y)
        assert (_sk_objective(model, X, y, 1.0) - best) / best <= GAP
        if sk["tol"] != LADDER[0]:
            looser = LADDER[LADDER.index(sk["tol"]) - 1]
            model = LogisticRegression(tol=looser, max_iter=5000).fit(X, y)
            assert (_sk_objective(model, X, y, 1.0) - best) / best > GAP


def test_fit_real_runs_the_protocol_on_a_bundled_dataset_as_loaded(tmp_path):
    """``--fit-real wine``: the protocol on wine as scikit-learn loads it (unscaled), with the
    two libraries' defaults below the table; f* agrees with scikit-learn's newton-cholesky at
    tol 1e-10, recomputed here. ``--fit-real`` alone names the quick cases only (not digits), and
    the default run none."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression

    from fastlr.bench.fit import GAP

    assert _config().fit_real == ()
    assert _config("--fit-real").fit_real == ("breast_cancer", "wine")
    assert _config("--fit-real", "all").fit_real == ("breast_cancer", "wine", "digits")
    path = tmp_path / "r.json"
    status, text = _bench(["bench", "--sizes", "2000x5", "--no-sparse", "--no-multinomial",
                           "--repeat", "1", "--threads", "1", "--no-fit", "--fit-real", "wine",
                           "--fit-repeat", "1", "--no-progress", "--json", str(path)])
    assert status == 0
    (case,) = json.loads(path.read_text())["fit_real"]
    assert (case["dataset"], case["n_samples"], case["n_features"], case["n_classes"]) == (
        "wine", 178, 13, 3)
    assert "Fit on wine as loaded (unscaled)" in text and "defaults, as called" in text
    X, y = load_wine(return_X_y=True)
    reference_fit = LogisticRegression(solver="newton-cholesky", tol=1e-10, max_iter=1000).fit(X, y)
    f_star = _sk_objective(reference_fit, X, y, 1.0)
    assert abs(case["best_objective"] - f_star) <= 1e-8 * f_star
    default = next(f for f in case["fits"] if f["model"] == "fastlr auto (default)")
    assert default["status"] == "ok" and default["objective_gap"] <= GAP
    fast, sk = case["defaults"]
    assert fast["model"].startswith("fastlr") and sk["model"].startswith("sklearn")
    # scikit-learn's default stops at max_iter = 100 on unscaled wine: the case is still hard
    assert sk["n_iter"] == 100 and not sk["converged"]
    assert fast["converged"] and fast["objective_gap"] <= 1e-6


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
        return {"operation": "loss_grad", "input": input, "n_samples": m, "n_features": 100,
                "dtype": dtype, "layout": layout, "rows": rows, "nnz": nnz}

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
    for name in ("bench.png", "again.png"):  # twice: the submodule fastlr.bench.plot is imported by then
        path = tmp_path / name
        bench.plot(results, str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_bars_are_speedups_with_sample_ranges_and_the_read_once_limit(tmp_path):
    """One table written out by hand: read 10 ms, reference 40 ms (38-44), fused 20 ms (19-25):
    the bar is 2x, its error bar 38/25 .. 44/19, its read-once limit 40/10; no legend."""
    pytest.importorskip("matplotlib")
    from fastlr.bench.plot import _bars, plot_results

    def row(label, role, median, lo, hi, reference=False, key="k-fused", speedup=None, flags=()):
        return {"label": label, "role": role, "threads": 1, "median_s": median, "min_s": lo,
                "max_s": hi, "samples": 3, "reference": reference, "parallel": not reference,
                "key": key, "scaled_from_rows": None, "speedup_vs_reference": speedup,
                "flags": list(flags)}

    table = {"operation": "loss_grad", "input": "dense", "n_samples": 1000, "n_features": 10,
             "dtype": "float64", "layout": "C", "nnz": None, "n_classes": None, "rows": [
                 row("read X once", "read", 0.010, 0.009, 0.012),
                 row("NumPy reference", "kernel", 0.040, 0.038, 0.044, reference=True,
                     key="k-reference", speedup=1.0),
                 row("fused kernel, 1 thread", "kernel", 0.020, 0.019, 0.025, speedup=2.0,
                     flags=["wide spread"])]}
    (bar,) = _bars(table)
    assert bar["label"] == "fused kernel, 1 thread" and bar["speedup"] == pytest.approx(2.0)
    assert bar["low"] == pytest.approx(0.038 / 0.025) and bar["high"] == pytest.approx(0.044 / 0.019)
    assert bar["limit"] == pytest.approx(4.0) and bar["noisy"] and bar["fastlr"]

    import matplotlib.pyplot as plt

    saved = []
    real_savefig = plt.Figure.savefig

    def keep(fig, *args, **kwargs):
        saved.append(fig)
        return real_savefig(fig, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        plot_results({"tables": [table], "machine": {"load_average": [0.5]}}, str(tmp_path / "p.png"))
    finally:
        plt.Figure.savefig = real_savefig
    (fig,) = saved
    assert not fig.legends and all(ax.get_legend() is None for ax in fig.axes)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "2.00x" in texts and "noisy" in texts and any("read-once" in t for t in texts)
    assert "higher numbers are better" in fig._suptitle.get_text()


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
    (["--multinomial", "1000x10"], "N_SAMPLESxN_FEATURESxN_CLASSES"),
    (["--multinomial", "1000x10x1"], "at least 2 classes"),
    (["--multinomial", "1000x10x3", "--no-multinomial"], "not allowed with"),
    (["--fit-multinomial", "1000x10x3,2000x10x3"], "one size"),
    (["--fit-multinomial", "1000x10"], "N_SAMPLESxN_FEATURESxN_CLASSES"),
    (["--fit-real", "iris"], "not one of breast_cancer, wine, digits"),
    (["--fit-repeat", "0"], "--fit-repeat"),
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
    assert options.parse_multinomial("200000x100x10, 1_000X5x2") == ((200_000, 100, 10), (1000, 5, 2))


def test_python_dash_m_fastlr_help():
    done = subprocess.run([sys.executable, "-m", "fastlr", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for option in ("--sizes", "--dtype", "--threads", "--layout", "--json", "--plot", "--quick",
                   "--repeat", "--slides", "--sparse", "--no-sparse", "--multinomial",
                   "--no-multinomial", "--fit-multinomial", "--fit-repeat", "fit protocol"):
        assert option in done.stdout


def test_help_is_plain_text_in_plain_words():
    """--help is read in a terminal: no reStructuredText markup, no in-house words."""
    for argv in (["--help"], ["bench", "--help"], ["demo", "--help"], ["warmup", "--help"]):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
            cli.main(argv)
        text = out.getvalue()
        assert text.startswith("usage: fastlr"), text[:200]
        assert "``" not in text and ":mod:" not in text and ":func:" not in text, argv
        assert "issue" not in text, argv


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


@pytest.mark.parametrize("option, value, message", [
    ("--learning-rate", "-1", "must be a finite number > 0"),
    ("--learning-rate", "0", "must be a finite number > 0"),
    ("--learning-rate", "nan", "must be a finite number > 0"),
    ("--iterations", "-3", "must be an integer >= 0"),
    ("--iterations", "2.5", "invalid"),
])
def test_demo_rejects_bad_options_with_a_usage_error(option, value, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", option, value, "--no-plot"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and message in err and "Traceback" not in err


# ----------------------------------------------------------------------------- output paths
def _unwritable_paths(tmp_path):
    """Paths no file can be written at, even as root: below a regular file, in a missing
    directory, a directory itself."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    (tmp_path / "a-dir").mkdir()
    return {"below-a-file": blocker / "out", "missing-dir": tmp_path / "no" / "such" / "out",
            "a-directory": tmp_path / "a-dir"}


@pytest.mark.parametrize("option", ["--json", "--plot"])
def test_bench_output_paths_are_checked_before_the_run(option, tmp_path, capsys, monkeypatch):
    """--json to an unwritable path ran the whole benchmark (minutes with --slides), then ended
    in a traceback with exit status 1 (which means a kernel mismatch). Now a usage error, exit
    2, before anything runs."""
    pytest.importorskip("matplotlib")
    from fastlr import bench

    ran = []
    monkeypatch.setattr(bench, "run", lambda *a, **k: ran.append(1))
    for name, path in _unwritable_paths(tmp_path).items():
        with pytest.raises(SystemExit) as info:
            cli.main(TINY + [option, str(path)])
        assert info.value.code == 2, name
        err = capsys.readouterr().err
        assert f"{option} {path}" in err and "Traceback" not in err, name
    assert ran == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-dir", "a-file"]  # nothing left


def test_a_writable_output_path_is_left_as_it_was(tmp_path):
    existing = tmp_path / "old.json"
    existing.write_text("keep")
    before = existing.stat().st_mtime_ns
    options.check_output_path(str(existing), "--json")
    options.check_output_path(str(tmp_path / "new.json"), "--json")
    assert existing.read_text() == "keep" and existing.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.json"]


def test_demo_plot_path_is_checked_before_training(tmp_path, capsys):
    for name, path in _unwritable_paths(tmp_path).items():
        with pytest.raises(SystemExit) as info:
            cli.main(["demo", "--iterations", "1", "--plot", str(path)])
        assert info.value.code == 2, name
        err = capsys.readouterr()
        assert f"--plot {path}" in err.err and "Cost after" not in err.out, name
