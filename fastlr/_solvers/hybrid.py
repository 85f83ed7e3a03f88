"""L-BFGS, then Newton-CG where L-BFGS is slow: the default of large dense fits
(``solver="auto"``; small ones run Newton-Cholesky, sparse ones Newton-CG: ``fastlr._fit``).

Well-conditioned problems — standardised columns, a penalty that dominates — are solved by
L-BFGS in a handful of iterations, each one pass over X, and a Newton method would cost more
(a Hessian or a dozen H·v passes per step). Badly conditioned ones — columns on scales from
1e-3 to 1e3, as scikit-learn's breast_cancer, wine and digits come, correlated columns, a weak
penalty — take L-BFGS thousands of iterations and stop at max_iter = 100 far from the optimum
(the ConvergenceWarning that scikit-learn users know best), where Newton takes 7–9.

``lbfgs_then_newton`` runs L-BFGS for at most ``SWITCH_AFTER`` iterations and, if it has not
converged by then, continues with Newton-CG from where L-BFGS stopped, within the
same ``max_iter``: n_iter counts the iterations of both. No diagnostic pass is spent up front and
an easy problem pays nothing. Measured (fastlr, 2 threads, tol = 1e-4, max_iter = 100; lbfgs /
newton-cg alone; benchmarks/fit_vs_sklearn.py --cases illcond): 100,000 x 50 with column
scales 1e-3..1e3, C = 100: lbfgs stops at 100 iterations with the objective 3.6x the optimum,
newton-cg converges in 8 (0.22 s); dense Gaussian 100,000 x 200 lbfgs 0.50 s in 3 iterations against newton-cg 1.01 s, 200,000 x 20
0.24 against 0.27 s — easy problems stay on L-BFGS, which is why it goes first.

Why 20: the well-scaled dense fits of the benchmarks converge in 3–16 L-BFGS iterations; a
problem that needs more than 20 is one on which a Newton step (worth ~10–20 passes) pays.
"""

from __future__ import annotations

from dataclasses import replace

from .lbfgs import lbfgs
from .newton import newton, newton_cg

__all__ = ["SWITCH_AFTER", "lbfgs_then_newton", "lbfgs_then_newton_cg"]

#: L-BFGS iterations before the switch to Newton (module docstring)
SWITCH_AFTER = 20


def lbfgs_then_newton(x0, *, tol: float, max_iter: int, cholesky: bool = False,
                      precondition: bool = False, switch_after: int = SWITCH_AFTER):
    """L-BFGS for up to ``switch_after`` iterations, then Newton — Cholesky steps when
    ``cholesky``, else CG steps (``precondition``: Jacobi, when the objective has "diagonal")
    — from the last L-BFGS iterate, for the rest of ``max_iter`` (module docstring)."""
    tol, max_iter = float(tol), int(max_iter)
    first = yield from lbfgs(x0, tol=tol, max_iter=min(max_iter, switch_after))
    if first.converged or first.n_iter >= max_iter or first.n_iter == 0:
        return first  # done, out of iterations, or no finite start: Newton would do no better
    if cholesky:
        second = newton(first.x, tol=tol, max_iter=max_iter - first.n_iter)
    else:
        second = newton_cg(first.x, tol=tol, max_iter=max_iter - first.n_iter,
                           precondition=precondition)
    result = yield from _after_its_start(second)
    return replace(result, n_iter=first.n_iter + result.n_iter,
                   message=f"{result.message} (after {first.n_iter} L-BFGS iterations: "
                           f"{first.message})")


def _after_its_start(solver):
    """Run ``solver``, leaving out its first "iteration" event: its starting point, which the
    L-BFGS run already reported as its last iterate."""
    answer, skipped = None, False
    try:
        while True:
            try:
                request = solver.send(answer)
            except StopIteration as done:
                return done.value
            if request[0] == "iteration" and not skipped:
                skipped, answer = True, None
                continue
            answer = yield request
    finally:
        solver.close()


def lbfgs_then_newton_cg(x0, *, tol: float, max_iter: int, precondition: bool = False):
    """``lbfgs_then_newton`` with CG steps (solver "lbfgs+newton-cg")."""
    return (yield from lbfgs_then_newton(x0, tol=tol, max_iter=max_iter,
                                         precondition=precondition))


lbfgs_then_newton_cg.NEEDS = newton_cg.NEEDS
