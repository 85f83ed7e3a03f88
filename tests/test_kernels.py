"""Every loss_grad implementation of the registry, on every curated case, against an independent
computation (closed form in long double / ``math.fsum``, scikit-learn's ``log_loss``) and against every
other implementation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import expit
from sklearn.metrics import log_loss

from cases import CASES, assert_close, expected
from conftest import skip_if_too_big
from fastlr.implementations import COST, LOSS_GRAD

case_param = pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
PAIRS = list(itertools.combinations(sorted(LOSS_GRAD), 2))


def _run(impl, case):
    skip_if_too_big(impl, case.elements)
    d = case.data()
    return impl.func(*d.args, **d.kwargs)


@case_param
def test_loss_grad_matches_closed_form(impl, case):
    got = _run(impl, case)
    want, scales = expected(case)
    assert_close(got, want, scales, case.dtype, what=f"{impl.name} on {case.id}: ")


@case_param
def test_cost_matches_closed_form(cost_func, case):
    d = case.data()
    (J0, _, _), (sJ, _, _) = expected(case)
    from cases import TOL
    J = cost_func(*d.args, **d.kwargs)
    assert abs(float(J) - J0) <= TOL[np.dtype(case.dtype)] * sJ, (float(J), J0)


@pytest.mark.parametrize("case", [c for c in CASES if not c.soft], ids=lambda c: c.id)
def test_J_matches_sklearn_log_loss(impl, case):
    """J − ½·l2·‖w‖² is scikit-learn's weighted log-loss of σ(z) (rtol 1e-8: log_loss works on the
    rounded probability, so log(1 − p) carries eps/(1 − p) relative error)."""
    got = _run(impl, case)
    d = case.data()
    z = d.X.astype(np.float64) @ d.w + d.b
    ref = log_loss(d.y, expit(z), sample_weight=d.sample_weight, labels=[0, 1])
    ref += 0.5 * d.l2 * float(d.w @ d.w)
    rtol = 1e-8 if case.dtype == np.float64 else 1e-5
    assert float(got[0]) == pytest.approx(ref, rel=rtol)


@pytest.mark.parametrize("pair", PAIRS, ids="-vs-".join)
@case_param
def test_implementations_agree(pair, case):
    """Every pair of implementations agrees within twice the tolerance each has against the truth."""
    a, b = (LOSS_GRAD[name] for name in pair)
    got_a, got_b = _run(a, case), _run(b, case)
    _, scales = expected(case)
    want = (float(got_b[0]), np.asarray(got_b[1], dtype=np.float64), float(got_b[2]))
    assert_close(got_a, want, scales, case.dtype, factor=2.0, what=f"{pair[0]} vs {pair[1]} on {case.id}: ")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_result_dtype_follows_X(impl, dtype):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 5)).astype(dtype)
    y = (rng.random(40) < 0.5).astype(np.float64)
    J, dw, db = impl.func(np.full(5, 0.1), 0.2, X, y)
    assert np.asarray(J).dtype == dtype and np.ndim(J) == 0
    assert dw.dtype == dtype and dw.shape == (5,)
    assert np.asarray(db).dtype == dtype and np.ndim(db) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(COST))
def test_cost_dtype_follows_X(name, dtype):
    X = np.ones((3, 2), dtype=dtype)
    J = COST[name](np.zeros(2), 0.0, X, np.array([0.0, 1.0, 1.0]))
    assert np.asarray(J).dtype == dtype and np.ndim(J) == 0
    assert float(J) == pytest.approx(np.log(2.0), rel=1e-7)  # z = 0: L = log 2 for any label


@pytest.mark.parametrize("Xdtype", [np.int64, np.int32, np.bool_, np.float16])
def test_other_real_X_dtypes_computed_in_float64(impl, Xdtype):
    rng = np.random.default_rng(4)
    X = (rng.standard_normal((30, 4)) * 3).astype(Xdtype)
    y = (rng.random(30) < 0.5).astype(np.float64)
    w = rng.standard_normal(4)
    J, dw, db = impl.func(w, -0.1, X, y)
    assert dw.dtype == np.float64
    want, scales = _closed(X, y, w, -0.1)
    assert_close((J, dw, db), want, scales, np.float64)


def _closed(X, y, w, b, s=None, l2=0.0):
    from cases import closed_form
    return closed_form(X, y, w, b, s, l2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_course_propagate_on_the_slides_shape(dtype):
    """n_x = 12288 (64·64·3), m = 209: course.propagate on X (n_x, m) equals the reference on X.T and
    the closed form."""
    from cases import closed_form
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
