"""asv benchmarks of the solvers' own cost: L-BFGS per iteration, fastlr's and scipy's.

``LbfgsOverhead`` runs ``ITERATIONS`` iterations of L-BFGS (m = 10, tol = 0) from x = 0 on the
diagonal quadratic of ``common.quadratic_problem`` — an objective whose gradient costs next to
nothing, so what is timed is the optimizer: fastlr's ``_solvers.solve`` on a one-problem
objective of callables (the path a fit takes), and ``scipy.optimize.minimize(method="L-BFGS-B")``
with scikit-learn's options, fastlr's solver before it had its own. ``time_iterations`` is the
whole run; ``track_overhead_ns`` the ns per variable per iteration with the objective's own time
(measured inside it) taken out, the figure benchmarks/solver_overhead.py prints at sizes up to
10⁷. Threads: scipy's are BLAS's; fastlr's are Numba's with BLAS on one thread, as in a fit
(its sweeps go parallel from ``fastlr._jit.PARALLEL_MIN_BYTES`` of traffic only, above the
sizes here).

Commits without ``fastlr._solvers.solve`` skip the fastlr combinations.
"""

from __future__ import annotations

import time

import numpy as np

from .common import THREADS, n_threads, quadratic_problem, skip

ITERATIONS = 20
FTOL = 64 * np.finfo(float).eps


class _Quadratic:
    def __init__(self, n):
        self.c, self.b = quadratic_problem(n)
        self.seconds = 0.0

    def __call__(self, x):
        t = time.perf_counter()
        cx = self.c * x
        f = 0.5 * float(x @ cx) - float(self.b @ x)
        g = cx - self.b
        self.seconds += time.perf_counter() - t
        return f, g


def _fastlr_run(n, iterations):
    try:
        from fastlr._solvers import CallablesObjective, make_solver, solve
    except ImportError:
        skip("fastlr._solvers.solve is not in this commit")
    fun = _Quadratic(n)
    objective = CallablesObjective(n, fun)
    solver = make_solver("lbfgs", np.zeros(n), capabilities=objective.capabilities, tol=0.0,
                         max_iter=iterations)
    return fun, solve(objective, [solver])[0].n_iter


def _scipy_run(n, iterations):
    from scipy import optimize

    fun = _Quadratic(n)
    result = optimize.minimize(fun, np.zeros(n), jac=True, method="L-BFGS-B",
                               options={"maxiter": iterations, "maxls": 50, "gtol": 0.0,
                                        "ftol": FTOL})
    return fun, int(result.nit)


RUNS = {"fastlr": _fastlr_run, "scipy": _scipy_run}


class LbfgsOverhead:
    """L-BFGS's own cost per iteration, fastlr against scipy's L-BFGS-B (module docstring)."""

    params = ([100, 10_000, 100_000], list(RUNS), THREADS)
    param_names = ["n_params", "implementation", "threads"]
    timeout = 120

    def setup(self, n_params, implementation, threads):
        import numba
        from threadpoolctl import threadpool_limits

        self.run = RUNS[implementation]
        self._numba_before = numba.get_num_threads()
        numba.set_num_threads(n_threads(threads))
        # scipy's threads are BLAS's; fastlr's are Numba's, BLAS on one thread as in a fit
        blas = 1 if implementation == "fastlr" else n_threads(threads)
        self._blas = threadpool_limits(limits=blas, user_api="blas")
        self.run(n_params, 2)  # warm-up: compiles (or loads) fastlr's sweeps here

    def teardown(self, *params):
        import numba

        self._blas.restore_original_limits()
        numba.set_num_threads(self._numba_before)

    def time_iterations(self, n_params, implementation, threads):
        self.run(n_params, ITERATIONS)

    def track_overhead_ns(self, n_params, implementation, threads):
        t = time.perf_counter()
        fun, n_iter = self.run(n_params, ITERATIONS)
        return (time.perf_counter() - t - fun.seconds) / (n_iter * n_params) * 1e9

    track_overhead_ns.unit = "ns per variable per iteration"
