"""Dense kernels: slide 014's double loop as written, and the fused blocked single-pass kernel.

Every kernel returns **raw sums**, never a mean or a penalty (``fastlr._linear_loss.normalise``
turns them into J and its gradient, once, for every kernel and backend). As a float64 vector over
θ = [w, b]:

    [ Σ sᵢ·Lᵢ,   Σ sᵢ·(σ(zᵢ) − yᵢ)·xᵢ   (n entries),   Σ sᵢ·(σ(zᵢ) − yᵢ) ],   zᵢ = xᵢ·w + b

An empty ``s`` means unit weights. X may be float32 or float64 in any memory order; margins and
every sum are accumulated in float64, so float32 X loses no accuracy in the reductions.

The fused kernel reads X once: rows are taken in blocks small enough to stay in L2, and for each
block it computes the margins, then the loss and dz (``_pointwise.pointwise_block``), then adds the
block's dz-weighted rows into the gradient while the block is still in cache. Blocks are grouped
into tasks (``_layout``), whose partial sums are added in task order.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ._pointwise import loss_dz, pointwise_block, sigmoid_scalar

__all__ = ["cols_diag_task", "cols_hessp_task", "cols_task", "loss_grad_loops", "rows_diag_task",
           "rows_hessp_task", "rows_task", "sigmoid_flat"]


@jit()
def sigmoid_flat(z, out):
    for i in range(z.shape[0]):
        out[i] = sigmoid_scalar(np.float64(z[i]))


@jit()
def loss_grad_loops(X, y, s, w, b):
    """Slide 014 as written: ``for i in range(m)`` with an inner ``for j in range(n)``; raw sums."""
    m, n = X.shape
    weighted = s.shape[0] > 0
    out = np.zeros(n + 2)
    dw = out[1:n + 1]
    J = 0.0
    db = 0.0
    for i in range(m):
        z = b
        for j in range(n):
            z += w[j] * X[i, j]
        loss, dz = loss_dz(z, y[i])
        if weighted:
            loss *= s[i]
            dz *= s[i]
        J += loss
        for j in range(n):
            dw[j] += X[i, j] * dz
        db += dz
    out[0] = J
    out[n + 1] = db
    return out


@jit(inline="always")
def _block_scratch(block_rows):
    """Per-task scratch: z (margins, then dz), e, loss, h, and the exp's int64 scale bits."""
    return (np.empty(block_rows), np.empty(block_rows), np.empty(block_rows),
            np.empty(block_rows), np.empty((2, block_rows), dtype=np.int64))


# The four passes over a block of X that every dense task is made of, for each memory order.
# Margins: z[k] = vb + xₖ·v. Scatter: acc += Σₖ d[k]·xₖ. Rows (C order) are swept four at a time
# so acc is loaded and stored once per four rows; column runs (F order) four at a time so z or d
# is read once per four columns (one column at a time was 5x slower: 244 vs 49 ms, 1e6 x 100,
# 1 thread). Inlined into each task, so each task compiles as if written out.

@jit(fast=True, inline="always")
def _rows_margins(X, start, count, v, vb, z):
    n = X.shape[1]
    for k in range(count):
        row = X[start + k]
        acc = 0.0
        for j in range(n):
            acc += row[j] * v[j]
        z[k] = acc + vb


@jit(fast=True, inline="always")
def _rows_scatter(X, start, count, d, acc):
    n = X.shape[1]
    k = 0
    while k + 4 <= count:
        r0, r1, r2, r3 = X[start + k], X[start + k + 1], X[start + k + 2], X[start + k + 3]
        d0, d1, d2, d3 = d[k], d[k + 1], d[k + 2], d[k + 3]
        for j in range(n):
            acc[j] += (d0 * r0[j] + d1 * r1[j]) + (d2 * r2[j] + d3 * r3[j])
        k += 4
    while k < count:
        row = X[start + k]
        d0 = d[k]
        for j in range(n):
            acc[j] += d0 * row[j]
        k += 1


@jit(fast=True, inline="always")
def _cols_margins(X, start, count, v, vb, z):
    n = X.shape[1]
    end = start + count
    for k in range(count):
        z[k] = vb
    j = 0
    while j + 4 <= n:
        c0, c1, c2, c3 = X[start:end, j], X[start:end, j + 1], X[start:end, j + 2], X[start:end, j + 3]
        v0, v1, v2, v3 = v[j], v[j + 1], v[j + 2], v[j + 3]
        for k in range(count):
            z[k] += (c0[k] * v0 + c1[k] * v1) + (c2[k] * v2 + c3[k] * v3)
        j += 4
    while j < n:
        c0 = X[start:end, j]
        v0 = v[j]
        for k in range(count):
            z[k] += c0[k] * v0
        j += 1


