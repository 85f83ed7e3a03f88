"""How fastlr compiles and runs its kernels: Numba's flags, the disk cache, the threads.

Compiling
    ``jit`` wraps ``numba.njit`` (lazy: nothing compiles before a kernel's first call) with the
    on-disk cache of ``fastlr._cache`` (on by default; ``FASTLR_CACHE=0`` turns it off).
    ``FAST_FLAGS`` is the fastmath flag set of the reduction kernels: it lets LLVM reassociate and
    vectorise sums, but leaves out ``nnan`` and ``ninf``, so NaN and inf in X or w still propagate
    (Numba's all-flags fastmath would let LLVM assume they never occur).

Threading layer (chosen by Numba at the first parallel launch, for the whole process)
    Unless the user chose one (``NUMBA_THREADING_LAYER`` or ``NUMBA_THREADING_LAYER_PRIORITY``),
    fastlr asks for the fork-safe layers first: TBB (work stealing: a thread on a busy core does
    less of the work instead of holding everyone up), then workqueue, then OpenMP last — GNU
    OpenMP kills a forked child (``fork() called from a process already using GNU OpenMP``),
    which is what ``multiprocessing`` does by default on Linux. TBB comes from the ``tbb`` wheel,
    whose library pip puts in the environment's ``lib`` directory where Numba does not look;
    ``import fastlr`` loads it by its path (``fastlr._forksafe``), so Numba finds it even when
    the user calls ``numba.set_num_threads`` before fastlr's first kernel. Where GNU OpenMP was
    launched anyway (before ``import fastlr``, without TBB) and this process may be a forked
    child of the one that launched it, the kernels run on one thread, with a
    :class:`ThreadingLayerWarning`, instead of being killed.

Threads per call (``threads_for``)
    A parallel launch costs tens of microseconds on a quiet machine, but when a core is busy a
    thread that loses it for a time slice (~3 ms) holds the whole call up, so work below
    ``PARALLEL_MIN_BYTES`` (32 MB: a call of ~2-3 ms on one thread) runs on the calling thread
    alone. Above it, the kernels use ``numba.get_num_threads()`` threads,
    capped by ``OMP_NUM_THREADS`` when the process was given one and not ``NUMBA_NUM_THREADS``
    (joblib/loky and Dask workers announce their share of the cores that way).
"""

from __future__ import annotations

import os
import threading
import warnings
from contextlib import contextmanager

import numba

from . import _cache, _forksafe

__all__ = ["FAST_FLAGS", "ThreadingLayerWarning", "jit", "max_threads", "numba_threads",
           "parallel_guard", "threads_for"]

#: Fastmath without ``nnan``/``ninf``/``afn``: reassociation for vectorised reductions, nothing
#: that changes what NaN, inf or ``exp``/``log1p`` return.
FAST_FLAGS = frozenset({"nsz", "arcp", "contract", "reassoc"})

#: Work (bytes of X read, or the equivalent) below which a kernel runs on one thread: from 32 MB
#: two threads win on the shared 2-core machine even with a process spinning on one core (1.16-1.24x
#: over one thread; 0.82-0.97x below 16 MB), and below it the parallel driver is never compiled.
#: Figures in docs/user_guide/performance.rst ("Threads"); guarded by bench_kernels.LossGrad.
PARALLEL_MIN_BYTES = 32_000_000


def jit(*, parallel: bool = False, fast: bool = False, strict: bool = False,
        inline: str = "never"):
    """``numba.njit`` with fastlr's flags and disk cache; ``FAST_FLAGS`` when ``fast``; only
    ``contract`` (FMA) when ``strict`` (the exp/log1p arithmetic, which reassociation breaks).
    """
    fastmath = {"contract"} if strict else (set(FAST_FLAGS) if fast else False)

    def decorate(func):
        dispatcher = numba.njit(parallel=parallel, fastmath=fastmath, inline=inline, nogil=True,
                                error_model="numpy", cache=False)(func)
        _cache.attach(dispatcher)
        return dispatcher

    return decorate


# --------------------------------------------------------------------------- threading layer

def _configure_threading_layer() -> None:
    _forksafe.note_unlaunched()
    if _forksafe.user_chose_layer():
        return  # the user's choice wins
    _forksafe.load_tbb()
    if numba.config.THREADING_LAYER == "default":
        numba.config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]


class ThreadingLayerWarning(UserWarning):
    """fastlr runs its kernels on one thread: Numba's layer would kill this process."""


_serial_for = None  # the pid whose layer was found to be GNU OpenMP from another process
_warned_serial = False


def _gnu_openmp_from_elsewhere() -> bool:
    """Numba's layer is GNU OpenMP, not chosen by the user, and maybe launched by a process
    this one was forked from: Numba kills a forked child at its first parallel kernel. (Launched
    before ``import fastlr`` it may be this process's own; that cannot be told, so it counts.)"""
    global _serial_for
    pid = os.getpid()
    if _serial_for == pid:
        return True
    if _forksafe.launched_here() or _forksafe.user_chose_layer():
        return False
    if numba.config.THREADING_LAYER != "default":
        return False  # chosen in code (numba.config.THREADING_LAYER = ...): the user's choice
    try:
        layer = numba.threading_layer()
    except ValueError:  # not launched: it will be, here
        return False
    if layer != "omp":
        return False
    from numba.np.ufunc import omppool

    if getattr(omppool, "openmp_vendor", "GNU") != "GNU":
        return False  # Intel's and Microsoft's OpenMP are fork-safe
    _serial_for = pid
    return True


def _warn_serial() -> None:
    global _warned_serial
    if _warned_serial:
        return
    _warned_serial = True
    warnings.warn(
        "Numba's threading layer is GNU OpenMP, launched before fastlr was imported or in a "
        "process this one was forked from (numba.set_num_threads, numba.get_num_threads or a "
        "parallel Numba function ran first, without TBB); a forked process that runs a "
        "parallel kernel under it is killed, so fastlr runs its kernels on one thread here. "
        "Import fastlr before touching Numba's threads (it then loads the fork-safe TBB layer; "
        "pip install tbb), start processes with 'spawn' or 'forkserver', or choose a layer "
        "yourself with NUMBA_THREADING_LAYER.", ThreadingLayerWarning, stacklevel=4)


_configure_threading_layer()


# --------------------------------------------------------------------------- threads per call

def _env_threads(name: str) -> int | None:
    try:
        value = int(os.environ.get(name, ""))
    except ValueError:
        return None
    return value if value > 0 else None


def max_threads() -> int:
    """Numba threads a kernel may use from this Python thread.

    ``numba.get_num_threads()`` (``numba.set_num_threads`` and ``NUMBA_NUM_THREADS`` set it),
    capped by ``OMP_NUM_THREADS`` unless ``NUMBA_NUM_THREADS`` was given explicitly.
    """
    _forksafe.note_unlaunched()  # before get_num_threads, which launches the layer
    n = numba.get_num_threads()
    if "NUMBA_NUM_THREADS" not in os.environ:
        cap = _env_threads("OMP_NUM_THREADS")
        if cap is not None:
            n = min(n, cap)
    if n > 1 and _gnu_openmp_from_elsewhere():
        _warn_serial()
        return 1
    return max(1, n)


def threads_for(work_bytes: float) -> int:
    """Threads for one kernel call that reads about ``work_bytes`` bytes (1 below the cut-off)."""
    if work_bytes < PARALLEL_MIN_BYTES:
        return 1
    return max_threads()


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
