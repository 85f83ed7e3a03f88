"""fastlr where users run it, against scikit-learn: fresh processes, a busy core, worker pools.

    python benchmarks/real_use.py [--repeat 5] [--only startup,busy,gridsearch,interrupt]

startup
    A fresh interpreter imports the library and fits 100,000 x 20 once (data made before the
    clock starts): fastlr with an empty compile cache (the first process after an install),
    fastlr with a warm cache (every later process), scikit-learn's lbfgs; and, as the floor under
    fastlr's warm figure, Numba alone (import numba, one call of a cached one-line kernel). Each
    sample is a new process; the four kinds are interleaved, so load hits them alike.
busy
    ``kernels.loss_grad`` at the default thread count and at one thread, interleaved call by call,
    median of 25, with one other process spinning on a core; then the same without it.
    20,000 x 50 to 1,000,000 x 100 float64.
compile
    What a first binary fit of 100,000 x 20 compiles, in a fresh interpreter with an empty cache:
    each top-level Numba compilation and its seconds (Numba's event API), and the total.
layers
    The choice fastlr made for the threads, measured: the ``busy`` comparison in a fresh process
    per threading layer (TBB, GNU OpenMP, workqueue), with Numba's static schedule or tasks handed
    out one at a time (``parallel_chunksize(1)``), every call on the parallel driver.
gridsearch
    ``GridSearchCV(fastlr.LogisticRegression(), {"C": 6 values}, cv=5)`` at ``n_jobs=1`` and
    ``n_jobs=2`` (loky worker processes), 200,000 x 20, interleaved.
interrupt
    Ctrl-C latency: SIGINT sent 0.3 s into a long fit of 2,000,000 x 40 (640 MB), seconds until
    the ``KeyboardInterrupt`` arrives, for lbfgs, newton and gd, binary and one-vs-rest (4
    classes), in a fresh interpreter. What is tested (tests/test_real_use.py) is the behaviour —
    the interrupt arrives within an evaluation or two and the model is unchanged — not this time,
    which is about one evaluation of the objective (0.1-0.4 s measured quiet, 2.2 s on a loaded
    2-core machine).

Speed is never asserted anywhere; read the ratios, and rerun on a quiet machine before quoting
them. Prints medians with the spread (slowest − fastest) / median.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

STARTUP = textwrap.dedent("""
    import sys, time
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 20))
    y = (X @ rng.standard_normal(20) + rng.standard_normal(100_000) > 0).astype(int)
    start = time.perf_counter()
    if sys.argv[1] == "numba":  # Numba's own start-up: import, first call of a cached kernel
        sys.path.insert(0, sys.argv[2])
        import numba_floor
        numba_floor.total(X)
    else:
        if sys.argv[1] == "sklearn":
            from sklearn.linear_model import LogisticRegression
        else:
            from fastlr import LogisticRegression
        LogisticRegression().fit(X, y)
    print(time.perf_counter() - start)
""")

NUMBA_FLOOR = textwrap.dedent("""
    import numba

    @numba.njit(cache=True)
    def total(X):
        return X.sum()
""")


def _median_spread(samples):
    med = statistics.median(samples)
    return med, (max(samples) - min(samples)) / med if med else 0.0


def _fmt(samples, unit=1.0, suffix="s"):
    med, spread = _median_spread(samples)
    return f"{med * unit:9.3f} {suffix} ±{100 * spread:3.0f}%"


def startup(repeat: int) -> None:
    times = {"fastlr, empty cache": [], "fastlr, warm cache": [], "scikit-learn": [],
             "Numba alone": []}
    warm = tempfile.mkdtemp(prefix="fastlr-warm-")
    with open(os.path.join(warm, "numba_floor.py"), "w") as f:
        f.write(NUMBA_FLOOR)
    # PYTHONDONTWRITEBYTECODE would make every process of an editable install compile fastlr's
    # sources again (~0.1 s); a pip-installed package has its .pyc files, so drop it.
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("FASTLR_", "NUMBA_CACHE", "PYTHONDONTWRITEBYTECODE"))}
    for lib in ("fastlr", "numba"):  # fill the warm cache once
        subprocess.run([sys.executable, "-c", STARTUP, lib, warm], check=True,
                       capture_output=True, env=dict(base, NUMBA_CACHE_DIR=warm))
    for _ in range(repeat):
        for kind in times:
            env = dict(base)
            if kind == "fastlr, empty cache":
                env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastlr-empty-")
            else:
                env["NUMBA_CACHE_DIR"] = warm
            lib = {"scikit-learn": "sklearn", "Numba alone": "numba"}.get(kind, "fastlr")
            out = subprocess.run([sys.executable, "-c", STARTUP, lib, warm], check=True,
                                 capture_output=True, text=True, env=env)
            times[kind].append(float(out.stdout.strip().splitlines()[-1]))
    sk = statistics.median(times["scikit-learn"])
    print(f"\nFresh interpreter: import + first fit of 100,000 x 20 (median of {repeat} processes)")
    for kind, samples in times.items():
        print(f"  {kind:<22}{_fmt(samples)}   {statistics.median(samples) / sk:5.2f}x scikit-learn")
    print("  (Numba alone: import numba and the first call of a cached one-line kernel, the start-up"
          " any Numba library pays before its own work)")


COMPILE = textwrap.dedent("""
    import json, time
    import numpy as np
    from numba.core import event
    starts, spans = {}, []
    class Listener(event.Listener):
        def on_start(self, ev):
            starts[id(ev.data["dispatcher"]), str(ev.data["args"])] = time.perf_counter()
        def on_end(self, ev):
            key = id(ev.data["dispatcher"]), str(ev.data["args"])
            spans.append((ev.data["dispatcher"].py_func.__qualname__, starts.pop(key),
                          time.perf_counter()))
    event.register("numba:compile", Listener())
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 20))
    y = (X @ rng.standard_normal(20) + rng.standard_normal(100_000) > 0).astype(int)
    start = time.perf_counter()
    from fastlr import LogisticRegression
    LogisticRegression().fit(X, y)
    total = time.perf_counter() - start
    # top-level compilations: those not nested inside another one
    top = [s for s in spans if not any(o is not s and o[1] <= s[1] and s[2] <= o[2] for o in spans)]
    print(json.dumps({"total": total, "top": [(q, e - b) for q, b, e in top],
                      "all": [(q, e - b) for q, b, e in spans]}))
