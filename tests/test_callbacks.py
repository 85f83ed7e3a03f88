"""scikit-learn 1.9's callback API on fastlr.LogisticRegression (``set_callbacks``,
``sklearn.callback.ProgressBar``): the task tree for every solver, the fitted estimator an
iteration hands out, one-vs-rest, teardown on errors, and a fit left unchanged by callbacks.

scikit-learn's own callback tests of test_logistic.py run against fastlr in
tests/sklearn_logistic. Small float64 C-order problems: kernels the rest of the suite compiles.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn.callback")  # scikit-learn >= 1.9

from sklearn.datasets import make_classification  # noqa: E402

import fastlr  # noqa: E402


class Recorder:
    """A FitCallback that records every hook: (hook, task name, task id, parent's task name,
    fitted estimator's coef_ or None)."""

    def __init__(self, fail_at_end_of=None):
        self.record = []
        self.fail_at_end_of = fail_at_end_of

    def setup(self, estimator, context):
        self.record.append(("setup", context.task_name, context.task_id, None, None))

    def _hook(self, name, context, fitted_estimator):
        parent = None if context.parent is None else context.parent.task_name
        coef = None if fitted_estimator is None else np.array(fitted_estimator.coef_)
        self.record.append((name, context.task_name, context.task_id, parent, coef))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self._hook("begin", context, fitted_estimator)

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self._hook("end", context, fitted_estimator)
        if self.fail_at_end_of == (context.task_name, context.task_id):
            raise RuntimeError("callback exploded")

    def teardown(self, estimator, context):
        self.record.append(("teardown", context.task_name, context.task_id, None, None))

    def hooks(self, name, task_name=None):
        return [r for r in self.record if r[0] == name and (task_name is None or r[1] == task_name)]


def _binary():
    return make_classification(n_samples=300, n_features=4, n_informative=3, n_redundant=0,
                               random_state=0)


@pytest.mark.parametrize("solver", ["lbfgs", "newton", "newton-cg", "gd"])
def test_every_solver_reports_one_task_per_iteration(solver):
    """Root task, then n_iter iteration tasks and one empty one (scikit-learn's lbfgs tree); the
    estimator an iteration ends with is the model fitted with max_iter = that many iterations."""
    X, y = _binary()
    params = {"solver": solver, "max_iter": 6 if solver == "gd" else 100, "learning_rate": 1.0}
    cb = Recorder()
    model = fastlr.LogisticRegression(**params).set_callbacks(cb)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gd stops at max_iter
        model.fit(X, y)
    n_iter = int(model.n_iter_[0])
    name = f"{model.solver_}-iter"
    assert len(cb.hooks("setup")) == len(cb.hooks("teardown")) == 1
    assert [r[1] for r in cb.hooks("begin")] == ["fit"] + [name] * (n_iter + 1)
    assert [r[1] for r in cb.hooks("end")] == [name] * (n_iter + 1) + ["fit"]
    ends = cb.hooks("end", name)
    assert [r[2] for r in ends] == list(range(n_iter + 1))
    assert all(r[3] == "fit" for r in ends)
    assert ends[-1][4] is None  # the empty task has no estimator
    for i in (0, n_iter - 1):  # after the first and after the last iteration
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = fastlr.LogisticRegression(**{**params, "max_iter": i + 1}).fit(X, y)
        np.testing.assert_allclose(ends[i][4], expected.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(cb.hooks("end", "fit")[0][4], model.coef_)  # the final model


def test_callbacks_do_not_change_the_fit():
    X, y = _binary()
    plain = fastlr.LogisticRegression().fit(X, y)
    watched = fastlr.LogisticRegression().set_callbacks(Recorder()).fit(X, y)
    np.testing.assert_array_equal(watched.coef_, plain.coef_)
    np.testing.assert_array_equal(watched.intercept_, plain.intercept_)
    assert watched.n_iter_ == plain.n_iter_


def test_one_vs_rest_reports_a_task_per_class_with_its_iterations():
    X, y = make_classification(n_samples=300, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    cb = Recorder()
    model = fastlr.LogisticRegression(multi_class="ovr", solver="lbfgs").set_callbacks(cb).fit(X, y)
    classes = [f"class {c!r} vs rest" for c in model.classes_]
    assert [r[1] for r in cb.hooks("begin") if r[3] == "fit"] == classes
    for k, name in enumerate(classes):
        iterations = [r for r in cb.hooks("end", "lbfgs-iter") if r[3] == name]
        assert len(iterations) == model.n_iter_[k] + 1
        assert all(r[4] is None for r in iterations)  # one class is not a model
    assert len(cb.hooks("end", "fit")) == 1


def test_a_failing_callback_stops_the_fit_and_is_torn_down():
    X, y = _binary()
    cb = Recorder(fail_at_end_of=("lbfgs-iter", 2))
    model = fastlr.LogisticRegression(solver="lbfgs").set_callbacks(cb)
    with pytest.raises(RuntimeError, match="callback exploded"):
        model.fit(X, y)
    assert len(cb.hooks("teardown")) == 1
    assert not hasattr(model, "coef_")  # nothing set before the fit completes
    assert not hasattr(model, "_callback_fit_ctx")


def test_warnings_still_point_at_the_callers_line():
    X, y = _binary()
    model = fastlr.LogisticRegression(max_iter=1, solver="lbfgs").set_callbacks(Recorder())
    with pytest.warns(Warning, match="failed to converge") as caught:
        model.fit(X, y)
    assert caught[0].filename == __file__


def test_progress_bar():
    """scikit-learn's ProgressBar (rich) over a multinomial fit: it runs, and the fit is the same."""
    pytest.importorskip("rich")
    from sklearn.callback import ProgressBar

    X, y = make_classification(n_samples=300, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    plain = fastlr.LogisticRegression().fit(X, y)
    model = fastlr.LogisticRegression().set_callbacks(ProgressBar()).fit(X, y)
    np.testing.assert_array_equal(model.coef_, plain.coef_)
