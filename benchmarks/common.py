"""Fixed-seed data and helpers shared by the asv suite.

THE DATA HERE MUST NOT BE CHANGED, ONLY APPENDED: asv compares timings across commits, and a
timing is comparable only if every commit saw exactly the same input. Add a new generator or a
new seed instead of editing an existing one. The data depends on NumPy alone, never on fastlr,
so a change inside fastlr cannot change what the benchmarks measure.

Every generator is behind ``functools.lru_cache`` (asv calls ``setup`` once per repeat in the
same process) and returns read-only arrays, so a kernel that writes into its input fails loudly.
"""

from __future__ import annotations

import functools

import numpy as np

# fastlr's on-disk cache (on by default) matters here: asv runs every benchmark (and every
# parameter combination) in a fresh process, and without it each one would recompile the kernels
# in setup (~1-3 s each, not timed, but it makes a quick run of the suite several times slower).
# The cold compile is measured on its own by ``bench_kernels.Compile``, with the cache turned off.

try:
    # Import (never compile) Numba and the kernels here: asv forks every benchmark process from
    # one server that has imported the suite, so the ~0.5 s import is paid once, not per process.
    import fastlr.kernels  # noqa: F401
except ImportError:  # a commit that cannot import fastlr: each benchmark's setup reports it
    pass

SEED = 20240601
THREADS = [1, "all"]


def skip(reason: str):
    """Skip this parameter combination: asv treats NotImplementedError in setup as "skipped"."""
    raise NotImplementedError(reason)


def n_threads(threads) -> int:
    """1, or every Numba thread for ``"all"``."""
    import numba

    return numba.config.NUMBA_NUM_THREADS if threads == "all" else int(threads)


def _readonly(*arrays):
    for a in arrays:
        a.setflags(write=False)
    return arrays


@functools.lru_cache(maxsize=4)
def dense_problem(n_samples: int, n_features: int, dtype: str = "float64", order: str = "C",
                  seed: int = SEED):
    """(w, b, X, y): X standard normal in the given dtype and memory order, y ~ Bernoulli(σ(Xw+b)).

    F-ordered X is the transpose of a C-ordered (n_features, n_samples) draw: the same numbers
    in a different layout would need a copy, and both layouts are timed on their own anyway.
    """
    rng = np.random.default_rng(seed)
    shape = (n_samples, n_features) if order == "C" else (n_features, n_samples)
    X = rng.standard_normal(shape).astype(dtype, copy=False)
    X = X if order == "C" else X.T
    w = rng.standard_normal(n_features) / np.sqrt(n_features)
    b = 0.25
    z = X.astype(np.float64, copy=False) @ w + b
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float64)
    X, w, y = _readonly(X, w, y)
    return w, b, X, y


@functools.lru_cache(maxsize=4)
def sparse_problem(n_samples: int, n_features: int, density: float = 0.01, dtype: str = "float64",
                   seed: int = SEED):
    """(w, b, X, y) with X a scipy.sparse CSR matrix of the given density (values standard normal)."""
    import scipy.sparse

    rng = np.random.default_rng(seed)
    X = scipy.sparse.random(n_samples, n_features, density=density, format="csr", dtype=np.float64,
                            random_state=rng, data_rvs=rng.standard_normal).astype(dtype)
    w = rng.standard_normal(n_features) / np.sqrt(max(1.0, density * n_features))
    b = 0.25
    z = X @ w + b
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float64)
    _readonly(X.data, X.indices, X.indptr, w, y)
    return w, b, X, y


@functools.lru_cache(maxsize=2)
def classification_problem(n_samples: int, n_features: int, seed: int = SEED):
    """(X, y) for estimator fits: standardised-like features, labels from a logistic model."""
    rng = np.random.default_rng(seed + 1)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features) * (2.0 / np.sqrt(n_features))
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-(X @ w - 0.5)))).astype(np.int64)
    return _readonly(X, y)


