"""The solver layer (fastlr/_solvers) against independent computations.

* L-BFGS against ``scipy.optimize.minimize(method="L-BFGS-B")`` on objectives written here in
  NumPy (logistic regression on synthetic and unscaled breast_cancer data, a quadratic,
  Rosenbrock): the same iterates while rounding allows, the same optimum, comparable iterations.
* The line search against scipy's own ``DCSRCH`` on Moré & Thuente's test functions, and the
  strong Wolfe conditions of every accepted L-BFGS step, checked here from the iterates.
* CG against ``scipy.sparse.linalg.cg``; the compact L-BFGS direction against a NumPy two-loop.
* Newton from a non-finite start (issue 20 item 2), max_iter = 0, Ctrl-C, capabilities.
* The lockstep driver: P problems together give each problem's x alone, bitwise; one objective
  call per kind per round, counted by the objective itself; a finished problem leaves the index.
"""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pytest
from scipy import optimize, sparse
from scipy.special import expit

from fastlr import _interrupt
from fastlr._solvers import (CallablesObjective, Lockstep, _sweeps, make_solver, minimize,
                             solve)
from fastlr._solvers.cg import conjugate_gradient
from fastlr._solvers.lbfgs import CompactMemory, TwoLoopMemory
from fastlr._solvers.linesearch import CONVERGENCE, WARNING, strong_wolfe
from helpers import drive_cg

FTOL = 64 * np.finfo(float).eps


# ----------------------------------------------------------------------------- objectives

def logistic(X, y, l2):
    """Mean-scaled L2 logistic regression over θ = [w, b] in NumPy: (f, g), and H, H·v."""
    n = X.shape[0]
    Xt = np.hstack([X, np.ones((n, 1))])
    penalty = np.r_[np.full(X.shape[1], l2), 0.0]

    def loss_grad(theta):
        z = Xt @ theta
        f = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * float(theta[:-1] @ theta[:-1])
        return f, Xt.T @ (expit(z) - y) / n + penalty * theta

    def loss_grad_hess(theta):
        f, g = loss_grad(theta)
        p = expit(Xt @ theta)
        return f, g, (Xt.T * (p * (1 - p))) @ Xt / n + np.diag(penalty)

    def loss_grad_hessp(theta):
        f, g = loss_grad(theta)
        p = expit(Xt @ theta)
        h = p * (1 - p) / n

        def hessp(v):
            return Xt.T @ (h * (Xt @ v)) + penalty * v

        hessp.diagonal = lambda: (Xt * Xt).T @ h + penalty
        return f, g, hessp

    return loss_grad, loss_grad_hess, loss_grad_hessp


def quadratic(p=30, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((p, p)))[0]
    A = Q @ np.diag(np.logspace(0, 2, p)) @ Q.T
    b = rng.standard_normal(p)
    return lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b)


def rosenbrock(x):
    return optimize.rosen(x), optimize.rosen_der(x)


@pytest.fixture(scope="module")
def synthetic():
    from sklearn.datasets import make_classification

    X, y = make_classification(400, 15, random_state=0)
    return X, y.astype(float)


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)  # unscaled: feature scales 1e-3 .. 1e3
    return X, y.astype(float)


def scipy_lbfgs(fun, x0, tol, max_iter, callback=None):
    return optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", callback=callback,
                             options={"maxiter": max_iter, "gtol": tol, "ftol": FTOL,
                                      "maxls": 50, "maxfun": 10**7})


def ours(fun, x0, tol, max_iter, solver="lbfgs", **kw):
    iterates = []
    result = minimize(fun, x0, solver=solver, max_iter=max_iter, tol=tol,
                      callback=lambda it, x, f, g: iterates.append(x), **kw)
    return result, iterates


def same_objective(f1, f2, rtol):
    return abs(f1 - f2) <= rtol * max(abs(f1), abs(f2), 1.0)


# ----------------------------------------------------------------------------- L-BFGS vs scipy

@pytest.mark.parametrize("tol", [1e-4, 1e-8])
@pytest.mark.parametrize("case", ["synthetic", "quadratic", "rosenbrock"])
def test_lbfgs_runs_scipys_iteration(case, tol, synthetic):
    """Well-conditioned problems: the iterates of scipy's L-BFGS-B to rounding, the same number
    of iterations (±2), the same optimum."""
    if case == "synthetic":
        fun, x0 = logistic(*synthetic, l2=1e-2)[0], np.zeros(16)
    elif case == "quadratic":
        fun, x0 = quadratic(), np.zeros(30)
    else:
        fun, x0 = rosenbrock, np.tile([-1.2, 1.0], 5)
    theirs = []
    ref = scipy_lbfgs(fun, x0, tol, 1000, callback=lambda xk: theirs.append(xk.copy()))
    res, mine = ours(fun, x0, tol, 1000)
    assert ref.status == 0 and res.converged
    assert abs(res.n_iter - ref.nit) <= 2
    assert same_objective(res.loss_history[-1], ref.fun, 1e-10)
    assert len(res.loss_history) == res.n_iter + 1
    for k in range(min(10, len(theirs))):
        np.testing.assert_allclose(mine[k], theirs[k], rtol=1e-9, atol=1e-12)


