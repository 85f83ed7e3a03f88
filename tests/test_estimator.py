"""fastlr.LogisticRegression against scikit-learn and independent NumPy/SciPy computations.

Optima are compared through scikit-learn's objective F(w, b) = C·Σ sᵢ·Lᵢ + ½‖w‖², evaluated here
with NumPy (``np.logaddexp``) from the fitted ``coef_``/``intercept_``, not with fastlr's kernels.
"""

import sys
import types
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from scipy.special import expit  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogisticRegression  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from fastlr.estimator import LogisticRegression  # noqa: E402
from helpers import sk_objective  # noqa: E402

RTOL = 1e-7


def sk_fit(X, y, C, **kw):
    return SkLogisticRegression(C=C, tol=1e-12, max_iter=100_000, **kw).fit(X, y)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_breast_cancer_same_optimum_as_sklearn(cancer, solver, C):
    X, y = cancer
    ours = LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=10_000).fit(X, y)
    ref = sk_fit(X, y, C)
    f_ours = sk_objective(ours.coef_, ours.intercept_[0], X, y, C)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X, y, C)
    assert f_ours <= f_ref * (1 + RTOL)
    assert f_ref <= f_ours * (1 + RTOL)
    assert ours.coef_.shape == (1, X.shape[1]) and ours.intercept_.shape == (1,)
    assert ours.n_iter_.shape == (1,) and ours.n_iter_[0] >= 1
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_float32_gives_float32_and_the_float32_problems_optimum(cancer, solver):
    X, y = cancer
    X32 = X.astype(np.float32)
    C = 1.0
    ours = LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=10_000).fit(X32, y)
    assert ours.coef_.dtype == np.float32 and ours.intercept_.dtype == np.float32
    assert ours.decision_function(X32).dtype == np.float32
    # The float32 problem is the float64 problem on the rounded data; at the optimum, rounding
    # coef_ to float32 moves F only to second order, so the 1e-7 tolerance still holds.
    X_rounded = X32.astype(np.float64)
    ref = sk_fit(X_rounded, y, C)
    f_ours = sk_objective(ours.coef_, ours.intercept_[0], X_rounded, y, C)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X_rounded, y, C)
    assert abs(f_ours - f_ref) <= RTOL * f_ref


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
@pytest.mark.parametrize("C", [0.05, 1.0])
def test_digits_one_vs_rest_same_optimum_per_class(digits, solver, C):
    X, y = digits
    ours = LogisticRegression(C=C, solver=solver, tol=1e-10, max_iter=10_000,
                              multi_class="ovr").fit(X, y)
    ref = OneVsRestClassifier(SkLogisticRegression(C=C, tol=1e-12, max_iter=100_000)).fit(X, y)
    assert ours.coef_.shape == (10, 64) and ours.n_iter_.shape == (10,)
    assert len(ours.loss_history_) == 10
    for k, est in enumerate(ref.estimators_):
        y01 = (y == k).astype(float)
        f_ours = sk_objective(ours.coef_[k], ours.intercept_[k], X, y01, C)
        f_ref = sk_objective(est.coef_, est.intercept_[0], X, y01, C)
        assert abs(f_ours - f_ref) <= RTOL * f_ref, k
    # same normalisation of the per-class sigmoids as scikit-learn's one-vs-rest
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_no_penalty_reaches_the_unpenalised_optimum():
    X, y = make_classification(500, 8, flip_y=0.2, class_sep=0.5, random_state=0)
    ours = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    # the unpenalised gradient, computed with NumPy, vanishes at the optimum
    z = X @ ours.coef_[0] + ours.intercept_[0]
    r = expit(z) - y
    assert np.max(np.abs(np.r_[X.T @ r, r.sum()])) / len(y) < 1e-8
    ref = sk_fit(X, y, np.inf)
    f = sk_objective(ours.coef_, ours.intercept_[0], X, y, 1.0, penalty=False)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X, y, 1.0, penalty=False)
    assert abs(f - f_ref) <= RTOL * f_ref


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_sample_weight_equals_repeated_rows_and_sklearn(cancer, solver):
    X, y = cancer
    sw = np.random.default_rng(0).integers(0, 4, size=len(y))
    weighted = LogisticRegression(solver=solver, tol=1e-10, max_iter=1000).fit(X, y, sample_weight=sw)
    repeated = LogisticRegression(solver=solver, tol=1e-10, max_iter=1000).fit(
        np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-9)
    ref = sk_fit(X, y, 1.0).fit(X, y, sample_weight=sw)
    f = sk_objective(weighted.coef_, weighted.intercept_[0], X, y, 1.0, sw)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X, y, 1.0, sw)
    assert abs(f - f_ref) <= RTOL * f_ref


