"""Raw sums of a validated problem: which kernel, which layout, and one place to call them.

Every kernel (dense rows/columns, CSR, Hessian; in memory or in a Dask block task) returns the
weighted sums below, never a mean or a penalty; ``fastlr._linear_loss.normalise`` turns them into
(J, gradient[, Hessian]) once. Over θ = [w, b], with dzᵢ = σ(zᵢ) − yᵢ and hᵢ = σ(zᵢ)(1 − σ(zᵢ)):

    Sums.loss   = Σ sᵢ·Lᵢ
    Sums.grad_w = Σ sᵢ·dzᵢ·xᵢ                (n,)
    Sums.grad_b = Σ sᵢ·dzᵢ
    Sums.hess   = Σ sᵢ·hᵢ·x̃ᵢx̃ᵢᵀ, x̃ᵢ = [xᵢ, 1]  (n+1, n+1), or None

and for the multinomial kernels (K classes, W of shape (K, n)) the same with dzᵢ = pᵢ − e_{yᵢ}:
``loss`` = Σ sᵢ·(logsumexp(zᵢ) − z_{i,yᵢ}), ``grad_w`` (K, n), ``grad_b`` (K,).

The functions here take arrays that were already checked (``fastlr._validation``): X float32 or
float64 (dense in any memory order, or CSR with valid structure), y and s float64 contiguous (s
empty for unit weights), w float64 contiguous, b a float. Nothing is copied.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import is_sparse
from . import _dense, _layout, hessian, multinomial, sparse

__all__ = ["Sums", "add_in_order", "csr_sums", "dense_sums", "hessian_diagonal_sums",
           "hessian_sums", "hessp_sums",
           "loops_sums", "multinomial_sums", "sums"]

_EMPTY = np.empty(0)

# The compiled drivers of every task function (nothing compiles before a first call).
_ROWS = _layout.drivers(_dense.rows_task)
_COLS = _layout.drivers(_dense.cols_task)
_HESSIAN = _layout.drivers(hessian.hessian_task)
_CSR = _layout.drivers(sparse.csr_task)
_ROWS_HESSP = _layout.drivers(_dense.rows_hessp_task)
_COLS_HESSP = _layout.drivers(_dense.cols_hessp_task)
_CSR_HESSP = _layout.drivers(sparse.csr_hessp_task)
_ROWS_DIAG = _layout.drivers(_dense.rows_diag_task)
_COLS_DIAG = _layout.drivers(_dense.cols_diag_task)
_CSR_DIAG = _layout.drivers(sparse.csr_diag_task)
_SOFTMAX_ROWS = _layout.drivers(multinomial.softmax_rows_task)
_SOFTMAX_COLS = _layout.drivers(multinomial.softmax_cols_task)
_SOFTMAX_CSR = _layout.drivers(multinomial.softmax_csr_task)
_SOFTMAX_HESSIAN = _layout.drivers(multinomial.softmax_hessian_task)


class Sums(NamedTuple):
    """Weighted sums over the samples (see the module docstring); float64."""

    loss: float
    grad_w: np.ndarray
    grad_b: float
    hess: np.ndarray | None = None


def _ro(a: np.ndarray) -> np.ndarray:
    """A read-only view: Numba types read-only and writable arrays apart, and compiles each
    kernel once per type. Every input goes in read-only, so a kernel compiles once whatever the
    caller's flags (a memory-mapped or otherwise read-only X, say): one compile of ~2-5 s saved
    per kernel and layout the first time a read-only array arrives."""
    view = a.view()
    view.flags.writeable = False
    return view


def _unpack(total: np.ndarray, n: int, with_hess: bool) -> Sums:
    """The flat task vector [loss, grad_w (n), grad_b, H (p·p, upper)] as Sums (H mirrored)."""
    hess = None
    if with_hess:
        p = n + 1
        upper = total[p + 1:p + 1 + p * p].reshape(p, p)
        hess = np.triu(upper) + np.triu(upper, 1).T
    return Sums(float(total[0]), total[1:n + 1].copy(), float(total[n + 1]), hess)


def add_in_order(parts) -> Sums:
    """Σ of per-block Sums, added in the given (block) order: reproducible."""
    first = parts[0]
    loss = first.loss
    grad_b = np.array(first.grad_b, dtype=np.float64, copy=True)
    grad_w = np.array(first.grad_w, dtype=np.float64, copy=True)
    hess = None if first.hess is None else np.array(first.hess, dtype=np.float64, copy=True)
    for part in parts[1:]:
        loss += part.loss
        grad_b += part.grad_b
        grad_w += part.grad_w
        if hess is not None:
            hess += part.hess
    return Sums(loss, grad_w, float(grad_b) if grad_b.ndim == 0 else grad_b, hess)


def dense_sums(X, y, s, w, b, with_grad: bool = True, h_out=_EMPTY) -> Sums:
    """Sums of the fused dense kernel: one blocked pass over X in its own memory order. A
    non-empty ``h_out`` (length m) receives each sample's sᵢ·σ(zᵢ)(1 − σ(zᵢ))."""
    n = X.shape[1]
    total = _dense_pass((_ROWS, _COLS), X, n + 2, (_ro(y), _ro(s), _ro(w), float(b)),
                        (with_grad, h_out))
    return _unpack(total, n, False)


