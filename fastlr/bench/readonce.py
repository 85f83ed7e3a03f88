"""The floor of every table's "% read": the time to read the input once.

A kernel that must see every element of X cannot be faster than a pass that only reads them, so
each table times, beside the kernels and interleaved with them, a Numba sum over its input at the
same thread count:

* dense X: a sum over X in memory order (C or F, no copy);
* CSR X: a sum over the nonzeros' ``data`` and ``indices`` (what the CSR kernel streams; ``indptr``,
  w and the gradient are small and stay in cache).

"% read" = this time / the kernel's time: 100 % is as fast as memory allows. Both passes split the
input into the same fixed chunks at every thread count and use ``reassoc`` so LLVM vectorises each
chunk's sum. Compiled on first use (importing this module imports Numba, compiles nothing).
"""

from __future__ import annotations

import numpy as np

from .._jit import jit

__all__ = ["READ_CHUNKS", "csr_read_call", "dense_read_call", "read_csr", "read_dense"]

#: fixed chunks, combined in order: the same work split at any thread count, and enough chunks
#: (64) to keep 16 threads busy.
READ_CHUNKS = 64

_compiled = {}


def _kernels():
    if not _compiled:
        from numba import prange

        @jit(fast=True)
        def chunk_sum(a):
            # `range(a.shape[0])` on a slice, not `range(start, stop)`: with a possibly negative
            # start Numba keeps wrap-around indexing and LLVM does not vectorise (measured 5x slower)
            s = 0.0
            for i in range(a.shape[0]):
                s += a[i]
            return s

        @jit(fast=True)
        def chunk_sum_pair(values, ints):
            # one loop over both arrays, as the CSR kernel streams them together
            s = 0.0
            t = 0
            for i in range(values.shape[0]):
                s += values[i]
                t += ints[i]
            return s + t

        @jit(parallel=True, fast=True)
        def read_sum(flat, n_chunks):
            size = flat.shape[0]
            chunk = (size + n_chunks - 1) // n_chunks
            parts = np.empty(n_chunks)  # every chunk writes its own: no zeroing parfor
            for c in prange(n_chunks):
                parts[c] = chunk_sum(flat[c * chunk:min(size, (c + 1) * chunk)])
            total = 0.0
            for c in range(n_chunks):
                total += parts[c]
            return total

        @jit(parallel=True, fast=True)
        def read_pair_sum(values, ints, n_chunks):
            size = values.shape[0]
            chunk = (size + n_chunks - 1) // n_chunks
            parts = np.empty(n_chunks)
            for c in prange(n_chunks):
                lo, hi = c * chunk, min(size, (c + 1) * chunk)
                parts[c] = chunk_sum_pair(values[lo:hi], ints[lo:hi])
            total = 0.0
            for c in range(n_chunks):
                total += parts[c]
            return total

        _compiled.update(read_sum=read_sum, read_pair_sum=read_pair_sum)
    return _compiled


def read_dense(X: np.ndarray) -> float:
    """Σ X in memory order, by the parallel Numba pass (runs at the current Numba thread count)."""
    return _kernels()["read_sum"](_flat(X), READ_CHUNKS)


def read_csr(X) -> float:
    """Σ data + Σ indices of CSR X, by the parallel Numba pass."""
    return _kernels()["read_pair_sum"](X.data, X.indices, READ_CHUNKS)


def _flat(X: np.ndarray) -> np.ndarray:
    flat = np.ravel(X, order="K")  # a view for C- or F-contiguous X
    if not np.shares_memory(flat, X):
        raise ValueError("reading X once needs C- or F-contiguous X")
    return flat


def dense_read_call(X: np.ndarray):
    """A no-argument call that reads X once (for :class:`~fastlr.bench.timing.Contender`)."""
    flat, read_sum = _flat(X), _kernels()["read_sum"]
    return lambda: read_sum(flat, READ_CHUNKS)


def csr_read_call(X):
    """A no-argument call that reads the nonzeros of CSR X once."""
    data, indices, read_pair_sum = X.data, X.indices, _kernels()["read_pair_sum"]
    return lambda: read_pair_sum(data, indices, READ_CHUNKS)
