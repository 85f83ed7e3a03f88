"""The problems ``fastlr bench`` times and checks: seeded, so every run sees the same data."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LAYOUTS", "make_csr_problem", "make_multinomial_problem", "make_problem"]

LAYOUTS = ("C", "F")


def _labels(rng, z):
    """y ~ Bernoulli(σ(z)), as float64 0/1."""
    return (rng.random(z.shape[0]) < 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))).astype(np.float64)


def make_problem(n_samples: int, n_features: int, dtype="float64", order: str = "C", seed: int = 0):
    """(w, b, X, y) with X standard normal of the given dtype and memory order, y ~ Bernoulli(σ(Xw+b)).

    F-ordered X is generated as the transpose of a C-ordered (n_features, n_samples) array, so no
    second copy of X is ever made. w has norm ~1, so margins are O(1) and both labels occur.
    """
    if order not in LAYOUTS:
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    shape = (n_samples, n_features) if order == "C" else (n_features, n_samples)
    X = rng.standard_normal(shape, dtype=dtype)
    X = X if order == "C" else X.T
    w = rng.standard_normal(n_features) / math.sqrt(n_features)
    b = 0.25
    return w, b, X, _labels(rng, X @ w.astype(dtype) + b)


def make_csr_problem(n_samples: int, n_features: int, density: float, dtype="float64", seed: int = 0):
    """(w, b, X, y) with X a scipy.sparse CSR matrix of about ``density`` nonzeros, standard normal.

    Each row's count of nonzeros is Binomial(n_features, density) and its columns are uniform
    (a repeated column is summed once, so the density is a hair below the one asked for); rows
    have sorted column indices, as scipy makes them. Built from (row, column) keys directly:
    ``scipy.sparse.random`` draws positions without replacement over all m·n cells, which at
    200,000 x 2,000 takes seconds and gigabytes. w has norm ~1 over the ~density·n features a
    row sees, so margins are O(1).
    """
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    counts = rng.binomial(n_features, density, n_samples)
    rows = np.repeat(np.arange(n_samples, dtype=np.int64), counts)
    cols = rng.integers(0, n_features, rows.shape[0], dtype=np.int64)
    keys = np.sort(rows * n_features + cols)  # by row, then column
    # drop repeats by hand: np.unique took 5.3 s on these 4e6 keys (NumPy 2.4), sort + mask 0.06 s
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    rows, cols = np.divmod(keys, n_features)
    indptr = np.zeros(n_samples + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_samples), out=indptr[1:])
    data = rng.standard_normal(keys.shape[0], dtype=np.dtype(dtype))
    index = np.int32 if max(keys.shape[0], n_features) < 2**31 else np.int64  # scipy's choice
    X = sp.csr_matrix((data, cols.astype(index), indptr.astype(index)),
                      shape=(n_samples, n_features))
    w = rng.standard_normal(n_features) / math.sqrt(max(1.0, density * n_features))
    b = 0.25
    return w, b, X, _labels(rng, X @ w + b)


def make_multinomial_problem(n_samples: int, n_features: int, n_classes: int, dtype="float64",
                             order: str = "C", seed: int = 0):
    """(W, b, X, y) for the multinomial operation: X as :func:`make_problem` makes it, W of shape
    (n_features, n_classes) with columns of norm ~1 (margins O(1)), b (n_classes,), and y class
    indices in [0, n_classes) drawn from softmax(X·W + b) (int64)."""
    if order not in LAYOUTS:
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    rng = np.random.default_rng([seed, n_classes])
    dtype = np.dtype(dtype)
    shape = (n_samples, n_features) if order == "C" else (n_features, n_samples)
    X = rng.standard_normal(shape, dtype=dtype)
    X = X if order == "C" else X.T
    W = rng.standard_normal((n_features, n_classes)) / math.sqrt(n_features)
    b = 0.1 * rng.standard_normal(n_classes)
    Z = np.asarray(X @ W.astype(dtype), dtype=np.float64) + b
    y = np.argmax(Z + rng.gumbel(size=Z.shape), axis=1).astype(np.int64)  # Gumbel-max: softmax draws
    return W, b, X, y
