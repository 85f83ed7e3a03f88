"""scikit-learn's own LogisticRegression tests, run against ``fastlr.LogisticRegression``.

Each test here is scikit-learn's test function of the same name, from the installed
``sklearn/linear_model/tests/test_logistic.py``, run unchanged — its data, assertions and
tolerances — with that module's ``LogisticRegression`` replaced by
``sklearn_adapter.LogisticRegression``: fastlr's estimator, or scikit-learn's own for
``solver="liblinear"/"sag"/"saga"``, which then serve as the reference that fastlr's fits are
compared against (see ``sklearn_adapter.py``). The L1, elastic-net and liblinear/sag/saga tests
(``_EVERY``) build fastlr under every solver name, those names included: fastlr fits their
objectives, and those tests' assertions are fixed expectations, the objective, or agreement
between the solvers. Each run test must fit fastlr at least once.
Its ``LogisticRegressionCV`` likewise becomes ``sklearn_adapter.LogisticRegressionCV``: fastlr's
CV estimator, or scikit-learn's for its own solver names; the tests of L1, elastic-net and
liblinear grids (``_CV_EVERY``, and the ``_EVERY`` tests' CV parameter sets) build fastlr's CV
under every solver name.
Parametrised tests keep the parameter sets that reach fastlr: solvers lbfgs, newton-cg and
newton-cholesky (fastlr's lbfgs and Newton); scikit-learn's ``LogisticRegression`` and
``LogisticRegressionCV`` passed as a parameter become fastlr's. scikit-learn's ``filterwarnings`` and
``skipif`` marks come along. ``global_random_seed`` is scikit-learn's default seed, 42;
``SKLEARN_TESTS_GLOBAL_RANDOM_SEED=all`` runs seeds 0-99 as scikit-learn's CI can (all passed
when this module was written: 3072 passed, 908 xfailed, in 3 minutes).

``APPLICABLE`` lists the tests run, with the parameter sets kept, the translations made and the
strict expected failures — differences from scikit-learn that these tests found, each with the
exception it must fail with. ``NOT_APPLICABLE`` lists every other test of the module with the
reason. ``test_every_sklearn_test_is_accounted_for`` fails when scikit-learn's module gains or
loses a test, so that the two lists stay complete.

Run: ``python -m pytest tests/sklearn_logistic -q -p no:cacheprovider``.
"""

from __future__ import annotations

import os

import pytest

sklearn = pytest.importorskip("sklearn")

# Written against scikit-learn 1.9's test module: its tests, parameters and messages change
# between minor versions (penalty and l1_ratio deprecations, callbacks), so another version is
# skipped with a message rather than half run.
SKLEARN_VERSION = "1.9"
if ".".join(sklearn.__version__.split(".")[:2]) != SKLEARN_VERSION:
    pytest.skip(f"written against scikit-learn {SKLEARN_VERSION}'s test_logistic.py; installed: "
                f"{sklearn.__version__}", allow_module_level=True)

skt = pytest.importorskip("sklearn.linear_model.tests.test_logistic",
                          reason="this scikit-learn install does not ship its tests")

from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression  # noqa: E402
from sklearn.linear_model import LogisticRegressionCV  # noqa: E402

from .sklearn_adapter import (  # noqa: E402
    FASTLR_SOLVERS,
    FastlrForEverySolver,
    LogisticRegression,
    LogisticRegressionCV as FastlrCV,
    FastlrCVForEverySolver,
    fastlr_cv_for_every_solver,
    fastlr_for_every_solver,
    liblinear_as_lbfgs,
    make_test,
)


def _random_seeds():
    """scikit-learn's seeds: 42, or SKLEARN_TESTS_GLOBAL_RANDOM_SEED ("17", "0-9", "all") as in
    scikit-learn's conftest; scikit-learn states that every seed in [0, 99] must pass."""
    value = os.environ.get("SKLEARN_TESTS_GLOBAL_RANDOM_SEED")
    if value is None:
        return [42]
    if value == "all":
        return list(range(100))
    if "-" in value:
        start, stop = value.split("-")
        return list(range(int(start), int(stop) + 1))
    return [int(value)]


@pytest.fixture(params=_random_seeds())
def global_random_seed(request):
    """scikit-learn's conftest fixture: 42, unless SKLEARN_TESTS_GLOBAL_RANDOM_SEED is set."""
    return request.param


