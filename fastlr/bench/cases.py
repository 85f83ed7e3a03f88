"""Real-data fit cases of ``fastlr bench --fit-real``: scikit-learn's bundled datasets as loaded.

Not standardised, as a new user first fits them: column scales from 1e-3 to 1e3
(breast_cancer), 0.1 to 1,000 (wine), 0 to 16 with constant pixels (digits). On them
scikit-learn's default (lbfgs, max_iter = 100) stops with a ConvergenceWarning; lbfgs needs
4,640 / 8,939 / 6,800 iterations to reach the optimum, Newton 8-9 (issue 17). Each case runs the
equal-optimum protocol of :mod:`fastlr.bench.fit` with C = 1: fastlr's default
``LogisticRegression()`` ("fastlr auto (default)") and its other solvers against scikit-learn's.

The cases load from the files scikit-learn ships (no download). ``--fit-real`` alone runs the
quick ones (:data:`QUICK_REAL`: breast_cancer and wine); digits is opt-in (``--fit-real
digits`` or ``all``): its lbfgs ladders take ~3,800 iterations a fit, and the three cases took
2 min 45 s at 1 thread, load 6-7 (previously reported: 11-24 s for one fit of scikit-learn's
newton-cholesky there with unlimited BLAS threads on a loaded machine; 0.57 s at 1 thread).

Below each table, the two libraries' defaults as a user calls them — ``LogisticRegression()``,
no argument — timed the same way (median of interleaved fits), with their iterations, their gap
to f* and whether they warned that they did not converge (:func:`default_fits`).
"""

from __future__ import annotations

__all__ = ["QUICK_REAL", "REAL_CASES", "default_fits", "format_defaults", "load_real",
           "real_fit_comparison"]

#: name -> (description, C)
REAL_CASES = {
    "breast_cancer": ("breast_cancer as loaded (569 x 30, binary, unscaled)", 1.0),
    "wine": ("wine as loaded (178 x 13, 3 classes, unscaled)", 1.0),
    "digits": ("digits as loaded (1,797 x 64, 10 classes, unscaled)", 1.0),
}
#: what ``--fit-real`` without a value runs
QUICK_REAL = ("breast_cancer", "wine")


def load_real(name: str):
    """(X, y) of a case, as scikit-learn loads it."""
    from sklearn import datasets

    return getattr(datasets, f"load_{name}")(return_X_y=True)


def real_fit_comparison(names, *, repeat: int = 3, threads: int | None = None, ladder=None,
                        budget: float | None = None, memory: bool = True,
                        progress=lambda msg: None, seed: int = 0) -> list[dict]:
    """:func:`~fastlr.bench.fit.equal_optimum` on each named case; each result carries its
    ``dataset`` name and ``description``."""
    from .fit import LADDER, equal_optimum

    out = []
    for name in names:
        description, C = REAL_CASES[name]
        X, y = load_real(name)
        case = equal_optimum(X, y, C, threads=threads, repeat=repeat, ladder=ladder or LADDER,
                             memory=memory, budget=budget, seed=seed,
                             warmup_rows=min(2000, X.shape[0]),
                             progress=lambda msg, name=name: progress(f"{name} {msg}"))
        case.update(dataset=name, description=description)
        if case["best_objective"] is not None:
            case["defaults"] = default_fits(X, y, C, case["best_objective"], repeat=repeat,
                                            threads=threads, seed=seed)
        out.append(case)
    return out


def _default_fit(make, X, y):
    """(fitted model, whether it warned that it did not converge)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = make().fit(X, y)
    return model, any("converge" in str(w.message).lower() for w in caught)


def default_fits(X, y, C: float, best: float, *, repeat: int = 3, threads: int | None = None,
                 seed: int = 0) -> list[dict]:
    """fastlr's and scikit-learn's ``LogisticRegression(C=C)`` with every other argument at its
    default: time (median of ``repeat`` interleaved fits), n_iter, relative gap to ``best`` and
    whether a ConvergenceWarning was raised. A library that is not installed is left out."""
    from .fit import _limits, _n_iter, objective
    from .timing import Contender, time_interleaved

    makers = []
    from ..estimator import LogisticRegression as Fast

    makers.append(("fastlr LogisticRegression()", "fastlr",
                   lambda: Fast(C=C) if threads is None else Fast(C=C, n_threads=threads)))
    try:
        from sklearn.linear_model import LogisticRegression as Sk
    except ImportError:
        pass
    else:
        makers.append(("sklearn LogisticRegression()", "sklearn", lambda: Sk(C=C)))
    rows = []
    with _limits(threads):
        for label, library, make in makers:
            model, warned = _default_fit(make, X, y)  # also the warm-up of the timings
            f = objective(model, X, y, C)
            rows.append({"model": label, "library": library, "n_iter": _n_iter(model),
                         "objective_gap": (f - best) / abs(best) if best else f - best,
                         "converged": not warned,
                         "solver": getattr(model, "solver_", getattr(model, "solver", None))})
        timings = time_interleaved(
            [Contender(label, lambda make=make: _default_fit(make, X, y))
             for label, _, make in makers], repeat, calls_per_sample=1, seed=seed)
    for row, t in zip(rows, timings):
        row.update(seconds=t.median_s, spread=t.spread)
    return rows


def format_defaults(case: dict) -> list[str]:
    """The lines under a real-data table: each library's default fit."""
    from .report import fmt_spread, fmt_time

    rows = case.get("defaults") or []
    if not rows:
        return []
    out = ["  defaults, as called (LogisticRegression(), tol 1e-4, max_iter 100):"]
    sk = next((r for r in rows if r["library"] == "sklearn"), None)
    for r in rows:
        ratio = ("" if sk is None or r is sk
                 else f"  {sk['seconds'] / r['seconds']:.2f}x sklearn's default")
        status = "converged" if r["converged"] else "ConvergenceWarning"
        solver = f" [{r['solver']}]" if r.get("solver") else ""
        out.append(f"    {r['model'] + solver:<42}{fmt_time(r['seconds']):>10}"
                   f"{fmt_spread(r['spread']):>8}  n_iter {r['n_iter']}, gap to f* "
                   f"{r['objective_gap']:.1e}, {status}{ratio}")
    return out
