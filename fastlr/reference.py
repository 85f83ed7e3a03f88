"""The vectorized NumPy reference: slides 017–018 written with whole arrays, made stable.

Same names and signatures as :mod:`fastlr.kernels`; every kernel is tested against these. X has
shape (n_samples, n_features), so the slides' ``Z = wᵀX + b`` (X of shape (n_x, m)) reads
``z = X @ w + b`` here. With sᵢ = sample weights (1 without), l2 = λ:

    J  = Σ sᵢ·Lᵢ / Σ sᵢ + ½·λ·‖w‖²,   Lᵢ = log(1 + e^{zᵢ}) − yᵢ·zᵢ,   zᵢ = xᵢ·w + b
    dZ = s ∘ (σ(z) − y)                     (slide 018: dZ = A − Y)
    dw = Xᵀ·dZ / Σ sᵢ + λ·w,   db = Σ dZ / Σ sᵢ
    H  = X̃ᵀ·diag(s ∘ σ(z)(1 − σ(z)))·X̃ / Σ sᵢ + λ·diag(1, …, 1, 0),   X̃ = [X, 1]

Stable for every finite z: with e = exp(−|z|) ≤ 1, σ(z) = 1/(1+e) for z ≥ 0 and e/(1+e) for
z < 0, Lᵢ = log1p(e) + (1−yᵢ)·zᵢ for z > 0, log1p(e) − yᵢ·zᵢ otherwise, and σ(z) − y =
(1 − y) − e/(1+e) for z > 0, e/(1+e) − y otherwise — no exp overflows, no log(0), and no
cancellation (z = 40, y = 1: L = 4.2e-18 and σ − y = −4.2e-18, not 0). Computed in float64; float32 X gives
float32 results. X may be dense or scipy.sparse (the products are scipy's). With λ = 0 the
penalty ‖w‖² is never formed (it may overflow). ``loss_grad_python`` is slide 014's double loop
in pure Python.
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import (check_multinomial_problem, check_problem, check_real_array,
                          working_dtype)

__all__ = ["cost", "loss_grad", "loss_grad_hess", "loss_grad_python", "multinomial_loss_grad",
           "multinomial_loss_grad_hess", "sigmoid"]


def _exp_neg_abs(z: np.ndarray) -> np.ndarray:
    return np.exp(-np.abs(z))


def _sigmoid64(z: np.ndarray) -> np.ndarray:
    e = _exp_neg_abs(z)
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_minus(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """σ(z) − y without cancellation: (1 − y) − e/(1+e) for z > 0 (exact for y = 1), e/(1+e) − y
    otherwise, with e = exp(−|z|)."""
    e = _exp_neg_abs(z)
    a = e / (1.0 + e)
    return np.where(z > 0, (1.0 - y) - a, a - y)


def _log_loss64(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Lᵢ = log(1 + e^{zᵢ}) − yᵢ·zᵢ, without overflow or cancellation."""
    return np.log1p(_exp_neg_abs(z)) + np.where(z > 0, (1.0 - y) * z, -y * z)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{−z}) (slide 017), elementwise, any shape or a scalar; float32 stays float32."""
    arr = check_real_array(z, "z")
    dtype = working_dtype(arr.dtype)
    out = _sigmoid64(arr.astype(np.float64)).astype(dtype)
    return out[()] if arr.ndim == 0 else out


def _margins(p) -> np.ndarray:
    # float32 X: z in float64 (one temporary of m floats; X itself is not copied)
    z = np.asarray(p.X @ p.w.astype(p.X.dtype)).reshape(-1)
    return z.astype(np.float64) + p.b


def _penalty(p) -> float:
    """½·λ·‖w‖², and exactly 0 when λ = 0 (‖w‖² alone may overflow)."""
    if p.l2 == 0.0:
        return 0.0
    with np.errstate(over="ignore"):  # an overflowing ‖w‖²: +inf, as in fastlr._penalties.L2
        return 0.5 * p.l2 * float(p.w @ p.w)


def _penalty_grad(p) -> np.ndarray:
    return p.l2 * p.w if p.l2 != 0.0 else np.zeros_like(p.w)


def _weighted_mean(values: np.ndarray, p) -> float:
    if p.sample_weight is None:
        return float(np.sum(values)) / p.weight_sum
    return float(np.dot(p.sample_weight, values)) / p.weight_sum


def cost(w, b, X, y, sample_weight=None, l2=0.0):
    """J = Σ sᵢ·Lᵢ / Σ sᵢ + ½·l2·‖w‖² (slide 007's cost, weighted and L2-penalised)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    J = _weighted_mean(_log_loss64(_margins(p), p.y), p) + _penalty(p)
    return p.dtype.type(J)


def loss_grad(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db): slide 018's vectorized forward and backward pass (two passes over X)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    J, dw, db, _ = _forward_backward(p, hessian=False)
    return p.dtype.type(J), dw.astype(p.dtype), p.dtype.type(db)


def _forward_backward(p, hessian: bool):
    z = _margins(p)
    J = _weighted_mean(_log_loss64(z, p.y), p) + _penalty(p)
    dZ = _sigmoid_minus(z, p.y)
    if p.sample_weight is not None:
        dZ *= p.sample_weight
    dw = np.asarray(p.X.T @ dZ.astype(p.X.dtype), dtype=np.float64).reshape(-1)
    dw = dw / p.weight_sum + _penalty_grad(p)
    db = float(np.sum(dZ)) / p.weight_sum
    if not hessian:
        return J, dw, db, None
    e = _exp_neg_abs(z)
    h = e / (1.0 + e) ** 2  # σ(z)(1 − σ(z)) without cancellation
    if p.sample_weight is not None:
        h *= p.sample_weight
    X = p.X.toarray() if hasattr(p.X, "toarray") else p.X
    with np.errstate(invalid="ignore"):  # inf in X with h = 0: NaN, as in the kernels
        A = np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))]) * np.sqrt(h)[:, None]
        H = (A.T @ A) / p.weight_sum  # AᵀA: NumPy's SYRK, exactly symmetric
    n = p.w.shape[0]
    H[np.arange(n), np.arange(n)] += p.l2
    return J, dw, db, H


