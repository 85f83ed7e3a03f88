"""Dask fit vs in-memory fit (and dask-ml as a yardstick), side by side in one run.

    python benchmarks/fit_dask.py [--n-samples 400000] [--n-features 30] [--blocks 8] [--workers 2]

Prints the fit time of the Dask fit on a LocalCluster of worker processes against the in-memory
fit of the same problem (same solver and tol, same optimum), the time of one objective evaluation
on each path, and the number of tasks the scheduler ran for one evaluation (measured with
``get_task_stream``). dask-ml's LogisticRegression is timed too when it is installed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def _best_of(func, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _binary_objective(data):
    """The fit's objective at C = 1 on a backend, as the estimator builds it."""
    from fastlr._objective import Datafit, Objective
    from fastlr._penalties import from_sklearn

    return Objective(data, Datafit("logistic", data.target(1.0)),
                     from_sklearn(1.0, data.weight_sum), model="binary")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=400_000)
    parser.add_argument("--n-features", type=int, default=30)
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--solver", default="lbfgs")
    args = parser.parse_args(argv)

    import dask.array as da
    import numba
    from distributed import Client, LocalCluster

    from fastlr import LogisticRegression
    from fastlr._data import ArrayData
    from fastlr.distributed import DaskData

    rng = np.random.default_rng(0)
    m, n = args.n_samples, args.n_features
    X = rng.standard_normal((m, n))
    y = (X @ rng.standard_normal(n) + rng.standard_normal(m) > 0).astype(np.float64)
    params = dict(solver=args.solver, tol=1e-6, max_iter=500)

    print(f"{m} x {n} float64, {args.blocks} blocks, {args.workers} worker processes x 1 thread, "
          f"solver={args.solver}; in-memory fit on {numba.get_num_threads()} Numba threads")
    in_memory = LogisticRegression(**params).fit(X, y)
    t_mem = _best_of(lambda: LogisticRegression(**params).fit(X, y), args.repeat)

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None,
                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster, \
            Client(cluster) as client:
        chunk = -(-m // args.blocks)
        Xd = da.from_array(X, chunks=(chunk, n)).persist()
        yd = da.from_array(y, chunks=chunk).persist()
        distributed_fit = LogisticRegression(**params).fit(Xd, yd)  # warm-up: workers compile
        t_dask = _best_of(lambda: LogisticRegression(**params).fit(Xd, yd), args.repeat)

        data = DaskData(Xd, yd)  # the fit's objective at C = 1, as the estimator builds it
        objective = _binary_objective(data)
        x0 = np.zeros((1, n + 1))
        objective.loss_grad([0], x0)
        t_eval_dask = _best_of(lambda: objective.loss_grad([0], x0), 5 * args.repeat)
        from distributed import get_task_stream

        with get_task_stream() as stream:
            objective.loss_grad([0], x0)
        n_tasks = len(stream.data)

        dask_ml_line = "dask-ml: not installed"
        try:
            from dask_ml.linear_model import LogisticRegression as DaskMLLogisticRegression
        except ImportError:
            pass
        else:
            est = DaskMLLogisticRegression(solver="lbfgs", C=1.0, tol=1e-6, max_iter=500)
            t_ml = _best_of(lambda: est.fit(Xd, yd), 1)
            dask_ml_line = f"dask-ml lbfgs fit: {t_ml:.2f} s ({t_ml / t_dask:.1f}x fastlr on Dask)"

    mem_data = ArrayData(X, y)
    mem_objective = _binary_objective(mem_data)
    mem_objective.loss_grad([0], x0)
    t_eval_mem = _best_of(lambda: mem_objective.loss_grad([0], x0), 5 * args.repeat)

    gap = np.max(np.abs(distributed_fit.coef_ - in_memory.coef_) / np.abs(in_memory.coef_))
    print(f"in-memory fit:   {t_mem:.3f} s ({in_memory.n_iter_[0]} iterations)")
    print(f"Dask fit:        {t_dask:.3f} s ({distributed_fit.n_iter_[0]} iterations) "
          f"= {t_dask / t_mem:.2f}x in-memory; max relative coef difference {gap:.1e}")
    print(f"one evaluation:  Dask {t_eval_dask * 1e3:.1f} ms vs in-memory {t_eval_mem * 1e3:.1f} ms "
          f"({t_eval_dask / t_eval_mem:.1f}x); tasks per evaluation: {n_tasks} "
          f"({args.blocks} blocks)")
    print(dask_ml_line)


if __name__ == "__main__":
    main()
