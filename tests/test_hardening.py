"""Inputs an adversarial user tried (the hardening issues), each pinned: a malformed CSR matrix,
extreme sample weights, an overflowing ‖w‖² with no penalty, pandas extension dtypes, byte-swapped
X, negative class weights, and NaN with Numba's JIT disabled; then the curated nasty fits of
tests/helpers.py (``FIT_CASES``: huge warm starts, overflowing weights, float32 coefficients
beyond float32, mixed labels, ...) for every solver, and Newton on a non-finite objective. (Dask
cases, FIT_CASES on Dask included: test_distributed.py; the course API, check_grad, model files,
the cache and the threading layer: their own test modules.)"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import GRADIENT_KERNELS, as_input
from fastlr import kernels, reference
from fastlr.estimator import LogisticRegression
from helpers import FIT_CASES, NEWTONS, assert_close, check_fit_case, closed_form, fit_under_test


@pytest.mark.parametrize("k", [3, 10**6])
def test_a_malformed_csr_indptr_is_rejected_before_any_kernel(k):
    """scipy builds CSR from raw arrays without checking them: indptr = [0, k, 2, 3, 4] with 4
    nonzeros made the kernels read garbage (k = 3) or segfault (k = 10⁶)."""
    X = sp.csr_matrix((np.ones(4), np.array([0, 1, 0, 1]), np.array([0, k, 2, 3, 4])),
                      shape=(4, 2))
    y = np.array([0.0, 1.0, 0.0, 1.0])
    for func in (kernels.loss_grad, kernels.loss_grad_hess, reference.loss_grad):
        with pytest.raises(ValueError, match="malformed indptr"):
            func(np.zeros(2), 0.0, X, y)
    with pytest.raises(ValueError, match="malformed indptr"):
        kernels.multinomial_loss_grad(np.zeros((2, 2)), np.zeros(2), X, y.astype(int))
    with pytest.raises(ValueError, match="malformed indptr"):
        LogisticRegression().fit(X, y)


@pytest.mark.parametrize("indptr", [[0, 1, 2, 3], [1, 1, 2, 3, 4], [0, 1, 2, 3, 9]])
def test_every_kind_of_bad_indptr(indptr):
    X = sp.csr_matrix((4, 2))
    X.data, X.indices = np.ones(4), np.array([0, 1, 0, 1], dtype=np.int32)
    X.indptr = np.array(indptr, dtype=np.int32)
    with pytest.raises(ValueError, match="indptr"):
        kernels.loss_grad(np.zeros(2), 0.0, X, np.zeros(4))


@pytest.mark.parametrize("kernel", GRADIENT_KERNELS, ids=lambda k: k.key)
def test_subnormal_weights_give_the_unweighted_answer(kernel):
    """Weights of 1e-310 each: Σ sᵢ is subnormal; the division stays exact (no reciprocal), so the
    answer is finite and equals the unweighted one."""
    if not kernel.accepts(40, 3):
        pytest.skip("size")
    rng = np.random.default_rng(31)
    X = rng.standard_normal((40, 3))
    y = (rng.random(40) < 0.5).astype(float)
    w = rng.standard_normal(3)
    got = kernel.func(w, 0.1, as_input(X, kernel), y, sample_weight=np.full(40, 1e-310))
    want, scales = closed_form(X, y, w, 0.1)
    assert_close(got, want, scales, np.float64, factor=10)


def test_weights_whose_sum_overflows_are_rejected():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="sample_weight sums to inf"):
        kernels.loss_grad(np.zeros(2), 0.0, X, np.array([0.0, 1, 0, 1]),
                          sample_weight=np.full(4, 1e308))
    with pytest.raises(ValueError, match="sample_weight sums to inf"):
        LogisticRegression().fit(X, [0, 1, 0, 1], sample_weight=np.full(4, 1e308))


@pytest.mark.parametrize("kernel", [k for k in GRADIENT_KERNELS if k.input == "dense"],
                         ids=lambda k: k.key)
def test_no_penalty_never_forms_an_overflowing_norm(kernel):
    """w of norm 1e200: ‖w‖² overflows, but with l2 = 0 it must not be formed (0·inf = NaN)."""
    X = np.array([[1e-200, 0.0], [0.0, -1e-200]])
    w = np.array([1e200, 1e200])
    J, dw, db, *_ = kernel.func(w, 0.0, X, np.array([1.0, 0.0]))
    # z = (1, −1): L = log(1 + e^{−1}) twice
    assert float(J) == pytest.approx(np.log1p(np.exp(-1.0)), rel=1e-12)
    assert np.all(np.isfinite(dw)) and np.isfinite(db)


def test_reference_cost_without_penalty_and_huge_w():
    X = np.array([[1e-200]])
    assert float(reference.cost(np.array([1e200]), 0.0, X, np.array([1.0]))) == pytest.approx(
        np.log1p(np.exp(-1.0)), rel=1e-12)


@pytest.mark.parametrize("dtype", ["Float64", "Float32", "Int64", "double[pyarrow]",
                                   "float[pyarrow]"])
def test_pandas_extension_dtypes_are_numbers(dtype):
    pd = pytest.importorskip("pandas")
    if "pyarrow" in dtype:
        pytest.importorskip("pyarrow")
    rng = np.random.default_rng(32)
    X = rng.integers(-3, 4, size=(30, 3)).astype(float)
    y = (rng.random(30) < 0.5).astype(float)
    w = rng.standard_normal(3)
    frame = pd.DataFrame(X).astype(dtype)
    got = kernels.loss_grad(w, 0.2, frame, y)
    want = 32 if "32" in dtype or dtype == "float[pyarrow]" else 64
    assert np.asarray(got[1]).dtype == np.dtype(f"float{want}")
    np.testing.assert_allclose(got[1], kernels.loss_grad(w, 0.2, X, y)[1],
                               rtol=1e-6 if want == 32 else 1e-14)
    frame.iloc[2, 1] = pd.NA  # a missing value is NaN, and propagates
    assert np.isnan(kernels.loss_grad(w, 0.2, frame, y)[0])
    text = pd.DataFrame({"a": X[:, 0], "b": ["x"] * 30})
    with pytest.raises(TypeError, match="non-numeric column 'b'"):
        kernels.loss_grad(w[:2], 0.2, text, y)


def test_byte_swapped_float32_stays_float32():
    rng = np.random.default_rng(33)
    X = rng.standard_normal((50, 4)).astype(np.float32)
    y = (rng.random(50) < 0.5).astype(float)
    w = rng.standard_normal(4)
    swapped = X.astype(">f4")
    for func in (kernels.loss_grad, reference.loss_grad, kernels.cost):
        got, want = func(w, 0.1, swapped, y), func(w, 0.1, X, y)
        got, want = (got, want) if isinstance(got, tuple) else ((got,), (want,))
        for a, b in zip(got, want):
            assert np.asarray(a).dtype == np.float32
            np.testing.assert_array_equal(a, b)


def test_a_negative_class_weight_is_named():
    X = np.random.default_rng(34).standard_normal((20, 2))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="class_weight"):
        LogisticRegression(class_weight={0: -1.0, 1: 1.0}).fit(X, y)


def test_nan_with_numba_disabled_propagates_instead_of_crashing():
    """NUMBA_DISABLE_JIT=1 runs the kernels as Python: int(NaN) used to raise "cannot convert
    float NaN to integer" in the exp step."""
    code = textwrap.dedent("""
        import numpy as np
        from fastlr import kernels
        X = np.array([[1.0, np.nan], [0.5, 2.0]])
        J, dw, db = kernels.loss_grad(np.array([0.3, 0.2]), 0.0, X, np.array([1.0, 0.0]))
        print(np.isnan(J), np.isnan(db))
    """)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


