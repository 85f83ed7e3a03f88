"""How every kernel splits its pass over X into tasks, and how the tasks' sums are added.

A kernel is a *task function* ``task(t, out, *args)`` that reads rows
``t·task_rows … (t+1)·task_rows − 1`` and writes its raw sums into the float64 row ``out`` (the
layout of ``out`` is the kernel's own: loss, weight gradient, intercept gradient, Hessian, …).
:func:`drivers` compiles one driver source twice per task function — a plain loop (no parallel
compile, no thread launch) and a ``prange`` loop — and :func:`run_tasks` runs one of them and
adds the rows of all tasks **in task order**. The task layout depends on the shape of X only,
never on the thread count, so a result is bitwise identical at every thread count, serial or
parallel. Compiling the parallel driver costs about as much as the kernel itself, so a process
that only ever runs small problems (or one thread) never compiles it.

Layouts (rows per block, rows per task) are chosen for the memory hierarchy; see the comments.
"""

from __future__ import annotations

import functools
import threading
import types
from typing import NamedTuple

import numpy as np
from numba import prange

from .._jit import jit, numba_threads, parallel_guard, threads_for

__all__ = ["MAX_TASKS", "SPARSE_BLOCK_ROWS", "Drivers", "dense_layout", "drivers",
           "hessian_layout", "is_column_major", "release_workspace", "run_tasks", "sparse_layout"]

#: Up to this many tasks: enough to balance 2-16 threads, few enough that the per-task partial
#: sums stay small next to X.
MAX_TASKS = 64

# Blocks of about 256 KiB of X. Measured on a 2-core AVX-512 VM (1 MiB L2 per core), 1e6 x 100
# float64, median of 7, two runs: 1 thread 51 / 50 / 48-52 / 47-51 / 48 / 58 ms for 16 / 64 / 128 /
# 256 / 512 / 2048 KiB blocks; 2 threads 40 / 31 / 30-31 / 31-34 / 38 / 29 ms: a flat optimum.
BLOCK_BYTES = 256 * 1024
MIN_BLOCK_ROWS = 8
MAX_BLOCK_ROWS = 4096
# A column-major block is n_features runs of `rows` contiguous values; short runs defeat the
# prefetcher (1e6 x 100, 1 thread: 512-row blocks 56 ms, 4096-row blocks 49 ms), so these blocks
# are sized for L3 and the runs kept at least 2 KiB long.
BLOCK_BYTES_COLUMNS = 4 * 1024 * 1024
MIN_COLUMN_RUN_BYTES = 2048
# Per-task partial Hessians are (n+1)² doubles each, CSR partial gradients n+1: keep their total
# under 128 MiB.
MAX_PARTIAL_DOUBLES = 1 << 24
HESSIAN_BLOCK_BYTES = 256 * 1024
SPARSE_ROWS_PER_TASK_MIN = 256
#: rows per block of a CSR pass: their nonzeros stay in cache from the gather to the scatter
SPARSE_BLOCK_ROWS = 256


def is_column_major(X: np.ndarray) -> bool:
    """Walk X by columns when its within-column stride is the smaller one.

    A single row or column is both C- and F-contiguous, and Numba types it as C: it goes to the
    row kernel, so it needs no compiled specialisation of its own.
    """
    if X.shape[0] == 1 or X.shape[1] == 1:
        return False
    row_stride, col_stride = (abs(s) for s in X.strides)
    return row_stride < col_stride


