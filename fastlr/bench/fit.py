"""The fit comparison: ``fastlr.LogisticRegression`` per solver against scikit-learn's, on one problem.

The fits are timed like a table's rows (:func:`~fastlr.bench.timing.time_interleaved`): one untimed
fit each (Numba compiles there; its model is the one reported), then ``repeat`` rounds of one fit
per solver, so load hits every solver alike; the median and spread are reported, and a wide spread
is flagged. Every fit's objective C·Σ Lᵢ + ½‖w‖² is computed by the NumPy reference, the same for
all, and its gap is relative to the best objective any fit reached. scikit-learn is imported only
here, and only when installed.
"""

from __future__ import annotations

import warnings

import numpy as np

from .data import make_problem
from .flags import noise_flags
from .timing import Contender, time_interleaved

__all__ = ["fit_comparison", "objective"]


def objective(coef, intercept, X, y, C: float) -> float:
    """scikit-learn's objective C·Σ Lᵢ + ½‖w‖², computed by the NumPy reference."""
    from .. import reference

    m = X.shape[0]
    w = np.asarray(coef, dtype=np.float64).reshape(-1)
    return float(reference.cost(w, float(np.ravel(intercept)[0]), X, y, l2=1.0 / (C * m))) * C * m


def _fit(make, X, y):
    """A fitted model and whether it converged (no ConvergenceWarning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make().fit(X, y)
    return model, not any("converge" in str(w.message).lower() for w in caught)


def _report(name, model, converged, timing, X, y, C):
    history = getattr(model, "loss_history_", None)
    return {
        "model": name,
        "seconds": timing.median_s,
        "spread": timing.spread,
        "samples": len(timing.samples),
        "flags": noise_flags(timing.spread, None),
        "n_iter": int(np.max(np.atleast_1d(getattr(model, "n_iter_", [-1])))),
        "converged": converged,
        "objective": objective(model.coef_, model.intercept_, X, y, C),
        "train_accuracy": float(np.mean(model.predict(X) == y)),
        "loss_history": None if history is None else [float(v) for v in np.ravel(history)],
    }


def fit_comparison(n_samples: int, n_features: int, dtype="float64", C: float = 1.0, repeat: int = 3,
                   progress=lambda msg: None, seed: int = 0) -> dict:
    """Fit the same problem with fastlr's and scikit-learn's LogisticRegression, default settings."""
    w, b, X, y = make_problem(n_samples, n_features, dtype, "C", seed=seed)
    out = {"n_samples": n_samples, "n_features": n_features, "dtype": str(np.dtype(dtype)),
           "C": C, "fits": [], "notes": []}
    try:
        from ..estimator import LogisticRegression as FastLR
    except ImportError as exc:
        FastLR = None
        out["notes"].append(f"fastlr.LogisticRegression is not available ({exc}); skipped")
    try:
        from sklearn.linear_model import LogisticRegression as SkLR
    except ImportError:
        SkLR = None
        out["notes"].append("scikit-learn is not installed: no yardstick "
                            "(pip install scikit-learn)")
    candidates = []
    if FastLR is not None:
        for solver in ("lbfgs", "newton", "gd"):
            candidates.append((f"fastlr {solver}", lambda s=solver: FastLR(C=C, solver=s)))
    if SkLR is not None:
        for solver in ("lbfgs", "newton-cholesky"):
            candidates.append((f"sklearn {solver}", lambda s=solver: SkLR(C=C, solver=s)))
    progress(f"fit: first fits of {len(candidates)} models on {n_samples}x{n_features}")
    timings = time_interleaved(
        [Contender(name, lambda make=make: _fit(make, X, y)) for name, make in candidates], repeat,
        on_round=lambda i, n: progress(f"fit: round {i + 1}/{n} of {len(candidates)} interleaved fits"))
    for (name, _), timing in zip(candidates, timings):
        if timing.error is not None:  # report a broken solver, keep benchmarking the rest
            out["fits"].append({"model": name, "error": timing.error})
        else:
            out["fits"].append(_report(name, *timing.result, timing, X, y, C))
    good = [f for f in out["fits"] if "objective" in f]
    if good:
        best = min(f["objective"] for f in good)
        for f in good:
            f["objective_gap"] = (f["objective"] - best) / max(abs(best), 1e-300)
    return out
