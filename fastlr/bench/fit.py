"""The fit comparison, at equal optimum: one protocol for ``fastlr bench`` and
``benchmarks/fit_vs_sklearn.py``.

The protocol (:func:`equal_optimum`), on one problem (X, y, C):

1. **Warm-up**: every contender fits the first ``warmup_rows`` rows once (Numba compiles there;
   its cost is in ``benchmarks/real_use.py`` and asv's ``FirstFit``, not here).
2. **The best objective f***: the quasi-Newton and Newton contenders (lbfgs, newton,
   newton-cholesky, newton-cg of fastlr and scikit-learn: ``sets_optimum``) fit at the tightest
   tolerance of the ladder (:data:`LADDER`, 1e-2, 1e-3, …, 1e-10); f* is the lowest objective any
   of them reaches. The first-order and coordinate solvers (liblinear, saga) and glum only climb
   the ladder (at 1e-10 they can take minutes, and they converge to the same optimum). The
   objective is scikit-learn's, F = C·Σ Lᵢ + ½‖W‖² (binary: Lᵢ = log(1 + e^{zᵢ}) − yᵢ·zᵢ;
   multinomial: Lᵢ = logsumexp(zᵢ) − z_{i,yᵢ}), computed here with NumPy from each model's
   ``coef_`` and ``intercept_`` (:func:`objective`), the same for every library.
3. **The tolerance**: each contender is timed at the **loosest** tolerance of the ladder whose fit
   lands within ``gap`` (:data:`GAP`, 1e-6, relative) of f*: every library does just enough to
   reach the same optimum; none is handicapped by a needlessly tight stopping rule, or helped by a
   loose one. A contender that never gets there is reported as such, with its closest gap. With a
   ``budget`` (seconds), a contender one of whose fits takes longer stops there ("over budget",
   with that fit's time, and not timed): on 2 cores with other work running, one fit of
   scikit-learn's multinomial newton-cholesky on 200,000 x 50 with 10 classes took ~400 s (13 s
   on the same cores when they were quieter).
4. **The time**: the median of ``repeat`` fits at that tolerance, taken in rounds of one fit per
   contender in a shuffled order (:func:`~fastlr.bench.timing.time_interleaved`), so load hits
   every contender alike; a spread above 25 % flags the row noisy (:mod:`~fastlr.bench.flags`).
5. **Peak memory** (optional): the peak of memory allocated during one more fit (tracemalloc,
   which sees NumPy's and Numba's allocations; X itself is not counted).

Threads: fastlr's Numba threads (``n_threads``) and BLAS and OpenMP (threadpoolctl, when
installed) are limited to the same count for every contender.

Contenders (:func:`contenders`): fastlr lbfgs, newton (up to :data:`NEWTON_PARAMS` parameters)
and newton-cg (binary); scikit-learn lbfgs, newton-cholesky (same limit), newton-cg, liblinear
(binary) and saga (CSR); glum's ``GeneralizedLinearRegressor`` with the same objective (binary,
when glum is installed; skipped otherwise). ``gd`` is not a contender: at its default learning
rate it does not reach f* within any sensible ``max_iter``.

The table (:func:`format_fit_table`) states the protocol in its header. scikit-learn, glum and
threadpoolctl are imported only when the protocol runs.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .flags import noise_flags
from .timing import Contender, have_threadpoolctl, time_interleaved

__all__ = ["GAP", "LADDER", "NEWTON_PARAMS", "FitContender", "contenders", "equal_optimum",
           "fit_comparison", "format_fit_table", "l1_contenders", "objective", "protocol_text"]

#: the tolerances tried, loosest first
LADDER = tuple(10.0 ** -k for k in range(2, 11))
#: how close (relative) to f* a fit must land to count as "at the optimum"
GAP = 1e-6
#: Newton's methods that form the Hessian (fastlr newton, scikit-learn newton-cholesky) run up to
#: this many parameters; fastlr's newton switches to newton-cg above it anyway
NEWTON_PARAMS = 1000


def objective(model, X, y, C: float, l1_ratio: float = 0.0) -> float:
    """scikit-learn's F = C·Σ Lᵢ + ½‖W‖² of a fitted binary or multinomial model, in NumPy;
    with ``l1_ratio`` ρ the elastic net's C·Σ Lᵢ + ρ‖W‖₁ + ½(1 − ρ)‖W‖².

    The intercept is not penalised. ``X`` may be dense or scipy.sparse; the margins are formed in
    float64 whatever X's dtype.
    """
    W = np.asarray(model.coef_, dtype=np.float64)
    W = W.reshape(1, -1) if W.ndim == 1 else W
    b = np.asarray(model.intercept_, dtype=np.float64).ravel()
    Z = np.asarray(X @ W.T, dtype=np.float64) + b
    y = np.asarray(y)
    classes = np.asarray(model.classes_)
    if Z.shape[1] == 1:
        z = Z[:, 0]
        t = (y == classes[1]).astype(np.float64)
        loss = np.logaddexp(0.0, z) - t * z
    else:
        M = Z.max(axis=1)
        lse = M + np.log(np.sum(np.exp(Z - M[:, None]), axis=1))
        loss = lse - Z[np.arange(Z.shape[0]), np.searchsorted(classes, y)]
    if l1_ratio:
        return (C * float(np.sum(loss)) + l1_ratio * float(np.sum(np.abs(W)))
                + 0.5 * (1.0 - l1_ratio) * float(np.sum(W * W)))
    return C * float(np.sum(loss)) + 0.5 * float(np.sum(W * W))


def l1_contenders(X, y, C: float, l1_ratio: float, threads: int | None = None,
                  notes=None) -> list:
    """The contenders of an L1 or elastic-net problem, all without an intercept (liblinear would
    penalise it: without one every library fits the same objective C·Σ Lᵢ + ρ‖w‖₁ +
    ½(1 − ρ)‖w‖²): fastlr (solver="saga": working-set proximal Newton for binary and
    multinomial CSR, OWL-QN for the dense multinomial model; it sets f*), scikit-learn saga
    and liblinear (binary L1), and — when installed, skipped with a note otherwise — skglm's
    ProxNewton, celer and glum's irls-cd (binary)."""
    notes = [] if notes is None else notes
    binary = np.unique(np.asarray(y)).shape[0] == 2
    out = []
    from ..estimator import LogisticRegression as Fast

    out.append(FitContender("fastlr saga", "fastlr", lambda tol: Fast(
        C=C, l1_ratio=l1_ratio, solver="saga", tol=tol, max_iter=10000, fit_intercept=False,
        n_threads=threads)))
    try:
        from sklearn.linear_model import LogisticRegression as Sk
    except ImportError:
        notes.append("scikit-learn is not installed: no yardstick (pip install scikit-learn)")
    else:
        out.append(FitContender("sklearn saga", "sklearn", lambda tol: Sk(
            C=C, l1_ratio=l1_ratio, solver="saga", tol=tol, max_iter=10000,
            fit_intercept=False), sets_optimum=False))
        if binary and l1_ratio == 1.0:
            out.append(FitContender("sklearn liblinear", "sklearn", lambda tol: Sk(
                C=C, l1_ratio=1.0, solver="liblinear", tol=tol, max_iter=10000,
                fit_intercept=False), sets_optimum=False))
    m = X.shape[0]
    for module, label, make in (
            ("skglm", "skglm ProxNewton", lambda tol: _skglm(C, l1_ratio, tol, m)),
            ("celer", "celer", lambda tol: _celer(C, tol)),
            ("glum", "glum irls-cd", lambda tol: _Glum(C, tol, m, "irls-cd", l1_ratio, False))):
        if not binary or (module == "celer" and l1_ratio != 1.0):
            continue
        try:
            __import__(module)
        except ImportError:
            notes.append(f"{module} is not installed: its contender is skipped "
                         f"(pip install {module})")
            continue
        out.append(FitContender(label, module, make, sets_optimum=False))
    return out


