"""The course API reproduces the published values of the classic exercise it mirrors
("Logistic Regression with a Neural Network mindset"): independent numbers, not our own output."""

import numpy as np
import pytest

from fastlr import course


def test_initialize_with_zeros():
    w, b = course.initialize_with_zeros(2)
    assert w.shape == (2, 1) and not w.any()
    assert b == 0.0


@pytest.mark.parametrize("dim", [0, -1, 2.5, True])
def test_initialize_with_zeros_rejects_bad_dim(dim):
    with pytest.raises(ValueError, match="dim"):
        course.initialize_with_zeros(dim)


def test_sigmoid_published_values():
    np.testing.assert_allclose(course.sigmoid(np.array([0, 2])), [0.5, 0.88079708], rtol=1e-8)
    assert course.sigmoid(0.458) == pytest.approx(0.6125396134409151, rel=1e-15)


# (w, b, X, Y) and the published propagate/optimize outputs, from both editions of the exercise.
EDITIONS = {
    "2017": dict(
        w=[[1.0], [2.0]], b=2.0, X=[[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]], Y=[[1, 0, 1]],
        dw=[[0.99845601], [2.39507239]], db=0.00145557813678, cost=5.801545319394553,
        opt_w=[[0.19033591], [0.12259159]], opt_b=1.92535983008,
        opt_dw=[[0.67752042], [1.41625495]], opt_db=0.219194504541,
    ),
    "2021": dict(
        w=[[1.0], [2.0]], b=1.5, X=[[1.0, -2.0, -1.0], [3.0, 0.5, -3.2]], Y=[[1, 1, 0]],
        dw=[[0.25071532], [-0.06604096]], db=-0.1250040450043965, cost=0.15900537707692405,
        opt_w=[[0.80956046], [2.0508202]], opt_b=1.5948713189708588,
        opt_dw=[[0.17860505], [-0.04840656]], opt_db=-0.08888460336847771,
    ),
}


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_propagate_published_values(edition):
    e = EDITIONS[edition]
    grads, cost = course.propagate(np.array(e["w"]), e["b"], np.array(e["X"]), np.array(e["Y"]))
    np.testing.assert_allclose(grads["dw"], e["dw"], rtol=1e-7)
    assert grads["dw"].shape == (2, 1)
    assert grads["db"] == pytest.approx(e["db"], rel=1e-9)
    assert cost == pytest.approx(e["cost"], rel=1e-12)


@pytest.mark.parametrize("edition", sorted(EDITIONS))
def test_optimize_published_values(edition):
    e = EDITIONS[edition]
    w0 = np.array(e["w"])
    params, grads, costs = course.optimize(w0, e["b"], np.array(e["X"]), np.array(e["Y"]),
                                           num_iterations=100, learning_rate=0.009)
    np.testing.assert_allclose(params["w"], e["opt_w"], rtol=1e-7)
    assert params["b"] == pytest.approx(e["opt_b"], rel=1e-10)
    np.testing.assert_allclose(grads["dw"], e["opt_dw"], rtol=1e-7)
    assert grads["db"] == pytest.approx(e["opt_db"], rel=1e-9)
    assert costs == [pytest.approx(e["cost"], rel=1e-12)]
    np.testing.assert_array_equal(w0, e["w"])  # the caller's w is untouched


def test_optimize_prints_cost_every_100_iterations(capsys):
    e = EDITIONS["2021"]
    _, _, costs = course.optimize(np.array(e["w"]), e["b"], np.array(e["X"]), np.array(e["Y"]),
                                  num_iterations=201, learning_rate=0.009, print_cost=True)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [f"Cost after iteration {i}" for i in (0, 100, 200)]
    assert len(costs) == 3 and costs[0] > costs[1] > costs[2]


def test_predict_published_values():
    w = np.array([[0.1124579], [0.23106775]])
    X = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    np.testing.assert_array_equal(course.predict(w, -0.3, X), [[1.0, 1.0, 0.0]])


def test_model_learns_a_separable_problem():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 400))
    Y = (X[0] - X[1] > 0).astype(float)[None, :]
    d = course.model(X[:, :300], Y[:, :300], X[:, 300:], Y[:, 300:], num_iterations=500, learning_rate=0.5)
    assert set(d) == {"costs", "Y_prediction_test", "Y_prediction_train", "w", "b",
                      "learning_rate", "num_iterations"}
    assert len(d["costs"]) == 5 and all(np.diff(d["costs"]) < 0)
    assert np.mean(d["Y_prediction_test"] == Y[:, 300:]) > 0.95
    assert d["w"].shape == (5, 1)


