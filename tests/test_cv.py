"""fastlr.LogisticRegressionCV and fastlr.logistic_regression_path.

Checked against independent computations: every (fold, C) model against a fit of that model
alone with ``fastlr.LogisticRegression`` on the fold's training rows, compared in the objective
(C·Σ sᵢ·Lᵢ + ½‖w‖² over C·Σ sᵢ, evaluated here in NumPy/SciPy); ``C_``, ``scores_`` and the
attributes against scikit-learn's ``LogisticRegressionCV`` on the same folds; the number of
passes over X for the whole grid against the passes of the grid's slowest model fitted alone.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_expit, logsumexp
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.linear_model import LogisticRegressionCV as SklearnCV
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

import fastlr
from fastlr import _cv

QUIET = dict(l1_ratios=(0,), use_legacy_attributes=True, scoring="neg_log_loss")


def _standardised(load, rows=None):
    X, y = load(return_X_y=True)
    if rows is not None:
        X, y = X[rows], y[rows]
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    return _standardised(load_breast_cancer, slice(0, 300))


@pytest.fixture(scope="module")
def iris():
    return _standardised(load_iris)


def _objective(X, y01_or_index, sw, C, coef, intercept, kind):
    """scikit-learn's objective divided by C·S (S = Σ sᵢ), in NumPy: binary (y 0/1) or
    multinomial (y class index, coef (K, n))."""
    S = sw.sum()
    if kind == "binary":
        z = X @ coef + intercept
        loss = -(y01_or_index * log_expit(z) + (1 - y01_or_index) * log_expit(-z))
    else:
        Z = X @ coef.T + intercept
        loss = logsumexp(Z, axis=1) - Z[np.arange(len(Z)), y01_or_index]
    return float(sw @ loss) / S + 0.5 * float(np.sum(coef ** 2)) / (C * S)


def _fold_rows(X, y, n_splits=3):
    return list(StratifiedKFold(n_splits).split(X, y))


def _training_masks(X, y):
    """(folds, samples) booleans: each fold's training rows, of ``_fold_rows``."""
    folds = _fold_rows(X, y)
    masks = np.zeros((len(folds), len(y)), dtype=bool)
    for f, (train, _) in enumerate(folds):
        masks[f, train] = True
    return masks


def _lbfgs_grid_options():
    """The fit options of an L-BFGS grid at tol 1e-8, for ``_cv.fit_grid``."""
    return fastlr.cv._fit_options(dict(
        solver="lbfgs", dual=False, tol=1e-8, max_iter=500, fit_intercept=True,
        intercept_scaling=1, class_weight=None, random_state=None, verbose=0,
        learning_rate=0.1, n_threads=None, multi_class="auto"))


@pytest.mark.parametrize("case", ["binary", "ovr", "multinomial", "binary-weights"])
def test_each_grid_model_equals_its_solo_fit(cancer, iris, case):
    """Every (fold, C) model of the grid is the optimum that LogisticRegression finds on the
    fold's training rows alone: equal objectives to 1e-8."""
    X, y = cancer if case.startswith("binary") else iris
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2.0, len(y)) if case == "binary-weights" else np.ones(len(y))
    class_weight = {0: 2.0, 1: 0.5} if case == "binary-weights" else None
    multi_class = "ovr" if case == "ovr" else "auto"
    Cs = [0.01, 1.0, 30.0]
    folds = _fold_rows(X, y)
    cv = fastlr.LogisticRegressionCV(Cs=Cs, cv=folds, tol=1e-10, max_iter=5000,
                                     class_weight=class_weight, multi_class=multi_class,
                                     **QUIET).fit(X, y, sample_weight=sw)
    classes = cv.classes_
    cw = np.array([1.0 if class_weight is None else class_weight[c] for c in classes])
    for f, (train, _) in enumerate(folds):
        Xt, yt = X[train], y[train]
        swt = sw[train] * cw[np.searchsorted(classes, yt)]
        for c, C in enumerate(Cs):
            solo = fastlr.LogisticRegression(C=C, tol=1e-10, max_iter=5000,
                                             class_weight=class_weight,
                                             multi_class=multi_class).fit(Xt, yt, sw[train])
            if case == "multinomial":
                path = np.stack([cv.coefs_paths_[k][f, c, 0] for k in classes])
                got = _objective(Xt, np.searchsorted(classes, yt), swt, C, path[:, :-1],
                                 path[:, -1], "multinomial")
                want = _objective(Xt, np.searchsorted(classes, yt), swt, C, solo.coef_,
                                  solo.intercept_, "multinomial")
                assert got == pytest.approx(want, rel=1e-8, abs=1e-10)
                continue
            positives = classes[1:] if len(classes) == 2 else classes
            for j, positive in enumerate(positives):
                path = cv.coefs_paths_[positive][f, c, 0]
                y01 = (yt == positive).astype(float)
                got = _objective(Xt, y01, swt, C, path[:-1], path[-1], "binary")
                want = _objective(Xt, y01, swt, C, solo.coef_[j], solo.intercept_[j], "binary")
                assert got == pytest.approx(want, rel=1e-8, abs=1e-10), (f, C, positive)