def _skglm(C, l1_ratio, tol, m):
    """skglm's objective is the mean loss + α(ρ‖w‖₁ + ½(1 − ρ)‖w‖²): α = 1/(C·m)."""
    from skglm import SparseLogisticRegression

    return SparseLogisticRegression(alpha=1.0 / (C * m), l1_ratio=l1_ratio, tol=tol,
                                    max_iter=1000, fit_intercept=False)


def _celer(C, tol):
    from celer import LogisticRegression as Celer

    return Celer(C=C, tol=tol, fit_intercept=False)


@dataclass(frozen=True)
class FitContender:
    """One estimator configuration: ``make(tol)`` returns an unfitted estimator."""

    label: str
    library: str  # "fastlr", "sklearn" or "glum": the peers of fastlr are the others
    make: Callable
    #: its fit at the tightest tolerance is one of those that set f* (lbfgs and Newton methods)
    sets_optimum: bool = True


class _Glum:
    """glum's GLM with scikit-learn's objective: α = 1/(C·m), ridge only; coef_ as (1, n)."""

    def __init__(self, C, tol, m, solver, l1_ratio=0.0, fit_intercept=True):
        from glum import GeneralizedLinearRegressor

        extra = {} if fit_intercept else {"fit_intercept": False}
        self.model = GeneralizedLinearRegressor(family="binomial", alpha=1.0 / (C * m),
                                                l1_ratio=l1_ratio, gradient_tol=tol,
                                                solver=solver, max_iter=1000, **extra)

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.model.fit(X, (np.asarray(y) == self.classes_[1]).astype(float))
        self.coef_ = np.asarray(self.model.coef_)[None, :]
        self.intercept_ = np.array([self.model.intercept_])
        self.n_iter_ = np.atleast_1d(getattr(self.model, "n_iter_", -1))
        return self