def _fastlr_solver(params):
    """The parameter sets whose solver is one of fastlr's (all of them, if not parametrised)."""
    return params.get("solver", "lbfgs") in FASTLR_SOLVERS


def _default_keep(params):
    return _fastlr_solver(params)


#: options of a test that fits fastlr under every solver name (L1, elastic net, liblinear),
#: LogisticRegressionCV included (its parameter sets with LR=LogisticRegressionCV run fastlr's CV)
_EVERY = {"factory": fastlr_for_every_solver, "cv_factory": fastlr_cv_for_every_solver,
          "keep": lambda params: True,
          "substitute": {SklearnLogisticRegression: FastlrForEverySolver,
                         LogisticRegressionCV: FastlrCVForEverySolver}}

#: options of a test of L1, elastic-net or liblinear CV grids: fastlr's CV and fastlr's
#: LogisticRegression under every solver name (the test compares the two, or checks shapes)
_CV_EVERY = {"factory": fastlr_for_every_solver, "cv_factory": fastlr_cv_for_every_solver}

#: scikit-learn's class passed as a parameter (``LR``, ``Estimator``, ``est``) becomes fastlr's
SUBSTITUTE = {SklearnLogisticRegression: LogisticRegression, LogisticRegressionCV: FastlrCV}

#: name -> options of ``sklearn_adapter.make_test`` (keep, xfail, factory) for the tests run
APPLICABLE = {
    "test_predict_2_classes": {},
    "test_predict_3_classes": {},
    "test_logistic_glmnet": {},
    # parameter set LR=LogisticRegressionCV: LogisticRegressionCV only
    "test_check_solver_option": {},
    "test_sparsify": _EVERY,
    "test_inconsistent_input": {},
    "test_write_parameters": {},
    "test_nan": {},
    # its loop over lbfgs/newton-cg/newton-cholesky compares fastlr to scikit-learn's
    # _logistic_regression_path (C=1e3, tol=1e-6, 4 decimals); sag/saga/liblinear are sklearn's
    "test_consistency_path": {},
    # fastlr with string and numeric labels; LogisticRegressionCV is scikit-learn's
    "test_multinomial_logistic_regression_string_inputs": {},
    # fastlr's predict_proba on coefficients taken from LogisticRegressionCV's paths
    "test_logistic_cv_folds_with_classes_missing": {},
    # fastlr's lbfgs and Newton against scikit-learn's liblinear, sag and saga
    "test_logistic_regression_solvers": {},
    "test_logistic_regression_solvers_multiclass": {},
    "test_logistic_regression_solvers_multiclass_unpenalized": {},
    "test_logistic_regression_sample_weights": {},
    "test_logistic_regression_solver_class_weights": {},
    "test_logistic_regression_class_weights": _EVERY,
    # checks that a zero decision function predicts the negative class (a scikit-learn
    # regression test against liblinear's convention): generic, so liblinear becomes lbfgs
    "test_liblinear_decision_function_zero": {"factory": liblinear_as_lbfgs},
    "test_logreg_intercept_scaling_zero": {},
    "test_logreg_predict_proba_multinomial": _EVERY,
    # liblinear/sag/saga parameter sets: scikit-learn's solvers only
    "test_max_iter": _EVERY,
    "test_n_iter": _EVERY,
    "test_warm_start": _EVERY,
    "test_warm_start_newton_solver": {},
    # scikit-learn's liblinear computes in float64 and returns a float64 model for float32 X;
    # fastlr keeps float32 models float32 under every solver name (strict expected failure)
    "test_dtype_match": {**_EVERY, "xfail": lambda p: (
        "fastlr: float32 X gives a float32 model with solver='liblinear' too",
        AssertionError) if p["solver"] == "liblinear" else None},
    # fastlr's Newton per fold against LogisticRegressionCV(solver="newton-cholesky")'s paths
    "test_LogisticRegressionCV_on_folds": {},
    "test_penalty_none": {},
    "test_c_inf_no_warning": {},
    "test_multinomial_identifiability_on_iris": {},
    "test_sample_weight_not_modified": {},
    "test_large_sparse_matrix": {},
    "test_single_feature_newton_cg": {},
    "test_zero_max_iter": {},
    "test_penalty_deprecated": {},
    "test_l1_ratio_None_deprecated": {},
    "test_logisticregression_warns_with_n_jobs": {},
    # scikit-learn 1.9's callback API (sklearn.callback): set_callbacks, the task tree per iteration
    "test_logistic_regression_callback_support": {},
    "test_logistic_regression_callback_fitted_estimator": {},
    # LogisticRegressionCV (fastlr's; scikit-learn's for the saga/sag/liblinear names)
    "test_logistic_cv_refit_false_non_elasticnet": {},
    "test_logistic_cv_mock_scorer": {},
    "test_multinomial_cv_iris": {},
    "test_logistic_cv_sparse": {},
    "test_logistic_regressioncv_class_weights": {},
    "test_lr_cv_scores_differ_when_sample_weight_is_requested": {},
    "test_lr_cv_scores_without_enabling_metadata_routing": {},
    "test_passing_params_without_enabling_metadata_routing": {},
    "test_logisticregressioncv_warns_with_use_legacy_attributes": {},
    "test_lr_scoring_warns": {},
    # constructs the estimator and asks for its default scorer: no fit
    "test_get_default_scorer": {"fits": False},
    # L1, elastic net, liblinear, sag, saga: fastlr under every solver name
    "test_elasticnet_l1_ratio_err_helpful": _EVERY,
    "test_logreg_l1": _EVERY,
    "test_saga_vs_liblinear": _EVERY,
    "test_elastic_net_coeffs": _EVERY,
    "test_elastic_net_l1_l2_equivalence": _EVERY,
    "test_elastic_net_vs_l1_l2": _EVERY,
    "test_LogisticRegression_elastic_net_objective": _EVERY,
    "test_l1_ratio_non_elasticnet": _EVERY,
    "test_elastic_net_versus_sgd": _EVERY,
    "test_lr_penalty_l1ratio_incompatible": _EVERY,
    "test_sample_and_class_weight_equivalence_liblinear": _EVERY,
    "test_logisticregression_liblinear_sample_weight": _EVERY,
    "test_liblinear_not_stuck": _EVERY,
    "test_liblinear_multiclass_raises": _EVERY,
    "test_warm_start_converge_LR": _EVERY,
    # L1, elastic-net and liblinear grids: fastlr's CV under every solver name
    # liblinear's solver ignores a starting point, so scikit-learn's refit from the folds' mean
    # lands on the solo fit to 6 decimals at tol=1e-4; fastlr's refit starts there and stops
    # at tol=1e-4 about 1e-3 from the cold-started solo fit (strict expected failure)
    "test_logistic_cv": {**_CV_EVERY, "xfail": lambda p: (
        "fastlr: the refit warm-starts from the folds' mean and stops at tol=1e-4, ~1e-3 "
        "from the solo fit; the test asserts 6 decimals", AssertionError)},
    # l1_ratio=0 under saga runs L-BFGS on the L2 objective: at tol=1e-12 it stops ~1e-8 from
    # the solo fit (the test asserts rtol 1e-7); L1 and elastic net pass
    "test_logistic_regression_cv_refit": {**_CV_EVERY, "xfail": lambda p: (
        "fastlr: L-BFGS (l1_ratio=0 under saga) stops ~1e-8 apart from the solo fit at "
        "tol=1e-12; the test asserts rtol 1e-7", AssertionError) if p["l1_ratio"] == 0
        else None},
    # tol=1e-2 (fastlr's rule: max|subgradient| of the mean-scaled objective), 3 classes: the
    # grid, warm-started along Cs, stops its C=1 models far from their optima — held-out
    # log-loss -0.4063 at l1_ratio 0.5 (optimum -0.4231) and -0.4088 at 1.0 (optimum -0.4073)
    # — and that 0.0025 tie picks l1_ratio 0.5 where GridSearchCV's cold fits pick 1.0; at
    # tol=1e-4 and 1e-8 both pick C=1, l1_ratio=1 (OWL-QN's iterates since 2026-12-08; FISTA's
    # happened to land the other way)
    "test_LogisticRegressionCV_GridSearchCV_elastic_net": {**_CV_EVERY, "xfail": lambda p: (
        "fastlr: at tol=1e-2 the warm-started multinomial grid's C=1 models stop far from "
        "their optima, a 0.0025 log-loss tie between l1_ratio 0.5 and 1 that picks 0.5; at "
        "tol=1e-4 and 1e-8 it picks GridSearchCV's l1_ratio 1", AssertionError)
        if p["n_classes"] == 3 else None},
    "test_LogisticRegressionCV_no_refit": _CV_EVERY,
    "test_LogisticRegressionCV_elasticnet_attribute_shapes": _CV_EVERY,
    # tol=1e-3 (max|subgradient| of the mean-scaled objective, fastlr's rule): the grid's
    # warm-started models and cross_val_score's cold-started ones stop 2.5e-3 apart in score
    # (the test asserts rel 1e-3; saga's rule, on the change in w, lands closer)
    "test_scores_attribute_layout_elasticnet": {**_CV_EVERY, "xfail": lambda p: (
        "fastlr: at tol=1e-3 the warm-started grid and the cold-started solo fits stop 2.5e-3 "
        "apart in log-loss; the test asserts rel 1e-3", AssertionError)},
}

