"""``fastlr bench`` and ``fastlr demo``: what they print, their exit status, JSON and plot.

Timings are never asserted (the machine is shared and noisy); what is checked is that every
implementation is run and checked, that a wrong kernel makes the run fail, that the numbers in the
JSON are consistent with each other, and that the demo learns (against scikit-learn's accuracy on
the same split as an independent yardstick).
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fastlr import bench, cli, reference
from fastlr.implementations import LOSS_GRAD, Implementation

# one small size (the pure-Python loop runs on a slice of it) and one timed sample keep this file fast; float64/C reuse the other tests' compiles
TINY = ["bench", "--quick", "--sizes", "3000x7", "--repeat", "1", "--no-progress", "--threads", "1,all"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "results.json"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(TINY + ["--json", str(path)])
    return status, out.getvalue(), json.loads(path.read_text())


def test_bench_passes_and_prints_every_implementation(tiny_run):
    status, text, _ = tiny_run
    assert status == 0
    lines = text.splitlines()
    assert lines[0].startswith("Slide 015")  # the vectorization demo comes first
    for label in ("Python loop", "np.dot", "Numba loop", "pure-Python loop*", "compiled loop",
                  "NumPy reference", "fused, 1 thread"):
        assert label in text
    assert "all agree" in text and "MISMATCH" not in text
    assert "timed on the first" in text  # the scaled pure-Python loop says so


def test_bench_json_is_consistent(tiny_run):
    _, _, results = tiny_run
    assert results["ok"] is True
    (table,) = results["tables"]
    assert (table["n_samples"], table["n_features"], table["dtype"], table["layout"]) == (3000, 7, "float64", "C")
    assert table["nbytes"] == 3000 * 7 * 8
    names = {r["implementation"] for r in table["rows"]}
    assert names == {name for name, impl in LOSS_GRAD.items() if not getattr(impl, "sparse", False)}
    numpy1 = next(r for r in table["rows"] if r["implementation"] == "numpy" and r["threads"] == 1)
    for r in table["rows"]:
        assert r["ok"] and r["max_error"] <= bench.TOLERANCE["float64"]
        assert r["median_s"] > 0
        assert r["gb_per_s"] == pytest.approx(table["nbytes"] / r["median_s"] / 1e9)
        if r["threads"] == 1:
            assert r["speedup_vs_numpy"] == pytest.approx(numpy1["median_s"] / r["median_s"])
    # every registered implementation (and cost, sigmoid) was checked for this dtype and layout
    checked = {(c["what"], c["implementation"]) for c in results["checks"]}
    assert {("loss_grad", n) for n in names} <= checked
    assert {("cost", "numba"), ("sigmoid", "numba")} <= checked
    demo = results["dot_demo"]
    assert demo["n"] == 1_000_000 and demo["ok"]


def test_bench_fails_on_a_wrong_kernel(monkeypatch, capsys):
    def off_by_a_bit(w, b, X, y, sample_weight=None, l2=0.0):
        J, dw, db = reference.loss_grad(w, b, X, y, sample_weight, l2)
        return J, dw * (1 + 1e-6), db

    monkeypatch.setitem(LOSS_GRAD, "broken", Implementation(
        "broken", "a kernel with a 1e-6 relative error in dw", off_by_a_bit, "-", compiled=False))
    assert cli.main(TINY) == 1
    out = capsys.readouterr().out
    assert "MISMATCH loss_grad broken" in out
    assert "FAILED" in out


def test_plot_needs_matplotlib(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    assert cli.main(TINY + ["--plot", str(tmp_path / "b.png")]) == 2
    err = capsys.readouterr().err
    assert "matplotlib" in err and "pip install" in err
    assert not (tmp_path / "b.png").exists()


def test_plot_is_written(tiny_run, tmp_path):
    pytest.importorskip("matplotlib")
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
])
def test_bad_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["bench"] + args)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_parsers():
    assert bench.parse_sizes("200000x100, 50_000X1000") == ((200_000, 100), (50_000, 1000))
    assert bench.parse_threads("all,1,1", 4) == (1, 4)
    assert bench.parse_choices("f,C", bench.LAYOUTS, "layout") == ("F", "C")


@pytest.mark.parametrize("order", ["C", "F"])
def test_make_problem_layout_and_labels(order):
    w, b, X, y = bench.make_problem(50, 3, "float32", order)
    assert X.dtype == np.float32 and X.shape == (50, 3)
    assert X.flags.c_contiguous if order == "C" else X.flags.f_contiguous
    assert set(np.unique(y)) == {0.0, 1.0} and w.shape == (3,)


@pytest.mark.parametrize("order", ["C", "F"])
def test_read_once_kernel_sums_x(order):
    """The read-speed baseline really reads every element of X: its sum equals math.fsum's."""
    import math

    _, _, X, _ = bench.make_problem(1001, 13, "float64", order)
    total = bench._kernels()["read_sum"](np.ravel(X, order="K"), 64)
    assert total == pytest.approx(math.fsum(X.ravel().tolist()), rel=1e-12, abs=1e-9)
    a, b = X[:, 0].copy(), X[:, 1].copy()
    assert bench._kernels()["dot_loop"](a, b) == pytest.approx(math.fsum((a * b).tolist()), rel=1e-12)


def test_summary_ratios():
    def row(impl, threads, t, pct=50.0, scaled=None):
        return {"implementation": impl, "threads": threads, "median_s": t, "pct_of_read": pct,
                "scaled_from_rows": scaled}

    def table(m, dtype, layout, rows):
        return {"n_samples": m, "n_features": 100, "dtype": dtype, "layout": layout, "rows": rows}

    tables = [
        table(10_000, "float64", "C", [row("python", 1, 3.0), row("loops", 1, 0.01)]),
        table(1_000_000, "float64", "C", [row("numpy", 1, 0.16), row("fused", 1, 0.1, pct=60.0),
                                          row("fused", 2, 0.05)]),
        table(1_000_000, "float64", "F", [row("fused", 1, 0.12)]),
        table(1_000_000, "float32", "C", [row("fused", 1, 0.06)]),
    ]
    figures = {s["figure"]: s["value"] for s in bench.summary(tables)}
    assert figures["fused vs NumPy reference, 1 thread"] == pytest.approx(1.6)
    assert figures["fused 2 threads vs 1 thread"] == pytest.approx(2.0)
    assert figures["fused (1 thread) speed as % of reading X once (1 thread)"] == 60.0
    assert figures["fused F order time / C order time, 1 thread"] == pytest.approx(1.2)
    assert figures["fused float64 time / float32 time, 1 thread"] == pytest.approx(0.1 / 0.06)
    assert figures["compiled loop vs pure-Python loop (timed in full)"] == pytest.approx(300.0)


def test_python_dash_m_fastlr_help():
    done = subprocess.run([sys.executable, "-m", "fastlr", "bench", "--help"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    for option in ("--sizes", "--dtype", "--threads", "--layout", "--json", "--plot", "--quick",
                   "--repeat", "--slides"):
        assert option in done.stdout


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
