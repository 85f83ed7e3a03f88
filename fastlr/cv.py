"""``fastlr.LogisticRegressionCV`` and ``fastlr.logistic_regression_path``: a grid of C in one go.

The estimator has scikit-learn 1.9's ``LogisticRegressionCV`` signature and behaviour — its
folds (``check_cv``), its scorers and default-scoring FutureWarning, its selection of C (the
best mean score over folds with ``refit=True``, the mean of each fold's best without), its
refit from the mean of the folds' coefficients, its attributes and their legacy and new shapes
(``use_legacy_attributes``) — and fits the grid with fastlr's engine (``fastlr._cv``): the
binary and one-vs-rest models of all folds and Cs advance together, one pass over X per
evaluation for all of them; the multinomial models fold by fold, warm-started along Cs.

This module imports scikit-learn at module level; ``fastlr/__init__.py`` loads it lazily.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import replace

import numpy as np
from sklearn.utils import metadata_routing
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _manual_routing,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)

from . import _cv, _fit, _params
from ._validation import is_dask_collection
from .estimator import _ACCEPT_SPARSE, _DTYPES, LogisticRegression, _validate_data

__all__ = ["LogisticRegressionCV", "logistic_regression_path"]


def _check_Cs(Cs) -> np.ndarray:
    """scikit-learn's grid: an int n → n values log-spaced in [1e-4, 1e4]; else the values."""
    if isinstance(Cs, numbers.Integral) and not isinstance(Cs, (bool, np.bool_)):
        if Cs < 1:
            raise ValueError(f"Cs must be an int >= 1 or a list of C values > 0, got {Cs!r}")
        return np.logspace(-4, 4, int(Cs))
    try:
        values = np.asarray(Cs, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"Cs must be an int >= 1 or a list of C values > 0, got {Cs!r}")
    if values.ndim != 1 or values.size == 0 or not np.all(values > 0):
        raise ValueError(f"Cs must be an int >= 1 or a list of C values > 0 (np.inf for no "
                         f"penalty), got {Cs!r}")
    return values


#: the solvers the CV grid runs: fastlr's, and scikit-learn's names with the objectives
#: scikit-learn's solvers of those names fit (``_params.SOLVER_NAMES``): "saga" (every penalty;
#: L1 and elastic net by the proximal solvers, L2 by L-BFGS), "liblinear" (L1 or L2, binary and
#: one-vs-rest, its intercept penalised as a constant feature of ``intercept_scaling``), "sag"
#: (L2); "auto" fastlr's choice per problem (``_fit._solver_for``: Newton-CG on CSR, Newton's
#: Cholesky step on small dense problems, else L-BFGS then Newton-CG; the proximal solvers for
#: an L1 part)
CV_SOLVERS = ("auto", "lbfgs", "newton", "newton-cholesky", "newton-cg", "gd", "saga", "sag",
              "liblinear")


def _fit_options(solver_params):
    """fastlr's checked FitOptions from the CV estimator's parameters (C and the L1 share are
    per grid: ``dataclasses.replace`` sets the latter per l1_ratio)."""
    solver = solver_params["solver"]
    if not (isinstance(solver, str) and solver in CV_SOLVERS):
        raise ValueError(f"solver must be one of {sorted(CV_SOLVERS)} for "
                         f"fastlr.LogisticRegressionCV, got {solver!r}")
    params = dict(solver_params, C=1.0, l1_ratio=0.0, penalty="deprecated", warm_start=False,
                  n_jobs=None)
    return _fit.check_params(params, warn=False)


def _l1_share(penalty, l1_ratio) -> float:
    """The L1 share of one grid's penalty, as scikit-learn's path reads (penalty, l1_ratio):
    "l1" is all L1 and "l2" none whatever l1_ratio says; "elasticnet" takes l1_ratio."""
    if penalty == "l1":
        return 1.0
    if penalty == "l2":
        return 0.0
    return float(l1_ratio)


