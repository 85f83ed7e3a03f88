"""Newton's method with Armijo backtracking: the Cholesky step and the CG step (generators).

Both iterate x := x + t·d from the Newton direction d ≈ −H⁻¹g with Armijo backtracking on t
(1, ½, ¼, … ; ``_acceptable``). The full step is evaluated with the request that also brings
the next iteration's curvature (``loss_grad_hess`` for Cholesky, ``loss_grad_curvature`` for
CG): it is accepted almost always. Only rejected steps are retried with the cheaper
``loss_grad``, and after such a step the curvature is requested at the accepted point.

* ``newton`` — d solves H·d = −g by Cholesky (LAPACK's ``potrf``/``potrs``); a Hessian that is
  not positive definite (no penalty and singular or separable data) gets a growing ridge.
* ``newton_cg`` — d from preconditioned conjugate gradients on H·v products (``cg``), to the
  relative residual min(½, √‖g‖₁) in at most max(200, p // 10) products (scikit-learn's forcing
  sequence), the Jacobi preconditioner diag(H)⁻¹ when the objective has the diagonal (one
  ``hessian_diagonal`` request per Newton step; on text-like data whose column scales span
  orders of magnitude it cuts the CG steps several-fold — benchmarks/fit_vs_sklearn.py).

Newton-CG's full step, when accepted with under ``OVERSHOOT_RATIO`` of the decrease CG's model
predicted, is retried once at the quadratic interpolation's minimiser t = 1/(2 − ρ) and the lower
of the two kept (far from the optimum the softmax overshoots: text corpus 40,000 x 100,000, 20
classes, 5 -> 4 iterations, 27 -> 25 passes to tol 1e-4; benchmarks/fit_vs_sklearn.py --cases
corpus20). Elsewhere in fit_vs_sklearn's cases the default fits are bitwise unchanged.

Convergence is max|g| ≤ tol at a finite objective, or — when no step decreases f — a Newton
decrement −gᵀd/2 below f's rounding error (x optimal to working precision; never claimed at a
non-finite f). A non-finite start restarts from zero (``common.start``).
"""

from __future__ import annotations

import math

import numpy as np

from .cg import COMPILED_MIN, Workspace, conjugate_gradient
from .common import EPS, SolverResult, finite, gmax, start

__all__ = ["newton", "newton_cg"]

#: backtracking halvings before the line search gives up
MAX_BACKTRACKS = 40
#: Newton-CG tries a shorter step where an accepted full step achieved less than this share of
#: the decrease CG's model predicted (``_newton``)
OVERSHOOT_RATIO = 0.5


def newton(x0, *, tol: float, max_iter: int):
    """Newton–Cholesky (module docstring)."""
    return (yield from _newton(x0, float(tol), int(max_iter), "loss_grad_hess", None))


def newton_cg(x0, *, tol: float, max_iter: int, precondition: bool = False):
    """Newton-CG (module docstring); ``precondition`` when the objective has "diagonal"."""
    return (yield from _newton(x0, float(tol), int(max_iter), "loss_grad_curvature",
                               bool(precondition)))


newton.NEEDS = frozenset({"hessian"})
newton_cg.NEEDS = frozenset({"hessp"})


def _newton(x0, tol, max_iter, evaluate, precondition):
    cholesky = evaluate == "loss_grad_hess"
    x, answer, n_iter, why = yield from start(x0, evaluate, max_iter)
    if x is None:
        return SolverResult(np.array(x0, dtype=np.float64), 0, False, [], why)
    f, g = answer[0], answer[1]
    H = answer[2] if cholesky else None
    work = None if cholesky else Workspace()
    for it in range(n_iter + 1, max_iter + 1):
        if gmax(g) <= tol:
            return SolverResult(x, it - 1, True, [], "max|grad| <= tol")
        if cholesky:
            d = _cholesky_direction(H, g)
        else:
            d = yield from _cg_direction(g, precondition, work)
        slope = float(g @ d)
        if not slope < 0:  # not a descent direction (H numerically singular): use −g
            d = -g
            slope = -float(g @ g)
        step = 1.0
        trial = x + d  # the full step's point, kept: x + 1·d is x + d to the bit
        answer = yield (evaluate, trial)
        f_new, g_new = answer[0], answer[1]
        fresh = True  # answer holds the curvature at the new point
        accepted = _acceptable(f, g, f_new, g_new, step * slope)
        if accepted and not cholesky and math.isfinite(f_new):
            # The full step decreased f, but far less than CG's quadratic model promised
            # (−gᵀd/2): f is far from quadratic along d and the step overshoots. One more
            # evaluation at the quadratic interpolation's minimiser t = 1 / (2 − ρ) of f(0),
            # f'(0), f(1) (ρ = actual / predicted decrease, t ∈ [½, ⅔]) is kept where it is
            # lower. Text corpus 40,000 x 100,000, 20 classes: the first two steps left gaps
            # to f* of 0.63 and 0.45 where t = ½ gave 0.04 and 0.05
            # (benchmarks/fit_vs_sklearn.py --cases corpus20).
            rho = (f - f_new) / (-0.5 * slope)
            if 0.0 < rho < OVERSHOOT_RATIO:
                t = 1.0 / (2.0 - rho)
                shorter = x + t * d
                answer_t = yield (evaluate, shorter)
                if math.isfinite(answer_t[0]) and answer_t[0] < f_new:
                    step, trial, answer = t, shorter, answer_t
                    f_new, g_new = answer_t[0], answer_t[1]
                else:  # the full step after all: its curvature again (the handle moved on)
                    answer = yield (evaluate, trial)
                    f_new, g_new = answer[0], answer[1]
        for _ in range(MAX_BACKTRACKS):
            if accepted:
                break
            step *= 0.5
            f_new, g_new = yield ("loss_grad", x + step * d)
            fresh = False
            accepted = _acceptable(f, g, f_new, g_new, step * slope)
        if not accepted:
            # The Newton decrement −gᵀd/2 predicts the remaining decrease of f; when it is below
            # f's rounding error, no step can show a decrease and x is optimal to working
            # precision — a statement about a finite f only.
            at_precision = (math.isfinite(f) and -0.5 * slope <= 64 * EPS * max(1.0, abs(f)))
            converged = finite(f, g) and (gmax(g) <= tol or at_precision)
            return SolverResult(x, it - 1, converged, [],
                                "optimal to working precision (no step decreases f)"
                                if at_precision else
                                "line search cannot decrease the objective further")
        # one pass over x instead of two where the full step was taken (2·10⁶ coefficients:
        # benchmarks/fit_vs_sklearn.py --cases corpus20)
        x = trial if fresh else x + step * d
        if fresh:
            f, g = f_new, g_new
            H = answer[2] if cholesky else None
        else:
            answer = yield (evaluate, x)
            f, g = answer[0], answer[1]
            H = answer[2] if cholesky else None
        yield ("iteration", x, f, g)
    converged = finite(f, g) and gmax(g) <= tol
    return SolverResult(x, max(max_iter, n_iter), converged, [],
                        "max|grad| <= tol" if converged else "max_iter reached")