""")


def compile_profile() -> None:
    import json

    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTLR_", "NUMBA_CACHE"))}
    env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastlr-empty-")
    out = subprocess.run([sys.executable, "-c", COMPILE], check=True, capture_output=True,
                         text=True, env=env)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    compiled = sum(seconds for _, seconds in report["top"])
    print(f"\nFirst binary fit of 100,000 x 20 in a fresh interpreter, empty cache: "
          f"{report['total']:.2f} s, of which compiling {compiled:.2f} s:")
    for name, seconds in report["top"]:
        print(f"  {seconds:6.2f} s  {name}")
    fastlr_parts = sorted(((s, q) for q, s in report["all"] if not q.startswith(("ol_", "_ol"))),
                          reverse=True)
    print("  (inclusive times of fastlr's functions: "
          + ", ".join(f"{q} {s:.2f} s" for s, q in fastlr_parts[:8]) + ")")


def _spin(stop):
    while not stop.is_set():
        pass


def _busy_table(sizes, calls: int, label: str) -> None:
    import numba
    import numpy as np

    from fastlr import kernels

    print(f"\nkernels.loss_grad, default threads ({numba.get_num_threads()}) vs 1 thread, "
          f"interleaved, median of {calls}: {label}")
    for m, n in sizes:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((m, n))
        y = (rng.random(m) < 0.5).astype(float)
        w = rng.standard_normal(n) * 0.1
        default = numba.get_num_threads()
        samples = {default: [], 1: []}
        for threads in samples:  # compile and warm both paths
            numba.set_num_threads(threads)
            kernels.loss_grad(w, 0.0, X, y)
        for _ in range(calls):
            for threads in samples:
                numba.set_num_threads(threads)
                start = time.perf_counter()
                kernels.loss_grad(w, 0.0, X, y)
                samples[threads].append(time.perf_counter() - start)
        numba.set_num_threads(default)
        ratio = statistics.median(samples[default]) / statistics.median(samples[1])
        print(f"  {m:>9,} x {n:<4} default {_fmt(samples[default], 1e3, 'ms')}   "
              f"1 thread {_fmt(samples[1], 1e3, 'ms')}   default / 1 thread {ratio:5.2f}x")


LAYER_PROBE = textwrap.dedent("""
    import os, statistics, sys, time
    layer, chunk = sys.argv[1], int(sys.argv[2])
    import numba, numpy as np
    from fastlr import _jit, kernels
    from fastlr.kernels import _layout
    assert numba.config.THREADING_LAYER == layer or layer == "default"
    _jit.PARALLEL_MIN_BYTES = 0  # every call parallel: the layer is what is compared
    if chunk == 0:  # Numba's default static schedule
        run = _layout.run_parallel
        def static(kernel, part, args, threads):
            with _jit.numba_threads(threads), _jit.parallel_guard():
                kernel.parallel(part, args)
        _layout.run_parallel = static
    out = []
    for m, n in [(20_000, 50), (200_000, 100), (1_000_000, 20), (1_000_000, 100)]:
        rng = np.random.default_rng(0)
        X = rng.standard_normal((m, n)); y = (rng.random(m) < 0.5) * 1.0; w = rng.standard_normal(n) * 0.1
        default = numba.get_num_threads()
        samples = {default: [], 1: []}
        for t in samples:
            numba.set_num_threads(t); kernels.loss_grad(w, 0.0, X, y)
        for _ in range(25):
            for t in samples:
                numba.set_num_threads(t)
                start = time.perf_counter(); kernels.loss_grad(w, 0.0, X, y)
                samples[t].append(time.perf_counter() - start)
        a, b = statistics.median(samples[default]), statistics.median(samples[1])
        out.append(f"{m}x{n}:{a / b:.2f}")
    print(numba.threading_layer(), " ".join(out))
