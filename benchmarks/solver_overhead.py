"""The optimizer's own cost per variable per iteration: fastlr's L-BFGS against scipy's L-BFGS-B.

Run:  python benchmarks/solver_overhead.py [--sizes 1e2,1e4,1e5,1e6,1e7] [--repeats 5]
      [--threads 1,2] [--no-kernel] [--cg [--cg-sizes 1e5,1e6,2e6]]

Each run minimises the diagonal quadratic f(x) = ½·Σ cⱼxⱼ² − bᵀx (c log-spaced over [1, 1e3],
so no run converges in the iterations given) from x = 0 with tol = 0, through the code a fit
runs: ``fastlr._solvers.solve`` on a one-problem objective of callables, and
``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` with scikit-learn's options (m = 10,
maxls 50, ftol 64·eps). The objective's own time is measured inside it and subtracted, so what
is left is the solver's: its vector sweeps, line search and Python. Implementations and thread
counts are interleaved in every repeat (the machine is shared); the table gives the median and
the range over the repeats, in ns per variable per iteration.

Rows: scipy L-BFGS-B; fastlr with the compact form (the solver fits use) and with the plain
two-loop recursion (``lbfgs.TwoLoopMemory``, the yardstick). Threads: scipy's are BLAS's
(``threadpoolctl``), its only parallelism; fastlr's are Numba's, with BLAS on one thread as in a
fit (``fastlr._fit``: spinning OpenBLAS threads take the cores the kernels need), and its sweeps
use more than one thread from ``fastlr._jit.PARALLEL_MIN_BYTES`` of traffic only, as its kernels.

With the kernel line (default), the script also times, at p = 10⁶, what one evaluation costs on
text-like CSR X of 10⁶ × 10⁶ with 10 nonzeros a row (Zipf-distributed columns): the read of
its nonzeros once (``fastlr.bench.readonce``, the floor of any kernel) and
``fastlr.kernels.loss_grad``, to set the optimizer's cost per iteration beside them.

``--cg``: Newton-CG's inner solver instead (``fastlr._solvers.cg.conjugate_gradient``, Jacobi
preconditioned, 20 CG steps on the same diagonal quadratic, its H·p time subtracted): its vector
updates in NumPy (the form below ``cg.COMPILED_MIN`` unknowns) against the compiled, fused,
in-place sweeps, in ms per CG step; with the kernel line, beside one H·v product of the binary
objective (``Objective.hessp``) on the text-like X at p = 10⁶ — a CG step's kernel evaluation.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

ITERATIONS = {100: 200, 10_000: 100, 100_000: 50, 1_000_000: 15, 10_000_000: 8}
FTOL = 64 * np.finfo(float).eps


class Quadratic:
    """f = ½·Σ cⱼxⱼ² − bᵀx and its gradient; the time spent in it is kept."""

    def __init__(self, n: int):
        rng = np.random.default_rng(0)
        self.c = np.logspace(0, 3, n)
        self.b = rng.standard_normal(n)
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, x):
        t = time.perf_counter()
        cx = self.c * x
        g = cx - self.b
        f = 0.5 * float(x @ cx) - float(self.b @ x)
        self.seconds += time.perf_counter() - t
        self.calls += 1
        return f, g


def run_fastlr(n, iterations, memory_class):
    from fastlr._solvers import CallablesObjective, solve
    from fastlr._solvers.lbfgs import lbfgs

    fun = Quadratic(n)
    objective = CallablesObjective(n, fun)
    t = time.perf_counter()
    result = solve(objective, [lbfgs(np.zeros(n), tol=0.0, max_iter=iterations,
                                     memory_class=memory_class)])[0]
    wall = time.perf_counter() - t
    return wall, fun.seconds, result.n_iter, fun.calls


def run_scipy(n, iterations):
    from scipy import optimize

    fun = Quadratic(n)
    t = time.perf_counter()
    result = optimize.minimize(fun, np.zeros(n), jac=True, method="L-BFGS-B",
                               options={"maxiter": iterations, "maxls": 50, "gtol": 0.0,
                                        "ftol": FTOL})
    wall = time.perf_counter() - t
    return wall, fun.seconds, int(result.nit), fun.calls


def implementations():
    from fastlr._solvers.lbfgs import CompactMemory, TwoLoopMemory

    return {
        "scipy L-BFGS-B": lambda n, it: run_scipy(n, it),
        "fastlr compact": lambda n, it: run_fastlr(n, it, CompactMemory),
        "fastlr two-loop": lambda n, it: run_fastlr(n, it, TwoLoopMemory),
    }


def with_threads(threads, func, *args, blas=None):
    """``func(*args)`` on ``threads`` Numba threads and ``blas`` (default: as many) BLAS ones."""
    import numba
    from threadpoolctl import threadpool_limits

    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads if blas is None else blas, user_api="blas"):
            return func(*args)
    finally:
        numba.set_num_threads(before)


def blas_threads(name, threads):
    return threads if name.startswith("scipy") else 1


def measure(sizes, repeats, threads_list):
    impls = implementations()
    # warm-up: compile (or load) fastlr's sweeps, serial and parallel, outside the timings
    from fastlr import _jit

    saved = _jit.PARALLEL_MIN_BYTES
    _jit.PARALLEL_MIN_BYTES = 0
    try:
        for name, run in impls.items():
            for threads in threads_list:
                with_threads(threads, run, 2048, 3, blas=blas_threads(name, threads))
    finally:
        _jit.PARALLEL_MIN_BYTES = saved
    samples = {}  # (n, name, threads) -> [ns per variable per iteration]
    evals = {}
    for n in sizes:
        iterations = ITERATIONS.get(n, max(8, int(2e7 // n)))
        for _ in range(repeats):
            for name, run in impls.items():
                for threads in threads_list:
                    wall, objective, n_iter, calls = with_threads(
                        threads, run, n, iterations, blas=blas_threads(name, threads))
                    ns = (wall - objective) / (n_iter * n) * 1e9
                    samples.setdefault((n, name, threads), []).append(ns)
                    evals[(n, name)] = calls / n_iter
    return samples, evals


def _text_problem():
    """Text-like binary problem: CSR X 10⁶ × 10⁶, 10 nonzeros a row, columns drawn from a Zipf
    law; (X, y, the generator that drew them, for what the caller draws next)."""
    import scipy.sparse as sp

    rng = np.random.default_rng(1)
    n, nnz_row = 1_000_000, 10
    columns = np.minimum(rng.zipf(1.2, size=n * nnz_row) - 1, n - 1)
    X = sp.csr_matrix((rng.standard_normal(n * nnz_row), (np.repeat(np.arange(n), nnz_row),
                                                           columns)), shape=(n, n))
    X.sum_duplicates()
    y = (rng.random(n) < 0.5).astype(np.float64)
    return X, y, rng


def kernel_time(threads_list, repeats):
    """Median seconds of one read of the nonzeros and of one CSR loss_grad, per thread count, on
    text-like X: 10⁶ × 10⁶, 10 nonzeros a row, columns drawn from a Zipf law."""
    import numba

    from fastlr import kernels
    from fastlr.bench.readonce import read_csr

    X, y, rng = _text_problem()
    n = X.shape[0]
    w = rng.standard_normal(n) * 0.01
    out = {}
    for threads in threads_list:
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            read_csr(X)
            kernels.loss_grad(w, 0.0, X, y)
            reads, evals = [], []
            for _ in range(max(5, repeats)):
                t = time.perf_counter()
                read_csr(X)
                reads.append(time.perf_counter() - t)
                t = time.perf_counter()
                kernels.loss_grad(w, 0.0, X, y)
                evals.append(time.perf_counter() - t)
        finally:
            numba.set_num_threads(before)
        out[threads] = statistics.median(reads), statistics.median(evals)
    return out, X.nnz


def table(samples, evals, sizes, threads_list):
    names = list(implementations())
    head = ["p"] + [f"{name} {t}T" for name in names for t in threads_list]
    rows = []
    for n in sizes:
        row = [f"{n:.0e}"]
        for name in names:
            for t in threads_list:
                v = samples[(n, name, t)]
                row.append(f"{statistics.median(v):6.1f} [{min(v):.1f}-{max(v):.1f}]")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append("ns per variable per iteration, median [min-max] over the repeats; "
                 "objective evaluations per iteration: " + ", ".join(
                     f"{name} {statistics.mean(evals[(n, name)] for n in sizes):.2f}"
                     for name in names))
    return "\n".join(lines)


CG_STEPS = 20


def run_cg(n, compiled):
    """(wall, seconds in H·p, CG steps) of ``CG_STEPS`` preconditioned CG steps at n unknowns,
    the vector updates compiled or in NumPy."""
    from fastlr._solvers import cg

    fun = Quadratic(n)
    inverse = 1.0 / fun.c
    saved = cg.COMPILED_MIN
    cg.COMPILED_MIN = 0 if compiled else n + 1
    try:
        gen = cg.conjugate_gradient(fun.b, rtol=0.0, atol=0.0, maxiter=CG_STEPS,
                                    inverse_diagonal=inverse)
        steps = 0
        inner = 0.0
        q = np.empty(n)
        t = time.perf_counter()
        try:
            request = next(gen)
            while True:
                u = time.perf_counter()
                np.multiply(fun.c, request[1], out=q)  # no allocation: the objective's cost
                inner += time.perf_counter() - u
                steps += 1
                request = gen.send(q)
        except StopIteration:
            pass
        wall = time.perf_counter() - t
    finally:
        cg.COMPILED_MIN = saved
    return wall, inner, steps


def measure_cg(sizes, repeats, threads_list):
    """ms per CG step of the vector updates: {(n, name, threads): [samples]}."""
    impls = {"numpy": False, "compiled": True}
    from fastlr import _jit

    saved = _jit.PARALLEL_MIN_BYTES
    _jit.PARALLEL_MIN_BYTES = 0
    try:  # warm-up: compile (or load) the sweeps, serial and parallel
        for threads in threads_list:
            with_threads(threads, run_cg, 4096, True, blas=1)
    finally:
        _jit.PARALLEL_MIN_BYTES = saved
    samples = {}
    for n in sizes:
        for _ in range(repeats):
            for name, compiled in impls.items():
                for threads in threads_list:
                    # BLAS on one thread, as in a fit (fastlr._fit): its spinning threads take
                    # the cores (2 BLAS threads: 47 ms a step at 1e5, load 3)
                    wall, inner, steps = with_threads(threads, run_cg, n, compiled, blas=1)
                    samples.setdefault((n, name, threads), []).append(
                        (wall - inner) / steps * 1e3)
    return samples


def hessp_time(threads_list, repeats):
    """Median seconds of one ``Objective.hessp`` (binary, L2) on the text-like X of
    ``kernel_time``, per thread count."""
    import numba

    from fastlr._data import ArrayData
    from fastlr._objective import Datafit, Objective
    from fastlr._penalties import L2

    X, y, rng = _text_problem()
    data = ArrayData(X, y)
    objective = Objective(data, Datafit("logistic", data.target(1.0)), L2(1e-6),
                          model="binary")
    x = rng.standard_normal((1, objective.n_params)) * 0.01
    v = rng.standard_normal((1, objective.n_params))
    index = np.array([0])
    out = {}
    for threads in threads_list:
        before = numba.get_num_threads()
        numba.set_num_threads(threads)
        try:
            objective.loss_grad_curvature(index, x)
            objective.hessp(index, v)
            times = []
            for _ in range(max(5, repeats)):
                t = time.perf_counter()
                objective.hessp(index, v)
                times.append(time.perf_counter() - t)
        finally:
            numba.set_num_threads(before)
        out[threads] = statistics.median(times)
    return out


def cg_table(samples, sizes, threads_list):
    head = ["p"] + [f"{name} {t}T" for name in ("numpy", "compiled") for t in threads_list]
    rows = []
    for n in sizes:
        row = [f"{n:.0e}"]
        for name in ("numpy", "compiled"):
            for t in threads_list:
                v = samples[(n, name, t)]
                row.append(f"{statistics.median(v):7.2f} [{min(v):.2f}-{max(v):.2f}]")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    lines = ["  ".join(h.rjust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    lines.append(f"CG's vector updates, ms per CG step (Jacobi preconditioned, {CG_STEPS} steps, "
                 "H·p time subtracted), median [min-max] over the repeats")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e2,1e4,1e5,1e6,1e7")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--no-kernel", action="store_true")
    parser.add_argument("--cg", action="store_true",
                        help="Newton-CG's inner CG instead of L-BFGS (module docstring)")
    parser.add_argument("--cg-sizes", default="1e5,1e6,2e6")
    args = parser.parse_args(argv)
    threads_list = [int(t) for t in args.threads.split(",")]
    if args.cg:
        sizes = [int(float(s)) for s in args.cg_sizes.split(",")]
        samples = measure_cg(sizes, args.repeats, threads_list)
        print(cg_table(samples, sizes, threads_list))
        if not args.no_kernel and 1_000_000 in sizes:
            seconds = hessp_time(threads_list, args.repeats)
            for t in threads_list:
                ours = statistics.median(samples[(1_000_000, "compiled", t)]) * 1e-3
                numpy = statistics.median(samples[(1_000_000, "numpy", t)]) * 1e-3
                print(f"{t} thread(s), text-like CSR 1e6 x 1e6: one hessp {seconds[t] * 1e3:.1f} ms;"
                      f" CG's updates per step at p = 1e6: compiled {ours * 1e3:.1f} ms "
                      f"({ours / seconds[t]:.0%} of hessp), numpy {numpy * 1e3:.1f} ms "
                      f"({numpy / seconds[t]:.0%})")
        return
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    samples, evals = measure(sizes, args.repeats, threads_list)
    print(table(samples, evals, sizes, threads_list))
    if not args.no_kernel and 1_000_000 in sizes:
        seconds, nnz = kernel_time(threads_list, args.repeats)
        for t in threads_list:
            read, evaluation = seconds[t]
            ours = statistics.median(samples[(1_000_000, "fastlr compact", t)]) * 1e-3
            theirs = statistics.median(samples[(1_000_000, "scipy L-BFGS-B", t)]) * 1e-3
            print(f"{t} thread(s), text-like CSR 1e6 x 1e6, {nnz:.2e} nonzeros: read once "
                  f"{read * 1e3:.1f} ms, loss_grad {evaluation * 1e3:.1f} ms; optimizer per "
                  f"iteration at p = 1e6: fastlr {ours * 1e3:.1f} ms ({ours / read:.0%} of the "
                  f"read, {ours / evaluation:.0%} of loss_grad), scipy {theirs * 1e3:.1f} ms "
                  f"({theirs / read:.0%}, {theirs / evaluation:.0%})")


if __name__ == "__main__":
    main()