def test_lbfgs_on_unscaled_breast_cancer_reaches_scipys_optimum(cancer):
    """Unscaled data (condition number ~1e12): the first iterates are scipy's to rounding, then
    rounding differences grow (chaotic for both: from starts 1e-9 apart scipy alone needs
    2,500-5,100 iterations here). Both end at the relative-decrease test, at the optimum
    computed here by Newton to 1e-7; iterations within a factor 3."""
    X, y = cancer
    fun = logistic(X, y, l2=1.0 / X.shape[0])[0]
    # the optimum by Newton's method in NumPy
    theta = np.zeros(31)
    Xt = np.hstack([X, np.ones((X.shape[0], 1))])
    for _ in range(40):
        f, g = fun(theta)
        p = expit(Xt @ theta)
        H = (Xt.T * (p * (1 - p))) @ Xt / X.shape[0] + np.diag(np.r_[np.full(30, 1 / 569), 0])
        theta = theta - np.linalg.solve(H, g)
    f_star = fun(theta)[0]
    theirs = []
    ref = scipy_lbfgs(fun, np.zeros(31), 1e-8, 20000,
                      callback=lambda xk: theirs.append(xk.copy()))
    res, mine = ours(fun, np.zeros(31), 1e-8, 20000)
    assert ref.status == 0 and res.converged
    assert same_objective(ref.fun, f_star, 1e-7) and same_objective(res.loss_history[-1],
                                                                     f_star, 1e-7)
    assert ref.nit / 3 <= res.n_iter <= 3 * ref.nit
    for k in range(20):
        np.testing.assert_allclose(mine[k], theirs[k], rtol=1e-8, atol=1e-12)


def test_lbfgs_max_iter_counts_as_scipys_nit(synthetic):
    """max_iter = k: scipy's x after k iterations (and after one at max_iter = 0, as scipy and
    scikit-learn do), not converged."""
    fun = logistic(*synthetic, l2=1e-3)[0]
    for k in (0, 1, 3):
        ref = scipy_lbfgs(fun, np.zeros(16), 1e-10, k)
        res = minimize(fun, np.zeros(16), solver="lbfgs", max_iter=k, tol=1e-10)
        assert ref.nit == res.n_iter == max(k, 1) and ref.status == 1 and not res.converged
        np.testing.assert_allclose(res.x, ref.x, rtol=1e-12, atol=1e-15)
        assert res.message == "max_iter reached"


@pytest.mark.parametrize("solver", ["gd", "newton", "newton-cg", "lbfgs"])
def test_at_the_optimum_no_iteration_is_run(solver, synthetic):
    lg, lgh, lghp = logistic(*synthetic, l2=1e-2)
    x_star = minimize(lg, np.zeros(16), solver="newton", max_iter=50, tol=1e-12,
                      loss_grad_hess=lgh).x
    res = minimize(lg, x_star, solver=solver, max_iter=0, tol=1e-6, learning_rate=1.0,
                   loss_grad_hess=lgh, loss_grad_hessp=lghp)
    assert res.converged and res.n_iter == 0 and len(res.loss_history) == 1
    np.testing.assert_array_equal(res.x, x_star)


@pytest.mark.parametrize("solver", ["gd", "newton", "newton-cg"])
def test_max_iter_0_returns_the_start(solver, synthetic):
    lg, lgh, lghp = logistic(*synthetic, l2=1e-2)
    x0 = np.full(16, 0.01)
    res = minimize(lg, x0, solver=solver, max_iter=0, tol=1e-6, learning_rate=1.0,
                   loss_grad_hess=lgh, loss_grad_hessp=lghp)
    assert not res.converged and res.n_iter == 0 and res.message == "max_iter reached"
    np.testing.assert_array_equal(res.x, x0)
    assert res.loss_history == [pytest.approx(lg(x0)[0], rel=1e-15)]


def test_accepted_lbfgs_steps_satisfy_strong_wolfe(cancer):
    """Every accepted step s = x_{k+1} − x_k satisfies f_{k+1} ≤ f_k + 1e-3·g_kᵀs and
    |g_{k+1}ᵀs| ≤ 0.9·|g_kᵀs|, evaluated here from the iterates."""
    X, y = cancer
    fun = logistic(X, y, l2=1.0 / X.shape[0])[0]
    points = [np.zeros(31)]
    res = minimize(fun, points[0], solver="lbfgs", max_iter=300, tol=1e-8,
                   callback=lambda it, x, f, g: points.append(x))
    assert res.n_iter == 300 and len(points) == 301
    for x0, x1 in zip(points, points[1:]):
        (f0, g0), (f1, g1) = fun(x0), fun(x1)
        s = x1 - x0
        assert f1 <= f0 + 1e-3 * (g0 @ s)
        assert abs(g1 @ s) <= 0.9 * abs(g0 @ s)


# ----------------------------------------------------------------------------- line search