_PATH = "scikit-learn's private _logistic_regression_path only"
_ARRAY_API = "array API dispatch (fastlr takes NumPy, pandas, scipy.sparse and Dask input)"

#: name -> why scikit-learn's test does not apply to fastlr.LogisticRegression
NOT_APPLICABLE = {
    "test_logistic_cv_multinomial_score": (
        "compares with scikit-learn's private _log_reg_scoring_path called with the "
        "estimator's get_params(), which cannot take fastlr's extra parameters "
        "(learning_rate, n_threads, multi_class)"),
    # _logistic_regression_path
    "test_logistic_regression_path_convergence_fail": _PATH,
    "test_logistic_regression_path_coefs_multinomial": _PATH + " (saga, L1)",
    "test_logistic_regression_path_init_coefs": _PATH,
    # liblinear specifics that fastlr does not share
    "test_liblinear_dual_random_state":
        "liblinear's dual coordinate descent depends on random_state (the test asserts that two "
        "seeds give different models); fastlr solves the primal problem deterministically, so "
        "dual=True and random_state change nothing",
    "test_liblinear_with_large_values":
        "scikit-learn raises for X.max() > 1e30 because liblinear's solver freezes on it; "
        "fastlr's solvers do not, so it fits such X",
    "test_logistic_regression_callback_support_warning":
        "scikit-learn warns that callbacks need solver='lbfgs'; fastlr's callbacks work with "
        "every solver, liblinear's name included",
    "test_newton_cholesky_fallback_to_lbfgs":
        "scikit-learn's newton-cholesky internals: its fallback to lbfgs on a singular Hessian "
        "(LinAlgWarning, then lbfgs's n_iter_ and lbfgs's warning); fastlr's Newton has no "
        "such fallback",
    # array API
    "test_logistic_regression_array_api_compliance": _ARRAY_API,
    "test_logistic_regression_array_api_warm_start": _ARRAY_API,
}

