"""Run scikit-learn's own ``test_logistic.py`` tests against ``fastlr.LogisticRegression``.

scikit-learn ships its tests in the package (``sklearn.linear_model.tests.test_logistic``). A test
function there builds its estimators from the module global ``LogisticRegression``; for the
duration of one test, :func:`run_sklearn_test` replaces that global by :class:`LogisticRegression`
below, a thin subclass of ``fastlr.LogisticRegression``, and calls scikit-learn's function
unchanged: its data, its parameters, its assertions and its tolerances.

What the adapter translates, and nothing else:

* ``solver="liblinear" | "sag" | "saga"`` — scikit-learn's own solvers — builds scikit-learn's
  real ``sklearn.linear_model.LogisticRegression`` (fastlr fits their objectives under those
  names too; :class:`FastlrForEverySolver` is fastlr for every name, for the tests about them). Many of scikit-learn's tests fit the same problem
  with every solver and compare the fits pairwise; there scikit-learn's solvers are the reference
  that fastlr's lbfgs and Newton fits are compared against. A test whose assertions would only
  ever reach scikit-learn's solvers is not run at all (see ``NOT_APPLICABLE`` in
  ``test_sklearn_logistic.py``): it would test scikit-learn, not fastlr.
* ``_predict_proba_lr`` — a private helper of scikit-learn's ``LinearClassifierMixin`` (the
  normalised one-vs-rest sigmoids of the decision function), which one test calls to build a
  deliberately worse probability model. It is scikit-learn's own code, run on fastlr's public
  ``decision_function``.

``LogisticRegressionCV`` becomes :class:`LogisticRegressionCV` below, ``fastlr.LogisticRegressionCV``
under scikit-learn's name, with the same translation: scikit-learn's solver names build
scikit-learn's ``LogisticRegressionCV`` (the reference); :class:`FastlrCVForEverySolver` is
fastlr's CV for every name, for the tests of L1, elastic-net and liblinear grids (fastlr's CV
fits them under the names scikit-learn gives them). Other scikit-learn objects the tests use —
``_logistic_regression_path``, ``OneVsRestClassifier``, ``GridSearchCV`` ... — stay
scikit-learn's.
"""

from __future__ import annotations

import inspect
import itertools
from contextlib import contextmanager

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression as SklearnLogisticRegression
from sklearn.linear_model import LogisticRegressionCV as SklearnLogisticRegressionCV
from sklearn.linear_model._base import LinearClassifierMixin

import fastlr

#: scikit-learn's solvers that fastlr does not implement: built as scikit-learn's estimator
REFERENCE_SOLVERS = frozenset({"liblinear", "sag", "saga"})
#: the solver names fastlr.LogisticRegression accepts that scikit-learn's tests use
FASTLR_SOLVERS = frozenset({"lbfgs", "newton-cg", "newton-cholesky"})


class LogisticRegression(fastlr.LogisticRegression):
    """``fastlr.LogisticRegression`` under scikit-learn's name, for scikit-learn's tests.

    ``LogisticRegression(solver="liblinear" | "sag" | "saga", ...)`` returns scikit-learn's
    estimator (the reference); every other call returns this class, i.e. fastlr's estimator with
    fastlr's ``__init__``, ``get_params``, ``fit`` and predictions untouched. ``clone`` works:
    it calls the class again with the same parameters.
    """

    #: fits of fastlr's estimator so far; ``make_test`` checks that each test made at least one
    fits = 0

    def __new__(cls, *args, **kwargs):
        if kwargs.get("solver") in REFERENCE_SOLVERS:
            return SklearnLogisticRegression(*args, **kwargs)
        return super().__new__(cls)

    def fit(self, X, y, sample_weight=None):
        LogisticRegression.fits += 1
        return super().fit(X, y, sample_weight=sample_weight)

    # scikit-learn's private helper, computed from fastlr's decision_function (see module doc)
    _predict_proba_lr = LinearClassifierMixin._predict_proba_lr


class LogisticRegressionCV(fastlr.LogisticRegressionCV):
    """``fastlr.LogisticRegressionCV`` under scikit-learn's name; scikit-learn's estimator for
    its own solver names (see the module docstring)."""

    def __new__(cls, *args, **kwargs):
        if kwargs.get("solver") in REFERENCE_SOLVERS:
            return SklearnLogisticRegressionCV(*args, **kwargs)
        return super().__new__(cls)

    def fit(self, X, y, sample_weight=None, **params):
        LogisticRegression.fits += 1
        return super().fit(X, y, sample_weight=sample_weight, **params)


class FastlrForEverySolver(LogisticRegression):
    """fastlr's estimator for every solver name, "liblinear", "sag" and "saga" included (fastlr
    fits their objectives): for scikit-learn's L1, elastic-net and liblinear tests, whose
    assertions compare those solvers with each other or with fixed expectations."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)


FastlrForEverySolver.__name__ = "LogisticRegression"  # parameter ids stay scikit-learn's


def fastlr_for_every_solver(*args, **kwargs):
    """A ``LogisticRegression`` factory that never builds scikit-learn's estimator."""
    return FastlrForEverySolver(*args, **kwargs)


