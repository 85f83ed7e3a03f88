"""pytest-benchmark tests: one per entry of the registry ``fastlr.implementations.KERNELS``.

Every operation and input: ``loss_grad`` and ``loss_grad_hess`` on dense X (C and F order) and
on CSR X, ``cost`` and ``sigmoid``. By default ``--benchmark-disable`` (pytest addopts) runs each
body once as a plain test, so every benchmark also checks its result against an independent
computation written here (NumPy's logaddexp, SciPy's expit and scipy.sparse products — not
fastlr.reference, not the kernels). With ``--benchmark-enable`` the ``benchmark.pedantic`` call
first runs one untimed warm-up round (Numba compiles there), then times ``rounds`` rounds. See
docs/user_guide/benchmarks.rst for timing them (and tracking.rst for comparing commits).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse
from scipy.special import expit

from fastlr.implementations import KERNELS

# float64 at modest sizes, so compiled specialisations are shared with the other tests
SHAPE = (20_000, 50)
SMALL_SHAPE = (500, 50)  # for an entry with max_elements (the pure-Python loop is ~1000x slower)
CSR_SHAPE = (20_000, 200, 0.02)
ROUNDS = 10


def _params(operation, orders=("C", "F")):
    """(key, order) for every registry entry of ``operation``; CSR and vector inputs have no order."""
    return [pytest.param(key, order, id=f"{key}-{order}" if order else key)
            for key, k in KERNELS.items() if k.operation == operation
            for order in (orders if k.input == "dense" else (None,))]


def _dense(shape, order="C", seed=0):
    rng = np.random.default_rng(seed)
    m, n = shape
    X = rng.standard_normal((m, n))
    X = X if order == "C" else np.asfortranarray(X)
    w = rng.standard_normal(n) / np.sqrt(n)
    y = (rng.random(m) < 0.5).astype(np.float64)
    return w, 0.3, X, y


def _csr(shape, seed=0):
    m, n, density = shape
    rng = np.random.default_rng(seed)
    X = scipy.sparse.random(m, n, density=density, format="csr", random_state=rng,
                            data_rvs=rng.standard_normal)
    w = rng.standard_normal(n)
    y = (rng.random(m) < 0.5).astype(np.float64)
    return w, -0.2, X, y


def _problem(kernel, order):
    if kernel.input == "csr":
        return _csr(CSR_SHAPE)
    m, n = SHAPE
    too_big = kernel.max_elements is not None and m * n > kernel.max_elements
    return _dense(SMALL_SHAPE if too_big else SHAPE, order)


def _independent(w, b, X, y, hessian=False):
    """(J, dw, db[, H]) from logaddexp, expit and (sparse) matrix products: not fastlr's code."""
    m = X.shape[0]
    z = np.asarray(X @ w).ravel() + b
    J = float(np.mean(np.logaddexp(0.0, z) - y * z))
    dz = expit(z) - y
    out = (J, np.asarray(X.T @ dz).ravel() / m, float(np.mean(dz)))
    if not hessian:
        return out
    h = expit(z) * expit(-z)
    if scipy.sparse.issparse(X):
        Xt = scipy.sparse.hstack([X, np.ones((m, 1))], format="csr")
        H = (Xt.T @ Xt.multiply(h[:, None])).toarray() / m
    else:
        Xt = np.hstack([X, np.ones((m, 1))])
        H = Xt.T @ (Xt * h[:, None]) / m
    return (*out, H)


def _run(benchmark, func, *args):
    """Time ``func(*args)`` after one warm-up round; return its result (also when disabled)."""
    return benchmark.pedantic(func, args=args, rounds=ROUNDS, iterations=1, warmup_rounds=1)


def _label(benchmark, kernel, X, order):
    shape = "x".join(map(str, X.shape))
    benchmark.group = " ".join(filter(None, [kernel.operation, kernel.input, shape, order]))
    benchmark.extra_info["label"] = kernel.label
    benchmark.extra_info["nonzeros" if kernel.input == "csr" else "elements"] = (
        X.nnz if kernel.input == "csr" else X.size)


