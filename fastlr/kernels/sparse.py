"""Fused logistic loss, gradient (and Hessian) for CSR matrices: one pass over the nonzeros.

The raw sums of the dense kernels (``_dense``, ``hessian``), with X given by its CSR arrays
``(data, indices, indptr)``, data float32 or float64, indices int32 or int64:

    zᵢ = b + Σ_{q ∈ row i} data[q]·w[indices[q]]

Each block of rows has its nonzeros read for the margins and then, still in cache, scattered into
the task's partial gradient: one pass over the nonzeros. Tasks are laid out by
``_layout.sparse_layout`` (a function of the shape only) and added in task order.

CSC: a margin needs a scatter over columns and the gradient a gather, so a CSC kernel would need
two passes over the nonzeros plus a length-m partial per task. CSC is converted to CSR instead
(``X.tocsr()``: one O(nnz) copy, the same memory again as X, as scikit-learn's lbfgs path does),
once per fit, and every iteration then reads CSR in one pass.

The Hessian over θ = [w, b] (for Newton) adds sᵢ·hᵢ·x̃ᵢx̃ᵢᵀ per row: nnzᵢ² updates of a dense
(n+1)² matrix, cheap for the few-hundred-feature problems Newton is meant for.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ._pointwise import pointwise_block

__all__ = ["SPARSE_BLOCK_ROWS", "csr_block_outer_upper", "csr_diag_task", "csr_hessp_task",
           "csr_task"]

SPARSE_BLOCK_ROWS = 256


# The gather and the scatter are compiled without fastmath and index with unsigned integers, the
# column indices and the position q in the row alike: with ``reassoc`` LLVM vectorises the gather
# into AVX-512 vgather, which is slow on AMD cores, and a signed index gets Numba's negative-index
# wrap-around on every access. 200,000 x 2,000 at 1 % density, one thread, per pass (gather;
# scatter): signed column indices 8.2; 6.2 ms (AMD EPYC); unsigned column indices 5.0; 5.0 ms
# (AMD), 7.2; 7.7 ms (Intel Xeon); also an unsigned position 4.7; 5.1 ms (Intel), where scipy's
# matvec and rmatvec take 5.1 and 5.0 ms. Unrolling either loop by 4 with separate accumulators
# changed nothing measurable (4.9; 5.0 ms), nor did int64 indices. Indices and indptr are checked
# once per fit, by the caller (``fastlr._validation.check_csr_structure``).
@jit()
def csr_block_margins(data, indices, indptr, w, b, start, count, z):
    for k in range(count):
        acc = b
        for q in range(np.uint64(indptr[start + k]), np.uint64(indptr[start + k + 1])):
            acc += data[q] * w[np.uint64(indices[q])]
        z[k] = acc


@jit()
def csr_block_scatter(data, indices, indptr, dz, start, count, g):
    for k in range(count):
        d = dz[k]
        for q in range(np.uint64(indptr[start + k]), np.uint64(indptr[start + k + 1])):
            g[np.uint64(indices[q])] += d * data[q]


@jit(fast=True, inline="always")
def csr_block_outer_upper(data, indices, indptr, start, count, r, B):
    """B += Σᵢ rᵢ·x̃ᵢx̃ᵢᵀ over a block's rows, x̃ᵢ = [xᵢ, 1] (the intercept is B's last row and
    column): the upper triangle only, B[min, max], nnzᵢ² updates per row."""
    n = B.shape[0] - 1
    for i in range(count):
        ri = r[i]
        lo = np.uint64(indptr[start + i])
        hi = np.uint64(indptr[start + i + 1])
        B[n, n] += ri
        for q in range(lo, hi):
            jq = indices[q]
            v = ri * data[q]
            B[jq, n] += v
            for qq in range(lo, hi):
                jr = indices[qq]
                if jq <= jr:
                    B[jq, jr] += v * data[qq]
                # duplicate indices (jq == jr at q != qq) land on the diagonal twice: right


@jit(fast=True)
def csr_task(t, out, data, indices, indptr, y, s, w, b, task_rows, h_out, with_hess):
    """One task: rows in blocks of ``SPARSE_BLOCK_ROWS``: gather the margins, one vectorised
    pointwise step, then scatter dz·x while the block's nonzeros are in cache. One thread,
    200,000 x 2,000 at 1 %: per-row scalar exp/log1p 19.8 ms, blocks with the vectorised step
    16 ms, plus the strict unsigned gather/scatter above 11.9 ms (AMD EPYC).

    ``out``: [loss, g_w (n), g_b] and, ``with_hess``, the upper triangle of H over θ = [w, b]
    ((n+1)², nnzᵢ² updates per row); a non-empty ``h_out`` receives sᵢ·σ(zᵢ)(1 − σ(zᵢ)).
    """
    m = indptr.shape[0] - 1
    n = w.shape[0]
    p = n + 1
    weighted = s.shape[0] > 0
    block = SPARSE_BLOCK_ROWS
    z = np.empty(block)
    e = np.empty(block)
    loss = np.empty(block)
    h = np.empty(block)
    scale_bits = np.empty((2, block), dtype=np.int64)
    with_h = h_out.shape[0] > 0
    g = out[1:n + 1]
    H = out[p + 1:].reshape((p if with_hess else 0, p))
    loss_t = 0.0
    db_t = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block):
        count = min(block, stop - start)
        csr_block_margins(data, indices, indptr, w, b, start, count, z)
        pointwise_block(z, y, s, start, count, weighted, e, scale_bits, loss, h,
                        with_h or with_hess)
        for k in range(count):
            loss_t += loss[k]
            db_t += z[k]
        if with_h:
            for k in range(count):
                h_out[start + k] = h[k]
        csr_block_scatter(data, indices, indptr, z, start, count, g)
        if with_hess:
            csr_block_outer_upper(data, indices, indptr, start, count, h, H)
    out[0] = loss_t
    out[n + 1] = db_t


@jit(fast=True)
def csr_hessp_task(t, out, data, indices, indptr, hs, v, vb, task_rows):
    """One task of H·v for CSR X: per block, u = hᵢ·(xᵢ·v + v_b) by the gather, then
    Σ uᵢ·xᵢ by the scatter (one pass over the nonzeros, as the gradient)."""
    m = indptr.shape[0] - 1
    n = v.shape[0]
    block = SPARSE_BLOCK_ROWS
    u = np.empty(block)
    hv = out[:n]
    hb = 0.0
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block):
        count = min(block, stop - start)
        csr_block_margins(data, indices, indptr, v, vb, start, count, u)
        for k in range(count):
            u[k] *= hs[start + k]
            hb += u[k]
        csr_block_scatter(data, indices, indptr, u, start, count, hv)
    out[n] = hb


@jit(fast=True)
def csr_diag_task(t, out, data, indices, indptr, hs, n, task_rows):
    """One task of the Hessian's diagonal for CSR X: [Σ hᵢ·xᵢⱼ² (n), Σ hᵢ]. A column stored
    twice in a row counts as the sum of the squares, not the square of the sum: this is the
    Jacobi preconditioner of Newton-CG, where an approximate diagonal only slows CG a little."""
    m = indptr.shape[0] - 1
    d = out[:n]
    hb = 0.0
    for i in range(t * task_rows, min(m, (t + 1) * task_rows)):
        hi = hs[i]
        hb += hi
        for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            v = data[q]
            d[np.uint64(indices[q])] += hi * v * v
    out[n] = hb
