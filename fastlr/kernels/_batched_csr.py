"""The batched CSR pass: K binary problems over CSR X, problem by problem inside each task.

The generic CSR pass with K functions (``_passes``, layout ``csr_k``) holds W and G
feature-major, (n, K): each nonzero reads and writes the K values of its feature together. For a
batch of problems over wide text-like X — a cross-validation grid, a path of Cs, one-vs-rest —
that table is K·n doubles (5 fold models × 100,000 features: 4 MB), out of L2, and every nonzero
is a miss into it. Here each task (the same rows as the generic pass's tasks) runs its rows in
chunks of ``CHUNK_ROWS``; for each chunk:

1. the margins of **all** problems, one problem at a time: Z[k, i] = b[k] + Σ x_iq·W[k, j_q]
   with W class-major (K, n), so the gather reads one row W[k] (n doubles, 800 KB at
   100,000 features: L2-sized) while the chunk's nonzeros are re-read from cache;
2. the datafit's pointwise step on the chunk's blocks of ``SPARSE_BLOCK_ROWS`` rows — the same
   blocks, in the same order, as the generic pass (so the per-block loss and intercept sums are
   added the same way);
3. the scatter, one problem at a time, into G[k] (class-major, the layout the objective wants:
   no transpose afterwards).

Every sum is formed in the order the generic pass forms it (each margin over the row's
nonzeros in order; each G[k, j] over the rows in order; the tasks added in task order), and the
gather and scatter are compiled without fastmath as there: the result is **bitwise** the generic
pass's (tests/test_engine.py checks it, and both against NumPy). A problem's held-out rows
(factor 0) are skipped in the gather (their margin set to 0: their weight is 0 either way) and
rows with a zero derivative in the scatter (adding 0 changes no sum). Measured (text-like CSR
100,000 × 100,000, 20 nonzeros a row, 1 thread, min of 7-9 interleaved, shared 2-core Intel
machine with 2 MiB L2 per core, load 3-5): K = 5 fold models 31-33 ms a pass against the
generic pass's 37-40; K = 10 142 vs 159 ms, 20 281 vs 289, 50 1,003 vs 875 — hence
``_sums.BATCHED_CSR_MAX_K`` = 20.

Memory: Z of one chunk, K·CHUNK_ROWS doubles per task, besides the tasks' partial sums (K·n + 2K
doubles each, as the generic pass).
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from . import _layout
from ._layout import SPARSE_BLOCK_ROWS
from .datafits import BATCHED

__all__ = ["CHUNK_BYTES", "CHUNK_ROWS", "chunk_rows", "compiled"]

#: rows whose margins are formed before their pointwise step and scatter, at most (a multiple
#: of the pass's block rows: the pointwise blocks stay the generic pass's). Measured (text-like
#: CSR 100,000 × 100,000, 20 nonzeros a row, K = 5, 1 thread, min of 9, 4 rounds, load ~3):
#: 1,024 rows 46 ms, 4,096 37, 8,192 34-36, 16,384 33-34, 32,768 33 (the generic pass 38-39)
CHUNK_ROWS = 128 * SPARSE_BLOCK_ROWS
#: and the chunk's margins Z (K × rows doubles per task) stay under this
CHUNK_BYTES = 8 * 2**20


def chunk_rows(K: int) -> int:
    """Rows of one chunk for K problems: ``CHUNK_ROWS``, fewer where Z would pass
    ``CHUNK_BYTES``; a multiple of the block rows."""
    rows = min(CHUNK_ROWS, CHUNK_BYTES // (8 * max(1, K)))
    return max(SPARSE_BLOCK_ROWS, rows - rows % SPARSE_BLOCK_ROWS)

POINTWISE = SCRATCH = None  # bound per specialisation (``compiled``)


@jit()
def _margins_1(data, indices, indptr, start, count, w, bk, fk, groups, Z3, k, block_rows):
    """Z3[i // B, k, i % B] = bk + Σ_q data[q]·w[indices[q]] over rows start … start+count−1;
    0 for a row the problem leaves out (its factor fk[group] is 0: a fold's held-out rows)."""
    for i in range(count):
        if fk[groups[start + i]] == 0.0:
            Z3[i // block_rows, k, i % block_rows] = 0.0
            continue
        acc = bk
        for q in range(np.uint64(indptr[start + i]), np.uint64(indptr[start + i + 1])):
            acc += data[q] * w[np.uint64(indices[q])]
        Z3[i // block_rows, k, i % block_rows] = acc


@jit()
def _scatter_1(data, indices, indptr, start, count, g, Z3, k, block_rows):
    """g[indices[q]] += data[q]·Z3[i // B, k, i % B] over the rows' nonzeros, in row order; a
    row whose value is 0 (left out, or a zero derivative) adds nothing and is skipped."""
    for i in range(count):
        d = Z3[i // block_rows, k, i % block_rows]
        if d == 0.0:
            continue
        for q in range(np.uint64(indptr[start + i]), np.uint64(indptr[start + i + 1])):
            g[np.uint64(indices[q])] += data[q] * d


def _task(t, out, data, indices, indptr, W, b, block_rows, task_rows, chunk_rows, f0, f1, f2,
          f3, curv, with_grad):
    fit = (f0, f1, f2, f3)
    m = indptr.shape[0] - 1
    K, n = W.shape
    G = out[:K * n].reshape((K, n))
    gb = out[K * n:K * n + K]
    lt = out[K * n + K:K * n + 2 * K]
    n_blocks = chunk_rows // block_rows
    Z3 = np.empty((n_blocks, K, block_rows))
    scratch = SCRATCH(K, block_rows)
    acc = (0.0, 0.0)
    stop = min(m, (t + 1) * task_rows)
    for first in range(t * task_rows, stop, chunk_rows):
        rows = min(chunk_rows, stop - first)
        for k in range(K):
            _margins_1(data, indices, indptr, first, rows, W[k], b[k], f2[k], f0, Z3, k,
                       block_rows)
        for blk in range(-(-rows // block_rows)):
            start = first + blk * block_rows
            count = min(block_rows, stop - start)
            acc = POINTWISE(Z3[blk], start, count, fit, scratch, curv, 0, acc, lt, gb)
        if with_grad:
            for k in range(K):
                _scatter_1(data, indices, indptr, first, rows, G[k], Z3, k, block_rows)
    lt[0] += acc[0]
    gb[0] += acc[1]


_BUILT: dict = {}


def compiled(step: str = "pointwise") -> _layout.Drivers:
    """The serial and parallel drivers of the batched CSR pass: ``step`` "pointwise" (the
    gradient pass) or "hessp" (H·v from the kept curvature). Built once per process."""
    drivers = _BUILT.get(step)
    if drivers is None:
        from ._passes import _specialise

        name = f"gradient__batched_csr__{step}"
        task = jit(fast=True)(_specialise(_task, name, dict(
            POINTWISE=getattr(BATCHED, step), SCRATCH=BATCHED.scratch)))
        drivers = _BUILT[step] = _layout.drivers(task)
    return drivers
