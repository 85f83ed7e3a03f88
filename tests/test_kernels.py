"""Every (J, dw, db[, H]) kernel of the registry, on every curated case of its input (dense or CSR),
against independent computations: the closed form in long double / ``math.fsum``, and
scikit-learn's ``log_loss``. (Two kernels that each agree with the closed form within tol agree with
each other within 2·tol, so pairs are not compared separately.)"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import log_loss

from conftest import COST_KERNELS, GRADIENT_KERNELS, kernel_params
from helpers import CASES, TOL, assert_close, assert_hessian_close, closed_form, dense, expected


def _run(kernel, case):
    d = case.data()
    return kernel.func(*d.args, **d.kwargs)


@pytest.mark.parametrize("kernel, case", kernel_params(GRADIENT_KERNELS, CASES))
def test_matches_closed_form(kernel, case):
    got = _run(kernel, case)
    if kernel.operation == "loss_grad_hess":
        want, scales, hess = expected(case, hessian=True)
        assert got[3].shape == (case.n + 1, case.n + 1)
        assert_hessian_close(got[3], hess, case.dtype, what=f"{kernel.key} on {case.id}: ")
    else:
        want, scales = expected(case)
    assert_close(got, want, scales, case.dtype, what=f"{kernel.key} on {case.id}: ")


@pytest.mark.parametrize("kernel, case", kernel_params(COST_KERNELS, CASES))
def test_cost_matches_closed_form(kernel, case):
    (J0, _, _), (sJ, _, _) = expected(case)
    J = _run(kernel, case)
    assert float(J) == J0 or abs(float(J) - J0) <= TOL[np.dtype(case.dtype)] * sJ, (float(J), J0)


@pytest.mark.parametrize("kernel, case", kernel_params(GRADIENT_KERNELS,
                                                      [c for c in CASES if not c.soft]))
def test_J_matches_sklearn_log_loss(kernel, case):
    """J − ½·l2·‖w‖² is scikit-learn's weighted log-loss of σ(z) (rtol 1e-8: log_loss works on the
    rounded probability, so log(1 − p) carries eps/(1 − p) relative error)."""
    got = _run(kernel, case)
    d = case.data()
    z = dense(d.X).astype(np.float64) @ d.w + d.b
    ref = log_loss(d.y, expit(z), sample_weight=d.sample_weight, labels=[0, 1])
    with np.errstate(over="ignore"):  # the scale=1e-200 cases: ‖w‖² = inf, and so is J
        ref += 0.5 * d.l2 * float(d.w @ d.w)
    rtol = 1e-8 if case.dtype == np.float64 else 1e-5
    assert float(got[0]) == pytest.approx(ref, rel=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", GRADIENT_KERNELS, ids=lambda k: k.key)
def test_result_dtype_follows_X(kernel, dtype):
    from conftest import as_input

    rng = np.random.default_rng(3)
    X = as_input(rng.standard_normal((40, 5)).astype(dtype), kernel)
    y = (rng.random(40) < 0.5).astype(np.float64)
    J, dw, db, *hess = kernel.func(np.full(5, 0.1), 0.2, X, y)
    assert np.asarray(J).dtype == dtype and np.ndim(J) == 0
    assert dw.dtype == dtype and dw.shape == (5,)
    assert np.asarray(db).dtype == dtype and np.ndim(db) == 0
    for H in hess:
        assert H.dtype == dtype and H.shape == (6, 6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kernel", COST_KERNELS, ids=lambda k: k.key)
def test_cost_dtype_follows_X(kernel, dtype):
    X = np.ones((3, 2), dtype=dtype)
    J = kernel.func(np.zeros(2), 0.0, X, np.array([0.0, 1.0, 1.0]))
    assert np.asarray(J).dtype == dtype and np.ndim(J) == 0
    assert float(J) == pytest.approx(np.log(2.0), rel=1e-7)  # z = 0: L = log 2 for any label


@pytest.mark.parametrize("Xdtype", [np.int64, np.int32, np.bool_, np.float16])
@pytest.mark.parametrize("kernel", GRADIENT_KERNELS, ids=lambda k: k.key)
def test_other_real_X_dtypes_computed_in_float64(kernel, Xdtype):
    from conftest import as_input

    if kernel.input == "csr" and Xdtype == np.float16:
        pytest.skip("scipy.sparse has no float16")
    rng = np.random.default_rng(4)
    X = (rng.standard_normal((30, 4)) * 3).astype(Xdtype)
    y = (rng.random(30) < 0.5).astype(np.float64)
    w = rng.standard_normal(4)
    J, dw, db, *_ = kernel.func(w, -0.1, as_input(X, kernel), y)
    assert dw.dtype == np.float64
    want, scales = closed_form(X, y, w, -0.1)
    assert_close((J, dw, db), want, scales, np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_course_propagate_on_the_slides_shape(dtype):
    """n_x = 12288 (64·64·3), m = 209: course.propagate on X (n_x, m) equals the closed form on X.T
    (and the reference on X.T)."""
    from fastlr import course, reference

    rng = np.random.default_rng(9)
    X = rng.standard_normal((12288, 209)).astype(dtype)
    Y = (rng.random((1, 209)) < 0.5).astype(np.float64)
    w = rng.standard_normal((12288, 1)) * 0.01
    grads, cost = course.propagate(w, 0.1, X, Y)
    assert grads["dw"].shape == (12288, 1)
    J, dw, db = reference.loss_grad(w[:, 0], 0.1, X.T, Y[0])
    want, scales = closed_form(X.T, Y[0], w[:, 0], 0.1)
    got = (cost, grads["dw"][:, 0], grads["db"])
    assert_close(got, want, scales, dtype)
    assert_close(got, (float(J), np.asarray(dw, np.float64), float(db)), scales, dtype, factor=2.0)


def test_registry_has_one_reference_per_operation_and_input():
    from fastlr.implementations import KERNELS, reference_for

    for kernel in KERNELS.values():
        ref = reference_for(kernel)
        assert ref.reference and (ref.operation, ref.input) == (kernel.operation, kernel.input)
    assert {k.input for k in GRADIENT_KERNELS} == {"dense", "csr"}



@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_returned_outlives_the_next_call(sparse):
    """``loss_grad`` divides the pass's sums straight out of its reused workspace: a gradient
    returned earlier stays as it was through a later call, equals a fresh call's and NumPy's
    (the multinomial kernel's twin: tests/test_multinomial.py)."""
    import scipy.sparse as sp

    from fastlr import kernels

    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 40))
    X[rng.random(X.shape) < 0.7] = 0.0
    Xd = X
    X = sp.csr_matrix(X) if sparse else X
    y = (rng.random(300) < 0.5).astype(float)
    w1, w2 = rng.standard_normal(40), rng.standard_normal(40)
    first = kernels.loss_grad(w1, 0.1, X, y)[1]
    kept = first.copy()
    kernels.loss_grad(w2, -0.3, X, y)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(first, kernels.loss_grad(w1, 0.1, X, y)[1])
    p = expit(Xd @ w1 + 0.1)
    np.testing.assert_allclose(first, Xd.T @ (p - y) / 300, rtol=1e-12, atol=1e-15)
