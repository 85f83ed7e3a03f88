"""Proximal Newton on the full softmax Hessian: multinomial L1 and elastic-net problems, dense X.

Problem: f(θ) = s(θ) + α‖W‖₁ as in ``prox_newton_softmax`` (θ = [W (K·n, class by class), b]).
The softmax Hessian is a sum of Kronecker products, H = Σᵢ sᵢ(diag pᵢ − pᵢpᵢᵀ) ⊗ xᵢxᵢᵀ/S: its
coupling across classes is strong (pᵢpᵢᵀ), across features it is what XᵀX makes it. This solver
keeps all of H and runs coordinate descent over features, each step a K-vector (feature j's
coefficients of every class) against the exact K × K block Aⱼ = Σᵢ sᵢxᵢⱼ²(diag pᵢ − pᵢpᵢᵀ)/S
(``_cd.cd_kron``); the cross-feature terms of H·Δ come from the margins' change dZ = X̃Δ, kept
up to date as H's action on it (column access, O(n·K) per feature visit). The class-by-class solver sees only H's
diagonal blocks per class and converges linearly in the classes' coupling.

Outer loop (one full pass over X, a ``smooth_loss_grad`` request): stop when the minimal
subgradient's max|∂| ≤ tol; else a working set of features shared by the classes — the features
with a nonzero coefficient in any class, then those of largest maxₖ|∂ⱼₖ|, GROWTH × the support
(at least P0) — its columns gathered into an F-ordered copy, with a column of ones for the
intercepts (kept while the working set stays the same).

Inner loop on the working set (each a counted iteration): at the margins Z (n × K) and
probabilities P, the gradient G = X̃ᵀ·s(P − Y)/S (+ λW), the blocks Aⱼ from one BLAS product
of the squared columns, (X²)ᵀ·(s·PₖPₗ/S) over the class pairs k < l (``_blocks``:
n·|ws|·K(K − 1)/2 multiply-adds), ``_cd.cd_kron`` for the step Δ, then a backtracking (Armijo) line search on the
full objective along dZ (``_cd.softmax_line_all``: the loss's change from P, O(n·K) exps per
trial). The inner loop ends when the working set's max|∂| is below ``INNER_RATIO`` × the outer
one.

Not the default of any fit: on dense X ``fastlr._fit.DENSE_MULTINOMIAL_L1`` (FISTA) was measured
faster — its passes are BLAS-bound while these CD epochs read n·K values per feature visit
(the figures are there). CSR goes to the class-by-class solver.
"""

from __future__ import annotations

import math

import numpy as np

from . import _cd
from .common import EPS, SMOOTH, SolverResult, finish_proximal, gmax, start_proximal
from .prox_newton import (ARMIJO, GROWTH, INNER_RATIO, MAX_BACKTRACKS, MAX_INNER, P0,
                          proximal_subgradient)
from .prox_newton_softmax import SoftmaxProblem

__all__ = ["KRON_CD_RATIO", "SoftmaxProblem", "prox_newton_kron"]

#: the CD solves the Newton model to KRON_CD_RATIO × the working set's violation: its epochs
#: cost column passes (not a Gram's O(|ws|²)), so a looser solve than ``prox_newton``'s pays
KRON_CD_RATIO = 0.05
MAX_EPOCHS = 200


def _blocks(X2, WP, P):
    """A (q, K, K): Aⱼ = Σᵢ x²ᵢⱼ·(diag WPᵢ − WPᵢPᵢᵀ) for the squared columns X2 (m, q).

    One BLAS product over the class pairs k < l, Oⱼ,ₖₗ = Σᵢ x²ᵢⱼ·WPᵢₖPᵢₗ (WPᵢₖPᵢₗ = WPᵢₗPᵢₖ:
    WP is P times a per-row weight), gives every entry: Aⱼₖₗ = −Oⱼ,ₖₗ off the diagonal and, as
    Σₗ Pᵢₗ = 1, Aⱼₖₖ = Σ_{l≠k} Oⱼ,ₖₗ — a sum of positive terms (no cancellation against the
    diagonal's Σ x²·WPₖ)."""
    m, K = P.shape
    iu, ju = np.triu_indices(K, 1)
    Q = np.empty((m, iu.shape[0]))
    at = 0
    for k in range(K - 1):
        np.multiply(WP[:, k:k + 1], P[:, k + 1:], out=Q[:, at:at + K - 1 - k])
        at += K - 1 - k
    O = X2.T @ Q  # (q, K(K−1)/2)
    A = np.zeros((X2.shape[1], K, K))
    A[:, iu, ju] = -O
    A[:, ju, iu] = -O
    A[:, np.arange(K), np.arange(K)] = -A.sum(axis=2)
    return A


