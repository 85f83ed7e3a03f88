"""The fit driver: one sequence of steps for every data backend (in memory or on Dask).

``fit(data, options, warm_start)`` does what scikit-learn's ``LogisticRegression.fit`` does after
validating X, the same way whatever holds the data:

1. the classes: distinct labels, checked to be classification targets, at least two;
2. the weights: ``class_weight`` folded into the sample weights; at least two classes must keep
   a positive total weight;
3. the problems and their one objective (``fastlr._objective.Objective``) over the backend,
   with the penalty strength 1/(C·Σ sᵢ): one binary problem (two classes), one multinomial
   problem (three or more classes), or, with ``multi_class="ovr"``, one binary problem per
   class, batched so that one pass over X serves them all;
4. the starting points: zeros, or the previous fit's coefficients (``warm_start``);
5. the solve: one solver per problem, in lockstep (``fastlr._solvers.solve``);
6. the outcome: a ``ConvergenceWarning`` per problem that did not converge, and a
   :class:`FitResult` that the estimator turns into its fitted attributes.

The backend (``fastlr._data.ArrayData``, ``fastlr.distributed.DaskData``) is all that differs;
see ``fastlr._data`` for what it provides. The parameters arrive checked (``fastlr._params``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import _interrupt, _solvers
# the checked options, and the checks LogisticRegressionCV shares, as the driver's API
from ._params import FitOptions, check_params  # noqa: F401
from ._jit import numba_threads
from ._objective import Datafit, Objective
from ._data import ArrayData
from ._penalties import from_sklearn
from ._solvers.driver import step_threads

__all__ = ["FitOptions", "FitResult", "WarmStart", "check_params", "fit"]

# Threads: every pass picks its own thread count from its work (fastlr._jit.threads_for), within
# ``n_threads``. One-vs-rest is one batch of K problems, so each round is one pass over X for all
# classes on the kernels' threads; the old one problem per Python thread read X K times per
# iteration. 200,000 x 50, 10 classes, 2 threads, tol 1e-8, commit b39807a against this one in
# interleaved fresh processes (2026-12-04): idle cores lbfgs 0.50 -> 0.22 s (2.3x), newton-cg
# 0.89 -> 0.48 s (1.9x); load 4-6 1.94 -> 0.81 s / 3.60 -> 1.76 s; same n_iter, coefficients
# equal to 8.9e-16. The batched pass does the same multiply-adds as the ten binary ones (K
# margins and K scatters per row: ~16 G multiply-adds a second on the 2 cores, lbfgs), so
# reading X once bounds the gain by how much of each binary pass was the read.


#: Newton's Cholesky step needs the (P × P) Hessian, P = the number of parameters, built in one
#: pass at O(n_samples·P²) and held once per task. Above this P, solver="newton" takes its
#: direction by conjugate gradients on Hessian-vector products instead (Newton-CG: O(nnz·K) per
#: product, nothing of size P²), for every model and backend.
NEWTON_CHOLESKY_MAX_PARAMS = 1000

#: solver="auto" runs Newton-Cholesky from the start while one Hessian pass is this small
#: (n_samples · P² multiply-adds): a few milliseconds, less than the per-call overhead of the
#: L-BFGS iterations or CG's H·v passes it replaces (breast_cancer as loaded, 569 x 31: newton
#: 14.5 ms, lbfgs then newton-cg 23 ms, scikit-learn's newton-cholesky 20 ms; fit_vs_sklearn.py
#: --cases breast_cancer). Above it, L-BFGS then Newton-CG (100,000 x 51, columns 1e-3..1e3:
#: newton-cg 0.77 s against newton 1.22 s).
AUTO_CHOLESKY_MAX_WORK = 2e7

#: the solver of multinomial L1 / elastic-net fits on dense X in memory, chosen by measurement:
#: OWL-QN (``_solvers.owlqn``: L-BFGS on the smooth part, steps kept in an orthant), then FISTA,
#: then proximal Newton on the full softmax Hessian (``prox-newton-kron``). Measured
#: (benchmarks/fit_vs_sklearn.py's make_multinomial 100,000 x 100, 10 classes, no intercept,
#: float64, 1 thread, each at the loosest tol whose objective is within 1e-6 of the best):
#: 0.1 lambda_max OWL-QN 0.36 s (tol 1e-5, 18 iterations) vs FISTA 0.99 s (1e-5, 22); 0.01
#: lambda_max OWL-QN 0.63 s (1e-4, 26) vs FISTA 1.55 s (1e-5, 34) — FISTA pays two passes an
#: iteration (the extrapolated point and the step), OWL-QN about one. Earlier, at 30,000 x 100:
#: FISTA 0.48 / 0.89 s vs kron 0.93 / 1.23 s at 0.1 / 0.01 lambda_max; with AR(1) correlated
#: columns (rho 0.9) FISTA 4.9 / 10.6 s vs kron 5.6 / 8.7 s. Kron's CD epochs read n·K values
#: per feature visit (memory-bound, ~40 ms per epoch at 100 features) where the first-order
#: solvers' passes are BLAS-bound; the class-by-class solver is slower still on dense X
#: (10.4 / 30.2 s at tol 1e-6: 25 / 70 sweeps, the classes' coupling).
DENSE_MULTINOMIAL_L1 = "owlqn"

#: parameters (over all problems of a fit) from which the fit holds BLAS on one thread even for a
#: small X: NumPy's BLAS-1 calls on vectors this long start OpenBLAS's threads (see _solve_all)
WIDE_PARAMS = 10_000


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
    coef: np.ndarray  # (1 or n_classes, n_features), X's working dtype
    intercept: np.ndarray  # (1 or n_classes,)
    n_iter: np.ndarray  # (n_problems,) int32
    loss_history: list = field(default_factory=list)  # one float64 array per problem
    solver: str = "lbfgs"
    kind: str = "binary"  # "binary", "ovr" or "multinomial"


def _classes(data) -> np.ndarray:
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _assert_all_finite

    classes = data.labels()
    # The distinct labels decide the target type exactly as all of y would (NaN, continuous).
    if classes.dtype.kind in "fc":
        _assert_all_finite(classes, input_name="y")
    if classes.ndim != 1 or classes.dtype.kind not in "biuU":
        # 1-D booleans, integers and str labels are always "binary" or "multiclass" to
        # type_of_target, which costs ~100 us whatever the size (5 % of breast_cancer's fit)
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


@dataclass
class _Problem:
    """One problem of a fit: its name in messages, how to build its objective, where to start."""

    name: str  # "" (binary), "class 3 vs rest", "multinomial"
    x0: np.ndarray
    solver: str = "lbfgs"
    callback: object = None  # the solver's per-iteration hook (fastlr._callbacks), if any
    history: object = None  # L-BFGS pairs to start from (``_solvers.lbfgs.lbfgs``), if any


def _solver_for(options, n_params: int, data, proximal: str | None = None) -> str:
    """The solver a problem runs: ``options.solver``, with Newton's step chosen by size (see
    ``NEWTON_CHOLESKY_MAX_PARAMS``) where Hessian-vector products exist; ``proximal`` (the
    L1 solver of the problem, ``_l1_solver``) where the penalty has an L1 part; for "auto",
    Newton-CG on sparse X (text-like columns span orders of magnitude: lbfgs stops at max_iter
    there, benchmarks/fit_vs_sklearn.py --cases text), Newton-Cholesky on small dense problems
    (``AUTO_CHOLESKY_MAX_WORK``), else L-BFGS with the switch to Newton-CG
    (``_solvers.hybrid``)."""
    if proximal:
        return proximal
    solver = options.solver
    hessp = "hessp" in data.capabilities
    if solver == "auto":
        if not hessp:
            return "lbfgs"
        if getattr(data, "is_sparse", False):
            return "newton-cg"
        if ("hessian" in data.capabilities and n_params <= NEWTON_CHOLESKY_MAX_PARAMS
                and data.n_samples * n_params ** 2 <= AUTO_CHOLESKY_MAX_WORK):
            return "newton"
        return "lbfgs+newton-cg"
    if not hessp:
        return "newton" if solver == "newton-cg" else solver
    if solver == "newton" and n_params > NEWTON_CHOLESKY_MAX_PARAMS:
        return "newton-cg"
    return solver


def _l1_solver(data, K, options) -> str:
    """The solver of an L1 or elastic-net problem: working-set proximal Newton for problems
    held in memory (its CD works on X's columns) — binary and one-vs-rest ``prox-newton``,
    multinomial on CSR ``prox-newton-softmax`` (class by class; dense X:
    ``DENSE_MULTINOMIAL_L1``, OWL-QN) — and OWL-QN, which needs only the fused loss and
    gradient, on Dask. OWL-QN against FISTA, forced in memory (no intercept, tol 1e-5, 1 thread):
    binary dense 100,000 × 200 (20 true nonzeros) 0.18 / 0.24 s vs 0.35 / 0.73 s at 0.1 / 0.01
    λ_max (prox-newton 0.22 / 0.24 s); text-like CSR 30,000 × 100,000 0.23 / 0.31 s vs
    0.29 / 1.38 s (prox-newton 0.03 s at 0.1); multinomial text CSR 20,000 × 20,000, 10
    classes, tol 1e-6: 0.20 s vs 0.50 s at 0.1 λ_max (prox-newton-softmax 0.12 s).

    Measured (tol 1e-6, no intercept, 1 thread, median of 3, shared 2-core machine): dense
    30,000 × 200 with 20 true nonzeros, 0.1 / 0.01 λ_max: prox-newton 0.24 / 0.30 s, FISTA
    0.37 / 0.92 s; text-like CSR 30,000 × 100,000: prox-newton 0.21 / 0.34 s, FISTA
    4.4 / 23.6 s. FISTA's multinomial step size: its L shrinks by 0.7 before each step (0.5:
    1.6x slower, 0.9: 1.2x, 1.0: 3.5x; multinomial 30,000 × 100, 10 classes). Multinomial text
    CSR 20,000 × 20,000, 10 classes (tol 1e-6): prox-newton-softmax 0.32 / 0.54 s, FISTA
    1.00 / 1.68 s, scikit-learn saga 0.48 / 1.99 s (tol 1e-3)."""
    multinomial = K > 2 and options.multi_class in ("auto", "multinomial")
    if not isinstance(data, ArrayData):
        return "owlqn"
    if multinomial:
        return "prox-newton-softmax" if data.is_sparse else DENSE_MULTINOMIAL_L1
    return "prox-newton"


def _logistic_problem(data, objective, k):
    """Problem k of a binary or one-vs-rest objective as ``prox_newton.LogisticProblem``."""
    from ._solvers.prox_newton import LogisticProblem

    fit = objective.datafit
    s = data.sample_weight
    if fit.kind == "batched":
        y = np.asarray(fit.labels[k], dtype=np.float64)[fit.target]
        factors = np.asarray(fit.factors[k], dtype=np.float64)[fit.target]
        if not np.all(factors == 1.0):
            s = factors if s is None else s * factors
    else:
        y = np.asarray(fit.target, dtype=np.float64)
    alpha = float(objective.prox_penalty.strength[k])
    smooth = objective.smooth_penalty
    lam = 0.0 if smooth is None else float(smooth.strength[k])
    alpha_b = lam_b = 0.0
    if objective.intercept_penalty is not None:
        scale = objective.intercept_penalty
        alpha_b, lam_b = alpha / scale, lam / scale**2
    return LogisticProblem(X=data.X, y=y, s=np.empty(0) if s is None else np.asarray(s, float),
                           S=float(objective.weight_sums[k]), alpha=alpha, lam=lam,
                           fit_intercept=objective.fit_intercept, alpha_b=alpha_b, lam_b=lam_b,
                           own_gradient=objective.n_problems == 1 and data.is_sparse)


def _softmax_problem(data, objective):
    """The multinomial objective's one problem as ``prox_newton_softmax.SoftmaxProblem``."""
    from ._solvers.prox_newton_softmax import SoftmaxProblem

    s = data.sample_weight
    smooth = objective.smooth_penalty
    return SoftmaxProblem(X=data.X, y=np.asarray(objective.datafit.target, dtype=np.int64),
                          s=np.empty(0) if s is None else np.asarray(s, float),
                          S=float(objective.weight_sums[0]), K=objective.n_classes,
                          alpha=float(objective.prox_penalty.strength[0]),
                          lam=0.0 if smooth is None else float(smooth.strength[0]),
                          fit_intercept=objective.fit_intercept)


