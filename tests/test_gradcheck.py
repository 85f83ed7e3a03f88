"""fastlr.check_grad: central differences agree with every implementation's analytic gradient, and
the check catches a deliberately wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest

import fastlr
from conftest import GRADIENT_KERNELS, kernel_params, skip_if_too_big
from helpers import SMALL_CASES

# float32 too: check_grad differences J on float64 copies of float32 data, so a float32
# gradient is held to the float64 slope (its own rounding, ~6e-8, is what is left)
# (not the extreme-scale cases: J = inf there, or w ~ 1e37, which no difference step resolves)
GRAD_CASES = [c for c in SMALL_CASES if c.n <= 37 and c.m <= 1001 and c.scale == 1.0
              and c.layout in ("C", "F", "C[::2]", "CSR")]
GRAD_TOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-6}


@pytest.mark.parametrize("kernel, case", kernel_params(GRADIENT_KERNELS, GRAD_CASES))
def test_check_grad_on_every_implementation(kernel, case):
    # 2n + 3 evaluations: keep the pure-Python loop to inputs where that stays well under a second
    skip_if_too_big(kernel, case.m * (2 * case.n + 3) // 5, case.n)
    d = case.data()
    result = fastlr.check_grad(kernel.func, d.w, d.b, d.X, d.y, sample_weight=d.sample_weight,
                               l2=d.l2)
    tol = GRAD_TOL[np.dtype(case.dtype)]
    assert result.relative_difference < tol, result
    assert result.step == 1e-6
    np.testing.assert_allclose(result.analytic_dw, result.numeric_dw, rtol=1e-5, atol=1e-8)
    assert result.analytic_db == pytest.approx(result.numeric_db, rel=1e-5, abs=1e-8)


def _perturbed(func, where, size):
    def wrong(w, b, X, y, **kw):
        J, dw, db, *rest = func(w, b, X, y, **kw)
        dw = np.array(dw, copy=True)
        if where == "dw":
            dw[0] += size
        else:
            db = db + size
        return (J, dw, db, *rest)
    return wrong


@pytest.mark.parametrize("where", ["dw", "db"])
@pytest.mark.parametrize("size", [1e-2, 1e-4])
def test_check_grad_detects_a_wrong_gradient(impl, where, size):
    rng = np.random.default_rng(12)
    X = rng.standard_normal((40, 3))
    y = (rng.random(40) < 0.5).astype(np.float64)
    w = rng.standard_normal(3)
    good = fastlr.check_grad(impl.func, w, 0.2, X, y)
    bad = fastlr.check_grad(_perturbed(impl.func, where, size), w, 0.2, X, y)
    assert good.relative_difference < 1e-8
    assert bad.relative_difference > 100 * good.relative_difference
    assert bad.relative_difference > 1e-6
    assert bad.max_abs_error == pytest.approx(size, rel=1e-3)


def test_check_grad_on_a_closed_form_quadratic():
    """J = ½‖w − c‖² + 2b²: dw = w − c, db = 4b; central differences are exact for a quadratic."""
    c = np.array([1.0, -2.0, 0.5])

    def f(w, b):
        return 0.5 * float(np.sum((w - c) ** 2)) + 2.0 * b * b, w - c, 4.0 * b

    w = np.array([0.3, 0.1, -0.7])
    result = fastlr.check_grad(f, w, 0.25)
    np.testing.assert_allclose(result.numeric_dw, w - c, rtol=1e-8)
    assert result.numeric_db == pytest.approx(1.0, rel=1e-8)
    assert result.relative_difference < 1e-9
    np.testing.assert_array_equal(w, [0.3, 0.1, -0.7])  # w not modified


@pytest.mark.parametrize("eps", [0.0, -1e-6, np.nan, np.inf])
def test_check_grad_rejects_bad_eps(eps):
    with pytest.raises(ValueError, match="eps must be a positive finite number"):
        fastlr.check_grad(lambda w, b: (0.0, w, 0.0), np.zeros(2), 0.0, eps=eps)


def test_check_grad_accepts_course_shaped_w():
    """w of shape (n, 1) (the course's) is flattened; the gradient check still works."""
    rng = np.random.default_rng(13)
    X = rng.standard_normal((20, 3))
    y = (rng.random(20) < 0.5).astype(np.float64)
    result = fastlr.check_grad(fastlr.kernels.loss_grad, rng.standard_normal((3, 1)), 0.0, X, y)
    assert result.relative_difference < 1e-7


# ---------------------------------------------------------------- float32 input
def _float32_problem(seed=14, m=300, n=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(np.float32)
    y = (rng.random(m) < 0.5).astype(np.float32)
    w = rng.standard_normal(n)
    return X, y, w, 0.1


def _true_gradient(X, y, w, b):
    """dw = Xᵀ(σ(Xw + b) − y)/m, db = mean(σ − y) in float64 NumPy: independent of fastlr."""
    X, y = X.astype(np.float64), y.astype(np.float64)
    r = 1.0 / (1.0 + np.exp(-(X @ w + b))) - y
    return X.T @ r / X.shape[0], float(np.mean(r))


@pytest.mark.parametrize("func", [fastlr.kernels.loss_grad, fastlr.reference.loss_grad],
                         ids=["kernels", "reference"])
def test_check_grad_on_float32_X(func):
    """A correct gradient passes on float32 X (it scored 0.07–0.09 when J was differenced in
    float32 with eps = 1e-6), the numeric gradient is the true slope, and wrong gradients —
    off by 1e-2 or 1e-4, in dw or db — are caught."""
    X, y, w, b = _float32_problem()
    X_before, y_before, w_before = X.copy(), y.copy(), w.copy()
    good = fastlr.check_grad(func, w, b, X, y)
    assert good.relative_difference < 1e-6, good
    dw, db = _true_gradient(X, y, w, b)
    np.testing.assert_allclose(good.numeric_dw, dw, rtol=1e-6, atol=1e-9)
    assert good.numeric_db == pytest.approx(db, rel=1e-6, abs=1e-9)
    np.testing.assert_allclose(good.analytic_dw, dw, rtol=1e-5, atol=1e-7)  # float32-rounded
    for where in ("dw", "db"):
        for size in (1e-2, 1e-4):
            bad = fastlr.check_grad(_perturbed(func, where, size), w, b, X, y)
            assert bad.relative_difference > 100 * good.relative_difference
            assert bad.relative_difference > 1e-5
            assert bad.max_abs_error == pytest.approx(size, rel=1e-2)
    # inputs untouched, dtypes included
    assert X.dtype == np.float32 and y.dtype == np.float32
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(w, w_before)


def test_check_grad_on_float32_csr_X_and_float32_sample_weight():
    sparse = pytest.importorskip("scipy.sparse")
    X, y, w, b = _float32_problem(seed=15)
    X[np.abs(X) < 0.7] = 0.0
    s = np.random.default_rng(16).uniform(0.5, 2.0, X.shape[0]).astype(np.float32)
    Xs = sparse.csr_matrix(X)
    good = fastlr.check_grad(fastlr.kernels.loss_grad, w, b, Xs, y, sample_weight=s, l2=0.1)
    assert good.relative_difference < 1e-6, good
    assert Xs.dtype == np.float32 and s.dtype == np.float32
    bad = fastlr.check_grad(_perturbed(fastlr.kernels.loss_grad, "dw", 1e-2), w, b, Xs, y,
                            sample_weight=s, l2=0.1)
    assert bad.relative_difference > 1e-3


def test_check_grad_on_a_float32_J_it_cannot_promote():
    """Data in a closure: J comes back float32 whatever check_grad does, so the step grows to
    ∛(float32 eps) ≈ 4.9e-3 (the 1e-6 step scored 0.07 here). The check is coarser — a correct
    gradient scores ~1e-5 — but a gradient off by 1e-2 still stands out."""
    X, y, w, b = _float32_problem()

    def loss_grad(w_, b_):
        return fastlr.kernels.loss_grad(w_, b_, X, y)

    good = fastlr.check_grad(loss_grad, w, b)
    assert good.step == pytest.approx(np.cbrt(np.finfo(np.float32).eps))
    assert good.relative_difference < 1e-4, good
    dw, db = _true_gradient(X, y, w, b)
    np.testing.assert_allclose(good.numeric_dw, dw, rtol=1e-3, atol=1e-4)

    def wrong(w_, b_):
        J, dw_, db_ = loss_grad(w_, b_)
        return J, dw_ + np.float32(1e-2) * (np.arange(dw_.shape[0]) == 0), db_

    bad = fastlr.check_grad(wrong, w, b)
    assert bad.relative_difference > 1e-3
    assert bad.relative_difference > 30 * good.relative_difference
    assert bad.max_abs_error == pytest.approx(1e-2, rel=0.05)
