"""Shared fixtures: the kernel registry as parameters, thread counts, thread-count restoration.

The registry ``fastlr.implementations`` drives the tests (as numbagg's conftest does): a new kernel
is tested by adding one entry there. ``GRADIENT_KERNELS`` are the entries that return
(J, dw, db[, H]) — ``loss_grad`` and ``loss_grad_hess``, dense and CSR — and every curated-case,
NaN, extreme-margin, layout, no-copy and reproducibility test runs on each of them.
"""

from __future__ import annotations

import os

# At least two Numba threads even on a one-core machine, so that thread-count reproducibility is
# really tested (1 thread against 2, never 1 against 1). Oversubscription is harmless here.
os.environ.setdefault("NUMBA_NUM_THREADS", str(max(2, os.cpu_count() or 1)))
# BLAS on one thread in the test processes (and the interpreters they start): pytest-xdist runs
# two workers on two cores, and each OpenBLAS pool spinning beside the other worker's made NumPy
# and scikit-learn yardsticks ~40x slower (scipy trust-ncg on digits: 141 s against 3.3 s with
# one BLAS thread, at load average 6-9). The yardsticks need no BLAS parallelism.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from threadpoolctl import threadpool_limits  # noqa: E402

from fastlr.implementations import select  # noqa: E402

# for a BLAS that was loaded before this file set the variables (a plugin imported NumPy)
_BLAS_LIMIT = threadpool_limits(limits=1, user_api="blas")

GRADIENT_KERNELS = select("loss_grad") + select("loss_grad_hess")
COST_KERNELS = select("cost")
SIGMOID_KERNELS = select("sigmoid")


# The default run checks every kernel on every memory layout in float64, and float32 in C, F and
# CSR order; the cases below are "exhaustive" (marker ``full``, deselected by default, run with
# ``-m full``). Each of them compiles a specialisation of its own (4-20 s on 2 busy cores) for a
# walk over X whose source the default run already compiles and checks in another dtype or
# layout: float32 in a strided (A) layout, and the thread-count comparisons beyond float64 C, F
# and CSR (the task layout is the same code for every dtype and stride). The damaged-cache cases
# beyond one per file kind are there as well: each starts a fresh interpreter.
STRIDED_LAYOUTS = frozenset({"C[::2]", "C[:,::3]", "F[::2]", "C[::-1,::-1]"})


def _case_layout_dtype(item):
    """(layout, dtype) of a parametrised test's input, from its Case or its layout/dtype params."""
    from helpers import Case

    params = getattr(getattr(item, "callspec", None), "params", {})
    for value in params.values():
        if isinstance(value, Case):
            return value.layout, np.dtype(value.dtype)
    layout, dtype = params.get("layout"), params.get("dtype")
    try:
        dtype = np.dtype(dtype) if dtype is not None else None
    except TypeError:  # a pandas extension dtype's name ("Float64", "boolean")
        dtype = None
    return layout, dtype


def exhaustive(item) -> bool:
    """True for the cases of the ``full`` run (see the comment above)."""
    layout, dtype = _case_layout_dtype(item)
    float32 = dtype == np.float32
    if layout in STRIDED_LAYOUTS and float32:
        return True
    if "numba_threads" in getattr(item, "fixturenames", ()) and (float32 or layout in STRIDED_LAYOUTS):
        return True
    if item.module.__name__ == "test_engine" and layout in STRIDED_LAYOUTS:
        return True  # the batched and Hessian-free passes: float64 A is one more specialisation each
    return False


def pytest_collection_modifyitems(config, items):
    for item in items:
        if exhaustive(item):
            item.add_marker(pytest.mark.full)


def kernel_params(kernels, cases):
    """pytest params (kernel, case) for every kernel and every case of its input it accepts."""
    return [pytest.param(k, c, id=f"{k.key}-{c.id}") for k in kernels for c in cases
            if c.input == k.input and k.accepts(c.m, c.n)]


def skip_if_too_big(kernel, n_samples: int, n_features: int) -> None:
    """Skip a kernel (the pure-Python loop, a Hessian) on inputs beyond its registry limits."""
    if not kernel.accepts(n_samples, n_features):
        pytest.skip(f"{kernel.key} is not meant for {n_samples} x {n_features}")


@pytest.fixture(params=[k for k in GRADIENT_KERNELS if k.input == "dense"], ids=lambda k: k.key)
def impl(request):
    """Each dense (J, dw, db[, H]) kernel of the registry."""
    return request.param


@pytest.fixture(params=GRADIENT_KERNELS, ids=lambda k: k.key)
def any_impl(request):
    """Each (J, dw, db[, H]) kernel of the registry, dense or CSR."""
    return request.param


@pytest.fixture(params=COST_KERNELS, ids=lambda k: k.key)
def cost_func(request):
    return request.param.func


@pytest.fixture(params=SIGMOID_KERNELS, ids=lambda k: k.key)
def sigmoid_func(request):
    return request.param.func


@pytest.fixture(scope="session", autouse=True)
def one_numba_thread_by_default():
    """Tests run the kernels on one Numba thread unless they ask for more (``numba_threads``).

    Every (kernel, dtype, layout) compiles a serial and a parallel driver, ~1-2 s each; running
    the curated cases on one thread compiles the serial ones only. The parallel drivers are
    tested by ``test_bitwise_identical_across_thread_counts``, against the serial result, for every
    parallel kernel and layout family — and the fit tests run their own thread policy.
    """
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(before)


@pytest.fixture
def numba_threads():
    """Yield the maximum Numba thread count (≥ 2); restore the caller's thread count afterwards."""
    before = numba.get_num_threads()
    assert numba.config.NUMBA_NUM_THREADS >= 2, "thread-count tests need at least 2 Numba threads"
    try:
        yield numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before)


def as_input(X, kernel):
    """X in the form ``kernel`` takes: itself (dense) or as a CSR matrix."""
    if kernel.input == "csr":
        import scipy.sparse as sp

        return sp.csr_matrix(X)
    return X