def _assert_same_objectives(X, y, ours, theirs, Cs):
    """Every (fold, C) model of two fitted LogisticRegressionCV (scikit-learn's default folds,
    StratifiedKFold(5)) at the same objective on the fold's training rows (NumPy, 1e-9)."""
    classes = np.unique(y)
    y_index = np.searchsorted(classes, y)
    keys = list(theirs.coefs_paths_)
    for f, (train, _) in enumerate(StratifiedKFold(5).split(X, y)):
        for c, C in enumerate(Cs):
            values = []
            for model in (ours, theirs):
                path = np.stack([model.coefs_paths_[k][f, c, 0] for k in keys])
                if len(classes) == 2:
                    values.append(_objective(X[train], y_index[train].astype(float),
                                             np.ones(len(train)), C, path[0, :-1],
                                             path[0, -1], "binary"))
                else:
                    values.append(_objective(X[train], y_index[train], np.ones(len(train)),
                                             C, path[:, :-1], path[:, -1], "multinomial"))
            assert values[0] == pytest.approx(values[1], rel=1e-9, abs=1e-12), (f, C)


@pytest.mark.parametrize("load, refit", [
    pytest.param(load_iris, True, id="iris"), pytest.param(load_wine, True, id="wine"),
    pytest.param(load_breast_cancer, True, id="breast_cancer"),
    pytest.param(load_iris, False, id="iris-no-refit"),
    pytest.param(load_breast_cancer, False, id="breast_cancer-no-refit")])
def test_matches_sklearn_logistic_regression_cv(load, refit):
    """C_, scores_ and the refitted model equal scikit-learn's on the same (default) folds."""
    X, y = _standardised(load)
    kw = dict(Cs=np.logspace(-2, 1, 4), tol=1e-8, max_iter=1000, refit=refit, **QUIET)
    ours = fastlr.LogisticRegressionCV(**kw).fit(X, y)
    theirs = SklearnCV(**kw).fit(X, y)
    np.testing.assert_array_equal(ours.C_, theirs.C_)
    for key in theirs.scores_:
        # both stop at max|grad| <= 1e-8: at C = 10 on breast_cancer (condition number ~1e5)
        # that leaves scores 3e-7 apart
        np.testing.assert_allclose(ours.scores_[key], theirs.scores_[key], rtol=1e-5,
                                   atol=1e-6)
        # and each coefficient is within about tol/λ of the optimum: on wine at C = 10
        # (λ = 1/(C·m) = 5.6e-4) ~2e-5 each way, so the paths may be 4e-5 apart (measured 2.3e-5,
        # with fastlr's L-BFGS pairs carried along the Cs); their objectives agree to 1e-9 below
        np.testing.assert_allclose(ours.coefs_paths_[key], theirs.coefs_paths_[key],
                                   atol=4e-5)
    _assert_same_objectives(X, y, ours, theirs, kw["Cs"])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=2e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=2e-5)
    np.testing.assert_array_equal(ours.Cs_, theirs.Cs_)
    assert ours.n_iter_.shape == theirs.n_iter_.shape


def test_sample_weights_and_csr_match_sklearn(cancer):
    """Weighted fits and weighted scores (accuracy through score(), as scikit-learn's default)
    on CSR input, against scikit-learn on the same folds; CSR equals dense."""
    X, y = cancer
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    sw = np.random.default_rng(1).integers(1, 4, len(y)).astype(float)
    kw = dict(Cs=[0.01, 0.1, 1.0], tol=1e-9, max_iter=1000, l1_ratios=(0,),
              use_legacy_attributes=False, scoring=None, cv=4)
    ours = fastlr.LogisticRegressionCV(**kw).fit(Xs, y, sample_weight=sw)
    dense = fastlr.LogisticRegressionCV(**kw).fit(Xs.toarray(), y, sample_weight=sw)
    theirs = SklearnCV(**kw).fit(Xs, y, sample_weight=sw)
    assert ours.C_ == theirs.C_
    np.testing.assert_allclose(ours.scores_, theirs.scores_, atol=1e-12)
    np.testing.assert_allclose(ours.coefs_paths_, theirs.coefs_paths_, atol=1e-5)
    np.testing.assert_allclose(ours.coefs_paths_, dense.coefs_paths_, atol=1e-9)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)


