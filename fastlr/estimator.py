"""``fastlr.LogisticRegression``: scikit-learn's logistic regression on fastlr's fused kernels.

The model is scikit-learn's: for C > 0 it minimises C·Σ sᵢ·Lᵢ + ½‖w‖² (``penalty=None`` drops the
½‖w‖²), so at the optimum it has the coefficients of ``sklearn.linear_model.LogisticRegression(C=C)``.
Internally each binary problem is a ``fastlr._objective.BinaryObjective`` (the same objective divided
by C·Σsᵢ) handed to ``fastlr._solvers.minimize``; a different data backend needs only a different
objective class with the same ``loss_grad`` / ``loss_grad_hess`` methods. Dask collections are
handed to ``fastlr.distributed.fit_dask``.

More than two classes: one-vs-rest, one binary problem per class (``predict_proba`` normalises the
per-class sigmoids, as scikit-learn's one-vs-rest does). Classes are fitted on parallel Python
threads, each running the kernels on one Numba thread (measured faster than classes in sequence
with parallel kernels at every size tried; see the comments below).

This module imports scikit-learn at module level; ``fastlr/__init__.py`` loads it lazily, so
``import fastlr`` stays light.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.special import expit, log_expit, logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from threadpoolctl import threadpool_limits

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)

from . import _solvers
from ._jit import numba_threads
from ._objective import BinaryObjective
from .distributed import is_dask_collection

__all__ = ["LogisticRegression"]

_ACCEPT_SPARSE = ("csr", "csc")
_DTYPES = (np.float64, np.float32)

# Default solver "lbfgs", measured with benchmarks/fit_vs_sklearn.py on a quiet 2-core machine
# (float64, 2 threads, tol 1e-8, best of 3 after a warm-up fit, same optimum to 1e-14):
#   200,000 x 100: lbfgs 0.085 s, newton 0.353 s;  1,000,000 x 20: lbfgs 0.147 s, newton 0.248 s.
# One fused Hessian pass costs several loss_grad passes (O(n^2) per sample), which the fewer
# iterations repay only on ill-conditioned problems (standardised breast cancer at C=100: lbfgs
# 272 iterations, newton 12) -- there "newton" is the better choice.

# Below this many elements of X, kernels run on one thread: a parallel launch costs more than the
# pass. Measured on the shared 2-core machine: breast cancer (569 × 30) 27 µs per loss_grad on one
# thread, 0.6 ms on two (OpenMP wake-up under load); digits (1,797 × 64) one-vs-rest lbfgs 41.6 s
# with 2-thread kernels against 4.2 s with one thread per class.
_SERIAL_MAX_ELEMENTS = 1_000_000

# One-vs-rest: classes run on parallel Python threads, each running its kernels on one Numba thread
# (no nested parallelism; the kernels release the GIL). Measured, 2 threads, tol 1e-8, vs classes
# one after the other with 2-thread kernels: digits newton 0.047 s vs 0.138 s; 100,000 × 20 with 5
# classes: lbfgs 0.15 s vs 1.26 s, newton 0.24 s vs 0.39 s. It paid at every size tried, so it is
# always used when more than one thread is available (and verbose is off, to keep lines in order).


def _require_two_classes(classes):
    """sklearn's error for a single-class y (its estimator checks match on this text)."""
    if classes.shape[0] < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but the "
                         f"data contains only one class: {classes[0]!r}")


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


