"""asv benchmarks of the kernels: every entry of the registry ``fastlr.implementations.KERNELS``.

Each class's ``setup`` builds the data (``common``, fixed seeds) and calls the function once, so
Numba compiles there and never inside a timed benchmark. ``Compile`` times the cold compile and
first call on its own, in a fresh interpreter with the compile cache off. ``track_*`` benchmarks
follow the largest error of each kernel against the NumPy reference over commits.

Implementations are benchmark parameters with fixed names (python, loops, numpy, fused, ...), so
the history of a benchmark never changes meaning. :data:`BENCHMARKED` maps each of them to a
registry entry — by name, or ``registry.REFERENCE`` for the entry with ``reference=True`` — and
``benchmarks.registry`` finds that entry in this commit, or its function in an older commit
without the registry. The entry's fields decide how it runs: ``parallel``/``blas`` the thread
counts it is timed at (a serial implementation at threads=1 only), ``max_elements`` the sizes.
A test (tests/test_asv_suite.py) fails when a registry entry is not benchmarked here.

``SparseReadOnce`` times the floor of the CSR kernel (reading its nonzeros once) beside
``SparseLossGrad``, so the kernel's "% read" of ``fastlr bench`` can be followed over commits.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .common import (THREADS, dense_problem, max_relative_error, multinomial_problem, n_threads,
                     skip, sparse_loss_grad_scipy, sparse_problem)
from .registry import REFERENCE, Impl, find

#: the dense loss_grad implementations (parameter values of ``LossGrad``)
IMPLEMENTATIONS = ["python", "loops", "numpy", "fused"]

#: (operation, input) -> {benchmark parameter value: registry name, or REFERENCE}
BENCHMARKED = {
    ("loss_grad", "dense"): {"python": "python", "loops": "loops", "numpy": REFERENCE,
                             "fused": "fused"},
    # SparseLossGrad's third value, "scipy", is the scipy.sparse yardstick of ``common``
    ("loss_grad", "csr"): {"numpy": REFERENCE, "fastlr": "fused"},
    ("loss_grad_hess", "dense"): {"numpy": REFERENCE, "fused": "fused"},
    ("loss_grad_hess", "csr"): {"numpy": REFERENCE, "fused": "fused"},
    ("multinomial_loss_grad", "dense"): {"numpy": REFERENCE, "fused": "fused"},
    ("multinomial_loss_grad", "csr"): {"numpy": REFERENCE, "fused": "fused"},
    ("multinomial_loss_grad_hess", "dense"): {"numpy": REFERENCE, "fused": "fused"},
    ("multinomial_loss_grad_hess", "csr"): {"numpy": REFERENCE, "fused": "fused"},
    ("cost", "dense"): {"numpy": REFERENCE, "numba": "fused"},
    ("sigmoid", "vector"): {"numpy": REFERENCE, "numba": "numba"},
}

#: loss_grad_hess sizes: enough rows and features for the Hessian to dominate
HESS_DENSE = (100_000, 50)
HESS_CSR = (50_000, 200, 0.02)


def impl_of(operation: str, input: str, name: str) -> Impl:
    """The implementation benchmarked as ``name`` for this operation and input (or skip)."""
    return find(operation, input, BENCHMARKED[(operation, input)][name])


def _check_size(impl: Impl, elements: int):
    if impl.max_elements is not None and elements > impl.max_elements:
        skip(f"runs on up to {impl.max_elements} elements (the pure-Python loop)")


def _check_threads(impl: Impl, threads):
    if threads != 1 and not (impl.parallel or impl.blas):
        skip("single-threaded: timed at threads=1 only")


def _weights(n_samples: int):
    return np.random.default_rng(3).uniform(0.5, 2.0, n_samples)


class _Threads:
    """Numba (and, for an implementation on BLAS, BLAS) thread count set in setup, restored in teardown."""

    def _set_threads(self, threads, impl: Impl):
        import numba

        self._numba_before = numba.get_num_threads()
        n = n_threads(threads)
        numba.set_num_threads(n)
        self._blas = None
        if impl.blas:
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
        impl = impl_of("loss_grad", "dense", implementation)
        _check_size(impl, n_samples * n_features)
        _check_threads(impl, threads)
        self.func = impl.func
        self.args = dense_problem(n_samples, n_features, "float64", "C")
        self._set_threads(threads, impl)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_loss_grad(self, *params):
        self.func(*self.args)


class LossGradLayout(_Threads):
    """loss_grad on 100,000 x 100 X in float64/float32 and C/F order (the course passes X.T: F)."""

    params = (["float64", "float32"], ["C", "F"], ["loops", "numpy", "fused"], THREADS)
    param_names = ["dtype", "order", "implementation", "threads"]
    timeout = 180

    def setup(self, dtype, order, implementation, threads):
        impl = impl_of("loss_grad", "dense", implementation)
        _check_threads(impl, threads)
        self.func = impl.func
        self.args = dense_problem(100_000, 100, dtype, order)
        self._set_threads(threads, impl)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_loss_grad(self, *params):
        self.func(*self.args)


class Cost:
    """cost(w, b, X, y) → J: the NumPy reference and the fused kernel's loss-only pass ("numba").

    All threads (Numba's and BLAS's default); thread scaling is followed by ``LossGrad``.
    """

    params = ([100_000], [100], ["float64", "float32"], ["numpy", "numba"])
    param_names = ["n_samples", "n_features", "dtype", "implementation"]

    def setup(self, n_samples, n_features, dtype, implementation):
        self.func = impl_of("cost", "dense", implementation).func
        self.args = dense_problem(n_samples, n_features, dtype, "C")
        self.func(*self.args)

    def time_cost(self, *params):
        self.func(*self.args)


class Sigmoid:
    """sigmoid(z) on 1,000,000 margins."""

    params = (["float64", "float32"], ["numpy", "numba"])
    param_names = ["dtype", "implementation"]

    def setup(self, dtype, implementation):
        self.func = impl_of("sigmoid", "vector", implementation).func
        self.z = np.random.default_rng(7).normal(scale=10.0, size=1_000_000).astype(dtype)
        self.func(self.z)

    def time_sigmoid(self, dtype, implementation):
        self.func(self.z)


class SparseLossGrad(_Threads):
    """loss_grad on CSR X (1 % nonzeros): fastlr's fused CSR kernel ("fastlr"), the NumPy
    reference on CSR ("numpy") and the scipy.sparse yardstick of ``common`` ("scipy")."""

    params = ([100_000], [1_000], ["float64", "float32"], ["scipy", "fastlr", "numpy"], THREADS)
    param_names = ["n_samples", "n_features", "dtype", "implementation", "threads"]
    timeout = 180

    def setup(self, n_samples, n_features, dtype, implementation, threads):
        if implementation == "scipy":
            impl = Impl(sparse_loss_grad_scipy)  # scipy.sparse products: one thread
        else:
            impl = impl_of("loss_grad", "csr", implementation)
        _check_threads(impl, threads)
        self.func = impl.func
        self.args = sparse_problem(n_samples, n_features, 0.01, dtype)
        self._set_threads(threads, impl)
        self.func(*self.args)

    def time_loss_grad(self, *params):
        self.func(*self.args)

    def track_max_error(self, n_samples, n_features, dtype, implementation, threads):
        """Largest relative error against the scipy.sparse yardstick."""
        w, b, X, y = self.args
        return max_relative_error(self.func(w, b, X, y),
                                  sparse_loss_grad_scipy(w, b, X.astype(np.float64), y))

    track_max_error.unit = "relative error"


#: fixed chunks of the read-once pass, combined in order (fastlr.bench.readonce.READ_CHUNKS)
READ_CHUNKS = 64
_READ = {}


def read_nonzeros_once():
    """A parallel Numba pass summing a CSR matrix's ``data`` and ``indices`` once: the floor of
    the CSR kernel, as ``fastlr.bench.readonce`` defines it (what the kernel streams; ``indptr``,
    w and the gradient are small), written here because the suite does not import fastlr's
    internals. Fixed chunks at every thread count; reassociation lets LLVM vectorise each chunk.
    Compiled on first use (in a benchmark's setup)."""
    if not _READ:
        import numba

        flags = {"reassoc", "contract", "nsz", "arcp"}  # fastlr's FAST_FLAGS: no nnan/ninf

        @numba.njit(fastmath=flags)
        def chunk_sum_pair(values, ints):
            s = 0.0
            t = 0
            for i in range(values.shape[0]):  # a slice from 0: no wrap-around, vectorised
                s += values[i]
                t += ints[i]
            return s + t

        @numba.njit(parallel=True, fastmath=flags)
        def read_pair_sum(values, ints, n_chunks):
            size = values.shape[0]
            chunk = (size + n_chunks - 1) // n_chunks
            parts = np.empty(n_chunks)  # every chunk writes its own: no zeroing parfor
            for c in numba.prange(n_chunks):
                lo, hi = c * chunk, min(size, (c + 1) * chunk)
                parts[c] = chunk_sum_pair(values[lo:hi], ints[lo:hi])
            total = 0.0
            for c in range(n_chunks):
                total += parts[c]
            return total

        _READ["pair"] = read_pair_sum
    return _READ["pair"]


class SparseReadOnce(_Threads):
    """Reading the nonzeros of ``SparseLossGrad``'s X once (data + indices, a parallel Numba sum):
    the floor of the CSR kernel. ``SparseLossGrad.time_loss_grad`` (fastlr) at the same parameters
    divided into this is the kernel's "% read" of ``fastlr bench``, followed over commits."""

    params = ([100_000], [1_000], ["float64", "float32"], THREADS)
    param_names = ["n_samples", "n_features", "dtype", "threads"]

    def setup(self, n_samples, n_features, dtype, threads):
        X = sparse_problem(n_samples, n_features, 0.01, dtype)[2]
        self.data, self.indices = X.data, X.indices
        self.read = read_nonzeros_once()
        self._set_threads(threads, Impl(self.read, parallel=True))
        self.read(self.data, self.indices, READ_CHUNKS)  # compiles here

    def time_read_nonzeros(self, *params):
        self.read(self.data, self.indices, READ_CHUNKS)


class LossGradHess(_Threads):
    """loss_grad_hess(w, b, X, y) → (J, dw, db, H): the fused kernel vs the NumPy reference.

    Dense: 100,000 x 50 float64 C-ordered X; CSR: 50,000 x 200 at 2 % nonzeros (the reference
    densifies X). H is (n_features + 1)²: large enough to dominate, small enough for Newton.
    """

    params = (["dense", "csr"], ["numpy", "fused"], THREADS)
    param_names = ["input", "implementation", "threads"]
    timeout = 180

    def setup(self, input, implementation, threads):
        impl = impl_of("loss_grad_hess", input, implementation)
        _check_threads(impl, threads)
        self.func = impl.func
        if input == "dense":
            self.args = dense_problem(*HESS_DENSE, "float64", "C")
        else:
            self.args = sparse_problem(*HESS_CSR, "float64")
        self._set_threads(threads, impl)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_loss_grad_hess(self, *params):
        self.func(*self.args)


#: multinomial sizes: 10 classes; the Hessian's (K·(n+1))² stays small
MULTINOMIAL_DENSE = (100_000, 100, 10)
MULTINOMIAL_CSR = (100_000, 1_000, 10, 0.01)
MULTINOMIAL_HESS = (20_000, 20, 5)


class MultinomialLossGrad(_Threads):
    """multinomial_loss_grad(W, b, X, y) → (J, dW, db), 10 classes: the fused softmax kernel (one
    pass over X for all classes) vs the NumPy reference (X·W, then Xᵀ·(P − Y): two passes).
    Dense 100,000 x 100 float64 C-ordered; CSR 100,000 x 1,000 at 1 %."""

    params = (["dense", "csr"], ["numpy", "fused"], THREADS)
    param_names = ["input", "implementation", "threads"]
    timeout = 180

    def setup(self, input, implementation, threads):
        impl = impl_of("multinomial_loss_grad", input, implementation)
        _check_threads(impl, threads)
        self.func = impl.func
        if input == "dense":
            self.args = multinomial_problem(*MULTINOMIAL_DENSE)
        else:
            m, n, K, density = MULTINOMIAL_CSR
            self.args = multinomial_problem(m, n, K, density=density)
        self._set_threads(threads, impl)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_multinomial_loss_grad(self, *params):
        self.func(*self.args)

    def track_max_error(self, input, implementation, threads):
        """Largest error of J, dW and db against the NumPy reference, each relative to
        max(1, max |expected part|); inf for NaN."""
        reference = impl_of("multinomial_loss_grad", input, "numpy").func
        errors = [float(np.max(np.abs(np.asarray(got, float) - np.asarray(want, float))))
                  / max(1.0, float(np.max(np.abs(np.asarray(want, float)))))
                  for got, want in zip(self.func(*self.args), reference(*self.args))]
        return max(errors) if np.all(np.isfinite(errors)) else float("inf")

    track_max_error.unit = "relative error"


class MultinomialTextLossGrad(_Threads):
    """multinomial_loss_grad on a 20-class text corpus (``fastlr.bench.data.make_text_corpus``:
    40,000 x 100,000 TF-IDF-like CSR, ~14 nonzeros a row, Zipf vocabulary), against scipy's two
    sparse products X·W and Xᵀ·Z alone (no softmax: the floor a two-pass method cannot beat).
    Measured at load ~3 (three processes on 2 cores, min of 7): fused 193 ms at 1 thread and 161
    ms at 2, scipy's products 214 / 182 ms (scipy.sparse is single-threaded). On a quiet 2-core
    Xeon (median of 9): 46 ms against scipy's 23 ms, then 20 ms (prefetched gathers and
    scatters, and the wrapper's two 16 MB copies gone) against 24 ms; one task of the generic
    pass at this width, so 2 threads run as one."""

    params = (["scipy-products", "fused"], THREADS)
    param_names = ["implementation", "threads"]
    timeout = 300

    def setup(self, implementation, threads):
        from fastlr.bench.data import make_text_corpus

        X, y = make_text_corpus(40_000, 100_000, n_classes=20)
        W = np.random.default_rng(0).standard_normal((X.shape[1], 20)) * 0.01
        b = np.zeros(20)
        if implementation == "fused":
            impl = impl_of("multinomial_loss_grad", "csr", "fused")
            self.func, self.args = impl.func, (W, b, X, y)
        else:
            if threads != 1:
                skip("scipy.sparse products are single-threaded: timed at threads=1 only")
            impl = Impl(func=lambda W, b, X, y: X.T @ (X @ W))
            self.func, self.args = impl.func, (W, b, X, y)
        self._set_threads(threads, impl)
        self.func(*self.args)  # warm-up: compiles here, not in the timed call

    def time_loss_grad(self, *params):
        self.func(*self.args)


class MultinomialLossGradHess(_Threads):
    """multinomial_loss_grad_hess → (J, dW, db, H) on 20,000 x 20, 5 classes (H is 105 x 105)."""

    params = (["dense", "csr"], ["numpy", "fused"], THREADS)
    param_names = ["input", "implementation", "threads"]
    timeout = 180

    def setup(self, input, implementation, threads):
        impl = impl_of("multinomial_loss_grad_hess", input, implementation)
        _check_threads(impl, threads)
        self.func = impl.func
        self.args = multinomial_problem(*MULTINOMIAL_HESS,
                                        density=None if input == "dense" else 0.2)
        self._set_threads(threads, impl)
        self.func(*self.args)

    def time_multinomial_loss_grad_hess(self, *params):
        self.func(*self.args)


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
        w, b, X, y = dense_problem(2_000, 37, dtype, order)
        self.args = (w, b, X, y)
        self.kwargs = {"sample_weight": _weights(X.shape[0]), "l2": 0.1}
        reference = impl_of("loss_grad", "dense", "numpy").func
        self.expected = reference(*self.args, **self.kwargs)
        self.func = impl_of("loss_grad", "dense", implementation).func

    def track_max_error(self, implementation, dtype, order):
        return max_relative_error(self.func(*self.args, **self.kwargs), self.expected)

    track_max_error.unit = "relative error"


class CostError:
    """Largest relative error of the fused kernel's ``cost`` against the NumPy reference."""

    params = (["float64", "float32"], ["C", "F"])
    param_names = ["dtype", "order"]

    def setup(self, dtype, order):
        w, b, X, y = dense_problem(2_000, 37, dtype, order)
        self.args = (w, b, X, y)
        self.kwargs = {"sample_weight": _weights(X.shape[0]), "l2": 0.1}
        self.func = impl_of("cost", "dense", "numba").func
        self.reference = impl_of("cost", "dense", "numpy").func

    def track_cost_error(self, dtype, order):
        J = float(self.func(*self.args, **self.kwargs))
        expected = float(self.reference(*self.args, **self.kwargs))
        return abs(J - expected) / max(1.0, abs(expected))

    track_cost_error.unit = "relative error"


def max_relative_error_hess(result, expected) -> float:
    """``common.max_relative_error`` of (J, dw, db), and of H relative to max(1, max |H|)."""
    H = np.asarray(result[3], dtype=np.float64)
    eH = np.asarray(expected[3], dtype=np.float64)
    errors = [max_relative_error(result[:3], expected[:3]),
              float(np.max(np.abs(H - eH))) / max(1.0, float(np.max(np.abs(eH))))]
    return max(errors) if np.all(np.isfinite(errors)) else float("inf")


class LossGradHessError:
    """Largest relative error of the fused loss_grad_hess (J, dw, db, H) against the NumPy
    reference, with sample weights and l2 = 0.1: dense 2,000 x 37 in C/F order, CSR 2,000 x 200
    at 2 %."""

    params = (["dense", "csr"], ["float64", "float32"], ["C", "F"])
    param_names = ["input", "dtype", "order"]

    def setup(self, input, dtype, order):
        if input == "csr" and order == "F":
            skip("CSR X has no memory order")
        self.func = impl_of("loss_grad_hess", input, "fused").func
        reference = impl_of("loss_grad_hess", input, "numpy").func
        if input == "dense":
            w, b, X, y = dense_problem(2_000, 37, dtype, order)
        else:
            w, b, X, y = sparse_problem(2_000, 200, 0.02, dtype)
        self.args = (w, b, X, y)
        self.kwargs = {"sample_weight": _weights(X.shape[0]), "l2": 0.1}
        self.expected = reference(*self.args, **self.kwargs)

    def track_max_error(self, input, dtype, order):
        return max_relative_error_hess(self.func(*self.args, **self.kwargs), self.expected)

    track_max_error.unit = "relative error"