class FastlrCVForEverySolver(LogisticRegressionCV):
    """fastlr's CV for every solver name, "liblinear", "sag" and "saga" included: for
    scikit-learn's tests of L1, elastic-net and liblinear grids."""

    def __new__(cls, *args, **kwargs):
        return object.__new__(cls)


FastlrCVForEverySolver.__name__ = "LogisticRegressionCV"


def fastlr_cv_for_every_solver(*args, **kwargs):
    """A ``LogisticRegressionCV`` factory that never builds scikit-learn's estimator."""
    return FastlrCVForEverySolver(*args, **kwargs)


def liblinear_as_lbfgs(*args, **kwargs):
    """A ``LogisticRegression`` factory for a test that names ``solver="liblinear"`` only to
    check behaviour every solver must share: that solver becomes fastlr's lbfgs."""
    if kwargs.get("solver") == "liblinear":
        kwargs["solver"] = "lbfgs"
    return LogisticRegression(*args, **kwargs)


@contextmanager
def patched(module, **replacements):
    """Set ``module.<name>`` for each replacement; restore the originals afterwards."""
    saved = {name: getattr(module, name) for name in replacements}
    try:
        for name, value in replacements.items():
            setattr(module, name, value)
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


# ----------------------------------------------------------------------------- parametrisation
def _names(argnames):
    if isinstance(argnames, str):
        return [name.strip() for name in argnames.split(",") if name.strip()]
    return list(argnames)


def _id(name, index, value):
    if isinstance(value, str) and len(value) <= 20 and " " not in value:
        return value
    if isinstance(value, (bool, int, float, np.integer, np.floating)) or value is None:
        return str(value)
    label = getattr(value, "__name__", "")
    if (isinstance(value, type) or callable(value)) and label.isidentifier():
        return label
    return f"{name}{index}"


def parameter_sets(func):
    """Every combination of the values of ``func``'s ``pytest.mark.parametrize`` marks (stacked
    marks multiply, as in pytest), as (id, {argname: value}) pairs."""
    axes = []
    for mark in getattr(func, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        names = _names(mark.args[0])
        entries = []
        for index, value in enumerate(mark.args[1]):
            if isinstance(value, type(pytest.param())):
                value = value.values
            elif len(names) == 1:
                value = (value,)
            entries.append((index, dict(zip(names, value))))
        axes.append((names, entries))
    combos = []
    for entries in itertools.product(*(entries for _, entries in axes)):
        params, ids = {}, []
        for (names, _), (index, values) in zip(axes, entries):
            params.update(values)
            ids.extend(_id(name, index, values[name]) for name in names)
        combos.append(("-".join(ids), params))
    return combos


def copied_marks(func, module):
    """``func``'s marks that change how it runs — ``filterwarnings`` and ``skipif`` — and the test
    module's own ``pytestmark``, in the order pytest applies them to scikit-learn's item."""
    keep = ("filterwarnings", "skipif", "skip")
    own = [m for m in getattr(func, "pytestmark", []) if m.name in keep]
    module_marks = getattr(module, "pytestmark", [])
    if not isinstance(module_marks, list):
        module_marks = [module_marks]
    return own + [m for m in module_marks if m.name in keep]


def make_test(module, name, *, keep=None, substitute=None, xfail=None, factory=LogisticRegression,
              cv_factory=LogisticRegressionCV, fits=True):
    """A pytest test function running ``module.<name>`` against fastlr.

    keep(params) -> bool chooses the parameter sets that apply (all if None); substitute maps a
    parameter value (scikit-learn's class passed as ``LR``) to its replacement; xfail(params) ->
    (reason, exception type) or None marks a parameter set as a strict expected failure: it must
    fail, and with that exception; factory is what the test module's ``LogisticRegression``
    becomes while the test runs. The test also fails if it fitted no fastlr estimator.
    """
    func = getattr(module, name)
    substitute = substitute or {}
    sig = inspect.signature(func)

    def test(**kwargs):
        kwargs = {k: substitute.get(_key(v), v) for k, v in kwargs.items()}
        before = LogisticRegression.fits
        with patched(module, LogisticRegression=factory, LogisticRegressionCV=cv_factory):
            func(**kwargs)
        # a test that never reached fastlr would test scikit-learn only
        assert LogisticRegression.fits > before or not fits, f"{name} fitted no fastlr estimator"

    test.__name__ = name
    test.__qualname__ = name
    test.__doc__ = func.__doc__
    test.__signature__ = sig
    test.__module__ = __name__
    marks = copied_marks(func, module)
    combos = parameter_sets(func)
    if combos and combos != [("", {})]:
        argnames = list(combos[0][1])
        params = []
        for test_id, values in combos:
            if keep is not None and not keep(values):
                continue
            expected = xfail(values) if xfail else None
            params.append(pytest.param(*(values[a] for a in argnames), id=test_id,
                                       marks=[_xfail(expected)] if expected else []))
        assert params, f"{name}: no parameter set applies"
        marks.append(pytest.mark.parametrize(argnames, params))
    elif xfail and xfail({}):
        marks.append(_xfail(xfail({})))
    test.pytestmark = marks
    return test


def _xfail(expected):
    reason, raises = expected
    return pytest.mark.xfail(strict=True, raises=raises, reason=reason)


def _key(value):
    """A hashable stand-in for a parameter value (classes and functions hash; dicts do not)."""
    try:
        hash(value)
    except TypeError:
        return id(value)
    return value
