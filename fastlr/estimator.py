"""``fastlr.LogisticRegression``: scikit-learn's logistic regression on fastlr's fused kernels.

The model is scikit-learn's: for C > 0 it minimises C·Σ sᵢ·Lᵢ + ½‖w‖² (``penalty=None`` drops the
½‖w‖²), so at the optimum it has the coefficients of ``sklearn.linear_model.LogisticRegression(C=C)``.

This class is the scikit-learn facade only: it stores parameters, validates X and y the way
scikit-learn does, picks the data backend — ``fastlr._data.ArrayData`` for NumPy, pandas and
scipy.sparse input, ``fastlr.distributed.DaskData`` for Dask collections — and hands it to the
one fit driver, ``fastlr._fit.fit``, whose result becomes the fitted attributes. Predictions are
computed here (lazily, block by block, for Dask input).

More than two classes: one-vs-rest, one binary problem per class (``predict_proba`` normalises the
per-class sigmoids, as scikit-learn's one-vs-rest does).

This module imports scikit-learn at module level; ``fastlr/__init__.py`` loads it lazily, so
``import fastlr`` stays light.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import expit, log_expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from . import _fit
from ._data import ArrayData
from ._validation import is_dask_collection

__all__ = ["LogisticRegression"]

_ACCEPT_SPARSE = ("csr", "csc")
_DTYPES = (np.float64, np.float32)


def _dask_aware(method):
    """Route a Dask collection to ``fastlr.distributed.predict_dask``: a lazy Dask array."""
    name = method.__name__

    @functools.wraps(method)
    def wrapper(self, X):
        if is_dask_collection(X):
            from .distributed import predict_dask

            check_is_fitted(self)
            return predict_dask(self, X, name)
        return method(self, X)

    return wrapper


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """L2-regularised logistic regression, scikit-learn compatible, on Numba kernels.

    Parameters
    ----------
    penalty : {"l2", None}, default="l2"
        ``"l2"`` adds ½‖w‖² to C·Σ sᵢ·Lᵢ (intercept not penalised); ``None`` fits without it.
    C : float > 0, default=1.0
        Inverse regularisation strength, as in scikit-learn.
    fit_intercept : bool, default=True
    solver : {"lbfgs", "newton", "gd"}, default="lbfgs"
        ``"lbfgs"``: scipy's L-BFGS-B on the fused loss/gradient kernel (one pass over X per
        evaluation). ``"newton"``: Newton–Cholesky with a fused loss/gradient/Hessian kernel (one
        pass per iteration; O(n_features²) memory per thread), for up to a few hundred features.
        ``"gd"``: the slides' batch gradient descent with ``learning_rate``. The default was
        chosen by measurement (see the source); prefer newton for ill-conditioned problems.
    max_iter : int, default=100
    tol : float, default=1e-4
        Stop when max|∇f| ≤ tol, f being the objective divided by C·Σsᵢ (as scikit-learn's lbfgs).
    learning_rate : float, default=0.1
        Step α of ``solver="gd"`` (w := w − α·dw, b := b − α·db); ignored by the other solvers.
    class_weight : dict, "balanced" or None
        Multiplies each sample's weight by its class's weight (scikit-learn's semantics).
    warm_start : bool, default=False
        Start from the previous fit's coefficients when their shape still fits.
    n_threads : int or None, default=None
        Numba threads for fit (restored afterwards); None keeps Numba's setting, -1 all.
    verbose : int, default=0
        > 0 prints one line per iteration: iteration, objective, max|gradient|, elapsed seconds.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) (binary) or (n_classes, n_features), X's float dtype
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of the sorted class labels
    n_features_in_, feature_names_in_ : as in scikit-learn
    n_iter_ : ndarray of shape (1,) (binary) or (n_classes,) (one-vs-rest)
    loss_history_ : ndarray (binary) or list of ndarrays (one per class): the objective divided by
        C·Σsᵢ — the slides' cost J (+ ½λ‖w‖²) — at the start and after every iteration.
    """

    def __init__(self, penalty="l2", C=1.0, fit_intercept=True, solver="lbfgs", max_iter=100,
                 tol=1e-4, learning_rate=0.1, class_weight=None, warm_start=False,
                 n_threads=None, verbose=0):
        self.penalty = penalty
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.n_threads = n_threads
        self.verbose = verbose

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"_xfail_checks": {}, "preserves_dtype": [np.float64, np.float32]}

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features): NumPy, pandas, scipy.sparse CSR/CSC, or Dask
        collections (fitted on the current ``distributed.Client``); y labels."""
        options = _fit.check_params(self.get_params())
        if is_dask_collection(X):
            from .distributed import DaskData

            data = DaskData(X, y, sample_weight, estimator_name=type(self).__name__)
            self._set_input_features(data.n_features, data.feature_names)
        else:
            X, y = _validate_data(self, X, y, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                                  order=None, copy=False, accept_large_sparse=True)
            if sample_weight is not None:
                from sklearn.utils.validation import _check_sample_weight

                sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            data = ArrayData(X, y, sample_weight)
        warm = None
        if self.warm_start and hasattr(self, "coef_"):
            warm = _fit.WarmStart(self.classes_, self.coef_, self.intercept_)
        result = _fit.fit(data, options, warm)
        self.classes_ = result.classes
        self.coef_ = result.coef
        self.intercept_ = result.intercept
        self.n_iter_ = result.n_iter
        self.loss_history_ = (result.loss_history[0] if len(result.loss_history) == 1
                              else result.loss_history)
        self.solver_ = result.solver
        return self

    def _set_input_features(self, n_features, feature_names):
        """``n_features_in_`` and ``feature_names_in_`` for input scikit-learn did not validate."""
        self.n_features_in_ = n_features
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    # ------------------------------------------------------------------ predict
    @_dask_aware
    def decision_function(self, X):
        """Margins X·wᵀ + b: shape (n_samples,) for binary, (n_samples, n_classes) otherwise."""
        check_is_fitted(self)
        X = _validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, order=None,
                           reset=False, accept_large_sparse=True)
        scores = safe_sparse_dot(X, self.coef_.T.astype(X.dtype, copy=False),
                                 dense_output=True) + self.intercept_.astype(X.dtype)
        return scores.ravel() if scores.shape[1] == 1 else scores

    @_dask_aware
    def predict(self, X):
        """Class labels: the larger probability (binary: margin > 0; OvR: argmax margin)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    @_dask_aware
    def predict_proba(self, X):
        """σ(margin) for binary; one-vs-rest: per-class sigmoids normalised to sum to 1."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p1 = expit(scores)
            return np.column_stack([1.0 - p1, p1])
        p = expit(scores)
        return p / p.sum(axis=1, keepdims=True)

    @_dask_aware
    def predict_log_proba(self, X):
        """log of ``predict_proba``, computed stably (log σ(z) without forming σ(z) first)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        logp = log_expit(scores)
        return logp - logsumexp(logp, axis=1, keepdims=True)

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the fitted model to ``path`` (.npz, no pickle); read it back with fastlr.load."""
        from .persistence import save

        save(self, path)