def sparse_loss_grad_scipy(w, b, X, y):
    """(J, dw, db) for CSR X with scipy.sparse products: the sparse yardstick (two passes).

    J = mean(log(1 + e^z) − y·z), dw = Xᵀ(σ(z) − y)/m, db = mean(σ(z) − y), z = Xw + b, written
    in the stable form of fastlr.reference.
    """
    m = X.shape[0]
    z = np.asarray(X @ w, dtype=np.float64) + b
    e = np.exp(-np.abs(z))
    sigma = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    loss = np.log1p(e) + np.where(z > 0, (1.0 - y) * z, -y * z)
    dz = sigma - y
    return float(loss.sum()) / m, np.asarray(X.T @ dz, dtype=np.float64) / m, float(dz.sum()) / m


def max_relative_error(result, expected) -> float:
    """Largest error of (J, dw, db) relative to max(1, |expected|) of each part; inf for NaN."""
    J, dw, db = result
    eJ, edw, edb = expected
    dw, edw = np.asarray(dw, dtype=np.float64), np.asarray(edw, dtype=np.float64)
    errors = [
        abs(float(J) - float(eJ)) / max(1.0, abs(float(eJ))),
        float(np.max(np.abs(dw - edw))) / max(1.0, float(np.max(np.abs(edw)))),
        abs(float(db) - float(edb)) / max(1.0, abs(float(edb))),
    ]
    return max(errors) if np.all(np.isfinite(errors)) else float("inf")


@functools.lru_cache(maxsize=2)
def sparse_classification_problem(n_samples: int, n_features: int, density: float, seed: int = SEED):
    """(X, y) for estimator fits on CSR input: X sparse, labels from a logistic model."""
    import scipy.sparse

    rng = np.random.default_rng(seed + 2)
    X = scipy.sparse.random(n_samples, n_features, density=density, format="csr",
                            random_state=rng, data_rvs=rng.standard_normal)
    w = rng.standard_normal(n_features) * (2.0 / np.sqrt(max(1.0, density * n_features)))
    y = (rng.random(n_samples) < 1.0 / (1.0 + np.exp(-(X @ w - 0.5)))).astype(np.int64)
    _readonly(X.data, X.indices, X.indptr, y)
    return X, y


@functools.lru_cache(maxsize=4)
def multinomial_problem(n_samples: int, n_features: int, n_classes: int, dtype: str = "float64",
                        order: str = "C", density: float | None = None, seed: int = SEED):
    """(W, b, X, y) for the multinomial kernels: W (n_features, n_classes), b (n_classes,), X as
    ``dense_problem`` (or CSR at ``density``), y class indices drawn from softmax(X·W + b)."""
    rng = np.random.default_rng(seed + 3)
    if density is None:
        shape = (n_samples, n_features) if order == "C" else (n_features, n_samples)
        X = rng.standard_normal(shape).astype(dtype, copy=False)
        X = X if order == "C" else X.T
        scale = np.sqrt(n_features)
    else:
        import scipy.sparse

        X = scipy.sparse.random(n_samples, n_features, density=density, format="csr",
                                dtype=np.float64, random_state=rng,
                                data_rvs=rng.standard_normal).astype(dtype)
        scale = np.sqrt(max(1.0, density * n_features))
    W = rng.standard_normal((n_features, n_classes)) / scale
    b = 0.1 * rng.standard_normal(n_classes)
    Z = np.asarray(X @ W.astype(X.dtype), dtype=np.float64) + b
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (rng.random(n_samples)[:, None] > np.cumsum(P, axis=1)).sum(axis=1).astype(np.int64)
    y = np.minimum(y, n_classes - 1)
    if density is None:
        _readonly(X)
    else:
        _readonly(X.data, X.indices, X.indptr)
    _readonly(W, y)
    return W, b, X, y


@functools.lru_cache(maxsize=4)
def quadratic_problem(n: int, seed: int = SEED):
    """(c, b) of the diagonal quadratic f(x) = ½·Σ cⱼxⱼ² − bᵀx with c log-spaced over [1, 1e3]
    (the solvers' benchmarks: an objective whose gradient c∘x − b costs next to nothing)."""
    rng = np.random.default_rng(seed + 4)
    c = np.logspace(0, 3, n)
    b = rng.standard_normal(n)
    _readonly(c, b)
    return c, b
