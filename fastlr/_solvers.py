"""Solvers on plain callables: batch gradient descent, L-BFGS (scipy) and Newton–Cholesky.

Interface (kept stable so that a distributed objective, e.g. on Dask, can reuse it unchanged)::

    minimize(loss_grad, x0, *, solver, max_iter, tol, learning_rate=None,
             loss_grad_hess=None, verbose=0, callback=None) -> SolverResult

* ``x0`` is the float64 parameter vector ``[w_1 … w_n, b]`` of shape (n_features + 1,), the
  intercept stored last as in scikit-learn's ``LinearModelLoss``; without an intercept it is just
  ``w``, shape (n_features,). The solvers never look inside it.
* ``loss_grad(x) -> (f, g)``: the objective (a Python/NumPy float) and its gradient, float64 of the
  shape of ``x``. ``loss_grad_hess(x) -> (f, g, H)`` adds the Hessian, shape (len(x), len(x));
  only ``solver="newton"`` needs it. Objectives are expected in mean-scaled form (a mean loss plus
  ½·λ·‖w‖²), so that ``tol`` means the same thing whatever the number of samples.
* ``callback(iteration, x, f, g)`` is called after every iteration (optional).
* Stopping rule for every solver: ``max|g| <= tol`` (L-BFGS-B's ``gtol``, the projected gradient),
  or ``max_iter`` iterations; L-BFGS also stops on a relative decrease of f below 64·eps (as in
  scikit-learn). ``SolverResult.converged`` is False when the iteration limit was reached or a line
  search failed: the caller warns.

Solvers:

* ``"gd"`` — the slides' batch gradient descent ``x := x − α·g`` with ``learning_rate`` α.
* ``"lbfgs"`` — ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` with scikit-learn's options
  (``maxls=50``, ``gtol=tol``, ``ftol=64·eps``): one ``loss_grad`` call per function evaluation.
* ``"newton-cg"`` — the same Newton iteration with the direction from conjugate gradients on
  Hessian-vector products (``loss_grad_hessp(x) -> (f, g, hessp)``): for problems whose Hessian
  is too large to form (wide or sparse X).
* ``"newton"`` — Newton's method: solve ``H·d = −g`` by Cholesky (``scipy.linalg.cho_factor``),
  then an Armijo backtracking line search. The full step is evaluated with ``loss_grad_hess`` (it is
  accepted almost always, and then its Hessian is ready for the next iteration); only rejected steps
  are retried with the cheaper ``loss_grad``. A Hessian that is not positive definite (no penalty
  and singular or separable data) is regularised with a growing ridge.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["SOLVERS", "SolverResult", "minimize"]

SOLVERS = ("gd", "lbfgs", "newton", "newton-cg")


@dataclass
class SolverResult:
    """What a solver returns: the final point, iterations done, and the learning curve."""

    x: np.ndarray
    n_iter: int
    converged: bool
    #: objective after each iteration, starting with the objective at x0
    loss_history: list = field(default_factory=list)
    message: str = ""


class _Progress:
    """Collects the learning curve and prints one progress line per iteration when verbose."""

    def __init__(self, verbose, callback):
        self.verbose = verbose
        self.callback = callback
        self.history = []
        self.start = time.perf_counter()

    def __call__(self, iteration, x, f, g):
        self.history.append(float(f))
        if self.verbose and iteration > 0:
            gmax = float(np.max(np.abs(g))) if g.size else 0.0
            elapsed = time.perf_counter() - self.start
            print(f"iter {iteration:4d}  objective {f:.10e}  max|grad| {gmax:.3e}  "
                  f"elapsed {elapsed:.3f}s", flush=True)
        if self.callback is not None and iteration > 0:
            self.callback(iteration, x, f, g)


def _gmax(g) -> float:
    return float(np.max(np.abs(g))) if g.size else 0.0


def minimize(loss_grad: Callable, x0, *, solver: str, max_iter: int, tol: float,
             learning_rate: float | None = None, loss_grad_hess: Callable | None = None,
             loss_grad_hessp: Callable | None = None, verbose: int = 0,
             callback: Callable | None = None) -> SolverResult:
    """Minimise a smooth convex objective from ``x0``; see the module docstring."""
    x0 = np.array(x0, dtype=np.float64, copy=True).reshape(-1)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    max_iter = int(max_iter)
    progress = _Progress(verbose, callback)
    if solver == "gd":
        if learning_rate is None or not learning_rate > 0:
            raise ValueError(f"solver='gd' needs learning_rate > 0, got {learning_rate!r}")
        return _gd(loss_grad, x0, max_iter, tol, float(learning_rate), progress)
    if solver == "lbfgs":
        return _lbfgs(loss_grad, x0, max_iter, tol, progress)
    if solver == "newton-cg":
        if loss_grad_hessp is None:
            raise ValueError("solver='newton-cg' needs loss_grad_hessp")
        return _newton(loss_grad, None, x0, max_iter, tol, progress, loss_grad_hessp)
    if loss_grad_hess is None:
        raise ValueError("solver='newton' needs loss_grad_hess")
    return _newton(loss_grad, loss_grad_hess, x0, max_iter, tol, progress)


def _gd(loss_grad, x, max_iter, tol, alpha, progress):
    f, g = loss_grad(x)
    progress(0, x, f, g)
    for it in range(1, max_iter + 1):
        if _gmax(g) <= tol:
            return SolverResult(x, it - 1, True, progress.history, "max|grad| <= tol")
        x_new = x - alpha * g
        f, g = loss_grad(x_new)
        if not np.isfinite(f) or not np.all(np.isfinite(x_new)):
            # the last finite point is the result: a model never holds inf or NaN coefficients
            return SolverResult(x, it - 1, False, progress.history,
                                "objective is not finite: learning_rate is too large")
        x = x_new
        progress(it, x, f, g)
    converged = _gmax(g) <= tol
    return SolverResult(x, max_iter, converged, progress.history,
                        "max|grad| <= tol" if converged else "max_iter reached")


def _lbfgs(loss_grad, x0, max_iter, tol, progress):
    from scipy import optimize

    last = {}

    def fun(x):
        f, g = loss_grad(x)
        last["x"], last["f"], last["g"] = x.copy(), float(f), np.asarray(g, dtype=np.float64)
        return last["f"], last["g"]

    f0, g0 = fun(x0)
    progress(0, x0, f0, g0)
    iteration = [0]

    def on_iteration(intermediate_result):
        iteration[0] += 1
        x = intermediate_result.x
        if "x" in last and np.array_equal(last["x"], x):
            f, g = last["f"], last["g"]
        else:  # L-BFGS-B ends its line search on the accepted point, so this is rare
            f, g = fun(x)
        progress(iteration[0], x, f, g)

    # Options as in scikit-learn's _logistic_regression_path.
    res = optimize.minimize(
        fun, x0, method="L-BFGS-B", jac=True, callback=on_iteration,
        options={"maxiter": max_iter, "maxls": 50, "gtol": tol,
                 "ftol": 64 * np.finfo(float).eps},
    )
    message = res.message if isinstance(res.message, str) else str(res.message)
    return SolverResult(np.asarray(res.x, dtype=np.float64), int(res.nit), res.status == 0,
                        progress.history, message)


def _newton(loss_grad, loss_grad_hess, x, max_iter, tol, progress, loss_grad_hessp=None):
    """Newton's method with Armijo backtracking. The direction solves H·d = −g: by Cholesky from
    the Hessian (``loss_grad_hess``), or — Newton-CG, ``loss_grad_hessp`` given — by conjugate
    gradients (``scipy.sparse.linalg.cg``) on Hessian-vector products, to the relative residual
    min(½, √‖g‖) (the forcing sequence of scikit-learn's newton-cg), never forming H."""
    from scipy import linalg

    evaluate = loss_grad_hess if loss_grad_hessp is None else loss_grad_hessp
    x, (f, g, H), note = _finite_start(evaluate, x)
    progress(0, x, f, g)
    if not _is_finite(f, g):
        return SolverResult(x, 0, False, progress.history, note)
    for it in range(1, max_iter + 1):
        if _gmax(g) <= tol:
            return SolverResult(x, it - 1, True, progress.history, "max|grad| <= tol")
        d = (_newton_direction(linalg, H, g) if loss_grad_hessp is None
             else _cg_direction(H, g))
        slope = float(g @ d)
        if not slope < 0:  # not a descent direction (H numerically singular): use −g
            d = -g
            slope = -float(g @ g)
        # Armijo backtracking; the full step brings its Hessian (or products) along.
        step = 1.0
        f_new, g_new, H_new = evaluate(x + d)
        accepted = _acceptable(f, g, f_new, g_new, step * slope)
        for _ in range(40):
            if accepted:
                break
            step *= 0.5
            f_new, g_new = loss_grad(x + step * d)
            H_new = None
            accepted = _acceptable(f, g, f_new, g_new, step * slope)
        if not accepted:
            # The Newton decrement −gᵀd/2 predicts the remaining decrease of f; when it is below
            # f's rounding error, no step can show a decrease and x is optimal to working precision.
            # (Never for a non-finite f or slope: every decrease is "below" inf's rounding.)
            at_precision = (_is_finite(f, slope)
                            and -0.5 * slope <= 64 * np.finfo(float).eps * max(1.0, abs(f)))
            converged = _gmax(g) <= tol or at_precision
            return SolverResult(x, it - 1, converged, progress.history,
                                "optimal to working precision (no step decreases f)"
                                if at_precision else
                                "line search cannot decrease the objective further")
        x = x + step * d
        f, g = f_new, g_new
        if H_new is None:
            f, g, H = evaluate(x)
        else:
            H = H_new
        progress(it, x, f, g)
    converged = _gmax(g) <= tol
    return SolverResult(x, max_iter, converged, progress.history,
                        "max|grad| <= tol" if converged else "max_iter reached")


def _is_finite(f, g) -> bool:
    return bool(np.isfinite(f) and np.all(np.isfinite(g)))


def _finite_start(evaluate, x):
    """``(x, evaluate(x), note)`` where Newton starts: ``x``, or zero when the objective or the
    gradient at ``x`` is not finite (a warm start whose ½λ‖w‖² or margins overflow: no step
    from there can be measured, and a model never keeps such coefficients). f(0) is finite for
    any finite X: every margin is the intercept's 0."""
    values = evaluate(x)
    if _is_finite(values[0], values[1]):
        return x, values, ""
    if not np.any(x):
        return x, values, "the objective is not finite at zero"
    zero = np.zeros_like(x)
    values = evaluate(zero)
    if not _is_finite(values[0], values[1]):
        return zero, values, "the objective is not finite at the starting point or at zero"
    return zero, values, ""


def _acceptable(f, g, f_new, g_new, decrease) -> bool:
    """Armijo's sufficient decrease f_new ≤ f + 10⁻⁴·gᵀd·step — or, where the change of f is
    within its rounding (|f_new − f| ≤ 16·eps·|f|) and so says nothing, a smaller ‖g‖₁ (as
    scikit-learn's Newton line search does): near the optimum that lets Newton reach ``tol``."""
    if not np.isfinite(f_new):
        return False
    if f_new <= f + 1e-4 * decrease:
        return True
    return (abs(f_new - f) <= 16 * np.finfo(float).eps * abs(f)
            and float(np.sum(np.abs(g_new))) < float(np.sum(np.abs(g))))


def _cg_direction(hessp, g):
    """An inexact Newton direction: CG on H·d = −g to relative residual min(½, √‖g‖₁), with the
    Hessian's diagonal as preconditioner when ``hessp.diagonal`` gives it (Jacobi: one extra pass
    per Newton step; on text-like data whose column scales span orders of magnitude it cuts the
    CG steps several-fold — see benchmarks/fit_vs_sklearn.py)."""
    from scipy.sparse.linalg import LinearOperator, cg

    size = g.shape[0]
    gnorm = float(np.sum(np.abs(g)))
    operator = LinearOperator((size, size), matvec=hessp, dtype=np.float64)
    preconditioner = None
    diagonal = getattr(hessp, "diagonal", None)
    if diagonal is not None:
        d = diagonal()
        inverse = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 1.0)
        preconditioner = LinearOperator((size, size), matvec=lambda r: inverse * r,
                                        dtype=np.float64)
    steps, _ = cg(operator, -g, rtol=min(0.5, np.sqrt(gnorm)), atol=0.0,
                  maxiter=max(200, size // 10), M=preconditioner)
    return steps if np.all(np.isfinite(steps)) else -g


def _newton_direction(linalg, H, g):
    """Solve H·d = −g by Cholesky; add a growing ridge when H is not positive definite."""
    ridge = 0.0
    scale = max(float(np.max(np.abs(np.diag(H)))), np.finfo(float).tiny) if H.size else 1.0
    for _ in range(12):
        try:
            factor = linalg.cho_factor(H + ridge * np.eye(H.shape[0]) if ridge else H,
                                       lower=False, check_finite=False)
            d = -linalg.cho_solve(factor, g, check_finite=False)
            if np.all(np.isfinite(d)):
                return d
        except linalg.LinAlgError:
            pass
        ridge = scale * 1e-10 if ridge == 0.0 else ridge * 100.0
    return -g
