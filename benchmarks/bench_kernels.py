"""asv benchmarks of the kernels: every implementation of loss_grad, cost and sigmoid.

Each class's ``setup`` builds the data (``common``, fixed seeds) and calls the function once, so
Numba compiles there and never inside a timed benchmark. ``Compile`` times the cold compile and
first call on its own, in a fresh interpreter with the compile cache off. ``track_*`` benchmarks
follow the largest error of each kernel against the NumPy reference over commits.

Implementations are named as in ``fastlr.implementations.LOSS_GRAD`` (python, loops, numpy,
fused): the names are fixed here so the history of a benchmark never changes meaning; a test
(tests/test_asv_suite.py) fails when the registry has a dense implementation this suite misses.
"""

from __future__ import annotations

import importlib
import textwrap

import numpy as np

from .common import (THREADS, dense_problem, max_relative_error, n_threads, skip,
                     sparse_loss_grad_scipy, sparse_problem)

IMPLEMENTATIONS = ["python", "loops", "numpy", "fused"]
#: where each implementation lives when the registry does not list it (older commits)
_FALLBACK = {
    "python": ("fastlr.reference", "loss_grad_python"),
    "loops": ("fastlr.kernels", "loss_grad_loops"),
    "numpy": ("fastlr.reference", "loss_grad"),
    "fused": ("fastlr.kernels", "loss_grad"),
}
#: single-threaded implementations: only timed at threads=1
_SERIAL = {"python", "loops"}
#: the pure-Python loop is ~1000x slower: only on inputs up to this many elements
PYTHON_MAX_ELEMENTS = 100_000


def loss_grad_impl(name: str):
    """The function registered under ``name`` (or its known location in older commits)."""
    try:
        from fastlr.implementations import LOSS_GRAD

        if name in LOSS_GRAD:
            return LOSS_GRAD[name].func
    except ImportError:
        pass
    module, attr = _FALLBACK[name]
    return getattr(importlib.import_module(module), attr)


class _Threads:
    """Numba (and, for the NumPy reference, BLAS) thread count set in setup, restored in teardown."""

    def _set_threads(self, threads, implementation: str):
        import numba

        self._numba_before = numba.get_num_threads()
        n = n_threads(threads)
        numba.set_num_threads(n)
        self._blas = None
        if implementation == "numpy":
            try:
                from threadpoolctl import threadpool_limits
            except ImportError:
                skip("threadpoolctl is needed to set the BLAS thread count")
            self._blas = threadpool_limits(limits=n, user_api="blas")

    def teardown(self, *params):
        import numba

        if getattr(self, "_blas", None) is not None:
            self._blas.restore_original_limits()
        if hasattr(self, "_numba_before"):
            numba.set_num_threads(self._numba_before)


class LossGrad(_Threads):
    """loss_grad(w, b, X, y) → (J, dw, db) on dense float64 C-ordered X: every implementation.

    Sizes and threads here; dtype and memory order in ``LossGradLayout`` (the full product of
    both grids made a quick run of the suite twice as long for little extra information).
    """

    params = ([10_000, 100_000], [10, 100], IMPLEMENTATIONS, THREADS)
    param_names = ["n_samples", "n_features", "implementation", "threads"]
    timeout = 180

    def setup(self, n_samples, n_features, implementation, threads):
        if implementation == "python" and n_samples * n_features > PYTHON_MAX_ELEMENTS:
            skip("the pure-Python loop runs on small inputs only")
        if implementation in _SERIAL and threads != 1:
            skip(f"{implementation} is single-threaded")
        self.func = loss_grad_impl(implementation)
        self.args = dense_problem(n_samples, n_features, "float64", "C")
        self._set_threads(threads, implementation)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_loss_grad(self, *params):
        self.func(*self.args)


class LossGradLayout(_Threads):
    """loss_grad on 100,000 x 100 X in float64/float32 and C/F order (the course passes X.T: F)."""

    params = (["float64", "float32"], ["C", "F"], ["loops", "numpy", "fused"], THREADS)
    param_names = ["dtype", "order", "implementation", "threads"]
    timeout = 180

    def setup(self, dtype, order, implementation, threads):
        if implementation in _SERIAL and threads != 1:
            skip(f"{implementation} is single-threaded")
        self.func = loss_grad_impl(implementation)
        self.args = dense_problem(100_000, 100, dtype, order)
        self._set_threads(threads, implementation)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_loss_grad(self, *params):
        self.func(*self.args)


class Cost:
    """cost(w, b, X, y) → J: the NumPy reference and the fused kernel's loss-only pass.

    All threads (Numba's and BLAS's default); thread scaling is followed by ``LossGrad``.
    """

    params = ([100_000], [100], ["float64", "float32"], ["numpy", "numba"])
    param_names = ["n_samples", "n_features", "dtype", "implementation"]

    def setup(self, n_samples, n_features, dtype, implementation):
        module = "fastlr.reference" if implementation == "numpy" else "fastlr.kernels"
        self.func = importlib.import_module(module).cost
        self.args = dense_problem(n_samples, n_features, dtype, "C")
        self.func(*self.args)

    def time_cost(self, *params):
        self.func(*self.args)


class Sigmoid:
    """sigmoid(z) on 1,000,000 margins."""

    params = (["float64", "float32"], ["numpy", "numba"])
    param_names = ["dtype", "implementation"]

    def setup(self, dtype, implementation):
        module = "fastlr.reference" if implementation == "numpy" else "fastlr.kernels"
        self.func = importlib.import_module(module).sigmoid
        self.z = np.random.default_rng(7).normal(scale=10.0, size=1_000_000).astype(dtype)
        self.func(self.z)

    def time_sigmoid(self, dtype, implementation):
        self.func(self.z)


