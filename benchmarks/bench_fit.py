"""asv benchmarks of whole fits: fastlr.LogisticRegression per solver, scikit-learn as a yardstick.

Both estimators are fitted with default settings (C = 1) on the same fixed-seed data (``common``),
dense and CSR (``Fit``), and with 5 classes, the multinomial model (``MultinomialFit``). ``setup``
fits once on a few hundred rows, so Numba compiles there, not in the timed fit. ``peakmem_fit``
follows memory, ``track_n_iter`` the iterations each solver needs and ``track_objective`` the
objective C·Σ Lᵢ + ½‖W‖² it reaches (computed here with NumPy), so a solver that gets faster by
stopping early shows up.

``FirstFit`` is what a user waits for in a new process: ``import`` + the first fit of
100,000 x 20 in a fresh interpreter, for fastlr with an empty compile cache (the first process
after an install: Numba compiles), fastlr with a warm cache (every later process) and
scikit-learn, so the three can be compared over commits.

``fastlr.estimator`` does not exist in early commits: those combinations are skipped, as are CSR
fits on commits whose estimator does not take sparse input yet, and multinomial fits on commits
that fit several classes one-vs-rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np

from .common import classification_problem, multinomial_problem, skip, sparse_classification_problem

MODELS = ["fastlr-lbfgs", "fastlr-newton", "fastlr-gd", "sklearn-lbfgs", "sklearn-newton-cholesky"]
DENSE = (20_000, 20)
SPARSE = (20_000, 500, 0.02)


def make_model(model: str, **params):
    """A maker of fresh estimators for ``model`` ("library-solver") with ``params``, or skip
    when it is unavailable."""
    library, solver = model.split("-", 1)
    if library == "fastlr":
        try:
            from fastlr.estimator import LogisticRegression
        except ImportError:
            skip("fastlr.estimator.LogisticRegression is not in this commit")
        return lambda: LogisticRegression(solver=solver, **params)
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        skip("scikit-learn is not installed")
    return lambda: LogisticRegression(solver=solver, **params)


def _fit(make, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of gd at default max_iter
        return make().fit(X, y)


def _binary_loss(est, X, y) -> float:
    """Σ log(1 + e^{zᵢ}) − yᵢ·zᵢ, zᵢ = w·xᵢ + b (NumPy, stable form)."""
    w = np.asarray(est.coef_, dtype=np.float64).ravel()
    z = np.asarray(X @ w, dtype=np.float64).ravel() + float(np.ravel(est.intercept_)[0])
    yy = (np.asarray(y) == est.classes_[1]).astype(np.float64)
    return float(np.sum(np.logaddexp(0.0, z) - yy * z))


def _objective(est, X, y) -> float:
    """C·Σ log(1 + e^{zᵢ}) − yᵢ·zᵢ + ½‖w‖² with C = 1 (both estimators' default), stable form."""
    w = np.asarray(est.coef_, dtype=np.float64).ravel()
    return _binary_loss(est, X, y) + 0.5 * float(w @ w)


class Fit:
    """LogisticRegression().fit(X, y) on 20,000 x 20 dense or 20,000 x 500 CSR (2 % nonzeros)."""

    params = (MODELS, ["dense", "csr"])
    param_names = ["model", "input"]
    timeout = 300

    def setup(self, model, input):
        self.make = make_model(model)
        if input == "dense":
            self.X, self.y = classification_problem(*DENSE)
        else:
            self.X, self.y = sparse_classification_problem(*SPARSE)
        try:
            _fit(self.make, self.X[:500], self.y[:500])  # warm-up: compiles here
        except (TypeError, ValueError) as exc:
            if input == "csr" and model.startswith("fastlr"):
                skip(f"this commit's estimator does not take CSR input: {exc}")
            raise

    def time_fit(self, model, input):
        _fit(self.make, self.X, self.y)

    def peakmem_fit(self, model, input):
        _fit(self.make, self.X, self.y)

    def track_n_iter(self, model, input):
        return int(np.max(_fit(self.make, self.X, self.y).n_iter_))

    track_n_iter.unit = "iterations"

    def track_objective(self, model, input):
        return _objective(_fit(self.make, self.X, self.y), self.X, self.y)

    track_objective.unit = "objective"


MULTINOMIAL_MODELS = ["fastlr-lbfgs", "fastlr-newton", "sklearn-lbfgs", "sklearn-newton-cholesky"]
#: 20,000 x 20, 5 classes: the data of bench_kernels.MultinomialLossGradHess (common's fixed seed)
MULTINOMIAL = (20_000, 20, 5)


def _multinomial_loss(est, X, y) -> float:
    """Σ (logsumexp(zᵢ) − z_{i,yᵢ}), zᵢ = W·xᵢ + b, X dense or CSR (NumPy, stable form)."""
    W = np.asarray(est.coef_, dtype=np.float64)
    Z = np.asarray(X @ W.T, dtype=np.float64) + np.asarray(est.intercept_, dtype=np.float64)
    M = Z.max(axis=1)
    lse = M + np.log(np.exp(Z - M[:, None]).sum(axis=1))
    index = np.searchsorted(est.classes_, y)
    return float(np.sum(lse - Z[np.arange(Z.shape[0]), index]))


def _multinomial_objective(est, X, y) -> float:
    """C·Σ (logsumexp(zᵢ) − z_{i,yᵢ}) + ½‖W‖² with C = 1, zᵢ = W·xᵢ + b (NumPy, stable form)."""
    W = np.asarray(est.coef_, dtype=np.float64)
    return _multinomial_loss(est, X, y) + 0.5 * float(np.sum(W * W))


def _is_softmax(est, X) -> bool:
    """Whether ``est`` is the multinomial model: predict_proba is softmax(X·Wᵀ + b) (one-vs-rest
    normalises per-class sigmoids instead)."""
    Z = np.asarray(X, dtype=np.float64) @ np.asarray(est.coef_, dtype=np.float64).T + est.intercept_
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return bool(np.allclose(est.predict_proba(X), P, rtol=1e-6, atol=1e-9))


class MultinomialFit:
    """LogisticRegression().fit(X, y) with 5 classes on 20,000 x 20 dense X: the multinomial
    (softmax) model, fastlr lbfgs/newton vs scikit-learn lbfgs/newton-cholesky."""

    params = (MULTINOMIAL_MODELS,)
    param_names = ["model"]
    timeout = 300

    def setup(self, model):
        self.make = make_model(model)
        _, _, self.X, self.y = multinomial_problem(*MULTINOMIAL)
        try:
            warm = _fit(self.make, self.X[:500], self.y[:500])  # warm-up: compiles here
        except (TypeError, ValueError) as exc:
            if model.startswith("fastlr"):
                skip(f"this commit's estimator does not fit {MULTINOMIAL[2]} classes: {exc}")
            raise
        if not _is_softmax(warm, self.X[:500]):
            skip("this commit fits several classes one-vs-rest, not the multinomial model")

    def time_fit(self, model):
        _fit(self.make, self.X, self.y)

    def track_n_iter(self, model):
        return int(np.max(_fit(self.make, self.X, self.y).n_iter_))

    track_n_iter.unit = "iterations"

    def track_objective(self, model):
        return _multinomial_objective(_fit(self.make, self.X, self.y), self.X, self.y)

    track_objective.unit = "objective"


class SmallFit:
    """The default fit on scikit-learn's bundled breast_cancer (569 x 30) and wine (178 x 13,
    3 classes) as loaded, unscaled, with scikit-learn's Newton-Cholesky as the yardstick: the
    fixed cost of each solver iteration, which dominates at this size (the passes over X are a
    fifth of a fastlr fit). ``track_n_iter`` keeps a faster fit from hiding fewer iterations."""

    params = (["fastlr-auto", "sklearn-newton-cholesky"], ["breast_cancer", "wine"])
    param_names = ["model", "data"]
    timeout = 120

    def setup(self, model, data):
        try:
            from sklearn import datasets
        except ImportError:
            skip("scikit-learn is not installed")
        self.make = make_model(model, max_iter=1000)
        self.X, self.y = getattr(datasets, f"load_{data}")(return_X_y=True)
        try:
            _fit(self.make, self.X, self.y)  # warm-up: compiles here
        except (TypeError, ValueError) as exc:
            if model.startswith("fastlr"):
                skip(f"this commit's estimator does not fit {data} by default: {exc}")
            raise

    def time_fit(self, model, data):
        _fit(self.make, self.X, self.y)

    def track_n_iter(self, model, data):
        return int(np.max(_fit(self.make, self.X, self.y).n_iter_))

    track_n_iter.unit = "iterations"


#: the CV grid of ``CVFit``: fixed folds (so both libraries score the same held-out rows)
CV_GRID = dict(Cs=5, tol=1e-4, scoring="neg_log_loss", l1_ratios=(0,), use_legacy_attributes=True)
#: multinomial only: the binary grid's batched pass would be the suite's one compile of it
#: (12.7 s of the default test run, which runs every benchmark once, from an empty cache)
CV_DATA = {"multinomial": (10_000, 20, 5)}


class CVFit:
    """LogisticRegressionCV(Cs=5, 3 stratified folds, neg_log_loss, tol 1e-4).fit on 10,000 x 20
    dense X with 5 classes (the multinomial model): fastlr (warm-started along Cs with
    L-BFGS's pairs carried) against scikit-learn's (lbfgs, one job). ``track_best_score``: the mean held-out score at C_, so a grid that gets
    faster by stopping its models early shows up; ``CVPasses`` counts fastlr's passes."""

    params = (["fastlr", "sklearn"], list(CV_DATA))
    param_names = ["library", "kind"]
    timeout = 300

    def setup(self, library, kind):
        _prepare_cv(self, library, kind)

    def time_fit(self, library, kind):
        _fit(self.make, self.X, self.y)

    def track_best_score(self, library, kind):
        scores = next(iter(_fit(self.make, self.X, self.y).scores_.values()))  # (folds, Cs)
        return float(np.mean(np.squeeze(np.asarray(scores, dtype=np.float64)), axis=0).max())

    track_best_score.unit = "mean neg_log_loss at C_"


class CVPasses:
    """``CVFit``'s fastlr grid: its passes over X (the quantity its speed rests on)."""

    params = (list(CV_DATA),)
    param_names = ["kind"]
    timeout = 300

    def setup(self, kind):
        _prepare_cv(self, "fastlr", kind)

    def track_passes(self, kind):
        return int(sum(_fit(self.make, self.X, self.y).grid_passes_.values()))

    track_passes.unit = "passes over X"


def _prepare_cv(bench, library, kind):
    """``bench.make`` (a fresh LogisticRegressionCV of ``library`` on fixed folds), ``bench.X``,
    ``bench.y``; compiles on a slice; skips what this commit or environment lacks."""
    try:
        from sklearn.model_selection import StratifiedKFold
    except ImportError:
        skip("scikit-learn is not installed")
    if library == "fastlr":
        try:
            from fastlr import LogisticRegressionCV
        except ImportError:
            skip("fastlr.LogisticRegressionCV is not in this commit")
    else:
        from sklearn.linear_model import LogisticRegressionCV
    _, _, bench.X, bench.y = multinomial_problem(*CV_DATA[kind])
    folds = list(StratifiedKFold(3).split(bench.X, bench.y))
    bench.make = lambda: LogisticRegressionCV(cv=folds, **CV_GRID)
    _fit(lambda: LogisticRegressionCV(cv=3, **{**CV_GRID, "Cs": 2}), bench.X[:600],
         bench.y[:600])  # warm-up: compiles here


#: made before the clock starts, in the fresh interpreter (NumPy only: its import is not timed)
FIRST_FIT_DATA = textwrap.dedent("""
    import numpy as np
    rng = np.random.default_rng(20240601)
    X = rng.standard_normal((100_000, 20))
    y = (X @ rng.standard_normal(20) + rng.standard_normal(100_000) > 0).astype(np.int64)
""")
FIRST_FIT = {
    "fastlr": "from fastlr import LogisticRegression\nLogisticRegression().fit(X, y)\n",
    "sklearn": ("from sklearn.linear_model import LogisticRegression\n"
                "LogisticRegression().fit(X, y)\n"),
}


class FirstFit:
    """``import`` + the first ``LogisticRegression().fit`` of 100,000 x 20, in a fresh interpreter.

    * ``fastlr-empty-cache``: fastlr's compile cache on, in a new empty ``NUMBA_CACHE_DIR`` (made
      in the untimed setup code, removed when the interpreter exits): Numba compiles what the fit
      needs, as in the first process after an install;
    * ``fastlr-warm-cache``: a ``NUMBA_CACHE_DIR`` that ``setup_cache`` filled by running the same
      fit once in another fresh interpreter: every later process;
    * ``sklearn``: scikit-learn's lbfgs, the yardstick.

    The data is made in the untimed setup code (NumPy only); the timed code is the import and the
    fit. Each sample is a new interpreter.
    """

    params = (["fastlr-empty-cache", "fastlr-warm-cache", "sklearn"],)
    param_names = ["library"]
    timeout = 600
    repeat = (1, 3, 120.0)  # each sample is a new interpreter (an empty cache compiles: seconds)

    def setup_cache(self):
        """Fill the warm cache: {"path": its directory, or None and "why"}.

        The directory is in asv's working directory for the cache, which asv removes after the
        run. A commit whose fastlr cannot fit (no estimator yet) gets None, and its warm-cache
        combination is skipped.
        """
        path = os.path.abspath("fastlr-warm-numba-cache")
        os.makedirs(path, exist_ok=True)
        env = dict(os.environ, NUMBA_CACHE_DIR=path, FASTLR_CACHE="1")
        done = subprocess.run([sys.executable, "-c", FIRST_FIT_DATA + FIRST_FIT["fastlr"]],
                              env=env, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            return {"path": None, "why": " / ".join(done.stderr.strip().splitlines()[-2:])}
        return {"path": path, "why": None}

    def setup(self, cache, library):
        if library.startswith("fastlr"):
            import importlib.util

            if importlib.util.find_spec("fastlr.estimator") is None:
                skip("fastlr.estimator.LogisticRegression is not in this commit")
        if library == "fastlr-warm-cache" and cache["path"] is None:
            skip(f"filling the warm cache failed: {cache['why']}")

    def timeraw_import_and_first_fit(self, cache, library):
        setup = FIRST_FIT_DATA
        if library == "fastlr-empty-cache":
            setup += textwrap.dedent("""
                import atexit, os, shutil, tempfile
                cache_dir = tempfile.mkdtemp(prefix="fastlr-empty-cache-")
                atexit.register(shutil.rmtree, cache_dir, True)
                os.environ["NUMBA_CACHE_DIR"] = cache_dir
                os.environ["FASTLR_CACHE"] = "1"
            """)
        elif library == "fastlr-warm-cache":
            setup += textwrap.dedent(f"""
                import os
                os.environ["NUMBA_CACHE_DIR"] = {cache["path"]!r}
                os.environ["FASTLR_CACHE"] = "1"
            """)
        return FIRST_FIT["sklearn" if library == "sklearn" else "fastlr"], setup


L1_MODELS = ["fastlr-saga", "sklearn-saga", "sklearn-liblinear"]
#: C of the L1 fits: 0.18 λ_max on DENSE's data (λ_max at C = 3.7e-4)
L1_C = 0.002


class L1Fit:
    """LogisticRegression(C=L1_C, l1_ratio=1, solver=...).fit on 20,000 x 20 dense: fastlr's L1
    path (working-set proximal Newton) against scikit-learn's saga and liblinear.
    ``track_objective`` is C·Σ Lᵢ + ‖w‖₁ (NumPy; liblinear's penalised intercept not counted)."""

    params = (L1_MODELS,)
    param_names = ["model"]
    timeout = 300

    def setup(self, model):
        self.make = make_model(model, C=L1_C, l1_ratio=1.0)
        self.X, self.y = classification_problem(*DENSE)
        try:
            _fit(self.make, self.X[:500], self.y[:500])  # warm-up: compiles here
        except ValueError as exc:
            skip(f"this commit's estimator has no L1 penalty: {exc}")

    def time_fit(self, model):
        _fit(self.make, self.X, self.y)

    def track_objective(self, model):
        est = _fit(self.make, self.X, self.y)
        return L1_C * _binary_loss(est, self.X, self.y) + float(np.abs(est.coef_).sum())

    track_objective.unit = "objective"


L1_MULTINOMIAL_MODELS = ["fastlr-saga", "sklearn-saga"]
#: the multinomial L1 text problem: a TF-IDF-like corpus (``fastlr.bench.data.make_text_corpus``)
L1_CORPUS = (5_000, 5_000, 5)


class L1MultinomialFit:
    """LogisticRegression(C, l1_ratio=1, solver="saga").fit, multinomial, on a text corpus CSR
    5,000 x 5,000 with 5 classes, C at 0.1 λ_max: fastlr's class-by-class proximal Newton
    (``prox-newton-softmax``) against scikit-learn's saga, the only other multinomial L1
    solver. ``track_objective`` is C·Σ (logsumexp(zᵢ) − z_{i,yᵢ}) + ‖W‖₁ (NumPy)."""

    params = (L1_MULTINOMIAL_MODELS,)
    param_names = ["model"]
    timeout = 300

    def setup(self, model):
        try:
            from fastlr.bench.data import make_text_corpus
        except ImportError:
            skip("fastlr's text corpus is not in this commit")
        self.X, self.y = make_text_corpus(L1_CORPUS[0], L1_CORPUS[1], n_classes=L1_CORPUS[2])
        Y = (self.y[:, None] == np.arange(L1_CORPUS[2])[None, :]).astype(np.float64)
        # λ_max with intercepts: the gradient at W = 0, b at its optimum (log class shares)
        self.C = 1.0 / (0.1 * float(np.max(np.abs(self.X.T @ (Y - Y.mean(axis=0))))))
        self.make = make_model(model, C=self.C, l1_ratio=1.0)
        try:
            _fit(self.make, self.X[:500], self.y[:500])  # warm-up: compiles here
        except ValueError as exc:
            skip(f"this commit's estimator has no multinomial L1 fit: {exc}")

    def time_fit(self, model):
        _fit(self.make, self.X, self.y)

    def track_objective(self, model):
        est = _fit(self.make, self.X, self.y)
        return self.C * _multinomial_loss(est, self.X, self.y) + float(np.abs(est.coef_).sum())

    track_objective.unit = "objective"
