"""Compile ahead: fill the disk cache with the kernels a fit uses, for images and deployments.

``fastlr warmup`` (or ``fastlr.warmup()``) compiles, once, every kernel specialisation that common
input reaches — dense X in C and F order and CSR X (int32 and int64 indices), float64 and
float32, with the loss/gradient, the Hessian, the softmax and the sigmoid — each with its serial and its
parallel driver — and the L1 solver's loops, and leaves them in the disk cache (``fastlr._cache``). A process started later
(a container from the image, a notebook kernel, a worker) loads them in milliseconds instead of
compiling for seconds. Run it where the cache will be read: the cache is keyed by the fastlr
source, the Numba version and the CPU, and lives in the per-user cache directory (or under
``NUMBA_CACHE_DIR``). A read-only copy of a warmed cache is used as is.

Rarer layouts (strided views) still compile on first use.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["warmup"]


def _problems(dtypes):
    """Tiny problems covering the common specialisations, with a label for each."""
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    for dtype in dtypes:
        base = rng.standard_normal((64, 4)).astype(dtype)
        y = (rng.random(64) < 0.5).astype(np.float64)
        yield f"dense C {np.dtype(dtype).name}", np.ascontiguousarray(base), y
        yield f"dense F {np.dtype(dtype).name}", np.asfortranarray(base), y
        for index in (np.int32, np.int64):
            X = sp.csr_matrix(base)
            X.indices, X.indptr = X.indices.astype(index), X.indptr.astype(index)
            yield f"CSR {np.dtype(dtype).name}, {np.dtype(index).name} indices", X, y


def warmup(dtypes=(np.float64, np.float32), progress=None):
    """Compile (or load) the common kernels; returns ``[(what, seconds), ...]``.

    ``progress(message)`` is called before each step when given.
    """
    from . import kernels
    from .kernels import _passes

    done = []

    def step(what, func, *args):
        if progress is not None:
            progress(what)
        start = time.perf_counter()
        func(*args)
        done.append((what, time.perf_counter() - start))

    w = np.zeros(4)
    for name, X, y in _problems(dtypes):
        step(f"loss_grad, {name}", kernels.loss_grad, w, 0.0, X, y)
        step(f"loss_grad with sample weights, {name}", kernels.loss_grad, w, 0.0, X, y, np.ones(64))
        step(f"loss_grad_hess, {name}", kernels.loss_grad_hess, w, 0.0, X, y)
        step(f"multinomial_loss_grad, {name}", kernels.multinomial_loss_grad, np.zeros((4, 3)),
             np.zeros(3), X, np.arange(64) % 3)
    for dtype in dtypes:
        step(f"sigmoid {np.dtype(dtype).name}", kernels.sigmoid, np.zeros(3, dtype=dtype))
    # L-BFGS's sweeps (every lbfgs fit), serial and parallel
    from ._solvers import _sweeps, minimize

    step("L-BFGS sweeps", lambda: minimize(lambda x: (0.5 * float(x @ x), x.copy()),
                                           np.ones(4), solver="lbfgs", max_iter=3, tol=0.0))
    for name in ("_DIRECTION", "_DOTS", "_DOT_AMAX"):
        serial, parallel = getattr(_sweeps, name)
        for signature in serial.signatures:
            step(f"parallel L-BFGS sweep {name.strip('_').lower()}", parallel.compile, signature)
    # the L1 path: prox-newton's compiled loops (fastlr._solvers._cd), one tiny fit per layout;
    # a first L1 fit compiles them otherwise (measured: 5.3 s dense after the L2 kernels, 15 s
    # CSR). This imports scikit-learn (the estimator's validation).
    from .estimator import LogisticRegression

    for name, X, y in _problems(dtypes):
        step(f"L1 fit (prox-newton), {name}",
             LogisticRegression(C=10.0, l1_ratio=1.0, solver="saga").fit, X, y)
    # the parallel drivers of every signature the serial ones were compiled for
    for key, drivers in _passes.compiled_so_far().items():
        name = " ".join(part for part in key if part and part != "pointwise")
        for k, signature in enumerate(drivers.serial.signatures):
            step(f"parallel driver of the {name} pass, signature {k + 1}",
                 drivers.parallel.compile, signature)
    return done
