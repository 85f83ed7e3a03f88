"""The X side of every pass: margins Z = W·Xᵀ + b and scatters G += D·X, per memory layout.

A pass (``_passes``) reads X one block of rows at a time. For each block it asks its layout for
the margins of K linear functions,

    Z[k, i] = b[k] + Σⱼ W[k, j]·X[start + i, j]          (k < K, i < count)

hands Z to the datafit's pointwise step (which overwrites it with dZ, ``datafits``), and asks the
layout to scatter the result back,

    G[k, j] += Σᵢ D[k, i]·X[start + i, j],

while the block is still in cache. These loops are the only code that touches X. Each layout comes
in specialisations bound into a pass at compile time (``_passes``), never chosen at run time:

* ``_k`` — K ≥ 1 functions: register blocking over rows and functions, so each value of X
  loaded serves several functions and each row of W or G several rows. The C-order pair is
  ``_vector_rows`` (outer products in explicit vectors, W and G feature-major); the column runs
  take four columns per sweep; CSR takes W and G feature-major (below).
* ``_1`` — what differs for one function (K = 1, the binary model): C-order margins one row at
  a time, vectorised along the row; CSR with W and G as one row (``(1, n)``).

Layouts:

* ``rows`` — X with contiguous rows (C order).
* ``cols`` — X with contiguous columns (F order, e.g. the course's ``X.T``): column runs of a
  block four at a time, so Z or D is read once per four columns (one at a time: 5x slower, 244 vs
  49 ms at 1e6 x 100, one thread).
* ``csr`` — X as its CSR arrays ``(data, indices, indptr)``. The K-function variant takes W and G
  feature-major, ``(n, K)``, so the K values of one feature are contiguous for each nonzero; the
  K = 1 variant takes them as ``(1, n)``, the same memory. Gathers and scatters are compiled
  without fastmath and index with unsigned integers: with ``reassoc`` LLVM turns the gather into
  AVX-512 vgather, slow on AMD cores, and a signed index pays Numba's wrap-around check on every
  access (``bench_kernels.SparseLossGrad``: 8.2 -> 5.0 ms per gather at 200,000 x 2,000, 1 %).

A pure reduction loop never stores: a loop that both stores and reduces gets a run-time alias
check from LLVM, and its scalar fall-back adds in another order, so the sum would depend on where
the arrays happen to lie in memory (the old H·v kernels did: last-bit differences between two
identical calls in one process).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._jit import jit

__all__ = ["N_ROWS", "cols_margins_k", "cols_scatter_k",
           "csr_margins_1", "csr_margins_k", "csr_outer_upper", "csr_scatter_1",
           "csr_scatter_k", "dense_rows", "diag_cols", "diag_csr", "diag_rows", "dots_4x4", "gemm_upper",
           "rows_margins_1", "rows_scatter_1",
           "sparse_rows", "symmetric_from_upper", "transpose_into", "transposed_block"]


@jit(inline="always")
def dense_rows(X):
    return X.shape[0]


@jit(inline="always")
def sparse_rows(X):
    return X[2].shape[0] - 1


# ------------------------------------------------------------------------------ C order

@jit(fast=True, inline="always")
def rows_margins_1(X, start, count, W, b, Z):
    n = X.shape[1]
    v = W[0]
    vb = b[0]
    z = Z[0]
    for k in range(count):
        row = X[start + k]
        acc = 0.0
        for j in range(n):
            acc += row[j] * v[j]
        z[k] = acc + vb


@intrinsic
def _prefetch(typingctx, X, row, col):
    """A hint to fetch the cache line of X[row, col] into L2 (``llvm.prefetch``, read,
    locality 2): no load, no fault, no effect on any result."""
    def codegen(context, builder, sig, args):
        aryty = sig.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        inds = [context.cast(builder, v, t, types.intp) for v, t in zip(args[1:], sig.args[1:])]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, inds)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", [i8p], ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]))
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(2), i32(1)])
        return context.get_dummy_value()

    return types.void(X, row, col), codegen


@jit(inline="always")
def _prefetch_rows(X, first, stop):
    """Prefetch rows first … stop − 1 of X (clipped to X), one hint per cache line."""
    n = X.shape[1]
    step = max(1, 64 // X.itemsize)
    for r in range(first, min(stop, X.shape[0])):
        for c in range(0, n, step):
            _prefetch(X, r, c)


@jit(inline="always")
def _prefetch_row(A, r):
    """Prefetch every cache line of row r of the C-contiguous 2-D array A."""
    n = A.shape[1]
    for c in range(0, n, max(1, 64 // A.itemsize)):
        _prefetch(A, r, c)
    _prefetch(A, r, n - 1)


#: the K-function CSR margins (scatter) prefetch the row of a feature-major W (G) that the
#: nonzero ``PREFETCH_NONZEROS`` ahead reads, where the table is larger than this: a gather out
#: of L2 waits on the cache otherwise. Measured (make_text_corpus 40,000 x 100,000, ~14
#: nonzeros a row, the generic softmax pass, 1 thread, median of 7, 2-core Xeon with 2 MiB L2
#: a core): K = 20 (16 MB tables) 26.3 -> 19.6 ms, K = 50 74.0 -> 59.8 ms; prefetching the
#: smaller tables lost: K = 2 (1.6 MB) 4.9 -> 8.2 ms, K = 5 (4 MB) 10.2 -> 10.9 ms. In the rows
#: phase of the two-phase pass (``_softmax_csr``) at K = 20: 7.1 -> 5.3 ms. Distances 4 / 8 /
#: 16 / 32 nonzeros: 7.2 / 6.4 / 5.9 / 4.2 ms against 7.9 (margins alone)
PREFETCH_TABLE_BYTES = 8 * 2**20
PREFETCH_NONZEROS = 32

#: rows of at most this many bytes get the next block prefetched during the K-function C-order
#: scatter (``_vector_rows``)
PREFETCH_ROW_BYTES = 2048


@jit(fast=True, inline="always")
def dots_4x4(a0, a1, a2, a3, b0, b1, b2, b3, length):
    """The 16 dot products s_rc = Σ_{k < length} a_r[k]·b_c[k] of four vectors against four,
    as (s00, s10, s20, s30, s01, …, s33) — b's index outer: the register block of the Gram
    pass (a: rows of U, b: rows of T). Each value loaded serves four multiply-adds (8 loads per
    16); LLVM vectorises each sum over k (reassociation)."""
    s00 = s10 = s20 = s30 = 0.0
    s01 = s11 = s21 = s31 = 0.0
    s02 = s12 = s22 = s32 = 0.0
    s03 = s13 = s23 = s33 = 0.0
    for k in range(length):
        p = b0[k]
        q = b1[k]
        s = b2[k]
        t = b3[k]
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        s00 += x0 * p
        s10 += x1 * p
        s20 += x2 * p
        s30 += x3 * p
        s01 += x0 * q
        s11 += x1 * q
        s21 += x2 * q
        s31 += x3 * q
        s02 += x0 * s
        s12 += x1 * s
        s22 += x2 * s
        s32 += x3 * s
        s03 += x0 * t
        s13 += x1 * t
        s23 += x2 * t
        s33 += x3 * t
    return (s00, s10, s20, s30, s01, s11, s21, s31, s02, s12, s22, s32, s03, s13, s23, s33)


@jit(fast=True, inline="always")
def rows_scatter_1(X, start, count, D, G):
    """G[0] += D[0]·X over the block, four rows per sweep (the binary model)."""
    n = X.shape[1]
    g0 = G[0]
    d = D[0]
    i = 0
    while i + 4 <= count:
        r0, r1, r2, r3 = X[start + i], X[start + i + 1], X[start + i + 2], X[start + i + 3]
        d0, d1, d2, d3 = d[i], d[i + 1], d[i + 2], d[i + 3]
        for j in range(n):
            g0[j] += (d0 * r0[j] + d1 * r1[j]) + (d2 * r2[j] + d3 * r3[j])
        i += 4
    while i < count:
        r0 = X[start + i]
        d0 = d[i]
        for j in range(n):
            g0[j] += d0 * r0[j]
        i += 1


# ------------------------------------------------------------------------------ F order

@jit(fast=True, inline="always")
def cols_margins_k(X, start, count, W, b, Z):
    n = X.shape[1]
    K = W.shape[0]
    end = start + count
    for k in range(K):
        zk = Z[k]
        for i in range(count):
            zk[i] = b[k]
    j = 0
    while j + 4 <= n:
        c0, c1, c2, c3 = X[start:end, j], X[start:end, j + 1], X[start:end, j + 2], X[start:end, j + 3]
        for k in range(K):
            zk = Z[k]
            w0, w1, w2, w3 = W[k, j], W[k, j + 1], W[k, j + 2], W[k, j + 3]
            for i in range(count):
                zk[i] += (c0[i] * w0 + c1[i] * w1) + (c2[i] * w2 + c3[i] * w3)
        j += 4
    while j < n:
        c0 = X[start:end, j]
        for k in range(K):
            zk = Z[k]
            w0 = W[k, j]
            for i in range(count):
                zk[i] += c0[i] * w0
        j += 1


@jit(fast=True, inline="always")
def cols_scatter_k(X, start, count, D, G):
    n = X.shape[1]
    K = G.shape[0]
    end = start + count
    j = 0
    while j + 4 <= n:
        c0, c1, c2, c3 = X[start:end, j], X[start:end, j + 1], X[start:end, j + 2], X[start:end, j + 3]
        for k in range(K):
            dk = D[k]
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for i in range(count):
                d = dk[i]
                a0 += c0[i] * d
                a1 += c1[i] * d
                a2 += c2[i] * d
                a3 += c3[i] * d
            G[k, j] += a0
            G[k, j + 1] += a1
            G[k, j + 2] += a2
            G[k, j + 3] += a3
        j += 4
    while j < n:
        c0 = X[start:end, j]
        for k in range(K):
            dk = D[k]
            a0 = 0.0
            for i in range(count):
                a0 += c0[i] * dk[i]
            G[k, j] += a0
        j += 1


# ------------------------------------------------------------------------------ CSR

@jit()
def csr_margins_1(X, start, count, W, b, Z):
    data, indices, indptr = X
    w = W[0]
    z = Z[0]
    vb = b[0]
    for k in range(count):
        acc = vb
        for q in range(np.uint64(indptr[start + k]), np.uint64(indptr[start + k + 1])):
            acc += data[q] * w[np.uint64(indices[q])]
        z[k] = acc


@jit()
def csr_scatter_1(X, start, count, D, G):
    data, indices, indptr = X
    d = D[0]
    g = G[0]
    for k in range(count):
        dk = d[k]
        for q in range(np.uint64(indptr[start + k]), np.uint64(indptr[start + k + 1])):
            g[np.uint64(indices[q])] += dk * data[q]


# K functions: each row's K margins (or K values of dZ) live in a contiguous buffer while its
# nonzeros are visited, so a nonzero touches one row of Wt (or Gt) and the buffer, never K
# strided entries of the class-major Z. 40,000 x 100,000 text-like (14 nonzeros a row), K = 20,
# the whole loss and gradient, 1 thread: 193 ms against scipy's X @ W and X.T @ Z alone 214 ms
# (load ~3; bench_kernels.MultinomialTextLossGrad).
#
# Up to ``REGISTER_MARGINS_MAX_K`` (``REGISTER_SCATTER_MAX_K``) functions the sums of four
# functions at a time stay in registers over a row's nonzeros instead (the row's nonzeros
# re-read from L1 for each four); the same sums in the same order, so the same bits. A buffer
# of runtime length K is loaded and stored at every nonzero, its loop vectorised with a
# remainder and an overlap check. make_text_corpus 40,000 x 100,000, ~14 nonzeros a row, 1
# thread, median of 9 (buffer -> registers; scipy's X @ W, Xᵀ @ D): margins K = 2 2.11 ->
# 1.02 ms (1.38), 3 2.57 -> 1.51 (1.64), 5 3.05 -> 1.97 (2.33), 10 4.23 -> 3.74 (3.77), 20
# 6.57 -> 7.93 (7.16), 50 19.6 -> 38.6 (24.6); scatter K = 2 1.81 -> 1.10 (1.32), 3 2.30 ->
# 1.60 (1.77), 5 2.92 -> 2.16 (2.41), 8 2.59 -> 3.42 (3.34), 10 4.24 -> 4.28 (3.93). No
# prefetch there: a prefetch branch inside the four-function loop made it 7x slower (K = 4-8).
REGISTER_MARGINS_MAX_K = 10
REGISTER_SCATTER_MAX_K = 5


@jit()
def _csr_margins_registers(data, indices, indptr, start, count, Wt, b, Z):
    """Z[k, i] = b[k] + Σ_q data[q]·Wt[indices[q], k] over row start + i's nonzeros in order,
    four functions at a time in registers (the comment above)."""
    K = Wt.shape[1]
    for i in range(count):
        q0 = np.uint64(indptr[start + i])
        q1 = np.uint64(indptr[start + i + 1])
        k0 = 0
        while k0 + 4 <= K:
            a0 = b[k0]
            a1 = b[k0 + 1]
            a2 = b[k0 + 2]
            a3 = b[k0 + 3]
            for q in range(q0, q1):
                v = data[q]
                wj = Wt[np.uint64(indices[q])]
                a0 += v * wj[k0]
                a1 += v * wj[k0 + 1]
                a2 += v * wj[k0 + 2]
                a3 += v * wj[k0 + 3]
            Z[k0, i] = a0
            Z[k0 + 1, i] = a1
            Z[k0 + 2, i] = a2
            Z[k0 + 3, i] = a3
            k0 += 4
        while k0 < K:
            a0 = b[k0]
            for q in range(q0, q1):
                a0 += data[q] * Wt[np.uint64(indices[q]), k0]
            Z[k0, i] = a0
            k0 += 1


@jit()
def _csr_scatter_registers(data, indices, indptr, start, count, D, Gt):
    """Gt[indices[q], k] += data[q]·D[k, i] over row start + i's nonzeros in order, four
    functions' D values at a time in registers (the comment above)."""
    K = Gt.shape[1]
    for i in range(count):
        q0 = np.uint64(indptr[start + i])
        q1 = np.uint64(indptr[start + i + 1])
        k0 = 0
        while k0 + 4 <= K:
            d0 = D[k0, i]
            d1 = D[k0 + 1, i]
            d2 = D[k0 + 2, i]
            d3 = D[k0 + 3, i]
            for q in range(q0, q1):
                v = data[q]
                gj = Gt[np.uint64(indices[q])]
                gj[k0] += v * d0
                gj[k0 + 1] += v * d1
                gj[k0 + 2] += v * d2
                gj[k0 + 3] += v * d3
            k0 += 4
        while k0 < K:
            d0 = D[k0, i]
            for q in range(q0, q1):
                Gt[np.uint64(indices[q]), k0] += data[q] * d0
            k0 += 1