def _data_problem(data, objective, k, solver):
    """What a ``_solvers.DATA_SOLVERS`` solver works on, None for the others."""
    if solver == "prox-newton":
        return _logistic_problem(data, objective, k)
    if solver in _solvers.DATA_SOLVERS:
        return _softmax_problem(data, objective)
    return None


def _problems(data, classes, options, warm):
    """The problems of a fit and the one objective over them: one binary problem, one
    multinomial problem (three or more classes by default), or — ``multi_class="ovr"`` — one
    binary problem per class, batched: a single pass over X evaluates every class's problem
    (the batched logistic datafit, the class index as each sample's group)."""
    K, n = classes.shape[0], data.n_features
    fit_intercept = options.fit_intercept
    warm_ok = warm is not None  # its shape checked by _check_warm_start, as scikit-learn does
    proximal = _l1_solver(data, K, options) if options.l1_ratio > 0 else None
    if K > 2 and options.solver_name == "liblinear" and options.multi_class != "ovr":
        raise ValueError("The 'liblinear' solver does not support multiclass classification "
                         "(n_classes >= 3). Either use another solver or wrap the estimator in a "
                         "OneVsRestClassifier to keep applying a one-versus-rest scheme (or, "
                         "with fastlr, set multi_class='ovr').")

    if K > 2 and options.multi_class in ("auto", "multinomial"):
        x0 = np.zeros(K * n + (K if fit_intercept else 0))
        if warm_ok:
            x0[:K * n] = np.ravel(warm.coef)
            if fit_intercept:
                x0[K * n:] = warm.intercept
        objective = Objective(data, Datafit("softmax", data.class_target(classes)),
                              from_sklearn(options.C, data.weight_sum, options.l1_ratio,
                                           penalize=options.penalize),
                              model="multinomial", n_classes=K, fit_intercept=fit_intercept)
        return "multinomial", objective, [
            _Problem("multinomial", x0, _solver_for(options, x0.shape[0], data, proximal))]

    positives = classes[1:] if K == 2 else classes
    problems = []
    for k, label in enumerate(positives):
        x0 = np.zeros(n + int(fit_intercept))
        if warm_ok:
            x0[:n] = warm.coef[k]
            if fit_intercept:
                x0[n] = warm.intercept[k]
        problems.append(_Problem("" if K == 2 else f"class {label!r} vs rest", x0,
                                 _solver_for(options, x0.shape[0], data, proximal)))
    if K == 2:
        datafit, model = Datafit("logistic", data.target(classes[1])), "binary"
    else:
        datafit = Datafit("batched", data.class_target(classes), labels=np.eye(K),
                          factors=np.ones((K, K)))
        model = "batch"
    penalty = from_sklearn(np.full(len(problems), options.C), data.weight_sum, options.l1_ratio,
                           penalize=options.penalize)
    objective = Objective(data, datafit, penalty, model=model, fit_intercept=fit_intercept,
                          intercept_penalty=options.intercept_scaling)
    return ("binary" if K == 2 else "ovr"), objective, problems


