"""L-BFGS for unconstrained problems, with L-BFGS-B's semantics (a generator: see the package).

The iteration is that of ``scipy.optimize.minimize(method="L-BFGS-B")`` without bounds, so fits
reach the same optimum in comparable iterations:

* direction d = −H·g from the last m = 10 pairs (compact form, ``_sweeps``); H₀ = γ·I with
  γ = sᵀy / yᵀy of the last pair; d = −g while no pair is stored;
* step: the Moré–Thuente line search (``linesearch.strong_wolfe``: ftol 1e-3, gtol 0.9,
  xtol 0.1, at most 50 evaluations), first trial 1/‖d‖ at the first iteration, then 1 (a run
  started from earlier pairs, ``history``, takes 1 from the start);
* a pair is stored when sᵀy > eps·(−gᵀs) (else the update is skipped, as in L-BFGS-B);
* a failed line search (or a d that is not a descent direction) drops the pairs and retries
  along −g; without pairs it ends the run (scipy's "ABNORMAL");
* stop when max|g| ≤ tol, or (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ 64·eps, or after
  max_iter iterations — counted as scipy's ``nit``, so max_iter = 0 still runs one iteration, as
  scipy (and scikit-learn's lbfgs) do. Where the last iteration also passes a convergence test,
  the run counts as converged (scipy reports the iteration limit first).

What is not scipy's: the history lives in preallocated arrays and the O(n) work is two fused,
cache-blocked sweeps (``_sweeps``), 4m + 9 vector streams per iteration against scipy's
L-BFGS-B's separate BLAS-1 loops; no ``maxfun`` limit; a non-finite start restarts from zero
(``common.start``); a non-finite trial point halves the step (``linesearch``).
"""

from __future__ import annotations

import math

import numpy as np

from . import _sweeps
from .common import EPS, FTOL, SolverResult, start
from .linesearch import ERROR, strong_wolfe

__all__ = ["CompactMemory", "TwoLoopMemory", "lbfgs"]

#: L-BFGS-B's largest step (``stpmx`` without bounds)
STPMAX = 1e10
#: pairs kept (scipy's and scikit-learn's m)
MEMORY = 10


# Compact form over the plain two-loop (TwoLoopMemory): per variable per iteration, 1 thread,
# 60 vs 89 ns at 1e6 and 35 vs 47 ns at 1e7 (4m + 9 vector streams against 8m); a tie or a few µs
# worse below 1e4 (benchmarks/solver_overhead.py, bench_solvers.LbfgsOverhead).
class CompactMemory:
    """The last k ≤ m pairs (sᵢ, yᵢ) in ring slots of S and Y (m, n), with the m × m products
    SᵀY, YᵀY (by slot) and Sᵀg, Yᵀg at the current gradient, for ``_sweeps.direction``."""

    def __init__(self, n: int, m: int):
        self.m = int(m)
        self.S = np.empty((self.m, n))
        self.Y = np.empty((self.m, n))
        self.SY = np.zeros((self.m, self.m))
        self.YY = np.zeros((self.m, self.m))
        self.sg = np.zeros(self.m)
        self.yg = np.zeros(self.m)
        self.order = np.zeros(self.m, dtype=np.int64)  # live slots, oldest first
        self.k = 0
        self.gamma = 1.0

    def reset(self) -> None:
        """Forget every pair (L-BFGS-B's "refresh the lbfgs memory")."""
        self.k = 0
        self.gamma = 1.0

    def direction(self, g, x, d, xt):
        """d = −H·g, xt = x + d; returns (gᵀd, dᵀd)."""
        return _sweeps.direction(self.S, self.Y, self.order, self.k, self.SY, self.YY, self.sg,
                                 self.yg, self.gamma, g, x, d, xt)

    def update(self, stp, d, g, g_old, sy) -> None:
        """Store s = stp·d, y = g − g_old (sᵀy = ``sy`` > 0), dropping the oldest pair when
        full; and Sᵀg, Yᵀg at the new gradient g."""
        if self.k < self.m:
            slot = self.k  # after a reset the slots fill up from 0 in order
            self.order[self.k] = slot
            self.k += 1
        else:
            slot = int(self.order[0])
            self.order[:-1] = self.order[1:].copy()
            self.order[-1] = slot
        _sweeps.dots(self.S, self.Y, self.order, self.k, slot, stp, d, g, g_old, self.SY,
                     self.YY, self.sg, self.yg)
        self.SY[slot, slot] = sy  # L-BFGS-B's sᵀy, from the line search's slopes
        self.gamma = sy / self.YY[slot, slot]

    def refresh(self, g) -> None:
        """Sᵀg, Yᵀg at a new gradient g when the update was skipped."""
        if self.k:
            _sweeps.dots(self.S, self.Y, self.order, self.k, -1, 0.0, g, g, g, self.SY,
                         self.YY, self.sg, self.yg)

    def shift_curvature(self, delta: float, n_shifted: int) -> None:
        """The pairs of an objective whose Hessian changed by δ·I on its first ``n_shifted``
        variables — an L2 penalty's new strength along a path of Cs: y ← y + δ·s there (exact
        for a quadratic term), SᵀY, YᵀY and γ recomputed. Every pair is dropped if one no longer
        has sᵀy > eps·‖s‖·‖y‖ (the data term alone is convex, so that means rounding)."""
        shifted = _shifted_pairs(self, delta, n_shifted)
        if shifted is None:
            return
        live, S, Y, _ = shifted
        self.SY[np.ix_(live, live)] = S @ Y.T  # SY[a, b] = s_a·y_b, by slot
        self.YY[np.ix_(live, live)] = Y @ Y.T
        last = live[-1]
        self.gamma = self.SY[last, last] / self.YY[last, last]


