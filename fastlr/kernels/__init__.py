"""fastlr's Numba kernels: stable sigmoid, cross-entropy cost, and gradient.

X has shape (n_samples, n_features), float32 or float64 (other real dtypes are converted to
float64), in any memory order: C-ordered X is read row by row, F-ordered X (such as the course's
``X.T``) column by column, and neither is copied. With sᵢ the sample weights (1 without) and
λ = ``l2``:

    J  = Σ sᵢ·Lᵢ / Σ sᵢ + ½·λ·‖w‖²,   Lᵢ = log(1 + e^{zᵢ}) − yᵢ·zᵢ,   zᵢ = xᵢ·w + b
    dw = Σ sᵢ·(σ(zᵢ) − yᵢ)·xᵢ / Σ sᵢ + λ·w,   db = Σ sᵢ·(σ(zᵢ) − yᵢ) / Σ sᵢ

The intercept is not penalised. Margins and sums are accumulated in float64; results come back in
X's working dtype (float32 X → float32 J, dw, db). Each function compiles on its first call for
each dtype and memory order; ``FASTLR_CACHE=1`` keeps the compiled code on disk.

``loss_grad`` is the fused, multi-threaded kernel (one pass over X, all Numba threads; limit them
with ``numba.set_num_threads``); its result is bitwise identical at every thread count.
``loss_grad_loops`` is slide 014's double loop compiled as written, on one thread.
"""

from __future__ import annotations

import numpy as np

from .._jit import parallel_guard
from .._validation import check_problem, check_real_array, working_dtype
from . import _dense

__all__ = ["cost", "loss_grad", "loss_grad_loops", "sigmoid"]

_EMPTY = np.empty(0)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{−z}) elementwise (slide 017), stable for every finite z.

    Any shape or a scalar; float32 stays float32 (computed in float64, rounded once), other real
    dtypes give float64. Equal to ``scipy.special.expit`` to within a few ulps.
    """
    arr = check_real_array(z, "z")
    dtype = working_dtype(arr.dtype)
    flat = np.ascontiguousarray(arr, dtype=dtype).reshape(-1)
    out = np.empty(flat.shape[0], dtype=dtype)
    _dense.sigmoid_flat(flat, out)
    return out.reshape(arr.shape)[()] if arr.ndim == 0 else out.reshape(arr.shape)


def _weights(p):
    return _EMPTY if p.sample_weight is None else p.sample_weight


def _fused(p, with_grad: bool):
    X = p.X
    column_major = _dense.is_column_major(X)
    block_rows, task_rows = _dense.block_layout(X.shape[0], X.shape[1], X.itemsize, column_major)
    kernel = _dense.loss_grad_cols if column_major else _dense.loss_grad_rows
    with parallel_guard():
        return kernel(X, p.y, _weights(p), p.w, p.b, p.weight_sum, p.l2,
                      block_rows, task_rows, with_grad)


def _cast_result(p, J, dw, db):
    return p.dtype.type(J), dw.astype(p.dtype, copy=False), p.dtype.type(db)


def cost(w, b, X, y, sample_weight=None, l2=0.0):
    """J(w, b) = Σ sᵢ·Lᵢ / Σ sᵢ + ½·l2·‖w‖² in one parallel pass over X (no gradient work)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    J, _, _ = _fused(p, with_grad=False)
    return p.dtype.type(J)


def loss_grad(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db) from the fused kernel: one blocked, multi-threaded pass over X.

    Per block of rows that fits in L2: margins z = X_block·w + b, then Lᵢ and dzᵢ = sᵢ·(σ(zᵢ) − yᵢ)
    from one exp each, then dw += X_blockᵀ·dz while the block is still in cache. Per-task partial
    sums are added in a fixed order, so the result does not depend on the thread count.
    """
    p = check_problem(w, b, X, y, sample_weight, l2)
    return _cast_result(p, *_fused(p, with_grad=True))


def loss_grad_loops(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db) by slide 014's explicit double loop, compiled as written (one thread)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    result = _dense.loss_grad_loops(p.X, p.y, _weights(p), p.w, p.b, p.weight_sum, p.l2)
    return _cast_result(p, *result)