def _check_warm_start(warm, classes, n_features, fit_intercept) -> None:
    """scikit-learn's check of a warm start, with its message: the previous coef_ (with the
    intercept column when fitting one) must have the shape this fit needs, (1, n_features [+ 1])
    for two classes, (n_classes, n_features [+ 1]) for more. A changed n_features or number of
    classes raises (fastlr silently started from zero); changed labels of the same count start
    from the previous coefficients, row by row, as in scikit-learn."""
    if warm is None:
        return
    K = classes.shape[0]
    rows, columns = warm.coef.shape[0], warm.coef.shape[1] + int(fit_intercept)
    width = n_features + int(fit_intercept)
    if K == 2 and (rows, columns) != (1, width):
        expected = f"{(width,)} or (1, {width})"
    elif K > 2 and (rows, columns) != (K, width):
        expected = f"{(K, width)}"
    else:
        return
    raise ValueError(f"Initialization coef is of shape {(rows, columns)}, expected shape "
                     f"{expected} (warm_start=True starts from the previous fit's coef_, "
                     "which does not fit this data: set warm_start=False to start afresh)")


def make_solvers(data, objective, problems, options):
    """One solver generator per problem: the proximal solvers get problem k's non-smooth part
    (``Objective.proximal(k)``) and, for the solvers on data in memory, its rows, labels and
    weights (``_data_problem``)."""
    return [_solvers.make_solver(problem.solver, problem.x0,
                                 capabilities=objective.capabilities, tol=options.tol,
                                 max_iter=options.max_iter, learning_rate=options.learning_rate,
                                 proximal=(objective.proximal(k)
                                           if problem.solver in _solvers.PROXIMAL_SOLVERS
                                           else None),
                                 problem=_data_problem(data, objective, k, problem.solver),
                                 history=problem.history)
            for k, problem in enumerate(problems)]


