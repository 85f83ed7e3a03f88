"""The fit driver: one sequence of steps for every data backend (in memory or on Dask).

``fit(data, options, warm_start)`` does what scikit-learn's ``LogisticRegression.fit`` does after
validating X, the same way whatever holds the data:

1. the classes: distinct labels, checked to be classification targets, at least two;
2. the weights: ``class_weight`` folded into the sample weights; at least two classes must keep
   a positive total weight;
3. the problems: one binary problem (two classes) or one per class (one-vs-rest), each a
   ``fastlr._linear_loss.LinearLoss`` over the backend, with λ = 1/(C·Σ sᵢ);
4. the starting points: zeros, or the previous fit's coefficients (``warm_start``);
5. the solve: ``fastlr._solvers.minimize`` per problem, with the thread policy below;
6. the outcome: a ``ConvergenceWarning`` per problem that did not converge, and a
   :class:`FitResult` that the estimator turns into its fitted attributes.

The backend (``fastlr._data.ArrayData``, ``fastlr.distributed.DaskData``) is all that differs;
see ``fastlr._data`` for what it provides. Parameter checks live here too
(:meth:`FitOptions.from_params`), so the estimator, the Dask path and ``fastlr.load`` share them.
"""

from __future__ import annotations

import numbers
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from . import _interrupt, _solvers
from ._jit import numba_threads
from ._linear_loss import LinearLoss, l2_of

__all__ = ["FitOptions", "FitResult", "WarmStart", "check_params", "fit"]

# Threads: every kernel call picks its own thread count from its work (fastlr._jit.threads_for),
# within ``n_threads``. One-vs-rest: classes run on parallel Python threads, each running its kernels on one Numba thread
# (no nested parallelism; the kernels release the GIL). Measured, 2 threads, tol 1e-8, vs classes
# one after the other with 2-thread kernels: digits newton 0.047 s vs 0.138 s; 100,000 × 20 with 5
# classes: lbfgs 0.15 s vs 1.26 s, newton 0.24 s vs 0.39 s. It paid at every size tried, so it is
# always used when more than one thread is available (and verbose is off, to keep lines in order).


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def resolve_threads(n_threads):
    """None → leave Numba's setting; -1 → all of Numba's threads; k → min(k, all)."""
    import numba

    if n_threads is None:
        return None
    if not _is_int(n_threads):
        raise TypeError(f"n_threads must be None or an int, got {type(n_threads).__name__}")
    if n_threads == -1:
        return numba.config.NUMBA_NUM_THREADS
    if n_threads < 1:
        raise ValueError(f"n_threads must be None, -1 or >= 1, got {n_threads}")
    return min(int(n_threads), numba.config.NUMBA_NUM_THREADS)


@dataclass(frozen=True)
class FitOptions:
    """Validated fit parameters (see ``fastlr.LogisticRegression`` for their meaning)."""

    C: float
    penalize: bool
    fit_intercept: bool
    solver: str
    max_iter: int
    tol: float
    learning_rate: float
    class_weight: object
    n_threads: int | None
    verbose: int

    @classmethod
    def from_params(cls, params: dict) -> "FitOptions":
        """Check the estimator's parameters; ``TypeError``/``ValueError`` naming the bad one."""
        penalty, C = params["penalty"], params["C"]
        if penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None, got {penalty!r}")
        if not _is_real(C):
            raise TypeError(f"C must be a positive real number, got {type(C).__name__}")
        if not (C > 0 and np.isfinite(C)):
            raise ValueError(f"C must be a finite number > 0, got {C!r}")
        solver = params["solver"]
        if solver not in _solvers.SOLVERS:
            raise ValueError(f"solver must be one of {_solvers.SOLVERS}, got {solver!r}")
        max_iter = params["max_iter"]
        if not _is_int(max_iter):
            raise TypeError(f"max_iter must be an int, got {type(max_iter).__name__}")
        if max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter}")
        tol = params["tol"]
        if not _is_real(tol) or not (tol >= 0 and np.isfinite(tol)):
            raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
        learning_rate = params["learning_rate"]
        if solver == "gd" and not (_is_real(learning_rate) and learning_rate > 0
                                   and np.isfinite(learning_rate)):
            raise ValueError(f"solver='gd' needs a finite learning_rate > 0, "
                             f"got {learning_rate!r}")
        return cls(C=float(C), penalize=penalty is not None,
                   fit_intercept=bool(params["fit_intercept"]), solver=solver,
                   max_iter=int(max_iter), tol=float(tol), learning_rate=learning_rate,
                   class_weight=params["class_weight"],
                   n_threads=resolve_threads(params["n_threads"]),
                   verbose=params["verbose"])


def check_params(params: dict) -> FitOptions:
    """``FitOptions.from_params``: the estimator's own parameter validation."""
    return FitOptions.from_params(params)


@dataclass(frozen=True)
class WarmStart:
    """A previous fit's classes and coefficients, to start the solvers from."""

    classes: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray


@dataclass
class FitResult:
    """What a fit produced; the estimator sets its attributes from it."""

    classes: np.ndarray
    coef: np.ndarray  # (n_problems, n_features), X's working dtype
    intercept: np.ndarray  # (n_problems,)
    n_iter: np.ndarray  # (n_problems,) int32
    loss_history: list = field(default_factory=list)  # one float64 array per problem
    solver: str = "lbfgs"