def loss_grad_hess(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db, H): ``loss_grad`` plus H = X̃ᵀ·diag(s∘σ(1−σ))·X̃ / Σ sᵢ + λ·diag(1, …, 1, 0)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    J, dw, db, H = _forward_backward(p, hessian=True)
    return p.dtype.type(J), dw.astype(p.dtype), p.dtype.type(db), H.astype(p.dtype)


def loss_grad_python(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db) by slide 014's double loop in pure Python: for tiny inputs and speed comparisons.

    ``J = 0; dw = 0; db = 0; for i in range(m): z = w·x⁽ⁱ⁾ + b; a = σ(z); J += L; dz = a − y;
    for j in range(n): dw[j] += x_j⁽ⁱ⁾·dz; db += dz`` — then divide by m (here Σ sᵢ).
    """
    p = check_problem(w, b, X, y, sample_weight, l2)
    if not isinstance(p.X, np.ndarray):
        raise TypeError("loss_grad_python takes dense X (slide 014's loop indexes X[i, j]); "
                        "use loss_grad for sparse X")
    X, y, w, s = p.X, p.y, p.w, p.sample_weight
    m, n = X.shape
    J = 0.0
    dw = [0.0] * n
    db = 0.0
    for i in range(m):
        z = p.b
        for j in range(n):
            z += w[j] * X[i, j]
        e = math.exp(-abs(z))
        a = e / (1.0 + e)  # σ(−|z|)
        loss = math.log1p(e) + ((1.0 - y[i]) * z if z > 0 else -y[i] * z)
        si = 1.0 if s is None else s[i]
        J += si * loss
        dz = si * ((1.0 - y[i]) - a if z > 0 else a - y[i])  # σ(z) − y, no cancellation
        for j in range(n):
            dw[j] += X[i, j] * dz
        db += dz
    # Python floats: an overflowing ‖w‖² is inf, without NumPy's scalar overflow warning
    J = J / p.weight_sum + (0.5 * p.l2 * sum(float(wj) * float(wj) for wj in w)
                            if p.l2 != 0.0 else 0.0)
    dw_out = np.array([dw[j] / p.weight_sum + p.l2 * w[j] for j in range(n)], dtype=np.float64)
    return p.dtype.type(J), dw_out.astype(p.dtype), p.dtype.type(db / p.weight_sum)


def multinomial_loss_grad(W, b, X, y, sample_weight=None, l2=0.0):
    """(J, dW, db) of the multinomial model in whole-array NumPy (two passes over X).

    Z = X·W + b (m, K); with M = max over classes, E = exp(Z − M), E_y the entry of each
    sample's class and T = Σ_{k≠y} E:  Lᵢ = log1p(T + (E_y − 1)) − (z_y − M),  P − Y = E/S with
    −T/S in the class's place, S = T + E_y (no cancellation for confident predictions). Then
    J = Σ sᵢ·Lᵢ/Σ sᵢ + ½·λ·‖W‖², dW = Xᵀ·(s∘(P − Y))/Σ sᵢ + λ·W, db = Σ sᵢ·(pᵢ − e_{yᵢ})/Σ sᵢ.
    """
    p = check_multinomial_problem(W, b, X, y, sample_weight, l2)
    J, dW, db, _ = _multinomial(p, hessian=False)
    return p.dtype.type(J), dW.astype(p.dtype), db.astype(p.dtype)


def multinomial_loss_grad_hess(W, b, X, y, sample_weight=None, l2=0.0):
    """(J, dW, db, H): H over θ = [W[:, 0], …, W[:, K−1], b] is, block by block of classes,
    H_kl = X̃ᵀ·diag(s∘(p_k·[k = l] − p_k∘p_l))·X̃ / Σ sᵢ + λ on the coefficients' diagonal."""
    p = check_multinomial_problem(W, b, X, y, sample_weight, l2)
    J, dW, db, H = _multinomial(p, hessian=True)
    return p.dtype.type(J), dW.astype(p.dtype), db.astype(p.dtype), H.astype(p.dtype)