def _resolve_threads(n_threads):
    """None → leave Numba's setting; -1 → all of Numba's threads; k → min(k, all)."""
    import numba

    if n_threads is None:
        return None
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be None or an int, got {type(n_threads).__name__}")
    if n_threads == -1:
        return numba.config.NUMBA_NUM_THREADS
    if n_threads < 1:
        raise ValueError(f"n_threads must be None, -1 or >= 1, got {n_threads}")
    return min(int(n_threads), numba.config.NUMBA_NUM_THREADS)


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
        Numba threads for fit/predict (restored afterwards); None keeps Numba's setting, -1 all.
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
    def _check_params(self):
        if self.penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None, got {self.penalty!r}")
        if isinstance(self.C, (bool, np.bool_)) or not isinstance(self.C, numbers.Real):
            raise TypeError(f"C must be a positive real number, got {type(self.C).__name__}")
        if not (self.C > 0 and np.isfinite(self.C)):
            raise ValueError(f"C must be a finite number > 0, got {self.C!r}")
        if self.solver not in _solvers.SOLVERS:
            raise ValueError(f"solver must be one of {_solvers.SOLVERS}, "
                             f"got {self.solver!r}")
        if isinstance(self.max_iter, (bool, np.bool_)) or not isinstance(self.max_iter,
                                                                        numbers.Integral):
            raise TypeError(f"max_iter must be an int, got {type(self.max_iter).__name__}")
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}")
        if not isinstance(self.tol, numbers.Real) or not (self.tol >= 0 and np.isfinite(self.tol)):
            raise ValueError(f"tol must be a finite number >= 0, got {self.tol!r}")
        if self.solver == "gd" and not (isinstance(self.learning_rate, numbers.Real)
                                        and self.learning_rate > 0
                                        and np.isfinite(self.learning_rate)):
            raise ValueError(f"solver='gd' needs a finite learning_rate > 0, "
                             f"got {self.learning_rate!r}")
        return _resolve_threads(self.n_threads)

    def fit(self, X, y, sample_weight=None):
        """Fit on X (n_samples, n_features): NumPy, pandas or scipy.sparse CSR/CSC; y labels."""
        if is_dask_collection(X):
            from .distributed import fit_dask

            return fit_dask(self, X, y, sample_weight)
        n_threads = self._check_params()
        X, y = _validate_data(self, X, y, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                              order=None, copy=False, accept_large_sparse=True)
        check_classification_targets(y)
        # np.unique(return_inverse=True) sorts all of y (0.35 s at 2,000,000 labels, a third of
        # that fit); the distinct labels are few, so find them, then searchsorted each label.
        classes = np.unique(y)
        y_index = np.searchsorted(classes, y)
        _require_two_classes(classes)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.class_weight is not None:
            sample_weight = sample_weight * compute_sample_weight(self.class_weight, y)
        weighted_classes = np.unique(y_index[sample_weight > 0])
        if weighted_classes.shape[0] < 2:
            raise ValueError("sample_weight leaves only one class with positive weight; "
                             "at least 2 classes need samples of positive weight")
        if hasattr(X, "format") and X.format == "csc":
            X = X.tocsr()  # one O(nnz) copy; every iteration then reads CSR in one pass
        if np.all(sample_weight == 1.0):
            sample_weight = None

        n_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
        n_features = X.shape[1]
        solver = self.solver
        x0s = self._initial_points(n_problems, n_features, classes)
        targets = ([y_index == 1] if n_problems == 1
                   else [y_index == k for k in range(n_problems)])

        def objective(target):
            return BinaryObjective(X, target.astype(np.float64), sample_weight, C=self.C,
                                   fit_intercept=self.fit_intercept, penalty=self.penalty)

        def solve(k, inner_threads=None):
            with numba_threads(inner_threads):
                obj = objective(targets[k])
                if self.verbose and n_problems > 1:
                    print(f"class {classes[k]} vs rest", flush=True)
                return _solvers.minimize(
                    obj.loss_grad, x0s[k], solver=solver, max_iter=self.max_iter, tol=self.tol,
                    learning_rate=self.learning_rate, loss_grad_hess=obj.loss_grad_hess,
                    verbose=self.verbose)

        if X.shape[0] * n_features <= _SERIAL_MAX_ELEMENTS and n_problems == 1:
            n_threads = 1
        # BLAS on one thread while fitting: the solvers' small BLAS calls (L-BFGS-B's dot
        # products, Newton's Cholesky) wake OpenBLAS's threads, which then spin on the cores the
        # Numba kernels need. Measured (2 cores, CSR 200,000 x 2,000 at 1 %): 20 ms per loss_grad
        # inside an L-BFGS fit with OpenBLAS threads spinning, 8.5 ms with BLAS on one thread.
        with threadpool_limits(limits=1, user_api="blas"), numba_threads(n_threads):
            import numba

            workers = min(n_problems, numba.get_num_threads())
            parallel = n_problems > 1 and workers > 1 and not self.verbose
            if parallel:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    results = list(pool.map(lambda k: solve(k, 1), range(n_problems)))
            else:
                small = X.shape[0] * n_features <= _SERIAL_MAX_ELEMENTS
                results = [solve(k, 1 if small else None) for k in range(n_problems)]

        return self._set_fit_results(results, classes, n_features, X.dtype, solver)

    def _set_fit_results(self, results, classes, n_features, dtype, solver):
        """Warn about unconverged problems and set the fitted attributes from solver results.

        Shared by the in-memory fit and ``fastlr.distributed.fit_dask``.
        """
        n_problems = len(results)
        for k, res in enumerate(results):
            if not res.converged:
                label = "" if n_problems == 1 else f" (class {classes[k]} vs rest)"
                warnings.warn(
                    f"fastlr.LogisticRegression (solver={solver!r}) did not converge{label}: "
                    f"{res.message}. Increase max_iter (now {self.max_iter}) or loosen tol "
                    f"(now {self.tol}), or scale the data (e.g. with "
                    "sklearn.preprocessing.StandardScaler).",
                    ConvergenceWarning, stacklevel=3)

        coef = np.empty((n_problems, n_features), dtype=dtype)
        intercept = np.zeros(n_problems, dtype=dtype)
        for k, res in enumerate(results):
            coef[k] = res.x[:n_features]
            if self.fit_intercept:
                intercept[k] = res.x[n_features]
        self.classes_ = classes
        self.coef_ = coef
        self.intercept_ = intercept
        self.n_iter_ = np.array([max(1, res.n_iter) for res in results], dtype=np.int32)
        histories = [np.asarray(res.loss_history, dtype=np.float64) for res in results]
        self.loss_history_ = histories[0] if n_problems == 1 else histories
        self.solver_ = solver
        return self

    def _initial_points(self, n_problems, n_features, classes):
        n_params = n_features + int(bool(self.fit_intercept))
        zeros = [np.zeros(n_params) for _ in range(n_problems)]
        if not self.warm_start or not hasattr(self, "coef_"):
            return zeros
        if (self.coef_.shape != (n_problems, n_features)
                or not np.array_equal(getattr(self, "classes_", None), classes)):
            return zeros
        points = []
        for k in range(n_problems):
            x = np.zeros(n_params)
            x[:n_features] = self.coef_[k]
            if self.fit_intercept:
                x[n_features] = self.intercept_[k]
            points.append(x)
        return points

    # ------------------------------------------------------------------ predict
    @_dask_aware
    def decision_function(self, X):
        """Margins X·wᵀ + b: shape (n_samples,) for binary, (n_samples, n_classes) otherwise."""
        check_is_fitted(self)
        X = _validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES, order=None,
                           reset=False, accept_large_sparse=True)
        with numba_threads(_resolve_threads(self.n_threads)):
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