@jit()
def csr_margins_k(X, start, count, Wt, b, Z):
    """Wt: (n, K), feature-major. Up to ``REGISTER_MARGINS_MAX_K`` functions the sums run in
    registers (``_csr_margins_registers``); above, in a buffer, and where Wt is larger than
    ``PREFETCH_TABLE_BYTES`` the row that the nonzero ``PREFETCH_NONZEROS`` ahead will read is
    prefetched. (The prefetch test is written out here and in ``csr_scatter_k``: the same test
    as an inlined helper made both loops 3-5x slower, K = 12-20.)"""
    data, indices, indptr = X
    K = Wt.shape[1]
    if K <= REGISTER_MARGINS_MAX_K:
        _csr_margins_registers(data, indices, indptr, start, count, Wt, b, Z)
        return
    ahead = np.uint64(PREFETCH_NONZEROS if Wt.size * Wt.itemsize > PREFETCH_TABLE_BYTES else 0)
    acc = np.empty(K)
    nnz = np.uint64(indices.shape[0])
    for i in range(count):
        for k in range(K):
            acc[k] = b[k]
        for q in range(np.uint64(indptr[start + i]), np.uint64(indptr[start + i + 1])):
            if ahead > 0 and q + ahead < nnz:
                _prefetch_row(Wt, np.uint64(indices[q + ahead]))
            v = data[q]
            wj = Wt[np.uint64(indices[q])]
            for k in range(K):
                acc[k] += v * wj[k]
        for k in range(K):
            Z[k, i] = acc[k]


