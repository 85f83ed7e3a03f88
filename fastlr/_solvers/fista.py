"""FISTA with backtracking and adaptive restart: the proximal first-order solver (a generator).

Minimises f(x) = s(x) + h(x), s smooth (``smooth_loss_grad``: the data term and the L2 part of
the penalty), h the L1 part, reached through a ``Proximal`` (``fastlr._objective``): its value,
prox and minimal subgradient. It needs nothing of the objective but the fused loss and gradient,
so it runs every model (binary, multinomial, one-vs-rest batch) on every backend (in memory, on
Dask) — the fallback of the L1 solvers (Beck & Teboulle 2009, FISTA with backtracking):

    z   = prox_{h/L}(y − ∇s(y)/L),   L doubled until s(z) ≤ s(y) + ∇s(y)ᵀd + ½L‖d‖², d = z − y
    t⁺  = (1 + √(1 + 4t²))/2,        y⁺ = z + (t − 1)/t⁺·(z − x),   x⁺ = z

* L starts at 1 and is multiplied by 0.7 before each step (an estimate that only grows costs
  passes for the whole fit once the iterates reach flatter regions); the step is also accepted
  when (∇s(z) − ∇s(y))ᵀd ≤ L‖d‖² — the curvature form of the same test, free of the
  cancellation in s(z) − s(y) near the optimum.
* Restart (O'Donoghue & Candès 2015): a step that raises f resets the momentum (t = 1) and is
  taken again from x, so f decreases monotonically.
* Stops when max|∂| ≤ tol, ∂ the minimal subgradient of f at x (the distance of −∇s(x) to
  ∂h(x): 0 at the optimum), never at a non-finite objective; the "iteration" events report f and
  that subgradient (so ``verbose``'s max|grad| is the stopping quantity).

Each iteration costs one pass at z, plus one at y unless the momentum is 0, plus one per
backtracking doubling.
"""

from __future__ import annotations

import math

import numpy as np

from .common import SMOOTH, SolverResult, gmax, start_proximal

__all__ = ["fista"]

#: doublings of L in one step before giving up (L = 2⁶⁰ · the estimate)
MAX_BACKTRACKS = 60
#: L's decrease before each step
SHRINK = 0.7


def fista(x0, *, tol: float, max_iter: int, proximal):
    """FISTA (module docstring) from x0 for the problem whose non-smooth part is ``proximal``."""
    tol, max_iter = float(tol), int(max_iter)
    x, (s, g), n_iter, why = yield from start_proximal(x0, max_iter, proximal)
    if x is None:
        return SolverResult(np.array(x0, dtype=np.float64), 0, False, [], why)
    return (yield from iterate(x, s, g, n_iter, tol=tol, max_iter=max_iter, proximal=proximal))


def iterate(x, s, g, n_iter: int, *, tol: float, max_iter: int, proximal):
    """FISTA's iterations n_iter + 1 … max_iter from x, already evaluated (s(x), ∇s(x) = g), with
    no momentum and L = 1 (a sub-generator: OWL-QN hands over to it where its steps stall)."""
    kind = SMOOTH
    F = s + proximal.value(x)
    y, s_y, g_y = x, s, g
    t, L = 1.0, 1.0
    for it in range(n_iter + 1, max_iter + 1):
        if gmax(proximal.subgradient(x, g)) <= tol and math.isfinite(F):
            return SolverResult(x, it - 1, True, [], "max subgradient distance <= tol")
        L *= SHRINK
        step = yield from _backtracked_step(proximal, kind, y, s_y, g_y, L)
        if step is None:
            return SolverResult(x, it - 1, False, [],
                                "the backtracking found no step with a finite objective")
        z, s_z, g_z, dd, L = step
        F_z = s_z + proximal.value(z)
        if not (F_z <= F) and y is not x:
            # restart: momentum off, the same step again from x
            t, y, s_y, g_y = 1.0, x, s, g
            step = yield from _backtracked_step(proximal, kind, x, s, g, L)
            if step is None:
                return SolverResult(x, it - 1, False, [],
                                    "the backtracking found no step with a finite objective")
            z, s_z, g_z, dd, L = step
            F_z = s_z + proximal.value(z)
        if dd == 0.0:  # the prox-gradient step is x itself: a fixed point, x is optimal
            x, s, g, F = z, s_z, g_z, F_z
            yield ("iteration", x, F, proximal.subgradient(x, g))
            converged = math.isfinite(F)
            return SolverResult(x, it, converged, [], "the proximal step is zero")
        x_prev = x
        x, s, g, F = z, s_z, g_z, F_z
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        t = t_next
        if beta > 0.0:
            y = x + beta * (x - x_prev)
            s_y, g_y = yield (kind, y)
            if not math.isfinite(s_y):  # extrapolated too far: drop the momentum
                t, y, s_y, g_y = 1.0, x, s, g
        else:
            y, s_y, g_y = x, s, g
        yield ("iteration", x, F, proximal.subgradient(x, g))
    converged = gmax(proximal.subgradient(x, g)) <= tol and math.isfinite(F)
    return SolverResult(x, max(max_iter, n_iter), converged, [],
                        "max subgradient distance <= tol" if converged else "max_iter reached")


def _backtracked_step(proximal, kind, y, s_y, g_y, L):
    """z = prox_{h/L}(y − ∇s(y)/L) with L doubled until the step passes the sufficient-decrease
    test (module docstring): (z, s(z), ∇s(z), ‖z − y‖², L), or None when no step within
    ``MAX_BACKTRACKS`` doublings has a finite objective (a sub-generator of requests)."""
    for _ in range(MAX_BACKTRACKS):
        z = proximal.prox(y - g_y / L, 1.0 / L)
        d = z - y
        dd = float(d @ d)
        s_z, g_z = yield (kind, z)
        if math.isfinite(s_z) and (s_z <= s_y + float(g_y @ d) + 0.5 * L * dd
                                   or float((g_z - g_y) @ d) <= L * dd):
            return z, s_z, g_z, dd, L
        L *= 2.0
    return None


fista.NEEDS = frozenset()