def _solve_all(data, objective, problems, options):
    """Every problem's ``SolverResult``: one solver per problem, run in lockstep over the one
    objective (``fastlr._solvers.solve``), so each round is one pass over X for all of them."""
    from contextlib import nullcontext

    from ._jit import PARALLEL_MIN_BYTES

    solvers = make_solvers(data, objective, problems, options)
    hooks = [problem.callback for problem in problems]

    def callback(i, iteration, x, f, g):
        if hooks[i] is not None:
            hooks[i](iteration, x, f, g)

    # BLAS on one thread while fitting with parallel kernels: the solvers' small BLAS calls
    # (Newton's Cholesky, NumPy's dot products) wake OpenBLAS's threads, which then spin on the
    # cores the Numba kernels need. Measured (2 cores, CSR 200,000 x 2,000 at 1 %): 20 ms per
    # loss_grad inside an L-BFGS fit with OpenBLAS threads spinning, 8.5 ms with BLAS on one
    # thread. Wide problems need it whatever the size of X: the penalty's and the solvers' dot
    # products over long parameter vectors are where OpenBLAS threads (text CSR 30,000 x 100,000,
    # 15 MB, C = 10, 2 threads: lbfgs 4.5 -> 1.9 s, newton-cg 2.3 -> 0.8 s with the limit). Small,
    # narrow fits skip it (threadpoolctl's first call scans the loaded libraries: tens of
    # milliseconds of a fresh process's first fit).
    limits = nullcontext()
    if (getattr(data, "nbytes", PARALLEL_MIN_BYTES) >= PARALLEL_MIN_BYTES
            or objective.n_params * objective.n_problems >= WIDE_PARAMS):
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=1, user_api="blas")
    with limits, numba_threads(options.n_threads):
        threads = step_threads([problem.solver for problem in problems], objective.n_params,
                               objective.n_problems)
        return _solvers.solve(objective, solvers, verbose=options.verbose,
                              callback=callback if any(h is not None for h in hooks) else None,
                              threads=threads)


