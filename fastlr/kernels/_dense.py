"""Dense kernels: slide 014's double loop as written, and the fused blocked single-pass kernel.

Every kernel returns float64 ``(J, dw, db)`` with

    J = Σ sᵢ·Lᵢ / Σ sᵢ + ½·λ·‖w‖²,   dw = Σ sᵢ·(σ(zᵢ) − yᵢ)·xᵢ / Σ sᵢ + λ·w,   db = Σ sᵢ·(σ(zᵢ) − yᵢ) / Σ sᵢ

An empty ``s`` means unit weights. X may be float32 or float64 in any memory order; margins and
every sum are accumulated in float64, so float32 X loses no accuracy in the reductions.

The fused kernel reads X once: rows are taken in blocks small enough to stay in L2, and for each
block it computes the margins, then the loss and dz, then adds the block's dz-weighted rows into
dw while the block is still in cache. Blocks are grouped into *tasks*; the task layout depends only
on (n_samples, n_features, itemsize), never on the thread count, and each task writes its own
partial sums, which are then added in task order. So a result is bitwise identical at every
thread count, not only at a fixed one.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import jit
from ._scalar import loss_and_dz, sigmoid_scalar

# Blocks of about 256 KiB of X: measured on a 1 MiB-L2 AVX-512 core with 1e6 x 100 float64,
# 128-512 KiB were within noise of each other; 2 MiB blocks fall out of L2 and lose ~15 %.
BLOCK_BYTES = 256 * 1024
MIN_BLOCK_ROWS = 8
MAX_BLOCK_ROWS = 4096
# Up to this many tasks: enough to balance 2-16 threads, few enough that the (tasks x n) partial
# gradients stay small next to X.
MAX_TASKS = 64


def block_layout(n_samples: int, n_features: int, itemsize: int, column_major: bool):
    """(rows per block, rows per task) for the fused kernel; depends on the shape only."""
    rows = BLOCK_BYTES // max(1, n_features * itemsize)
    # a column-major block reads n_features runs of `rows` contiguous values: keep each run at
    # least a few cache lines long even when that overflows L2 (L3 is still far faster than RAM).
    lower = 64 if column_major else MIN_BLOCK_ROWS
    rows = int(min(MAX_BLOCK_ROWS, max(lower, rows)))
    rows -= rows % 8
    n_blocks = -(-n_samples // rows)
    n_tasks = min(n_blocks, MAX_TASKS)
    blocks_per_task = -(-n_blocks // n_tasks)
    return rows, blocks_per_task * rows


@jit()
def sigmoid_flat(z, out):
    for i in range(z.shape[0]):
        out[i] = sigmoid_scalar(np.float64(z[i]))


@jit()
def loss_grad_loops(X, y, s, w, b, weight_sum, l2):
    """Slide 014 as written: ``for i in range(m)`` with an inner ``for j in range(n)``."""
    m, n = X.shape
    weighted = s.shape[0] > 0
    J = 0.0
    dw = np.zeros(n)
    db = 0.0
    for i in range(m):
        z = b
        for j in range(n):
            z += w[j] * X[i, j]
        loss, dz = loss_and_dz(z, y[i])
        if weighted:
            loss *= s[i]
            dz *= s[i]
        J += loss
        for j in range(n):
            dw[j] += X[i, j] * dz
        db += dz
    J /= weight_sum
    dw /= weight_sum
    db /= weight_sum
    if l2 != 0.0:
        J += 0.5 * l2 * np.dot(w, w)
        dw += l2 * w
    return J, dw, db


@jit(fast=True, inline="always")
def _block_pointwise(z, y, s, start, count, weighted):
    """Turn block margins z[:count] into dz in place; return the block's (Σ sL, Σ dz)."""
    loss_sum = 0.0
    dz_sum = 0.0
    for k in range(count):
        loss, dz = loss_and_dz(z[k], y[start + k])
        if weighted:
            loss *= s[start + k]
            dz *= s[start + k]
        loss_sum += loss
        dz_sum += dz
        z[k] = dz
    return loss_sum, dz_sum