def _mt_functions():
    """Moré & Thuente (1994), table 1-6: (φ, φ') on α ≥ 0."""
    def f1(a, beta=2.0):
        return -a / (a * a + beta), (a * a - beta) / (a * a + beta) ** 2

    def f2(a, beta=0.004):
        return (a + beta) ** 5 - 2 * (a + beta) ** 4, 5 * (a + beta) ** 4 - 8 * (a + beta) ** 3

    def f3(a, beta=0.01, ell=39):
        if a <= 1 - beta:
            p, dp = 1 - a, -1.0
        elif a >= 1 + beta:
            p, dp = a - 1, 1.0
        else:
            p, dp = (a - 1) ** 2 / (2 * beta) + beta / 2, (a - 1) / beta
        w = ell * math.pi / 2
        return p + 2 * (1 - beta) / (ell * math.pi) * math.sin(w * a), dp + (1 - beta) * math.cos(
            w * a)

    def yanai(b1, b2):
        def gamma(b):
            return math.sqrt(1 + b * b) - b

        def f(a):
            r1, r2 = math.sqrt((1 - a) ** 2 + b2 * b2), math.sqrt(a * a + b1 * b1)
            return (gamma(b1) * r1 + gamma(b2) * r2,
                    -gamma(b1) * (1 - a) / r1 + gamma(b2) * a / r2)
        return f

    return {"f1": f1, "f2": f2, "f3": f3, "f4": yanai(0.001, 0.001), "f5": yanai(0.01, 0.001),
            "f6": yanai(0.001, 0.01)}


def _run_search(phi, stp, gtol):
    f0, g0 = phi(0.0)
    search = strong_wolfe(f0, g0, stp, gtol=gtol)
    trial = next(search)
    evaluations = 0
    try:
        while True:
            evaluations += 1
            trial = search.send(phi(trial))
    except StopIteration as done:
        return done.value, evaluations


@pytest.mark.parametrize("gtol", [0.9, 0.1])
@pytest.mark.parametrize("alpha0", [1e-3, 1e-1, 1e1, 1e3])
@pytest.mark.parametrize("name", ["f1", "f2", "f3", "f4", "f5", "f6"])
def test_line_search_is_scipys_dcsrch_and_strong_wolfe(name, alpha0, gtol):
    from scipy.optimize._dcsrch import DCSRCH

    phi = _mt_functions()[name]
    f0, g0 = phi(0.0)
    (stp, f, g, task, _), evaluations = _run_search(phi, alpha0, gtol)
    calls = []
    reference = DCSRCH(lambda a: calls.append(a) or phi(a)[0], lambda a: phi(a)[1],
                       ftol=1e-3, gtol=gtol, xtol=0.1, stpmin=0.0, stpmax=1e10)
    ref_stp, _, _, ref_task = reference(alpha0, phi0=f0, derphi0=g0, maxiter=50)
    if ref_task == b"CONVERGENCE":
        assert task == CONVERGENCE and stp == ref_stp and evaluations == len(calls)
    assert task in (CONVERGENCE, WARNING)
    if task == CONVERGENCE:  # strong Wolfe, evaluated here
        fs, gs = phi(stp)
        assert fs <= f0 + 1e-3 * stp * g0 and abs(gs) <= gtol * abs(g0)
        assert (fs, gs) == (f, g)


def test_line_search_backs_off_non_finite_values():
    """φ = inf beyond α = 2 (an overflowing objective): the step comes back, and the accepted
    one satisfies strong Wolfe."""
    def phi(a):
        if a > 2.0:
            return math.inf, math.nan
        return (a - 1.5) ** 2, 2 * (a - 1.5)

    (stp, f, g, task, _), evaluations = _run_search(phi, 100.0, 0.9)
    assert task == CONVERGENCE and stp <= 2.0 and evaluations < 20
    assert f <= phi(0)[0] + 1e-3 * stp * phi(0)[1] and abs(g) <= 0.9 * abs(phi(0)[1])


# ----------------------------------------------------------------------------- CG and H·g

@pytest.mark.parametrize("precondition", [False, True])
@pytest.mark.parametrize("rtol, maxiter", [(1e-10, 500), (0.5, 500), (1e-10, 3)])
def test_cg_is_scipys_cg(rtol, maxiter, precondition):
    from scipy.sparse.linalg import LinearOperator, cg

    rng = np.random.default_rng(5)
    B = rng.standard_normal((60, 60)) * np.logspace(-1, 1, 60)
    A = B @ B.T + 0.1 * np.eye(60)
    b = rng.standard_normal(60)
    inverse = 1.0 / np.diag(A) if precondition else None
    M = LinearOperator(A.shape, matvec=lambda r: inverse * r) if precondition else None
    steps = []
    ref, info = cg(A, b, rtol=rtol, atol=0.0, maxiter=maxiter, M=M,
                   callback=lambda xk: steps.append(1))
    (x, our_info), products = drive_cg(conjugate_gradient, A, b, rtol=rtol, maxiter=maxiter,
                                        inverse_diagonal=inverse)
    assert our_info == info and products == len(steps)
    np.testing.assert_allclose(x, ref, rtol=1e-12, atol=1e-14)


def _numpy_two_loop(S, Y, g):
    """Nocedal & Wright, Algorithm 7.4 (pairs oldest first), H₀ = (sᵀy / yᵀy)·I."""
    q = g.copy()
    alpha = []
    for s, y in reversed(list(zip(S, Y))):
        a = (s @ q) / (s @ y)
        alpha.append(a)
        q -= a * y
    r = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) * q
    for (s, y), a in zip(zip(S, Y), reversed(alpha)):
        r += (a - (y @ r) / (s @ y)) * s
    return -r


