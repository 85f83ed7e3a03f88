"""How ``fastlr bench`` times: interleaved samples, their median and spread, thread limits, and the
state of the machine.

One measurement ("contender") is a call with no arguments plus the thread limits it runs under.
All contenders of one table are timed together by :func:`time_interleaved`:

1. each is called once untimed (Numba compiles there; its duration is kept as ``first_call_s``,
   its result is what the checks compare), then once more to choose ``k``, the calls per sample,
   so that a sample lasts at least ``MIN_SAMPLE_S`` (timer resolution and call overhead then do
   not matter);
2. then ``repeat`` rounds: in each round every contender takes one sample (``k`` calls in a row).
   A burst of load from another process lands on one round, so it slows every contender alike
   instead of all samples of whichever was running, and the median of each contender drops it.
   Each round takes the contenders in a fresh order (seeded shuffle): what one contender leaves
   behind must not always land on the same neighbour. Measured on the 2-core machine under load:
   after a NumPy call on 2 BLAS threads, OpenBLAS's idle threads keep spinning, and a 1-thread
   fused ``loss_grad`` sample right after it took 12.3 ms against 10.8 ms after a 1-thread NumPy
   call (medians of 40). In a fixed order that bias would hit one row in every round, invisible
   in its spread; shuffled, it lands on different rows in different rounds, where the median
   drops it and the spread shows it.

The median per-call time is the result; the spread ``(slowest − fastest sample) / median`` says how
much the machine disturbed it (see :mod:`fastlr.bench.flags`).

Nothing heavy is imported here at import time: threadpoolctl and Numba are imported when used.
"""

from __future__ import annotations

import math
import os
import platform
import random
import statistics
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable, ContextManager

__all__ = [
    "MIN_SAMPLE_S",
    "Contender",
    "Timing",
    "blas_threads",
    "have_threadpoolctl",
    "load_average",
    "machine_state",
    "relative_spread",
    "thread_limits",
    "time_interleaved",
]

#: shortest sample: 20 ms is 600x the fixed cost of a call (31 us for ``loss_grad`` on a 4 x 3 X,
#: measured) and far above perf_counter's 1 ns resolution, yet keeps the default run near 1 min on
#: 2 cores.
MIN_SAMPLE_S = 0.02


def relative_spread(samples) -> float | None:
    """(slowest − fastest) / median of the per-call sample times; None for fewer than 2 samples."""
    samples = list(samples)
    if len(samples) < 2:
        return None
    median = statistics.median(samples)
    return (max(samples) - min(samples)) / median if median > 0 else math.inf


@dataclass
class Timing:
    """One contender's samples (seconds per call) and what its first call returned."""

    samples: list
    first_call_s: float
    calls_per_sample: int
    result: object = field(repr=False, default=None)
    #: what the first call raised ("TypeError: ..."); such a contender gets no samples
    error: str | None = None

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples) if self.samples else math.nan

    @property
    def min_s(self) -> float:
        return min(self.samples, default=math.nan)

    @property
    def max_s(self) -> float:
        return max(self.samples, default=math.nan)

    @property
    def spread(self) -> float | None:
        return relative_spread(self.samples)


@dataclass
class Contender:
    """A call to time and the context (thread limits) it runs in; ``limits`` is a factory."""

    name: str
    call: Callable[[], object]
    limits: Callable[[], ContextManager] = nullcontext