@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("l1_ratios", [None, (0.0,)])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_attribute_shapes_are_sklearns(iris, legacy, l1_ratios, n_classes):
    X, y = iris
    if n_classes == 2:
        X, y = X[y < 2], y[y < 2]
    kw = dict(Cs=3, cv=3, max_iter=50, l1_ratios=l1_ratios, use_legacy_attributes=legacy,
              scoring="accuracy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = fastlr.LogisticRegressionCV(**kw).fit(X, y)
        theirs = SklearnCV(**kw).fit(X, y)
    for name in ("C_", "l1_ratio_", "coef_", "intercept_", "Cs_", "l1_ratios_", "n_iter_",
                 "classes_"):
        a, b = getattr(ours, name), getattr(theirs, name)
        assert np.shape(a) == np.shape(b), name
        assert type(a) is type(b), name
    for name in ("scores_", "coefs_paths_"):
        a, b = getattr(ours, name), getattr(theirs, name)
        if legacy:
            assert list(a) == list(b)
            assert all(a[k].shape == b[k].shape for k in b), name
        else:
            assert a.shape == b.shape, name
    if l1_ratios is None and legacy:
        assert ours.l1_ratio_.tolist() == theirs.l1_ratio_.tolist()


def test_one_pass_over_x_per_evaluation_for_the_whole_grid(cancer):
    """The grid's passes over X are those of its slowest model fitted alone: all fold × C
    models share each pass (lockstep), and a finished model adds none."""
    X, y = cancer
    y_index = (y == 1).astype(np.int64)
    masks = _training_masks(X, y)
    Cs = np.array([0.01, 0.3, 10.0])
    options = _lbfgs_grid_options()
    grid = _cv.fit_grid(X, y_index, 2, None, masks, Cs, options, np.ones(2), "binary",
                        warm_path=False)
    solo = [_cv.fit_grid(X, y_index, 2, None, masks[f:f + 1], Cs[c:c + 1], options,
                         np.ones(2), "binary").passes["gradient"]
            for f in range(len(masks)) for c in range(len(Cs))]
    assert grid.passes == {"gradient": max(solo)}
    assert sum(solo) > 2 * max(solo)  # sequential fits would have read X this often
    # warm path: one batch per C over all folds; fewer passes than each fold's own warm path
    warm = _cv.fit_grid(X, y_index, 2, None, masks, Cs, options, np.ones(2), "binary",
                        warm_path=True)
    per_fold = [_cv.fit_grid(X, y_index, 2, None, masks[f:f + 1], Cs, options, np.ones(2),
                             "binary", warm_path=True).passes["gradient"]
                for f in range(len(masks))]
    assert max(per_fold) <= warm.passes["gradient"] < sum(per_fold)
    np.testing.assert_allclose(warm.coefs, grid.coefs, atol=1e-4)  # both at max|g| <= 1e-8


def test_logistic_regression_path_equals_solo_fits(iris):
    X, y = iris
    Cs = [0.05, 1.0, 20.0]
    coefs, Cs_out, n_iter = fastlr.logistic_regression_path(X, y, Cs=Cs, tol=1e-10,
                                                            max_iter=5000, multi_class="ovr")
    assert coefs.shape == (3, 3, X.shape[1] + 1) and n_iter.shape == (3, 3)
    np.testing.assert_array_equal(Cs_out, Cs)
    for c, C in enumerate(Cs):
        solo = fastlr.LogisticRegression(C=C, tol=1e-10, max_iter=5000,
                                         multi_class="ovr").fit(X, y)
        for k in range(3):
            y01 = (y == k).astype(float)
            got = _objective(X, y01, np.ones(len(y)), C, coefs[c, k, :-1], coefs[c, k, -1],
                             "binary")
            want = _objective(X, y01, np.ones(len(y)), C, solo.coef_[k], solo.intercept_[k],
                              "binary")
            assert got == pytest.approx(want, rel=1e-8)
    binary, _, n_iter = fastlr.logistic_regression_path(X[y < 2], y[y < 2], Cs=2)
    assert binary.shape == (2, X.shape[1] + 1) and n_iter.shape == (2,)


def test_default_warnings_are_sklearns(cancer):
    X, y = cancer
    with pytest.warns(FutureWarning) as record:
        fastlr.LogisticRegressionCV(Cs=2, cv=2).fit(X, y)
    messages = " ".join(str(w.message) for w in record)
    for phrase in ("default value for l1_ratios will change", "'scoring' will change from None",
                   "use_legacy_attributes=False"):
        assert phrase in messages


def test_verbose_prints_progress(cancer, iris, capsys):
    fastlr.LogisticRegressionCV(Cs=2, cv=2, verbose=1, **QUIET).fit(*cancer)
    out = capsys.readouterr().out
    assert "models running" in out and "C=10000, all folds: 2 models done" in out
    fastlr.LogisticRegressionCV(Cs=2, cv=2, verbose=1, **QUIET).fit(*iris)
    assert "fold 2 of 2, C=" in capsys.readouterr().out


def test_grid_in_chunks_equals_one_batch(cancer, monkeypatch):
    X, y = cancer
    kw = dict(Cs=[0.01, 0.1, 1.0], cv=3, tol=1e-10, max_iter=1000, **QUIET)
    whole = fastlr.LogisticRegressionCV(**kw).fit(X, y)
    monkeypatch.setattr(_cv, "GRID_MEMORY_BYTES", 1)  # one model per chunk
    chunked = fastlr.LogisticRegressionCV(**kw).fit(X, y)
    # the K-function pass may round differently for another K: equal to the solver's tolerance
    np.testing.assert_allclose(whole.coefs_paths_[1], chunked.coefs_paths_[1], atol=1e-8)


@pytest.mark.parametrize("params, error, match", [
    (dict(l1_ratios=(1,)), ValueError, "Solver lbfgs supports only 'l2' or None penalties"),
    (dict(penalty="l1"), ValueError, "Solver lbfgs supports only .l2."),
    (dict(Cs=0), ValueError, "Cs must be"),
    (dict(Cs=[1.0, -1.0]), ValueError, "Cs must be"),
    (dict(scoring="bogus"), ValueError, "scoring must be"),
    (dict(class_weight={7: 1.0}), ValueError, "class_weight dict must have the class labels"),
    (dict(solver="bogus"), ValueError, "solver must be one of"),
    (dict(l1_ratios=(0.5,)), ValueError, "Solver lbfgs supports only 'l2'"),
    (dict(l1_ratios=(1,), solver="liblinear", penalty="elasticnet"), ValueError,
     "Only 'saga' solver supports elasticnet"),
    (dict(l1_ratios=(0.5, 2.0), solver="saga"), ValueError, "l1_ratios must be an array-like"),
    (dict(dual=True), ValueError, "supports only dual=False"),
    (dict(refit="yes"), TypeError, "refit must be a bool"),
    (dict(use_legacy_attributes=1), TypeError, "use_legacy_attributes must be a bool"),
])
def test_bad_parameters_raise(cancer, params, error, match):
    X, y = cancer
    kw = {**QUIET, "Cs": 2, "cv": 2, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(error, match=match):
            fastlr.LogisticRegressionCV(**kw).fit(X, y)


def test_bad_data_raise(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="only one class"):
        fastlr.LogisticRegressionCV(Cs=2, cv=2, **QUIET).fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="Unknown label type"):
        fastlr.LogisticRegressionCV(Cs=2, cv=2, **QUIET).fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match="sample_weight|inconsistent"):
        fastlr.LogisticRegressionCV(Cs=2, cv=2, **QUIET).fit(X, y, sample_weight=np.ones(3))
    X_before, y_before = X.copy(), y.copy()
    fastlr.LogisticRegressionCV(Cs=2, cv=2, **QUIET).fit(X, y)
    np.testing.assert_array_equal(X, X_before)  # inputs never modified
    np.testing.assert_array_equal(y, y_before)


