"""The softmax pass over CSR X in two phases: rows, then columns — parallel, no K·n partials.

The generic CSR pass with K functions (``_passes``, layout ``csr_k``) scatters G += dZ·X row by
row into a partial G (K·n doubles) per task; on wide text-like X those partials are bigger than
X (20 classes × 100,000 features: 16 MB a task against 7 MB of X), so ``_layout.sparse_layout``
gives such a pass **one** task: it runs on one thread whatever ``n_threads``. Here, for the
softmax datafit (its gradient and its H·v pass):

1. **rows** (parallel over groups of blocks): per block of the generic pass's blocks — the same
   rows, the same margins (``_xpass.csr_margins_k``) and the same pointwise hook — the block's
   dZ is stored row-major into D (m, K), and its loss and intercept sums are kept per block;
2. **columns** (parallel over column ranges of equal nonzeros): G[:, j] = Σᵢ x_ij·D[i, :] over
   column j of X's CSC copy (rows in order), written straight into G's layout (class-major
   (K, n) for the objective, feature-major for the public kernel: no transpose after the pass).

Both phases replay the generic pass's summation order — the per-block sums added block by block
within each of its tasks (``task_rows``, the generic pass's task layout), each G[k, j] summed
over a task's rows in order, the tasks added in task order — and the products are the same
unfused ones (compiled without fastmath): the sums are **bitwise** the generic pass's, at every
thread count (tests/test_multinomial.py checks it). Measured: see ``_sums.SOFTMAX_CSR_MIN``.

Memory: D (m × K doubles) during the pass, and X's CSC copy (as big as X) with an (n, K) buffer
for W's feature-major copy (``Transposed.feature_major_buffer``), held by the caller
(``fastlr._data.ArrayData``, for one fit).
"""

from __future__ import annotations

import types

import numpy as np
from numba import prange

from .._jit import jit, numba_threads, parallel_guard, threads_for
from . import _xpass
from .datafits import SOFTMAX

__all__ = ["Transposed", "column_tasks", "compiled", "feature_major_copy", "run"]

POINTWISE = SCRATCH = None  # bound per specialisation (``compiled``)

#: column tasks of the column phase, at most
MAX_COLUMN_TASKS = 64
#: groups of row blocks of the row phase, at most
MAX_ROW_GROUPS = 64


class Transposed:
    """X's CSC arrays (column j: rows ``indices[indptr[j]:indptr[j + 1]]``, ascending, with
    their values) and the column tasks; built once per X (``of``)."""

    def __init__(self, X):
        C = X.tocsc()  # scipy keeps each row's nonzeros in row order within a column
        self.data = _ro(np.ascontiguousarray(C.data, dtype=np.float64))
        self.indices = _ro(np.ascontiguousarray(C.indices))
        self.indptr = _ro(np.ascontiguousarray(C.indptr))
        self.tasks = _ro(column_tasks(self.indptr, MAX_COLUMN_TASKS))
        self._feature_major = None

    def feature_major_buffer(self, K: int) -> np.ndarray:
        """An (n, K) float64 buffer for the rows phase's W, kept for this X: a fresh 16 MB array
        per pass cost its page faults each time (corpus20: ~2.5 ms a copy in a fit against
        ~0.6 ms into a buffer already touched)."""
        n = self.indptr.shape[0] - 1
        buf = self._feature_major
        if buf is None or buf.shape != (n, K):
            buf = self._feature_major = np.empty((n, K))
        return buf


def _ro(a):
    view = a.view()
    view.flags.writeable = False
    return view


def column_tasks(indptr, n_tasks: int) -> np.ndarray:
    """Column boundaries (n_tasks' + 1,) of at most ``n_tasks`` ranges of about equal nonzeros."""
    n = indptr.shape[0] - 1
    nnz = int(indptr[-1])
    if n == 0 or nnz == 0:
        return np.array([0, n], dtype=np.int64)
    targets = (np.arange(1, n_tasks, dtype=np.float64) * nnz / n_tasks)
    cuts = np.searchsorted(np.asarray(indptr[1:], dtype=np.float64), targets, side="left") + 1
    bounds = np.unique(np.concatenate([[0], np.minimum(cuts, n), [n]])).astype(np.int64)
    return bounds


