"""Fit time of fastlr.LogisticRegression against scikit-learn's fastest solvers, same optimum.

    python benchmarks/fit_vs_sklearn.py [--threads 2] [--cases dense200k,dense1m,float32,sparse]

For each problem both libraries fit with a tight tolerance; the objective F = C·Σ Lᵢ + ½‖w‖² of every
result is computed here with NumPy, and the relative gap to the best one is printed next to the
time, so a speed figure only counts when its gap is ≤ 1e-6. Timings are the best of ``--repeat``
runs after one warm-up fit (Numba compilation excluded; it is reported separately). Ratios are
what to compare across machines: the speed-up column is sklearn's best time / fastlr's best time.
"""

from __future__ import annotations

import argparse
import os
import time


def make_dense(m, n, dtype, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(dtype)
    w = rng.standard_normal(n) / np.sqrt(n) * 2.0
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(np.int64)
    return X, y


def make_sparse(m, n, density, seed=0):
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(m, n, density=density, format="csr", random_state=seed, dtype=np.float64)
    w = rng.standard_normal(n) * 3.0
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w - 0.2)))).astype(np.int64)
    return X, y


def objective(model, X, y, C):
    import numpy as np

    w = np.asarray(model.coef_, dtype=np.float64).ravel()
    z = np.asarray(X @ w, dtype=np.float64).ravel() + float(model.intercept_[0])
    return C * np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * w @ w


def timed(make_model, X, y, repeat):
    best, model = float("inf"), None
    for _ in range(repeat):
        model = make_model()
        t = time.perf_counter()
        model.fit(X, y)
        best = min(best, time.perf_counter() - t)
    return best, model


def run_case(name, X, y, repeat, C=1.0, tol=1e-8):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression as Sk

    from fastlr.estimator import LogisticRegression as Fast

    sparse = hasattr(X, "tocsr")
    fast = {"fastlr default": lambda: Fast(C=C, tol=tol, max_iter=1000),
            "fastlr lbfgs": lambda: Fast(C=C, tol=tol, max_iter=1000, solver="lbfgs")}
    if not sparse:
        fast["fastlr newton"] = lambda: Fast(C=C, tol=tol, max_iter=1000, solver="newton")
    sk = {"sklearn lbfgs": lambda: Sk(C=C, tol=tol, max_iter=1000),
          "sklearn newton-cholesky": lambda: Sk(C=C, tol=tol, max_iter=1000,
                                                solver="newton-cholesky")}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for label, make in fast.items():  # warm-up: compile
            t = time.perf_counter()
            make().fit(X, y)
            rows.append((f"{label} (first fit, incl. compile)", time.perf_counter() - t, None))
        results = {}
        for label, make in {**fast, **sk}.items():
            seconds, model = timed(make, X, y, repeat)
            results[label] = (seconds, objective(model, X, y, C))
    best_f = min(f for _, f in results.values())
    print(f"\n## {name}: X {X.shape} {X.dtype}{' sparse CSR' if sparse else ''}, C={C}, tol={tol}")
    for label, seconds, _ in rows:
        print(f"  {label:40s} {seconds:8.3f} s")
    for label, (seconds, f) in results.items():
        print(f"  {label:40s} {seconds:8.3f} s   objective gap {(f - best_f) / best_f:.1e}")
    sk_best = min(s for k, (s, f) in results.items() if k.startswith("sklearn")
                  and (f - best_f) <= 1e-6 * best_f)
    fast_best = min(s for k, (s, f) in results.items() if k.startswith("fastlr")
                    and (f - best_f) <= 1e-6 * best_f)
    default = results["fastlr default"][0]
    print(f"  speed-up (sklearn best / fastlr best): {sk_best / fast_best:.2f}x;  "
          f"sklearn best / fastlr default: {sk_best / default:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cases", default="dense200k,dense1m,float32,sparse")
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(args.threads))
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import numpy as np

    cases = args.cases.split(",")
    if "dense200k" in cases:
        run_case("200,000 x 100 float64", *make_dense(200_000, 100, np.float64), args.repeat)
    if "dense1m" in cases:
        run_case("1,000,000 x 20 float64", *make_dense(1_000_000, 20, np.float64), args.repeat)
    if "float32" in cases:
        run_case("200,000 x 100 float32", *make_dense(200_000, 100, np.float32), args.repeat)
    if "sparse" in cases:
        run_case("sparse 200,000 x 2,000, 1% density", *make_sparse(200_000, 2_000, 0.01),
                 args.repeat)


if __name__ == "__main__":
    main()