def _acceptable(f, g, f_new, g_new, decrease) -> bool:
    """Armijo's sufficient decrease f_new ≤ f + 10⁻⁴·gᵀd·step — or, where the change of f is
    within its rounding (|f_new − f| ≤ 16·eps·|f|) and so says nothing, a smaller ‖g‖₁ (as
    scikit-learn's Newton line search does): near the optimum that lets Newton reach ``tol``."""
    if not math.isfinite(f_new):
        return False
    if f_new <= f + 1e-4 * decrease:
        return True
    return (abs(f_new - f) <= 16 * EPS * abs(f)
            and float(np.sum(np.abs(g_new))) < float(np.sum(np.abs(g))))


def _cg_direction(g, precondition, work=None):
    """An inexact Newton direction: CG on H·d = −g (module docstring); −g if CG gives nothing
    finite. ``work``: CG's vectors kept from one Newton step to the next (``cg.Workspace``;
    the direction returned is one of them)."""
    inverse = None
    if precondition:
        diagonal = np.asarray((yield ("hessian_diagonal",)), dtype=np.float64)
        inverse = _inverse_positive(diagonal, work)
    if work is not None and g.ndim == 1 and g.shape[0] >= COMPILED_MIN:
        # |g| (for ‖g‖₁, NumPy's sum) then −g into CG's own r: no temporaries, no copy
        b = work.get("r", g.shape[0])
        l1 = float(np.sum(np.abs(g, out=b)))
        np.negative(g, out=b)
    else:
        l1 = float(np.sum(np.abs(g)))
        b = -g
    steps, _ = yield from conjugate_gradient(
        b, rtol=min(0.5, math.sqrt(l1)), atol=0.0,
        maxiter=max(200, g.shape[0] // 10), inverse_diagonal=inverse, work=work)
    # finite iff its largest and smallest values are (no boolean temporary)
    return (steps if steps is not None and steps.size
            and math.isfinite(float(np.max(steps))) and math.isfinite(float(np.min(steps)))
            else -g)


def _inverse_positive(diagonal, work=None):
    """1/dⱼ where dⱼ > 0, else 1 (Jacobi's M⁻¹): NumPy's masked divide (three passes and two
    temporaries) below ``cg.COMPILED_MIN`` values, one compiled pass from there (the same
    division, so the same bits), into ``work``'s vector "w" when given."""
    if diagonal.ndim == 1 and diagonal.shape[0] >= COMPILED_MIN:
        from . import _sweeps

        out = None if work is None else work.get("w", diagonal.shape[0])
        return _sweeps.inverse_positive(np.ascontiguousarray(diagonal), out)
    return np.divide(1.0, diagonal, out=np.ones_like(diagonal), where=diagonal > 0)


def _cholesky_direction(H, g):
    """Solve H·d = −g by Cholesky (LAPACK's potrf/potrs, as ``scipy.linalg.cho_factor`` /
    ``cho_solve`` call them, without their wrappers' checks and copies); add a growing ridge
    when H is not positive definite."""
    potrf, potrs = _lapack(H.dtype)
    ridge = 0.0
    for _ in range(12):
        A = H if ridge == 0.0 else H + ridge * np.eye(H.shape[0])
        factor, info = potrf(A, lower=False, overwrite_a=False, clean=False)
        if info == 0:
            d, info = potrs(factor, g, lower=False)
            if info == 0 and np.all(np.isfinite(d)):
                return -d
        if ridge == 0.0:
            scale = (max(float(np.max(np.abs(np.diag(H)))), np.finfo(float).tiny) if H.size
                     else 1.0)
            ridge = scale * 1e-10
        else:
            ridge *= 100.0
    return -g


#: (potrf, potrs) per dtype, looked up once: ``get_lapack_funcs`` and the import cost ~5 us of
#: a ~20 us Cholesky step on breast_cancer (31 parameters; 8 steps a fit)
_LAPACK: dict = {}


def _lapack(dtype):
    """(potrf, potrs) for ``dtype``."""
    funcs = _LAPACK.get(dtype)
    if funcs is None:
        from scipy.linalg import lapack

        funcs = _LAPACK[dtype] = lapack.get_lapack_funcs(("potrf", "potrs"), dtype=dtype)
    return funcs
