"""Numerics: the sigmoid against scipy's expit, pinned extreme logits, NaN/inf propagation, memory
layouts without hidden copies, bitwise reproducibility across thread counts, and inputs that are
never modified."""

from __future__ import annotations

import math
import tracemalloc

import numba
import numpy as np
import pytest
from scipy.special import expit

from conftest import COST_KERNELS, GRADIENT_KERNELS, as_input, kernel_params
from fastlr import course
from helpers import CASES, arrange, as_float64, assert_close, closed_form


def _f64_truth_sigmoid(z):
    """expit evaluated in float64, rounded once to z's dtype (the best a float32 sigmoid can do).

    Below z = -700, σ(z) = e^z / (1 + e^z) is e^z to far better than an ulp, and np.exp is used:
    scipy's expit computes 1 / (1 + e^{-z}) there, which flushes to 0 from z ≈ -709.8 although
    σ(z) is a subnormal down to z ≈ -745 (measured: expit(-709.84) = 0, σ = 5.25e-309).
    """
    z = np.asarray(z)
    z64 = z.astype(np.float64)
    with np.errstate(under="ignore"):
        truth = np.where(z64 < -700.0, np.exp(np.minimum(z64, 0.0)), expit(z64))
    return truth.astype(z.dtype if z.dtype == np.float32 else np.float64)


# ---------------------------------------------------------------------------------------- sigmoid

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_matches_expit_to_a_few_ulps(sigmoid_func, dtype):
    rng = np.random.default_rng(5)
    lim = 800.0 if dtype == np.float64 else 110.0  # beyond: both are exactly 0 or 1
    z = np.concatenate([np.linspace(-lim, lim, 20001), rng.standard_normal(5000) * 20,
                        [0.0, -0.0, 1e-300, -1e-300, 36.0, 37.0, 38.0, -745.0, -746.0]]).astype(dtype)
    got = sigmoid_func(z)
    assert got.dtype == dtype
    np.testing.assert_array_max_ulp(got, _f64_truth_sigmoid(z), maxulp=4, dtype=dtype)


@pytest.mark.parametrize("z", [np.float64(0.3), 0.3, -2, np.array(1.5), np.float32(0.3)],
                         ids=["f64-scalar", "py-float", "py-int", "0-d", "f32-scalar"])
def test_sigmoid_scalars_stay_scalars(sigmoid_func, z):
    got = sigmoid_func(z)
    assert np.ndim(got) == 0
    want_dtype = np.float32 if np.asarray(z).dtype == np.float32 else np.float64
    assert np.asarray(got).dtype == want_dtype
    np.testing.assert_array_max_ulp(np.asarray(got), _f64_truth_sigmoid(np.asarray(z, dtype=want_dtype)),
                                    maxulp=2)


