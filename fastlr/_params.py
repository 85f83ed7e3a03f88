"""The estimator's parameters checked once, the way scikit-learn checks them: ``FitOptions``.

``check_params`` (``FitOptions.from_params``) turns ``LogisticRegression``'s parameters into
validated options, with scikit-learn's messages and FutureWarnings (code filters on them) and
fastlr's advice; the estimator, the Dask path, ``LogisticRegressionCV`` and ``fastlr.load`` share
it. The fit driver (``fastlr._fit``) takes the result and never looks at raw parameters.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["FitOptions", "L1_SOLVERS", "SOLVER_NAMES", "check_params", "resolve_threads"]


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_one_of(value, choices) -> bool:
    """``value`` is a str among ``choices``: never compares an array (or list) elementwise."""
    return isinstance(value, str) and value in choices


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


#: fastlr's solvers and the scikit-learn names that map to them: "sag" and "saga" (and
#: "liblinear" for an L2 penalty) run L-BFGS on their L2 objective; with an L1 part, "saga" and
#: "liblinear" run the proximal solvers (``_solver_for``); "auto" (the default) is chosen per
#: problem (``_solver_for``)
SOLVER_NAMES = {"auto": "auto", "lbfgs": "lbfgs", "newton": "newton",
                "newton-cholesky": "newton", "newton-cg": "newton-cg", "gd": "gd", "sag": "lbfgs",
                "saga": "lbfgs", "liblinear": "lbfgs"}
#: the scikit-learn solvers that fit an L1 part (scikit-learn's _check_solver)
L1_SOLVERS = ("liblinear", "saga")

@dataclass(frozen=True)
class FitOptions:
    """Validated fit parameters (see ``fastlr.LogisticRegression`` for their meaning)."""

    C: float
    penalize: bool
    fit_intercept: bool
    solver: str  # fastlr's solver: "auto", "lbfgs", "newton", "newton-cg" or "gd"
    max_iter: int
    tol: float
    learning_rate: float
    class_weight: object
    n_threads: int | None
    verbose: int
    multi_class: str = "auto"
    solver_name: str = "lbfgs"  # as the user wrote it ("newton-cholesky", …), for messages
    #: the L1 share of the penalty the fit uses (scikit-learn's: 1 for penalty="l1", 0 for "l2")
    l1_ratio: float = 0.0
    #: liblinear penalises the intercept as the coefficient of a constant feature of this value
    intercept_scaling: float | None = None

    @classmethod
    def from_params(cls, params: dict, warn: bool = True) -> "FitOptions":
        """Check the estimator's parameters the way scikit-learn's ``LogisticRegression`` (1.9)
        does: ``penalty`` deprecated in favour of ``C=np.inf`` and ``l1_ratio``, and mapped as
        scikit-learn maps it (penalty="l1" fits the L1 penalty whatever ``l1_ratio`` says, with
        its warnings); ``TypeError``/``ValueError`` naming the bad one. ``warn``: emit
        scikit-learn's FutureWarnings (``penalty``, ``n_jobs``) and its UserWarnings."""
        solver = params["solver"]
        if not _is_one_of(solver, SOLVER_NAMES):
            raise ValueError(f"solver must be one of {sorted(SOLVER_NAMES)}, got {solver!r}")
        C = params["C"]
        if not _is_real(C):
            raise TypeError(f"C must be a positive real number, got {type(C).__name__}")
        C = float(C)  # Fraction, Decimal, NumPy scalars: one float from here on
        if not C > 0:  # C = inf: no penalty, as in scikit-learn
            raise ValueError(f"C must be > 0 (np.inf for no penalty), got {C!r}")
        l1_ratio = params["l1_ratio"]
        if l1_ratio is not None and not (_is_real(l1_ratio) and 0 <= l1_ratio <= 1):
            raise ValueError(f"l1_ratio must be a number in [0, 1], got {l1_ratio!r}")
        penalty = params["penalty"]
        if _is_one_of(penalty, ("deprecated",)):
            if l1_ratio is None or l1_ratio == 0:
                effective = "l2"
                if l1_ratio is None and warn:
                    warnings.warn("'l1_ratio=None' was deprecated in version 1.8 and will "
                                  "trigger an error in 1.10. Use 0<=l1_ratio<=1 instead.",
                                  FutureWarning, stacklevel=4)
            else:
                effective = "l1" if l1_ratio == 1 else "elasticnet"
            if np.isinf(C):
                effective = None
        else:
            if not (penalty is None or _is_one_of(penalty, ("l1", "l2", "elasticnet"))):
                raise ValueError(f"penalty must be 'l1', 'l2', 'elasticnet' or None (it is "
                                 f"deprecated: leave it and use l1_ratio and C), got "
                                 f"{penalty!r}")
            effective = penalty
            if warn:
                warnings.warn("'penalty' was deprecated in version 1.8 and will be removed in "
                              "1.10. To avoid this warning, leave 'penalty' set to its default "
                              "value and use 'l1_ratio' or 'C' instead. Use l1_ratio=0 instead of "
                              "penalty='l2', l1_ratio=1 instead of penalty='l1', l1_ratio set to "
                              "a float between 0 and 1 instead of penalty='elasticnet', and "
                              "C=np.inf instead of penalty=None.", FutureWarning, stacklevel=4)
        if not isinstance(params["dual"], (bool, np.bool_)):
            raise TypeError(f"dual must be a bool, got {params['dual']!r}")
        _check_solver(solver, effective, bool(params["dual"]))
        if warn and effective != "elasticnet" and l1_ratio is not None and 0 < l1_ratio < 1:
            warnings.warn("l1_ratio parameter is only used when penalty is 'elasticnet'. Got "
                          f"(penalty={effective})", UserWarning, stacklevel=4)
        if warn and ((penalty == "l2" and l1_ratio != 0) or (penalty == "l1" and l1_ratio != 1)):
            warnings.warn(f"Inconsistent values: penalty={penalty} with l1_ratio={l1_ratio}. "
                          "penalty is deprecated. Please use l1_ratio only.", UserWarning,
                          stacklevel=4)
        if effective == "elasticnet" and l1_ratio is None:
            raise ValueError("l1_ratio must be specified when penalty is elasticnet.")
        if penalty is None and warn and C != 1.0:
            warnings.warn("Setting penalty=None will ignore the C and l1_ratio parameters",
                          UserWarning, stacklevel=4)
        penalize = effective is not None and not np.isinf(C)
        share = {"l1": 1.0, "elasticnet": float(l1_ratio or 0.0)}.get(effective, 0.0)
        scaling = params["intercept_scaling"]
        if not (_is_real(scaling) and 0 < float(scaling) < np.inf):
            raise ValueError(f"intercept_scaling must be a finite number > 0, got {scaling!r}")
        random_state = params["random_state"]
        if not (random_state is None or _is_int(random_state)
                or isinstance(random_state, np.random.RandomState)):
            raise ValueError(f"'random_state' must be None, an int or a numpy RandomState, got "
                             f"{random_state!r}")
        n_jobs = params["n_jobs"]
        if n_jobs is not None:
            if not _is_int(n_jobs):
                raise TypeError(f"n_jobs must be None or an int, got {n_jobs!r}")
            if warn:
                warnings.warn("'n_jobs' has no effect (as in scikit-learn since 1.8); fastlr's "
                              "threads are set by n_threads. You provided "
                              f"'n_jobs={n_jobs}', please leave it unspecified.", FutureWarning,
                              stacklevel=4)
        max_iter = params["max_iter"]
        if not _is_int(max_iter):
            raise TypeError(f"max_iter must be an int, got {type(max_iter).__name__}")
        if max_iter < 0:
            raise ValueError(f"max_iter must be >= 0, got {max_iter}")
        tol = params["tol"]
        if not _is_real(tol) or not (tol >= 0 and np.isfinite(tol)):
            raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
        learning_rate = params["learning_rate"]
        if not (_is_real(learning_rate) and 0 < float(learning_rate) < np.inf):
            raise ValueError(f"learning_rate must be a finite number > 0 (the step of "
                             f"solver='gd'), got {learning_rate!r}")
        for name in ("fit_intercept", "warm_start"):
            if not isinstance(params[name], (bool, np.bool_)):
                raise TypeError(f"{name} must be a bool, got {params[name]!r}")
        verbose = params["verbose"]
        if not _is_int(verbose) and not isinstance(verbose, (bool, np.bool_)):
            raise TypeError(f"verbose must be an int, got {verbose!r}")
        class_weight = params["class_weight"]
        if not (class_weight is None or _is_one_of(class_weight, ("balanced",))
                or isinstance(class_weight, dict)):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict of class -> "
                             f"weight, got {class_weight!r}")
        if isinstance(class_weight, dict):
            for label, weight in class_weight.items():
                if not (_is_real(weight) and weight >= 0 and np.isfinite(weight)):
                    raise ValueError(f"class_weight must map classes to finite weights >= 0; "
                                     f"class {label!r} has {weight!r}")
        multi_class = params["multi_class"]
        if not _is_one_of(multi_class, ("auto", "multinomial", "ovr")):
            raise ValueError(f"multi_class must be 'auto', 'multinomial' or 'ovr', got "
                             f"{multi_class!r}")
        return cls(C=C, penalize=penalize, fit_intercept=bool(params["fit_intercept"]),
                   solver=SOLVER_NAMES[solver], max_iter=int(max_iter), tol=float(tol),
                   learning_rate=learning_rate, class_weight=class_weight,
                   n_threads=resolve_threads(params["n_threads"]), verbose=int(verbose),
                   multi_class=multi_class, solver_name=solver,
                   l1_ratio=share if penalize else 0.0,
                   intercept_scaling=float(scaling) if solver == "liblinear" else None)