def test_class_weight_balanced_matches_sklearn(cancer):
    X, y = cancer
    ours = LogisticRegression(class_weight="balanced", tol=1e-10).fit(X, y)
    ref = sk_fit(X, y, 1.0, class_weight="balanced")
    sw = len(y) / (2 * np.bincount(y))[y]
    f = sk_objective(ours.coef_, ours.intercept_[0], X, y, 1.0, sw)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X, y, 1.0, sw)
    assert abs(f - f_ref) <= RTOL * f_ref


def test_gradient_descent_learning_curve_decreases_every_iteration(cancer):
    X, y = cancer
    model = LogisticRegression(solver="gd", learning_rate=0.01, max_iter=200, C=np.inf)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model.fit(X, y)
    J = model.loss_history_
    assert J.shape == (201,)
    assert J[0] == pytest.approx(np.log(2.0), rel=1e-12)  # w = 0, b = 0: every σ is ½
    assert np.all(np.diff(J) < 0)
    # the curve is the slides' cost J at the final parameters, computed independently
    z = X @ model.coef_[0] + model.intercept_[0]
    assert J[-1] == pytest.approx(np.mean(np.logaddexp(0, z) - y * z), rel=1e-12)


def test_convergence_warning_says_what_to_change(cancer):
    X, y = cancer
    with pytest.warns(ConvergenceWarning, match=r"lbfgs failed to converge.*max_iter.*tol.*scale"):
        LogisticRegression(solver="lbfgs", max_iter=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        LogisticRegression().fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd"])
def test_verbose_prints_one_line_per_iteration(cancer, capsys, solver):
    X, y = cancer
    model = LogisticRegression(solver=solver, verbose=1, max_iter=5, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("iter")]
    assert len(lines) == model.n_iter_[0] == len(model.loss_history_) - 1
    assert all("objective" in ln and "max|grad|" in ln and "elapsed" in ln for ln in lines)
    first = float(lines[0].split("objective")[1].split()[0])
    assert first == pytest.approx(model.loss_history_[1], rel=1e-9)


def test_concurrent_fits_match_serial(monkeypatch):
    """Four fits from four Python threads at once, each launching parallel kernels: the same
    coefficients as one after the other (the kernels are bitwise reproducible)."""
    from fastlr import _jit
    from fastlr.kernels import _layout

    X, y = make_classification(30_000, 12, random_state=1)
    # every kernel call on ≥ 2 Numba threads, whatever the size-based thread policy would choose
    monkeypatch.setattr(_jit, "PARALLEL_MIN_BYTES", 0)
    configs = [dict(solver="lbfgs", C=0.1, n_threads=2), dict(solver="newton", C=1.0, n_threads=2),
               dict(solver="lbfgs", C=10.0, n_threads=2), dict(solver="newton", C=0.3, n_threads=2)]
    serial = [LogisticRegression(**c).fit(X, y).coef_ for c in configs]
    launches = []
    run_parallel = _layout.run_parallel
    monkeypatch.setattr(_layout, "run_parallel",
                        lambda *args: launches.append(args[-1]) or run_parallel(*args))
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(lambda c: LogisticRegression(**c).fit(X, y).coef_, configs))
    assert launches and min(launches) >= 2, "precondition: concurrent multi-threaded launches"
    for a, b in zip(serial, concurrent):
        np.testing.assert_array_equal(a, b)