@jit()
def csr_scatter_k(X, start, count, D, Gt):
    """Gt: (n, K), feature-major. Up to ``REGISTER_SCATTER_MAX_K`` functions the values of D
    sit in registers (``_csr_scatter_registers``); above, in a buffer, with the rows of a Gt
    larger than ``PREFETCH_TABLE_BYTES`` prefetched as in ``csr_margins_k``."""
    data, indices, indptr = X
    K = Gt.shape[1]
    if K <= REGISTER_SCATTER_MAX_K:
        _csr_scatter_registers(data, indices, indptr, start, count, D, Gt)
        return
    ahead = np.uint64(PREFETCH_NONZEROS if Gt.size * Gt.itemsize > PREFETCH_TABLE_BYTES else 0)
    d = np.empty(K)
    nnz = np.uint64(indices.shape[0])
    for i in range(count):
        for k in range(K):
            d[k] = D[k, i]
        for q in range(np.uint64(indptr[start + i]), np.uint64(indptr[start + i + 1])):
            if ahead > 0 and q + ahead < nnz:
                _prefetch_row(Gt, np.uint64(indices[q + ahead]))
            v = data[q]
            gj = Gt[np.uint64(indices[q])]
            for k in range(K):
                gj[k] += v * d[k]


# ------------------------------------------------------------------------------ Gram products
#
# A Hessian adds, per block, B += Σᵢ rᵢ·x̃ᵢx̃ᵢᵀ with x̃ᵢ = [xᵢ, 1] (the intercept last), upper
# triangle only. Dense X: the block is copied once, transposed and widened to float64, into T
# (rows = features, plus a row of ones), and B += (T·diag(r))·Tᵀ by contiguous dot products (a
# SYRK on the block). CSR X: nnzᵢ² updates per row.

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


