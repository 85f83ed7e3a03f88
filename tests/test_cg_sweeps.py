"""CG's compiled vector updates (``fastlr._solvers._sweeps.cg_*``, used by
``cg.conjugate_gradient`` from ``cg.COMPILED_MIN`` unknowns): the iterates of scipy's ``cg`` on
the same system, and the same bits on one thread and on two."""

import numpy as np
import pytest

from fastlr import _jit
from fastlr._solvers import cg as cg_module
from helpers import drive_cg


def _drive(A, b, **kw):
    return drive_cg(cg_module.conjugate_gradient, A, b, **kw)


@pytest.mark.parametrize("precondition", [False, True])
@pytest.mark.parametrize("rtol, maxiter", [(1e-10, 500), (1e-10, 3)])
def test_compiled_cg_is_scipys_cg(monkeypatch, rtol, maxiter, precondition):
    from scipy.sparse.linalg import LinearOperator, cg

    monkeypatch.setattr(cg_module, "COMPILED_MIN", 0)
    rng = np.random.default_rng(5)
    # conditioned so that CG ends well within n steps (beyond them, as on tests/test_solvers.py's
    # system, the count depends on the dot products' rounding, which BLAS and the sweeps sum in
    # different orders): C has cond ≈ 5; with the preconditioner, rows and columns scaled over
    # two decades (cond 1.3e4, 24 Jacobi-preconditioned steps)
    B = rng.standard_normal((60, 60))
    A = B @ B.T / 60 + np.eye(60)
    if precondition:
        d = np.logspace(-1, 1, 60)
        A = d[:, None] * A * d[None, :]
    b = rng.standard_normal(60)
    inverse = 1.0 / np.diag(A) if precondition else None
    M = LinearOperator(A.shape, matvec=lambda r: inverse * r) if precondition else None
    steps = []
    ref, info = cg(A, b, rtol=rtol, atol=0.0, maxiter=maxiter, M=M,
                   callback=lambda xk: steps.append(1))
    b_before = b.copy()
    (x, our_info), products = _drive(A, b, rtol=rtol, maxiter=maxiter, inverse_diagonal=inverse)
    assert our_info == info and products == len(steps)
    # the dot products are summed in another order than BLAS's: agreement to rounding, amplified
    np.testing.assert_allclose(x, ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(b, b_before)


def test_cg_workspace_reused_across_solves_gives_scipys_solutions(monkeypatch):
    """One ``Workspace`` for several solves (as Newton-CG keeps it): each solve is scipy's, the
    right-hand side may be the workspace's own r, and what a solve leaves in the vectors (a
    solution returned earlier, garbage) does not reach the next."""
    from scipy.sparse.linalg import cg

    monkeypatch.setattr(cg_module, "COMPILED_MIN", 0)
    rng = np.random.default_rng(11)
    B = rng.standard_normal((50, 50))
    A = B @ B.T / 50 + np.eye(50)
    work = cg_module.Workspace()
    for trial in range(3):
        b = rng.standard_normal(50)
        ref, info = cg(A, b, rtol=1e-10, atol=0.0, maxiter=500)
        for name in ("x", "p"):
            work.get(name, 50)[:] = np.nan  # left over from "the last solve"
        rhs = b
        if trial == 2:  # the caller's b written into CG's own r
            rhs = work.get("r", 50)
            rhs[:] = b
        (x, our_info), _ = _drive(A, rhs, rtol=1e-10, maxiter=500, work=work)
        assert our_info == info == 0 and x is work.get("x", 50)
        np.testing.assert_allclose(x, ref, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("values", [[1.0, -3.0, 2.0], [-0.0, 0.0], [-0.0], [np.nan, 1.0],
                                    [1.0, -np.inf, np.nan], [-np.inf, 1.0], [], [2.0, 7.0]])
def test_gmax_is_max_abs(values):
    """``common.gmax`` (max g against −min g, no temporary) gives max|g|'s value to the bit —
    +0 for zeros of either sign, NaN where g holds one, 0 for an empty g."""
    from fastlr._solvers.common import gmax

    g = np.array(values, dtype=np.float64)
    expected = float(np.max(np.abs(g))) if g.size else 0.0
    assert repr(gmax(g)) == repr(expected)
    assert repr(gmax(g.reshape(1, -1) if g.size else g)) == repr(expected)


def test_compiled_cg_negative_curvature_stops(monkeypatch):
    """An indefinite H: the first direction of non-positive curvature ends the solve (-1)."""
    monkeypatch.setattr(cg_module, "COMPILED_MIN", 0)
    A = np.diag([1.0, 2.0, -3.0, 4.0])
    (x, info), _ = _drive(A, np.ones(4), rtol=1e-12, maxiter=50)
    assert info == -1


def test_compiled_cg_same_bits_on_one_and_two_threads(monkeypatch):
    """5,000 unknowns = 5 tasks of the sweeps' layout: the parallel variant (forced) gives the
    serial one's bits."""
    import numba

    monkeypatch.setattr(cg_module, "COMPILED_MIN", 0)
    rng = np.random.default_rng(2)
    n = 5_000
    c = np.logspace(0, 3, n)
    b = rng.standard_normal(n)

    class Diag:
        def __matmul__(self, v):
            return c * v

    (x1, _), k1 = _drive(Diag(), b, rtol=1e-8, maxiter=40, inverse_diagonal=1.0 / np.sqrt(c))
    monkeypatch.setattr(_jit, "PARALLEL_MIN_BYTES", 0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        (x2, _), k2 = _drive(Diag(), b, rtol=1e-8, maxiter=40,
                             inverse_diagonal=1.0 / np.sqrt(c))
    finally:
        numba.set_num_threads(before)
    assert k1 == k2
    np.testing.assert_array_equal(x1, x2)


def _one_problem(model, seed, m, n, K, zeros):
    """A binary or multinomial problem on CSR X (a share ``zeros`` of its values 0): (X as a
    dense array, labels, ``ArrayData``, the datafit, the Objective's extra arguments, the
    number of linear functions)."""
    import scipy.sparse as sp

    from fastlr._data import ArrayData
    from fastlr._objective import Datafit

    rng = np.random.default_rng(seed)
    base = rng.standard_normal((m, n))
    base[rng.random((m, n)) < zeros] = 0.0
    y = rng.integers(0, K if model == "multinomial" else 2, m)
    data = ArrayData(sp.csr_matrix(base), y)
    if model == "multinomial":
        return base, y, data, Datafit("softmax", data.class_target(data.labels())), \
            dict(n_classes=K), K
    return base, y, data, Datafit("logistic", data.target(1)), {}, 1


@pytest.mark.parametrize("model", ["binary", "multinomial"])
def test_fused_hessp_has_the_numpy_forms_bits(model, monkeypatch):
    """``Objective.hessp`` assembled in one compiled pass (forced on a small problem) gives the
    bits of the NumPy assembly, and both equal H·v of the reference Hessian."""
    from fastlr import _objective, reference
    from fastlr._objective import Objective
    from fastlr._penalties import L2

    m, n, K, lam = 400, 5, 3, 0.07
    base, y, data, datafit, extra, k = _one_problem(model, 4, m, n, K, 0.4)
    rng = np.random.default_rng(40)
    x = rng.standard_normal((1, k * (n + 1))) * 0.3
    v = rng.standard_normal((1, k * (n + 1)))
    got = []
    for threshold in (0, 10**9):
        monkeypatch.setattr(_objective, "_FUSED_HESSP_MIN", threshold)
        objective = Objective(data, datafit, L2(lam), model=model, **extra)
        objective.loss_grad_curvature(np.array([0]), x)
        got.append(objective.hessp(np.array([0]), v))
    np.testing.assert_array_equal(got[0], got[1])
    if model == "multinomial":
        W, b = x[0, :k * n].reshape(k, n), x[0, k * n:]
        *_, H = reference.multinomial_loss_grad_hess(W.T, b, base, y, None)
    else:
        *_, H = reference.loss_grad_hess(x[0, :n], x[0, n], base, y.astype(float), None)
    H = np.array(H, dtype=np.float64)
    H[np.arange(k * n), np.arange(k * n)] += lam
    np.testing.assert_allclose(got[0][0], H @ v[0], rtol=1e-10, atol=1e-12)


def test_fused_batch_gradient_has_the_numpy_forms_bits(monkeypatch):
    """``Objective.penalised`` on a batch (``fused_coefficients``, forced on a small problem):
    f and g of each problem have the bits of the NumPy form (normalise, θ's layout, the L2
    penalty's gradient), and both equal the objective computed here in NumPy."""
    import scipy.sparse as sp
    from scipy.special import expit

    from fastlr import _objective
    from fastlr._data import ArrayData
    from fastlr._objective import Datafit, Objective
    from fastlr._penalties import L2

    rng = np.random.default_rng(6)
    m, n = 300, 7
    base = rng.standard_normal((m, n))
    base[rng.random((m, n)) < 0.5] = 0.0
    X = sp.csr_matrix(base)
    groups = rng.integers(0, 4, m)  # group g: label g % 2, in problem k's training rows or not
    labels = np.tile(np.arange(4) % 2, (3, 1)).astype(float)
    factors = np.array([[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 1, 1]], dtype=float)
    lam = np.array([0.5, 0.02, 1e-4])
    data = ArrayData(X, groups)
    datafit = Datafit("batched", groups, labels, factors)
    x = rng.standard_normal((3, n + 1)) * 0.4
    index = np.arange(3)
    got = []
    for threshold in (0, 10**9):
        monkeypatch.setattr(_objective, "_FUSED_HESSP_MIN", threshold)
        objective = Objective(data, datafit, L2(lam), model="batch")
        assert objective.fused_coefficients(index) == (threshold == 0)
        got.append(objective.loss_grad(index, x))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    for k in range(3):
        train = factors[k, groups] == 1
        y = labels[k, groups]
        w, b = x[k, :n], x[k, n]
        z = base @ w + b
        S = train.sum()
        f = np.sum(np.logaddexp(0, z) - y * z, where=train) / S + 0.5 * lam[k] * w @ w
        r = np.where(train, expit(z) - y, 0.0)
        g = np.append(base.T @ r / S + lam[k] * w, r.sum() / S)
        assert got[0][0][k] == pytest.approx(f, rel=1e-12)
        np.testing.assert_allclose(got[0][1][k], g, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("model", ["binary", "multinomial"])
def test_fused_one_problem_gradient_has_the_numpy_forms_bits(model, monkeypatch):
    """``Objective.penalised`` for one binary or multinomial problem (its coefficients as one
    row): the bits of the NumPy form, and the objective computed here in NumPy."""
    from scipy.special import expit, logsumexp, softmax

    from fastlr import _objective
    from fastlr._objective import Objective
    from fastlr._penalties import L2

    m, n, K, lam = 250, 6, 3, 0.05
    base, y, data, datafit, extra, k = _one_problem(model, 8, m, n, K, 0.5)
    x = np.random.default_rng(80).standard_normal((1, k * (n + 1))) * 0.4
    got = []
    for threshold in (0, 10**9):
        monkeypatch.setattr(_objective, "_FUSED_HESSP_MIN", threshold)
        objective = Objective(data, datafit, L2(lam), model=model, **extra)
        assert objective.fused_coefficients([0]) == (threshold == 0)
        # the raw sums of a plain pass, as the CV grid's warm path hands them over (the
        # multinomial ``loss_grad`` would have the two-phase pass form g itself)
        sums, _ = objective._run(np.array([0]), x, "gradient")
        got.append(objective.penalised(np.array([0]), x, sums))
    np.testing.assert_array_equal(got[0][0], got[1][0])
    np.testing.assert_array_equal(got[0][1], got[1][1])
    W, b = x[0, :k * n].reshape(k, n), x[0, k * n:]
    Z = base @ W.T + b
    if model == "multinomial":
        f = np.mean(logsumexp(Z, axis=1) - Z[np.arange(m), y])
        R = softmax(Z, axis=1) - np.eye(K)[y]
    else:
        f = np.mean(np.logaddexp(0, Z[:, 0]) - y * Z[:, 0])
        R = (expit(Z[:, 0]) - y)[:, None]
    g = np.concatenate([(R.T @ base / m + lam * W).ravel(), R.sum(axis=0) / m])
    assert got[0][0][0] == pytest.approx(f + 0.5 * lam * np.sum(W * W), rel=1e-12)
    np.testing.assert_allclose(got[0][1][0], g, rtol=1e-10, atol=1e-13)
