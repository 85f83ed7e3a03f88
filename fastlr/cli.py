"""``fastlr`` command line: ``fastlr bench`` compares every implementation side by side."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

__all__ = ["main"]


def _median_time(func, *args, repeat: int = 5) -> float:
    func(*args)  # warm-up: compiles on the first call, never timed
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def bench(n_samples: int = 200_000, n_features: int = 100, out=sys.stdout) -> int:
    import numba

    from . import kernels, reference

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, n_features))
    y = (rng.random(n_samples) < 0.5).astype(np.float64)
    w = 0.1 * rng.standard_normal(n_features)
    b = 0.1

    expected = reference.loss_grad(w, b, X, y)
    status = 0
    for name, func in (("loops", kernels.loss_grad_loops), ("fused", kernels.loss_grad)):
        J, dw, db = func(w, b, X, y)
        err = max(abs(J - expected[0]), float(np.max(np.abs(dw - expected[1]))), abs(db - expected[2]))
        ok = err <= 1e-10 * max(1.0, abs(expected[0]))
        status |= not ok
        print(f"check {name:6s} vs reference: max abs error {err:.2e} {'ok' if ok else 'MISMATCH'}", file=out)

    threads = numba.get_num_threads()
    small = 2_000  # the pure-Python loop is timed on a slice and scaled: it is ~1000x slower
    rows = [("pure-Python loop", _median_time(reference.loss_grad_python, w, b, X[:small], y[:small], repeat=1)
             * n_samples / small)]
    rows.append(("compiled loop", _median_time(kernels.loss_grad_loops, w, b, X, y)))
    rows.append(("NumPy reference", _median_time(reference.loss_grad, w, b, X, y)))
    numba.set_num_threads(1)
    rows.append(("fused, 1 thread", _median_time(kernels.loss_grad, w, b, X, y)))
    numba.set_num_threads(threads)
    rows.append((f"fused, {threads} threads", _median_time(kernels.loss_grad, w, b, X, y)))

    ref_time = rows[2][1]
    print(f"\nloss_grad on X of {n_samples} x {n_features} float64, C order", file=out)
    print(f"{'implementation':<22}{'time':>12}{'vs NumPy':>11}", file=out)
    for name, seconds in rows:
        print(f"{name:<22}{seconds * 1e3:>10.2f}ms{ref_time / seconds:>10.2f}x", file=out)
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="fastlr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_bench = sub.add_parser("bench", help="check every kernel against the reference and time them")
    p_bench.add_argument("--n-samples", type=int, default=200_000)
    p_bench.add_argument("--n-features", type=int, default=100)
    args = parser.parse_args(argv)
    if args.command == "bench":
        return bench(args.n_samples, args.n_features)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