def _n_iter(res, options) -> int:
    """Iterations as ``n_iter_`` reports them — and the convergence warning says them: at most
    max_iter (scipy's L-BFGS-B counts one at maxiter=0, scikit-learn clips it), at least 1."""
    return min(options.max_iter, max(1, res.n_iter))


def _convergence_message(problem, res, options) -> str:
    """scikit-learn's wording for its solver (code filters on "lbfgs failed to converge", …),
    then fastlr's problem, reason and advice."""
    solver = problem.solver
    n_iter = _n_iter(res, options)
    if solver == "lbfgs+newton-cg":  # solver="auto": the message of the solver that ran last
        solver = "newton-cg" if "L-BFGS iterations" in res.message else "lbfgs"
    if options.solver_name == "liblinear":
        head = "Liblinear failed to converge, increase the number of iterations"
    elif options.solver_name in ("sag", "saga"):
        head = "The max_iter was reached which means the coef_ did not converge"
    elif solver == "lbfgs":
        head = f"lbfgs failed to converge after {n_iter} iteration(s)"
    elif solver == "newton-cg":
        f = res.loss_history[-1] if res.loss_history else float("nan")
        head = (f"newton-cg failed to converge at loss = {f}. Increase the number of "
                "iterations")
    elif solver == "newton":
        head = f"Newton solver did not converge after {n_iter} iterations"
    elif solver in _solvers.PROXIMAL_SOLVERS:
        head = f"{solver} did not converge after {n_iter} iterations"
    else:
        head = f"gd (gradient descent) did not converge after {n_iter} iterations"
    where = f" ({problem.name})" if problem.name else ""
    return (f"{head}{where}: {res.message}. Increase the number of iterations to improve the "
            f"convergence (max_iter={options.max_iter}) or loosen tol (now {options.tol}); you "
            "might also want to scale the data (e.g. with sklearn.preprocessing.StandardScaler). "
            f"[fastlr.LogisticRegression, solver={options.solver_name!r}]")


