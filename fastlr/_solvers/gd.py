"""Batch gradient descent, the course slides' algorithm (a generator: see the package)."""

from __future__ import annotations

import math

import numpy as np

from .common import SolverResult, gmax, start

__all__ = ["gd"]


def gd(x0, *, tol: float, max_iter: int, learning_rate: float):
    """x := x − α·g with a fixed α = ``learning_rate`` until max|g| ≤ tol or max_iter steps.

    A step to a non-finite objective (α too large) ends the run at the last finite point: a
    model never holds inf or NaN coefficients.
    """
    tol, max_iter, alpha = float(tol), int(max_iter), float(learning_rate)
    x, (f, g), n_iter, why = yield from start(x0, "loss_grad", max_iter)
    if x is None:
        return SolverResult(np.array(x0, dtype=np.float64), 0, False, [], why)
    for it in range(n_iter + 1, max_iter + 1):
        if gmax(g) <= tol:
            return SolverResult(x, it - 1, True, [], "max|grad| <= tol")
        x_new = x - alpha * g
        f, g = yield ("loss_grad", x_new)
        if not math.isfinite(f) or not np.all(np.isfinite(x_new)):
            return SolverResult(x, it - 1, False, [],
                                "objective is not finite: learning_rate is too large")
        x = x_new
        yield ("iteration", x, f, g)
    converged = gmax(g) <= tol
    return SolverResult(x, max(max_iter, n_iter), converged, [],
                        "max|grad| <= tol" if converged else "max_iter reached")


gd.NEEDS = frozenset()
