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
from ._vecmath import pointwise_block

# Blocks of about 256 KiB of X. Measured on a 2-core AVX-512 VM (1 MiB L2 per core), 1e6 x 100
# float64, median of 7, two runs: 1 thread 51 / 50 / 48-52 / 47-51 / 48 / 58 ms for 16 / 64 / 128 /
# 256 / 512 / 2048 KiB blocks; 2 threads 40 / 31 / 30-31 / 31-34 / 38 / 29 ms: a flat optimum.
BLOCK_BYTES = 256 * 1024
MIN_BLOCK_ROWS = 8
BLOCK_BYTES_COLUMNS = 4 * 1024 * 1024
MIN_COLUMN_RUN_BYTES = 2048
MAX_BLOCK_ROWS = 4096
# Up to this many tasks: enough to balance 2-16 threads, few enough that the (tasks x n) partial
# gradients stay small next to X.
MAX_TASKS = 64


def is_column_major(X: np.ndarray) -> bool:
    """Walk X by columns when its within-column stride is the smaller one.

    A single row or column is both C- and F-contiguous, and Numba types it as C: it goes to the
    row kernel, so it needs no compiled specialisation of its own.
    """
    if X.shape[0] == 1 or X.shape[1] == 1:
        return False
    row_stride, col_stride = (abs(s) for s in X.strides)
    return row_stride < col_stride


def block_layout(n_samples: int, n_features: int, itemsize: int, column_major: bool):
    """(rows per block, rows per task) for the fused kernel; depends on the shape only."""
    row_bytes = max(1, n_features * itemsize)
    if column_major:
        # a column-major block is n_features runs of `rows` contiguous values; short runs defeat
        # the prefetcher (1e6 x 100, 1 thread: 512-row blocks 56 ms, 4096-row blocks 49 ms), so
        # these blocks are sized for L3 and the runs kept at least 2 KiB long.
        rows = min(MAX_BLOCK_ROWS, max(MIN_COLUMN_RUN_BYTES // itemsize, BLOCK_BYTES_COLUMNS // row_bytes))
    else:
        rows = min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, BLOCK_BYTES // row_bytes))
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


@jit(inline="always")
def task_buffers(n_tasks, n, block_rows):
    """Per-task partial sums (dw, loss, db) and block scratch (z, e, loss; exp scale bits)."""
    return (np.zeros((n_tasks, n)), np.zeros(n_tasks), np.zeros(n_tasks),
            np.empty((n_tasks, 3, block_rows)), np.empty((n_tasks, 2, block_rows), dtype=np.int64))


@jit(parallel=True, fast=True)
def loss_grad_rows(X, y, s, w, b, weight_sum, l2, block_rows, task_rows, with_grad):
    """Fused kernel for X whose rows are contiguous (C order): row dot products, row updates.

    ``with_grad=False`` skips the gradient accumulation (``cost`` needs the loss alone).
    """
    m, n = X.shape
    weighted = s.shape[0] > 0
    n_tasks = (m + task_rows - 1) // task_rows
    part_dw, part_loss, part_db, scratch, scale_bits = task_buffers(n_tasks, n, block_rows)
    for t in prange(n_tasks):
        z, e, loss = scratch[t, 0], scratch[t, 1], scratch[t, 2]
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
            pointwise_block(z, y, s, start, count, weighted, e, scale_bits[t], loss)
            for k in range(count):
                loss_t += loss[k]
                db_t += z[k]
            if not with_grad:
                continue
            # four rows per sweep: dw is loaded and stored once per four rows of X
            k = 0
            while k + 4 <= count:
                r0, r1, r2, r3 = X[start + k], X[start + k + 1], X[start + k + 2], X[start + k + 3]
                d0, d1, d2, d3 = z[k], z[k + 1], z[k + 2], z[k + 3]
                for j in range(n):
                    dw[j] += (d0 * r0[j] + d1 * r1[j]) + (d2 * r2[j] + d3 * r3[j])
                k += 4
            while k < count:
                row = X[start + k]
                dz = z[k]
                for j in range(n):
                    dw[j] += dz * row[j]
                k += 1
        part_loss[t] = loss_t
        part_db[t] = db_t
    return _combine(part_loss, part_dw, part_db, w, weight_sum, l2)


@jit(parallel=True, fast=True)
def loss_grad_cols(X, y, s, w, b, weight_sum, l2, block_rows, task_rows, with_grad):
    """Fused kernel for X whose columns are contiguous (F order, e.g. the course's X.T).

    Column runs of a block are taken four at a time, so the block's z (margins, then dz) is read
    once per four columns; one column at a time was 5x slower (244 vs 49 ms, 1e6 x 100, 1 thread).
    """
    m, n = X.shape
    weighted = s.shape[0] > 0
    n_tasks = (m + task_rows - 1) // task_rows
    part_dw, part_loss, part_db, scratch, scale_bits = task_buffers(n_tasks, n, block_rows)
    for t in prange(n_tasks):
        z, e, loss = scratch[t, 0], scratch[t, 1], scratch[t, 2]
        dw = part_dw[t]
        loss_t = 0.0
        db_t = 0.0
        stop = min(m, (t + 1) * task_rows)
        for start in range(t * task_rows, stop, block_rows):
            count = min(block_rows, stop - start)
            end = start + count
            for k in range(count):
                z[k] = b
            j = 0
            while j + 4 <= n:
                c0, c1, c2, c3 = X[start:end, j], X[start:end, j + 1], X[start:end, j + 2], X[start:end, j + 3]
                w0, w1, w2, w3 = w[j], w[j + 1], w[j + 2], w[j + 3]
                for k in range(count):
                    z[k] += (c0[k] * w0 + c1[k] * w1) + (c2[k] * w2 + c3[k] * w3)
                j += 4
            while j < n:
                c0 = X[start:end, j]
                w0 = w[j]
                for k in range(count):
                    z[k] += c0[k] * w0
                j += 1
            pointwise_block(z, y, s, start, count, weighted, e, scale_bits[t], loss)
            for k in range(count):
                loss_t += loss[k]
                db_t += z[k]
            if not with_grad:
                continue
            j = 0
            while j + 4 <= n:
                c0, c1, c2, c3 = X[start:end, j], X[start:end, j + 1], X[start:end, j + 2], X[start:end, j + 3]
                a0 = 0.0
                a1 = 0.0
                a2 = 0.0
                a3 = 0.0
                for k in range(count):
                    dz = z[k]
                    a0 += c0[k] * dz
                    a1 += c1[k] * dz
                    a2 += c2[k] * dz
                    a3 += c3[k] * dz
                dw[j] += a0
                dw[j + 1] += a1
                dw[j + 2] += a2
                dw[j + 3] += a3
                j += 4
            while j < n:
                c0 = X[start:end, j]
                a0 = 0.0
                for k in range(count):
                    a0 += c0[k] * z[k]
                dw[j] += a0
                j += 1
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