def _check_loss_grad(result, expected):
    J, dw, db = result[:3]
    eJ, edw, edb = expected[:3]
    assert J == pytest.approx(eJ, rel=1e-12)
    np.testing.assert_allclose(dw, edw, rtol=1e-10, atol=1e-14)
    assert db == pytest.approx(edb, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize(("key", "order"), _params("loss_grad"))
def test_loss_grad(benchmark, key, order):
    kernel = KERNELS[key]
    w, b, X, y = _problem(kernel, order)
    _label(benchmark, kernel, X, order)
    result = _run(benchmark, kernel.func, w, b, X, y)
    assert len(result) == 3
    _check_loss_grad(result, _independent(w, b, X, y))


@pytest.mark.parametrize(("key", "order"), _params("loss_grad_hess"))
def test_loss_grad_hess(benchmark, key, order):
    kernel = KERNELS[key]
    w, b, X, y = _problem(kernel, order)
    _label(benchmark, kernel, X, order)
    result = _run(benchmark, kernel.func, w, b, X, y)
    expected = _independent(w, b, X, y, hessian=True)
    _check_loss_grad(result, expected)
    H, eH = result[3], expected[3]
    assert H.shape == (X.shape[1] + 1,) * 2
    np.testing.assert_allclose(H, eH, rtol=1e-10, atol=1e-12 * np.abs(eH).max())


@pytest.mark.parametrize(("key", "order"), _params("cost", orders=("C",)))
def test_cost(benchmark, key, order):
    kernel = KERNELS[key]
    w, b, X, y = _problem(kernel, order)
    _label(benchmark, kernel, X, order)
    J = _run(benchmark, kernel.func, w, b, X, y)
    assert J == pytest.approx(_independent(w, b, X, y)[0], rel=1e-12)


@pytest.mark.parametrize(("key", "order"), _params("sigmoid"))
def test_sigmoid(benchmark, key, order):
    kernel = KERNELS[key]
    z = np.random.default_rng(1).normal(scale=20.0, size=1_000_000)
    benchmark.group = f"sigmoid {z.size}"
    benchmark.extra_info["label"] = kernel.label
    out = _run(benchmark, kernel.func, z)
    np.testing.assert_allclose(out, expit(z), rtol=1e-14, atol=0)


MULTINOMIAL_SHAPE = (20_000, 50, 5)


def _multinomial_problem(kernel, order, seed=0):
    m, n, K = MULTINOMIAL_SHAPE
    rng = np.random.default_rng(seed)
    if kernel.input == "csr":
        X = scipy.sparse.random(m, n, density=0.1, format="csr", random_state=rng,
                                data_rvs=rng.standard_normal)
    else:
        X = rng.standard_normal((m, n))
        X = X if order == "C" else np.asfortranarray(X)
    W = rng.standard_normal((n, K)) / np.sqrt(n)
    return W, 0.1 * rng.standard_normal(K), X, rng.integers(0, K, m)


def _independent_multinomial(W, b, X, y):
    """(J, dW, db) from scipy's logsumexp and softmax: not fastlr's code."""
    from scipy.special import logsumexp, softmax

    m = X.shape[0]
    Z = np.asarray(X @ W) + b
    D = softmax(Z, axis=1)
    D[np.arange(m), y] -= 1
    J = float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(m), y]))
    return J, np.asarray(X.T @ D) / m, D.mean(axis=0)


@pytest.mark.parametrize(("key", "order"), _params("multinomial_loss_grad")
                         + _params("multinomial_loss_grad_hess"))
def test_multinomial_loss_grad(benchmark, key, order):
    kernel = KERNELS[key]
    W, b, X, y = _multinomial_problem(kernel, order)
    _label(benchmark, kernel, X, order)
    result = _run(benchmark, kernel.func, W, b, X, y)
    J, dW, db = _independent_multinomial(W, b, X, y)
    assert result[0] == pytest.approx(J, rel=1e-12)
    np.testing.assert_allclose(result[1], dW, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(result[2], db, rtol=1e-10, atol=1e-14)
    if kernel.operation.endswith("hess"):
        n, K = W.shape
        assert result[3].shape == (K * (n + 1),) * 2


def test_every_registry_entry_has_a_benchmark():
    """A new operation in the registry needs a benchmark test here."""
    tested = {p.values[0] for op in ("loss_grad", "loss_grad_hess", "cost", "sigmoid",
                                     "multinomial_loss_grad", "multinomial_loss_grad_hess")
              for p in _params(op)}
    assert tested == set(KERNELS), sorted(set(KERNELS) - tested)