def test_float32_in_float32_out(cancer):
    X, y = cancer
    model = fastlr.LogisticRegressionCV(Cs=2, cv=2, **QUIET).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32 and model.predict_proba(X[:3]).shape == (3, 2)


def test_one_vs_rest_scores_equal_grid_search_cv(iris):
    """One-vs-rest: one C for all classes, the one-vs-rest model scored as a whole — what
    GridSearchCV over LogisticRegression(multi_class="ovr") computes on the same folds."""
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    folds = _fold_rows(X, y)
    Cs = [0.1, 1.0, 10.0]
    ours = fastlr.LogisticRegressionCV(Cs=Cs, cv=folds, tol=1e-10, max_iter=2000,
                                       multi_class="ovr", **QUIET).fit(X, y)
    search = GridSearchCV(fastlr.LogisticRegression(tol=1e-10, max_iter=2000, multi_class="ovr"),
                          {"C": Cs}, cv=folds, scoring="neg_log_loss").fit(X, y)
    theirs = np.array([search.cv_results_[f"split{f}_test_score"] for f in range(len(folds))])
    np.testing.assert_allclose(ours.scores_[0][:, :, 0], theirs, rtol=1e-7)
    assert ours.C_[0] == search.best_params_["C"]
    assert ours.n_iter_.shape == (3, len(folds), len(Cs), 1)


from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402


@parametrize_with_checks([fastlr.LogisticRegressionCV(Cs=2, cv=2, l1_ratios=(0,), scoring=None,
                                                      use_legacy_attributes=False)])
def test_sklearn_estimator_checks(estimator, check):
    """scikit-learn's estimator checks, with no expected failures."""
    check(estimator)


@pytest.mark.parametrize("threaded", [False, True])
@pytest.mark.parametrize("multi_class", ["binary", "ovr", "multinomial"])
@pytest.mark.parametrize("name", ["neg_log_loss", "accuracy"])
def test_grid_scores_equal_the_scorer_on_each_model(iris, multi_class, name, threaded,
                                                    monkeypatch):
    """The scores computed for a whole fold at once (scorer names) equal scikit-learn's scorer
    object called on each model (a callable takes that path), weighted — also with the folds
    scored on two Python threads (``threaded``: ``THREADED_SCORES_MIN`` lowered to reach it on
    iris)."""
    from sklearn.metrics import get_scorer

    from fastlr import _cv

    if threaded:
        monkeypatch.setattr(_cv, "THREADED_SCORES_MIN", 0)
        monkeypatch.setattr(_cv, "max_threads", lambda: 2)
    X, y = iris
    if multi_class == "binary":
        X, y = X[y > 0], y[y > 0]
    sw = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    kw = dict(Cs=[0.01, 1.0, 100.0], cv=3, l1_ratios=(0,), use_legacy_attributes=False,
              multi_class="ovr" if multi_class == "ovr" else "auto")
    fast = fastlr.LogisticRegressionCV(scoring=name, **kw).fit(X, y, sample_weight=sw)
    slow = fastlr.LogisticRegressionCV(scoring=get_scorer(name), **kw).fit(X, y,
                                                                       sample_weight=sw)
    np.testing.assert_allclose(fast.scores_, slow.scores_, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ L1 and elastic-net grids
def _l1_objective(X, y01, C, coef, intercept, l1_ratio, intercept_scaling=None):
    """scikit-learn's elastic-net objective over C·n (unit weights), in NumPy:
    mean loss + α·(ρ‖w‖₁ + ½(1 − ρ)‖w‖²), α = 1/(C·n); liblinear's (``intercept_scaling`` s)
    also penalises the intercept as the coefficient b/s of a constant feature s."""
    z = X @ coef + intercept
    loss = -(y01 * log_expit(z) + (1 - y01) * log_expit(-z)).mean()
    alpha = 1.0 / (C * len(y01))
    w = coef if intercept_scaling is None else np.r_[coef, intercept / intercept_scaling]
    return loss + alpha * (l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * w @ w)


def _l1_multinomial_objective(X, y, C, coef, intercept, l1_ratio):
    """The multinomial elastic-net objective over C·n (coef (K, n), y class indices)."""
    Z = X @ coef.T + intercept
    loss = np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(Z)), y])
    alpha = 1.0 / (C * len(y))
    return loss + alpha * (l1_ratio * np.abs(coef).sum()
                           + 0.5 * (1 - l1_ratio) * np.sum(coef ** 2))