def loops_sums(X, y, s, w, b) -> Sums:
    """Sums of slide 014's double loop (one thread)."""
    return _unpack(_dense.loss_grad_loops(_ro(X), _ro(y), _ro(s), _ro(w), float(b)), X.shape[1],
                   False)


def _csr_bytes(X) -> int:
    """Bytes a pass over CSR X reads: its values and column indices, and the row pointers."""
    return X.data.itemsize * X.nnz + X.indices.itemsize * X.nnz + X.indptr.nbytes


def _csr_arrays(X):
    return _ro(X.data), _ro(X.indices), _ro(X.indptr)


def _dense_pass(drivers, X, width, head, tail=(), work=None, partial_doubles=None):
    """Run one of a (C order, F order) pair of task drivers over dense X: X's own memory order
    picks the driver and its block layout. The task's arguments are
    (X, *head, block_rows, task_rows, *tail); ``work`` (bytes of X read by default) picks the
    threads."""
    m, n = X.shape
    rows_driver, cols_driver = drivers
    column_major = _layout.is_column_major(X)
    block_rows, task_rows = _layout.dense_layout(m, n, X.itemsize, column_major, partial_doubles)
    return _layout.run_tasks(cols_driver if column_major else rows_driver, -(-m // task_rows),
                             width, (_ro(X), *head, block_rows, task_rows, *tail),
                             m * n * X.itemsize if work is None else work)


def _csr_pass(driver, X, width, head, tail=(), partial_doubles=None, nnz=None, work=None):
    """Run a CSR task driver: arguments (data, indices, indptr, *head, task_rows, *tail); tasks
    laid out by ``sparse_layout(m, partial_doubles or width, nnz)``; ``work`` as above."""
    m = X.shape[0]
    task_rows = _layout.sparse_layout(m, width if partial_doubles is None else partial_doubles, nnz)
    return _layout.run_tasks(driver, -(-m // task_rows), width,
                             (*_csr_arrays(X), *head, task_rows, *tail),
                             _csr_bytes(X) if work is None else work)


def csr_sums(X, y, s, w, b, h_out=_EMPTY) -> Sums:
    """Sums of the fused CSR kernel: one pass over the nonzeros (``h_out`` as for dense)."""
    n = X.shape[1]
    total = _csr_pass(_CSR, X, n + 2, (_ro(y), _ro(s), _ro(w), float(b)), (h_out, False),
                      nnz=X.nnz)
    return _unpack(total, n, False)


def hessp_sums(X, hs, v, vb):
    """Raw Hessian-vector product (Σ hᵢ·ũᵢ·xᵢ, Σ hᵢ·ũᵢ), ũᵢ = xᵢ·v + v_b, for the per-sample
    curvatures hᵢ = sᵢ·σ(1 − σ) a gradient pass wrote (``h_out``): one pass over X."""
    n = X.shape[1]
    head = (_ro(hs), _ro(v), float(vb))
    if is_sparse(X):
        total = _csr_pass(_CSR_HESSP, X, n + 1, head, nnz=X.nnz)
    else:
        total = _dense_pass((_ROWS_HESSP, _COLS_HESSP), X, n + 1, head)
    return total[:n].copy(), float(total[n])


def hessian_sums(X, y, s, w, b) -> Sums:
    """Sums with the Hessian over θ = [w, b], dense (any memory order) or CSR, in one pass."""
    m, n = X.shape
    p = n + 1
    width = 1 + p + p * p
    if is_sparse(X):
        # the Hessian's work per row is nnzᵢ² updates, not nnzᵢ reads
        total = _csr_pass(_CSR, X, width, (_ro(y), _ro(s), _ro(w), float(b)), (_EMPTY, True),
                          work=_csr_bytes(X) * max(1.0, X.nnz / m))
    else:
        block_rows, task_rows = _layout.hessian_layout(m, n)
        args = (_ro(X), _ro(y), _ro(s), _ro(w), float(b), block_rows, task_rows,
                _layout.is_column_major(X))
        # a block's SYRK does p/2 multiply-adds per value of X read
        total = _layout.run_tasks(_HESSIAN, -(-m // task_rows), width, args,
                                  m * n * X.itemsize * p / 2)
    return _unpack(total, n, True)


def _multinomial_hessian(blocks: np.ndarray, K: int, n: int) -> np.ndarray:
    """H over θ = [W (K·n, class by class), b (K)] from the class-pair blocks B_kl (k ≤ l, upper
    triangles of (n+1) × (n+1)); see ``multinomial``."""
    p = n + 1
    size = K * p
    H = np.empty((size, size))
    w_index = [np.r_[k * n:(k + 1) * n, K * n + k] for k in range(K)]  # θ indices of [w_k, b_k]
    pair = 0
    for k in range(K):
        for l in range(k, K):
            B = np.triu(blocks[pair]) + np.triu(blocks[pair], 1).T
            H[np.ix_(w_index[k], w_index[l])] = B
            H[np.ix_(w_index[l], w_index[k])] = B.T
            pair += 1
    return H


def multinomial_sums(X, y, s, W, b, hessian: bool = False) -> Sums:
    """Sums of the fused multinomial kernels (``multinomial``): W (K, n), b (K,), y int64 class
    indices in [0, K); ``grad_w`` (K, n), ``grad_b`` (K,), and with ``hessian`` the Hessian over
    θ = [W (K·n, class by class), b (K)]."""
    m, n = X.shape
    K = W.shape[0]
    p = n + 1
    width = 1 + K * n + K + (K * (K + 1) // 2 * p * p if hessian else 0)
    b = np.ascontiguousarray(b, dtype=np.float64)
    if is_sparse(X):
        total = _csr_pass(_SOFTMAX_CSR, X, width,
                          (_ro(y), _ro(s), _ro(np.ascontiguousarray(W.T)), _ro(b)), (hessian,),
                          nnz=X.nnz * K,
                          work=_csr_bytes(X) * K * (max(1.0, K * X.nnz / m) if hessian else 1.0))
        grad_w = total[1:1 + n * K].reshape(n, K).T.copy()
    else:
        if hessian:
            block_rows, task_rows = _layout.hessian_layout(m, n, width)
            args = (_ro(X), _ro(y), _ro(s), _ro(W), _ro(b), block_rows, task_rows,
                    _layout.is_column_major(X))
            total = _layout.run_tasks(_SOFTMAX_HESSIAN, -(-m // task_rows), width, args,
                                      m * n * X.itemsize * K * K * p / 4)
        else:
            # the margins and the gradient are 4·K multiply-adds per value of X
            total = _dense_pass((_SOFTMAX_ROWS, _SOFTMAX_COLS), X, width,
                                (_ro(y), _ro(s), _ro(W), _ro(b)), work=m * n * X.itemsize * K,
                                partial_doubles=width)
        grad_w = total[1:1 + K * n].reshape(K, n).copy()
    grad_b = total[1 + K * n:1 + K * n + K].copy()
    hess = None
    if hessian:
        hess = _multinomial_hessian(total[1 + K * n + K:].reshape(-1, p, p), K, n)
    return Sums(float(total[0]), grad_w, grad_b, hess)


def hessian_diagonal_sums(X, hs):
    """Raw diagonal of the Hessian over θ = [w, b]: (Σ hᵢ·xᵢⱼ², Σ hᵢ), one pass over X."""
    n = X.shape[1]
    if is_sparse(X):
        total = _csr_pass(_CSR_DIAG, X, n + 1, (_ro(hs), n), nnz=X.nnz)
    else:
        total = _dense_pass((_ROWS_DIAG, _COLS_DIAG), X, n + 1, (_ro(hs),))
    return total[:n].copy(), float(total[n])


def sums(X, y, s, w, b, with_grad: bool = True, h_out=_EMPTY) -> Sums:
    """Sums of the fused kernel for dense or CSR X (``h_out``: see ``dense_sums``)."""
    if is_sparse(X):
        return csr_sums(X, y, s, w, b, h_out)
    return dense_sums(X, y, s, w, b, with_grad, h_out)