def _classes(data) -> np.ndarray:
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _assert_all_finite

    classes = data.labels()
    # The distinct labels decide the target type exactly as all of y would (NaN, continuous).
    if classes.dtype.kind in "fc":
        _assert_all_finite(classes, input_name="y")
    check_classification_targets(classes)
    if classes.shape[0] < 2:
        # scikit-learn's wording: its estimator checks match on it
        raise ValueError("This solver needs samples of at least 2 classes in the data, but the "
                         f"data contains only one class: {classes[0]!r}")
    return classes


def _per_class_weights(class_weight, classes, counts) -> np.ndarray:
    """scikit-learn's class weights, from the class counts alone (no pass over y)."""
    if class_weight == "balanced":
        return counts.sum() / (len(classes) * counts)
    from sklearn.utils.class_weight import compute_class_weight

    # dict weights need no counts: any y holding every class gives the same result
    return compute_class_weight(class_weight, classes=classes, y=classes)


def _apply_class_weight(data, classes, class_weight) -> None:
    if class_weight is not None:
        data.multiply_weights(_per_class_weights(class_weight, classes,
                                                 data.class_counts(classes)), classes)
    if np.count_nonzero(data.class_weight_sums(classes) > 0) < 2:
        raise ValueError("sample_weight leaves only one class with positive weight; "
                         "at least 2 classes need samples of positive weight")


def _starting_points(n_problems, n_features, fit_intercept, classes, warm):
    n_params = n_features + int(fit_intercept)
    if warm is None or warm.coef.shape != (n_problems, n_features) \
            or not np.array_equal(warm.classes, classes):
        return [np.zeros(n_params) for _ in range(n_problems)]
    points = []
    for k in range(n_problems):
        x = np.zeros(n_params)
        x[:n_features] = warm.coef[k]
        if fit_intercept:
            x[n_features] = warm.intercept[k]
        points.append(x)
    return points


def _solve_all(data, problems, x0s, options, classes):
    """Every problem's ``SolverResult``, with fastlr's thread policy.

    ``problems[k]()`` builds problem k's ``LinearLoss`` (its 0/1 target is made only when the
    problem is solved: one-vs-rest on many classes never holds every target at once).
    """
    from threadpoolctl import threadpool_limits

    def solve(k, inner_threads=None):
        with numba_threads(inner_threads):
            loss = problems[k]()
            if options.verbose and len(problems) > 1:
                print(f"class {classes[k]} vs rest", flush=True)
            return _solvers.minimize(
                loss.loss_grad, x0s[k], solver=options.solver, max_iter=options.max_iter,
                tol=options.tol, learning_rate=options.learning_rate,
                loss_grad_hess=loss.loss_grad_hess, verbose=options.verbose)

    # BLAS on one thread while fitting: the solvers' small BLAS calls (L-BFGS-B's dot products,
    # Newton's Cholesky) wake OpenBLAS's threads, which then spin on the cores the Numba kernels
    # need. Measured (2 cores, CSR 200,000 x 2,000 at 1 %): 20 ms per loss_grad inside an L-BFGS
    # fit with OpenBLAS threads spinning, 8.5 ms with BLAS on one thread.
    with threadpool_limits(limits=1, user_api="blas"), numba_threads(options.n_threads):
        import numba

        workers = min(len(problems), numba.get_num_threads())
        if (data.parallel_problems and len(problems) > 1 and workers > 1
                and not options.verbose):
            with ThreadPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(lambda k: solve(k, 1), range(len(problems))))
        return [solve(k) for k in range(len(problems))]


def _warn_unconverged(results, classes, options) -> None:
    from sklearn.exceptions import ConvergenceWarning

    for k, res in enumerate(results):
        if not res.converged:
            label = "" if len(results) == 1 else f" (class {classes[k]} vs rest)"
            warnings.warn(
                f"fastlr.LogisticRegression (solver={options.solver!r}) did not converge{label}: "
                f"{res.message}. Increase max_iter (now {options.max_iter}) or loosen tol "
                f"(now {options.tol}), or scale the data (e.g. with "
                "sklearn.preprocessing.StandardScaler).",
                ConvergenceWarning, stacklevel=4)


def fit(data, options: FitOptions, warm_start: WarmStart | None = None) -> FitResult:
    """Fit scikit-learn's L2 logistic regression on a data backend; see the module docstring."""
    classes = _classes(data)
    _apply_class_weight(data, classes, options.class_weight)
    n_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
    positives = classes[1:] if n_problems == 1 else classes
    l2 = l2_of(options.C, data.weight_sum, options.penalize)
    problems = [lambda label=label: LinearLoss(data, data.target(label), l2=l2,
                                               fit_intercept=options.fit_intercept)
                for label in positives]
    n_features = data.n_features
    x0s = _starting_points(n_problems, n_features, options.fit_intercept, classes, warm_start)
    with _interrupt.deferred_sigint():
        results = _solve_all(data, problems, x0s, options, classes)
    _warn_unconverged(results, classes, options)

    coef = np.empty((n_problems, n_features), dtype=data.dtype)
    intercept = np.zeros(n_problems, dtype=data.dtype)
    for k, res in enumerate(results):
        coef[k] = res.x[:n_features]
        if options.fit_intercept:
            intercept[k] = res.x[n_features]
    return FitResult(
        classes=classes, coef=coef, intercept=intercept,
        n_iter=np.array([max(1, res.n_iter) for res in results], dtype=np.int32),
        loss_history=[np.asarray(res.loss_history, dtype=np.float64) for res in results],
        solver=options.solver)