def contenders(X, y, C: float = 1.0, threads: int | None = None, notes=None) -> list:
    """Every :class:`FitContender` that applies to this problem (see the module docstring).

    ``threads``: fastlr's ``n_threads`` (None: its default). Libraries that are not installed are
    left out, with a line in ``notes`` (a list) when one is given.
    """
    notes = [] if notes is None else notes
    n_classes = np.unique(np.asarray(y)).shape[0]
    binary = n_classes == 2
    sparse = hasattr(X, "tocsr")
    n_params = (X.shape[1] + 1) * (1 if binary else n_classes)
    out = []
    try:
        from ..estimator import LogisticRegression as Fast
    except ImportError as exc:
        notes.append(f"fastlr.LogisticRegression is not available ({exc}); skipped")
    else:
        def fast(solver, max_iter):
            return lambda tol: Fast(C=C, tol=tol, max_iter=max_iter, solver=solver,
                                    n_threads=threads)

        out.append(FitContender("fastlr auto (default)", "fastlr", fast("auto", 500)))
        out.append(FitContender("fastlr lbfgs", "fastlr", fast("lbfgs", 5000)))
        if n_params <= NEWTON_PARAMS:
            out.append(FitContender("fastlr newton", "fastlr", fast("newton", 500)))
        out.append(FitContender("fastlr newton-cg", "fastlr", fast("newton-cg", 500)))
    try:
        from sklearn.linear_model import LogisticRegression as Sk
    except ImportError:
        notes.append("scikit-learn is not installed: no yardstick (pip install scikit-learn)")
    else:
        def sk(solver, max_iter):
            return lambda tol: Sk(C=C, tol=tol, max_iter=max_iter, solver=solver)

        out.append(FitContender("sklearn lbfgs", "sklearn", sk("lbfgs", 5000)))
        if n_params <= NEWTON_PARAMS:
            out.append(FitContender("sklearn newton-cholesky", "sklearn",
                                    sk("newton-cholesky", 500)))
        out.append(FitContender("sklearn newton-cg", "sklearn", sk("newton-cg", 500)))
        if binary:
            out.append(FitContender("sklearn liblinear", "sklearn", sk("liblinear", 5000),
                                    sets_optimum=False))
        if sparse:
            out.append(FitContender("sklearn saga", "sklearn", sk("saga", 5000),
                                    sets_optimum=False))
    if binary:
        try:
            import glum  # noqa: F401
        except ImportError:
            notes.append("glum is not installed: its contenders are skipped (pip install glum)")
        else:
            m = X.shape[0]
            out.append(FitContender("glum lbfgs", "glum", lambda tol: _Glum(C, tol, m, "lbfgs"),
                                    sets_optimum=False))
            if n_params <= NEWTON_PARAMS:  # IRLS forms Xᵀ·W·X: 80 GB at 100,000 features
                out.append(FitContender("glum irls", "glum",
                                        lambda tol: _Glum(C, tol, m, "irls-cd"),
                                        sets_optimum=False))
    return out


def _quiet_fit(make, tol, X, y):
    """A fitted model; convergence warnings (expected at the loose end of the ladder) silenced."""
    return _timed_fit(make, tol, X, y)[1]


