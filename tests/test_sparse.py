"""Sparse input: the CSR kernels against dense NumPy formulas, and sparse fits against scikit-learn."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
sp = pytest.importorskip("scipy.sparse")

from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastlr.estimator import LogisticRegression  # noqa: E402
from helpers import sk_objective  # noqa: E402

RTOL = 1e-7


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("C", [0.01, 1.0])
def test_sparse_breast_cancer_same_optimum_as_sklearn(cancer, fmt, solver, C):
    X, y = cancer
    Xs = sp.csr_matrix(X).asformat(fmt)
    ours = LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=10_000).fit(Xs, y)
    ref = SkLogisticRegression(C=C, tol=1e-12, max_iter=100_000).fit(X, y)
    f = sk_objective(ours.coef_, ours.intercept_[0], X, y, C)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X, y, C)
    assert abs(f - f_ref) <= RTOL * f_ref
    np.testing.assert_allclose(ours.decision_function(Xs), ref.decision_function(X),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_digits_one_vs_rest(dtype):
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)  # about half the pixels are zero
    Xs = sp.csr_array(X)
    C = 0.1
    ours = LogisticRegression(C=C, solver="lbfgs", tol=1e-10, max_iter=10_000,
                              multi_class="ovr").fit(Xs, y)
    assert ours.coef_.dtype == dtype
    X64 = X.astype(np.float64)
    ref = OneVsRestClassifier(SkLogisticRegression(C=C, tol=1e-12, max_iter=100_000)).fit(X64, y)
    for k, est in enumerate(ref.estimators_):
        y01 = (y == k).astype(float)
        f = sk_objective(ours.coef_[k], ours.intercept_[k], X64, y01, C)
        f_ref = sk_objective(est.coef_, est.intercept_[0], X64, y01, C)
        assert abs(f - f_ref) <= RTOL * f_ref, k


def test_sparse_and_dense_fits_agree_and_sparse_input_is_not_modified(cancer):
    X, y = cancer
    Xs = sp.csc_matrix(X)
    before = (Xs.data.copy(), Xs.indices.copy(), Xs.indptr.copy())
    sparse_fit = LogisticRegression(solver="lbfgs", tol=1e-10).fit(Xs, y)
    assert Xs.format == "csc"
    for a, b in zip(before, (Xs.data, Xs.indices, Xs.indptr)):
        np.testing.assert_array_equal(a, b)
    dense_fit = LogisticRegression(solver="lbfgs", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, rtol=1e-6)


def test_csr_with_out_of_range_column_indices_is_rejected():
    """The CSR kernels index w unchecked, so a malformed matrix must be refused before them."""
    from fastlr import kernels

    data = np.array([1.0, 2.0, 3.0])
    indptr = np.array([0, 1, 2, 3])
    y = np.array([0.0, 1.0, 0.0])
    for bad in (np.array([0, 5, 1], dtype=np.int32), np.array([0, -1, 1], dtype=np.int32)):
        X = sp.csr_matrix((data, bad, indptr), shape=(3, 2))
        with pytest.raises(ValueError, match="column indices"):
            kernels.loss_grad(np.zeros(2), 0.0, X, y)
        with pytest.raises(ValueError, match="column indices"):
            LogisticRegression().fit(X, y)


def test_wide_csr_passes_take_threads_earlier_than_narrow(monkeypatch):
    """The thread choice of a CSR gradient pass (``_sums._csr_work``): 12 MB of CSR over
    100,000 columns — a 2.9 ms pass on one thread, measured 1.56x faster on two — runs on the
    kernels' threads; the same bytes over 2,000 columns (W in L1; no gain with a core busy)
    stay on one, as dense X of 12 MB does. Observed at ``run_tasks``, not recomputed."""
    import scipy.sparse as sp

    from fastlr import _jit, kernels
    from fastlr.kernels import _layout

    monkeypatch.setattr(_jit, "max_threads", lambda: 2)
    seen = []
    run_tasks = _layout.run_tasks

    def serial_run_tasks(kernel, n_tasks, width, args, work):
        seen.append(_jit.threads_for(work))  # the choice; then run serially (no compile)
        return run_tasks(kernel, n_tasks, width, args, 0)

    monkeypatch.setattr(_layout, "run_tasks", serial_run_tasks)
    rng = np.random.default_rng(0)
    m, per_row = 50_000, 20  # 1,000,000 nonzeros: 12 MB of values and indices
    for n in (100_000, 2_000):
        X = sp.csr_matrix((rng.random(m * per_row), rng.integers(0, n, m * per_row),
                           np.arange(0, m * per_row + 1, per_row)), shape=(m, n))
        y = (rng.random(m) < 0.5).astype(float)
        J, dw, db = kernels.loss_grad(np.zeros(n), 0.0, X, y)
        assert np.isclose(J, np.log(2.0))  # at w = 0 every loss is log 2
    assert seen == [2, 1]