@jit(fast=True, inline="always")
def _cols_scatter(X, start, count, d, acc):
    n = X.shape[1]
    end = start + count
    j = 0
    while j + 4 <= n:
        c0, c1, c2, c3 = X[start:end, j], X[start:end, j + 1], X[start:end, j + 2], X[start:end, j + 3]
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for k in range(count):
            dk = d[k]
            a0 += c0[k] * dk
            a1 += c1[k] * dk
            a2 += c2[k] * dk
            a3 += c3[k] * dk
        acc[j] += a0
        acc[j + 1] += a1
        acc[j + 2] += a2
        acc[j + 3] += a3
        j += 4
    while j < n:
        c0 = X[start:end, j]
        a0 = 0.0
        for k in range(count):
            a0 += c0[k] * d[k]
        acc[j] += a0
        j += 1


@jit(fast=True)
def rows_task(t, out, X, y, s, w, b, block_rows, task_rows, with_grad, h_out):
    """One task of the fused kernel for X whose rows are contiguous (C order).

    ``with_grad=False`` skips the gradient accumulation (``cost`` needs the loss alone); a
    non-empty ``h_out`` receives each sample's sᵢ·σ(zᵢ)(1 − σ(zᵢ)) (for Hessian-vector products).
    """
    m, n = X.shape
    weighted = s.shape[0] > 0
    z, e, loss, h, scale_bits = _block_scratch(block_rows)
    with_h = h_out.shape[0] > 0
    dw = out[1:n + 1]
    loss_t = 0.0
    db_t = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        _rows_margins(X, start, count, w, b, z)
        pointwise_block(z, y, s, start, count, weighted, e, scale_bits, loss, h, with_h)
        if with_h:
            for k in range(count):
                h_out[start + k] = h[k]
        for k in range(count):
            loss_t += loss[k]
            db_t += z[k]
        if with_grad:
            _rows_scatter(X, start, count, z, dw)
    out[0] = loss_t
    out[n + 1] = db_t


@jit(fast=True)
def cols_task(t, out, X, y, s, w, b, block_rows, task_rows, with_grad, h_out):
    """One task of the fused kernel for X whose columns are contiguous (F order, e.g. the
    course's X.T).

    Column runs of a block are taken four at a time (``_cols_margins``, ``_cols_scatter``).
    """
    m, n = X.shape
    weighted = s.shape[0] > 0
    z, e, loss, h, scale_bits = _block_scratch(block_rows)
    with_h = h_out.shape[0] > 0
    dw = out[1:n + 1]
    loss_t = 0.0
    db_t = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        _cols_margins(X, start, count, w, b, z)
        pointwise_block(z, y, s, start, count, weighted, e, scale_bits, loss, h, with_h)
        if with_h:
            for k in range(count):
                h_out[start + k] = h[k]
        for k in range(count):
            loss_t += loss[k]
            db_t += z[k]
        if with_grad:
            _cols_scatter(X, start, count, z, dw)
    out[0] = loss_t
    out[n + 1] = db_t


@jit(fast=True)
def rows_hessp_task(t, out, X, hs, v, vb, block_rows, task_rows):
    """One task of H·v for C-ordered X: [Σ hᵢ·(xᵢ·v + v_b)·xᵢ (n), Σ hᵢ·(xᵢ·v + v_b)], with
    hᵢ = sᵢ·σ(zᵢ)(1 − σ(zᵢ)) from the gradient pass at the current point."""
    m, n = X.shape
    u = np.empty(block_rows)
    hv = out[:n]
    hb = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        _rows_margins(X, start, count, v, vb, u)
        for k in range(count):
            u[k] *= hs[start + k]
            hb += u[k]
        _rows_scatter(X, start, count, u, hv)
    out[n] = hb


@jit(fast=True)
def cols_hessp_task(t, out, X, hs, v, vb, block_rows, task_rows):
    """One task of H·v for F-ordered X (see ``rows_hessp_task``): column runs, four at a time."""
    m, n = X.shape
    u = np.empty(block_rows)
    hv = out[:n]
    hb = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        _cols_margins(X, start, count, v, vb, u)
        for k in range(count):
            u[k] *= hs[start + k]
            hb += u[k]
        _cols_scatter(X, start, count, u, hv)
    out[n] = hb


@jit(fast=True)
def rows_diag_task(t, out, X, hs, block_rows, task_rows):
    """One task of the Hessian's diagonal for C-ordered X: [Σ hᵢ·xᵢⱼ² (n), Σ hᵢ] (the Jacobi
    preconditioner of Newton-CG)."""
    m, n = X.shape
    d = out[:n]
    hb = 0.0
    stop = min(m, (t + 1) * task_rows)
    for i in range(t * task_rows, stop):
        row = X[i]
        hi = hs[i]
        hb += hi
        for j in range(n):
            d[j] += hi * row[j] * row[j]
    out[n] = hb


@jit(fast=True)
def cols_diag_task(t, out, X, hs, block_rows, task_rows):
    """One task of the Hessian's diagonal for F-ordered X (see ``rows_diag_task``)."""
    m, n = X.shape
    d = out[:n]
    start, stop = t * task_rows, min(m, (t + 1) * task_rows)
    hb = 0.0
    for i in range(start, stop):
        hb += hs[i]
    for j in range(n):
        col = X[start:stop, j]
        acc = 0.0
        for k in range(stop - start):
            acc += hs[start + k] * col[k] * col[k]
        d[j] += acc
    out[n] = hb
