"""fastlr.check_grad: central differences agree with every implementation's analytic gradient, and
the check catches a deliberately wrong gradient."""

from __future__ import annotations

import numpy as np
import pytest

import fastlr
from conftest import GRADIENT_KERNELS, kernel_params, skip_if_too_big
from helpers import SMALL_CASES

# float64 only: central differences of a float32 J with eps = 1e-6 measure rounding, not slope
GRAD_CASES = [c for c in SMALL_CASES if c.dtype == np.float64 and c.n <= 37 and c.m <= 1001
              and c.layout in ("C", "F", "C[::2]", "CSR")]


@pytest.mark.parametrize("kernel, case", kernel_params(GRADIENT_KERNELS, GRAD_CASES))
def test_check_grad_on_every_implementation(kernel, case):
    # 2n + 3 evaluations: keep the pure-Python loop to inputs where that stays well under a second
    skip_if_too_big(kernel, case.m * (2 * case.n + 3) // 5, case.n)
    d = case.data()
    result = fastlr.check_grad(kernel.func, d.w, d.b, d.X, d.y, sample_weight=d.sample_weight,
                               l2=d.l2)
    assert result.relative_difference < 1e-7, result
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