@jit(fast=True, inline="always")
def gemm_upper(U, T, count, H):
    """H[i, j] += Σ_k U[i, k]·T[j, k] for j ≥ i (k < count): contiguous dots, four rows of U
    against four rows of T per sweep.

    For a symmetric product (U = T·diag(r)) the upper triangle is all of it. Register blocking:
    each load of T[j, :] serves four rows of U and each load of U[i, :] four of T, 8 loads per
    16 multiply-adds (one row against four: 5 per 4). One thread, this kernel alone at
    p x count = 31 x 569 / 101 x 648 / 201 x 648: 24.7 / 282 / 1,150 us one row at a time,
    16.0 / 187 / 735 two rows, 13.4 / 138 / 543 four rows (``dots_4x4``, the margins' block);
    the public ``loss_grad_hess`` at 200,000 x 100 107-111 -> 74-75 ms, 20,000 x 300 87 -> 51 ms
    (``bench_kernels.LossGradHess``). The sums move in the last bits
    (LLVM interleaves a wider block differently); against the long-double oracle as accurate
    or more in every case of ``benchmarks.fingerprint --errors``. A sweep also writes entries
    below the diagonal (H[i + 1, i], …): the lower triangle is never read
    (``symmetric_from_upper``).
    """
    p = T.shape[0]
    i = 0
    while i + 4 <= p:
        u0 = U[i]
        u1 = U[i + 1]
        u2 = U[i + 2]
        u3 = U[i + 3]
        j = i
        while j + 4 <= p:
            (a00, a10, a20, a30, a01, a11, a21, a31, a02, a12, a22, a32,
             a03, a13, a23, a33) = dots_4x4(u0, u1, u2, u3, T[j], T[j + 1], T[j + 2], T[j + 3],
                                            count)
            H[i, j] += a00
            H[i, j + 1] += a01
            H[i, j + 2] += a02
            H[i, j + 3] += a03
            H[i + 1, j] += a10
            H[i + 1, j + 1] += a11
            H[i + 1, j + 2] += a12
            H[i + 1, j + 3] += a13
            H[i + 2, j] += a20
            H[i + 2, j + 1] += a21
            H[i + 2, j + 2] += a22
            H[i + 2, j + 3] += a23
            H[i + 3, j] += a30
            H[i + 3, j + 1] += a31
            H[i + 3, j + 2] += a32
            H[i + 3, j + 3] += a33
            j += 4
        while j < p:
            tj = T[j]
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for k in range(count):
                x = tj[k]
                a0 += u0[k] * x
                a1 += u1[k] * x
                a2 += u2[k] * x
                a3 += u3[k] * x
            H[i, j] += a0
            H[i + 1, j] += a1
            H[i + 2, j] += a2
            H[i + 3, j] += a3
            j += 1
        i += 4
    while i < p:
        ui = U[i]
        for j in range(i, p):
            tj = T[j]
            a = 0.0
            for k in range(count):
                a += ui[k] * tj[k]
            H[i, j] += a
        i += 1


