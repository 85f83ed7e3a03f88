"""asv benchmarks of whole fits: fastlr.LogisticRegression per solver, scikit-learn as a yardstick.

Both estimators are fitted with default settings (C = 1) on the same fixed-seed data (``common``),
dense and CSR. ``setup`` fits once on a few hundred rows, so Numba compiles there, not in the timed
fit. ``peakmem_fit`` follows memory, ``track_n_iter`` the iterations each solver needs and
``track_objective`` the objective C·Σ Lᵢ + ½‖w‖² it reaches (computed here with NumPy), so a
solver that gets faster by stopping early shows up.

``fastlr.estimator`` does not exist in early commits: those combinations are skipped, as are CSR
fits on commits whose estimator does not take sparse input yet.
"""

from __future__ import annotations

import warnings

import numpy as np

from .common import classification_problem, skip, sparse_classification_problem

MODELS = ["fastlr-lbfgs", "fastlr-newton", "fastlr-gd", "sklearn-lbfgs", "sklearn-newton-cholesky"]
DENSE = (20_000, 20)
SPARSE = (20_000, 500, 0.02)


def make_model(model: str):
    """A fresh estimator for ``model`` ("library-solver"), or skip when it is unavailable."""
    library, solver = model.split("-", 1)
    if library == "fastlr":
        try:
            from fastlr.estimator import LogisticRegression
        except ImportError:
            skip("fastlr.estimator.LogisticRegression is not in this commit")
        return lambda: LogisticRegression(solver=solver)
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        skip("scikit-learn is not installed")
    return lambda: LogisticRegression(solver=solver)


def _fit(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of gd at default max_iter
        return make().fit(X, y)


def _objective(est, X, y) -> float:
    """C·Σ log(1 + e^{zᵢ}) − yᵢ·zᵢ + ½‖w‖² with C = 1 (both estimators' default), stable form."""
    w = np.asarray(est.coef_, dtype=np.float64).ravel()
    z = np.asarray(X @ w, dtype=np.float64).ravel() + float(np.ravel(est.intercept_)[0])
    yy = (np.asarray(y) == est.classes_[1]).astype(np.float64)
    loss = np.logaddexp(0.0, z) - yy * z
    return float(loss.sum()) + 0.5 * float(w @ w)


class Fit:
    """LogisticRegression().fit(X, y) on 20,000 x 20 dense or 20,000 x 500 CSR (2 % nonzeros)."""

    params = (MODELS, ["dense", "csr"])
    param_names = ["model", "input"]
    timeout = 300

    def setup(self, model, input):
        self.make = make_model(model)
        if input == "dense":
            self.X, self.y = classification_problem(*DENSE)
        else:
            self.X, self.y = sparse_classification_problem(*SPARSE)
        try:
            _fit(self.make, self.X[:500], self.y[:500])  # warm-up: compiles here
        except (TypeError, ValueError) as exc:
            if input == "csr" and model.startswith("fastlr"):
                skip(f"this commit's estimator does not take CSR input: {exc}")
            raise

    def time_fit(self, model, input):
        _fit(self.make, self.X, self.y)

    def peakmem_fit(self, model, input):
        _fit(self.make, self.X, self.y)

    def track_n_iter(self, model, input):
        return int(np.max(_fit(self.make, self.X, self.y).n_iter_))

    track_n_iter.unit = "iterations"

    def track_objective(self, model, input):
        return _objective(_fit(self.make, self.X, self.y), self.X, self.y)

    track_objective.unit = "objective"