@pytest.fixture(scope="module")
def noisy():
    """150 x 8, standardised, labels with 10 % flipped: saga converges here in seconds."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=150, n_features=8, n_informative=4, flip_y=0.1,
                               random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("case", ["saga-binary", "liblinear-ovr", "saga-multinomial"])
def test_each_l1_grid_model_equals_its_solo_fit(noisy, iris, case):
    """Every (fold, C, l1_ratio) model of an L1 / elastic-net grid has the objective (NumPy)
    of ``LogisticRegression(l1_ratio=...)`` fitted alone on the fold's rows, to 1e-8."""
    solver, kind = case.split("-")
    X, y = noisy if kind == "binary" else iris
    l1_ratios = (1.0,) if solver == "liblinear" else (0.5, 1.0)
    Cs = [0.05, 0.5, 5.0]
    folds = _fold_rows(X, y)
    cv = fastlr.LogisticRegressionCV(
        Cs=Cs, cv=folds, l1_ratios=l1_ratios, solver=solver, tol=1e-10, max_iter=5000,
        multi_class="ovr" if kind == "ovr" else "auto", use_legacy_attributes=False,
        scoring="neg_log_loss").fit(X, y)
    assert cv.coefs_paths_.shape[:3] == (len(folds), len(l1_ratios), len(Cs))
    scaling = 1.0 if solver == "liblinear" else None
    for f, (train, _) in enumerate(folds):
        for r, l1_ratio in enumerate(l1_ratios):
            for c, C in enumerate(Cs):
                solo = fastlr.LogisticRegression(
                    C=C, l1_ratio=l1_ratio, solver=solver, tol=1e-10, max_iter=5000,
                    multi_class="ovr" if kind == "ovr" else "auto").fit(X[train], y[train])
                grid = cv.coefs_paths_[f, r, c]  # (classes or 1, n + 1)
                if kind == "multinomial":
                    got = _l1_multinomial_objective(X[train], y[train], C, grid[:, :-1],
                                                    grid[:, -1], l1_ratio)
                    want = _l1_multinomial_objective(X[train], y[train], C, solo.coef_,
                                                     solo.intercept_, l1_ratio)
                    assert got == pytest.approx(want, rel=1e-8, abs=1e-10), (f, C, l1_ratio)
                    continue
                for j, positive in enumerate(cv.classes_[1:] if kind == "binary"
                                             else cv.classes_):
                    y01 = (y[train] == positive).astype(float)
                    got = _l1_objective(X[train], y01, C, grid[j, :-1], grid[j, -1],
                                        l1_ratio, scaling)
                    want = _l1_objective(X[train], y01, C, solo.coef_[j], solo.intercept_[j],
                                         l1_ratio, scaling)
                    assert got == pytest.approx(want, rel=1e-8, abs=1e-10), (f, C, l1_ratio)


@pytest.mark.slow
@pytest.mark.parametrize("refit", [True, False])
def test_l1_grid_matches_sklearn_saga(noisy, refit):
    """C_, l1_ratio_, scores_ and the paths equal scikit-learn's saga grid on the same folds
    (tight tol: saga's yardstick needs many epochs). No C whose models are all zero: there
    scikit-learn's saga stops after one epoch with the intercept off its optimum (C=0.02 here:
    its objective up to 7e-3 above fastlr's, its n_iter_ 1)."""
    X, y = noisy
    # an array: scikit-learn's refit=False indexes l1_ratios with an array (a tuple raises)
    kw = dict(Cs=[0.1, 0.5, 2.0], l1_ratios=np.array([0.3, 1.0]), cv=_fold_rows(X, y), solver="saga",
              tol=1e-9, refit=refit, use_legacy_attributes=False, scoring="neg_log_loss")
    ours = fastlr.LogisticRegressionCV(max_iter=5000, **kw).fit(X, y)
    theirs = SklearnCV(max_iter=50000, random_state=0, **kw).fit(X, y)
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.coefs_paths_, theirs.coefs_paths_, atol=1e-5)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-5)
    assert ours.n_iter_.shape == theirs.n_iter_.shape