def time_interleaved(contenders, repeat: int, *, min_sample_s: float = MIN_SAMPLE_S,
                     clock=time.perf_counter, on_round=None, seed: int = 0,
                     calls_per_sample: int | None = None) -> list[Timing]:
    """Time every contender with samples taken round-robin; returns their timings in order.

    See the module docstring. A contender whose first call raises gets a timing with ``error`` set
    and no samples. ``on_round(i, repeat)`` is called before each round (progress); ``seed`` seeds
    the order of the contenders within the rounds; ``clock`` is the timer (seconds).
    ``calls_per_sample``: the caller has already called every contender (a fit, warmed up by the
    fit protocol's own fits): no untimed first call and no probe, each sample is that many calls,
    and ``result`` is None and ``first_call_s`` NaN.
    """
    if calls_per_sample is not None:
        timings = [Timing([], math.nan, max(1, int(calls_per_sample))) for _ in contenders]
        return _rounds(list(zip(contenders, timings)), timings, repeat, clock, on_round, seed)
    timings = []
    for c in contenders:
        with c.limits():
            start = clock()
            try:
                result = c.call()
            except Exception as exc:  # reported in its row; the other contenders are still timed
                timings.append(Timing([], clock() - start, 0, None, f"{type(exc).__name__}: {exc}"))
                continue
            first = clock() - start
            start = clock()  # the first call compiled: time one more to choose k
            c.call()
            probe = clock() - start
        k = max(1, math.ceil(min_sample_s / max(probe, 1e-9)))
        timings.append(Timing([], first, k, result))
    timed = [(c, t) for c, t in zip(contenders, timings) if t.error is None]
    return _rounds(timed, timings, repeat, clock, on_round, seed)


def _rounds(timed, timings, repeat, clock, on_round, seed) -> list[Timing]:
    """``repeat`` rounds of one sample of each (contender, timing), in a shuffled order each."""
    shuffle = random.Random(seed).shuffle
    for i in range(max(1, repeat)):
        if on_round is not None:
            on_round(i, repeat)
        shuffle(timed)
        for c, t in timed:
            with c.limits():  # entered outside the timed loop: setting thread counts is not timed
                start = clock()
                for _ in range(t.calls_per_sample):
                    c.call()
                t.samples.append((clock() - start) / t.calls_per_sample)
    return timings


# ----------------------------------------------------------------------------- thread limits
def have_threadpoolctl() -> bool:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


def blas_threads(n: int | None):
    """Limit BLAS to ``n`` threads when threadpoolctl is installed (scikit-learn brings it);
    without it, or with ``n=None``, BLAS keeps its default."""
    if n is None or not have_threadpoolctl():
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")


class thread_limits:
    """Numba at ``numba_threads`` and BLAS at ``blas_threads`` for the block (None: unchanged)."""

    def __init__(self, numba_threads: int | None = None, blas: int | None = None):
        self.numba_threads, self.blas = numba_threads, blas
        self._stack = []

    def __enter__(self):
        from .._jit import numba_threads

        for cm in (numba_threads(self.numba_threads), blas_threads(self.blas)):
            cm.__enter__()
            self._stack.append(cm)
        return self

    def __exit__(self, *exc):
        while self._stack:
            self._stack.pop().__exit__(*exc)
        return False


# ----------------------------------------------------------------------------- the machine
#: A 1-minute load average at or above this many busy cores (from other processes, before the
#: bench starts) means timings will be disturbed: even half a core of other work costs a 2-thread
#: kernel on 2 cores a large share of its samples.
BUSY_LOAD = 0.5


def load_average() -> list | None:
    """The 1, 5 and 15-minute load averages (runnable processes); None where unknown (Windows)."""
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def machine_state(load: list | None = None) -> dict:
    """Versions, CPU count, load average, Numba's threading layer and threads, BLAS threads.

    ``load``: the load average taken before the run started (the run's own work raises it), else
    taken now. Call it after one parallel Numba kernel has run, or the threading layer is not
    chosen yet.
    """
    import numba
    import numpy as np

    load = load_average() if load is None else load
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = f"not chosen yet (NUMBA_THREADING_LAYER={numba.config.THREADING_LAYER})"
    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": load,
        "busy": load is not None and load[0] >= BUSY_LOAD,
        "numba_threading_layer": layer,
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "numpy": np.__version__,
        "numba": numba.__version__,
    }
    if have_threadpoolctl():
        from threadpoolctl import threadpool_info

        info["blas"] = [dict({k: d.get(k) for k in ("internal_api", "num_threads", "version")},
                             library=os.path.basename(os.path.dirname(d.get("filepath") or "")))
                        for d in threadpool_info() if d.get("user_api") == "blas"]
    else:
        info["blas"] = None
    return info