""")


def layers() -> None:
    print("\nThreading layers: default threads / 1 thread per call (median of 25, interleaved),"
          " every call parallel")
    for busy_core in (True, False):
        stop = mp.Event()
        spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if busy_core else None
        if spinner:
            spinner.start()
            time.sleep(0.5)
        try:
            for layer in ("tbb", "omp", "workqueue"):
                for chunk in (0, 1):
                    env = dict(os.environ, NUMBA_THREADING_LAYER=layer)
                    out = subprocess.run([sys.executable, "-c", LAYER_PROBE, layer, str(chunk)],
                                         capture_output=True, text=True, env=env)
                    line = out.stdout.strip() or out.stderr.strip().splitlines()[-1]
                    print(f"  {'one core busy' if busy_core else 'no busy process':<16}"
                          f"{'chunk 1' if chunk else 'static':<9}{line}")
        finally:
            stop.set()
            if spinner:
                spinner.join()


def busy(calls: int) -> None:
    sizes = [(20_000, 50), (200_000, 100), (1_000_000, 20), (1_000_000, 100)]
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,), daemon=True)
    spinner.start()
    try:
        time.sleep(0.5)
        _busy_table(sizes, calls, "one other process spinning on a core")
    finally:
        stop.set()
        spinner.join()
    _busy_table(sizes, calls, "no other process started")


def gridsearch(repeat: int) -> None:
    import numpy as np
    from sklearn.model_selection import GridSearchCV

    import fastlr

    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 20))
    y = (X @ rng.standard_normal(20) + rng.standard_normal(200_000) > 0).astype(int)
    grid = {"C": [0.001, 0.01, 0.1, 1.0, 10.0, 100.0]}
    times = {1: [], 2: []}
    for n_jobs in times:  # start the loky pool and compile in the workers once
        GridSearchCV(fastlr.LogisticRegression(), grid, cv=5, n_jobs=n_jobs).fit(X, y)
    for _ in range(repeat):
        for n_jobs in times:
            start = time.perf_counter()
            GridSearchCV(fastlr.LogisticRegression(), grid, cv=5, n_jobs=n_jobs).fit(X, y)
            times[n_jobs].append(time.perf_counter() - start)
    print(f"\nGridSearchCV over fastlr.LogisticRegression, 6 values of C x 5 folds, 200,000 x 20 "
          f"(median of {repeat}):")
    for n_jobs, samples in times.items():
        print(f"  n_jobs={n_jobs}  {_fmt(samples)}")
    print(f"  n_jobs=2 / n_jobs=1: {statistics.median(times[2]) / statistics.median(times[1]):.2f}x")


INTERRUPT = textwrap.dedent("""
    import json, os, signal, statistics, sys, threading, time, warnings
    import numpy as np
    import fastlr
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a background process ignores it
    warnings.simplefilter("ignore")
    repeat = int(sys.argv[1])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2_000_000, 40))
    y = np.digitize(X[:, :3].sum(axis=1) + rng.standard_normal(2_000_000), [-1.0, 0.0, 1.0])
    for solver in ("lbfgs", "newton", "gd"):
        for labels, kind in ((y == 1, "binary"), (y, "one-vs-rest")):
            fastlr.LogisticRegression(solver=solver, max_iter=1).fit(X, labels)  # compile first
            delays = []
            for _ in range(repeat):
                sent = []
                timer = threading.Timer(0.3, lambda: (sent.append(time.perf_counter()),
                                                      os.kill(os.getpid(), signal.SIGINT)))
                timer.start()
                try:
                    fastlr.LogisticRegression(solver=solver, max_iter=100_000, tol=0.0).fit(X, labels)
                except KeyboardInterrupt:
                    delays.append(time.perf_counter() - sent[0])
                timer.join()
            print(json.dumps({"solver": solver, "kind": kind, "delays": delays}), flush=True)
""")


def interrupt(repeat: int) -> None:
    print(f"\nCtrl-C latency, 2,000,000 x 40 float64, signal 0.3 s into the fit "
          f"(median of {repeat}, seconds from SIGINT to KeyboardInterrupt):")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", INTERRUPT, str(repeat)], capture_output=True,
                          text=True, env=env, check=True)
    import json

    for line in done.stdout.splitlines():
        row = json.loads(line)
        label = f"{row['solver']} {row['kind']}"
        print(f"  {label:<24}{_fmt(row['delays']) if row['delays'] else 'never interrupted'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="samples per measurement")
    parser.add_argument("--only", default="compile,startup,busy,gridsearch",
                        help="comma-separated: compile, startup, busy, layers, gridsearch, "
                             "interrupt")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the start")
    chosen = set(args.only.split(","))
    if "compile" in chosen:
        compile_profile()
    if "startup" in chosen:
        startup(args.repeat)
    if "busy" in chosen:
        busy(25)
    if "layers" in chosen:
        layers()
    if "gridsearch" in chosen:
        gridsearch(args.repeat)
    if "interrupt" in chosen:
        interrupt(args.repeat)


if __name__ == "__main__":
    main()