def _rows(data, indices, indptr, Wt, b, f0, f1, f2, f3, curv, D, starts, counts, BL, BG,
          block_rows, n_groups):
    """Phase 1 (module docstring): block ``blk`` = rows starts[blk] … + counts[blk]; its dZ into
    D (when D has rows), its loss total into BL[blk], its intercept sums into BG[blk]."""
    fit = (f0, f1, f2, f3)
    X = (data, indices, indptr)
    K = b.shape[0]
    n_blocks = starts.shape[0]
    per = -(-n_blocks // n_groups)
    store = D.shape[0] > 0
    for grp in prange(n_groups):
        Z = np.empty((K, block_rows))
        scratch = SCRATCH(K, block_rows)
        gbz = np.empty(K)
        lt = np.empty(1)
        for blk in range(grp * per, min(n_blocks, (grp + 1) * per)):
            start = starts[blk]
            count = counts[blk]
            _xpass.csr_margins_k(X, start, count, Wt, b, Z)
            for k in range(K):
                gbz[k] = 0.0
            lt[0] = 0.0
            acc = POINTWISE(Z, start, count, fit, scratch, curv, 0, (0.0, 0.0), lt, gbz)
            BL[blk, 0] = acc[0]
            BL[blk, 1] = acc[1]
            for k in range(K):
                BG[blk, k] = gbz[k]
            if store:
                for i in range(count):
                    Di = D[start + i]
                    for k in range(K):
                        Di[k] = Z[k, i]
    return 0


@jit()
def _replay(BL, BG, block_task, n_tasks, out_b, out_loss):
    """The generic pass's loss and intercept sums from the blocks' (``_layout._over_tasks``:
    each task's running sums from 0, the tasks added in task order)."""
    K = BG.shape[1]
    n_blocks = BL.shape[0]
    row = np.empty(K)
    blk = 0
    for t in range(n_tasks):
        loss_t = 0.0
        db_t = 0.0
        for k in range(K):
            row[k] = 0.0
        while blk < n_blocks and block_task[blk] == t:
            loss_t += BL[blk, 0]
            db_t += BL[blk, 1]
            for k in range(K):
                row[k] += BG[blk, k]
            blk += 1
        lt = 0.0 + loss_t
        row[0] += db_t
        if t == 0:
            out_loss[0] = lt
            for k in range(K):
                out_b[k] = row[k]
        else:
            out_loss[0] += lt
            for k in range(K):
                out_b[k] += row[k]


def _columns(cdata, crows, cptr, tasks, D, G, task_rows, feature_major, V, S, lam):
    """Phase 2 (module docstring): G[:, j] for the columns of each column task. With a
    direction V (K, n) (``finish``), G[k, j] = sum / S + λ·V[k, j] instead: the objective's
    H·v (``_solvers._sweeps.scaled_plus``'s arithmetic), with no pass over G afterwards.

    Class-major G (and V) are written (read) a tile of ``TILE_COLUMNS`` columns at a time: the
    tile's sums, feature-major in a small buffer, go out as K contiguous runs. Column by column,
    K strided stores (and loads of V) cost nearly as much as the sums: make_text_corpus 40,000
    x 100,000, K = 20, 1 thread, median of 9: 13.3 ms, with V 19.2 ms -> tiles of 64 columns
    12.0 / 15.3, 256 10.7 / 13.2, 1,024 10.9 / 12.2 (feature-major G, no tile: 8.5 ms). Filling
    a class-major tile instead (K strided stores into L1, then contiguous copies) was slower:
    12.3 / 15.1 at 256. Prefetching D's rows did not help (10.6-11.0 / 15.5)."""
    finish = V.shape[0] > 0
    single = np.uint64(task_rows) >= np.uint64(D.shape[0])
    K = D.shape[1]
    n_tasks = tasks.shape[0] - 1
    for c in prange(n_tasks):
        tile = np.empty((TILE_COLUMNS, K))
        part = np.empty(K)
        for j0 in range(tasks[c], tasks[c + 1], TILE_COLUMNS):
            j1 = min(tasks[c + 1], j0 + TILE_COLUMNS)
            for j in range(j0, j1):
                fin = G[j] if feature_major else tile[j - j0]
                for k in range(K):
                    fin[k] = 0.0
                q = np.uint64(cptr[j])
                end = np.uint64(cptr[j + 1])
                if single:  # one task of the generic pass (wide X, many classes): one sum
                    for r in range(q, end):
                        v = cdata[r]
                        Di = D[np.uint64(crows[r])]
                        for k in range(K):
                            fin[k] += v * Di[k]
                    q = end
                while q < end:
                    t = np.uint64(crows[q]) // np.uint64(task_rows)
                    stop = (t + np.uint64(1)) * np.uint64(task_rows)
                    for k in range(K):
                        part[k] = 0.0
                    while q < end and np.uint64(crows[q]) < stop:
                        v = cdata[q]
                        Di = D[np.uint64(crows[q])]
                        for k in range(K):
                            part[k] += v * Di[k]
                        q += np.uint64(1)
                    if t == 0:
                        for k in range(K):
                            fin[k] = part[k]
                    else:
                        for k in range(K):
                            fin[k] += part[k]
            if feature_major:
                continue
            for k in range(K):
                Gk = G[k]
                if finish:
                    Vk = V[k]
                    for j in range(j0, j1):
                        Gk[j] = tile[j - j0, k] / S + lam * Vk[j]
                else:
                    for j in range(j0, j1):
                        Gk[j] = tile[j - j0, k]
    return 0


#: columns of one tile of the column phase (its sums: TILE_COLUMNS × K doubles; ``_columns``)
TILE_COLUMNS = 256


def _twice(func, name, bindings=None, fast=False):
    """(serial, parallel) compiled copies of ``func`` named ``name`` / ``name_parallel``, with
    module globals rebound (as ``_passes._specialise``); ``fast`` as the pass it replays."""
    glb = dict(func.__globals__, **(bindings or {}))
    out = []
    for suffix, parallel in (("", False), ("_parallel", True)):
        copy = types.FunctionType(func.__code__, glb, name + suffix, func.__defaults__)
        copy.__qualname__ = name + suffix
        out.append(jit(parallel=parallel, fast=fast)(copy))
    return tuple(out)


#: columns of W per chunk of the feature-major copy (the parallel loop's unit of work)
COPY_COLUMNS = 4096


def _feature_major(A, out):
    """out (n, K) = Aᵀ for class-major A (K, n), in chunks of ``COPY_COLUMNS`` columns, each
    row of out written whole."""
    K, n = A.shape
    n_chunks = -(-n // COPY_COLUMNS)
    for c in prange(n_chunks):
        j0 = c * COPY_COLUMNS
        j1 = min(n, j0 + COPY_COLUMNS)
        for j in range(j0, j1):
            row = out[j]
            for k in range(K):
                row[k] = A[k, j]
    return 0


_BUILT: dict = {}


def feature_major_copy(W, threads: int, out=None):
    """W (K, n) as the rows phase reads it, (n, K) contiguous: a copy into ``out`` (a new array
    by default) on ``threads`` threads. NumPy's strided copy is serial: K = 20, n = 100,000,
    into a touched buffer, 1.2 ms against 0.5-0.7 ms on 2 threads."""
    pair = _BUILT.get("feature_major")
    if pair is None:
        pair = _BUILT["feature_major"] = _twice(_feature_major, "softmax_csr_feature_major")
    W = np.ascontiguousarray(W, dtype=np.float64)
    if out is None:
        out = np.empty((W.shape[1], W.shape[0]))
    _call(pair, min(threads, -(-W.shape[1] // COPY_COLUMNS)), W, out)
    return out


def compiled(step: str):
    """(rows (serial, parallel), columns (serial, parallel)) for the softmax ``step``
    ("pointwise" or "hessp")."""
    drivers = _BUILT.get(step)
    if drivers is None:
        rows = _twice(_rows, f"softmax_csr_rows__{step}",
                      dict(POINTWISE=getattr(SOFTMAX, step), SCRATCH=SOFTMAX.scratch),
                      fast=True)  # the generic pass's template is compiled so (the hooks inline)
        columns = _BUILT.get("columns")
        if columns is None:
            columns = _BUILT["columns"] = _twice(_columns, "softmax_csr_columns")
        drivers = _BUILT[step] = (rows, columns)
    return drivers


def _call(pair, threads, *args):
    serial, parallel = pair
    if threads <= 1:
        return serial(*args)
    import numba

    with numba_threads(threads), numba.parallel_chunksize(1), parallel_guard():
        return parallel(*args)


def blocks_of(m: int, task_rows: int, block_rows: int):
    """(starts, counts, task of each block) of the generic pass's blocks."""
    starts, counts, owner = [], [], []
    for t in range(-(-m // task_rows)):
        stop = min(m, (t + 1) * task_rows)
        s = np.arange(t * task_rows, stop, block_rows, dtype=np.int64)
        starts.append(s)
        counts.append(np.minimum(block_rows, stop - s))
        owner.append(np.full(s.shape[0], t, dtype=np.int64))
    return np.concatenate(starts), np.concatenate(counts), np.concatenate(owner)


_NO_V = np.empty((0, 0))


def run(step, X, T: Transposed, Wt, b, fit_arrays, curvature, with_grad, task_rows, block_rows,
        feature_major, work_bytes, finish=None):
    """The pass (module docstring): (G (K, n), or (n, K) when ``feature_major``; g_b (K,);
    loss (1,)) — G is None without ``with_grad``. ``finish`` = (S, λ, V, out): G = G / S + λ·V
    written into ``out`` (K, n) (returned as G)."""
    m, n = X.shape
    K = b.shape[0]
    rows, columns = compiled(step)
    starts, counts, owner = blocks_of(m, task_rows, block_rows)
    n_blocks = starts.shape[0]
    BL = np.empty((n_blocks, 2))
    BG = np.empty((n_blocks, K))
    # a fresh D per pass: thread-safe, and freed with the pass (the allocator reuses the
    # block from pass to pass at this size)
    D = np.empty((m, K)) if with_grad else np.empty((0, K))
    threads = threads_for(work_bytes)
    n_groups = min(MAX_ROW_GROUPS, n_blocks)
    # X's arrays read-only, as the generic pass passes them: one compiled signature of the
    # shared gather (``_xpass.csr_margins_k``) serves both passes
    _call(rows, min(threads, n_groups), _ro(X.data), _ro(X.indices), _ro(X.indptr), Wt, b,
          *fit_arrays, curvature, D, starts, counts, BL, BG, block_rows, n_groups)
    gb = np.empty(K)
    loss = np.empty(1)
    _replay(BL, BG, owner, -(-m // task_rows), gb, loss)
    if not with_grad:
        return None, gb, loss
    if finish is None:
        G = np.empty((n, K) if feature_major else (K, n))
        V, S, lam = _NO_V, 1.0, 0.0
    else:
        S, lam, V, G = finish
    _call(columns, min(threads, T.tasks.shape[0] - 1), T.data, T.indices, T.indptr, T.tasks,
          D, G, int(task_rows), bool(feature_major), V, float(S), float(lam))
    return G, gb, loss