def _check_solver(solver: str, penalty, dual: bool) -> None:
    """scikit-learn's ``_check_solver``, with its messages (code filters on them) and fastlr's
    advice: only "liblinear" and "saga" take an L1 part, only "saga" the elastic net, only
    "liblinear" dual=True (fastlr then solves the primal problem: the same optimum), and
    "liblinear" needs a penalty. fastlr's "auto" takes every penalty."""
    if solver != "auto" and solver not in L1_SOLVERS and penalty not in ("l2", None):
        raise ValueError(f"Solver {solver} supports only 'l2' or None penalties, got {penalty} "
                         "penalty. fastlr fits L1 and elastic-net penalties under the names "
                         "scikit-learn gives them: solver='saga' (or 'liblinear' for l1_ratio=1).")
    if solver != "liblinear" and dual:
        raise ValueError(f"Solver {solver} supports only dual=False, got dual={dual}")
    if penalty == "elasticnet" and solver not in ("saga", "auto"):
        raise ValueError(f"Only 'saga' solver supports elasticnet penalty, got solver={solver}.")
    if solver == "liblinear" and penalty is None:
        raise ValueError("C=np.inf as well as penalty=None is not supported for the liblinear "
                         "solver")
    if solver == "liblinear" and dual and penalty == "l1":
        # liblinear's own refusal, as scikit-learn raises it
        raise ValueError("Unsupported set of arguments: The combination of penalty='l1' and "
                         "loss='logistic_regression' are not supported when dual=True, "
                         "Parameters: penalty='l1', loss='logistic_regression', dual=True")


def check_params(params: dict, warn: bool = True) -> FitOptions:
    """``FitOptions.from_params``: the estimator's own parameter validation."""
    return FitOptions.from_params(params, warn=warn)