def _class_weights(class_weight, classes, y, sample_weight):
    """scikit-learn's: "balanced" from all of y (and the sample weights), once, for every fold;
    a dict's keys must be classes. Returns (per-class weights (K,), the dict for the refit)."""
    from sklearn.utils import compute_class_weight

    if class_weight is None:
        return np.ones(len(classes)), None
    if isinstance(class_weight, dict):
        if not set(class_weight.keys()) <= set(classes):
            raise ValueError("The given class_weight dict must have the class labels as keys; "
                             f"classes={classes} but key={class_weight.keys()}")
    weights = compute_class_weight(class_weight, classes=classes, y=y,
                                   sample_weight=sample_weight)
    return np.asarray(weights, dtype=np.float64), dict(zip(classes, weights))


def _kind(n_classes, multi_class):
    if n_classes == 2:
        return "binary"
    return "ovr" if multi_class == "ovr" else "multinomial"


class LogisticRegressionCV(LogisticRegression):
    """Logistic regression with C chosen by cross-validation, scikit-learn compatible.

    scikit-learn 1.9's ``LogisticRegressionCV``: same parameters, warnings, selection rule and
    attributes; L2, L1 and elastic-net grids (``l1_ratios``, with ``solver="saga"``, or
    ``"liblinear"`` for L1 on binary / one-vs-rest problems, as scikit-learn requires).
    Predictions are ``fastlr.LogisticRegression``'s.

    How the grid is fitted (``fastlr._cv``): for two classes (and for ``multi_class="ovr"``),
    all n_folds × n_Cs models (× n_classes for one-vs-rest) are the problems of one batched
    objective over all of X, rows masked per fold: one pass over X evaluates every model, the
    lockstep solvers advance them together and a converged model stops costing work. One such
    batch per l1_ratio: an L1 / elastic-net grid runs the working-set proximal Newton solver on
    every (fold, C) problem of the batch (its full-gradient checks are the batch's shared
    passes over X, its inner Newton steps per problem on the problem's working set), all folds of
    a C together, warm-started from the previous C. Memory:
    about 29·(n_features + 1) doubles of solver state per model (newton-cg: plus n_samples,
    newton-cholesky: plus 2·(n_features + 1)²); the grid is split into chunks of models whose
    state stays under 512 MiB (``fastlr._cv.GRID_MEMORY_BYTES``), one batch per chunk. The
    multinomial model (three or more classes) is fitted fold by fold, each fold's training rows
    copied once, its Cs in order, each warm-started from the previous one (as scikit-learn);
    with an L1 part by OWL-QN.
    Scores for ``scoring`` None/"accuracy"/"neg_log_loss": all of a fold's models from one
    product with its held-out rows; other scorers per model.

    Parameters
    ----------
    Cs : int or list of floats, default=10
        The grid of C: an int n gives n values log-spaced between 1e-4 and 1e4.
    l1_ratios : None or array-like of floats in [0, 1], default="warn"
        As scikit-learn: ``"warn"`` (the default) warns and means None (L2); values other
        than 0 need ``solver="saga"`` (or "liblinear" for all 1).
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        ``sklearn.model_selection.check_cv`` (stratified 5-fold by default).
    dual : False
    penalty : "l2", default="deprecated"
        Deprecated in scikit-learn 1.8, as here (FutureWarning), and mapped as there: "l1" is
        the L1 penalty whatever ``l1_ratios`` says, "elasticnet" takes ``l1_ratios``.
    scoring : str, callable or None, default="warn"
        A scikit-learn scorer; None is accuracy (``score``). The default warns, as in
        scikit-learn 1.9, that it will become "neg_log_loss" in 1.11.
    solver : {"lbfgs", "auto", "newton-cholesky", "newton-cg", "newton", "gd", "saga", "sag",
        "liblinear"}, default="lbfgs"
        scikit-learn's names fit the objectives scikit-learn's solvers of those names fit
        (liblinear: the intercept penalised, ``intercept_scaling``); fastlr's solvers run them.
        "auto" is fastlr's choice per problem, as ``fastlr.LogisticRegression(solver="auto")``
        (every penalty).
    tol : float, default=1e-4
    max_iter : int, default=100
    class_weight : dict, "balanced" or None
        "balanced" is computed once from all of y (with the sample weights), as scikit-learn.
    n_jobs : None
        Accepted, no effect: the grid is one batch on fastlr's threads (``n_threads``), not
        folds farmed out to processes.
    verbose : int, default=0
        > 0 prints progress: a line every 10 passes over X (and when models converge) for the
        batched grid, a line per fold and C for the multinomial grid; > 2 adds the solvers'
        per-iteration lines.
    refit : bool, default=True
    intercept_scaling : float, default=1.0
        liblinear only: the intercept is penalised as the coefficient of a constant feature of
        this value.
    random_state : accepted, no effect
    use_legacy_attributes : bool, default="warn"
        scikit-learn 1.9's transition flag (see its documentation): the default warns and
        keeps the legacy shapes.
    learning_rate : float, default=0.1
        Step of ``solver="gd"``.
    n_threads : int or None, default=None
        Numba threads for the fit (None: Numba's setting, -1 all).
    multi_class : {"auto", "multinomial", "ovr"}, default="auto"
        Three or more classes: the multinomial model, or one binary model per class (one C for
        all classes, the one-vs-rest model scored as a whole).

    Attributes
    ----------
    classes_, coef_, intercept_, Cs_, l1_ratios_, C_, l1_ratio_, coefs_paths_, scores_,
    n_iter_, n_features_in_, feature_names_in_ :
        as scikit-learn's (legacy shapes with ``use_legacy_attributes=True``: ``scores_`` and
        ``coefs_paths_`` dicts of class → (n_folds, n_Cs[, n_l1_ratios], ...), ``n_iter_``
        (1, n_folds, n_Cs[, n_l1_ratios]) — (n_classes, …) for one-vs-rest; new shapes
        ``coefs_paths_`` (n_folds, n_l1_ratios, n_Cs, n_classes or 1, n_dof), ``scores_`` and
        ``n_iter_`` (n_folds, n_l1_ratios, n_Cs), the latter the largest over the classes for
        one-vs-rest). ``coefs_paths_`` are float64; ``coef_``/``intercept_`` in X's dtype.
    multi_class_ : "binary", "multinomial" or "ovr"
    """

    # scikit-learn's: score's sample_weight goes to the scorer (routing), not to self
    __metadata_request__score = {"sample_weight": metadata_routing.UNUSED}

    def __init__(self, *, Cs=10, l1_ratios="warn", fit_intercept=True, cv=None, dual=False,
                 penalty="deprecated", scoring="warn", solver="lbfgs", tol=1e-4, max_iter=100,
                 class_weight=None, n_jobs=None, verbose=0, refit=True, intercept_scaling=1.0,
                 random_state=None, use_legacy_attributes="warn", learning_rate=0.1,
                 n_threads=None, multi_class="auto"):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.dual = dual
        self.penalty = penalty
        self.scoring = scoring
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.intercept_scaling = intercept_scaling
        self.random_state = random_state
        self.use_legacy_attributes = use_legacy_attributes
        self.learning_rate = learning_rate
        self.n_threads = n_threads
        self.multi_class = multi_class

    # ------------------------------------------------------------------ parameters
    def _l1_ratios_and_penalty(self):
        """scikit-learn 1.9's warnings and choice of penalty from ``l1_ratios``/``penalty``."""
        if isinstance(self.l1_ratios, str) and self.l1_ratios == "warn":
            l1_ratios = None
            warnings.warn("The default value for l1_ratios will change from None to (0.0,) in "
                          "version 1.10. From version 1.10 onwards, only array-like with values "
                          "in [0, 1] will be allowed, None will be forbidden. To avoid this "
                          "warning, explicitly set a value, e.g. l1_ratios=(0,).",
                          FutureWarning, stacklevel=3)
        else:
            l1_ratios = self.l1_ratios
        if isinstance(self.penalty, str) and self.penalty == "deprecated":
            if self.l1_ratios is None:
                warnings.warn("'l1_ratios=None' was deprecated in version 1.8 and will trigger "
                              "an error in 1.10. Use an array-like with valuesin [0, 1] "
                              "instead.", FutureWarning, stacklevel=3)
            if l1_ratios is None or np.all(np.asarray(l1_ratios) == 0):
                penalty = "l2"
            elif np.all(np.asarray(l1_ratios) == 1):
                penalty = "l1"
            else:
                penalty = "elasticnet"
        else:
            penalty = self.penalty
            if penalty not in ("l1", "l2", "elasticnet"):
                raise ValueError(f"penalty must be 'l1', 'l2' or 'elasticnet' (deprecated: "
                                 f"leave it and use l1_ratios), got {penalty!r}")
            warnings.warn("'penalty' was deprecated in version 1.8 and will be removed in 1.10. "
                          "To avoid this warning, leave 'penalty' set to its default value and "
                          "use 'l1_ratios' and 'Cs' instead. Use l1_ratios=(0,) instead of "
                          "penalty='l2', l1_ratios=(1,) instead of penalty='l1', l1_ratios set "
                          "to floats between 0 and 1 instead of penalty='elasticnet', and "
                          "Cs=(np.inf,) instead of penalty=None.", FutureWarning, stacklevel=3)
        _params._check_solver(self.solver, penalty, self.dual)
        if penalty == "elasticnet" and (
                l1_ratios is None or np.ndim(l1_ratios) != 1 or len(l1_ratios) == 0
                or any(not isinstance(r, numbers.Number) or isinstance(r, bool) or r < 0
                       or r > 1 for r in l1_ratios)):
            raise ValueError("l1_ratios must be an array-like of numbers between 0 and 1; got "
                             f"(l1_ratios={l1_ratios!r})")
        if l1_ratios is not None:
            try:
                ratios = np.asarray(l1_ratios, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError):
                raise ValueError(f"l1_ratios must be an array-like of numbers between 0 and 1; "
                                 f"got (l1_ratios={l1_ratios!r})")
            if ratios.size == 0:
                raise ValueError(f"l1_ratios must be an array-like of numbers between 0 and 1; "
                                 f"got (l1_ratios={l1_ratios!r})")
            if self.penalty != "deprecated" and penalty != "elasticnet":
                warnings.warn("l1_ratios parameter is only used when penalty is 'elasticnet'. "
                              f"Got (penalty={penalty})", stacklevel=3)
        return l1_ratios, penalty

    def _scoring(self):
        if isinstance(self.scoring, str) and self.scoring == "warn":
            warnings.warn("The default value of the parameter 'scoring' will change from None, "
                          "i.e. accuracy, to 'neg_log_loss' in version 1.11. To silence this "
                          "warning, explicitly set the scoring parameter: "
                          "scoring='neg_log_loss' for the new, scoring='accuracy' or "
                          "scoring=None for the old default.", FutureWarning, stacklevel=3)
            return None
        scoring = self.scoring
        if scoring is not None and not callable(scoring):
            from sklearn.metrics import get_scorer_names

            if not (isinstance(scoring, str) and scoring in get_scorer_names()):
                raise ValueError(f"scoring must be None, a callable or a scorer name of "
                                 f"sklearn.metrics.get_scorer_names(), got {scoring!r}")
        return scoring

    def _legacy(self):
        if isinstance(self.use_legacy_attributes, str) and self.use_legacy_attributes == "warn":
            name = type(self).__name__
            warnings.warn(f"The fitted attributes of {name} will be simplified in scikit-learn "
                          "1.10 to remove redundancy. Set`use_legacy_attributes=False` to "
                          "enable the new behavior now, or set it to `True` to silence this "
                          "warning during the transition period while keeping the deprecated "
                          "behavior for the time being. The default value of "
                          "use_legacy_attributes will change from True to False in "
                          f"scikit-learn 1.10. See the docstring of {name} for more details.",
                          FutureWarning, stacklevel=3)
            return True
        if not isinstance(self.use_legacy_attributes, (bool, np.bool_)):
            raise TypeError(f"use_legacy_attributes must be a bool, got "
                            f"{self.use_legacy_attributes!r}")
        return bool(self.use_legacy_attributes)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None, **params):
        """Fit the grid on X (n_samples, n_features) — NumPy, pandas or scipy.sparse — and
        labels y; ``params`` go to the splitter and the scorer (metadata routing), as in
        scikit-learn."""
        from sklearn.model_selection import check_cv
        from sklearn.preprocessing import LabelEncoder
        from sklearn.utils.multiclass import check_classification_targets
        from sklearn.utils.validation import _check_sample_weight

        _raise_for_params(params, self, "fit")
        l1_ratios, penalty = self._l1_ratios_and_penalty()
        scoring = self._scoring()
        legacy = self._legacy()
        if not isinstance(self.refit, (bool, np.bool_)):
            raise TypeError(f"refit must be a bool, got {self.refit!r}")
        options = _fit_options({
            "solver": self.solver, "dual": self.dual, "tol": self.tol,
            "max_iter": self.max_iter, "fit_intercept": self.fit_intercept,
            "intercept_scaling": self.intercept_scaling, "class_weight": self.class_weight,
            "random_state": self.random_state, "verbose": self.verbose,
            "learning_rate": self.learning_rate, "n_threads": self.n_threads,
            "multi_class": self.multi_class})
        if self.n_jobs is not None and not _params._is_int(self.n_jobs):
            raise TypeError(f"n_jobs must be None or an int, got {self.n_jobs!r}")
        Cs = _check_Cs(self.Cs)
        if is_dask_collection(X):
            # X stays on the cluster (checked and row-chunked by DaskData, as a Dask fit); the
            # labels and weights — n_samples values — come here: the splitter needs them, and
            # the folds become group codes sent back in X's row chunks (fastlr._cv.backend)
            from .distributed import DaskData, feature_stand_in

            checked = DaskData(X, y, sample_weight, estimator_name=type(self).__name__)
            _validate_data(self, feature_stand_in(X), reset=True, skip_check_array=True)
            X = checked.X
            y = np.asarray(checked.y.compute())
            if sample_weight is not None:
                sample_weight = np.asarray(checked.sample_weight.compute())
        elif is_dask_collection(y):
            raise TypeError("y is a Dask collection but X is not: pass both as Dask "
                            "collections or both in memory")
        else:
            X, y = _validate_data(self, X, y, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                                  order=None, copy=False, accept_large_sparse=True)
            if hasattr(X, "tocsr"):
                X = X.tocsr()  # row slices for the folds and the scoring
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        classes = self.classes_ = encoder.classes_
        K = len(classes)
        if K < 2:
            raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                             f"the data contains only one class: {classes[0]}.")
        if K > 2 and self.solver == "liblinear" and self.multi_class != "ovr":
            raise ValueError("The 'liblinear' solver does not support multiclass classification "
                             "(n_classes >= 3). Either use another solver or wrap the estimator "
                             "in a OneVsRestClassifier to keep applying a one-versus-rest scheme "
                             "(or, with fastlr, set multi_class='ovr').")
        y_index = encoder.transform(y).astype(np.int64)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)

        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
        else:
            score_kwargs = dict(params)
            if sample_weight is not None:
                score_kwargs["sample_weight"] = sample_weight
            routed = _manual_routing({"splitter": {}, "scorer": {"score": score_kwargs}})
        cv = check_cv(self.cv, y, classifier=True)
        # the splitter sees n_samples rows (a stand-in for Dask X: it reads only its length)
        split_X = np.empty((X.shape[0], 0)) if is_dask_collection(X) else X
        folds = list(cv.split(split_X, y, **routed.splitter.split))
        class_w, class_weight = _class_weights(self.class_weight, classes, y, sample_weight)

        m = X.shape[0]
        train_masks = np.zeros((len(folds), m), dtype=bool)
        for f, (train, _) in enumerate(folds):
            train_masks[f, train] = True
        kind = _kind(K, self.multi_class)
        # one grid (folds × Cs) per l1_ratio, each its own batch warm-started along Cs: the
        # penalty's L1 share is per objective (_penalties.ElasticNet), its strength per problem
        shares = [_l1_share(penalty, r) for r in ([None] if l1_ratios is None else l1_ratios)]
        grids = [_cv.fit_grid(X, y_index, K, sample_weight, train_masks, Cs,
                              replace(options, l1_ratio=share), class_w, kind)
                 for share in shares]
        scores = np.stack([_cv.score_grid(X, y, y_index, folds, grid, classes, scoring,
                                          sample_weight, routed.scorer.score,
                                          threads=options.n_threads)
                           for grid in grids], axis=-1)  # (folds, Cs, l1_ratios)
        self._set_attributes(X, y, sample_weight, grids, scores, Cs, l1_ratios, legacy,
                             options, class_weight, kind, len(folds), penalty, shares)
        self.grid_passes_ = {}
        for grid in grids:
            _cv._add_passes(self.grid_passes_, grid.passes)
        return self

    def _set_attributes(self, X, y, sample_weight, grids, scores, Cs, l1_ratios, legacy,
                        options, class_weight, kind, n_folds, penalty, shares):
        """scikit-learn's attribute assembly (its ``fit`` after the folds), on the grids (one
        per l1_ratio) and their scores (folds, Cs, l1_ratios)."""
        classes = self.classes_
        is_binary = len(classes) == 2
        n_classes = 1 if is_binary else len(classes)
        keys = classes[1:] if is_binary else classes
        n = X.shape[1]
        nC = len(Cs)
        l1_ratios_ = [None] if l1_ratios is None else list(l1_ratios)
        n_l1 = len(l1_ratios_)
        self.Cs_ = Cs
        # (classes, folds, Cs, l1_ratios, n_dof) as scikit-learn builds them
        paths = np.moveaxis(np.stack([g.coefs for g in grids], axis=2), 3, 0)
        n_iter = np.moveaxis(np.stack([g.n_iter for g in grids], axis=2), 3, 0)
        self.n_iter_ = n_iter
        score_grid = np.tile(scores[None], (n_classes, 1, 1, 1))
        self.scores_ = dict(zip(keys, score_grid))
        self.coefs_paths_ = dict(zip(keys, paths))
        fold_scores = scores  # (folds, Cs, l1_ratios)
        self.C_, self.l1_ratio_ = [], []
        if self.refit:
            best = np.unravel_index(np.argmax(fold_scores.sum(axis=0)), (nC, n_l1))
            C_ = Cs[best[0]]
            self.C_.append(C_)
            self.l1_ratio_.append(l1_ratios_[best[1]])
            init = paths[:, :, best[0], best[1], :].mean(axis=1)  # (n_classes, n_dof)
            warm = _fit.WarmStart(classes, init[:, :n],
                                  init[:, n] if options.fit_intercept else np.zeros(n_classes))
            refit_options = _fit.FitOptions(**{**options.__dict__, "C": float(C_),
                                               "penalize": not np.isinf(C_),
                                               "l1_ratio": (shares[best[1]]
                                                            if not np.isinf(C_) else 0.0),
                                               "class_weight": class_weight,
                                               "verbose": max(0, options.verbose - 1)})
            result = _fit.fit(_cv.backend(X, y, sample_weight), refit_options, warm)
            coef, intercept = result.coef, result.intercept
            self.solver_ = result.solver
        else:
            best = np.argmax(fold_scores.reshape(n_folds, -1), axis=1)
            best_C, best_l1 = np.unravel_index(best, (nC, n_l1))
            w = np.mean([paths[:, f, best_C[f], best_l1[f], :] for f in range(n_folds)],
                        axis=0)
            self.C_.append(np.mean(Cs[best_C]))
            self.l1_ratio_.append(np.mean(np.asarray(l1_ratios_)[best_l1])
                                  if penalty == "elasticnet" else 0.0)
            coef = w[:, :n]
            intercept = w[:, n] if options.fit_intercept else np.zeros(n_classes)
            coef, intercept = _fit._in_working_dtype(coef, intercept, X.dtype)
            self.solver_ = grids[0].solver
        self.coef_ = coef
        self.intercept_ = intercept
        self.multi_class_ = kind
        if not is_binary:
            self.C_ = np.tile(self.C_, n_classes)
            self.l1_ratio_ = np.tile(self.l1_ratio_, n_classes)
        self.C_ = np.asarray(self.C_)
        self.l1_ratio_ = np.asarray(self.l1_ratio_)
        self.l1_ratios_ = np.asarray(l1_ratios_)
        if l1_ratios is None:  # scikit-learn drops the l1_ratios axis
            self.coefs_paths_ = {k: v[:, :, 0, :] for k, v in self.coefs_paths_.items()}
            self.scores_ = {k: v[:, :, 0] for k, v in self.scores_.items()}
            self.n_iter_ = self.n_iter_[:, :, :, 0]
        if not legacy:
            n_dof = n + int(options.fit_intercept)
            self.C_ = float(self.C_[0])
            if l1_ratios is None:
                self.l1_ratio_ = 1.0 if self.penalty == "l1" else 0.0
            else:
                self.l1_ratio_ = float(self.l1_ratio_[0])
            self.coefs_paths_ = np.moveaxis(
                paths.reshape(n_classes, n_folds, nC, n_l1, n_dof), (0, 1, 3), (3, 0, 1))
            self.scores_ = np.moveaxis(scores.reshape(n_folds, nC, n_l1), (1, 2), (2, 1))
            self.n_iter_ = np.moveaxis(n_iter.max(axis=0).reshape(n_folds, nC, n_l1),
                                       (1, 2), (2, 1))

    # ------------------------------------------------------------------ scoring
    def score(self, X, y, *, sample_weight=None, **score_params):
        """The ``scoring`` score on X, y (accuracy for None), as scikit-learn's."""
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        scoring = self._get_scorer()
        if _routing_enabled():
            routed = process_routing(self, "score", **score_params)
        else:
            sw = ({"sample_weight": score_params["sample_weight"]}
                  if score_params.get("sample_weight") is not None else {})
            routed = _manual_routing({"scorer": {"score": sw}})
        return scoring(self, X, y, **routed.scorer.score)

    def get_metadata_routing(self):
        """scikit-learn's routing: ``fit`` params to the splitter and the scorer."""
        return (MetadataRouter(owner=self).add_self_request(self)
                .add(splitter=self.cv,
                     method_mapping=MethodMapping().add(caller="fit", callee="split"))
                .add(scorer=self._get_scorer(),
                     method_mapping=MethodMapping().add(caller="score", callee="score")
                     .add(caller="fit", callee="score")))

    def _get_scorer(self):
        """The scorer of ``scoring`` (accuracy for None and the default)."""
        from sklearn.metrics import get_scorer

        if isinstance(self.scoring, str) and self.scoring == "warn":
            return get_scorer("accuracy")
        return get_scorer(self.scoring or "accuracy")

    def save(self, path):
        raise NotImplementedError("LogisticRegressionCV cannot be saved yet; save a "
                                  "fastlr.LogisticRegression(C=model.C_) fitted on the data, or "
                                  "copy coef_/intercept_ into one")


