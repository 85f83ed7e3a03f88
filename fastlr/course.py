"""The course-style API: the functions of the classic "logistic regression with a neural-network
mindset" exercise, in the slides' notation, running on fastlr's fused kernel.

Shapes follow the slides (slide 005): X is (n_x, m) with one example per *column*, Y is (1, m),
w is (n_x, 1), b a scalar. The kernels take X as (m, n_x), so they are called on ``X.T`` — a view,
no copy: a C-ordered X becomes an F-ordered ``X.T``, which the fused kernel reads column by column.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import kernels
from ._validation import _check_scalar, check_real_array, working_dtype

__all__ = ["initialize_with_zeros", "model", "optimize", "predict", "propagate", "sigmoid"]


def sigmoid(z):
    """σ(z) = 1 / (1 + e^{−z}) (slide 017), elementwise and stable; any shape or a scalar."""
    return kernels.sigmoid(z)


def initialize_with_zeros(dim: int):
    """w = zeros((dim, 1)), b = 0.0: the starting point of gradient descent (slide 008)."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return np.zeros((int(dim), 1)), 0.0


def _check_course_shapes(w, X, Y=None):
    X = check_real_array(X, "X", ndim=2)
    n_x, m = X.shape
    w = check_real_array(w, "w")
    if w.shape not in ((n_x, 1), (n_x,)):
        hint = ""
        if w.shape[:1] == (m,) and m != n_x:
            hint = "; X looks transposed: the course API takes X of shape (n_x, m), one example per column"
        raise ValueError(
            f"w has shape {w.shape} but X has shape {X.shape} (n_x={n_x}, m={m}); "
            f"w must be ({n_x}, 1){hint}"
        )
    if Y is not None:
        Y = check_real_array(Y, "Y")
        if Y.shape not in ((1, m), (m,)):
            hint = ""
            if Y.size == n_x and n_x != m:
                hint = "; X looks transposed: the course API takes X of shape (n_x, m)"
            raise ValueError(f"Y has shape {Y.shape} but X has m={m} examples; Y must be (1, {m}){hint}")
        Y = Y.reshape(-1)
    return w.reshape(-1), X, Y


def propagate(w, b, X, Y):
    """Forward and backward propagation (slides 017–018) → (grads, cost).

    A = σ(wᵀX + b), cost = −(1/m)·Σ[Y·log A + (1−Y)·log(1−A)], dw = X·(A−Y)ᵀ/m, db = Σ(A−Y)/m.
    ``grads`` is ``{"dw": (n_x, 1) array, "db": float}``; ``cost`` a float.
    """
    w_flat, X, Y = _check_course_shapes(w, X, Y)
    J, dw, db = kernels.loss_grad(w_flat, b, X.T, Y)
    return {"dw": dw.reshape(-1, 1), "db": float(db)}, float(J)


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    """Batch gradient descent (slide 014): w := w − α·dw, b := b − α·db, num_iterations times.

    Returns ``(params, grads, costs)``: ``params = {"w", "b"}``, ``grads`` from the last
    propagation, ``costs`` the cost recorded every 100 iterations (printed as
    "Cost after iteration i: c" when ``print_cost``). The caller's w is not modified.

    ``num_iterations`` must be an integer >= 0 and ``learning_rate`` (α) a finite real number
    > 0 — α = 0 would leave w and b where they start, and a negative or NaN α climbs the cost or
    makes every parameter NaN; anything else raises ``ValueError``.
    """
    if isinstance(num_iterations, bool) or not isinstance(num_iterations, (int, np.integer)) \
            or num_iterations < 0:
        raise ValueError(f"num_iterations must be a non-negative integer, got {num_iterations!r}")
    if isinstance(learning_rate, (bool, np.bool_)) or not isinstance(learning_rate, numbers.Real) \
            or not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    learning_rate = float(learning_rate)
    w = np.array(w, dtype=np.float64, copy=True)
    b = float(b)
    grads = {"dw": np.zeros_like(w), "db": 0.0}
    costs = []
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"].reshape(w.shape)
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    return {"w": w, "b": b}, grads, costs


def predict(w, b, X):
    """Ŷ = 1 where σ(wᵀX + b) > 0.5, else 0, as a (1, m) float array.

    The margins wᵀX + b are computed in X's working dtype (``fastlr._validation.working_dtype``):
    float32 for float32 X (w rounded to float32, as ``LogisticRegression.decision_function`` and
    ``fastlr.reference`` do), float64 for every other real dtype — integer, unsigned, bool,
    float16 — so w is never cast to an integer X's dtype (uint8 pixels with weights in (−1, 1)
    would truncate every weight to 0). A float32/float64 X is not copied.
    """
    w_flat, X, _ = _check_course_shapes(w, X)
    b = _check_scalar(b, "b")
    z = X.T @ w_flat.astype(working_dtype(X.dtype), copy=False) + b
    return (z > 0).astype(np.float64).reshape(1, -1)


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5,
          print_cost=False):
    """Initialise with zeros, ``optimize``, ``predict`` on both sets; print train/test accuracy.

    Returns a dict with ``costs``, ``Y_prediction_test``, ``Y_prediction_train``, ``w``, ``b``,
    ``learning_rate`` and ``num_iterations``.
    """
    X_train = check_real_array(X_train, "X_train", ndim=2)
    w, b = initialize_with_zeros(X_train.shape[0])
    params, _, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test = predict(w, b, X_test)
    Y_prediction_train = predict(w, b, X_train)
    if print_cost:
        train_acc = 100 - np.mean(np.abs(Y_prediction_train - np.reshape(Y_train, (1, -1)))) * 100
        test_acc = 100 - np.mean(np.abs(Y_prediction_test - np.reshape(Y_test, (1, -1)))) * 100
        print(f"train accuracy: {train_acc} %")
        print(f"test accuracy: {test_acc} %")
    return {
        "costs": costs,
        "Y_prediction_test": Y_prediction_test,
        "Y_prediction_train": Y_prediction_train,
        "w": w,
        "b": b,
        "learning_rate": learning_rate,
        "num_iterations": num_iterations,
    }