def _warn_unconverged(results, problems, options) -> None:
    from sklearn.exceptions import ConvergenceWarning

    for problem, res in zip(problems, results):
        if not res.converged:
            warnings.warn(_convergence_message(problem, res, options), ConvergenceWarning,
                          stacklevel=4)


def _in_working_dtype(coef, intercept, dtype):
    """The solution (float64) in X's working dtype, as scikit-learn keeps float32 models
    float32 — unless that cast overflows: then both stay float64, with a warning.

    Only fits without a finite optimum get there (separable data, C = inf, X near float32's
    smallest normal: Newton's coefficients grew past 3.4e38). scikit-learn would cast to inf, and
    the model would predict NaN and could not be saved; raising would throw away a model that is
    finite and predicts (in float64, the wider dtype) as well as the float64 fit does."""
    if dtype == np.float64:
        return coef, intercept
    with np.errstate(over="ignore"):
        cast = coef.astype(dtype), intercept.astype(dtype)
    if np.all(np.isfinite(cast[0])) and np.all(np.isfinite(cast[1])):
        return cast
    largest = float(max(np.max(np.abs(coef)), np.max(np.abs(intercept))))
    warnings.warn(f"the fitted coefficients (largest |value| {largest:.3g}) exceed {dtype}'s "
                  "range, so coef_ and intercept_ are kept in float64 (predictions then are "
                  "float64 too). Such coefficients mean that the data are separable without a "
                  "penalty: a finite C, or X scaled to order 1, gives a smaller model.",
                  UserWarning, stacklevel=4)
    return coef, intercept



def _coefficients(kind, xs, K, n, options):
    """``(coef, intercept)`` in float64 from the problems' solutions ``xs``."""
    if kind == "multinomial":
        x = xs[0]
        coef = x[:K * n].reshape(K, n).copy()
        intercept = x[K * n:].copy() if options.fit_intercept else np.zeros(K)
        # the softmax is unchanged by a common shift across classes: report the centred
        # representative (scikit-learn's lbfgs, started at 0, stays on it)
        intercept -= intercept.mean()
        if not options.penalize:
            coef -= coef.mean(axis=0)
        return coef, intercept
    coef = np.array([x[:n] for x in xs])
    intercept = np.array([x[n] if options.fit_intercept else 0.0 for x in xs])
    return coef, intercept


def fit(data, options: FitOptions, warm_start: WarmStart | None = None,
        reporter=None) -> FitResult:
    """Fit scikit-learn's L2 logistic regression on a data backend; see the module docstring.
    ``reporter``: a ``fastlr._callbacks.FitReporter`` (scikit-learn's callbacks), or None."""
    classes = _classes(data)
    _apply_class_weight(data, classes, options.class_weight)
    _check_warm_start(warm_start, classes, data.n_features, options.fit_intercept)
    kind, objective, problems = _problems(data, classes, options, warm_start)
    K, n = classes.shape[0], data.n_features
    if reporter is not None:
        def attributes(x):  # the fitted attributes of a model whose single problem is at x
            coef, intercept = _coefficients(kind, [x], K, n, options)
            with np.errstate(over="ignore"):  # mid-fit: no warning per iteration
                coef, intercept = coef.astype(data.dtype), intercept.astype(data.dtype)
            return {"coef_": coef, "intercept_": intercept, "classes_": classes,
                    "multi_class_": kind}
        reporter.begin(problems, options.max_iter, attributes)
    with _interrupt.deferred_sigint():
        results = _solve_all(data, objective, problems, options)
    if reporter is not None:
        reporter.end_solves()
    _warn_unconverged(results, problems, options)

    coef, intercept = _coefficients(kind, [res.x for res in results], K, n, options)
    coef, intercept = _in_working_dtype(coef, intercept, data.dtype)
    return FitResult(
        classes=classes, coef=coef, intercept=intercept,
        n_iter=np.array([_n_iter(res, options) for res in results], dtype=np.int32),
        loss_history=[np.asarray(res.loss_history, dtype=np.float64) for res in results],
        solver=problems[0].solver, kind=kind)
