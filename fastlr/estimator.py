"""``fastlr.LogisticRegression``: scikit-learn's logistic regression on fastlr's fused kernels.

The model is scikit-learn's: for C > 0 it minimises C·Σ sᵢ·Lᵢ + ½‖w‖² (``penalty=None`` drops the
½‖w‖²), so at the optimum it has the coefficients of ``sklearn.linear_model.LogisticRegression(C=C)``.

This class is the scikit-learn facade only: it stores parameters, validates X and y the way
scikit-learn does, picks the data backend — ``fastlr._data.ArrayData`` for NumPy, pandas and
scipy.sparse input, ``fastlr.distributed.DaskData`` for Dask collections — and hands it to the
one fit driver, ``fastlr._fit.fit``, whose result becomes the fitted attributes. Predictions are
computed here (lazily, block by block, for Dask input).

Three or more classes: the multinomial (softmax) model, as scikit-learn fits it; one binary
problem per class with ``multi_class="ovr"`` (``predict_proba`` then normalises the per-class
sigmoids, as scikit-learn's one-vs-rest does).

This module imports scikit-learn at module level; ``fastlr/__init__.py`` loads it lazily, so
``import fastlr`` stays light.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.special import log_expit, log_softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, *args, skip_check_array=False, **kwargs):
        return estimator._validate_data(*args, cast_to_ndarray=not skip_check_array, **kwargs)

from . import _callbacks, _fit
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


class LogisticRegression(_callbacks.CallbackSupportMixin, ClassifierMixin, BaseEstimator):
    """Logistic regression with L2, L1 and elastic-net penalties, scikit-learn compatible, on
    Numba kernels.

    The signature is scikit-learn's current one (1.8+), plus fastlr's ``learning_rate``,
    ``n_threads`` and ``multi_class``, and it fits the same model: for two classes,
    C·Σ sᵢ·Lᵢ + ρ‖w‖₁ + ½(1 − ρ)‖w‖² (ρ = ``l1_ratio``, 0 by default: the L2 penalty); for three
    or more, the multinomial (softmax) model C·Σ sᵢ·(logsumexp(zᵢ) − z_{i,yᵢ}) + the same penalty
    of W, zᵢ = W·xᵢ + b. The intercept is not penalised (but for ``solver="liblinear"``).

    What runs unchanged from ``sklearn.linear_model.LogisticRegression`` code (today):

    * penalties: L2 (``l1_ratio=0``, the default), none (``C=np.inf``), L1 and elastic net
      (``l1_ratio > 0`` with ``solver="saga"``, or ``"liblinear"`` for L1, or fastlr's default
      ``"auto"``; deprecated ``penalty="l1"``/``"elasticnet"``);
    * solvers: ``"lbfgs"``, ``"newton-cholesky"``, ``"newton-cg"``, ``"saga"``,
      ``"sag"``, ``"liblinear"``, each fitting the objective scikit-learn's solver of that name
      fits, with fastlr's algorithms (``solver_``), and fastlr's default ``"auto"``, which
      converges where lbfgs stops at max_iter;
    * binary and multinomial models, sample and class weights, warm starts, callbacks,
      ``sparsify``/``densify``.

    C chosen by cross-validation: ``fastlr.LogisticRegressionCV`` (L2 grids).

    Parameters
    ----------
    penalty : {"l1", "l2", "elasticnet", None}, default="deprecated"
        Deprecated in scikit-learn 1.8, as here: leave it and use ``l1_ratio`` and ``C``.
        Setting it warns (FutureWarning) and still works, mapped as scikit-learn 1.9 maps it
        ("l1" fits the L1 penalty whatever ``l1_ratio`` says, with its warnings).
    C : float > 0 or np.inf, default=1.0
        Inverse regularisation strength; ``np.inf`` fits without a penalty.
    l1_ratio : float in [0, 1], default=0.0
        ρ of the penalty ρ‖w‖₁ + ½(1 − ρ)‖w‖²: 0 is L2, 1 is L1. ρ > 0 needs ``solver="saga"``
        (or ``"liblinear"`` for ρ = 1), as in scikit-learn.
    dual : bool, default=False
        True only with ``solver="liblinear"`` and an L2 penalty (fastlr solves the primal
        problem: the same optimum).
    tol : float, default=1e-4
        Stop when max|∇f| ≤ tol, f being the objective divided by C·Σsᵢ (as scikit-learn's lbfgs);
        with an L1 part, when the largest distance of ∇ to the subdifferential is ≤ tol.
    fit_intercept : bool, default=True
    intercept_scaling : float, default=1
        ``solver="liblinear"`` only: the intercept is penalised as the coefficient of a constant
        feature of this value (liblinear's objective); no effect otherwise.
    random_state : accepted, no effect (fastlr's solvers are deterministic)
    class_weight : dict, "balanced" or None
        Multiplies each sample's weight by its class's weight (scikit-learn's semantics).
    solver : {"auto", "lbfgs", "newton", "newton-cholesky", "newton-cg", "gd", "saga", "sag", \
"liblinear"}, default="auto"
        ``"auto"`` (fastlr's default; scikit-learn's is ``"lbfgs"``) reaches scikit-learn's
        optimum where lbfgs stops at max_iter — unscaled columns, text: on sparse X it runs
        Newton-CG; on small dense problems (one Hessian pass of n_samples·P² ≤ 2e7
        multiply-adds, P the number of parameters) Newton-Cholesky; on larger dense ones, L-BFGS
        for up to 20 iterations and, if that has not converged, Newton-CG from there, within
        the same ``max_iter``. ``solver_`` says which ran (``"lbfgs+newton-cg"``: the switch was
        available) and ``n_iter_`` counts the iterations of both. With an L1 part it runs what
        ``"saga"`` runs. Measured in ``fastlr._solvers.hybrid`` and ``fastlr._fit``. An explicit
        name runs that algorithm:
        ``"lbfgs"``: L-BFGS with scipy's L-BFGS-B iteration (line search and stopping rules),
        compiled, on the fused loss/gradient kernel (one pass over X per evaluation).
        ``"newton"`` (``"newton-cholesky"``): Newton's method with a fused
        loss/gradient/Hessian kernel (one pass per iteration; O((K·n_features)²) memory per
        thread) up to 1,000 parameters, Newton-CG above; ``"newton-cg"``: Newton with
        preconditioned CG steps on Hessian-vector products. ``"gd"``: the slides' batch gradient
        descent with ``learning_rate``. scikit-learn's ``"saga"``, ``"sag"`` and
        ``"liblinear"``: L-BFGS for an L2 penalty; with an L1 part working-set proximal Newton
        (binary and one-vs-rest in memory; multinomial on CSR class by class) or OWL-QN
        (multinomial on dense X, Dask).
    max_iter : int >= 0, default=100
    verbose : int, default=0
        > 0 prints one line per iteration: iteration, objective, max|gradient|, elapsed seconds.
        For a progress bar instead, use scikit-learn's callbacks (1.9+):
        ``model.set_callbacks(sklearn.callback.ProgressBar())`` (needs ``rich``); they see one
        task per solver iteration, for every solver (see ``fastlr._callbacks``).
    warm_start : bool, default=False
        Start from the previous fit's coefficients; as in scikit-learn, a previous ``coef_`` of
        another shape (n_features or the number of classes changed) raises a ValueError.
    n_jobs : None
        Accepted; no effect (as in scikit-learn since 1.8): setting it warns. See ``n_threads``.
    learning_rate : float, default=0.1
        Step α of ``solver="gd"`` (w := w − α·dw, b := b − α·db); ignored by the other solvers.
    n_threads : int or None, default=None
        Numba threads for fit (restored afterwards); None keeps Numba's setting, -1 all.
    multi_class : {"auto", "multinomial", "ovr"}, default="auto"
        Three or more classes: ``"auto"``/``"multinomial"`` fit the multinomial model (as
        scikit-learn does); ``"ovr"`` fits one binary problem per class, on parallel threads
        (scikit-learn removed this option in 1.8 in favour of ``OneVsRestClassifier``).

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) (binary) or (n_classes, n_features), X's float dtype
        (float64, with a warning, where the coefficients exceed float32's range)
    intercept_ : ndarray of shape (1,) or (n_classes,)
    classes_ : ndarray of the sorted class labels
    n_features_in_, feature_names_in_ : as in scikit-learn
    n_iter_ : ndarray of shape (1,) (binary, multinomial) or (n_classes,) (one-vs-rest)
    multi_class_ : "binary", "multinomial" or "ovr": the model fitted
    solver_ : str
        fastlr's algorithm that ran: "lbfgs", "newton", "newton-cg", "gd", "prox-newton",
        "prox-newton-softmax", "owlqn", "prox-newton-kron" or "fista"
    loss_history_ : ndarray (binary, multinomial) or list of ndarrays (one-vs-rest): the
        objective divided by C·Σsᵢ — the slides' cost J (+ ½λ‖w‖²) — at the start and after
        every iteration.
    """

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=0.0, dual=False, tol=1e-4,
                 fit_intercept=True, intercept_scaling=1, class_weight=None, random_state=None,
                 solver="auto", max_iter=100, verbose=0, warm_start=False, n_jobs=None,
                 learning_rate=0.1, n_threads=None, multi_class="auto"):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.max_iter = max_iter
        self.verbose = verbose
        self.warm_start = warm_start
        self.n_jobs = n_jobs
        self.learning_rate = learning_rate
        self.n_threads = n_threads
        self.multi_class = multi_class

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _more_tags(self):  # scikit-learn < 1.6
        return {"_xfail_checks": {}, "preserves_dtype": [np.float64, np.float32]}

    # ------------------------------------------------------------------ fit
    def set_callbacks(self, *callbacks):
        """Set scikit-learn callbacks (``sklearn.callback``, scikit-learn 1.9+), e.g.
        ``sklearn.callback.ProgressBar()``; they are called during every later ``fit``, for
        every solver: one task per solver iteration (see ``fastlr._callbacks``). Returns self."""
        return super().set_callbacks(*callbacks)

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features): NumPy, pandas, scipy.sparse CSR/CSC, or Dask
        collections (fitted on the current ``distributed.Client``); y labels."""
        options = _fit.check_params(self.get_params())
        if is_dask_collection(X):
            from .distributed import DaskData

            data = DaskData(X, y, sample_weight, estimator_name=type(self).__name__)
            from .distributed import feature_stand_in

            # feature_names_in_ and n_features_in_ as validate_data sets them in memory (mixed
            # str/non-str column names raise its TypeError), from the collection's columns
            _validate_data(self, feature_stand_in(X), reset=True, skip_check_array=True)
        else:
            X, y = _validate_data(self, X, y, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                                  order=None, copy=False, accept_large_sparse=True)
            if sample_weight is not None:
                from sklearn.utils.validation import _check_sample_weight

                sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
            data = ArrayData(X, y, sample_weight)
        warm = None
        if self.warm_start and hasattr(self, "coef_"):
            coef = self.coef_.toarray() if hasattr(self.coef_, "toarray") else self.coef_
            warm = _fit.WarmStart(self.classes_, np.asarray(coef), self.intercept_)
        with _callbacks.managed(self):  # scikit-learn's callbacks (set_callbacks), if any
            reporter = _callbacks.reporter(self, X, y, sample_weight)
            result = _fit.fit(data, options, warm, reporter)
            self.classes_ = result.classes
            self.coef_ = result.coef
            self.intercept_ = result.intercept
            self.n_iter_ = result.n_iter
            self.loss_history_ = (result.loss_history[0] if len(result.loss_history) == 1
                                  else result.loss_history)
            self.solver_ = result.solver
            self.multi_class_ = result.kind
            if reporter is not None:
                reporter.end()
        return self

    # ------------------------------------------------------------------ predict
    @_dask_aware
    def decision_function(self, X):
        """Margins X·wᵀ + b: shape (n_samples,) for binary, (n_samples, n_classes) otherwise."""
        check_is_fitted(self)
        X = _validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, order=None,
                           reset=False, accept_large_sparse=True)
        # in the wider of X's and the model's dtypes, as scikit-learn (a float64 model gives
        # float64 margins on float32 X; a float32 model on float32 X stays float32)
        dtype = np.result_type(X.dtype, self.coef_.dtype)
        scores = np.asarray(safe_sparse_dot(X, self.coef_.T.astype(dtype, copy=False),
                                            dense_output=True)) + self.intercept_.astype(dtype)
        return scores.ravel() if scores.shape[1] == 1 else scores

    @_dask_aware
    def predict(self, X):
        """Class labels: the most probable class (binary: margin > 0; else argmax margin)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[np.argmax(scores, axis=1)]

    @_dask_aware
    def predict_proba(self, X):
        """Class probabilities: [1 − σ(z), σ(z)] (binary), softmax(z) (multinomial), or the
        per-class sigmoids normalised to sum to 1 (one-vs-rest, as scikit-learn's)."""
        return np.exp(self.predict_log_proba(X))

    @_dask_aware
    def predict_log_proba(self, X):
        """log of ``predict_proba``, computed in log space: finite for every finite margin
        (one-vs-rest: log σ(zₖ) − logsumexp over k, never σ's that all underflow to 0)."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        if self.multi_class_ == "multinomial":
            return log_softmax(scores, axis=1)
        # σₖ / Σⱼ σⱼ = softmax(log σ)ₖ; log_softmax shifts by the row's maximum first, so tied
        # classes share exactly even where log σ ≈ −1e200 (max + log Σ would round back to max)
        return log_softmax(log_expit(scores), axis=1)

    # ------------------------------------------------------------------ coefficients
    def sparsify(self):
        """Store ``coef_`` as a scipy.sparse CSR matrix (useful when most coefficients are 0);
        predictions are unchanged. Returns the estimator."""
        import scipy.sparse

        check_is_fitted(self)
        self.coef_ = scipy.sparse.csr_matrix(self.coef_)
        return self

    def densify(self):
        """Store ``coef_`` as a NumPy array again (the default). Returns the estimator."""
        check_is_fitted(self)
        if hasattr(self.coef_, "toarray"):
            self.coef_ = self.coef_.toarray()
        return self

    # ------------------------------------------------------------------ persistence
    def save(self, path):
        """Write the fitted model to ``path`` (.npz, no pickle); read it back with fastlr.load."""
        from .persistence import save

        save(self, path)