def logistic_regression_path(X, y, *, Cs=10, fit_intercept=True, max_iter=100, tol=1e-4,
                             solver="lbfgs", class_weight=None, sample_weight=None,
                             l1_ratio=None, intercept_scaling=1.0, multi_class="auto",
                             n_threads=None, verbose=0):
    """Coefficients of logistic regression for every C of a grid, in one call.

    The models of ``sklearn.linear_model.LogisticRegression(C=C, l1_ratio=l1_ratio)`` for each
    C of ``Cs`` on all of (X, y), as scikit-learn's private ``_logistic_regression_path``
    returns them (there with ``penalty="elasticnet"`` for 0 < l1_ratio < 1, "l1" for 1). For
    two classes (and ``multi_class="ovr"``) all Cs are one batched objective: one pass over X
    per evaluation for the whole path (L2: L-BFGS and the Newton solvers on the batch; an L1
    part: proximal Newton per problem on the batch's shared gradient passes); the multinomial
    path is fitted C by C, each warm-started from the previous one (an L1 part: OWL-QN).

    Parameters
    ----------
    X : array-like or sparse matrix (n_samples, n_features); y : labels (n_samples,)
    Cs : int or list of floats, default=10
        An int n gives n values log-spaced between 1e-4 and 1e4.
    fit_intercept, max_iter, tol, class_weight, multi_class, n_threads, verbose :
        as in ``fastlr.LogisticRegression``.
    solver : {"auto", "lbfgs", "newton-cholesky", "newton-cg", "newton", "gd", "saga", "sag",
        "liblinear"}, default="lbfgs"
        As ``fastlr.LogisticRegressionCV``: an L1 part (``l1_ratio`` > 0) needs "saga" (or
        "liblinear" for l1_ratio=1, binary and one-vs-rest) or "auto", as scikit-learn requires.
    sample_weight : array-like (n_samples,) or None
    l1_ratio : float in [0, 1] or None, default=None
        The L1 share of the penalty (elastic net), as ``LogisticRegression(l1_ratio=…)``: None
        or 0 is L2, 1 is L1.
    intercept_scaling : float, default=1.0
        liblinear only, as scikit-learn: the intercept is penalised as the coefficient of a
        constant feature of this value.

    Returns
    -------
    coefs : ndarray (n_Cs, n_features + fit_intercept) for two classes, (n_Cs, n_classes,
        n_features + fit_intercept) otherwise; float64, the intercept last.
    Cs : ndarray (n_Cs,)
    n_iter : ndarray (n_Cs,) int32 — (n_Cs, n_classes) for one-vs-rest.
    """
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils import check_array, check_consistent_length
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_sample_weight

    if not (isinstance(solver, str) and solver in CV_SOLVERS):
        raise ValueError(f"solver must be one of {sorted(CV_SOLVERS)} for "
                         f"fastlr.logistic_regression_path, got {solver!r}")
    if l1_ratio is not None and not (_params._is_real(l1_ratio) and 0 <= l1_ratio <= 1):
        raise ValueError(f"l1_ratio must be None or a number in [0, 1], got {l1_ratio!r}")
    share = 0.0 if l1_ratio is None else float(l1_ratio)
    penalty = "l2" if share == 0 else ("l1" if share == 1 else "elasticnet")
    _params._check_solver(solver, penalty, False)
    options = _fit.check_params({
        "solver": solver, "dual": False, "tol": tol, "max_iter": max_iter,
        "fit_intercept": fit_intercept, "intercept_scaling": intercept_scaling,
        "class_weight": class_weight, "random_state": None, "verbose": verbose,
        "learning_rate": 0.1, "n_threads": n_threads, "multi_class": multi_class, "C": 1.0,
        "l1_ratio": 0.0, "penalty": "deprecated", "warm_start": False, "n_jobs": None},
        warn=False)
    options = replace(options, l1_ratio=share)
    Cs = _check_Cs(Cs)
    X = check_array(X, accept_sparse="csr", dtype=list(_DTYPES), order=None,
                    accept_large_sparse=True)
    y = check_array(y, ensure_2d=False, dtype=None)
    check_consistent_length(X, y)
    check_classification_targets(y)
    encoder = LabelEncoder().fit(y)
    classes = encoder.classes_
    if len(classes) < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but the "
                         f"data contains only one class: {classes[0]}.")
    if len(classes) > 2 and solver == "liblinear" and multi_class != "ovr":
        raise ValueError("The 'liblinear' solver does not support multiclass classification "
                         "(n_classes >= 3); with fastlr, set multi_class='ovr'.")
    y_index = encoder.transform(y).astype(np.int64)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
    class_w, _ = _class_weights(class_weight, classes, y, sample_weight)
    kind = _kind(len(classes), multi_class)
    grid = _cv.fit_grid(X, y_index, len(classes), sample_weight,
                        np.ones((1, X.shape[0]), dtype=bool), Cs, options, class_w, kind)
    coefs = grid.coefs[0]
    if kind == "binary":
        coefs = coefs[:, 0]
    n_iter = grid.n_iter[0]
    n_iter = n_iter if kind == "ovr" else n_iter[:, 0]
    return coefs, Cs, n_iter
