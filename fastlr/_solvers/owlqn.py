"""OWL-QN: L-BFGS for an L1-penalised objective (Andrew & Gao 2007), a generator.

Minimises f(x) = s(x) + h(x), s smooth (``smooth_loss_grad``), h = Σⱼ αⱼ|xⱼ| the L1 part
reached through a ``Proximal`` (``fastlr._objective``). Within an orthant (the signs of x fixed)
f is smooth, and L-BFGS's quasi-Newton model of s applies; OWL-QN keeps every step in one:

* the pseudo-gradient ◇f(x) — the minimal subgradient of f at x (``proximal.subgradient``: 0 at
  the optimum; its max|·| is the stopping rule, as for FISTA);
* d = −H·◇f from the last m pairs sᵢ = x_{i+1} − xᵢ, yᵢ = ∇s(x_{i+1}) − ∇s(xᵢ) (smooth
  gradients: the L1 part has no curvature), H₀ = γ·I as in L-BFGS; then dⱼ = 0 where dⱼ does not
  point the way of −◇fⱼ (so d is a descent direction of f);
* trial points x + t·d projected on the orthant ξ (ξⱼ = sign xⱼ, or sign(−◇fⱼ) where xⱼ = 0):
  a penalised coordinate that would change sign is set to 0 — that is how coordinates reach
  exactly 0 and the model stays sparse; unpenalised ones (the intercept) move freely;
* backtracking (t halved) until f(x_t) ≤ f(x) − c·◇f·(x_t − x), c = 1e-4; t = 1 first, 1/‖d‖
  while no pair is stored;
* stop when max|◇f| ≤ tol or after max_iter iterations. Where the line search finds no step
  that decreases f by more than L-BFGS's 64·eps relative, the pairs are dropped and it searches
  again along −◇f; stalled there too, the rest of the run is FISTA's proximal steps from that
  point (``fista.iterate``).
  Orthant steps can stall short of a tight tol: multinomial elastic net 200 × 10, 3 classes,
  tol 1e-10 sat at max|◇f| = 3e-10 from its 30th iteration to max_iter (FISTA alone: 46
  iterations).

Each iteration costs one ``smooth_loss_grad`` request per trial (about one: t = 1 is taken
nearly always once pairs are stored), against FISTA's two or more. The history is the plain
two-loop memory (``lbfgs.TwoLoopMemory``): the compact form's Sᵀg, Yᵀg would be those of the
smooth gradient, and the direction needs them of ◇f.
"""

from __future__ import annotations

import math

import numpy as np

from .common import EPS, FTOL, SMOOTH, SolverResult, gmax, start_proximal
from . import fista as _fista
from .lbfgs import MEMORY, TwoLoopMemory

__all__ = ["owlqn"]

#: sufficient decrease of the backtracking (Andrew & Gao's γ)
DECREASE = 1e-4
#: halvings of the step before the search gives up along this direction
MAX_BACKTRACKS = 40


def owlqn(x0, *, tol: float, max_iter: int, proximal, memory: int = MEMORY):
    """OWL-QN (module docstring) from x0 for the problem whose L1 part is ``proximal``."""
    tol, max_iter = float(tol), int(max_iter)
    x, (s, g), n_iter, why = yield from start_proximal(x0, max_iter, proximal)
    if x is None:
        return SolverResult(np.array(x0, dtype=np.float64), 0, False, [], why)
    x = np.array(x, dtype=np.float64)
    n = x.shape[0]
    penalised = proximal.penalised()
    F = s + proximal.value(x)
    history = TwoLoopMemory(n, memory)
    d, xt = np.empty(n), np.empty(n)
    for it in range(n_iter + 1, max_iter + 1):
        pg = np.ascontiguousarray(proximal.subgradient(x, g), dtype=np.float64)
        if gmax(pg) <= tol and math.isfinite(F):
            return SolverResult(x, it - 1, True, [], "max subgradient distance <= tol")
        step = yield from _line_search(proximal, history, penalised, x, F, pg, d, xt)
        if _stalled(F, step) and history.k:  # no decrease along H's direction: along −◇f
            history.reset()
            step = yield from _line_search(proximal, history, penalised, x, F, pg, d, xt)
        if _stalled(F, step):  # nor along −◇f: FISTA's proximal steps from here
            return (yield from _fista.iterate(x, s, g, it - 1, tol=tol, max_iter=max_iter,
                                              proximal=proximal))
        x_new, s_new, g_new, F_new = step
        sv = x_new - x
        yv = np.asarray(g_new, dtype=np.float64) - g
        sy = float(sv @ yv)
        if sy > EPS * float(np.linalg.norm(sv) * np.linalg.norm(yv)):
            history.update(1.0, np.ascontiguousarray(sv), np.ascontiguousarray(g_new,
                           dtype=np.float64), np.ascontiguousarray(g), sy)
        x, s, g, F = x_new, s_new, np.asarray(g_new, dtype=np.float64), F_new
        yield ("iteration", x, F, proximal.subgradient(x, g))
    converged = gmax(proximal.subgradient(x, g)) <= tol and math.isfinite(F)
    return SolverResult(x, max(max_iter, n_iter), converged, [],
                        "max subgradient distance <= tol" if converged else "max_iter reached")


def _stalled(F, step) -> bool:
    """Whether a line search found no step, or one that decreases f by no more than L-BFGS's
    relative 64·eps."""
    return step is None or F - step[3] <= FTOL * max(abs(F), abs(step[3]), 1.0)


def _line_search(proximal, history, penalised, x, F, pg, d, xt):
    """The projected backtracking of one iteration (module docstring), a sub-generator:
    (x_t, s(x_t), ∇s(x_t), f(x_t)) of the accepted trial, or None."""
    history.direction(pg, x, d, xt)  # d = −H·◇f
    d[d * pg >= 0.0] = 0.0  # keep dⱼ only where it descends along −◇fⱼ
    dd = float(d @ d)
    if not (dd > 0.0 and math.isfinite(dd)):
        return None
    orthant = np.where(x != 0.0, np.sign(x), -np.sign(pg))
    t = 1.0 if history.k else 1.0 / math.sqrt(dd)
    for _ in range(MAX_BACKTRACKS):
        trial = x + t * d
        trial[penalised & (np.sign(trial) != orthant)] = 0.0
        s_t, g_t = yield (SMOOTH, trial)
        F_t = s_t + proximal.value(trial)
        if math.isfinite(F_t) and F_t <= F - DECREASE * float(pg @ (trial - x)) \
                and F_t <= F:
            return trial, s_t, g_t, F_t
        t *= 0.5
    return None


owlqn.NEEDS = frozenset()