def prox_newton_kron(x0, *, tol: float, max_iter: int, problem: SoftmaxProblem, proximal):
    """Proximal Newton on the full softmax Hessian (module docstring) from x0 = [W, b];
    ``proximal`` is the problem's ``Objective.proximal(0)``."""
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
    y = np.asarray(P_.y, dtype=np.int64)
    s = P_.s
    weight = np.full(m_samples, 1.0 / P_.S) if s.shape[0] == 0 else s / P_.S
    onehot = np.zeros((m_samples, K))
    onehot[np.arange(m_samples), y] = 1.0
    last_ws = None
    wy = weight[:, None] * onehot
    Pr = np.empty((m_samples, K))
    it = n_iter
    message = "max_iter reached"
    alpha, lam = float(P_.alpha), float(P_.lam)

    def penalty(U):  # the penalty of the coefficient rows (the intercept's row excluded)
        Wu = U[:-1] if fi else U
        return alpha * float(np.abs(Wu).sum()) + 0.5 * lam * float(np.sum(Wu * Wu))

    while True:
        sub = proximal.subgradient(x, g)
        violation = gmax(sub)
        F = s_val + proximal.value(x)
        if violation <= tol and math.isfinite(F):
            return SolverResult(x, it, True, [], "max subgradient distance <= tol")
        if it >= max_iter:
            break
        # ---- the working set of features, shared by the classes
        S_ = np.abs(sub[:K * n]).reshape(K, n).max(axis=0)
        W = x[:K * n].reshape(K, n)
        support = np.flatnonzero(np.any(W != 0, axis=0))
        S_[support] = np.inf
        size = min(n, max(P0, GROWTH * support.size))
        ws = np.sort(np.argpartition(S_, n - size)[n - size:]) if size < n else np.arange(n)
        q = ws.size
        if last_ws is None or not np.array_equal(ws, last_ws):  # else the last one's columns
            Xt = np.empty((m_samples, q + int(fi)), order="F")  # X̃ = [X_ws, 1]
            Xt[:, :q] = P_.X if q == n else P_.X[:, ws]
            if fi:
                Xt[:, q] = 1.0
            X2 = Xt * Xt
            last_ws = ws
        cols = (np.arange(K)[:, None] * n + ws[None, :]).T  # (q, K): x's index of (j, k)
        U = x[cols]
        if fi:
            U = np.vstack([U, x[K * n:]])
        Z = Xt @ U
        data = _cd.softmax_terms(Z, y, s, P_.S, Pr)
        tol_in = max(INNER_RATIO * violation, 0.5 * tol)
        alpha_rows = np.full(U.shape, alpha)
        ridge_rows = np.full(U.shape, lam)
        if fi:
            alpha_rows[q] = ridge_rows[q] = 0.0
        sub_event = sub.copy()
        progress = False
        for _ in range(MAX_INNER):
            WP = weight[:, None] * Pr
            R = WP - wy
            G = Xt.T @ R
            G += ridge_rows * U
            sub_ws = proximal_subgradient(U, G, alpha_rows)
            sub_event[cols] = sub_ws[:q]
            if fi:
                sub_event[K * n:] = sub_ws[q]
            worst = gmax(sub_ws)
            if worst <= tol_in or it >= max_iter:
                break
            A = _blocks(X2, WP, Pr)
            delta = np.zeros_like(U)
            _cd.cd_kron(Xt, weight, Pr, G, A, U, alpha, lam, q,
                        max(KRON_CD_RATIO * worst, 0.1 * tol), MAX_EPOCHS, delta)
            if not np.any(delta):
                break
            dZ = Xt @ delta
            pen0 = penalty(U)
            decrease = (float(np.sum(G * delta)) + alpha * (
                float(np.abs((U + delta)[:q]).sum()) - float(np.abs(U[:q]).sum())))
            slack = 4 * EPS * max(abs(data + pen0), 1.0)
            t, accepted = 1.0, False
            for _ in range(MAX_BACKTRACKS):
                V = U + t * delta
                change = _cd.softmax_line_all(Pr, dZ, t, y, s, P_.S) + penalty(V) - pen0
                if change <= ARMIJO * t * decrease + slack:
                    accepted = True
                    break
                t *= 0.5
            if not accepted:
                break
            U = V
            Z += t * dZ
            data = _cd.softmax_terms(Z, y, s, P_.S, Pr)
            x[cols] = U[:q]
            if fi:
                x[K * n:] = U[q]
            it += 1
            progress = True
            F_now = data + proximal.value(x)
            if lam:
                F_now += 0.5 * lam * float(x[:K * n] @ x[:K * n])
            yield ("iteration", x.copy(), F_now, sub_event.copy())
        if not progress:
            message = "no decrease on the working set (rounding): tol below precision?"
            break
        s_val, g = yield (kind, x.copy())
    return finish_proximal(x, it, s_val, g, proximal, tol, message)


prox_newton_kron.NEEDS = frozenset()
