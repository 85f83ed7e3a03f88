"""How fastlr compiles its kernels: one place for Numba's flags.

* ``FASTLR_CACHE=1`` turns on Numba's on-disk compile cache (off by default, as in numbagg). Numba
  writes beside the sources, or, when the package directory is read-only, in its user-wide cache
  directory (``NUMBA_CACHE_DIR`` overrides both).
* ``FAST_FLAGS`` is the fastmath flag set for the reduction kernels: it lets LLVM reassociate and
  vectorise sums, but leaves out ``nnan`` and ``ninf``, so NaN and inf in X or w still propagate
  (Numba's all-flags fastmath would let LLVM assume they never occur).
* Nothing here compiles: ``jit`` only wraps ``numba.njit``, which compiles lazily on first call.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import numba

__all__ = ["CACHE", "FAST_FLAGS", "jit", "numba_threads", "parallel_guard"]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


CACHE = _env_flag("FASTLR_CACHE")

#: Fastmath without ``nnan``/``ninf``/``afn``: reassociation for vectorised reductions, nothing
#: that changes what NaN, inf or ``exp``/``log1p`` return.
FAST_FLAGS = frozenset({"nsz", "arcp", "contract", "reassoc"})


def jit(*, parallel: bool = False, fast: bool = False, strict: bool = False,
        inline: str = "never"):
    """``numba.njit`` with fastlr's flags: opt-in cache; ``FAST_FLAGS`` when ``fast``; only
    ``contract`` (FMA) when ``strict`` (the exp/log1p arithmetic, which reassociation would break).
    """
    fastmath = {"contract"} if strict else (set(FAST_FLAGS) if fast else False)
    return numba.njit(
        cache=CACHE,
        parallel=parallel,
        fastmath=fastmath,
        inline=inline,
        nogil=True,
        error_model="numpy",
    )


# Numba's "workqueue" threading layer (the fallback when neither TBB nor OpenMP is available)
# aborts the process when two Python threads launch parallel kernels at once. Under that layer
# parallel launches are serialised with a lock; each launch still uses every Numba thread, so
# concurrent callers lose no throughput. OpenMP and TBB are thread-safe and take no lock.
_workqueue_lock = threading.Lock()
_THREAD_SAFE_LAYERS = frozenset({"omp", "tbb"})


def _layer_is_thread_safe() -> bool:
    try:
        return numba.threading_layer() in _THREAD_SAFE_LAYERS
    except ValueError:  # no parallel kernel has run yet, so the layer is not chosen yet
        return False


@contextmanager
def parallel_guard():
    """Context for launching a parallel kernel safely from any Python thread."""
    if _layer_is_thread_safe():
        yield
    else:
        with _workqueue_lock:
            yield


@contextmanager
def numba_threads(n):
    """``numba.set_num_threads(n)`` for the block, restored afterwards; ``None`` changes nothing.

    Numba's thread count is thread-local, so this affects only the calling Python thread.
    """
    if n is None:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(previous)
