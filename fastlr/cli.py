"""``fastlr`` command line.

* ``fastlr bench`` — the machine's load, the slide-015 vectorization demo, every kernel checked
  against the NumPy reference, interleaved timing tables per dense size, for CSR X and for the
  multinomial kernels (noisy rows flagged), and a fit comparison with scikit-learn at equal
  optimum (binary; multinomial with ``--fit-multinomial``). Exit status 1 when any kernel
  disagrees with the reference, 2 for bad options (an output path that cannot be written
  included, checked before the run, or ``--plot`` without matplotlib); noisy timings do not
  change it.
* ``fastlr demo`` — "is this digit a zero?" on scikit-learn's digits with :mod:`fastlr.course`.
* ``fastlr warmup`` — compile the common kernels into the disk cache ahead of use
  (:mod:`fastlr.warmup`), for images and deployments.
* ``fastlr --version``.

Also ``python -m fastlr ...``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

__all__ = ["main"]

#: what ``fastlr --help`` says first (the module docstring is reST, for the documentation)
_DESCRIPTION = ("fastlr: logistic-regression kernels in Numba, checked against NumPy. Commands: "
                "bench (check and time every kernel), demo (the digits course demo), warmup "
                "(compile into the disk cache).")

_BENCH_EPILOG = """\
examples:
  fastlr bench                                  # default: 200000x100 and 20000x1000, float64, C order,
                                                # CSR 200000x2000 at 1 %, multinomial 200000x100 with
                                                # K = 10, binary fit comparison at equal optimum
  fastlr bench --quick                          # one small size of each kind, no fit
  fastlr bench --sparse 1000000x1000@0.001      # CSR sizes with their density (--no-sparse: none)
  fastlr bench --multinomial 1000000x100x10     # multinomial sizes N_SAMPLESxN_FEATURESxK (--no-multinomial)
  fastlr bench --fit-multinomial                # add the multinomial fit: 200000x50, 10 classes (~4 min)
  fastlr bench --fit-real                       # add fits on breast_cancer and wine as loaded (unscaled);
                                                # --fit-real all adds digits (minutes: sklearn's newton-cholesky)
  fastlr bench --sizes 1000000x100 --threads 1,2 --layout C,F --dtype float64,float32
  fastlr bench --slides                         # the large preset: 1e6x100 and 10000x100, both layouts and
                                                # dtypes, 1/all threads (~3.5 min and 1.7 GB on 2 cores)
  fastlr bench --json results.json --plot bench.png