@pytest.mark.parametrize("legacy", [True, False])
def test_deprecated_l1_penalty_attributes_are_sklearns(noisy, legacy):
    """penalty="l1" (deprecated, l1_ratios None) with liblinear: scikit-learn's warnings,
    shapes and l1_ratio_."""
    X, y = noisy
    kw = dict(Cs=3, cv=3, penalty="l1", solver="liblinear", l1_ratios=None,
              use_legacy_attributes=legacy, scoring="accuracy", tol=1e-6)
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = fastlr.LogisticRegressionCV(**kw).fit(X, y)
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = SklearnCV(**kw).fit(X, y)
    assert sorted({str(w.message)[:40] for w in ours_w}) == \
        sorted({str(w.message)[:40] for w in theirs_w if "ConvergenceWarning" not in
                type(w.message).__name__})
    for name in ("C_", "l1_ratio_", "coef_", "n_iter_", "l1_ratios_"):
        assert np.shape(getattr(ours, name)) == np.shape(getattr(theirs, name)), name
    if legacy:
        assert ours.l1_ratio_.tolist() == theirs.l1_ratio_.tolist()
        assert ours.coefs_paths_[1].shape == theirs.coefs_paths_[1].shape
    else:
        assert ours.l1_ratio_ == theirs.l1_ratio_ == 1.0
        assert ours.coefs_paths_.shape == theirs.coefs_paths_.shape
    assert ours.C_ == pytest.approx(theirs.C_)


# ------------------------------------------------------------------ Dask input
@pytest.fixture(scope="module")
def dask_client():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as c:
        with distributed.Client(c) as client:
            yield client


@pytest.mark.slow
@pytest.mark.parametrize("case", ["binary-weighted", "multinomial"])
def test_dask_input_equals_in_memory(dask_client, cancer, iris, case):
    """Dask X, y and weights (the folds as row masks over the Dask backend): the C_, scores_
    and coefficients of the in-memory grid."""
    import dask.array as da

    X, y = cancer if case.startswith("binary") else iris
    sw = np.random.default_rng(0).uniform(0.5, 2.0, len(y)) if "weighted" in case else None
    kw = dict(Cs=[0.01, 0.3, 10.0], cv=3, tol=1e-8, max_iter=2000, l1_ratios=(0,),
              use_legacy_attributes=False, scoring="neg_log_loss")
    memory = fastlr.LogisticRegressionCV(**kw).fit(X, y, sample_weight=sw)
    dask_sw = None if sw is None else da.from_array(sw, chunks=120)
    got = fastlr.LogisticRegressionCV(**kw).fit(da.from_array(X, chunks=(70, -1)),
                                                da.from_array(y, chunks=100),
                                                sample_weight=dask_sw)
    assert got.C_ == memory.C_
    # the blocks' sums come in another order: at C=10 on breast_cancer (condition ~1e5) the two
    # stop at the floor of working precision, 4e-9 to 1.9e-7 apart in score (1.1e-7 at tol 1e-10
    # too: the flat direction, not the tolerance; numpy 2.4.6, dask 2026.8.0)
    np.testing.assert_allclose(got.scores_, memory.scores_, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(got.coefs_paths_, memory.coefs_paths_, atol=1e-5)
    np.testing.assert_allclose(got.coef_, memory.coef_, atol=1e-5)


@pytest.mark.parametrize("l1_ratio", [0.0, 1.0])
def test_liblinear_grid_matches_sklearn_liblinear(noisy, l1_ratio):
    """solver="liblinear" (L2 and L1): the intercept penalised as a constant feature of
    intercept_scaling, as scikit-learn's liblinear grid on the same folds."""
    X, y = noisy
    kw = dict(Cs=[0.1, 1.0], cv=_fold_rows(X, y), l1_ratios=(l1_ratio,), solver="liblinear",
              tol=1e-10, max_iter=5000, use_legacy_attributes=False, scoring="neg_log_loss",
              intercept_scaling=2.0)
    ours = fastlr.LogisticRegressionCV(**kw).fit(X, y)
    theirs = SklearnCV(**kw).fit(X, y)
    assert ours.C_ == theirs.C_
    np.testing.assert_allclose(ours.scores_, theirs.scores_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.coefs_paths_, theirs.coefs_paths_, atol=1e-6)


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_warm_start_reuses_the_previous_cs_data_term(cancer, iris, monkeypatch, kind):
    """Along the warm path each C's models start at the previous C's last point, on the same
    rows: their first evaluation takes the data term from there (no pass over X), so the
    grid needs n_Cs − 1 (binary: one batch per C) or n_folds·(n_Cs − 1) (multinomial: model
    by model) fewer passes than with every evaluation computed, and lands on the same
    models."""
    X, y = cancer if kind == "binary" else iris
    K = len(np.unique(y))
    y_index = np.searchsorted(np.unique(y), y).astype(np.int64)
    folds = _fold_rows(X, y)
    masks = _training_masks(X, y)
    Cs = np.array([0.01, 0.3, 10.0, 100.0])
    options = _lbfgs_grid_options()

    def grid():
        return _cv.fit_grid(X, y_index, K, None, masks, Cs, options, np.ones(K),
                            "binary" if K == 2 else "multinomial", warm_path=True)

    calls = []
    original = _cv._WarmData.loss_grad

    def counting(self, index, x):
        calls.append(len(index))
        return original(self, index, x)

    monkeypatch.setattr(_cv._WarmData, "loss_grad", counting)
    reused = grid()
    saved = (len(Cs) - 1) * (1 if K == 2 else len(masks))
    assert reused.passes["gradient"] == len(calls) - saved
    monkeypatch.setattr(_cv._WarmData, "loss_grad",
                        lambda self, index, x: self._objective.loss_grad(index, x))
    computed = grid()  # every evaluation a pass over X
    np.testing.assert_allclose(reused.coefs, computed.coefs, atol=1e-4)  # max|g| <= 1e-8
    for f, (train, _) in enumerate(folds):  # each model at its own optimum (objective, NumPy)
        for c, C in enumerate(Cs):
            w = reused.coefs[f, c]
            target = (y_index[train] if K > 2 else y_index[train].astype(float))
            coef, b = (w[0, :-1], w[0, -1]) if K == 2 else (w[:, :-1], w[:, -1])
            ours = _objective(X[train], target, np.ones(len(train)), C, coef, b,
                              "binary" if K == 2 else "multinomial")
            w = computed.coefs[f, c]
            coef, b = (w[0, :-1], w[0, -1]) if K == 2 else (w[:, :-1], w[:, -1])
            theirs = _objective(X[train], target, np.ones(len(train)), C, coef, b,
                                "binary" if K == 2 else "multinomial")
            assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_multinomial_path_carries_lbfgs_pairs_across_cs(iris, monkeypatch):
    """Along a fold's path of Cs each L-BFGS run starts from the pairs of the run before,
    shifted to its L2 strength (``_cv._carried_pairs``): fewer passes over X than with a fresh
    memory at every C, and every model at its own optimum (its objective, in NumPy, equal to
    the fresh-memory model's to 1e-9)."""
    X, y = iris
    K = len(np.unique(y))
    y_index = np.searchsorted(np.unique(y), y).astype(np.int64)
    folds = _fold_rows(X, y)
    masks = _training_masks(X, y)
    Cs = np.logspace(-3, 2, 6)
    options = _lbfgs_grid_options()

    def grid():
        return _cv.fit_grid(X, y_index, K, None, masks, Cs, options, np.ones(K),
                            "multinomial", warm_path=True)

    carried = grid()
    monkeypatch.setattr(_cv, "_carried_pairs", lambda *args: (None, None))
    fresh = grid()
    assert carried.passes["gradient"] < fresh.passes["gradient"]
    for f, (train, _) in enumerate(folds):
        for c, C in enumerate(Cs):
            values = [_objective(X[train], y_index[train], np.ones(len(train)), C,
                                 g.coefs[f, c][:, :-1], g.coefs[f, c][:, -1], "multinomial")
                      for g in (carried, fresh)]
            assert values[0] == pytest.approx(values[1], rel=1e-9, abs=1e-12), (f, C)


@pytest.mark.parametrize("layout", ["C", "F", "strided-float32", "csr"])
def test_fold_rows_are_each_folds_training_rows(iris, layout):
    """The multinomial grid's fold copies (``_cv._FoldRows``: dense X's into one reused buffer)
    are NumPy's / scipy's X[train], fold after fold: values, dtype, C order for dense X."""
    X, y = iris
    X = {"C": X, "F": np.asfortranarray(X), "strided-float32": X.astype(np.float32)[:, ::2],
         "csr": sp.csr_matrix(X)}[layout]
    masks = _training_masks(X, y)
    masks[1, :7] = False  # folds of different sizes
    rows = _cv._FoldRows(X, masks)
    for f in range(len(masks)):
        train = np.flatnonzero(masks[f])
        got, expected = rows.take(train), X[train]
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if layout == "csr":
            got, expected = got.toarray(), expected.toarray()
        else:
            assert got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)


