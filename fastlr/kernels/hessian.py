"""Fused loss, gradient and Hessian of the logistic loss in one pass over dense X (for Newton).

With θ = [w, b], x̃ᵢ = [xᵢ, 1], zᵢ = x̃ᵢ·θ, aᵢ = σ(zᵢ), sᵢ the sample weights (1 without), S = Σ sᵢ
and λ = ``l2`` (the intercept is not penalised):

    J = Σ sᵢ·Lᵢ / S + ½·λ·‖w‖²
    g = Σ sᵢ·(aᵢ − yᵢ)·x̃ᵢ / S + λ·[w, 0]
    H = Σ sᵢ·aᵢ(1 − aᵢ)·x̃ᵢ x̃ᵢᵀ / S + λ·diag(1, …, 1, 0)  =  X̃ᵀ·diag(s·a(1−a))·X̃ / S + …

aᵢ(1 − aᵢ) = e/(1 + e)² with e = exp(−|zᵢ|), from the same exp as the loss (no cancellation).

Layout, as in ``_dense``: rows are taken in blocks of about 256 KiB; each block is copied once,
transposed, into a float64 scratch T (rows = features, plus a row of ones for the intercept), and
everything else works on T while it is in cache: margins z = Tᵀθ, then (Lᵢ, dzᵢ, rᵢ = √(sᵢ·hᵢ)),
then g += T·dz, then T's columns are scaled by r and the upper triangle of T·Tᵀ is added to the
task's partial H with contiguous dot products over the block (a SYRK on the block). So X is read
once per evaluation in any memory order, and float32 X is widened block by block, never copied
whole. Tasks depend on the shape only and their partial sums are added in task order: the result
is bitwise identical at every thread count.

Measured (2 shared cores, AVX-512, float64, 200,000 × 100): see ``benchmarks/fit_vs_sklearn.py``
and the comment on ``_syrk_upper``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import jit, parallel_guard
from ._dense import is_column_major

__all__ = ["loss_grad_hess_dense", "hessian_layout"]

BLOCK_BYTES = 256 * 1024
MAX_TASKS = 64
# Per-task partial Hessians are (n+1)² doubles each; keep their total under ~128 MiB.
MAX_PARTIAL_DOUBLES = 1 << 24


def hessian_layout(n_samples: int, n_features: int):
    """(rows per block, rows per task) — a function of the shape only (reproducible sums)."""
    p = n_features + 1
    rows = BLOCK_BYTES // (8 * p)
    rows = int(min(2048, max(16, rows)))
    rows -= rows % 8
    n_blocks = -(-n_samples // rows)
    n_tasks = max(1, min(n_blocks, MAX_TASKS, MAX_PARTIAL_DOUBLES // (p * p)))
    blocks_per_task = -(-n_blocks // n_tasks)
    return rows, blocks_per_task * rows


@jit(inline="always")
def _loss_dz_h(z, y):
    """(Lᵢ, σ(zᵢ) − yᵢ, σ(zᵢ)(1 − σ(zᵢ))) from one exp, stable for every finite z."""
    e = math.exp(-abs(z))
    inv = 1.0 / (1.0 + e)
    h = e * inv * inv
    if z > 0.0:
        return math.log1p(e) + (1.0 - y) * z, inv - y, h
    return math.log1p(e) - y * z, e * inv - y, h


@jit(fast=True, inline="always")
def _syrk_upper(T, count, H):
    """H[i, j] += Σ_k T[i, k]·T[j, k] for j ≥ i (k < count): contiguous dots, 4 columns at once.

    Four j's share each load of T[i, :] (register blocking); measured about 1.6× faster than the
    plain one-dot-at-a-time loop at n = 100.
    """
    p = T.shape[0]
    for i in range(p):
        ti = T[i]
        j = i
        while j + 4 <= p:
            t0 = T[j]
            t1 = T[j + 1]
            t2 = T[j + 2]
            t3 = T[j + 3]
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for k in range(count):
                v = ti[k]
                a0 += v * t0[k]
                a1 += v * t1[k]
                a2 += v * t2[k]
                a3 += v * t3[k]
            H[i, j] += a0
            H[i, j + 1] += a1
            H[i, j + 2] += a2
            H[i, j + 3] += a3
            j += 4
        while j < p:
            tj = T[j]
            a = 0.0
            for k in range(count):
                a += ti[k] * tj[k]
            H[i, j] += a
            j += 1


@jit(parallel=True, fast=True)
def _loss_grad_hess(X, y, s, w, b, weight_sum, l2, block_rows, task_rows, column_major):
    m, n = X.shape
    p = n + 1
    weighted = s.shape[0] > 0
    n_tasks = (m + task_rows - 1) // task_rows
    part_H = np.zeros((n_tasks, p, p))
    part_g = np.zeros((n_tasks, p))
    part_loss = np.zeros(n_tasks)
    scratch = np.empty((n_tasks, p, block_rows))
    zbuf = np.empty((n_tasks, block_rows))
    rbuf = np.empty((n_tasks, block_rows))
    for t in prange(n_tasks):
        T = scratch[t]
        z = zbuf[t]
        r = rbuf[t]
        H = part_H[t]
        g = part_g[t]
        loss_t = 0.0
        stop = min(m, (t + 1) * task_rows)
        for start in range(t * task_rows, stop, block_rows):
            count = min(block_rows, stop - start)
            # copy the block in, transposed and widened to float64
            if column_major:
                for j in range(n):
                    Tj = T[j]
                    for k in range(count):
                        Tj[k] = X[start + k, j]
            else:
                for k in range(count):
                    row = X[start + k]
                    for j in range(n):
                        T[j, k] = row[j]
            for k in range(count):
                T[n, k] = 1.0
                z[k] = b
            for j in range(n):
                Tj = T[j]
                wj = w[j]
                for k in range(count):
                    z[k] += Tj[k] * wj
            for k in range(count):
                loss, dz, h = _loss_dz_h(z[k], y[start + k])
                if weighted:
                    sk = s[start + k]
                    loss *= sk
                    dz *= sk
                    h *= sk
                loss_t += loss
                z[k] = dz
                r[k] = math.sqrt(h)
            for j in range(p):
                Tj = T[j]
                acc = 0.0
                for k in range(count):
                    acc += Tj[k] * z[k]
                g[j] += acc
            for j in range(p):
                Tj = T[j]
                for k in range(count):
                    Tj[k] *= r[k]
            _syrk_upper(T, count, H)
        part_loss[t] = loss_t
    return combine_hess(part_loss, part_g, part_H, w, weight_sum, l2)


@jit(inline="always")
def combine_hess(part_loss, part_g, part_H, w, weight_sum, l2):
    """Add per-task (loss, g, upper triangle of H) in task order, normalise, mirror, add λ.

    Shared by the dense and the CSR Hessian kernels; only H[i, j] with i ≤ j is read.
    """
    n_tasks, p = part_g.shape
    n = p - 1
    J = 0.0
    g = np.zeros(p)
    H = np.zeros((p, p))
    for t in range(n_tasks):
        J += part_loss[t]
        for i in range(p):
            g[i] += part_g[t, i]
            for j in range(i, p):
                H[i, j] += part_H[t, i, j]
    inv = 1.0 / weight_sum
    J *= inv
    for i in range(p):
        g[i] *= inv
        for j in range(i, p):
            H[i, j] *= inv
            H[j, i] = H[i, j]
    for j in range(n):
        g[j] += l2 * w[j]
        H[j, j] += l2
    if l2 != 0.0:
        J += 0.5 * l2 * np.dot(w, w)
    return J, g, H


def loss_grad_hess_dense(X, y, s, w, b, weight_sum, l2):
    """float64 (J, g, H) over θ = [w, b] for validated inputs (no checks here).

    X: float32/float64 (m, n), any memory order, not copied; y: float64 (m,); s: float64 (m,) or
    empty for unit weights; w: float64 (n,); returns g of shape (n+1,) and H of shape (n+1, n+1).
    """
    m, n = X.shape
    block_rows, task_rows = hessian_layout(m, n)
    with parallel_guard():
        return _loss_grad_hess(X, y, s, w, float(b), float(weight_sum), float(l2),
                               block_rows, task_rows, is_column_major(X))