def test_warm_start_continues_from_previous_fit(cancer):
    X, y = cancer
    model = LogisticRegression(solver="lbfgs", warm_start=True, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        first_end = model.loss_history_[-1]
        model.fit(X, y)
    assert model.loss_history_[0] == pytest.approx(first_end, rel=1e-12)
    cold = LogisticRegression(solver="lbfgs", warm_start=False, max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X, y)
        cold.fit(X, y)
    assert cold.loss_history_[0] == pytest.approx(np.log(2.0))


def test_n_threads_is_restored(cancer):
    import numba

    X, y = cancer
    before = numba.get_num_threads()
    LogisticRegression(n_threads=1).fit(X, y).predict(X)
    assert numba.get_num_threads() == before


def test_string_labels_pandas_and_feature_names(cancer):
    pd = pytest.importorskip("pandas")
    X, y = cancer
    df = pd.DataFrame(np.ascontiguousarray(X[:, :5]), columns=[f"f{i}" for i in range(5)])
    labels = np.where(y == 1, "benign", "malignant")
    model = LogisticRegression(tol=1e-10).fit(df, labels)
    np.testing.assert_array_equal(model.classes_, ["benign", "malignant"])
    np.testing.assert_array_equal(model.feature_names_in_, df.columns)
    # classes_[1] is the positive class, as in scikit-learn
    ref = sk_fit(df, labels, 1.0)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6)


def test_probabilities_are_consistent_and_warning_free_at_extremes(digits):
    X, y = digits
    binary = LogisticRegression().fit(X, y == 3)
    multi = LogisticRegression().fit(X, y)
    X_far = X * 1e6  # huge margins: probabilities hit 0 and 1
    for model in (binary, multi):
        for data in (X, X_far):
            P = model.predict_proba(data)
            logP = model.predict_log_proba(data)
            assert np.all(np.isfinite(logP))
            np.testing.assert_allclose(P.sum(axis=1), 1.0)
            np.testing.assert_allclose(np.exp(logP), P, atol=1e-12)
        # (at huge margins several one-vs-rest sigmoids round to 1 and tie, so only on X)
        np.testing.assert_array_equal(model.classes_[np.argmax(model.predict_proba(X), axis=1)],
                                      model.predict(X))


@pytest.mark.parametrize("scale", [1.0, 1e6, 1e200])
def test_one_vs_rest_ties_share_the_probability_at_any_margin(digits, scale):
    """Classes whose margins are equal get equal shares, 1/K each here (by symmetry). At margins
    of 1e200 every log σ is −1e200 and logsumexp rounded to it, so each class got 1: rows
    summing to K (found by the curated warm start from coef_ = 1e200 with lbfgs)."""
    X, y = digits
    model = LogisticRegression(multi_class="ovr", max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X[:300], y[:300])
    K = len(model.classes_)
    model.coef_ = np.tile(model.coef_[3] * scale, (K, 1))
    model.intercept_ = np.full(K, model.intercept_[3] * scale)
    P = model.predict_proba(X[:200])
    np.testing.assert_allclose(P, 1.0 / K, rtol=1e-12)
    assert np.all(np.isfinite(model.predict_log_proba(X[:200])))


def test_no_copy_of_float_X_in_any_order(cancer, monkeypatch):
    from fastlr import _data

    X, y = cancer
    seen = []

    class Recording(_data.ArrayData):
        def __init__(self, X, *args, **kwargs):
            super().__init__(X, *args, **kwargs)
            seen.append(self.X)

    monkeypatch.setattr("fastlr.estimator.ArrayData", Recording)
    for data in (X, np.asfortranarray(X), X.astype(np.float32), X[::2]):
        seen.clear()
        LogisticRegression(solver="lbfgs").fit(data, y[:: 2 if data.shape[0] < len(y) else 1])
        assert seen and all(obj is data for obj in seen)  # the kernel reads the caller's array