def _timed_fit(make, tol, X, y):
    """(seconds, fitted model); convergence warnings silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*converge.*")
        try:
            from sklearn.exceptions import ConvergenceWarning
        except ImportError:
            pass
        else:
            warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model = make(tol).fit(X, y)
        return time.perf_counter() - start, model


def _limits(threads):
    """BLAS and OpenMP at ``threads`` for every library (threadpoolctl), when it can be set."""
    if threads is None or not have_threadpoolctl():
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def _n_iter(model):
    n_iter = getattr(model, "n_iter_", None)
    return None if n_iter is None else int(np.max(np.atleast_1d(n_iter)))


def _peak_bytes(make, tol, X, y) -> int:
    was_tracing = tracemalloc.is_tracing()
    if was_tracing:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    else:
        tracemalloc.start()
        base = 0
    try:
        _quiet_fit(make, tol, X, y)
        return max(0, tracemalloc.get_traced_memory()[1] - base)
    finally:
        if not was_tracing:
            tracemalloc.stop()


def equal_optimum(X, y, C: float = 1.0, *, threads: int | None = None, repeat: int = 3,
                  ladder=LADDER, gap: float = GAP, memory: bool = True, budget: float | None = None,
                  entries=None, warmup_rows: int = 2000, progress=lambda msg: None,
                  seed: int = 0, l1_ratio: float = 0.0) -> dict:
    """Run the protocol of the module docstring on (X, y, C); a JSON-ready dict.

    ``entries``: the :class:`FitContender` list (default :func:`contenders`); ``ladder`` the
    tolerances, loosest first; ``memory`` whether to measure peak memory; ``budget`` the longest
    single fit (seconds) after which a contender stops (None: no limit). A contender that raises
    is reported with its error and the others go on. ``l1_ratio`` > 0: the L1 / elastic-net
    problem (:func:`l1_contenders`, the objective with that penalty).
    """
    ladder = tuple(sorted((float(t) for t in ladder), reverse=True))
    if not ladder:
        raise ValueError("the tolerance ladder is empty")
    notes = []
    if entries is None:
        entries = (l1_contenders(X, y, C, l1_ratio, threads, notes) if l1_ratio
                   else contenders(X, y, C, threads, notes))
    n_classes = int(np.unique(np.asarray(y)).shape[0])
    out = {"problem": "binary" if n_classes == 2 else "multinomial",
           "n_samples": int(X.shape[0]), "n_features": int(X.shape[1]), "n_classes": n_classes,
           "input": "csr" if hasattr(X, "tocsr") else "dense", "dtype": str(X.dtype), "C": C,
           "threads": threads, "ladder": list(ladder), "gap": gap, "repeat": repeat,
           "budget": budget, "best_objective": None, "l1_ratio": l1_ratio,
           "set_by": [e.label for e in entries if e.sets_optimum], "fits": [], "notes": notes}
    if threads is not None and not have_threadpoolctl():
        notes.append("threadpoolctl is not installed: BLAS and OpenMP threads not limited")
    rows = {e.label: {"model": e.label, "library": e.library, "status": "ok", "error": None}
            for e in entries}
    # label -> (seconds, tol) of the fit that went over the budget
    over = {}

    def failed(e, exc):  # a broken contender is reported, the others go on
        rows[e.label].update(status="failed", error=f"{type(exc).__name__}: {exc}")

    def mark_over(chosen):
        for label, (seconds, tol) in over.items():
            if label not in chosen:
                rows[label].update(status="over budget", fit_seconds=seconds, fit_tol=tol)

    tight = {}
    with _limits(threads):
        live = []
        for i, e in enumerate(entries):
            what = f"warm-up and tol {ladder[-1]:g} fit" if e.sets_optimum else "warm-up"
            progress(f"fit: {what} of {e.label} ({i + 1}/{len(entries)})")
            try:
                _quiet_fit(e.make, 1e-3, X[:warmup_rows], y[:warmup_rows])
                if e.sets_optimum:
                    seconds, model = _timed_fit(e.make, ladder[-1], X, y)
                    tight[e.label] = (model, objective(model, X, y, C, l1_ratio))
                    if budget is not None and seconds > budget:
                        over[e.label] = (seconds, ladder[-1])
            except Exception as exc:
                failed(e, exc)
                continue
            live.append(e)
        if not tight:
            notes.append("no contender that sets f* could fit: nothing to compare with")
            mark_over({})
            out["fits"] = [rows[e.label] for e in entries]
            return out
        best = min(f for _, f in tight.values())
        out["best_objective"] = best
        chosen = {}
        for e in live:
            if e.label in over:
                continue
            progress(f"fit: tolerance ladder of {e.label}")
            trail = []
            try:
                for tol in ladder:
                    if tol == ladder[-1] and e.label in tight:  # fitted already
                        model, f = tight[e.label]
                        seconds = 0.0
                    else:
                        seconds, model = _timed_fit(e.make, tol, X, y)
                        f = objective(model, X, y, C, l1_ratio)
                    rel = (f - best) / abs(best) if best else f - best
                    trail.append([tol, rel])
                    if rel <= gap:
                        chosen[e.label] = (tol, model, f, rel)
                        break
                    if budget is not None and seconds > budget:
                        over[e.label] = (seconds, tol)
                        break
            except Exception as exc:
                failed(e, exc)
                continue
            rows[e.label]["trail"] = trail
            if e.label not in chosen and e.label not in over:
                rows[e.label].update(status="not reached", closest_gap=min(g for _, g in trail))
        mark_over(chosen)
        timed = [e for e in live if e.label in chosen]
        timings = time_interleaved(
            [Contender(e.label, lambda e=e: _quiet_fit(e.make, chosen[e.label][0], X, y))
             for e in timed], repeat, calls_per_sample=1, seed=seed,
            on_round=lambda i, n: progress(f"fit: round {i + 1}/{n} of {len(timed)} interleaved fits"))
        for e, t in zip(timed, timings):
            tol, model, f, rel = chosen[e.label]
            history = getattr(model, "loss_history_", None)
            if history is not None and not isinstance(history, np.ndarray):
                history = None  # one-vs-rest: one history per class, not one curve
            rows[e.label].update(
                tol=tol, seconds=t.median_s, spread=t.spread, samples=len(t.samples),
                min_seconds=min(t.samples, default=None), max_seconds=max(t.samples, default=None),
                flags=noise_flags(t.spread, None), n_iter=_n_iter(model), objective=f,
                objective_gap=rel, peak_bytes=None,
                loss_history=None if history is None else [float(v) for v in np.ravel(history)])
        if memory:
            for e in timed:
                progress(f"fit: peak memory of {e.label}")
                rows[e.label]["peak_bytes"] = _peak_bytes(e.make, chosen[e.label][0], X, y)
    out["fits"] = [rows[e.label] for e in entries]
    return out


def fit_comparison(n_samples: int, n_features: int, dtype="float64", C: float = 1.0, *,
                   n_classes: int = 2, repeat: int = 3, threads: int | None = None,
                   ladder=LADDER, memory: bool = True, budget: float | None = None,
                   progress=lambda msg: None, seed: int = 0) -> dict:
    """:func:`equal_optimum` on ``fastlr bench``'s seeded data: binary
    (:func:`~fastlr.bench.data.make_problem`) or, with ``n_classes`` > 2, multinomial
    (:func:`~fastlr.bench.data.make_multinomial_problem`)."""
    from .data import make_multinomial_problem, make_problem

    if n_classes > 2:
        _, _, X, y = make_multinomial_problem(n_samples, n_features, n_classes, dtype, seed=seed)
    else:
        _, _, X, y = make_problem(n_samples, n_features, dtype, "C", seed=seed)
    return equal_optimum(X, y, C, threads=threads, repeat=repeat, ladder=ladder, memory=memory,
                         budget=budget, progress=progress, seed=seed)


# ----------------------------------------------------------------------------- the table
def _ladder_text(ladder) -> str:
    ladder = list(ladder)
    if len(ladder) <= 3:
        return ", ".join(f"{t:.0e}" for t in ladder)
    return f"{ladder[0]:.0e}, {ladder[1]:.0e}, ..., {ladder[-1]:.0e} ({len(ladder)} tolerances)"


def protocol_text(case: dict) -> str:
    """The protocol, as the table's header states it."""
    what = ("C·Σ log(1 + e^z) − y·z + ½‖w‖²" if case["problem"] == "binary"
            else "C·Σ logsumexp(z) − z_y + ½‖W‖²")
    rho = case.get("l1_ratio") or 0.0
    if rho:
        what = what.replace("½‖", f"{rho:g}·‖").replace("‖²", "‖₁") + (
            f" + {0.5 * (1 - rho):g}·‖W‖²" if rho < 1 else "") + ", no intercept"
    best = case["best_objective"]
    best_text = "f*" if best is None else f"f* = {best:.10g}"
    set_by = case.get("set_by")
    by = ("any contender" if set_by is None or len(set_by) == len(case["fits"])
          else ", ".join(set_by) if case.get("l1_ratio") else "the lbfgs and Newton contenders")
    memory = ("; peak MB: memory allocated during one more fit (tracemalloc; X not counted)"
              if any(f.get("peak_bytes") is not None for f in case["fits"]) else "")
    budget = ("" if case.get("budget") is None
              else f"; a contender stops after a single fit over {case['budget']:g} s")
    return (f"protocol: each contender is timed at the loosest tol of {_ladder_text(case['ladder'])} "
            f"whose fit lands within {case['gap']:g} (relative) of {best_text}, the lowest "
            f"objective {what} {by} reached at tol {case['ladder'][-1]:.0e} (computed with "
            f"NumPy); time = median of {case['repeat']} fits at that tol, in rounds of one fit "
            f"per contender (shuffled), after a warm-up fit{memory}{budget}")