def sparse_loss_grad():
    """fastlr's loss_grad(w, b, X, y) for scipy.sparse CSR X, wherever this commit has one; else skip.

    In order: the public ``fastlr.kernels.loss_grad`` if it takes CSR, a public
    ``fastlr.kernels.sparse.loss_grad``, or the internal kernel ``csr_loss_grad(X, y, s, w, b,
    weight_sum, l2)`` on validated arrays (float64 w and y, unit weights, no l2).
    """
    import scipy.sparse

    from fastlr import kernels

    tiny = scipy.sparse.csr_matrix(np.eye(3))
    try:
        kernels.loss_grad(np.zeros(3), 0.0, tiny, np.zeros(3))
        return kernels.loss_grad
    except (TypeError, ValueError):
        pass
    try:
        module = importlib.import_module("fastlr.kernels.sparse")
    except ImportError:
        skip("this commit has no sparse loss_grad (fastlr.kernels.sparse)")
    if hasattr(module, "loss_grad"):
        return module.loss_grad
    if hasattr(module, "csr_loss_grad"):
        def csr_loss_grad(w, b, X, y):
            return module.csr_loss_grad(X, np.ascontiguousarray(y, dtype=np.float64), np.empty(0),
                                        np.ascontiguousarray(w, dtype=np.float64), float(b),
                                        float(X.shape[0]), 0.0)
        return csr_loss_grad
    skip("fastlr.kernels.sparse has neither loss_grad nor csr_loss_grad")


class SparseLossGrad(_Threads):
    """loss_grad on CSR X (1 % nonzeros): fastlr's sparse kernel vs scipy.sparse products."""

    params = ([100_000], [1_000], ["float64", "float32"], ["scipy", "fastlr"], THREADS)
    param_names = ["n_samples", "n_features", "dtype", "implementation", "threads"]
    timeout = 180

    def setup(self, n_samples, n_features, dtype, implementation, threads):
        if implementation == "scipy" and threads != 1:
            skip("scipy.sparse products are single-threaded")
        self.func = sparse_loss_grad_scipy if implementation == "scipy" else sparse_loss_grad()
        self.args = sparse_problem(n_samples, n_features, 0.01, dtype)
        self._set_threads(threads, implementation)
        self.func(*self.args)

    def time_loss_grad(self, *params):
        self.func(*self.args)

    def track_max_error(self, n_samples, n_features, dtype, implementation, threads):
        """Largest relative error against the scipy.sparse yardstick."""
        w, b, X, y = self.args
        return max_relative_error(self.func(w, b, X, y),
                                  sparse_loss_grad_scipy(w, b, X.astype(np.float64), y))

    track_max_error.unit = "relative error"


class Compile:
    """Cold start: compile and first call of a kernel, in a fresh interpreter, cache off.

    The setup code (imports, data) is not timed; the statement is the first call, so the time is
    Numba's type inference + LLVM compile + one call on 1,000 x 20.
    """

    # cost shares loss_grad's compiled kernel (gradient work is a runtime flag): not repeated here
    params = (["loss_grad", "loss_grad_loops", "sigmoid"], ["C", "F"])
    param_names = ["function", "order"]
    timeout = 300
    repeat = (1, 3, 60.0)  # each sample is a new interpreter compiling from scratch

    def setup(self, function, order):
        if function == "sigmoid" and order == "F":
            skip("sigmoid takes a vector: no memory order")

    def timeraw_compile_first_call(self, function, order):
        setup = textwrap.dedent(f"""
            import os
            os.environ["FASTLR_CACHE"] = "0"  # a cold compile, never Numba's on-disk cache
            import numpy as np
            from fastlr import kernels
            rng = np.random.default_rng(0)
            X = rng.standard_normal((1000, 20))
            X = X if {order!r} == "C" else np.asfortranarray(X)
            y = (rng.random(1000) < 0.5).astype(float)
            w, b = np.zeros(20), 0.0
        """)
        call = "kernels.sigmoid(y)" if function == "sigmoid" else f"kernels.{function}(w, b, X, y)"
        return call, setup


class KernelError:
    """Largest relative error of each kernel against the NumPy reference (weights, l2 = 0.1)."""

    params = (["python", "loops", "fused"], ["float64", "float32"], ["C", "F"])
    param_names = ["implementation", "dtype", "order"]

    def setup(self, implementation, dtype, order):
        from fastlr import reference

        w, b, X, y = dense_problem(2_000, 37, dtype, order)
        s = np.random.default_rng(3).uniform(0.5, 2.0, X.shape[0])
        self.args = (w, b, X, y)
        self.kwargs = {"sample_weight": s, "l2": 0.1}
        self.expected = reference.loss_grad(*self.args, **self.kwargs)
        self.func = loss_grad_impl(implementation)

    def track_max_error(self, implementation, dtype, order):
        return max_relative_error(self.func(*self.args, **self.kwargs), self.expected)

    track_max_error.unit = "relative error"


class CostError:
    """Largest relative error of the fused kernel's ``cost`` against the NumPy reference."""

    params = (["float64", "float32"], ["C", "F"])
    param_names = ["dtype", "order"]

    def setup(self, dtype, order):
        w, b, X, y = dense_problem(2_000, 37, dtype, order)
        s = np.random.default_rng(3).uniform(0.5, 2.0, X.shape[0])
        self.args, self.kwargs = (w, b, X, y), {"sample_weight": s, "l2": 0.1}

    def track_cost_error(self, dtype, order):
        from fastlr import kernels, reference

        J = float(kernels.cost(*self.args, **self.kwargs))
        expected = float(reference.cost(*self.args, **self.kwargs))
        return abs(J - expected) / max(1.0, abs(expected))

    track_cost_error.unit = "relative error"