@pytest.mark.parametrize("shape", [(0,), (5,), (2, 3), (2, 3, 4), (1, 1, 1, 1)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_preserves_shape_and_dtype(sigmoid_func, shape, dtype):
    z = (np.arange(math.prod(shape), dtype=np.float64) - 3.0).reshape(shape).astype(dtype)
    got = sigmoid_func(z)
    assert got.shape == shape and got.dtype == dtype
    np.testing.assert_array_max_ulp(got, _f64_truth_sigmoid(z), maxulp=2)


def test_sigmoid_on_strided_and_int_input(sigmoid_func):
    z = np.linspace(-30, 30, 60).reshape(6, 10)[::2, ::-3]
    np.testing.assert_array_max_ulp(sigmoid_func(z), _f64_truth_sigmoid(z), maxulp=4)
    zi = np.arange(-40, 41, 3).reshape(3, -1)
    got = sigmoid_func(zi)
    assert got.dtype == np.float64
    np.testing.assert_array_max_ulp(got, _f64_truth_sigmoid(zi.astype(np.float64)), maxulp=4)


def test_sigmoid_propagates_nan(sigmoid_func):
    got = sigmoid_func(np.array([np.nan, 0.0, np.inf, -np.inf]))
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [0.5, 1.0, 0.0])


# ------------------------------------------------------------------------------- extreme logits

EXTREME_Z = {
    np.float64: [1e308, -1e308, 1e20, -1e20, 1000.0, -1000.0, 37.0, -37.0, 0.0],
    np.float32: [3e38, -3e38, 1e20, -1e20, 1000.0, -1000.0, 37.0, -37.0, 0.0],
}
EXTREME = [(dt, z, y) for dt, zs in EXTREME_Z.items() for z in zs for y in (0.0, 1.0)]


def _exact_loss(z, y):
    """L = log(1 + e^z) − y·z for y ∈ {0, 1}: softplus(z) or softplus(−z), from numpy's logaddexp."""
    return float(np.logaddexp(0.0, -z) if y == 1.0 else np.logaddexp(0.0, z))


@pytest.mark.parametrize("dtype,z,y", EXTREME,
                         ids=[f"{np.dtype(d).name}-z={z:g}-y={y:g}" for d, z, y in EXTREME])
def test_extreme_logits_pinned(any_impl, dtype, z, y):
    """X = [[z]], w = [1], b = 0, so the margin is exactly z: J = L(z, y), dw = (σ(z) − y)·z."""
    X = np.array([[z]], dtype=dtype)
    J, dw, db, *_ = any_impl.func(np.array([1.0]), 0.0, as_input(X, any_impl), np.array([y]))
    zf = float(X[0, 0])
    L = _exact_loss(zf, y)
    # e.g. z = 1000, y = 0: L = 1000; z = 37, y = 1: L = log1p(e^-37) = 8.5e-17; z = -1000, y = 0: 0
    assert float(J) == pytest.approx(L, rel=4 * float(np.finfo(dtype).eps), abs=1e-300)
    dz = float(expit(zf)) - y
    # σ(z) − y is exact to about one eps (σ rounds to 1 for z ≥ 37)
    assert float(db) == pytest.approx(dz, rel=4 * float(np.finfo(dtype).eps), abs=float(np.finfo(np.float64).eps))
    assert np.isfinite(dw[0]) and np.isfinite(J) and np.isfinite(db)
    assert float(dw[0]) == pytest.approx(dz * zf, rel=4 * float(np.finfo(dtype).eps),
                                         abs=float(np.finfo(np.float64).eps) * abs(zf))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_all_in_one_problem(any_impl, dtype):
    """All extreme margins in one X (one per row): J is the mean of the exact losses."""
    # |z| ≤ 1e20 here: two losses of 1e308 would rightly overflow the sum
    zs = np.array([z for z in EXTREME_Z[dtype] if abs(z) <= 1e20], dtype=dtype)
    X = np.concatenate([zs, zs])[:, None]
    y = np.repeat([0.0, 1.0], zs.size)
    J, dw, db, *_ = any_impl.func(np.array([1.0]), 0.0, as_input(X, any_impl), y)
    want = math.fsum(_exact_loss(float(z), yi) for z, yi in zip(X[:, 0], y)) / y.size
    assert float(J) == pytest.approx(want, rel=8 * float(np.finfo(dtype).eps))
    assert np.isfinite(dw).all() and np.isfinite(db)


@pytest.mark.parametrize("z", [40.0, 100.0, 700.0])
def test_loss_does_not_cancel_for_confident_correct_predictions(any_impl, z):
    """y = 1, z = 40: L = log1p(e^-40) = 4.2e-18, not 0 (log(1 + e^z) − z would cancel)."""
    J, *_ = any_impl.func(np.array([1.0]), 0.0, as_input(np.array([[z]]), any_impl),
                          np.array([1.0]))
    assert float(J) == pytest.approx(math.log1p(math.exp(-z)), rel=1e-14)
    assert float(J) > 0.0


# --------------------------------------------------------------------------------- NaN and inf

@pytest.mark.parametrize("where", ["X", "w"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_nan_propagates(any_impl, where, dtype, order):
    """No fastmath nnan: a NaN in X or w gives NaN J, dw and db, never a finite number."""
    if any_impl.input == "csr" and order == "F":
        pytest.skip("CSR has no memory order")
    rng = np.random.default_rng(6)
    X = np.asarray(rng.standard_normal((50, 4)), dtype=dtype, order=order)
    w = rng.standard_normal(4)
    if where == "X":
        X[17, 2] = np.nan
    else:
        w[1] = np.nan
    y = (rng.random(50) < 0.5).astype(np.float64)
    J, dw, db, *hess = any_impl.func(w, 0.1, as_input(X, any_impl), y)
    assert np.isnan(J) and np.isnan(db) and np.isnan(dw).all(), (J, dw, db)
    for H in hess:
        assert np.isnan(H[:-1, :-1]).all()


@pytest.mark.parametrize("b", [np.nan])
def test_nan_intercept_propagates(any_impl, b):
    X = np.ones((5, 2))
    J, dw, db, *_ = any_impl.func(np.zeros(2), b, as_input(X, any_impl), np.zeros(5))
    assert np.isnan(J) and np.isnan(db) and np.isnan(dw).all()


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_inf_in_X_gives_infinite_loss(any_impl, sign, dtype):
    """x = ±inf makes z = ±inf; with label ½ the loss ½·|z| + log(1+e^−|z|) → +inf, so J = inf
    (the limit), never a finite number."""
    X = np.ones((4, 3), dtype=dtype)
    X[2, 1] = sign * np.inf
    y = np.array([0.0, 1.0, 0.5, 1.0])
    J, dw, db, *_ = any_impl.func(np.array([0.5, 1.0, 0.25]), 0.0, as_input(X, any_impl), y)
    assert J == np.inf
    assert not np.isfinite(dw[1])


def test_cost_nan_and_inf(cost_func):
    X = np.ones((4, 3))
    X[1, 0] = np.nan
    assert np.isnan(cost_func(np.ones(3), 0.0, X, np.zeros(4)))
    X[1, 0] = np.inf
    assert cost_func(np.ones(3), 0.0, X, np.full(4, 0.5)) == np.inf


# ------------------------------------------------------------------ layouts without hidden copies

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["F", "C[::2]", "C[:,::3]", "F[::2]", "C[::-1,::-1]"])
def test_layouts_equal_contiguous_copy(impl, layout, dtype):
    rng = np.random.default_rng(7)
    base = rng.standard_normal((301, 9)).astype(dtype)
    y = (rng.random(301) < 0.5).astype(np.float64)
    w = rng.standard_normal(9)
    X = arrange(base, layout)
    np.testing.assert_array_equal(X, base)
    got = impl.func(w, 0.2, X, y)
    ref = impl.func(w, 0.2, np.ascontiguousarray(base), y)
    want, scales = closed_form(base, y, w, 0.2)
    assert_close(got, as_float64(ref), scales, dtype)
    assert_close(got, want, scales, dtype)


@pytest.fixture(scope="session")
def big_X():
    """20000 x 50 float64 (8 MB) and its F-ordered and strided views."""
    rng = np.random.default_rng(8)
    base = rng.standard_normal((20000, 50))
    wide = np.empty((20000, 100))
    wide[:, ::2] = base
    return {"C": base, "F": np.asfortranarray(base), "C[:,::2]": wide[:, ::2],
            "CSR": arrange(base, "CSR"),
            "y": (rng.random(20000) < 0.5).astype(np.float64), "w": rng.standard_normal(50) * 0.1}


def _peak_traced(func, *args, **kwargs):
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        func(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


NO_COPY = [pytest.param(k, layout, id=f"{k.key}-{layout}") for k in GRADIENT_KERNELS
           for layout in (("CSR",) if k.input == "csr" else ("C", "F", "C[:,::2]"))
           if k.accepts(20000, 50) and not (k.reference and k.operation == "loss_grad_hess")]


@pytest.mark.parametrize("any_impl, layout", NO_COPY)
def test_no_hidden_copy_of_X(any_impl, big_X, layout):
    """Peak traced memory (NumPy's and Numba's allocations) during a call stays below half the size
    of X: X is read in place. (The rest is the kernels' working memory: per-task partial sums and
    block scratch, about 1.2 MB for the Hessian at n = 50.)"""
    X = big_X[layout]  # (the reference Hessian forms [X, 1] on purpose: not listed)
    nbytes = X.data.nbytes + X.indices.nbytes if layout == "CSR" else X.nbytes
    any_impl.func(big_X["w"], 0.0, X, big_X["y"])  # compile outside the measurement
    peak = _peak_traced(any_impl.func, big_X["w"], 0.0, X, big_X["y"])
    assert peak < nbytes / 2, f"{any_impl.key} on {layout}: peak {peak} bytes, X is {nbytes}"


def test_course_propagate_does_not_copy_X(big_X):
    X = big_X["C"].T  # (n_x, m) as in the course, C-ordered as the course builds it
    X = np.ascontiguousarray(X)
    w = big_X["w"][:, None]
    Y = big_X["y"][None, :]
    course.propagate(w, 0.0, X, Y)
    peak = _peak_traced(course.propagate, w, 0.0, X, Y)
    assert peak < X.nbytes / 8, f"peak {peak} bytes, X is {X.nbytes}"


# ----------------------------------------------------------------------- bitwise reproducibility

REPRO = [c for c in CASES if c.m == 20011 and c.layout in ("C", "F", "C[::2]", "F[::2]", "CSR")]
# Across thread counts: every layout in float64, float32 in C order. The task layout and the order
# of the partial sums are the same code for both dtypes; each more (dtype, layout) pair compiles
# one more parallel driver (~3 s each; 12 of them were a tenth of the suite's time).
REPRO_THREADS = [c for c in REPRO if np.dtype(c.dtype) == np.float64 or c.layout == "C"]
PARALLEL = [k for k in GRADIENT_KERNELS + COST_KERNELS if k.parallel]


def _bits(result):
    values = result if isinstance(result, tuple) else (result,)
    return tuple(np.asarray(v).tobytes() for v in values)


@pytest.mark.parametrize("kernel, case", kernel_params(PARALLEL, REPRO))
def test_bitwise_identical_run_to_run(kernel, case):
    d = case.data()
    first = _bits(kernel.func(*d.args, **d.kwargs))
    for _ in range(3):
        assert _bits(kernel.func(*d.args, **d.kwargs)) == first


@pytest.mark.parametrize("kernel, case", kernel_params(PARALLEL, REPRO_THREADS))
def test_bitwise_identical_across_thread_counts(kernel, case, numba_threads, monkeypatch):
    """The task layout depends on the shape only, so 1 thread and all threads (≥ 2, see conftest)
    add the same partial sums in the same order — and the parallel driver really runs."""
    from fastlr import _jit
    from fastlr.kernels import _layout

    monkeypatch.setattr(_jit, "PARALLEL_MIN_BYTES", 0)  # parallel whatever the size
    d = case.data()
    numba.set_num_threads(1)
    one = _bits(kernel.func(*d.args, **d.kwargs))
    numba.set_num_threads(numba_threads)
    launches = []
    run_parallel = _layout.run_parallel
    monkeypatch.setattr(_layout, "run_parallel",
                        lambda *args: launches.append(args[-1]) or run_parallel(*args))
    assert _bits(kernel.func(*d.args, **d.kwargs)) == one
    assert launches and min(launches) >= 2, "precondition: a parallel launch on ≥ 2 threads"


@pytest.mark.parametrize("z", [20.0, -20.0, 40.0, -40.0, 700.0, -700.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_gradient_of_confident_predictions_to_full_relative_precision(any_impl, z, y):
    """σ(z) − y for y = 1 at z = 40 is −e^{−40}/(1+e^{−40}) = −4.25e-18, not 0: dw and db to a few
    ulps relative at z = ±20, ±40, ±700 (written without cancellation in every path)."""
    J, dw, db, *_ = any_impl.func(np.array([1.0]), 0.0, as_input(np.array([[z]]), any_impl),
                                  np.array([y]))
    if (z > 0) == (y == 1.0):  # confident and right: the tiny e/(1+e), signed
        e = math.exp(-abs(z))
        dz = -e / (1 + e) if y == 1.0 else e / (1 + e)
    else:  # confident and wrong: ±1/(1+e)
        dz = (1 / (1 + math.exp(-abs(z)))) * (1.0 if y == 0.0 else -1.0)
    assert float(db) == pytest.approx(dz, rel=8 * np.finfo(float).eps)
    assert float(dw[0]) == pytest.approx(dz * z, rel=8 * np.finfo(float).eps)
