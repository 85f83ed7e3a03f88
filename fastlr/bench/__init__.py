"""The engine behind ``fastlr bench``: check every kernel, then time them side by side, honestly.

What one run does, in one process, on seeded data (each step is a module):

1. :mod:`~fastlr.bench.timing` — the machine's state first: CPU count, load average, Numba's
   threading layer and threads, BLAS threads. Every timing in the run is taken by interleaving:
   the rows of one table take their samples round-robin, so load hits all of them alike.
2. :mod:`~fastlr.bench.demo` — slide 015: a 1,000,000-element dot product as a Python loop, as
   ``np.dot`` and as a Numba-compiled loop.
3. :mod:`~fastlr.bench.checks` — every entry of :mod:`fastlr.implementations` (every operation and
   input) against its NumPy reference on small awkward problems.
4. :mod:`~fastlr.bench.tables` — per size, dtype and memory order, and per CSR size: every
   ``loss_grad`` entry of the registry at the thread counts its fields allow, with median,
   spread, speed-ups, GB/s and "% read" against a read of the input once
   (:mod:`~fastlr.bench.readonce`), each result checked; noisy rows flagged
   (:mod:`~fastlr.bench.flags`). Then the same table, by the same code, for every
   ``multinomial_loss_grad`` entry on dense X per multinomial size (n_samples, n_features, K).
5. :mod:`~fastlr.bench.headline` — the few ratios worth quoting, per operation, marked when they
   rest on noise.
6. :mod:`~fastlr.bench.fit` — ``fastlr.LogisticRegression`` per solver against scikit-learn's (and
   glum's, when installed), each timed at the loosest tolerance that reaches the common optimum;
   binary by default, multinomial on request (``fit_multinomial``); scikit-learn's bundled
   datasets as loaded (unscaled) on request (``fit_real``, :mod:`~fastlr.bench.cases`).

:mod:`~fastlr.bench.report` prints it, :mod:`~fastlr.bench.plot` draws it (matplotlib).
Importing this package imports nothing heavy (no Numba, scikit-learn, threadpoolctl or
matplotlib): each step imports what it needs when it runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .options import (check_output_path, parse_choices, parse_multinomial, parse_real,
                      parse_sizes, parse_sparse, parse_threads)
from .report import Progress, format_report

__all__ = [
    "DEFAULT_FIT_MULTINOMIAL",
    "DEFAULT_MULTINOMIAL",
    "DEFAULT_SIZES",
    "DEFAULT_SPARSE",
    "DTYPES",
    "LAYOUTS",
    "QUICK",
    "SLIDES",
    "BenchConfig",
    "Progress",
    "check_output_path",
    "format_report",
    "parse_choices",
    "parse_multinomial",
    "parse_real",
    "parse_sizes",
    "parse_sparse",
    "parse_threads",
    "plot",
    "run",
]

#: 160 MB of float64 each: well beyond the 32 MiB L3 of the reference machine, so the kernels are
#: measured streaming X from memory, as in real use. The default run takes ~1 min on 2 cores.
DEFAULT_SIZES = ((200_000, 100), (20_000, 1_000))
#: 4e6 nonzeros (data + indices 48 MB): beyond L3, and ~1 s of the run
DEFAULT_SPARSE = ((200_000, 2_000, 0.01),)
#: the multinomial table: X as the first dense size (160 MB), K = 10; ~5 s of the run
DEFAULT_MULTINOMIAL = ((200_000, 100, 10),)
#: ``--fit-multinomial`` without a size: the multinomial case of benchmarks/fit_vs_sklearn.py
DEFAULT_FIT_MULTINOMIAL = (200_000, 50, 10)
DTYPES = ("float64", "float32")
LAYOUTS = ("C", "F")


@dataclass
class BenchConfig:
    sizes: tuple = DEFAULT_SIZES
    dtypes: tuple = ("float64",)
    layouts: tuple = ("C",)
    threads: tuple | None = None  # None: (1, all)
    repeat: int = 5
    #: entries with ``max_elements`` (the pure-Python loop) are timed on at most this many
    #: elements of X and scaled; None: each entry's own ``max_elements``
    slow_elements: int | None = None
    dot_python_elements: int | None = None  # None: the Python loop runs over all 1e6 values
    sparse: tuple = DEFAULT_SPARSE  # (n_samples, n_features, density) per CSR table; () for none
    #: (n_samples, n_features, n_classes) per multinomial_loss_grad table (dense, per dtype and
    #: layout); () for none
    multinomial: tuple = DEFAULT_MULTINOMIAL
    fit: bool = True
    fit_size: tuple = (100_000, 20)
    #: fits per contender timed at its chosen tolerance, interleaved (the equal-optimum protocol
    #: of :mod:`fastlr.bench.fit`: with the ladder search, ~11 s at 100,000 x 20 on 2 cores)
    fit_repeat: int = 3
    #: the tolerance ladder of the fit protocol, loosest first (None: fit.LADDER, 1e-2 ... 1e-10)
    fit_ladder: tuple | None = None
    #: (n_samples, n_features, n_classes) of the multinomial fit comparison; None: not run
    fit_multinomial: tuple | None = None
    #: seconds: a fit contender one of whose fits takes longer stops there, reported "over
    #: budget" (scikit-learn's multinomial newton-cholesky at 200,000 x 50 x 10 took 13-400 s per
    #: fit on 2 cores, depending on the load); None: no limit
    fit_budget: float | None = 60.0
    #: names of :data:`fastlr.bench.cases.REAL_CASES` to compare fits on (``--fit-real``); () none
    fit_real: tuple = ()
    seed: int = 0


#: ``--quick``: one small size of each kind, 3 samples, the slow entries on slices, no fit
QUICK = {"sizes": ((50_000, 100),), "sparse": ((50_000, 1_000, 0.01),),
         "multinomial": ((50_000, 100, 10),), "repeat": 3, "slow_elements": 20_000,
         "dot_python_elements": 100_000, "fit": False}
#: ``--slides``: the figures the kernels issue asks for: 1e6 x 100 (800 MB float64) at 1 and all
#: threads, the compiled loop against pure Python at 10,000 x 100 (timed in full, not scaled),
#: both memory orders and both dtypes; the fused softmax kernel against its NumPy reference at
#: 1e6 x 100 with K = 10, at 1 and all threads, and as a fraction of one read of X.
SLIDES = {"sizes": ((10_000, 100), (1_000_000, 100)), "threads": "1,all", "layouts": ("C", "F"),
          "dtypes": ("float64", "float32"), "multinomial": ((1_000_000, 100, 10),),
          "slow_elements": 1_000_000, "fit": False}


def run(config: BenchConfig, progress=lambda msg: None) -> dict:
    """Everything ``fastlr bench`` measures, as a JSON-ready dict (see :func:`format_report`)."""
    import numba
    import numpy as np

    from .. import __version__
    from .._jit import numba_threads
    from .checks import check_registry
    from .demo import dot_demo
    from .fit import LADDER, fit_comparison
    from .headline import headline
    from .readonce import read_dense
    from .tables import MULTINOMIAL_OPERATION, csr_table, dense_table
    from .timing import load_average, machine_state

    load_at_start = load_average()
    max_threads = numba.config.NUMBA_NUM_THREADS
    threads = config.threads or tuple(sorted({1, max_threads}))
    read_dense(np.zeros(8))  # one parallel kernel, so Numba's threading layer is chosen
    results = {"fastlr": __version__, "machine": machine_state(load_at_start),
               "config": dict(asdict(config), threads=list(threads))}
    progress("slide 015: dot product of 1,000,000 values")
    results["dot_demo"] = dot_demo(
        python_elements=config.dot_python_elements, repeat=config.repeat,
        on_round=lambda i, n: progress(f"slide 015: round {i + 1}/{n}"))
    progress("checking every registry entry against its NumPy reference")
    with numba_threads(max_threads):
        checks, not_checked = check_registry(config.dtypes, config.layouts)
    results["checks"] = [dict(asdict(c), ok=c.ok) for c in checks]
    results["not_checked"] = [list(n) for n in not_checked]
    tables = []
    for dtype in config.dtypes:
        for layout in config.layouts:
            for m, n in config.sizes:
                tables.append(dense_table(m, n, dtype, layout, threads, config.repeat,
                                          slow_elements=config.slow_elements, progress=progress,
                                          seed=config.seed))
        for m, n, density in config.sparse:
            tables.append(csr_table(m, n, density, dtype, threads, config.repeat,
                                    slow_elements=config.slow_elements, progress=progress,
                                    seed=config.seed))
    for dtype in config.dtypes:
        for layout in config.layouts:
            for m, n, k in config.multinomial:
                tables.append(dense_table(m, n, dtype, layout, threads, config.repeat,
                                          slow_elements=config.slow_elements, progress=progress,
                                          seed=config.seed, operation=MULTINOMIAL_OPERATION,
                                          n_classes=k))
    results["tables"] = [_table_dict(t) for t in tables]
    results["headline"] = headline(results["tables"])
    # the fits run at the most threads timed: fastlr's n_threads, BLAS and OpenMP alike
    fit_options = dict(repeat=config.fit_repeat, threads=max(threads),
                       ladder=config.fit_ladder or LADDER, budget=config.fit_budget,
                       seed=config.seed)
    if config.fit:
        m, n = config.fit_size
        results["fit"] = fit_comparison(m, n, config.dtypes[0], progress=progress,
                                        **fit_options)
    if config.fit_multinomial:
        m, n, k = config.fit_multinomial
        results["fit_multinomial"] = fit_comparison(
            m, n, config.dtypes[0], n_classes=k,
            progress=lambda msg: progress(f"multinomial {msg}"), **fit_options)
    if config.fit_real:
        from .cases import real_fit_comparison

        results["fit_real"] = real_fit_comparison(config.fit_real, progress=progress,
                                                  **fit_options)
    results["ok"] = bool(results["dot_demo"]["ok"] and all(c["ok"] for c in results["checks"])
                         and all(r["ok"] and not r["error"]
                                 for t in results["tables"] for r in t["rows"]))
    return results


def _table_dict(table) -> dict:
    out = asdict(table)
    for row, r in zip(table.rows, out["rows"]):
        r["noisy"] = row.noisy
    return out


def plot(results: dict, path: str) -> None:
    """Save the run's figure to ``path`` (needs matplotlib; see :mod:`fastlr.bench.plot`)."""
    from .plot import plot_results

    # importing the submodule bound this package's attribute ``plot`` to it: bind the function
    # again, or a second ``bench.plot(...)`` in the same process calls a module
    globals()["plot"] = _plot
    plot_results(results, path)


_plot = plot
