"""The engine behind ``fastlr bench``: data, timing, the checks, the tables, JSON and the plot.

What one run measures, all in the same process and on the same data:

* the slide-015 vectorization demo — a 1,000,000-element dot product as a Python loop, as
  ``np.dot`` and as a Numba-compiled loop;
* every implementation of ``loss_grad`` in :data:`fastlr.implementations.LOSS_GRAD` (plus the
  ``SIGMOID`` and ``COST`` registries) checked against the NumPy reference;
* per size, dtype and memory order: the median time of each implementation, its speedup over the
  NumPy reference (at the same thread count) and over the pure-Python loop, and its throughput as
  GB/s of X and as a percentage of the speed of reading X once. "Reading X once" is measured in the
  same run by a Numba sum over X at the same thread count (the floor for any kernel that must see
  every element once); NumPy's ``X.sum()`` is shown beside it for reference;
* a fit comparison between ``fastlr.LogisticRegression`` (when it exists) and scikit-learn (when it
  is installed), with the objective C·Σ Lᵢ + ½‖w‖² of each fit computed by the NumPy reference.

Timing: each function is called once untimed (Numba compiles on that call; its duration is kept
as ``first_call_s``), then ``repeat`` samples are taken, each sample looping the call enough times
to last at least ``MIN_SAMPLE_S``; the median per-call time is reported. The pure-Python loop is
~1000x slower than everything else: it runs on the first rows of X only (at most
``python_elements`` elements), once, and its time is scaled linearly to the full X — the table says
so. Its time per row does not depend on the row's position, so the scaling is exact up to noise.

Nothing here is imported by ``import fastlr``; scikit-learn, threadpoolctl and matplotlib are
imported only when used.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field

import numpy as np

from ._jit import numba_threads

__all__ = [
    "BenchConfig",
    "DEFAULT_SIZES",
    "QUICK_SIZES",
    "SLIDES_PRESET",
    "check_implementations",
    "dot_demo",
    "fit_comparison",
    "format_report",
    "make_problem",
    "parse_sizes",
    "parse_threads",
    "run",
    "time_call",
]

#: 160 MB of float64 each: well beyond the 32 MiB L3 of the reference machine, so the kernels are
#: measured streaming X from memory, as in real use. The default run takes ~40 s on 2 cores.
DEFAULT_SIZES = ((200_000, 100), (20_000, 1_000))
QUICK_SIZES = ((50_000, 100),)
#: the figures the kernels issue asks for: 1e6 x 100 (800 MB float64) at 1 and all threads, the
#: compiled loop against pure Python at 10,000 x 100 (timed in full, not scaled), both memory
#: orders and both dtypes.
SLIDES_PRESET = {
    "sizes": ((10_000, 100), (1_000_000, 100)),
    "threads": "1,all",
    "layouts": ("C", "F"),
    "dtypes": ("float64", "float32"),
    "python_elements": 1_000_000,
}
MIN_SAMPLE_S = 0.02
DTYPES = ("float64", "float32")
LAYOUTS = ("C", "F")
# relative tolerance of a kernel against the NumPy reference. float32: the reference forms X @ w
# and Xᵀ·dz in float32 BLAS while the kernels accumulate in float64, so the reference itself is
# only good to ~1e-6 relative; 1e-4 leaves room for m = 1e6 while catching any real bug.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}


# ----------------------------------------------------------------------------- parsing options
def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``"200000x100,50000x1000"`` → ``((200000, 100), (50000, 1000))``; ``_`` allowed in numbers."""
    sizes = []
    for item in text.split(","):
        item = item.strip().lower().replace("_", "")
        parts = item.split("x")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError(f"size {item!r} is not of the form N_SAMPLESxN_FEATURES, e.g. 200000x100")
        m, n = int(parts[0]), int(parts[1])
        if m < 1 or n < 1:
            raise ValueError(f"size {item!r} must have at least one sample and one feature")
        sizes.append((m, n))
    return tuple(sizes)


def parse_threads(text: str, max_threads: int) -> tuple[int, ...]:
    """``"1,all"`` → ``(1, max_threads)``, duplicates removed, in increasing order."""
    counts = set()
    for item in text.split(","):
        item = item.strip().lower()
        if item == "all":
            counts.add(max_threads)
        elif item.isdigit() and 1 <= int(item) <= max_threads:
            counts.add(int(item))
        else:
            raise ValueError(
                f"thread count {item!r} must be 'all' or an integer from 1 to {max_threads} "
                f"(NUMBA_NUM_THREADS)"
            )
    return tuple(sorted(counts))