def test_dask_collections_go_to_the_dask_backend(monkeypatch):
    """A Dask collection becomes a fastlr.distributed.DaskData for the one fit driver."""
    calls = []

    class FakeDaskData:
        def __init__(self, X, y, sample_weight, estimator_name=None):
            calls.append((X, y, sample_weight))
            raise RuntimeError("stop here")

    fake = types.ModuleType("fastlr.distributed")
    fake.DaskData = FakeDaskData
    monkeypatch.setitem(sys.modules, "fastlr.distributed", fake)
    FakeDaskArray = type("Array", (), {"__module__": "dask.array.core"})
    X = FakeDaskArray()
    with pytest.raises(RuntimeError, match="stop here"):
        LogisticRegression().fit(X, "y", sample_weight="sw")
    assert calls == [(X, "y", "sw")]


@pytest.mark.parametrize("params, error, match", [
    (dict(C=-1.0), ValueError, "C must be"),
    (dict(C="1"), TypeError, "C must be"),
    (dict(C=0.0), ValueError, "C must be"),
    (dict(penalty="l1", solver="lbfgs"), ValueError, "penalty"),
    (dict(l1_ratio=0.5, solver="lbfgs"), ValueError,
     "supports only .l2. or None penalties, got elasticnet"),
    (dict(l1_ratio=2.0), ValueError, "l1_ratio must be a number in"),
    (dict(dual=True), ValueError, "Solver auto supports only dual=False"),
    (dict(dual=True, solver="lbfgs"), ValueError, "Solver lbfgs supports only dual=False"),
    (dict(solver="sgd"), ValueError, "solver"),
    (dict(solver="sag", l1_ratio=1.0), ValueError, "Solver sag supports only .l2. or None"),
    (dict(max_iter=-1), ValueError, "max_iter"),
    (dict(intercept_scaling=0), ValueError, "intercept_scaling"),
    (dict(multi_class="crammer_singer"), ValueError, "multi_class"),
    (dict(class_weight="bogus"), ValueError, "class_weight"),
    (dict(class_weight={0: -1.0, 1: 1.0}), ValueError, "class_weight"),
    (dict(fit_intercept="no"), TypeError, "fit_intercept"),
    (dict(warm_start=5), TypeError, "warm_start"),
    (dict(verbose="x"), TypeError, "verbose"),
    (dict(tol=-1.0), ValueError, "tol"),
    (dict(solver="gd", learning_rate=0.0), ValueError, "learning_rate"),
    (dict(n_threads=0), ValueError, "n_threads"),
])
def test_bad_parameters_are_rejected_in_fit(cancer, params, error, match):
    X, y = cancer
    model = LogisticRegression(**params)  # __init__ only stores
    with pytest.raises(error, match=match):
        model.fit(X, y)


@pytest.mark.parametrize("params, advice", [
    (dict(l1_ratio=1.0, solver="lbfgs"), "fastlr fits L1 and elastic-net penalties under the"),
    (dict(penalty="elasticnet", l1_ratio=0.5, solver="newton-cg"), "solver='saga'"),
    (dict(solver="liblinear", l1_ratio=0.5), "Only 'saga' solver supports elasticnet"),
    (dict(solver="liblinear", C=np.inf), "not supported for the liblinear solver"),
])
def test_unsupported_penalties_and_solvers_say_what_to_do_instead(cancer, params, advice):
    X, y = cancer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # penalty= is deprecated
        with pytest.raises(ValueError) as raised:
            LogisticRegression(**params).fit(X, y)
    assert advice in str(raised.value)