class TwoLoopMemory:
    """The same history for the plain two-loop recursion (``_sweeps.two_loop``): the yardstick
    of ``CompactMemory`` in benchmarks/solver_overhead.py and the tests."""

    def __init__(self, n: int, m: int):
        self.m = int(m)
        self.S = np.empty((self.m, n))
        self.Y = np.empty((self.m, n))
        self.rho = np.zeros(self.m)
        self.order = np.zeros(self.m, dtype=np.int64)
        self.k = 0
        self.gamma = 1.0

    def reset(self) -> None:
        self.k = 0
        self.gamma = 1.0

    def direction(self, g, x, d, xt):
        return _sweeps.two_loop(self.S, self.Y, self.order, self.k, self.rho, self.gamma, g, x,
                                d, xt)

    def update(self, stp, d, g, g_old, sy) -> None:
        if self.k < self.m:
            slot = self.k
            self.order[self.k] = slot
            self.k += 1
        else:
            slot = int(self.order[0])
            self.order[:-1] = self.order[1:].copy()
            self.order[-1] = slot
        yy = _sweeps.store_pair(self.S, self.Y, slot, stp, d, g, g_old)
        self.rho[slot] = 1.0 / sy
        self.gamma = sy / yy

    def refresh(self, g) -> None:
        pass

    def shift_curvature(self, delta: float, n_shifted: int) -> None:
        """As ``CompactMemory.shift_curvature``."""
        shifted = _shifted_pairs(self, delta, n_shifted)
        if shifted is None:
            return
        live, S, Y, sy = shifted
        self.rho[live] = 1.0 / sy
        self.gamma = sy[-1] / float(Y[-1] @ Y[-1])


def _shifted_pairs(memory, delta: float, n_shifted: int):
    """y ← y + δ·s on the first ``n_shifted`` variables of every live pair of ``memory`` (its
    ``S``, ``Y``, ``order``, ``k``): (live slots, S, Y, sᵀy) of the shifted pairs, or None when
    nothing is left to do — no pairs, δ = 0, or a pair without sᵀy > eps·‖s‖·‖y‖ after the
    shift, in which case the memory is emptied (``reset``)."""
    if not memory.k or delta == 0.0:
        return None
    live = memory.order[:memory.k]
    S, Y = memory.S[live], memory.Y[live]
    Y[:, :n_shifted] += delta * S[:, :n_shifted]
    sy = np.einsum("ij,ij->i", S, Y)
    if not np.all(sy > EPS * np.linalg.norm(S, axis=1) * np.linalg.norm(Y, axis=1)):
        memory.reset()
        return None
    memory.Y[live] = Y
    return live, S, Y, sy


def _vector(a, n: int) -> np.ndarray:
    """a as a writable, C-contiguous float64 vector (one compiled specialisation), copied only
    when it is not one already."""
    a = np.asarray(a)
    if (a.dtype != np.float64 or a.ndim != 1 or not a.flags.c_contiguous
            or not a.flags.writeable):
        a = np.array(a, dtype=np.float64, order="C").reshape(n)
    return a


