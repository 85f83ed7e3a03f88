"""Class-by-class proximal Newton: multinomial L1 and elastic-net problems in memory (CSR).

Problem: f(θ) = s(θ) + α‖W‖₁, s the mean softmax loss plus ½λ₂‖W‖², θ = [W (K·n, class by
class), b (K)], the intercepts unpenalised. The softmax's Hessian couples the classes
(H_{kl} = Σᵢ sᵢ·(pᵢₖδₖₗ − pᵢₖpᵢₗ)·xᵢxᵢᵀ/S); this solver keeps only its diagonal blocks, one
class at a time (block Gauss-Seidel over the classes):

Outer loop (one full pass over X, a ``smooth_loss_grad`` request): the minimal subgradient of
every coefficient; stop when max|∂| ≤ tol. Else one working set per class, chosen as the binary
solver chooses it (``prox_newton``: class k's support and its largest violations, GROWTH × the
support, at least P0), its columns gathered into X_k (CSR: ``_cd.csr_select_classes``, all
classes in two passes over X's entries; dense: a copy).

Inner loop (each sweep over the classes is a counted iteration): for class k, at the current
margins Z (n × K, kept up to date) and probabilities P, r = s·(P_k − Y_k)/S, h = s·P_k(1 − P_k)/S;
the gradient X̃_kᵀr (+ λ₂u) and Gram X̃_kᵀ·diag(h)·X̃_k (+ λ₂I), X̃_k = [X_k, 1], give the
diagonal-block quadratic model, minimised with the L1 prox by coordinate descent
(``_cd.cd_quadratic``); then a backtracking (Armijo) line search on the full objective along
class k's margins (``_cd.softmax_line``: O(n·K) per trial), and P is recomputed before the next
class. A sweep in which no class violates the working set's tolerance (``INNER_RATIO`` × the
outer violation) ends the inner loop.

Why the diagonal blocks rather than the full Hessian on CSR: the full model's Gram over a
working set of m columns and K classes holds (m·K)² entries, K² times the blocks' K·m², for the
same n·K² passes; on text the blocks are what the binary solver already handles well (the CSR
Gram in tiles, working sets growing 4× per outer iteration). The price is the classes'
coupling: a block step does not see how moving class k moves the others' probabilities, so a
sweep converges linearly in the coupling; on text it still takes few outer iterations
(``fastlr._fit._l1_solver``'s figures). Tried and not kept: one joint Newton step on the K
intercepts (their K × K Hessian) after each sweep — fewer sweeps (text CSR 20,000 × 20,000, 10
classes, 0.1 λ_max: 6 against 9) but no faster at equal optimum (0.44 against 0.41 s at 0.1
λ_max, 0.80 against 0.88 s at 0.01 λ_max, 1 thread, load ~2-4). On dense X it is slow (the
coupling costs tens of sweeps): dense multinomial fits run ``fastlr._fit.DENSE_MULTINOMIAL_L1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _cd
from .common import EPS, SMOOTH, SolverResult, gmax, start_proximal
from .prox_newton import (ARMIJO, CD_RATIO, GROWTH, GROWTH_SPARSE, INNER_RATIO, MAX_BACKTRACKS,
                          MAX_EPOCHS, MAX_INNER, P0, _Columns, _gram, proximal_subgradient)

__all__ = ["SoftmaxProblem", "prox_newton_softmax"]


@dataclass
class SoftmaxProblem:
    """A multinomial problem in memory: X (dense or CSR), y the class indices (int64, 0..K−1),
    weights s (empty: all 1), S = Σ s, K, the L1 and L2 strengths of W (α, λ₂), and whether
    there are intercepts."""

    X: object
    y: np.ndarray
    s: np.ndarray
    S: float
    K: int
    alpha: float
    lam: float
    fit_intercept: bool


def _select(X, sets):
    """X[:, ws] as float64 for each class's working set ws of ``sets``: CSR with sorted rows
    (all classes from two passes over X's entries, ``_cd.csr_select_classes``, rather than a
    pass per class: text CSR 20,000 x 20,000, 10 random working sets of 40 / 640 / 2,500
    columns, 1 thread, load ~5, best of 5: 11 / 17 / 42 ms against 15 / 27 / 42 ms), or dense
    copies."""
    if not hasattr(X, "tocsr"):
        return [_Columns(X, limit=0)(ws) for ws in sets]
    import scipy.sparse as sp

    K = len(sets)
    position = np.full((X.shape[1], K), -1, dtype=np.int32)
    for c, ws in enumerate(sets):
        position[ws, c] = np.arange(ws.size)
    ptr, idx, val, off = _cd.csr_select_classes(X.indptr, X.indices, X.data, position)
    blocks = []
    for c, ws in enumerate(sets):
        Xw = sp.csr_matrix((val[off[c]:off[c + 1]], idx[off[c]:off[c + 1]], ptr[c]),
                           shape=(X.shape[0], ws.size))
        if not X.has_sorted_indices:  # csr_gram takes sorted rows; ws is sorted
            Xw.sort_indices()
        blocks.append(Xw)
    return blocks


def working_set(sub, x_k, growth):
    """Class k's working set (sorted feature indices): its support, then its largest |∂| — only
    features that violate (|∂| > 0): at most GROWTH × the support, at least P0 where there are
    so many. A class's |∂| is mostly 0 (|gⱼ| ≤ α at wⱼ = 0), so the partial sort runs over the
    violators only, not all n features (it was the solver's largest item in Python at 0.1
    λ_max on text: 30 partial sorts of 20,000 per fit)."""
    n = sub.shape[0]
    support = np.flatnonzero(x_k)
    size = min(n, max(P0, growth * support.size))
    score = np.abs(sub)
    score[support] = np.inf
    candidates = np.flatnonzero(score)
    if candidates.size > size:
        top = np.argpartition(score[candidates], candidates.size - size)[candidates.size - size:]
        candidates = candidates[top]
    return np.sort(candidates)


def prox_newton_softmax(x0, *, tol: float, max_iter: int, problem: SoftmaxProblem, proximal):
    """Class-by-class proximal Newton (module docstring) from x0 = [W, b]; ``proximal`` is the
    problem's ``Objective.proximal(0)`` (the outer stopping rule and the events use it)."""
    tol, max_iter = float(tol), int(max_iter)
    P_ = problem
    K = int(P_.K)
    n = P_.X.shape[1]
    m_samples = P_.X.shape[0]
    fi = P_.fit_intercept
    kind = SMOOTH
    x, (s_val, g), n_iter, why = yield from start_proximal(x0, max_iter, proximal)
    if x is None:
        return SolverResult(np.array(x0, dtype=np.float64), 0, False, [], why)
    x = x.copy()
    growth = GROWTH_SPARSE if hasattr(P_.X, "tocsr") else GROWTH
    y = np.asarray(P_.y, dtype=np.int64)
    s = P_.s
    unit = s.shape[0] == 0
    weight = np.full(m_samples, 1.0 / P_.S) if unit else s / P_.S
    Pr = np.empty((m_samples, K))
    r = np.empty(m_samples)
    h = np.empty(m_samples)
    sub = np.empty_like(x)
    it = n_iter
    message = "max_iter reached"

    def penalty(u, alpha, ridge):
        return 0.5 * float(ridge @ (u * u)) + _cd.l1_norm(alpha, u)

    while True:
        # the minimal subgradient (``proximal.subgradient``'s, compiled: 20 ms in NumPy at
        # 500,000 parameters)
        violation = _cd.l1_subgradient(x, g, float(P_.alpha), K * n, sub)
        F = s_val + proximal.value(x)
        if violation <= tol and math.isfinite(F):
            return SolverResult(x, it, True, [], "max subgradient distance <= tol")
        if it >= max_iter:
            break
        # ---- one working set per class, its columns gathered once for all its steps
        sets = [working_set(sub[k * n:(k + 1) * n], x[k * n:(k + 1) * n], growth)
                for k in range(K)]
        blocks = _select(P_.X, sets)
        W = x[:K * n].reshape(K, n)
        Z = np.empty((m_samples, K))
        for k in range(K):
            Z[:, k] = np.asarray(blocks[k] @ W[k, sets[k]]).ravel()
        if fi:
            Z += x[K * n:]
        data = _cd.softmax_terms(Z, y, s, P_.S, Pr)
        tol_in = max(INNER_RATIO * violation, 0.5 * tol)
        progress = False
        sub_event = sub.copy()  # x and g change on the working sets only
        for _ in range(MAX_INNER):
            worst = 0.0
            stepped = False
            for k in range(K):
                ws, Xw = sets[k], blocks[k]
                m = ws.size
                cols = k * n + ws
                u = np.concatenate([x[cols], x[K * n + k:K * n + k + 1]]) if fi else x[cols]
                alpha = np.full(u.shape[0], P_.alpha)
                ridge = np.full(u.shape[0], P_.lam)
                if fi:
                    alpha[m] = ridge[m] = 0.0
                r_sum = _cd.softmax_class_terms(Pr, k, y, weight, r, h)
                gu = np.asarray(Xw.T @ r).ravel()
                if fi:
                    gu = np.append(gu, r_sum)
                gu += ridge * u
                sub_ws = proximal_subgradient(u, gu, alpha)
                sub_event[cols] = sub_ws[:m]
                if fi:
                    sub_event[K * n + k] = sub_ws[m]
                viol_k = gmax(sub_ws)
                worst = max(worst, viol_k)
                if viol_k <= tol_in:
                    continue
                H = _gram(Xw, h, fi)
                H[np.diag_indices_from(H)] += ridge
                delta = np.zeros_like(u)
                _cd.cd_quadratic(H, gu, u, alpha, max(CD_RATIO * viol_k, 0.1 * tol),
                                 MAX_EPOCHS, delta)
                if not np.any(delta):
                    continue
                dz = np.asarray(Xw @ delta[:m]).ravel() + (delta[m] if fi else 0.0)
                rows = np.flatnonzero(dz)
                pen0 = penalty(u, alpha, ridge)
                decrease = (float(gu @ delta) + _cd.l1_norm(alpha, u + delta)
                            - _cd.l1_norm(alpha, u))
                slack = 4 * EPS * max(abs(data + pen0), 1.0)
                t, accepted = 1.0, False
                for _ in range(MAX_BACKTRACKS):
                    v = u + t * delta
                    change = (_cd.softmax_line(Pr, k, dz, rows, t, y, s, P_.S)
                              + penalty(v, alpha, ridge) - pen0)
                    if change <= ARMIJO * t * decrease + slack:
                        accepted = True
                        break
                    t *= 0.5
                if not accepted:
                    continue
                x[cols] = v[:m]
                if fi:
                    x[K * n + k] = v[m]
                _cd.softmax_move(Z, Pr, k, dz, rows, t)
                data += change - (penalty(v, alpha, ridge) - pen0)
                stepped = True
            if stepped:
                it += 1
                progress = True
                F_now = data + proximal.value(x)
                if P_.lam:
                    F_now += 0.5 * P_.lam * float(x[:K * n] @ x[:K * n])
                # x uncopied: the driver copies it for a callback and keeps only F
                yield ("iteration", x, F_now, sub_event.copy())
            if worst <= tol_in or not stepped or it >= max_iter:
                break
        if not progress:
            # no step on these working sets (they hold the largest violations): their optimum
            # is reached as far as rounding allows
            message = "no decrease on the working sets (rounding): tol below precision?"
            break
        s_val, g = yield (kind, x.copy())
    converged = _cd.l1_subgradient(x, g, float(P_.alpha), K * n, sub) <= tol and \
        math.isfinite(s_val)
    return SolverResult(x, it, converged, [],
                        "max subgradient distance <= tol" if converged else message)


prox_newton_softmax.NEEDS = frozenset()