def parse_choices(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``"C,F"`` → ``("C", "F")``, each checked against ``allowed`` (case-insensitive)."""
    lookup = {a.lower(): a for a in allowed}
    out = []
    for item in text.split(","):
        key = item.strip().lower()
        if key not in lookup:
            raise ValueError(f"{what} {item.strip()!r} is not one of {', '.join(allowed)}")
        if lookup[key] not in out:
            out.append(lookup[key])
    return tuple(out)


# ----------------------------------------------------------------------------- data
def make_problem(n_samples: int, n_features: int, dtype="float64", order: str = "C", seed: int = 0):
    """(w, b, X, y) with X standard normal of the given dtype and memory order, y ~ Bernoulli(σ(Xw+b)).

    F-ordered X is generated as the transpose of a C-ordered (n_features, n_samples) array, so no
    second copy of X is ever made. w has norm ~1, so margins are O(1) and both labels occur.
    """
    if order not in LAYOUTS:
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    shape = (n_samples, n_features) if order == "C" else (n_features, n_samples)
    X = rng.standard_normal(shape, dtype=dtype)
    X = X if order == "C" else X.T
    w = rng.standard_normal(n_features) / math.sqrt(n_features)
    b = 0.25
    z = X @ w.astype(dtype) + b
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float64)
    return w, b, X, y


# ----------------------------------------------------------------------------- timing
@dataclass
class Timing:
    median_s: float
    min_s: float
    first_call_s: float
    samples: int
    calls_per_sample: int
    result: object = field(repr=False, default=None)


def time_call(func, *args, repeat: int = 5, warmup: bool = True) -> Timing:
    """Median per-call time of ``func(*args)`` over ``repeat`` samples, after one untimed call.

    Each sample runs the call ``k`` times, with ``k`` chosen from the first call so a sample lasts
    at least ``MIN_SAMPLE_S`` (timer resolution and call overhead then do not matter).
    """
    start = time.perf_counter()
    result = func(*args)
    first = time.perf_counter() - start
    if warmup:  # the first call compiled: time one more call to choose k
        start = time.perf_counter()
        result = func(*args)
        probe = time.perf_counter() - start
    else:
        probe = first
    k = max(1, int(math.ceil(MIN_SAMPLE_S / max(probe, 1e-9))))
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        for _ in range(k):
            func(*args)
        times.append((time.perf_counter() - start) / k)
    return Timing(float(np.median(times)), float(np.min(times)), first, len(times), k, result)


def blas_threads(n: int):
    """Limit BLAS (used by the NumPy reference) to ``n`` threads when threadpoolctl is installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings threadpoolctl; without it BLAS keeps its default
        return nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


def _have_threadpoolctl() -> bool:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------------- compiled helpers
_compiled = {}


def _kernels():
    """Numba helpers for the demo and the read-speed baseline, compiled on first use."""
    if not _compiled:
        from numba import prange

        from ._jit import jit

        @jit()
        def dot_loop(a, b):
            # slide 015's loop as written: one dependent add per element (no reassociation)
            c = 0.0
            for i in range(a.shape[0]):
                c += a[i] * b[i]
            return c

        @jit(fast=True)
        def chunk_sum(a):
            # `range(a.shape[0])` on a slice, not `range(start, stop)`: with a possibly negative
            # start Numba keeps wrap-around indexing and LLVM does not vectorise (measured 5x slower)
            s = 0.0
            for i in range(a.shape[0]):
                s += a[i]
            return s

        @jit(parallel=True, fast=True)
        def read_sum(flat, n_chunks):
            # one pass over X in memory order; `reassoc` lets LLVM vectorise each chunk's sum.
            # Fixed chunks, combined in order: the same work split at any thread count.
            size = flat.shape[0]
            chunk = (size + n_chunks - 1) // n_chunks
            parts = np.zeros(n_chunks)
            for c in prange(n_chunks):
                parts[c] = chunk_sum(flat[c * chunk:min(size, (c + 1) * chunk)])
            total = 0.0
            for c in range(n_chunks):
                total += parts[c]
            return total

        _compiled.update(dot_loop=dot_loop, read_sum=read_sum)
    return _compiled


def _python_dot(a, b):
    c = 0.0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


def dot_demo(n: int = 1_000_000, python_elements: int | None = None, repeat: int = 5, seed: int = 0):
    """Slide 015: c = Σ aᵢ·bᵢ over n = 1e6 random values — Python loop, ``np.dot``, Numba loop.

    The Python loop runs over the first ``python_elements`` values (all of them when None) and is
    scaled to n. Returns a dict of seconds and the values (which must agree).
    """
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(n)
    k = _kernels()
    py_n = n if python_elements is None else max(1, min(n, python_elements))
    py = time_call(_python_dot, a[:py_n], b[:py_n], repeat=1, warmup=False)
    numpy_t = time_call(np.dot, a, b, repeat=repeat)
    numba_t = time_call(k["dot_loop"], a, b, repeat=repeat)
    expected = float(np.dot(a, b))
    python_value = py.result if py_n == n else None
    values = [float(numba_t.result)] + ([] if python_value is None else [float(python_value)])
    ok = all(abs(v - expected) <= 1e-9 * abs(expected) for v in values)
    return {
        "n": n,
        "python_s": py.median_s * n / py_n,
        "python_elements_timed": py_n,
        "numpy_s": numpy_t.median_s,
        "numba_s": numba_t.median_s,
        "numba_first_call_s": numba_t.first_call_s,
        "value": expected,
        "ok": ok,
    }


def read_once(X: np.ndarray, threads: int, repeat: int = 5):
    """Seconds to read X once at ``threads`` Numba threads (a sum in memory order), and X.sum()."""
    flat = np.ravel(X, order="K")  # a view for C- or F-contiguous X
    if not np.shares_memory(flat, X):
        raise ValueError("read_once needs C- or F-contiguous X")
    k = _kernels()
    with numba_threads(threads):
        t = time_call(k["read_sum"], flat, 64, repeat=repeat)
    return t


# ----------------------------------------------------------------------------- correctness
def _max_rel_error(result, expected) -> float:
    """Largest error of (J, dw, db) relative to max(1, |expected|) of each part."""
    J, dw, db = result
    eJ, edw, edb = expected
    dw, edw = np.asarray(dw, dtype=np.float64), np.asarray(edw, dtype=np.float64)
    errs = [
        abs(float(J) - float(eJ)) / max(1.0, abs(float(eJ))),
        float(np.max(np.abs(dw - edw))) / max(1.0, float(np.max(np.abs(edw)))),
        abs(float(db) - float(edb)) / max(1.0, abs(float(edb))),
    ]
    return max(errs) if all(np.isfinite(errs)) else math.inf


@dataclass
class Check:
    what: str
    implementation: str
    dtype: str
    layout: str
    max_error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.max_error <= self.tolerance


def check_implementations(dtypes=("float64",), layouts=("C",), seed: int = 1) -> list[Check]:
    """Every registered implementation against the NumPy reference on a small awkward problem.

    1,003 x 37 (neither a multiple of a block size), sample weights, l2 = 0.1, and a few rows
    scaled to margins of ±40 so the stable branches of σ and the loss are exercised; sigmoid on
    z = 0, ±1, ±37, ±1000, ±1e20 (and ±3e38 / ±1e308).
    """
    from . import reference
    from .implementations import COST, LOSS_GRAD, SIGMOID

    checks = []
    for dtype in dtypes:
        tol = TOLERANCE[dtype]
        for layout in layouts:
            w, b, X, y = make_problem(1003, 37, dtype, layout, seed=seed)
            X = X.copy(order=layout)
            X[:5] *= 40.0
            s = np.random.default_rng(seed).uniform(0.5, 2.0, X.shape[0])
            expected = reference.loss_grad(w, b, X, y, sample_weight=s, l2=0.1)
            for name, impl in LOSS_GRAD.items():
                if getattr(impl, "sparse", False):
                    continue
                result = impl.func(w, b, X, y, sample_weight=s, l2=0.1)
                checks.append(Check("loss_grad", name, dtype, layout,
                                    _max_rel_error(result, expected), tol))
            expected_J = float(reference.cost(w, b, X, y, sample_weight=s, l2=0.1))
            for name, func in COST.items():
                J = float(func(w, b, X, y, sample_weight=s, l2=0.1))
                checks.append(Check("cost", name, dtype, layout,
                                    abs(J - expected_J) / max(1.0, abs(expected_J)), tol))
        big = 3e38 if dtype == "float32" else 1e308
        z = np.array([0.0, 1.0, -1.0, 37.0, -37.0, 1000.0, -1000.0, 1e20, -1e20, big, -big],
                     dtype=dtype)
        expected_s = reference.sigmoid(z).astype(np.float64)
        for name, func in SIGMOID.items():
            got = np.asarray(func(z), dtype=np.float64)
            err = float(np.max(np.abs(got - expected_s))) if np.all(np.isfinite(got)) else math.inf
            checks.append(Check("sigmoid", name, dtype, "-", err, tol))
    return checks


# ----------------------------------------------------------------------------- the tables
@dataclass
class Row:
    implementation: str
    label: str
    threads: int
    median_s: float
    min_s: float
    first_call_s: float
    max_error: float
    ok: bool
    scaled_from_rows: int | None = None
    speedup_vs_numpy: float | None = None
    speedup_vs_python: float | None = None
    gb_per_s: float = 0.0
    pct_of_read: float = 0.0


@dataclass
class Table:
    n_samples: int
    n_features: int
    dtype: str
    layout: str
    nbytes: int
    read_s: dict  # threads -> seconds to read X once (Numba sum)
    numpy_sum_s: float
    rows: list

    def row(self, implementation: str, threads: int | None = None):
        for r in self.rows:
            if r.implementation == implementation and (threads is None or r.threads == threads):
                return r
        return None


@dataclass
class BenchConfig:
    sizes: tuple = DEFAULT_SIZES
    dtypes: tuple = ("float64",)
    layouts: tuple = ("C",)
    threads: tuple | None = None  # None: (1, all)
    repeat: int = 5
    python_elements: int = 200_000
    dot_python_elements: int | None = None
    fit: bool = True
    fit_size: tuple = (100_000, 20)
    seed: int = 0


def _label(impl, threads: int, numpy_threads_known: bool) -> str:
    if impl.name == "python":
        return "pure-Python loop"
    if impl.name == "loops":
        return "compiled loop"
    if impl.name == "numpy":
        return f"NumPy reference, {threads} BLAS thr" if numpy_threads_known else "NumPy reference"
    if impl.name == "fused":
        return f"fused, {threads} thread{'s' if threads > 1 else ''}"
    return impl.description + (f", {threads} thr" if impl.parallel else "")


def bench_size(n_samples, n_features, dtype, layout, threads, repeat, python_elements,
               progress, seed=0) -> Table:
    """Time every implementation on one X; check each result against the reference's."""
    from . import reference
    from .implementations import LOSS_GRAD

    progress(f"generating X {n_samples}x{n_features} {dtype} {layout}")
    w, b, X, y = make_problem(n_samples, n_features, dtype, layout, seed=seed)
    tol = TOLERANCE[dtype]
    read_s = {}
    for t in threads:
        progress(f"{n_samples}x{n_features} {dtype} {layout}: reading X once, {t} thread(s)")
        read_s[t] = read_once(X, t, repeat).median_s
    progress(f"{n_samples}x{n_features} {dtype} {layout}: X.sum()")
    numpy_sum_s = time_call(X.sum, repeat=repeat).median_s
    with blas_threads(1):
        expected = reference.loss_grad(w, b, X, y)
    known = _have_threadpoolctl()
    rows = []
    for name, impl in LOSS_GRAD.items():
        if getattr(impl, "sparse", False):
            continue
        if name == "python":
            n_rows = max(1, min(n_samples, python_elements // n_features))
            progress(f"{n_samples}x{n_features} {dtype} {layout}: pure-Python loop on {n_rows} rows")
            Xs, ys = X[:n_rows], y[:n_rows]
            t = time_call(impl.func, w, b, Xs, ys, repeat=1, warmup=False)
            with blas_threads(1):
                err = _max_rel_error(t.result, reference.loss_grad(w, b, Xs, ys))
            scale = n_samples / n_rows
            rows.append(Row(name, _label(impl, 1, known), 1, t.median_s * scale, t.min_s * scale,
                            t.first_call_s * scale, err, err <= tol,
                            scaled_from_rows=n_rows if n_rows < n_samples else None))
            continue
        counts = threads if (impl.parallel or (name == "numpy" and known)) else (1,)
        for nt in counts:
            progress(f"{n_samples}x{n_features} {dtype} {layout}: {_label(impl, nt, known)}")
            with numba_threads(nt), blas_threads(nt):
                t = time_call(impl.func, w, b, X, y, repeat=repeat)
            err = _max_rel_error(t.result, expected)
            rows.append(Row(name, _label(impl, nt, known), nt, t.median_s, t.min_s,
                            t.first_call_s, err, err <= tol))
    table = Table(n_samples, n_features, dtype, layout, X.nbytes, read_s, numpy_sum_s, rows)
    python = table.row("python")
    for r in rows:
        numpy_row = table.row("numpy", r.threads) or table.row("numpy", 1) or table.row("numpy")
        if numpy_row is not None:
            r.speedup_vs_numpy = numpy_row.median_s / r.median_s
        if python is not None:
            r.speedup_vs_python = python.median_s / r.median_s
        r.gb_per_s = X.nbytes / r.median_s / 1e9
        read = read_s.get(r.threads, read_s[min(read_s)])
        r.pct_of_read = 100.0 * read / r.median_s
    return table


# ----------------------------------------------------------------------------- the fit
def objective(coef, intercept, X, y, C: float) -> float:
    """scikit-learn's objective C·Σ Lᵢ + ½‖w‖², computed by the NumPy reference."""
    from . import reference

    m = X.shape[0]
    w = np.asarray(coef, dtype=np.float64).reshape(-1)
    return float(reference.cost(w, float(np.ravel(intercept)[0]), X, y, l2=1.0 / (C * m))) * C * m


def _fit_one(name, make, X, y, C):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model = make().fit(X, y)
        seconds = time.perf_counter() - start
    converged = not any("converge" in str(w.message).lower() for w in caught)
    n_iter = int(np.max(np.atleast_1d(getattr(model, "n_iter_", [-1]))))
    history = getattr(model, "loss_history_", None)
    accuracy = float(np.mean(model.predict(X) == y))
    return {
        "model": name,
        "seconds": seconds,
        "n_iter": n_iter,
        "converged": converged,
        "objective": objective(model.coef_, model.intercept_, X, y, C),
        "train_accuracy": accuracy,
        "loss_history": None if history is None else [float(v) for v in np.ravel(history)],
    }


def fit_comparison(n_samples: int, n_features: int, dtype="float64", C: float = 1.0,
                   progress=lambda msg: None, seed: int = 0) -> dict:
    """Fit the same problem with fastlr's and scikit-learn's LogisticRegression, default settings.

    Each fit runs once after one untimed warm-up fit on 1,000 rows (Numba compiles there). The
    objective gap is relative to the best objective any fit reached.
    """
    w, b, X, y = make_problem(n_samples, n_features, dtype, "C", seed=seed)
    out = {"n_samples": n_samples, "n_features": n_features, "dtype": str(np.dtype(dtype)),
           "C": C, "fits": [], "notes": []}
    try:
        from .estimator import LogisticRegression as FastLR
    except ImportError as exc:
        FastLR = None
        out["notes"].append(f"fastlr.LogisticRegression is not available ({exc}); skipped")
    try:
        from sklearn.linear_model import LogisticRegression as SkLR
    except ImportError:
        SkLR = None
        out["notes"].append("scikit-learn is not installed: no yardstick "
                            "(pip install 'fastlr-numba[sklearn]')")
    candidates = []
    if FastLR is not None:
        for solver in ("lbfgs", "newton", "gd"):
            candidates.append((f"fastlr {solver}", lambda s=solver: FastLR(C=C, solver=s)))
    if SkLR is not None:
        for solver in ("lbfgs", "newton-cholesky"):
            candidates.append((f"sklearn {solver}", lambda s=solver: SkLR(C=C, solver=s)))
    for name, make in candidates:
        progress(f"fit: {name} on {n_samples}x{n_features}")
        try:
            _fit_one(name, make, X[:1000], y[:1000], C)  # warm-up (compiles)
            out["fits"].append(_fit_one(name, make, X, y, C))
        except Exception as exc:  # report a broken solver, keep benchmarking the rest
            out["fits"].append({"model": name, "error": f"{type(exc).__name__}: {exc}"})
    good = [f for f in out["fits"] if "objective" in f]
    if good:
        best = min(f["objective"] for f in good)
        for f in good:
            f["objective_gap"] = (f["objective"] - best) / max(abs(best), 1e-300)
    return out


# ----------------------------------------------------------------------------- a whole run
def _machine() -> dict:
    import numba

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,
        "numpy": np.__version__,
        "numba": numba.__version__,
    }
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [{k: d.get(k) for k in ("internal_api", "num_threads", "version")}
                        for d in threadpool_info() if d.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = "unknown (threadpoolctl not installed)"
    return info


def run(config: BenchConfig, progress=lambda msg: None) -> dict:
    """Everything ``fastlr bench`` measures, as a JSON-ready dict (see :func:`format_report`)."""
    import numba

    from . import __version__

    max_threads = numba.config.NUMBA_NUM_THREADS
    threads = config.threads or tuple(sorted({1, max_threads}))
    results = {"fastlr": __version__, "machine": _machine(), "config": asdict(config)}
    results["config"]["threads"] = list(threads)
    progress("slide 015: dot product of 1,000,000 values")
    results["dot_demo"] = dot_demo(python_elements=config.dot_python_elements, repeat=config.repeat)
    progress("checking every implementation against the NumPy reference")
    with numba_threads(max_threads):
        results["checks"] = [dict(asdict(c), ok=c.ok)
                             for c in check_implementations(config.dtypes, config.layouts)]
    tables = []
    for dtype in config.dtypes:
        for layout in config.layouts:
            for m, n in config.sizes:
                table = bench_size(m, n, dtype, layout, threads, config.repeat,
                                   config.python_elements, progress, seed=config.seed)
                tables.append(table)
    results["tables"] = [asdict(t) for t in tables]
    results["summary"] = summary(results["tables"])
    if config.fit:
        m, n = config.fit_size
        results["fit"] = fit_comparison(m, n, config.dtypes[0], progress=progress, seed=config.seed)
    results["ok"] = bool(results["dot_demo"]["ok"] and all(c["ok"] for c in results["checks"])
                         and all(r["ok"] for t in results["tables"] for r in t["rows"]))
    return results


def _find(tables, m, n, dtype, layout):
    for t in tables:
        if (t["n_samples"], t["n_features"], t["dtype"], t["layout"]) == (m, n, dtype, layout):
            return t
    return None


def _time(table, impl, threads=None):
    if table is None:
        return None
    for r in table["rows"]:
        if r["implementation"] == impl and (threads is None or r["threads"] == threads):
            return r
    return None


def summary(tables: list) -> list:
    """The headline ratios the kernels issue asks for, from whatever the run measured.

    For the largest size (float64, C order when measured): fused at 1 thread vs the NumPy reference
    at 1 thread; fused at the most threads vs 1; fused (1 thread) as a fraction of the speed of
    reading X once; F order vs C order; float32 vs float64; and, at every size where the
    pure-Python loop ran on the whole X, the compiled loop vs pure Python.
    """
    lines = []
    if not tables:
        return lines
    big = max(tables, key=lambda t: (t["n_samples"] * t["n_features"], t["dtype"] == "float64",
                                     t["layout"] == "C"))
    m, n, dtype, layout = big["n_samples"], big["n_features"], big["dtype"], big["layout"]
    where = f"{m}x{n} {dtype} {layout}"
    fused1, numpy1 = _time(big, "fused", 1), _time(big, "numpy", 1)
    threads = sorted({r["threads"] for r in big["rows"] if r["implementation"] == "fused"})
    if fused1 and numpy1:
        lines.append({"figure": "fused vs NumPy reference, 1 thread", "where": where,
                      "value": numpy1["median_s"] / fused1["median_s"], "unit": "x"})
    if fused1 and len(threads) > 1:
        fusedN = _time(big, "fused", threads[-1])
        lines.append({"figure": f"fused {threads[-1]} threads vs 1 thread", "where": where,
                      "value": fused1["median_s"] / fusedN["median_s"], "unit": "x"})
    if fused1:
        lines.append({"figure": "fused (1 thread) speed as % of reading X once (1 thread)",
                      "where": where, "value": fused1["pct_of_read"], "unit": "%"})
    other = _find(tables, m, n, dtype, "F" if layout == "C" else "C")
    if fused1 and other and _time(other, "fused", 1):
        c_t, f_t = (fused1, _time(other, "fused", 1)) if layout == "C" else (_time(other, "fused", 1), fused1)
        lines.append({"figure": "fused F order time / C order time, 1 thread", "where": f"{m}x{n} {dtype}",
                      "value": f_t["median_s"] / c_t["median_s"], "unit": "x"})
    t32, t64 = _find(tables, m, n, "float32", layout), _find(tables, m, n, "float64", layout)
    if t32 and t64 and _time(t32, "fused", 1) and _time(t64, "fused", 1):
        lines.append({"figure": "fused float64 time / float32 time, 1 thread", "where": f"{m}x{n} {layout}",
                      "value": _time(t64, "fused", 1)["median_s"] / _time(t32, "fused", 1)["median_s"],
                      "unit": "x"})
    for t in tables:
        py, loops = _time(t, "python"), _time(t, "loops")
        if py and loops and py["scaled_from_rows"] is None:
            lines.append({"figure": "compiled loop vs pure-Python loop (timed in full)",
                          "where": f"{t['n_samples']}x{t['n_features']} {t['dtype']} {t['layout']}",
                          "value": py["median_s"] / loops["median_s"], "unit": "x"})
    return lines


# ----------------------------------------------------------------------------- printing
def _fmt_time(s: float) -> str:
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def _fmt_ratio(x) -> str:
    if x is None:
        return "-"
    if x < 0.1:
        return f"{x:.1g}x"
    return f"{x:.0f}x" if x >= 100 else f"{x:.2f}x"


def format_dot_demo(d: dict) -> list[str]:
    scaled = d["python_elements_timed"] < d["n"]
    note = f" (timed on {d['python_elements_timed']:,} values, scaled)" if scaled else ""
    return [
        f"Slide 015 — dot product of {d['n']:,} values, c = sum(a[i] * b[i]):",
        f"  Python loop      {_fmt_time(d['python_s']):>10}{note}",
        f"  np.dot           {_fmt_time(d['numpy_s']):>10}   {d['python_s'] / d['numpy_s']:,.0f}x faster than the loop",
        f"  Numba loop       {_fmt_time(d['numba_s']):>10}   {d['python_s'] / d['numba_s']:,.0f}x faster than the loop "
        f"(the same loop, compiled; first call incl. compile {_fmt_time(d['numba_first_call_s'])})",
    ]


def format_table(t: dict) -> list[str]:
    mb = t["nbytes"] / 1e6
    read = ", ".join(f"{_fmt_time(s)} at {k} thr ({t['nbytes'] / s / 1e9:.1f} GB/s)"
                     for k, s in sorted(t["read_s"].items(), key=lambda kv: int(kv[0])))
    out = [
        "",
        f"loss_grad on X of {t['n_samples']:,} x {t['n_features']:,} {t['dtype']}, "
        f"{t['layout']} order ({mb:,.0f} MB)",
        f"  read X once (Numba sum): {read}; NumPy X.sum(): {_fmt_time(t['numpy_sum_s'])}",
        f"  {'implementation':<28}{'median':>10}{'vs NumPy':>10}{'vs Python':>11}{'GB/s':>8}"
        f"{'% read':>8}  check",
    ]
    notes = []
    for r in t["rows"]:
        star = ""
        if r["scaled_from_rows"]:
            star = "*"
            notes.append(f"  * timed on the first {r['scaled_from_rows']:,} rows, scaled to "
                         f"{t['n_samples']:,}")
        check = "ok" if r["ok"] else f"MISMATCH ({r['max_error']:.1e})"
        out.append(f"  {r['label'] + star:<28}{_fmt_time(r['median_s']):>10}"
                   f"{_fmt_ratio(r['speedup_vs_numpy']):>10}{_fmt_ratio(r['speedup_vs_python']):>11}"
                   f"{r['gb_per_s']:>8.2f}{r['pct_of_read']:>7.0f}%  {check}")
    out.append("  % read = time to read X once at the same thread count / time of the implementation")
    return out + notes


def format_fit(fit: dict) -> list[str]:
    out = ["", f"Fit: LogisticRegression(C={fit['C']}) with default settings on "
                f"{fit['n_samples']:,} x {fit['n_features']} {fit['dtype']}"]
    out += [f"  note: {note}" for note in fit["notes"]]
    if fit["fits"]:
        out.append(f"  {'model':<24}{'time':>10}{'n_iter':>8}{'objective':>16}{'rel. gap':>11}{'train acc':>11}")
    sk = [f for f in fit["fits"] if f["model"].startswith("sklearn") and "seconds" in f]
    fastest_sk = min((f["seconds"] for f in sk), default=None)
    for f in fit["fits"]:
        if "error" in f:
            out.append(f"  {f['model']:<24}failed: {f['error']}")
            continue
        flag = "" if f["converged"] else " (not converged)"
        speed = ""
        if fastest_sk and not f["model"].startswith("sklearn"):
            speed = f"  {fastest_sk / f['seconds']:.2f}x vs fastest sklearn"
        out.append(f"  {f['model']:<24}{_fmt_time(f['seconds']):>10}{f['n_iter']:>8}"
                   f"{f['objective']:>16.8g}{f['objective_gap']:>11.1e}{f['train_accuracy']:>11.4f}"
                   f"{flag}{speed}")
    return out


def format_report(results: dict) -> str:
    """The text ``fastlr bench`` prints: the demo, the checks, a table per size, the fit."""
    lines = format_dot_demo(results["dot_demo"])
    checks = results["checks"]
    bad = [c for c in checks if not c["ok"]]
    worst = max((c["max_error"] for c in checks), default=0.0)
    lines += ["", f"Checked {len(checks)} kernel results against the NumPy reference "
                  f"({', '.join(sorted({c['implementation'] for c in checks}))}; "
                  f"{'/'.join(sorted({c['dtype'] for c in checks}))}): "
                  + ("all agree" if not bad else f"{len(bad)} MISMATCH")
                  + f", largest relative error {worst:.1e}"]
    for c in bad:
        lines.append(f"  MISMATCH {c['what']} {c['implementation']} {c['dtype']} {c['layout']}: "
                     f"error {c['max_error']:.2e} > {c['tolerance']:.0e}")
    for t in results["tables"]:
        lines += format_table(t)
    if results.get("summary"):
        lines += ["", "Headline figures:"]
        for s in results["summary"]:
            value = f"{s['value']:.0f}%" if s["unit"] == "%" else _fmt_ratio(s["value"])
            lines.append(f"  {s['figure']:<58} {value:>8}   ({s['where']})")
    if "fit" in results:
        lines += format_fit(results["fit"])
    lines.append("")
    lines.append("all kernels agree with the reference" if results["ok"]
                 else "FAILED: some results disagree with the reference (see MISMATCH above)")
    return "\n".join(lines)


def plot(results: dict, path: str) -> None:
    """Time vs size per implementation (one panel per dtype/layout) and the fit's learning curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = sorted({(t["dtype"], t["layout"]) for t in results["tables"]})
    fig, axes = plt.subplots(1, len(configs) + 1, figsize=(6 * (len(configs) + 1), 4.5))
    for ax, (dtype, layout) in zip(axes, configs):
        tables = sorted((t for t in results["tables"] if (t["dtype"], t["layout"]) == (dtype, layout)),
                        key=lambda t: t["n_samples"] * t["n_features"])
        labels = list(dict.fromkeys(r["label"] for t in tables for r in t["rows"]))
        for label in labels + ["read X once, 1 thread"]:
            xs, ys = [], []
            for t in tables:
                elements = t["n_samples"] * t["n_features"]
                if label.startswith("read X once"):
                    xs.append(elements)
                    ys.append(t["read_s"][min(t["read_s"], key=int)])
                    continue
                for r in t["rows"]:
                    if r["label"] == label:
                        xs.append(elements)
                        ys.append(r["median_s"])
            style = "k--" if label.startswith("read") else "o-"
            ax.loglog(xs, ys, style, label=label)
        ax.set_xlabel("elements of X (n_samples x n_features)")
        ax.set_ylabel("median time per loss_grad call (s)")
        ax.set_title(f"loss_grad, {dtype}, {layout} order")
        ax.legend(fontsize=7)
    ax = axes[-1]
    fit = results.get("fit")
    curves = [f for f in (fit or {}).get("fits", []) if f.get("loss_history")]
    if curves:
        for f in curves:
            ax.plot(np.arange(len(f["loss_history"])), f["loss_history"], label=f["model"])
        ax.set_xlabel("iteration")
        ax.set_ylabel("objective (loss_history_)")
        ax.set_yscale("log")
        ax.set_title("learning curve")
        ax.legend(fontsize=8)
    else:
        why = ("fit comparison not run (--no-fit)" if fit is None
               else "no fit in this run recorded loss_history_")
        ax.text(0.5, 0.5, why, ha="center", va="center", wrap=True)
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


class Progress:
    """Progress on stderr: one overwritten line on a terminal, plain lines otherwise."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        text = f"[fastlr bench {time.perf_counter() - self.start:5.1f}s] {message}"
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