def _multinomial(p, hessian: bool):
    Wt = p.W.T  # (n, K)
    Z = np.asarray(p.X @ Wt.astype(p.X.dtype)).astype(np.float64) + p.b
    rows = np.arange(Z.shape[0])
    with np.errstate(over="ignore"):  # z − M below −1.8e308 is −inf, and exp(−inf) = 0 is right
        Zs = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(Zs)
    Ey = E[rows, p.y]
    others = E.copy()
    others[rows, p.y] = 0.0
    T = others.sum(axis=1)
    loss = np.log1p(T + (Ey - 1.0)) - Zs[rows, p.y]
    S = T + Ey
    D = E / S[:, None]
    D[rows, p.y] = -T / S
    if p.sample_weight is not None:
        loss = loss * p.sample_weight
        D *= p.sample_weight[:, None]
    J = float(np.sum(loss)) / p.weight_sum
    dW = np.asarray(p.X.T @ D.astype(p.X.dtype), dtype=np.float64) / p.weight_sum
    if p.l2 != 0.0:
        with np.errstate(over="ignore"):  # an overflowing ‖W‖²: J = +inf
            J += 0.5 * p.l2 * float(np.sum(Wt * Wt))
        dW = dW + p.l2 * Wt
    db = D.sum(axis=0) / p.weight_sum
    if not hessian:
        return J, dW, db, None
    K, n = p.W.shape
    P = E / S[:, None]
    s = np.ones(Z.shape[0]) if p.sample_weight is None else p.sample_weight
    X = p.X.toarray() if hasattr(p.X, "toarray") else np.asarray(p.X)
    Xt = np.hstack([X.astype(np.float64), np.ones((X.shape[0], 1))])
    index = [np.r_[k * n:(k + 1) * n, K * n + k] for k in range(K)]
    H = np.empty((K * (n + 1), K * (n + 1)))
    for k in range(K):
        for l in range(K):
            r = s * P[:, k] * (float(k == l) - P[:, l])
            H[np.ix_(index[k], index[l])] = (Xt.T * r) @ Xt / p.weight_sum
    H = (H + H.T) / 2  # exactly symmetric (each block pair from the same products)
    H[np.arange(K * n), np.arange(K * n)] += p.l2
    return J, dW, db, H