def _tasks_of(n_blocks: int, block_rows: int, max_tasks: int) -> int:
    """Rows per task for ``n_blocks`` blocks spread over at most ``max_tasks`` tasks."""
    n_tasks = max(1, min(n_blocks, max_tasks))
    return -(-n_blocks // n_tasks) * block_rows


@functools.lru_cache(maxsize=256)  # a function of the shape alone, asked once per pass
def dense_layout(n_samples: int, n_features: int, itemsize: int, column_major: bool,
                 partial_doubles: int | None = None):
    """(rows per block, rows per task) for the fused dense kernels; depends on the shape only.

    ``partial_doubles`` is the size of one task's partial sums (n + 2 by default; K·(n + 1) + 1
    for the multinomial kernel): tasks are capped so that all of them stay under 128 MiB.
    """
    row_bytes = max(1, n_features * itemsize)
    if column_major:
        rows = min(MAX_BLOCK_ROWS, max(MIN_COLUMN_RUN_BYTES // itemsize,
                                       BLOCK_BYTES_COLUMNS // row_bytes))
    else:
        rows = min(MAX_BLOCK_ROWS, max(MIN_BLOCK_ROWS, BLOCK_BYTES // row_bytes))
    rows -= rows % 8
    partial = n_features + 2 if partial_doubles is None else partial_doubles
    return rows, _tasks_of(-(-n_samples // rows), rows,
                           max(1, min(MAX_TASKS, MAX_PARTIAL_DOUBLES // partial)))


@functools.lru_cache(maxsize=256)
def hessian_layout(n_samples: int, n_features: int, partial_doubles: int | None = None):
    """(rows per block, rows per task) for the fused Hessian kernels (blocks transposed to
    float64); ``partial_doubles``: one task's partial sums ((n+1)² + n + 2 by default)."""
    p = n_features + 1
    rows = int(min(2048, max(16, HESSIAN_BLOCK_BYTES // (8 * p))))
    rows -= rows % 8
    partial = p * p + p + 1 if partial_doubles is None else partial_doubles
    return rows, _tasks_of(-(-n_samples // rows), rows,
                           max(1, min(MAX_TASKS, MAX_PARTIAL_DOUBLES // partial)))


def sparse_layout(n_samples: int, partial_doubles: int, nnz: int | None = None) -> int:
    """Rows per task for the CSR kernels (a function of the shape only), given the size of one
    task's partial sums (n + 2 for the gradient, (n + 1)² for the Hessian) and the number of
    stored values.

    Every evaluation zeroes and adds the partials of every task: with 64 tasks of n + 2 doubles
    that is work proportional to 64·n, not to the nonzeros — at 100,000 features and 50 nonzeros
    a row, 51 MB per evaluation, which made a pass 61 ms where the gather and scatter took 12.
    So the tasks are also capped at nnz / (4·partial): the partials then hold at most one double
    per four stored values (≤ 2 bytes per nonzero), or a single task's; and never over 128 MiB.
    """
    cap = MAX_PARTIAL_DOUBLES // partial_doubles
    if nnz is not None:
        cap = min(cap, nnz // (4 * partial_doubles))
    n_tasks = max(1, min(MAX_TASKS, -(-n_samples // SPARSE_ROWS_PER_TASK_MIN), cap))
    return -(-n_samples // n_tasks)


#: The task function a driver runs: bound per driver by :func:`drivers`.
task = None


def _over_tasks(part, args):
    """Run ``task(t, part[t], *args)`` for every task into its zeroed row, then add the rows into
    ``part[0]`` in task order (the result).

    Zeroing is written as plain loops, never ``np.zeros``: under ``parallel=True`` Numba turns
    ``np.zeros`` into a parallel loop of its own, which ``parallel_chunksize(1)``
    (``run_parallel``) then schedules one element at a time (CSR 200,000 x 2,000, 64 tasks x
    2,002 doubles, 2 threads: 37-42 ms per pass with ``np.zeros``, 4-5 ms without).
    """
    n_tasks, width = part.shape
    for t in prange(n_tasks):
        row = part[t]
        for j in range(width):
            row[j] = 0.0
        task(t, row, *args)
    first = part[0]
    for t in range(1, n_tasks):
        row = part[t]
        for j in range(width):
            first[j] += row[j]


class _Workspace(threading.local):
    """Each Python thread's buffer for the tasks' partial sums, reused from pass to pass.

    A fresh array of partials per pass costs its page faults every time: a 16 MB partial
    (multinomial CSR, K = 20, 100,000 features) took 27 ms to zero and add on the shared VM, in a
    fresh NRT allocation, against 1.7 ms in a buffer already mapped. A buffer is reused while the
    pass needs between a quarter of it and all of it; ``release`` drops it (the end of a fit).
    """

    buffer = None

    def get(self, n_tasks: int, width: int) -> np.ndarray:
        size = n_tasks * width
        buffer = self.buffer
        if buffer is None or not size <= buffer.shape[0] <= 4 * size:
            buffer = self.buffer = np.empty(max(size, 1))
        return buffer[:size].reshape(n_tasks, width)

    def release(self) -> None:
        self.buffer = None


_workspace = _Workspace()


def release_workspace() -> None:
    """Free this thread's buffer of partial sums (it is rebuilt by the next pass)."""
    _workspace.release()


class Drivers(NamedTuple):
    """The compiled serial and parallel drivers of one task function."""

    serial: object
    parallel: object


def drivers(task_function) -> Drivers:
    """``_over_tasks`` compiled twice for ``task_function``: with ``range`` and with ``prange``.

    The task is bound as the driver's *global* ``task``, not passed as an argument or held in a
    closure: Numba's disk cache keys a compiled function by its argument types and closure cells,
    and a dispatcher's type name and pickle differ from process to process (measured: the driver
    recompiled in every process), while globals are resolved at compile time and not keyed. Each
    driver has its own name, so its cache files are its own.
    """
    name = getattr(task_function, "py_func", task_function).__name__

    def bound(suffix: str):
        qualname = f"{name}_{suffix}"
        func = types.FunctionType(_over_tasks.__code__,
                                  dict(_over_tasks.__globals__, task=task_function), qualname)
        func.__qualname__ = qualname
        func.__doc__ = _over_tasks.__doc__
        return func

    return Drivers(jit()(bound("serial")), jit(parallel=True)(bound("parallel")))


def run_parallel(kernel: Drivers, part: np.ndarray, args: tuple, threads: int) -> None:
    """The parallel driver on ``threads`` Numba threads, tasks handed out one at a time
    (``parallel_chunksize(1)``: with TBB, a thread that a busy core slows down takes fewer tasks
    instead of a fixed share)."""
    import numba

    with numba_threads(threads), numba.parallel_chunksize(1), parallel_guard():
        kernel.parallel(part, args)


def run_tasks(kernel: Drivers, n_tasks: int, width: int, args: tuple,
              work_bytes: float) -> np.ndarray:
    """Raw sums of a kernel's tasks: a float64 vector of length ``width``, **a view of this
    thread's workspace**, valid until its next pass — copy what you keep.

    ``work_bytes`` (about the bytes of X the call reads) decides the threads
    (``fastlr._jit.threads_for``): one thread runs the serial driver, more the parallel one.
    Same sums either way.
    """
    part = _workspace.get(n_tasks, width)
    threads = 1 if n_tasks == 1 else min(threads_for(work_bytes), n_tasks)
    if threads == 1:
        kernel.serial(part, args)
    else:
        run_parallel(kernel, part, args, threads)
    return part[0]
