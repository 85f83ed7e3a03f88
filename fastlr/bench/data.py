"""The problems ``fastlr bench`` times and checks: seeded, so every run sees the same data."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["LAYOUTS", "make_csr_problem", "make_multinomial_problem", "make_problem",
           "make_text_corpus"]

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


def make_text_corpus(n_samples: int, n_features: int, n_classes: int = 20,
                     terms_per_row: int = 15, topic_share: float = 0.3, seed: int = 0):
    """(X, y): a text-classification corpus shaped like TF-IDF of short documents.

    Each document has a class (uniform over ``n_classes``) and ``terms_per_row`` word draws: a
    share ``topic_share`` from its class's own topic — a Zipf law (p ∝ 1/rank) over a random
    permutation of the vocabulary, so every class favours other words — and the rest from the
    corpus-wide Zipf law, so a few words are everywhere and most are rare. Values are TF-IDF-like:
    1 + log(count) times log(m / document frequency), rows scaled to unit norm (as scikit-learn's
    TfidfVectorizer does). Column scales therefore span orders of magnitude, like a real corpus.
    X is CSR float64 with sorted, distinct indices; y int64 class indices.
    """
    import scipy.sparse as sp

    rng = np.random.default_rng([seed, n_classes, n_features])
    y = rng.integers(0, n_classes, n_samples).astype(np.int64)
    zipf = 1.0 / np.arange(1, n_features + 1)
    zipf /= zipf.sum()
    draws = n_samples * terms_per_row
    rows = np.repeat(np.arange(n_samples, dtype=np.int64), terms_per_row)
    cols = rng.choice(n_features, size=draws, p=zipf)  # ranks: word r is the r-th most common
    topical = rng.random(draws) < topic_share
    topics = np.stack([rng.permutation(n_features) for _ in range(n_classes)])
    topic_ranks = rng.choice(n_features, size=int(topical.sum()), p=zipf)
    cols[topical] = topics[y[rows[topical]], topic_ranks]
    counts = sp.csr_matrix((np.ones(draws), (rows, cols)), shape=(n_samples, n_features))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=n_features)
    idf = np.log((1.0 + n_samples) / (1.0 + df)) + 1.0
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    norms = np.sqrt(np.bincount(np.repeat(np.arange(n_samples), np.diff(counts.indptr)),
                                weights=counts.data ** 2, minlength=n_samples))
    counts.data /= np.repeat(norms, np.diff(counts.indptr))
    counts.sort_indices()
    return counts, y