def test_multinomial_path_on_csr_starts_each_c_afresh(iris, monkeypatch):
    """On CSR X the multinomial grid does not carry L-BFGS pairs (they cost passes on text):
    the same passes and models as with ``_carried_pairs`` disabled."""
    X, y = iris
    Xs = sp.csr_matrix(X)
    K = len(np.unique(y))
    y_index = np.searchsorted(np.unique(y), y).astype(np.int64)
    masks = _training_masks(X, y)
    Cs = np.logspace(-3, 2, 6)

    def grid():
        return _cv.fit_grid(Xs, y_index, K, None, masks, Cs, _lbfgs_grid_options(), np.ones(K),
                            "multinomial", warm_path=True)

    used = grid()
    monkeypatch.setattr(_cv, "_carried_pairs", lambda *args: pytest.fail("pairs carried"))
    fresh = grid()
    assert used.passes == fresh.passes
    np.testing.assert_array_equal(used.coefs, fresh.coefs)


@pytest.mark.parametrize("solver, l1_ratio, intercept_scaling", [
    ("saga", 0.5, 1.0), ("liblinear", 1.0, 2.0), ("auto", None, 1.0)])
def test_logistic_regression_path_l1_ratio_and_intercept_scaling_as_sklearn(
        cancer, solver, l1_ratio, intercept_scaling):
    """The path with an L1 part (``l1_ratio``) and liblinear's penalised intercept
    (``intercept_scaling``) against scikit-learn's own ``_logistic_regression_path`` (penalty
    "elasticnet"/"l1"; for "auto", L2 against lbfgs), tight tol on both sides."""
    from sklearn.linear_model._logistic import _logistic_regression_path

    X, y = cancer
    Cs = [0.05, 0.5, 5.0]
    ours, Cs_out, n_iter = fastlr.logistic_regression_path(
        X, y, Cs=Cs, solver=solver, l1_ratio=l1_ratio, intercept_scaling=intercept_scaling,
        tol=1e-10, max_iter=10000)
    penalty = {None: "l2", 0.5: "elasticnet", 1.0: "l1"}[l1_ratio]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # penalty's FutureWarning
        theirs, _, _ = _logistic_regression_path(
            X, y, classes=np.unique(y), Cs=Cs, solver="lbfgs" if solver == "auto" else solver,
            penalty=penalty, l1_ratio=l1_ratio, intercept_scaling=intercept_scaling,
            tol=1e-10, max_iter=100000, random_state=0)
    assert ours.shape == theirs.shape == (3, X.shape[1] + 1) and n_iter.shape == (3,)
    np.testing.assert_array_equal(Cs_out, Cs)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    if l1_ratio:
        assert np.sum(ours[0, :-1] == 0) > 0  # the L1 part zeroes coefficients


