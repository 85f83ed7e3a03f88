"""Fused loss, gradient and Hessian of the logistic loss in one pass over dense X (for Newton).

With θ = [w, b], x̃ᵢ = [xᵢ, 1], zᵢ = x̃ᵢ·θ, aᵢ = σ(zᵢ) and sᵢ the sample weights (1 without), the
task function adds the raw sums

    [ Σ sᵢ·Lᵢ,   Σ sᵢ·(aᵢ − yᵢ)·x̃ᵢ   (p = n+1 entries),   Σ sᵢ·aᵢ(1 − aᵢ)·x̃ᵢ x̃ᵢᵀ   (p·p, upper triangle) ]

(``fastlr._linear_loss.normalise`` divides by Σ sᵢ and adds the L2 terms). aᵢ(1 − aᵢ) comes from
the same exp as the loss (``_pointwise.pointwise_block``), with no cancellation.

Layout: rows are taken in blocks of about 256 KiB; each block is copied once, transposed, into a
float64 scratch T (rows = features, plus a row of ones for the intercept), and everything else
works on T while it is in cache: margins z = Tᵀθ, then (Lᵢ, dzᵢ, hᵢ), then g += T·dz, then T's
columns are scaled by √hᵢ and the upper triangle of T·Tᵀ is added to the task's partial H with
contiguous dot products over the block (a SYRK on the block). So X is read once per evaluation in
any memory order, and float32 X is widened block by block, never copied whole.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from ._pointwise import pointwise_block

__all__ = ["gemm_upper", "hessian_task", "transposed_block"]


@jit(fast=True, inline="always")
def gemm_upper(U, T, count, H):
    """H[i, j] += Σ_k U[i, k]·T[j, k] for j ≥ i (k < count): contiguous dots, 4 columns at once.

    For a symmetric product (U = T·diag(r), so U·Tᵀ is symmetric) the upper triangle is all of
    it. Four j's share each load of U[i, :] (register blocking); measured about 1.6× faster than
    the plain one-dot-at-a-time loop at n = 100.
    """
    p = T.shape[0]
    for i in range(p):
        ui = U[i]
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
                v = ui[k]
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
                a += ui[k] * tj[k]
            H[i, j] += a
            j += 1


@jit(inline="always")
def transposed_block(X, start, count, column_major, T):
    """T[j, k] = X[start + k, j] (k < count) widened to float64, and a last row of ones."""
    n = X.shape[1]
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


@jit(fast=True)
def hessian_task(t, out, X, y, s, w, b, block_rows, task_rows, column_major):
    """One task: raw [loss, g (p), H (p·p, upper triangle)] of its rows into ``out``."""
    m, n = X.shape
    p = n + 1
    weighted = s.shape[0] > 0
    g = out[1:p + 1]
    H = out[p + 1:p + 1 + p * p].reshape((p, p))
    T = np.empty((p, block_rows))
    z = np.empty(block_rows)
    e = np.empty(block_rows)
    loss = np.empty(block_rows)
    h = np.empty(block_rows)
    scale_bits = np.empty((2, block_rows), dtype=np.int64)
    loss_t = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        transposed_block(X, start, count, column_major, T)
        for k in range(count):
            z[k] = b
        for j in range(n):
            Tj = T[j]
            wj = w[j]
            for k in range(count):
                z[k] += Tj[k] * wj
        pointwise_block(z, y, s, start, count, weighted, e, scale_bits, loss, h, True)
        for k in range(count):
            loss_t += loss[k]
        for j in range(p):
            Tj = T[j]
            acc = 0.0
            for k in range(count):
                acc += Tj[k] * z[k]
            g[j] += acc
        for k in range(count):
            h[k] = math.sqrt(h[k])
        for j in range(p):
            Tj = T[j]
            for k in range(count):
                Tj[k] *= h[k]
        gemm_upper(T, T, count, H)
    out[0] = loss_t
