"""Fits over K functions, before/after: one-vs-rest and multinomial, interleaved fresh processes.

    python -m benchmarks.kfit --base /tmp/before      # e.g. a git archive of the commit before

Issue 16's measure of the one-vs-rest fit (200,000 × 50, 10 classes, 2 threads; X read once per
evaluation for all classes): each round runs one fresh worker per tree (alternating which goes
first); a worker fits each case once to compile, then ``--fits`` times, and prints the median
seconds and the coefficients' digest. The table gives per case and tree the median over rounds
and the range, base/head, and the largest relative difference of the two trees' coefficients
(the same optimum: ~1e-15 when only summation orders differ). Cases: one-vs-rest with the
default solver, ``lbfgs`` and ``newton-cg``; the multinomial model with the default solver.
Threads: ``--threads`` Numba threads (BLAS left as it is).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile

#: (name, multi_class, solver or None for the default)
CASES = [("ovr default", "ovr", None), ("ovr lbfgs", "ovr", "lbfgs"),
         ("ovr newton-cg", "ovr", "newton-cg"), ("multinomial default", "auto", None)]


def _data(m=200_000, n=50, K=10):
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, n))
    P = np.exp(X @ (0.5 * rng.standard_normal((K, n))).T)
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) > rng.random((m, 1))).argmax(axis=1)
    return X, y


def worker(fits: int, threads: int, out_dir: str) -> None:
    import time

    import numpy as np

    import fastlr

    X, y = _data()
    out = {"file": fastlr.__file__}
    for name, multi_class, solver in CASES:
        kw = dict(multi_class=multi_class, n_threads=threads)
        if solver:
            kw["solver"] = solver
        fastlr.LogisticRegression(**kw).fit(X, y)
        times = []
        for _ in range(fits):
            t0 = time.perf_counter()
            est = fastlr.LogisticRegression(**kw).fit(X, y)
            times.append(time.perf_counter() - t0)
        path = os.path.join(out_dir, name.replace(" ", "_") + ".npy")
        np.save(path, np.hstack([est.coef_, est.intercept_[:, None]]))
        out[name] = [statistics.median(times), path, str(getattr(est, "solver_", "-"))]
    print(json.dumps(out))


def _run(tree: str, fits: int, threads: int) -> dict:
    from benchmarks.kpass import run_worker

    out_dir = tempfile.mkdtemp(prefix="kfit-")
    # this file as a script, in the tree: fastlr comes from the tree (PYTHONPATH), not from here
    return run_worker(tree, [os.path.abspath(__file__), "--worker", "--fits", str(fits),
                             "--threads", str(threads), "--out", out_dir], "numba-kfit")


def main() -> None:
    import numpy as np

    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--base", help="source tree of the 'before'")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fits", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.worker:
        worker(a.fits, a.threads, a.out)
        return
    from benchmarks.kpass import interleaved

    head = os.getcwd()
    trees = [("base", a.base), ("head", head)] if a.base else [("head", head)]
    results = interleaved(trees, a.rounds, lambda tree: _run(tree, a.fits, a.threads))
    print(f"{'fit, ' + str(a.threads) + ' threads, s':24s}" + "".join(
        f"{lab:>22s}" for lab, _ in trees) + ("   base/head  max rel. diff" if a.base else ""))
    for name, _, _ in CASES:
        row, meds = f"{name:24s}", []
        for label, _ in trees:
            v = [res[name][0] for res in results[label]]
            meds.append(statistics.median(v))
            row += f"{meds[-1]:9.3f} ({min(v):5.3f}-{max(v):5.3f})"
        if a.base:
            W0, W1 = (np.load(results[label][-1][name][1]) for label, _ in trees)
            row += f"   {meds[0] / meds[1]:6.2f}x  {np.abs(W0 - W1).max() / np.abs(W0).max():.1e}"
        print(row + f"  [{results[trees[-1][0]][-1][name][2]}]")


if __name__ == "__main__":
    main()