def test_path_and_cv_parameter_errors_and_auto(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="l1_ratio"):
        fastlr.logistic_regression_path(X, y, Cs=2, l1_ratio=1.5)
    with pytest.raises(ValueError, match="supports only 'l2'"):
        fastlr.logistic_regression_path(X, y, Cs=2, l1_ratio=0.5, solver="lbfgs")
    with pytest.raises(ValueError, match="solver"):
        fastlr.logistic_regression_path(X, y, Cs=2, solver="nope")
    folds = _fold_rows(X, y)
    grid = dict(Cs=[0.1, 1.0, 10.0], cv=folds, tol=1e-8, max_iter=1000, **QUIET)
    auto = fastlr.LogisticRegressionCV(solver="auto", **grid).fit(X, y)
    lbfgs = fastlr.LogisticRegressionCV(solver="lbfgs", **grid).fit(X, y)
    assert auto.C_[0] == lbfgs.C_[0]
    np.testing.assert_allclose(auto.scores_[1], lbfgs.scores_[1], rtol=1e-5)  # C = 10: flat


@pytest.mark.parametrize("warm_path", [False, True])
def test_one_batched_csr_pass_per_grid_evaluation(cancer, monkeypatch, warm_path):
    """On CSR X every evaluation of the grid (all its running models: the whole grid from zero,
    or all folds of a C on the warm path) is one run of the batched CSR kernel — one pass over
    X — counted at the kernel driver, not timed."""
    from fastlr.kernels import _batched_csr, _layout

    X, y = cancer
    X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    y_index = (y == 1).astype(np.int64)
    masks = _training_masks(X, y)
    Cs = np.array([0.01, 0.3, 10.0])
    options = _lbfgs_grid_options()
    runs = []
    real = _layout.run_tasks

    def counting(kernel, n_tasks, width, args, work):
        runs.append((kernel, args[3].shape[0]))  # args[3]: W (models of the pass, n)
        return real(kernel, n_tasks, width, args, work)

    monkeypatch.setattr(_layout, "run_tasks", counting)
    grid = _cv.fit_grid(X, y_index, 2, None, masks, Cs, options, np.ones(2), "binary",
                        warm_path=warm_path)
    assert len(runs) == grid.passes["gradient"] and set(grid.passes) == {"gradient"}
    assert {kernel for kernel, _ in runs} == {_batched_csr.compiled("pointwise")}
    models = [K for _, K in runs]
    assert max(models) == (len(masks) if warm_path else len(masks) * len(Cs))
    if not warm_path:  # one batch: models only leave it
        assert models[0] == 9 and models == sorted(models, reverse=True)


def test_wide_grid_solvers_step_on_threads(monkeypatch):
    """A grid of wide models (here 40,000 features, CSR) runs its L-BFGS steps on the kernels'
    threads (``driver.step_threads``), and its models are bitwise those of the serial steps."""
    from fastlr._solvers import driver

    rng = np.random.default_rng(5)
    m, n = 300, 40_000
    X = sp.random(m, n, density=0.001, format="csr", random_state=rng)
    y = (X @ rng.standard_normal(n) + 0.1 * rng.standard_normal(m) > 0).astype(np.int64)
    masks = _training_masks(X, y)
    Cs = np.array([0.1, 10.0])
    asked = []
    real = driver.Lockstep.__init__

    def recording(self, *args, threads=1, **kwargs):
        asked.append(threads)
        real(self, *args, threads=threads, **kwargs)

    monkeypatch.setattr(driver.Lockstep, "__init__", recording)
    monkeypatch.setattr(fastlr._jit, "max_threads", lambda: 2)

    def grid():
        return _cv.fit_grid(X, y, 2, None, masks, Cs, _lbfgs_grid_options(), np.ones(2),
                            "binary", warm_path=True)

    threaded = grid()
    assert asked == [2, 2]  # one batch per C, all folds
    monkeypatch.setattr(_cv, "step_threads", lambda *args: 1)
    serial = grid()
    assert asked[2:] == [1, 1]
    np.testing.assert_array_equal(threaded.coefs, serial.coefs)
    assert threaded.passes == serial.passes