@pytest.mark.parametrize("value", [np.array([1.0, 2.0]), [1.0, 2.0], np.array("balanced"),
                                   {"balanced"}],
                         ids=["array", "list", "0-d-array", "set"])
@pytest.mark.parametrize("name", ["class_weight", "solver", "penalty", "multi_class"])
def test_a_container_where_a_string_or_dict_belongs_is_named(name, value):
    """class_weight=np.array([...]) raised numpy's "truth value of an array is ambiguous" (and
    solver=[...] "unhashable type"): every parameter compared with strings says which it is."""
    X = np.random.default_rng(41).standard_normal((20, 2))
    y = np.arange(20) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # setting penalty warns, as in sklearn
        with pytest.raises(ValueError, match=name):
            LogisticRegression(**{name: value}).fit(X, y)


def test_one_class_with_positive_weight_is_rejected(cancer):
    X, y = cancer
    with pytest.raises(ValueError, match="class"):
        LogisticRegression().fit(X, y, sample_weight=(y == 1).astype(float))


@pytest.mark.parametrize("fmt", ["dense", "F", "csr"])
def test_newton_cg_reaches_sklearns_optimum_without_a_hessian(fmt, monkeypatch):
    """solver="newton-cg" (and "newton" above the Cholesky size limit) take CG steps on
    Hessian-vector products; the Hessian kernel is never called, and the optimum is scikit-learn's
    newton-cg's."""
    import scipy.sparse as sp

    from fastlr import _data

    rng = np.random.default_rng(12)
    X = sp.random(3000, 300, density=0.05, format="csr", random_state=12)
    y = (rng.random(3000) < expit(X @ (3 * rng.standard_normal(300)))).astype(int)
    data = X if fmt == "csr" else (X.toarray() if fmt == "dense" else np.asfortranarray(X.toarray()))
    monkeypatch.setattr(_data._sums, "gram_sums", lambda *a, **k: pytest.fail("Hessian formed"))
    ours = LogisticRegression(solver="newton-cg", C=10.0, tol=1e-10, max_iter=100).fit(data, y)
    assert ours.solver_ == "newton-cg" and ours.n_iter_[0] < 30
    ref = SkLogisticRegression(solver="newton-cg", C=10.0, tol=1e-12, max_iter=1000).fit(X, y)
    f = sk_objective(ours.coef_, ours.intercept_[0], X, y, 10.0)
    f_ref = sk_objective(ref.coef_, ref.intercept_[0], X, y, 10.0)
    assert abs(f - f_ref) <= 1e-9 * f_ref


def test_newton_switches_to_cg_above_the_cholesky_limit(monkeypatch):
    from fastlr import _fit

    X, y = make_classification(400, 30, random_state=3)
    cholesky = LogisticRegression(solver="newton", tol=1e-10).fit(X, y)
    assert cholesky.solver_ == "newton"
    monkeypatch.setattr(_fit, "NEWTON_CHOLESKY_MAX_PARAMS", 10)
    model = LogisticRegression(solver="newton", tol=1e-10).fit(X, y)
    assert model.solver_ == "newton-cg"
    np.testing.assert_allclose(model.coef_, cholesky.coef_, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("multi_class", ["auto", "ovr"])
def test_prediction_dtype_is_the_wider_of_X_and_the_model_as_in_sklearn(multi_class):
    """A float64 model on float32 X gave float32 probabilities (scikit-learn: float64, its
    margins are X·coef_ᵀ in the wider dtype); a float32 model stays float32 on float32 X."""
    rng = np.random.default_rng(40)
    X = rng.standard_normal((200, 4))
    for y in ((X[:, 0] > 0).astype(int), np.digitize(X[:, 0], [-0.5, 0.5])):
        m64 = LogisticRegression(multi_class=multi_class).fit(X, y)
        m32 = LogisticRegression(multi_class=multi_class).fit(X.astype(np.float32), y)
        sk64 = SkLogisticRegression().fit(X, y)
        sk32 = SkLogisticRegression().fit(X.astype(np.float32), y)
        for ours, ref in ((m64, sk64), (m32, sk32)):
            for data in (X, X.astype(np.float32)):
                for method in ("decision_function", "predict_proba", "predict_log_proba"):
                    got = getattr(ours, method)(data).dtype
                    assert got == getattr(ref, method)(data).dtype, (method, ours.coef_.dtype)
        np.testing.assert_allclose(m64.predict_proba(X.astype(np.float32)),
                                   m64.predict_proba(X.astype(np.float32).astype(np.float64)),
                                   rtol=1e-15)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "gd"])