@jit(fast=True, inline="always")
def csr_outer_upper(X, start, count, r, B):
    """B += Σᵢ rᵢ·x̃ᵢx̃ᵢᵀ over a block's rows, upper triangle B[min, max], nnzᵢ² updates per row.
    Duplicate indices (the same column twice in a row) land on the diagonal twice: right."""
    data, indices, indptr = X
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


# ------------------------------------------------------------------------------ diagonals
# D[k, j] += Σᵢ C[k, i]·xᵢⱼ², d_b[k] += Σᵢ C[k, i] over rows start … stop − 1 (the Hessian's
# diagonal: Newton-CG's Jacobi preconditioner).

@jit(fast=True, inline="always")
def diag_rows(X, start, stop, C, D, db):
    n = X.shape[1]
    K = C.shape[0]
    for k in range(K):
        c = C[k]
        d = D[k]
        hb = 0.0
        for i in range(start, stop):
            row = X[i]
            ci = c[i]
            hb += ci  # the outer loop is not vectorised: a plain running sum
            for j in range(n):
                d[j] += ci * row[j] * row[j]
        db[k] += hb


@jit(fast=True, inline="always")
def diag_cols(X, start, stop, C, D, db):
    n = X.shape[1]
    K = C.shape[0]
    for k in range(K):
        c = C[k]
        d = D[k]
        hb = 0.0
        for i in range(start, stop):
            hb += c[i]
        db[k] += hb
        for j in range(n):
            col = X[start:stop, j]
            acc = 0.0
            for i in range(stop - start):
                acc += c[start + i] * col[i] * col[i]
            d[j] += acc