# ------------------------------------------------------------------ the curated nasty fits

SOLVERS = ("lbfgs", "newton", "newton-cg", "gd")
FIT_CASES_BY_ID = {case.id: case for case in FIT_CASES}


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("case", FIT_CASES, ids=lambda c: c.id)
def test_curated_fits_in_memory(case, solver, tmp_path):
    if case.raises:
        exc, match = case.raises
        with pytest.raises(exc, match=match):
            fit_under_test(case, solver)
        return
    model, cold, caught = fit_under_test(case, solver)
    check_fit_case(case, solver, model, cold, caught, case.data()[0], tmp_path)


@pytest.mark.parametrize("solver", NEWTONS)
def test_newton_never_converges_on_a_non_finite_objective(solver):
    """The 'optimal to working precision' test −½·gᵀd ≤ 64·eps·max(1, |f|) held for every step
    when f = inf: an objective that is inf everywhere was reported converged."""
    from fastlr import _solvers

    def everywhere_inf(x):
        return np.inf, np.ones_like(x)

    def with_hessian(x):
        return np.inf, np.ones_like(x), np.eye(x.shape[0])

    def with_products(x):
        return np.inf, np.ones_like(x), lambda p: np.asarray(p, dtype=float)

    res = _solvers.minimize(everywhere_inf, np.ones(3), solver=solver, max_iter=10, tol=1e-8,
                            loss_grad_hess=with_hessian, loss_grad_hessp=with_products)
    assert not res.converged and "not finite" in res.message


@pytest.mark.parametrize("solver", NEWTONS)
def test_float32_coefficients_beyond_float32_stay_float64(solver):
    """Separable float32 X at 1e-37 with C = inf: Newton's coefficients pass float32's 3.4e38,
    and the cast at the end of fit made coef_ [inf, 1.5e36, ...] (predict_proba NaN, save
    refused). They stay float64, with a warning; the model separates the data as it should."""
    import warnings

    X, y, _ = FIT_CASES_BY_ID["float32-coef-overflow"].data()
    with pytest.warns(UserWarning, match="exceed float32's range"):
        model = LogisticRegression(solver=solver, C=np.inf, tol=1e-8).fit(X, y)
    assert model.coef_.dtype == model.intercept_.dtype == np.float64
    assert np.all(np.isfinite(model.coef_)) and np.abs(model.coef_).max() > 3.4e38
    np.testing.assert_array_equal(model.predict(X), y)
    assert model.predict_proba(X).dtype == np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fit whose coefficients fit float32 keeps float32
        ordinary = LogisticRegression(solver=solver).fit(X * np.float32(1e37), y)
    assert ordinary.coef_.dtype == np.float32