@pytest.mark.parametrize("max_iter", [0, 1, 3])
def test_convergence_warning_counts_the_iterations_n_iter_reports(solver, max_iter):
    """max_iter=0 warned "after 1 iteration(s)" (scipy's count) with n_iter_ == [0]."""
    import re

    X = np.random.default_rng(42).standard_normal((300, 3))
    y = (X[:, 0] + 0.3 * np.random.default_rng(43).standard_normal(300) > 0).astype(int)
    with pytest.warns(ConvergenceWarning) as caught:
        model = LogisticRegression(solver=solver, max_iter=max_iter, tol=0.0).fit(X, y)
    (said,) = {int(n) for w in caught
               for n in re.findall(r"after (\d+) iteration", str(w.message))}
    assert model.n_iter_.tolist() == [max_iter] and said == max_iter


def _warm_outcome(make, X1, y1, X2, y2, **params):
    """The second fit of a warm-started model: ("raises", message) or ("fits", model)."""
    model = make(warm_start=True, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X1, y1)
        try:
            model.fit(X2, y2)
        except ValueError as exc:
            return "raises", str(exc)
    return "fits", model


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("change", ["n_features", "binary->3", "3->binary", "3->4",
                                    "relabelled"])
def test_warm_start_with_other_data_does_what_sklearn_does(change, fit_intercept):
    """A changed n_features or number of classes silently restarted from zero where
    scikit-learn raises; labels changed with the same count restarted from zero where it warm
    starts, row by row. Same outcome, same message."""
    rng = np.random.default_rng(44)
    X = rng.standard_normal((300, 4))
    y2 = (X[:, 0] > 0).astype(int)
    y3 = np.digitize(X[:, 0], [-0.5, 0.5])
    y4 = np.digitize(X[:, 0], [-0.7, 0, 0.7])
    first, second = {"n_features": ((X, y2), (X[:, :3], y2)),
                     "binary->3": ((X, y2), (X, y3)), "3->binary": ((X, y3), (X, y2)),
                     "3->4": ((X, y3), (X, y4)), "relabelled": ((X, y3), (X, y3 + 10))}[change]
    params = dict(fit_intercept=fit_intercept, max_iter=5, solver="lbfgs")  # 5 lbfgs steps each
    ours = _warm_outcome(LogisticRegression, *first, *second, **params)
    ref = _warm_outcome(SkLogisticRegression, *first, *second, **params)
    assert ours[0] == ref[0]
    if ref[0] == "raises":
        assert ours[1].startswith(ref[1]), (ours[1], ref[1])
        return
    # relabelled: both start from the first fit's rows; fastlr's curve starts at their objective
    start = LogisticRegression(max_iter=5, fit_intercept=fit_intercept, solver="lbfgs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start.fit(*first)
    Z = X @ start.coef_.T + start.intercept_
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    J0 = -np.mean(np.log(P[np.arange(len(y3)), y3])) + 0.5 * np.sum(start.coef_ ** 2) / len(y3)
    assert ours[1].loss_history_[0] == pytest.approx(J0, rel=1e-10)
    np.testing.assert_allclose(ours[1].predict_proba(X), ref[1].predict_proba(X), atol=1e-3)