@jit(fast=True, inline="always")
def diag_csr(X, start, stop, C, D, db):
    """A column stored twice in a row counts as the sum of the squares, not the square of the
    sum: an approximate diagonal only slows the preconditioned CG a little."""
    data, indices, indptr = X
    K = C.shape[0]
    for k in range(K):
        c = C[k]
        d = D[k]
        hb = 0.0
        for i in range(start, stop):
            ci = c[i]
            hb += ci
            for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                v = data[q]
                d[np.uint64(indices[q])] += ci * v * v
        db[k] += hb


@jit()
def transpose_into(A, out):
    """out = Aᵀ in 32 x 32 tiles. The CSR pass's feature-major (n, K) gradient back to (K, n):
    NumPy's strided copy took 9.5 ms at K = 20, n = 100,000 on the shared VM, tiles 3.1 ms (a
    plain copy: 2.0 ms)."""
    m, n = A.shape
    for i0 in range(0, m, 32):
        i1 = min(m, i0 + 32)
        for j0 in range(0, n, 32):
            j1 = min(n, j0 + 32)
            for i in range(i0, i1):
                for j in range(j0, j1):
                    out[j, i] = A[i, j]


@jit()
def symmetric_from_upper(B, out):
    """out[q] = the symmetric matrix whose upper triangle (diagonal included) is B[q]'s, for
    each of the (pairs, p, p) blocks of a Gram pass (their lower triangles are not written).
    Copies only, so bitwise the upper triangle mirrored; against NumPy's two ``triu`` and a
    transposed add, 13 -> 1 us at p = 31 (breast_cancer's Newton, one call per iteration)."""
    for q in range(B.shape[0]):
        Bq = B[q]
        Oq = out[q]
        p = Bq.shape[0]
        for i in range(p):
            Oq[i, i] = Bq[i, i]
            for j in range(i + 1, p):
                v = Bq[i, j]
                Oq[i, j] = v
                Oq[j, i] = v


#: names of the row-count function per layout (for ``_passes``)
N_ROWS = {"rows": dense_rows, "cols": dense_rows, "csr": sparse_rows}