for _name, _options in APPLICABLE.items():
    _keep = _options.get("keep", _default_keep)
    globals()[_name] = make_test(skt, _name, keep=_keep,
                                 substitute=_options.get("substitute", SUBSTITUTE),
                                 xfail=_options.get("xfail"),
                                 factory=_options.get("factory", LogisticRegression),
                                 cv_factory=_options.get("cv_factory", FastlrCV),
                                 fits=_options.get("fits", True))


def test_every_sklearn_test_is_accounted_for():
    """Each test of scikit-learn's module is run here or listed as not applicable, once."""
    sklearn_tests = {name for name in vars(skt) if name.startswith("test_")
                     and callable(getattr(skt, name))}
    assert not set(APPLICABLE) & set(NOT_APPLICABLE)
    assert sklearn_tests == set(APPLICABLE) | set(NOT_APPLICABLE), (
        f"not accounted for: {sorted(sklearn_tests - set(APPLICABLE) - set(NOT_APPLICABLE))}; "
        f"no longer in scikit-learn: "
        f"{sorted((set(APPLICABLE) | set(NOT_APPLICABLE)) - sklearn_tests)}")


def test_adapter_builds_fastlr_and_sklearn_reference():
    """The adapter's one translation: fastlr for fastlr's solvers, scikit-learn otherwise."""
    from sklearn.base import clone

    import fastlr

    for solver in sorted(FASTLR_SOLVERS):
        est = LogisticRegression(solver=solver)
        assert isinstance(est, fastlr.LogisticRegression)
        assert isinstance(clone(est), fastlr.LogisticRegression)
    for solver in ("liblinear", "sag", "saga"):
        est = LogisticRegression(solver=solver)
        assert type(est) is SklearnLogisticRegression
