"""The dense C-order K-column pass, before/after: interleaved fresh processes, one thread.

    python -m benchmarks.kpass                       # this tree alone, 5 rounds
    python -m benchmarks.kpass --base /tmp/base      # interleave with another source tree

Each round runs one fresh worker process per tree (alternating which goes first); a worker times
every case (median of ``--calls`` calls after a warm-up call that compiles) and prints JSON. The
table gives, per case and tree, the median over rounds and the spread (min-max), and the ratio
base/head, for the wall time and for the calling thread's CPU time (less
sensitive to other work on a shared machine). Cases: the public ``multinomial_loss_grad`` (softmax pass) and the batched-binary
pass one-vs-rest uses (``_sums.gradient_sums`` with ``batched_fit``), narrow (n = 50) and wide
(n = 1,000 and 10,000) float64, float32 narrow, and the binary ``loss_grad`` (K = 1). Threads are
held at one (NUMBA_NUM_THREADS, OMP_NUM_THREADS); ``uptime`` is printed before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

#: (name, kind, m, n, K, dtype)
CASES = [
    ("softmax 200000x50 K=10 f64", "softmax", 200_000, 50, 10, "float64"),
    ("batched 200000x50 K=10 f64", "batched", 200_000, 50, 10, "float64"),
    ("softmax 80000x50 K=10 f32", "softmax", 80_000, 50, 10, "float32"),
    ("softmax 100000x100 K=3 f64", "softmax", 100_000, 100, 3, "float64"),
    ("softmax 50000x256 K=10 f64", "softmax", 50_000, 256, 10, "float64"),
    ("softmax 20000x1000 K=10 f64", "softmax", 20_000, 1000, 10, "float64"),
    ("batched 20000x1000 K=10 f64", "batched", 20_000, 1000, 10, "float64"),
    ("softmax 2000x10000 K=10 f64", "softmax", 2_000, 10_000, 10, "float64"),
    ("binary 200000x50 K=1 f64", "binary", 200_000, 50, 1, "float64"),
    ("binary 20000x1000 K=1 f64", "binary", 20_000, 1000, 1, "float64"),
]


def _case(kind, m, n, K, dtype):
    from fastlr import kernels
    from fastlr.kernels import _sums

    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, n)).astype(dtype)
    y = rng.integers(0, max(K, 2), m)
    W = 0.1 * rng.standard_normal((n, K))
    b = 0.1 * rng.standard_normal(K)
    if kind == "softmax":
        return lambda: kernels.multinomial_loss_grad(W, b, X, y)
    if kind == "binary":
        w = W[:, 0].copy()
        yf = (y % 2).astype(np.float64)
        return lambda: kernels.loss_grad(w, 0.1, X, yf)
    groups = y.astype(np.int64)
    labels = np.eye(K)
    factors = np.ones((K, K))
    fit = _sums.batched_fit(groups, labels, factors)
    Wk = np.ascontiguousarray(W.T)
    return lambda: _sums.gradient_sums(fit, X, Wk, b)


def worker(calls: int, only: list[str] | None) -> None:
    import fastlr

    out = {"file": fastlr.__file__}
    for name, kind, m, n, K, dtype in CASES:
        if only and not any(o in name for o in only):
            continue
        f = _case(kind, m, n, K, dtype)
        f()
        wall, cpu = [], []
        for _ in range(calls):
            t0, c0 = time.perf_counter(), time.thread_time()
            f()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        out[name] = [statistics.median(wall), statistics.median(cpu)]
    print(json.dumps(out))


def run_worker(tree: str, args: list, cache: str, **env) -> dict:
    """What a worker printed last (one JSON line): ``python *args`` run in ``tree`` with fastlr
    imported from it (``PYTHONPATH``), the variables ``env`` set, and Numba's cache in
    /tmp/``cache`` (``-base`` appended for a tree other than this one, unless NUMBA_CACHE_DIR
    is set); the worker's stderr and exit on failure."""
    env = dict(os.environ, **env, PYTHONPATH=tree)
    env.setdefault("NUMBA_CACHE_DIR", f"/tmp/{cache}")
    if tree != os.getcwd():
        env["NUMBA_CACHE_DIR"] = env["NUMBA_CACHE_DIR"] + "-base"
    res = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                         cwd=tree)
    if res.returncode:
        sys.exit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _run(tree: str, calls: int, only) -> dict:
    args = ["-m", "benchmarks.kpass", "--worker", "--calls", str(calls)]
    if only:
        args += ["--only", *only]
    return run_worker(tree, args, "numba-kpass", NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1",
                      OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def interleaved(trees, rounds: int, run) -> dict:
    """{label: [run(tree) of each round]} for trees [(label, tree)], one run per tree a round,
    alternating which goes first; ``uptime`` printed before and after."""
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    results = {label: [] for label, _ in trees}
    for r in range(rounds):
        for label, tree in (trees if r % 2 == 0 else trees[::-1]):
            results[label].append(run(tree))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return results


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--base", help="source tree of the 'before' (e.g. a git archive of main)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--calls", type=int, default=7)
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    if a.worker:
        worker(a.calls, a.only)
        return
    head = os.getcwd()
    trees = [("base", a.base), ("head", head)] if a.base else [("head", head)]
    results = interleaved(trees, a.rounds, lambda tree: _run(tree, a.calls, a.only))
    for label, _ in trees:
        print(f"{label}: {results[label][0]['file']}")
    names = [c[0] for c in CASES if c[0] in results[trees[0][0]][0]]
    for which, col in (("wall", 0), ("CPU (thread_time)", 1)):
        header = f"{which + ', 1 thread, ms':32s}" + "".join(f"{lab:>22s}" for lab, _ in trees)
        print(header + ("   base/head" if a.base else ""))
        for name in names:
            row = f"{name:32s}"
            meds = []
            for label, _ in trees:
                v = [1e3 * res[name][col] for res in results[label]]
                meds.append(statistics.median(v))
                row += f"{meds[-1]:9.2f} ({min(v):5.1f}-{max(v):5.1f})"
            if a.base:
                row += f"   {meds[0] / meds[1]:6.2f}x"
            print(row)


if __name__ == "__main__":
    main()
