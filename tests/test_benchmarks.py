"""pytest-benchmark tests over the implementation registry (``fastlr.implementations``).

By default ``--benchmark-disable`` (pytest addopts) runs each body once as a plain test, so every
benchmark also asserts its result against an independent computation (NumPy's logaddexp and
SciPy's expit, not fastlr.reference). With ``--benchmark-enable`` the
``benchmark.pedantic`` call first runs one untimed warm-up round (Numba compiles there), then
times ``rounds`` rounds. See README "Performance tracking" for saving and comparing baselines.
"""

from __future__ import annotations

import numpy as np
import pytest

from scipy.special import expit

from fastlr.implementations import COST, LOSS_GRAD, SIGMOID

# float64 C and F at one modest size, so compiled specialisations are shared with the other tests
SHAPE = (20_000, 50)
PYTHON_SHAPE = (500, 50)  # the pure-Python loop is ~1000x slower
ROUNDS = 10


def _problem(shape, order="C", seed=0):
    rng = np.random.default_rng(seed)
    m, n = shape
    X = rng.standard_normal((m, n))
    X = X if order == "C" else np.asfortranarray(X)
    w = rng.standard_normal(n) / np.sqrt(n)
    y = (rng.random(m) < 0.5).astype(np.float64)
    return w, 0.3, X, y


def _independent(w, b, X, y):
    """(J, dw, db) from NumPy's logaddexp and SciPy's expit: not fastlr's reference code."""
    z = X @ w + b
    J = float(np.mean(np.logaddexp(0.0, z) - y * z))
    dz = expit(z) - y
    return J, X.T @ dz / len(y), float(np.mean(dz))


def _run(benchmark, func, *args):
    """Time ``func(*args)`` after one warm-up round; return its result (also when disabled)."""
    return benchmark.pedantic(func, args=args, rounds=ROUNDS, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("name", sorted(LOSS_GRAD))
def test_loss_grad(benchmark, name, order):
    impl = LOSS_GRAD[name]
    if getattr(impl, "sparse", False):
        pytest.skip("sparse implementation: dense benchmark only")
    shape = PYTHON_SHAPE if impl.max_elements is not None and SHAPE[0] * SHAPE[1] > impl.max_elements else SHAPE
    w, b, X, y = _problem(shape, order)
    benchmark.group = f"loss_grad {shape[0]}x{shape[1]} {order}"
    benchmark.extra_info["elements"] = X.size
    J, dw, db = _run(benchmark, impl.func, w, b, X, y)
    eJ, edw, edb = _independent(w, b, X, y)
    assert J == pytest.approx(eJ, rel=1e-12)
    np.testing.assert_allclose(dw, edw, rtol=1e-10, atol=1e-14)
    assert db == pytest.approx(edb, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("name", sorted(COST))
def test_cost(benchmark, name):
    w, b, X, y = _problem(SHAPE)
    benchmark.group = "cost"
    J = _run(benchmark, COST[name], w, b, X, y)
    assert J == pytest.approx(_independent(w, b, X, y)[0], rel=1e-12)


@pytest.mark.parametrize("name", sorted(SIGMOID))
def test_sigmoid(benchmark, name):
    z = np.random.default_rng(1).normal(scale=20.0, size=1_000_000)
    benchmark.group = "sigmoid"
    out = _run(benchmark, SIGMOID[name], z)
    np.testing.assert_allclose(out, expit(z), rtol=1e-14, atol=0)