def lbfgs(x0, *, tol: float, max_iter: int, memory: int = MEMORY, maxls: int = 50,
          memory_class=CompactMemory, history=None):
    """Minimise from x0 (a generator of requests; returns a ``SolverResult``). See the module
    docstring; ``memory_class`` is the history's implementation (benchmarks compare two).

    ``history``: a memory (``memory_class(n, m)``) to start from and leave the run's last pairs
    in — the pairs of an earlier run on the same data, their curvature brought to this
    objective (``shift_curvature``), as along a path of Cs. With pairs in it, the first
    direction is a quasi-Newton one and its first trial step 1, as at any later iteration.
    Measured (benchmarks/cv_vs_sklearn.py multiclass: 5 folds × 10 Cs, warm along Cs):
    135 -> 97 passes over X (86 with the later folds' first C seeded: ``fastlr._cv``)."""
    tol, max_iter = float(tol), int(max_iter)
    limit = max(max_iter, 1)  # scipy's nit: one iteration even at max_iter = 0
    x, answer, n_iter, why = yield from start(x0, "loss_grad", limit)
    if x is None:
        return SolverResult(np.array(x0, dtype=np.float64), 0, False, [], why)
    n = x.shape[0]
    x = np.array(x, dtype=np.float64)  # owned buffers: x and the trial point xt swap
    xt = np.empty(n)
    d = np.empty(n)
    f, g = float(answer[0]), _vector(answer[1], n)
    _, g_max = _sweeps.dot_amax(g, g)
    if g_max <= tol:
        return SolverResult(x, n_iter, True, [], "max|grad| <= tol")
    if n_iter >= limit:
        return SolverResult(x, n_iter, False, [], "max_iter reached")
    if history is None:
        pairs = memory_class(n, memory)
    else:
        if history.S.shape[1] != n:
            raise ValueError(f"history holds pairs of {history.S.shape[1]} variables, the "
                             f"problem has {n}")
        pairs = history
        pairs.refresh(g)  # Sᵀg, Yᵀg at this run's first gradient
    first = True  # L-BFGS-B's iter == 0: the first trial step is 1/‖d‖ (along −g, no pairs)
    while True:
        gd, dd = pairs.direction(g, x, d, xt)
        if not gd < 0.0:  # not a descent direction (or NaN): L-BFGS-B's info = -4
            if pairs.k == 0:
                return SolverResult(x, n_iter, False, [],
                                    "no descent direction: the gradient is not usable")
            pairs.reset()
            continue
        stp = min(1.0 / math.sqrt(dd), STPMAX) if first and pairs.k == 0 else 1.0
        search = strong_wolfe(f, gd, stp, stpmax=STPMAX, maxls=maxls)
        trial = next(search)
        at = 1.0  # xt = x + at·d
        while True:
            if trial != at:
                _sweeps.trial_point(x, d, trial, xt)
                at = trial
            ft, gt = yield ("loss_grad", xt)
            gt = _vector(gt, n)
            gdt, gt_max = _sweeps.dot_amax(gt, d)
            try:
                trial = search.send((ft, gdt))
            except StopIteration as done:
                stp, _, _, task, detail = done.value
                break
        if task == ERROR:  # L-BFGS-B: back to x, drop the pairs, retry along −g
            if pairs.k == 0:
                return SolverResult(x, n_iter, False, [], f"line search failed ({detail}): "
                                    "no step along −grad decreases the objective")
            pairs.reset()
            continue
        n_iter += 1
        first = False
        f_old, g_old = f, g
        x, xt = xt, x
        f, g = float(ft), gt
        yield ("iteration", x, f, g)
        if gt_max <= tol:
            return SolverResult(x, n_iter, True, [], "max|grad| <= tol")
        if f_old - f <= FTOL * max(abs(f_old), abs(f), 1.0):
            return SolverResult(x, n_iter, True, [],
                                "relative decrease of the objective <= 64·eps")
        if n_iter >= limit:
            return SolverResult(x, n_iter, False, [], "max_iter reached")
        sy = (gdt - gd) * stp  # sᵀy, as L-BFGS-B computes it
        if sy <= EPS * (-gd * stp):
            pairs.refresh(g)  # L-BFGS-B skips the update
        else:
            pairs.update(stp, d, g, g_old, sy)


lbfgs.NEEDS = frozenset()