fit protocol: every contender (fastlr, scikit-learn, glum when installed) is timed at the loosest
tol of 1e-2, 1e-3, ..., 1e-10 whose fit lands within 1e-6 (relative) of the best objective any
contender reaches; median of --fit-repeat interleaved fits after a warm-up.
"""


def _bench_parser(sub):
    p = sub.add_parser(
        "bench",
        help="check every kernel against the NumPy reference and time them side by side",
        description="Check every kernel against the NumPy reference and time them side by side.",
        epilog=_BENCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sizes", help="comma-separated N_SAMPLESxN_FEATURES (default 200000x100,20000x1000)")
    p.add_argument("--dtype", default="float64", help="float64, float32 or both: float64,float32")
    p.add_argument("--layout", default="C", help="memory order of X: C, F or C,F")
    p.add_argument("--threads", default="1,all",
                   help="Numba (and BLAS) thread counts to time, e.g. 1,2 or 1,all (default 1,all)")
    p.add_argument("--repeat", type=int, default=None,
                   help="timed samples per row, taken in rounds across the rows of a table "
                        "(default 5; --quick 3)")
    sparse = p.add_mutually_exclusive_group()
    sparse.add_argument("--sparse", metavar="MxN@DENSITY",
                        help="CSR tables: comma-separated N_SAMPLESxN_FEATURES@DENSITY "
                             "(default 200000x2000@0.01)")
    sparse.add_argument("--no-sparse", action="store_true", help="no CSR table")
    multinomial = p.add_mutually_exclusive_group()
    multinomial.add_argument("--multinomial", metavar="MxNxK",
                             help="multinomial_loss_grad tables (dense, per --dtype and --layout): "
                                  "comma-separated N_SAMPLESxN_FEATURESxN_CLASSES "
                                  "(default 200000x100x10)")
    multinomial.add_argument("--no-multinomial", action="store_true",
                             help="no multinomial_loss_grad table")
    p.add_argument("--quick", action="store_true",
                   help="one small dense size (50000x100), one CSR size (50000x1000@0.01) and one "
                        "multinomial size (50000x100x10), 3 samples, the pure-Python loop on "
                        "slices, no fit")
    p.add_argument("--slides", action="store_true",
                   help="preset: 10000x100 and 1000000x100, threads 1,all, C and F, float64 and "
                        "float32, pure-Python loop timed in full at 10000x100, multinomial "
                        "1000000x100x10")
    p.add_argument("--no-fit", action="store_true", help="skip the binary fit comparison")
    p.add_argument("--fit-size", default=None, help="size of the binary fit comparison "
                                                    "(default 100000x20)")
    p.add_argument("--fit-multinomial", metavar="MxNxK", nargs="?", const="200000x50x10",
                   default=None,
                   help="also compare multinomial fits (default size 200000x50x10; ~4 min on 2 cores)")
    p.add_argument("--fit-real", metavar="NAMES", nargs="?", const=True, default=None,
                   help="also compare fits on scikit-learn's bundled datasets as loaded (unscaled), "
                        "default LogisticRegression() included: breast_cancer,wine when given "
                        "alone; digits or all on request (minutes)")
    p.add_argument("--fit-repeat", type=int, default=None,
                   help="timed fits per contender at its chosen tolerance, interleaved (default 3)")
    p.add_argument("--fit-budget", type=float, default=None, metavar="SECONDS",
                   help="a fit contender stops (reported 'over budget', not timed) after one fit "
                        "longer than this (default 60; 0: no limit)")
    p.add_argument("--json", metavar="PATH", help="write machine-readable results to PATH")
    p.add_argument("--plot", metavar="PATH.png",
                   help="save GB/s per row and size against the read-once speed, and the fit's "
                        "learning curves (needs matplotlib: pip install matplotlib)")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    return p


def _bench_config(args, parser):
    import numba

    from . import bench

    config = bench.BenchConfig()
    threads_text = args.threads
    try:
        if args.slides:
            preset = dict(bench.SLIDES)
            threads_text = preset.pop("threads")
            vars(config).update(preset)
        else:
            config.layouts = bench.parse_choices(args.layout, bench.LAYOUTS, "layout")
            config.dtypes = bench.parse_choices(args.dtype, bench.DTYPES, "dtype")
        if args.quick:
            vars(config).update(bench.QUICK)
        if args.sizes:
            config.sizes = bench.parse_sizes(args.sizes)
        if args.sparse:
            config.sparse = bench.parse_sparse(args.sparse)
        if args.no_sparse:
            config.sparse = ()
        if args.multinomial:
            config.multinomial = bench.parse_multinomial(args.multinomial)
        if args.no_multinomial:
            config.multinomial = ()
        if args.fit_multinomial:
            sizes = bench.parse_multinomial(args.fit_multinomial)
            if len(sizes) != 1:
                raise ValueError(f"--fit-multinomial takes one size, got {args.fit_multinomial!r}")
            (config.fit_multinomial,) = sizes
        if args.fit_real is not None:
            config.fit_real = bench.parse_real(None if args.fit_real is True else args.fit_real)
        if args.fit_size:
            sizes = bench.parse_sizes(args.fit_size)
            if len(sizes) != 1:
                raise ValueError(f"--fit-size takes one size, got {args.fit_size!r}")
            (config.fit_size,) = sizes
        config.threads = bench.parse_threads(threads_text, numba.config.NUMBA_NUM_THREADS)
    except ValueError as exc:
        parser.error(str(exc))
    if args.repeat is not None:
        if args.repeat < 1:
            parser.error("--repeat must be at least 1")
        config.repeat = args.repeat
    if args.fit_repeat is not None:
        if args.fit_repeat < 1:
            parser.error("--fit-repeat must be at least 1")
        config.fit_repeat = args.fit_repeat
    if args.fit_budget is not None:
        if not args.fit_budget >= 0:  # also rejects NaN
            parser.error("--fit-budget must be a number of seconds >= 0 (0: no limit)")
        config.fit_budget = args.fit_budget or None
    if args.no_fit:
        config.fit = False
    for option, path in (("--json", args.json), ("--plot", args.plot)):
        if path:
            try:
                bench.check_output_path(path, option)
            except ValueError as exc:
                parser.error(str(exc))
    return config


def _run_bench(args, parser) -> int:
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("fastlr bench: --plot needs matplotlib, which is not installed; "
                  "install it with: pip install matplotlib",
                  file=sys.stderr)
            return 2
    config = _bench_config(args, parser)
    from . import bench

    progress = bench.Progress(enabled=not args.no_progress)
    results = bench.run(config, progress=progress)
    progress.done()
    print(bench.format_report(results))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1, default=float)
        print(f"results written to {args.json}")
    if args.plot:
        bench.plot(results, args.plot)
        print(f"plot saved to {args.plot}")
    return 0 if results["ok"] else 1


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _demo_parser(sub):
    p = sub.add_parser(
        "demo",
        help='train "is this digit a zero?" on scikit-learn\'s digits with fastlr.course',
        description='Train "is this digit a zero?" on scikit-learn\'s bundled 8x8 digits with the '
                    "course API (fastlr.course.model), print the cost every 100 iterations and the "
                    "train/test accuracy, and save the learning curve (needs scikit-learn; the "
                    "plot needs matplotlib).",
    )
    p.add_argument("--iterations", type=_non_negative_int, default=1000,
                   help="gradient-descent iterations (default 1000)")
    p.add_argument("--learning-rate", type=_positive_float, default=0.5,
                   help="learning rate α, a finite number > 0 (default 0.5)")
    p.add_argument("--plot", metavar="PATH.png", default="learning_curve.png",
                   help="where to save the learning curve (default learning_curve.png)")
    p.add_argument("--no-plot", action="store_true", help="do not save the learning curve")
    return p


def _warmup_parser(sub):
    p = sub.add_parser(
        "warmup",
        help="compile the common kernels into the disk cache ahead of use",
        description="Compile every common kernel specialisation (dense C/F and CSR X, float64 and "
                    "float32, loss/gradient, Hessian, sigmoid; serial and parallel drivers) into "
                    "fastlr's disk cache, so later processes load them instead of compiling. Run "
                    "it where the cache will be read (an image build, say).",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary line")
    return p


def _run_warmup(args) -> int:
    import time

    from . import _cache
    from .warmup import warmup

    if not _cache.enabled():
        print("fastlr warmup: the disk cache is off (FASTLR_CACHE=0): nothing to fill",
              file=sys.stderr)
        return 2
    path, writable = _cache.cache_dir()
    if path is None or not writable:
        print(f"fastlr warmup: no writable cache directory ({path or _cache._user_cache_root()}); "
              "set NUMBA_CACHE_DIR to one", file=sys.stderr)
        return 2
    start = time.perf_counter()
    progress = None if args.quiet else (lambda what: print(f"  {what}", flush=True))
    done = warmup(progress=progress)
    print(f"{len(done)} kernels compiled or loaded in {time.perf_counter() - start:.1f} s; "
          f"cache: {path}")
    return 0


def main(argv=None) -> int:
    """Entry point of the ``fastlr`` console script; returns the exit status."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="fastlr", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"fastlr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    bench_parser = _bench_parser(sub)
    demo_parser = _demo_parser(sub)
    _warmup_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "warmup":
        return _run_warmup(args)
    if args.command == "bench":
        return _run_bench(args, bench_parser)
    if args.command == "demo":
        from . import demo
        from .bench.options import check_output_path

        if not args.no_plot:
            try:
                check_output_path(args.plot, "--plot")
            except ValueError as exc:
                demo_parser.error(str(exc))

        return demo.main(iterations=args.iterations, learning_rate=args.learning_rate,
                         plot=None if args.no_plot else args.plot)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