def _quadratic_memory(memory_class, curvature, steps, n, m, rng):
    """(memory, last gradient, [(s, y)]) after ``steps`` updates on the quadratic with Hessian
    diag(curvature) (sᵀy > 0)."""
    memory = memory_class(n, m)
    g_old = rng.standard_normal(n)
    pairs = []
    for _ in range(steps):
        d = rng.standard_normal(n)
        stp = float(rng.uniform(0.5, 2.0))
        g = g_old + curvature * (stp * d)  # a quadratic's gradient change: sᵀy > 0
        memory.update(stp, d, g, g_old, float((stp * d) @ (g - g_old)))
        pairs.append((stp * d, g - g_old))
        g_old = g
    return memory, g_old, pairs


@pytest.mark.parametrize("memory_class", [CompactMemory, TwoLoopMemory])
def test_direction_is_the_two_loop_recursion(memory_class):
    """After 13 updates of a memory of 5 (the ring wrapped around), d = −H·g of the NumPy
    two-loop over the last 5 pairs, and xt = x + d, gᵀd, dᵀd; 2,500 values (3 blocks)."""
    rng = np.random.default_rng(0)
    n, m = 2500, 5
    memory, g_old, pairs = _quadratic_memory(memory_class, np.logspace(0, 2, n), 13, n, m, rng)
    x = rng.standard_normal(n)
    d, xt = np.empty(n), np.empty(n)
    gd, dd = memory.direction(g_old, x, d, xt)
    S, Y = zip(*pairs[-m:])
    expected = _numpy_two_loop(np.array(S), np.array(Y), g_old)
    np.testing.assert_allclose(d, expected, rtol=1e-11, atol=1e-13 * np.abs(expected).max())
    np.testing.assert_allclose(xt, x + d, rtol=1e-15)
    assert gd == pytest.approx(g_old @ d, rel=1e-12)
    assert dd == pytest.approx(d @ d, rel=1e-12)


