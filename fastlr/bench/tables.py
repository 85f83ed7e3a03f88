"""One timing table: every registry entry of an operation on one input, interleaved with the
read-once floor, each row checked against the reference.

Nothing here names an entry or an operation's implementation: ``loss_grad`` (dense and CSR) and
``multinomial_loss_grad`` (dense; W of shape (n_features, K)) go through the same code, which
calls every entry as ``func(w, b, X, y)`` on the table's problem.

Which rows a table has comes from the registry's fields only (:mod:`fastlr.implementations`):

* the entries: ``select(operation, input)``, in registry order;
* the thread counts of an entry: the requested counts if it is ``parallel`` (Numba threads) or
  ``blas`` (BLAS threads, set by threadpoolctl; without threadpoolctl BLAS cannot be limited and
  runs once at its default), else 1; the other pool is held at 1 thread;
* its label: ``Kernel.label`` plus the thread count;
* "vs NumPy": the time of ``reference_for(entry)`` at the same thread count (or at 1 thread when
  the reference has no row at that count, e.g. the single-threaded scipy.sparse reference) divided
  by the entry's time;
* entries with ``max_elements`` smaller than X: timed on the first rows (at most that many
  elements, or ``slow_elements`` when the run sets it) and scaled linearly to all rows (marked
  ``*``); their check compares with the reference on the same rows;
* "vs slowest": the slowest 1-thread row's time divided by the row's time (slide 014's
  pure-Python loop against everything else, in the current registry's dense table);
* "% read": the read-once floor at the same thread count (:mod:`fastlr.bench.readonce`) divided by
  the row's time; GB/s: the bytes of that read (X, or the nonzeros' data and indices) per second.

Every row, the floors included, is one contender of one :func:`~fastlr.bench.timing.time_interleaved`
call, so a burst of load hits the whole table alike. Rows whose timing is noise are flagged
(:mod:`fastlr.bench.flags`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .checks import TOLERANCE, max_rel_error
from .flags import noise_flags, starved_thread_counts
from .timing import Contender, have_threadpoolctl, thread_limits, time_interleaved

__all__ = ["MULTINOMIAL_OPERATION", "TABLE_OPERATION", "Row", "Table", "csr_table", "dense_table", "derive_figures", "row_label",
           "thread_counts", "time_table"]

#: what the tables time by default: the call a binary fit makes every iteration. ``--multinomial``
#: tables time :data:`MULTINOMIAL_OPERATION`, the call of a multinomial fit; the other operations
#: of the registry are checked (:mod:`fastlr.bench.checks`), not tabled.
TABLE_OPERATION = "loss_grad"
MULTINOMIAL_OPERATION = "multinomial_loss_grad"


@dataclass
class Row:
    """One timed line of a table: an entry at a thread count, or a read-once floor."""

    label: str
    role: str  # "kernel", "read" (the floor of % read) or "aside" (shown for reference only)
    threads: int | None  # None: BLAS at its default, not limited
    median_s: float
    min_s: float
    max_s: float
    spread: float | None  # (slowest − fastest) / median; None for one sample
    samples: int
    calls_per_sample: int
    first_call_s: float  # the untimed first call (Numba compiles there), not scaled
    key: str | None = None  # Kernel.key
    entry_label: str | None = None  # Kernel.label, without the thread count
    reference: bool = False  # Kernel.reference
    parallel: bool = False  # Kernel.parallel
    capped: bool = False  # Kernel.max_elements is set: too slow for large X
    max_error: float | None = None
    ok: bool = True
    error: str | None = None  # what the entry raised
    scaled_from_rows: int | None = None
    speedup_vs_reference: float | None = None
    speedup_vs_slowest: float | None = None
    gb_per_s: float | None = None
    pct_of_read: float | None = None
    flags: list = field(default_factory=list)

    @property
    def noisy(self) -> bool:
        return bool(self.flags)


@dataclass
class Table:
    operation: str
    input: str  # "dense" or "csr"
    n_samples: int
    n_features: int
    dtype: str
    layout: str  # "C", "F" or "CSR"
    nbytes: int  # bytes of one read of the input: X, or the nonzeros' data + indices
    repeat: int
    rows: list
    density: float | None = None
    nnz: int | None = None
    n_classes: int | None = None  # K of a multinomial operation


def thread_counts(kernel, threads, blas_limitable: bool = True) -> tuple:
    """The thread counts an entry is timed at (``None``: BLAS not limitable, its default)."""
    if kernel.parallel:
        return tuple(threads)
    if kernel.blas:
        return tuple(threads) if blas_limitable else (None,)
    return (1,)


def row_label(kernel, threads) -> str:
    """``Kernel.label`` plus the thread count of the pool the entry runs on."""
    plural = "" if threads == 1 else "s"
    if kernel.parallel:
        return f"{kernel.label}, {threads} thread{plural}"
    if kernel.blas:
        return (f"{kernel.label}, {threads} BLAS thread{plural}" if threads is not None
                else f"{kernel.label}, BLAS threads not limited")
    return kernel.label


def _limits(kernel, threads):
    if kernel.parallel:
        return lambda: thread_limits(threads, 1)
    if kernel.blas:
        return lambda: thread_limits(1, threads)
    return lambda: thread_limits(1, 1)


def _rows_for(kernel, n_samples, n_features, slow_elements):
    """How many rows of X an entry is timed on (all, unless its max_elements is smaller)."""
    if kernel.max_elements is None:
        return n_samples
    limit = kernel.max_elements if slow_elements is None else slow_elements
    return max(1, min(n_samples, limit // n_features))


def _plan(operation, input, problem, threads, slow_elements, read_call, read_label, aside):
    """The table's rows before timing: ``[(Row fields, Contender, rows of X it runs on)]``, the
    reference's result per number of rows, and each entry's reference key."""
    from ..implementations import reference_for, select

    w, b, X, y = problem
    n_samples, n_features = X.shape
    plan = []
    for t in sorted(set(threads) | {1}):  # 1: the floor of the single-threaded entries
        plan.append((dict(label=f"{read_label}, {t} thread{'' if t == 1 else 's'}", role="read",
                          threads=t),
                     Contender(f"read {t}", read_call, lambda t=t: thread_limits(t, 1)), None))
    for label, call in aside:
        plan.append((dict(label=label, role="aside", threads=1),
                     Contender(label, call, lambda: thread_limits(1, 1)), None))
    expected, reference_keys = {}, {}
    limitable = have_threadpoolctl()
    for k in select(operation, input):
        reference = reference_for(k)
        reference_keys[k.key] = reference.key
        rows = _rows_for(k, n_samples, n_features, slow_elements)
        Xr, yr = (X, y) if rows == n_samples else (X[:rows], y[:rows])
        if rows not in expected:
            with thread_limits(1, 1):
                expected[rows] = reference.func(w, b, Xr, yr)
        for nt in thread_counts(k, threads, limitable):
            fields = dict(label=row_label(k, nt), role="kernel", threads=nt, key=k.key,
                          entry_label=k.label, reference=k.reference, parallel=k.parallel,
                          capped=k.max_elements is not None,
                          scaled_from_rows=rows if rows < n_samples else None)
            call = lambda f=k.func, Xr=Xr, yr=yr: f(w, b, Xr, yr)  # noqa: E731
            plan.append((fields, Contender(k.key, call, _limits(k, nt)), rows))
    return plan, expected, reference_keys


def time_table(operation, input, problem, threads, repeat, *, read_call, read_label, nbytes, layout,
               slow_elements=None, aside=(), progress=lambda msg: None, describe="", **table_info):
    """Time and check every entry of (operation, input) on ``problem`` = (w, b, X, y).

    ``read_call`` reads the input once (the floor; its rows are labelled ``read_label`` plus the
    thread count); ``aside`` holds ``(label, call)`` rows shown for reference only (NumPy's
    ``X.sum()``); ``table_info`` goes into the :class:`Table`.
    """
    X = problem[2]
    n_samples, n_features = X.shape
    dtype = str(X.dtype)
    plan, expected, reference_keys = _plan(operation, input, problem, threads, slow_elements,
                                           read_call, read_label, aside)
    progress(f"{describe}: first calls of {len(plan)} rows (Numba compiles here)")
    timings = time_interleaved(
        [contender for _, contender, _ in plan], repeat,
        on_round=lambda i, n: progress(f"{describe}: round {i + 1}/{n} of {len(plan)} interleaved rows"))
    rows = []
    for (fields, _, on_rows), t in zip(plan, timings):
        scale = n_samples / on_rows if on_rows else 1.0  # a slice's time, scaled to all of X
        row = Row(median_s=t.median_s * scale, min_s=t.min_s * scale, max_s=t.max_s * scale,
                  spread=t.spread, samples=len(t.samples), calls_per_sample=t.calls_per_sample,
                  first_call_s=t.first_call_s, error=t.error, **fields)
        if on_rows is not None:
            row.max_error = math.inf if t.error else max_rel_error(t.result, expected[on_rows])
            row.ok = row.max_error <= TOLERANCE[dtype]
        rows.append(row)
    derive_figures(rows, nbytes, reference_keys)
    return Table(operation, input, n_samples, n_features, dtype, layout, int(nbytes), repeat, rows,
                 **table_info)


def derive_figures(rows, nbytes, reference_keys) -> None:
    """Fill in each row's speed-ups, GB/s, % read and noise flags from the medians of one table.

    ``nbytes``: the bytes of one read of the input; ``reference_keys``: entry key -> its
    reference's key. Rows without samples (their entry raised) are left as they are.
    """
    timed = [r for r in rows if r.samples]
    read = {r.threads: r.median_s for r in timed if r.role == "read"}
    starved = starved_thread_counts(read)
    kernels = [r for r in timed if r.role == "kernel"]
    slowest = max((r.median_s for r in kernels if r.threads in (1, None)), default=None)
    by_key = {}
    for r in kernels:
        by_key.setdefault(r.key, {})[r.threads] = r.median_s
    for r in timed:
        r.gb_per_s = nbytes / r.median_s / 1e9
        floor = read.get(r.threads if r.threads is not None else max(read, default=None))
        r.pct_of_read = 100.0 * floor / r.median_s if floor and r.role != "read" else None
        if r.role == "kernel":
            ref = by_key.get(reference_keys[r.key], {})
            ref_s = ref.get(r.threads, ref.get(1, next(iter(ref.values()), None)))
            r.speedup_vs_reference = ref_s / r.median_s if ref_s else None
            r.speedup_vs_slowest = slowest / r.median_s if slowest else None
        r.flags = noise_flags(r.spread, r.pct_of_read, r.threads in starved)


def dense_table(n_samples, n_features, dtype, layout, threads, repeat, *, slow_elements=None,
                progress=lambda msg: None, seed=0, operation=TABLE_OPERATION,
                n_classes=None) -> Table:
    """The table of ``operation`` on a dense X of standard normals: ``loss_grad``
    (:func:`~.data.make_problem`), or a multinomial operation with ``n_classes`` classes
    (:func:`~.data.make_multinomial_problem`: W of shape (n_features, n_classes), class labels)."""
    from .data import make_multinomial_problem, make_problem
    from .readonce import dense_read_call

    multinomial = operation.startswith("multinomial")
    if multinomial and (n_classes is None or n_classes < 2):
        raise ValueError(f"{operation} needs n_classes >= 2, got {n_classes!r}")
    describe = (f"{operation} {n_samples}x{n_features}x{n_classes}" if multinomial
                else f"{n_samples}x{n_features}") + f" {dtype} {layout}"
    progress(f"{describe}: generating X")
    if multinomial:
        problem = make_multinomial_problem(n_samples, n_features, n_classes, dtype, layout,
                                           seed=seed)
    else:
        problem = make_problem(n_samples, n_features, dtype, layout, seed=seed)
    X = problem[2]
    return time_table(operation, "dense", problem, threads, repeat,
                      read_call=dense_read_call(X), read_label="read X once (Numba sum)",
                      nbytes=X.nbytes, layout=layout, slow_elements=slow_elements,
                      aside=[("NumPy X.sum()", X.sum)], progress=progress, describe=describe,
                      n_classes=n_classes if multinomial else None)


def csr_table(n_samples, n_features, density, dtype, threads, repeat, *, slow_elements=None,
              progress=lambda msg: None, seed=0) -> Table:
    """The ``loss_grad`` table on a random CSR X (:func:`~.data.make_csr_problem`); GB/s and
    % read count the nonzeros' data and indices."""
    from .data import make_csr_problem
    from .readonce import csr_read_call

    describe = f"CSR {n_samples}x{n_features}@{density:g} {dtype}"
    progress(f"{describe}: generating X")
    problem = make_csr_problem(n_samples, n_features, density, dtype, seed=seed)
    X = problem[2]
    return time_table(TABLE_OPERATION, "csr", problem, threads, repeat,
                      read_call=csr_read_call(X), read_label="read nonzeros once (Numba sum)",
                      nbytes=X.data.nbytes + X.indices.nbytes, layout="CSR",
                      slow_elements=slow_elements, progress=progress, describe=describe,
                      density=density, nnz=int(X.nnz))
