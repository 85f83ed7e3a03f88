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