@pytest.mark.parametrize("memory_class", [CompactMemory, TwoLoopMemory])
def test_shifted_pairs_are_the_pairs_of_the_shifted_objective(memory_class):
    """shift_curvature(δ, q) on the pairs of a quadratic with Hessian A gives the direction
    that the same steps on the Hessian A + δ·diag(1 on the first q) give (the penalty's strength
    changing along a path of Cs): the NumPy two-loop over those pairs, after a wrap-around."""
    n, m, q, delta = 2500, 5, 2000, -0.4
    curvature = np.logspace(0, 2, n)
    rng = np.random.default_rng(3)
    memory, _, _ = _quadratic_memory(memory_class, curvature, 8, n, m, rng)
    live = list(memory.order[:memory.k])
    S = memory.S[live].copy()
    memory.shift_curvature(delta, q)
    shifted = curvature + np.r_[np.full(q, delta), np.zeros(n - q)]
    Y = S * shifted  # y = (A + δ·P)·s, computed afresh
    g = rng.standard_normal(n)
    memory.refresh(g)
    d, xt = np.empty(n), np.empty(n)
    memory.direction(g, np.zeros(n), d, xt)
    expected = _numpy_two_loop(S, Y, g)
    np.testing.assert_allclose(d, expected, rtol=1e-10, atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("memory_class", [CompactMemory, TwoLoopMemory])
def test_shift_that_removes_the_curvature_empties_the_memory(memory_class):
    """A shift that leaves some pair without sᵀy > 0 (more than the curvature there) drops
    every pair: the next direction is −g."""
    n, m = 300, 4
    curvature = np.full(n, 1.0)
    memory, _, _ = _quadratic_memory(memory_class, curvature, 6, n, m, np.random.default_rng(4))
    memory.shift_curvature(-1.5, n)
    assert memory.k == 0
    g = np.random.default_rng(5).standard_normal(n)
    d, xt = np.empty(n), np.empty(n)
    memory.refresh(g)
    memory.direction(g, np.zeros(n), d, xt)
    np.testing.assert_allclose(d, -g, rtol=1e-15)


def test_lbfgs_from_carried_pairs_reaches_scipys_optimum_in_fewer_iterations(synthetic):
    """A path of Cs (L2 strengths 1e-1 -> 1e-2 -> 1e-3): each run warm-started at the last
    optimum, with the pairs of the run before shifted to its strength, reaches the optimum of
    scipy's L-BFGS-B (tol 1e-8), in no more iterations in all than with fresh pairs."""
    X, y = synthetic
    p = X.shape[1] + 1
    strengths = [1e-1, 1e-2, 1e-3]
    totals = {}
    for carry in (False, True):
        x, history, before, total = np.zeros(p), None, None, 0
        for lam in strengths:
            fun = logistic(X, y, l2=lam)[0]
            if carry:
                if history is None:
                    history = CompactMemory(p, 10)
                else:
                    history.shift_curvature(lam - before, p - 1)  # the intercept: no penalty
            solver = make_solver("lbfgs", x, capabilities=(), tol=1e-8, max_iter=1000,
                                 history=history)
            res = solve(CallablesObjective(p, fun), [solver])[0]
            ref = scipy_lbfgs(fun, np.zeros(p), 1e-8, 1000)
            assert res.converged
            assert same_objective(fun(res.x)[0], ref.fun, 1e-12), (carry, lam)
            np.testing.assert_allclose(res.x, ref.x, atol=1e-6)
            x, before, total = res.x, lam, total + res.n_iter
        totals[carry] = total
    assert totals[True] <= totals[False], totals


def test_lbfgs_history_of_another_size_is_refused(synthetic):
    X, y = synthetic
    fun = logistic(X, y, l2=1e-2)[0]
    solver = make_solver("lbfgs", np.zeros(16), capabilities=(), tol=1e-8, max_iter=10,
                         history=CompactMemory(15, 10))
    with pytest.raises(ValueError, match="history holds pairs of 15 variables, the problem has 16"):
        solve(CallablesObjective(16, fun), [solver])


def test_dot_amax_flags_non_finite_values():
    a = np.arange(3000.0) - 1500.0
    s, mx = _sweeps.dot_amax(a, a)
    assert s == pytest.approx(a @ a, rel=1e-14) and mx == 1500.0
    for bad in (np.inf, -np.inf, np.nan):
        b = a.copy()
        b[2049] = bad
        assert math.isnan(_sweeps.dot_amax(b, a)[1])


def test_parallel_sweeps_give_the_serial_run_bitwise(monkeypatch, cancer):
    """The sweeps' task layout depends on n only: an L-BFGS run with every sweep on two
    threads is the one-thread run, bit for bit (3,000 parameters: 3 tasks)."""
    import numba

    from fastlr import _jit

    rng = np.random.default_rng(2)
    X = rng.standard_normal((200, 2999))
    y = (rng.random(200) < 0.5).astype(float)
    fun = logistic(X, y, l2=1e-2)[0]
    serial = minimize(fun, np.zeros(3000), solver="lbfgs", max_iter=30, tol=1e-10)
    monkeypatch.setattr(_jit, "PARALLEL_MIN_BYTES", 0)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        parallel = minimize(fun, np.zeros(3000), solver="lbfgs", max_iter=30, tol=1e-10)
    finally:
        numba.set_num_threads(before)
    assert _sweeps._DIRECTION[1].signatures, "precondition: the parallel sweep ran"
    np.testing.assert_array_equal(parallel.x, serial.x)
    assert parallel.loss_history == serial.loss_history


def test_sweeps_compile_once(synthetic):
    """Read-only, strided or float32 gradients from an objective are copied to one layout:
    every sweep has one compiled signature (float64, C-contiguous)."""
    lg = logistic(*synthetic, l2=1e-2)[0]

    def odd_layouts(x):
        f, g = lg(x)
        g = np.repeat(g, 2)[::2]  # strided
        g.flags.writeable = False
        return f, g

    minimize(lg, np.zeros(16), solver="lbfgs", max_iter=20, tol=1e-8)
    minimize(odd_layouts, np.zeros(16), solver="lbfgs", max_iter=20, tol=1e-8)
    minimize(lambda x: (lg(x)[0], lg(x)[1].astype(np.float32)), np.zeros(16), solver="lbfgs",
             max_iter=20, tol=1e-5)
    for pair in (_sweeps._DIRECTION, _sweeps._DOTS, _sweeps._DOT_AMAX):
        assert len(pair[0].signatures) == 1, pair[0].signatures


# ----------------------------------------------------------------------------- Newton

@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs", "gd"])
def test_a_non_finite_start_restarts_from_zero(solver, synthetic):
    """Issue 20 item 2: from an overflowing start (f = NaN) Newton reported convergence at x0.
    Now every solver restarts from zero (its first iteration) and reaches the optimum; the
    learning curve keeps the non-finite start."""
    X, y = synthetic
    lg, lgh, lghp = logistic(X, y, l2=1e-2)

    def guarded(fun):
        def call(x):
            with np.errstate(all="ignore"):
                return fun(x)
        return call

    x0 = np.full(16, 1e308)  # margins and penalty overflow
    with np.errstate(all="ignore"):
        assert not np.isfinite(lg(x0)[0])
    res = minimize(guarded(lg), x0, solver=solver, max_iter=500, tol=1e-5, learning_rate=1.0,
                   loss_grad_hess=guarded(lgh), loss_grad_hessp=guarded(lghp))
    reference = minimize(lg, np.zeros(16), solver=solver, max_iter=500, tol=1e-5,
                         learning_rate=1.0, loss_grad_hess=lgh, loss_grad_hessp=lghp)
    assert reference.converged
    assert not np.isfinite(res.loss_history[0])
    assert res.loss_history[1] == pytest.approx(lg(np.zeros(16))[0], rel=1e-15)
    assert res.n_iter == reference.n_iter + 1 and res.converged == reference.converged
    np.testing.assert_array_equal(res.x, reference.x)


@pytest.mark.parametrize("solver", ["newton", "newton-cg", "lbfgs", "gd"])
def test_a_non_finite_objective_is_never_converged(solver):
    """Non-finite at the start and at zero: not converged, with the reason, at x0."""
    def nowhere(x):
        return math.inf, np.zeros_like(x)

    def nowhere_hess(x):
        return math.inf, np.zeros_like(x), np.eye(x.shape[0])

    def nowhere_hessp(x):
        return math.inf, np.zeros_like(x), lambda v: v

    res = minimize(nowhere, np.ones(3), solver=solver, max_iter=10, tol=1e-4,
                   learning_rate=0.1, loss_grad_hess=nowhere_hess, loss_grad_hessp=nowhere_hessp)
    assert not res.converged and res.n_iter == 0 and "not finite" in res.message
    np.testing.assert_array_equal(res.x, np.ones(3))


@pytest.mark.parametrize("solver", ["newton", "newton-cg"])
def test_estimator_warm_started_at_overflow_does_not_claim_convergence(solver):
    """Issue 20 item 2 end to end: coef_ = 1e200 warm start. Before: coef_ stayed 1e200 with no
    ConvergenceWarning. Now: the fit restarts from zero and ends at the cold fit's optimum."""
    from sklearn.datasets import make_classification
    from sklearn.exceptions import ConvergenceWarning

    from fastlr import LogisticRegression

    X, y = make_classification(300, 5, random_state=1)
    cold = LogisticRegression(solver=solver).fit(X, y)
    model = LogisticRegression(solver=solver, warm_start=True).fit(X, y)
    model.coef_[:] = 1e200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    assert converged and np.all(np.isfinite(model.coef_))
    assert not np.isfinite(model.loss_history_[0])
    np.testing.assert_allclose(model.coef_, cold.coef_, rtol=1e-6, atol=1e-8)


def test_newton_and_newton_cg_reach_the_optimum(synthetic):
    lg, lgh, lghp = logistic(*synthetic, l2=1e-3)
    a = minimize(lg, np.zeros(16), solver="newton", max_iter=50, tol=1e-10, loss_grad_hess=lgh)
    b = minimize(lg, np.zeros(16), solver="newton-cg", max_iter=50, tol=1e-10,
                 loss_grad_hessp=lghp)
    ref = scipy_lbfgs(lg, np.zeros(16), 1e-10, 1000)
    assert a.converged and b.converged and a.n_iter < 15 and b.n_iter < 15
    np.testing.assert_allclose(a.x, ref.x, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(b.x, a.x, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------- lockstep

class BatchedLogistic:
    """P logistic problems sharing X (labels Y[i], penalty l2[i]) as the batched objective the
    driver expects; every call is logged as (kind, problems). Each row is copied before use:
    OpenBLAS's gemv adds in an order that depends on the vector's alignment, and a row of a
    stacked (q, p) array is not aligned like the solver's own vector (last-bit differences)."""

    capabilities = frozenset({"hessian", "hessp", "diagonal"})

    def __init__(self, X, Y, l2s, log=None):
        self.problems = [logistic(X, y, l2) for y, l2 in zip(Y, l2s)]
        self.n_problems = len(self.problems)
        self.n_params = X.shape[1] + 1
        self.log = [] if log is None else log
        self._hessp = {}

    def _each(self, kind, index, rows, pick):
        self.log.append((kind, tuple(int(i) for i in index)))
        return [pick(self.problems[i], np.array(row)) for i, row in zip(index, rows)]

    def loss_grad(self, index, x):
        out = self._each("loss_grad", index, x, lambda p, r: p[0](r))
        return np.array([o[0] for o in out]), np.array([o[1] for o in out])

    def loss_grad_hess(self, index, x):
        out = self._each("loss_grad_hess", index, x, lambda p, r: p[1](r))
        return (np.array([o[0] for o in out]), np.array([o[1] for o in out]),
                np.array([o[2] for o in out]))

    def loss_grad_curvature(self, index, x):
        out = self._each("loss_grad_curvature", index, x, lambda p, r: p[2](r))
        for i, o in zip(index, out):
            self._hessp[int(i)] = o[2]
        return np.array([o[0] for o in out]), np.array([o[1] for o in out])

    def hessp(self, index, v):
        self.log.append(("hessp", tuple(int(i) for i in index)))
        return np.array([self._hessp[int(i)](r) for i, r in zip(index, v)])

    def hessian_diagonal(self, index):
        self.log.append(("hessian_diagonal", tuple(int(i) for i in index)))
        return np.array([self._hessp[int(i)].diagonal() for i in index])


SETUPS = [("lbfgs", 1e-2), ("lbfgs", 1e-4), ("newton", 1e-3), ("newton-cg", 1e-3),
          ("gd", 1e-1), ("lbfgs", 1e-3), ("newton-cg", 1e-5)]


@pytest.fixture(scope="module")
def shared_X():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 12))
    Y = np.array([(X @ rng.standard_normal(12) + rng.standard_normal(300) > 0).astype(float)
                  for _ in SETUPS])
    return X, Y


def _solvers(objective, setups, x0):
    return [make_solver(name, x0, capabilities=objective.capabilities, tol=1e-8,
                        max_iter=300, learning_rate=1.0) for name, _ in setups]


def test_lockstep_gives_each_problem_its_solo_result(shared_X, monkeypatch):
    """Seven problems (lbfgs, newton, newton-cg, gd; different labels and penalties) together:
    each x is its solo run's bitwise; each round makes at most one objective call per kind and
    asks every unfinished problem exactly once; a problem's calls are its solo run's (so a
    finished problem never reappears in an index)."""
    X, Y = shared_X
    l2s = [l2 for _, l2 in SETUPS]
    log = []
    monkeypatch.setattr(_interrupt, "check", lambda: log.append(("round", ())))
    together_obj = BatchedLogistic(X, Y, l2s, log)
    driver = Lockstep(together_obj, _solvers(together_obj, SETUPS, np.zeros(13)))
    together = driver.run()
    rounds = []
    for kind, problems in log:
        if kind == "round":
            rounds.append([])
        else:
            rounds[-1].append((kind, problems))
    assert len(rounds) == driver.rounds
    finished = set()
    for i, calls in enumerate(rounds):
        kinds = [kind for kind, _ in calls]
        assert len(kinds) == len(set(kinds)), f"round {i}: one call per kind"
        asked = [p for _, problems in calls for p in problems]
        assert len(asked) == len(set(asked)) and not finished & set(asked)
        if i + 1 < len(rounds):
            later = {p for _, ps in rounds[i + 1] for p in ps}
            finished |= set(asked) - later
    assert sum(driver.calls.values()) == sum(len(calls) for calls in rounds)
    sizes = [sum(len(ps) for _, ps in calls) for calls in rounds]
    assert sizes[0] == len(SETUPS) and sizes[-1] < len(SETUPS)
    for i, setup in enumerate(SETUPS):
        solo_obj = BatchedLogistic(X, Y[i:i + 1], [setup[1]])
        alone = solve(solo_obj, _solvers(solo_obj, [setup], np.zeros(13)))[0]
        np.testing.assert_array_equal(together[i].x, alone.x)
        assert together[i].loss_history == alone.loss_history
        assert (together[i].n_iter, together[i].converged) == (alone.n_iter, alone.converged)
        assert len(solo_obj.log) == sum(1 for calls in rounds for _, ps in calls if i in ps)
    assert all(r.converged for r in together)


def _recording(solver, seen):
    """``solver``'s requests, noting the thread each of its steps runs on."""
    answer = None
    try:
        while True:
            seen.append(threading.get_ident())
            answer = yield solver.send(answer)
    except StopIteration as done:
        return done.value


def test_lockstep_steps_on_threads_give_the_serial_results(shared_X):
    """``threads=2``: the solvers' steps run on the pool's threads, and every problem's x,
    history and iterations, and the calls per round, are bitwise those of the serial driver."""
    X, Y = shared_X
    l2s = [l2 for _, l2 in SETUPS]
    runs = {}
    for threads in (1, 2):
        objective = BatchedLogistic(X, Y, l2s)
        seen = []
        solvers = [_recording(s, seen) for s in _solvers(objective, SETUPS, np.zeros(13))]
        driver = Lockstep(objective, solvers, threads=threads)
        runs[threads] = (driver.run(), objective.log, driver.calls, seen)
    serial, threaded = runs[1], runs[2]
    main = threading.get_ident()
    # the first round's steps (all 7 problems) ran on the pool; a round of one problem runs
    # on the calling thread
    assert set(serial[3]) == {main} and main not in threaded[3][:len(SETUPS)]
    assert threaded[1] == serial[1] and threaded[2] == serial[2]
    for one, two in zip(serial[0], threaded[0]):
        np.testing.assert_array_equal(one.x, two.x)
        assert (one.loss_history, one.n_iter, one.converged) == \
            (two.loss_history, two.n_iter, two.converged)


def test_an_error_in_a_threaded_step_propagates_and_closes_every_solver(shared_X):
    X, Y = shared_X
    objective = BatchedLogistic(X, Y[:3], [1e-2] * 3)

    def failing(solver):
        yield next(solver)
        raise RuntimeError("step failed")

    solvers = _solvers(objective, SETUPS[:3], np.zeros(13))
    solvers[1] = failing(solvers[1])
    with pytest.raises(RuntimeError, match="step failed"):
        Lockstep(objective, solvers, threads=2).run()
    assert all(s.gi_frame is None for s in solvers)


def test_step_threads_only_for_wide_serial_sweeps(monkeypatch):
    """The kernels' threads for several L-BFGS problems of 32,768 parameters up to
    where L-BFGS's sweeps go parallel themselves (32 MB: 166,666); 1 otherwise."""
    from fastlr import _jit
    from fastlr._solvers.driver import step_threads

    monkeypatch.setattr(_jit, "max_threads", lambda: 3)
    assert step_threads(["lbfgs"] * 5, 100_001, 5) == 3
    assert step_threads(["lbfgs"] * 2, 32_768, 2) == 3
    assert step_threads(["newton-cg", "lbfgs+newton-cg"], 100_001, 2) == 1
    assert step_threads(["lbfgs"] * 2, 166_000, 2) == 3
    assert step_threads(["lbfgs"], 100_001, 1) == 1
    assert step_threads(["lbfgs"] * 5, 32_767, 5) == 1
    assert step_threads(["lbfgs"] * 5, 166_667, 5) == 1
    assert step_threads(["lbfgs", "prox-newton"], 100_001, 2) == 1


def test_driver_checks_capabilities(shared_X):
    X, Y = shared_X

    class NoHessian(BatchedLogistic):
        capabilities = frozenset()

    objective = NoHessian(X, Y[:1], [1e-2])
    with pytest.raises(ValueError, match="'hessian'"):
        make_solver("newton", np.zeros(13), capabilities=objective.capabilities, tol=1e-6,
                    max_iter=10)
    # a solver made for another objective: the driver refuses its first request
    solver = make_solver("newton-cg", np.zeros(13), capabilities={"hessp"}, tol=1e-6,
                         max_iter=10)
    with pytest.raises(ValueError, match="loss_grad_curvature.*'hessp'"):
        solve(objective, [solver])
    assert objective.log == []
    with pytest.raises(ValueError, match="one solver per problem"):
        solve(objective, [])


def test_verbose_names_the_problem(shared_X, capsys):
    X, Y = shared_X
    objective = BatchedLogistic(X, Y[:2], [1e-2, 1e-2])
    solve(objective, _solvers(objective, SETUPS[:2], np.zeros(13)), verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(ln.startswith("iter") and "problem" in ln for ln in lines)
    assert {ln.split("problem")[1].split()[0] for ln in lines} == {"0", "1"}


def test_callback_gets_copies(synthetic):
    seen = []
    lg = logistic(*synthetic, l2=1e-2)[0]
    res = minimize(lg, np.zeros(16), solver="lbfgs", max_iter=8, tol=1e-12,
                   callback=lambda it, x, f, g: seen.append((it, x, f)))
    assert [it for it, _, _ in seen] == list(range(1, res.n_iter + 1))
    for it, x, f in seen:  # the arrays handed out were not overwritten by later iterations
        assert lg(x)[0] == pytest.approx(f, rel=1e-14) == res.loss_history[it]


# ----------------------------------------------------------------------------- Ctrl-C

@pytest.mark.parametrize("solver", ["lbfgs", "newton", "newton-cg", "gd"])
def test_keyboard_interrupt_from_the_objective_propagates(solver, synthetic):
    lg, lgh, lghp = logistic(*synthetic, l2=1e-3)
    calls = []

    def interrupting(fun):
        def call(x):
            calls.append(1)
            if len(calls) == 4:
                raise KeyboardInterrupt
            return fun(x)
        return call

    with pytest.raises(KeyboardInterrupt):
        minimize(interrupting(lg), np.zeros(16), solver=solver, max_iter=100, tol=1e-10,
                 learning_rate=1.0, loss_grad_hess=interrupting(lgh),
                 loss_grad_hessp=interrupting(lghp))
    assert len(calls) == 4


def test_a_pending_ctrl_c_stops_the_driver_before_the_next_round(synthetic, monkeypatch):
    lg = logistic(*synthetic, l2=1e-3)[0]
    calls = []
    objective = CallablesObjective(16, lambda x: calls.append(1) or lg(x))
    solver = make_solver("lbfgs", np.zeros(16), capabilities=frozenset(), tol=1e-10,
                         max_iter=100)
    _interrupt._pending.set()
    try:
        with pytest.raises(KeyboardInterrupt):
            solve(objective, [solver])
    finally:
        _interrupt._pending.clear()
    assert calls == []


def test_make_solver_validates(synthetic):
    with pytest.raises(ValueError, match="solver must be one of"):
        make_solver("sag", np.zeros(3), capabilities=frozenset(), tol=1e-4, max_iter=10)
    with pytest.raises(ValueError, match="learning_rate > 0"):
        make_solver("gd", np.zeros(3), capabilities=frozenset(), tol=1e-4, max_iter=10)
    with pytest.raises(ValueError, match="needs loss_grad_hess"):
        minimize(lambda x: (0.0, x), np.zeros(3), solver="newton", max_iter=10, tol=1e-4)
    with pytest.raises(ValueError, match="needs loss_grad_hessp"):
        minimize(lambda x: (0.0, x), np.zeros(3), solver="newton-cg", max_iter=10, tol=1e-4)


def test_sparse_hessp_objective_through_newton_cg():
    """Newton-CG on a CSR logistic problem (H·v from sparse products) reaches L-BFGS-B's
    optimum."""
    rng = np.random.default_rng(7)
    X = sparse.random(500, 200, density=0.05, random_state=7, format="csr")
    y = (rng.random(500) < 0.4).astype(float)
    n = X.shape[0]

    def lg(theta):
        z = X @ theta[:-1] + theta[-1]
        f = np.mean(np.logaddexp(0, z) - y * z) + 0.5e-2 * theta[:-1] @ theta[:-1]
        r = (expit(z) - y) / n
        return f, np.r_[X.T @ r + 1e-2 * theta[:-1], r.sum()]

    def lghp(theta):
        f, g = lg(theta)
        p = expit(X @ theta[:-1] + theta[-1])
        h = p * (1 - p) / n

        def hessp(v):
            t = h * (X @ v[:-1] + v[-1])
            return np.r_[X.T @ t + 1e-2 * v[:-1], t.sum()]
        return f, g, hessp

    res = minimize(lg, np.zeros(201), solver="newton-cg", max_iter=100, tol=1e-10,
                   loss_grad_hessp=lghp)
    ref = scipy_lbfgs(lg, np.zeros(201), 1e-10, 1000)
    assert res.converged
    assert same_objective(res.loss_history[-1], ref.fun, 1e-10)