def format_fit_table(case: dict, title: str | None = None) -> list[str]:
    """The fit table of one :func:`equal_optimum` result: header with the protocol, then a row
    per contender; "vs fastest peer" = the fastest non-fastlr contender's time / the row's."""
    from .report import _wrap, fmt_spread, fmt_time

    threads = case["threads"]
    thread_text = ("default threads" if threads is None
                   else f"{threads} thread{'s' if threads != 1 else ''} (Numba, BLAS, OpenMP)")
    shape = f"{case['n_samples']:,} x {case['n_features']:,}"
    kind = ("binary" if case["problem"] == "binary"
            else f"multinomial, {case['n_classes']} classes")
    input_text = "CSR " if case["input"] == "csr" else ""
    title = title or "Fit"
    rho = case.get("l1_ratio") or 0.0
    params = f"C={case['C']:g}" + (f", l1_ratio={rho:g}, fit_intercept=False" if rho else "")
    out = ["", f"{title}: LogisticRegression({params}), {kind}, on {input_text}{shape} "
               f"{case['dtype']}, {thread_text}"]
    out += _wrap(protocol_text(case))
    out += [f"  note: {note}" for note in case["notes"]]
    timed = [f for f in case["fits"] if f["status"] == "ok"]
    peers = [f for f in timed if f["library"] != "fastlr"]
    fastest = min(peers, key=lambda f: f["seconds"], default=None)
    if case["fits"]:
        out.append(f"  {'contender':<26}{'time':>10}{'spread':>8}{'tol':>8}{'n_iter':>8}"
                   f"{'gap':>10}{'peak MB':>9}{'vs fastest peer':>17}")
    for f in case["fits"]:
        if f["status"] == "failed":
            out.append(f"  {f['model']:<26}failed: {f['error']}")
            continue
        if f["status"] == "not reached":
            out.append(f"  {f['model']:<26}never within {case['gap']:g} of f* on the ladder "
                       f"(closest: gap {f['closest_gap']:.1e})")
            continue
        if f["status"] == "over budget":
            out.append(f"  {f['model']:<26}over budget: one fit at tol {f['fit_tol']:.0e} took "
                       f"{fmt_time(f['fit_seconds'])} (> {case['budget']:g} s); not timed")
            continue
        ratio, note = "-", ""
        if fastest is not None:
            ratio = f"{fastest['seconds'] / f['seconds']:.2f}x"
            # each flag is said of the row it belongs to: a steady row whose ratio rests on a
            # noisy fastest peer is not itself "wide spread"
            notes = [f"noisy: {', '.join(f['flags'])}"] if f["flags"] else []
            if fastest is not f and fastest["flags"]:
                notes.append(f"ratio rests on {fastest['model']} ({', '.join(fastest['flags'])})")
            if notes:
                ratio = f"({ratio})"
                note = "  " + "; ".join(notes)
        peak = "-" if f["peak_bytes"] is None else f"{f['peak_bytes'] / 1e6:.1f}"
        n_iter = "-" if f["n_iter"] is None else str(f["n_iter"])
        out.append(f"  {f['model']:<26}{fmt_time(f['seconds']):>10}{fmt_spread(f['spread']):>8}"
                   f"{f['tol']:>8.0e}{n_iter:>8}{f['objective_gap']:>10.1e}{peak:>9}{ratio:>17}"
                   f"{note}")
    if fastest is not None:
        noisy = any(f["flags"] for f in timed)
        out.append(f"  vs fastest peer = {fastest['model']}'s time / the row's"
                   + ("; a ratio in parentheses rests on a noisy row (spread > 25 %), not a result"
                      if noisy else ""))
    return out
