"""What every solver shares: the result type, the stopping constants, a finite start."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["EPS", "FTOL", "SolverResult", "finite", "gmax", "start"]

EPS = float(np.finfo(np.float64).eps)
#: L-BFGS's relative-decrease test (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ FTOL: scipy's
#: ``ftol`` as scikit-learn sets it (factr = 64)
FTOL = 64 * EPS


@dataclass
class SolverResult:
    """What a solver returns: the final point, iterations done, and the learning curve."""

    x: np.ndarray
    n_iter: int
    converged: bool
    #: objective after each iteration, starting with the objective at x0 (filled by the driver)
    loss_history: list = field(default_factory=list)
    message: str = ""


def gmax(g) -> float:
    """max|g| (0 for an empty g); NaN when g holds a NaN. As max(max g, −min g): two reads of g
    and no temporary, the same value as max(|g|) (2·10⁶ values: 1.2 ms against 1.8 ms, and
    the 16 MB temporary's page faults in a fit)."""
    if not g.size:
        return 0.0
    hi = float(np.max(g))
    return hi if hi != hi else max(hi, -float(np.min(g))) + 0.0


def finite(f, g) -> bool:
    """Whether the objective and its gradient are finite."""
    return math.isfinite(f) and math.isfinite(gmax(g))


def start(x0, kind: str, max_iter: int, report=None):
    """Evaluate ``kind`` at x0 (a sub-generator: ``yield from``); returns (x, answer, n_iter,
    message).

    A non-finite objective or gradient at x0 (a warm start whose margins overflow) never counts
    as a point to converge at: with an iteration to spare, the solver restarts from x = 0 (the
    model with every coefficient zero, finite for the objectives fastlr fits) and that restart
    is its first iteration. When zero is no better, x is None: the caller reports failure.
    ``report(x, answer) -> (f, g)``: what the "iteration" events say (proximal solvers: the whole
    objective and the minimal subgradient); by default the answer's own f and g.
    """
    report = report or (lambda x, answer: (answer[0], answer[1]))
    answer = yield (kind, x0)
    yield ("iteration", x0, *report(x0, answer))
    if finite(answer[0], answer[1]):
        return x0, answer, 0, ""
    if max_iter < 1:
        return None, answer, 0, ("the objective or its gradient is not finite at the starting "
                                 "point (max_iter=0: no restart from zero)")
    zero = np.zeros_like(x0)
    restarted = yield (kind, zero)
    if not finite(restarted[0], restarted[1]):
        return None, answer, 0, ("the objective or its gradient is not finite at the starting "
                                 "point, nor at zero")
    yield ("iteration", zero, *report(zero, restarted))
    return zero, restarted, 1, ""


#: what a proximal solver evaluates: the smooth part's loss and gradient
SMOOTH = "smooth_loss_grad"


def start_proximal(x0, max_iter: int, proximal):
    """:func:`start` for a proximal solver (a sub-generator): evaluates the smooth part at x0
    and reports F = smooth + ``proximal.value`` with the minimal subgradient
    (``proximal.subgradient``); returns (x, (smooth value, smooth gradient), n_iter, message)."""
    def report(x, answer):
        return answer[0] + proximal.value(x), proximal.subgradient(x, answer[1])

    return (yield from start(np.asarray(x0, dtype=np.float64), SMOOTH, max_iter, report))


def finish_proximal(x, n_iter: int, smooth_value: float, g, proximal, tol: float, message: str):
    """A proximal solver's result at x: converged when the minimal subgradient distance
    (``proximal.subgradient(x, g)``, g the smooth gradient) is within tol and the objective finite."""
    converged = gmax(proximal.subgradient(x, g)) <= tol and math.isfinite(smooth_value)
    return SolverResult(x, n_iter, converged, [],
                        "max subgradient distance <= tol" if converged else message)