@jit(parallel=True, fast=True)
def loss_grad_rows(X, y, s, w, b, weight_sum, l2, block_rows, task_rows, with_grad):
    """Fused kernel for X whose rows are contiguous (C order): row dot products, row updates.

    ``with_grad=False`` skips the gradient accumulation (``cost`` needs the loss alone).
    """
    m, n = X.shape
    weighted = s.shape[0] > 0
    n_tasks = (m + task_rows - 1) // task_rows
    part_dw = np.zeros((n_tasks, n))
    part_loss = np.zeros(n_tasks)
    part_db = np.zeros(n_tasks)
    scratch = np.empty((n_tasks, block_rows))
    for t in prange(n_tasks):
        z = scratch[t]
        dw = part_dw[t]
        loss_t = 0.0
        db_t = 0.0
        stop = min(m, (t + 1) * task_rows)
        for start in range(t * task_rows, stop, block_rows):
            count = min(block_rows, stop - start)
            for k in range(count):
                row = X[start + k]
                acc = 0.0
                for j in range(n):
                    acc += row[j] * w[j]
                z[k] = acc + b
            loss_b, db_b = _block_pointwise(z, y, s, start, count, weighted)
            loss_t += loss_b
            db_t += db_b
            if not with_grad:
                continue
            for k in range(count):
                row = X[start + k]
                dz = z[k]
                for j in range(n):
                    dw[j] += dz * row[j]
        part_loss[t] = loss_t
        part_db[t] = db_t
    return _combine(part_loss, part_dw, part_db, w, weight_sum, l2)


@jit(parallel=True, fast=True)
def loss_grad_cols(X, y, s, w, b, weight_sum, l2, block_rows, task_rows, with_grad):
    """Fused kernel for X whose columns are contiguous (F order, e.g. the course's X.T)."""
    m, n = X.shape
    weighted = s.shape[0] > 0
    n_tasks = (m + task_rows - 1) // task_rows
    part_dw = np.zeros((n_tasks, n))
    part_loss = np.zeros(n_tasks)
    part_db = np.zeros(n_tasks)
    scratch = np.empty((n_tasks, block_rows))
    for t in prange(n_tasks):
        z = scratch[t]
        dw = part_dw[t]
        loss_t = 0.0
        db_t = 0.0
        stop = min(m, (t + 1) * task_rows)
        for start in range(t * task_rows, stop, block_rows):
            count = min(block_rows, stop - start)
            for k in range(count):
                z[k] = b
            for j in range(n):
                wj = w[j]
                for k in range(count):
                    z[k] += X[start + k, j] * wj
            loss_b, db_b = _block_pointwise(z, y, s, start, count, weighted)
            loss_t += loss_b
            db_t += db_b
            if not with_grad:
                continue
            for j in range(n):
                acc = 0.0
                for k in range(count):
                    acc += X[start + k, j] * z[k]
                dw[j] += acc
        part_loss[t] = loss_t
        part_db[t] = db_t
    return _combine(part_loss, part_dw, part_db, w, weight_sum, l2)


@jit(inline="always")
def _combine(part_loss, part_dw, part_db, w, weight_sum, l2):
    """Add the per-task partial sums in task order (fixed), normalise, add the L2 term."""
    n_tasks, n = part_dw.shape
    J = 0.0
    db = 0.0
    dw = np.zeros(n)
    for t in range(n_tasks):
        J += part_loss[t]
        db += part_db[t]
        for j in range(n):
            dw[j] += part_dw[t, j]
    J /= weight_sum
    db /= weight_sum
    for j in range(n):
        dw[j] = dw[j] / weight_sum + l2 * w[j]
    if l2 != 0.0:
        J += 0.5 * l2 * np.dot(w, w)
    return J, dw, db