def test_transposed_X_gets_a_clear_error():
    X = np.zeros((3, 5))  # (m, n_x) instead of (n_x, m)
    with pytest.raises(ValueError, match="transposed"):
        course.propagate(np.zeros((5, 1)), 0.0, X, np.zeros((1, 3)))


def test_propagate_on_C_ordered_X_matches_formula():
    """X (n_x, m) C-ordered reaches the kernel as X.T (F-ordered); at w = 0, J = log 2 and dw = X(½ − Y)ᵀ/m."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12288 // 64, 209))
    assert np.shares_memory(X.T, X) and X.T.flags.f_contiguous
    Y = (rng.random((1, 209)) < 0.5).astype(float)
    grads, cost = course.propagate(np.zeros((X.shape[0], 1)), 0.0, X, Y)
    assert cost == pytest.approx(np.log(2.0), rel=1e-14)
    np.testing.assert_allclose(grads["dw"][:, 0], X @ (0.5 - Y[0]) / 209, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- predict on non-float64 X
def _margins64(w, b, X):
    """wᵀX + b in float64 from X converted to float64 by NumPy: independent of fastlr."""
    return np.asarray(w, dtype=np.float64).reshape(-1) @ X.astype(np.float64) + b


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint64, np.int8, np.int16, np.int32,
                                   np.int64, np.bool_, np.float16], ids=lambda d: np.dtype(d).name)
def test_predict_on_integer_bool_and_float16_X_matches_float64(dtype):
    """Integer/bool (and float16) X is scored in float64: w is never cast to X's dtype.

    Weights in (0, 1) truncated to an integer dtype are all 0 (bool: all True), and float16
    margins overflow past 65504 here, so the cast would flip half the predictions (checked)."""
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(21)
    n, m = 200, 300
    high = 1 if dtype.kind == "b" else 2048 if dtype.kind == "f" else min(np.iinfo(dtype).max, 1000)
    X = rng.integers(0, high + 1, size=(n, m)).astype(dtype)
    X_before = X.copy()
    w = rng.uniform(0.05, 0.95, (n, 1))
    scores = np.sort(_margins64(w, 0.0, X))
    b = -(scores[m // 2 - 1] + scores[m // 2]) / 2  # half the examples on each side
    z = _margins64(w, b, X)
    assert np.min(np.abs(z)) > 1e-3  # no prediction hangs on rounding
    expected = (z > 0).astype(np.float64)[None, :]
    with np.errstate(all="ignore"):  # the old, wrong computation: w cast to X's dtype
        cast = (X.T @ w.reshape(-1).astype(dtype) + b > 0).astype(np.float64)[None, :]
    assert np.mean(cast != expected) > 0.4  # the case tells the two apart

    Y_hat = course.predict(w, b, X)
    assert Y_hat.shape == (1, m) and Y_hat.dtype == np.float64
    np.testing.assert_array_equal(Y_hat, expected)
    np.testing.assert_array_equal(Y_hat, course.predict(w, b, X.astype(np.float64)))
    np.testing.assert_array_equal(X, X_before)


def test_model_on_uint8_images_scores_as_on_float_images():
    """The reported case: uint8 pixels (0–255) with float weights predict as the same pixels as
    float64 do (the cast truncated w to uint8 and predicted a single class)."""
    rng = np.random.default_rng(22)
    X = rng.integers(0, 256, size=(64, 500)).astype(np.uint8)
    w_true = rng.standard_normal(64) * 0.01
    z = w_true @ X.astype(np.float64)
    Y = (z > np.median(z)).astype(np.float64)[None, :]
    d = course.model(X[:, :400] / 255.0, Y[:, :400], X[:, 400:] / 255.0, Y[:, 400:],
                     num_iterations=300, learning_rate=0.5)
    w, b = d["w"] / 255.0, d["b"]  # the same model on raw pixels
    z = _margins64(w, b, X)
    assert np.min(np.abs(z)) > 1e-9  # no prediction hangs on rounding
    expected = (z > 0).astype(np.float64)[None, :]
    np.testing.assert_array_equal(course.predict(w, b, X), expected)
    assert np.mean(expected == Y) > 0.9
    assert np.mean(course.predict(w, b, X) == Y) > 0.9


def test_predict_on_float32_X_scores_in_float32_without_truncating_w():
    """float32 X with float64 w: margins in float32 (w rounded, not truncated) agree with the
    float64 margins wherever those are not within float32 rounding of 0."""
    rng = np.random.default_rng(23)
    X = rng.standard_normal((50, 2000)).astype(np.float32)
    w = rng.uniform(-0.9, 0.9, (50, 1))  # |w| < 1: truncation would zero every weight
    b = 0.3
    z = _margins64(w, b, X)
    clear = np.abs(z) > 1e-3
    assert clear.mean() > 0.99
    Y_hat = course.predict(w, b, X)
    np.testing.assert_array_equal(Y_hat[0, clear], (z[clear] > 0).astype(np.float64))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_does_not_copy_a_float_X(dtype):
    import tracemalloc

    X = np.random.default_rng(24).standard_normal((64, 20000)).astype(dtype)
    w = np.full((64, 1), 0.01)
    course.predict(w, 0.0, X)  # warm up
    tracemalloc.start()
    try:
        course.predict(w, 0.0, X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 4, f"predict allocated {peak} bytes for an X of {X.nbytes}"


# ---------------------------------------------------------------- optimize's hyper-parameters
def _tiny_problem():
    e = EDITIONS["2021"]
    return np.array(e["w"]), e["b"], np.array(e["X"]), np.array(e["Y"])


@pytest.mark.parametrize("learning_rate", [np.nan, -0.5, -1e-300, 0.0, -0.0, np.inf, -np.inf,
                                           np.float64("nan"), np.float32(-0.1), True, "0.1",
                                           None, [0.1]], ids=repr)
def test_optimize_rejects_a_bad_learning_rate(learning_rate):
    w, b, X, Y = _tiny_problem()
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        course.optimize(w, b, X, Y, num_iterations=10, learning_rate=learning_rate)
    with pytest.raises(ValueError, match="learning_rate"):  # also with no iteration to run
        course.optimize(w, b, X, Y, num_iterations=0, learning_rate=learning_rate)


@pytest.mark.parametrize("learning_rate", [np.nan, -0.5, 0.0, np.inf])
def test_model_rejects_a_bad_learning_rate(learning_rate):
    _, _, X, Y = _tiny_problem()
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        course.model(X, Y, X, Y, num_iterations=10, learning_rate=learning_rate)


@pytest.mark.parametrize("learning_rate", [1, np.float32(0.25), np.int64(1), 1e-300])
def test_optimize_accepts_any_positive_real_learning_rate(learning_rate):
    """One step from the published w, b: w − α·dw with the published dw (independent numbers)."""
    e = EDITIONS["2021"]
    w, b, X, Y = _tiny_problem()
    params, _, _ = course.optimize(w, b, X, Y, num_iterations=1, learning_rate=learning_rate)
    alpha = float(learning_rate)
    np.testing.assert_allclose(params["w"], np.array(e["w"]) - alpha * np.array(e["dw"]),
                               rtol=1e-7)
    assert params["b"] == pytest.approx(e["b"] - alpha * e["db"], rel=1e-9)


@pytest.mark.parametrize("num_iterations", [-1, 2.5, 100.0, True, "10", None, np.nan])
def test_optimize_rejects_a_bad_num_iterations(num_iterations):
    w, b, X, Y = _tiny_problem()
    with pytest.raises(ValueError, match="num_iterations must be a non-negative integer"):
        course.optimize(w, b, X, Y, num_iterations=num_iterations, learning_rate=0.009)


@pytest.mark.parametrize("b, error", [("0.5", TypeError), (None, TypeError), (True, TypeError),
                                      (np.zeros(2), ValueError)])
def test_predict_rejects_a_non_scalar_b_like_propagate(b, error):
    w, X = np.zeros((2, 1)), np.ones((2, 3))
    with pytest.raises(error, match="b must be"):
        course.predict(w, b, X)
    with pytest.raises(error, match="b must be"):
        course.propagate(w, b, X, np.ones((1, 3)))


def test_predict_takes_b_as_a_0d_or_1_element_array():
    w, X = np.array([[1.0], [-1.0]]), np.array([[0.0, 2.0], [1.0, 0.0]])   # margins -1, 2
    for b in (np.array(1.5), np.array([1.5]), np.float32(1.5)):
        np.testing.assert_array_equal(course.predict(w, b, X), [[1.0, 1.0]])
    np.testing.assert_array_equal(course.predict(w, -1.5, X), [[0.0, 1.0]])
