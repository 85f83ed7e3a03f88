"""Sparse input: the CSR kernels against dense NumPy formulas, and sparse fits against scikit-learn."""

import numpy as np
import pytest

pytest.importorskip("sklearn")
sp = pytest.importorskip("scipy.sparse")

from scipy.special import expit  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastlr.estimator import LogisticRegression  # noqa: E402
from fastlr.kernels.sparse import csr_loss_grad, csr_loss_grad_hess  # noqa: E402

RTOL = 1e-7


def sk_objective(coef, intercept, X, y01, C):
    X = X.toarray() if hasattr(X, "toarray") else X
    w = np.asarray(coef, dtype=np.float64).ravel()
    z = X.astype(np.float64) @ w + float(intercept)
    return C * np.sum(np.logaddexp(0.0, z) - y01 * z) + 0.5 * w @ w


def random_csr(m, n, density, dtype, seed):
    return sp.random(m, n, density=density, format="csr", dtype=dtype, random_state=seed)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_kernels_match_dense_numpy(dtype):
    rng = np.random.default_rng(0)
    X = random_csr(2000, 40, 0.1, dtype, 0)
    y = (rng.random(2000) < 0.3).astype(float)
    s = rng.random(2000)
    w, b, l2 = rng.standard_normal(40), -0.2, 0.05
    D = np.hstack([X.toarray().astype(np.float64), np.ones((2000, 1))])
    z = D @ np.r_[w, b]
    a = expit(z)
    S = s.sum()
    J_ref = np.sum(s * (np.logaddexp(0, z) - y * z)) / S + 0.5 * l2 * w @ w
    g_ref = D.T @ (s * (a - y)) / S + l2 * np.r_[w, 0.0]
    H_ref = (D * (s * a * (1 - a))[:, None]).T @ D / S + l2 * np.diag(np.r_[np.ones(40), 0.0])
    J, dw, db = csr_loss_grad(X, y, s, w, b, S, l2)
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(np.r_[dw, db], g_ref, rtol=1e-10, atol=1e-14)
    J2, g2, H2 = csr_loss_grad_hess(X, y, s, w, b, S, l2)
    assert J2 == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(g2, g_ref, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(H2, H_ref, rtol=1e-10, atol=1e-14)


def test_csr_kernel_handles_empty_rows_and_unsorted_duplicate_indices():
    # row 0 empty; row 1 has column 2 twice and unsorted indices
    X = sp.csr_matrix((np.array([1.0, 2.0, 0.5, 3.0]), np.array([2, 0, 2, 1]),
                       np.array([0, 0, 3, 4])), shape=(3, 3))
    y = np.array([0.0, 1.0, 1.0])
    w, b = np.array([0.1, -0.2, 0.3]), 0.05
    D = X.toarray()  # sums duplicates
    z = D @ w + b
    J, dw, db = csr_loss_grad(X, y, np.empty(0), w, b, 3.0, 0.0)
    assert J == pytest.approx(np.mean(np.logaddexp(0, z) - y * z), rel=1e-12)
    np.testing.assert_allclose(dw, D.T @ (expit(z) - y) / 3, rtol=1e-12)


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
    ours = LogisticRegression(C=C, solver="lbfgs", tol=1e-10, max_iter=10_000).fit(Xs, y)
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
    import scipy.sparse as sp

    from fastlr._objective import BinaryObjective

    data = np.array([1.0, 2.0, 3.0])
    indptr = np.array([0, 1, 2, 3])
    y = np.array([0.0, 1.0, 0.0])
    for bad in (np.array([0, 5, 1], dtype=np.int32), np.array([0, -1, 1], dtype=np.int32)):
        X = sp.csr_matrix((data, bad, indptr), shape=(3, 2))
        with pytest.raises(ValueError, match="column indices"):
            BinaryObjective(X, y)
