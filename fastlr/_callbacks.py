"""scikit-learn's callback API (``sklearn.callback``, scikit-learn 1.9+) on fastlr's fits.

``model.set_callbacks(ProgressBar())`` works as on scikit-learn's ``LogisticRegression``: the
callbacks see a tree of tasks. The fit is the root task; each solver iteration is a subtask
(``"lbfgs-iter"``, ``"newton-iter"``, ``"newton-cg-iter"``, ``"gd-iter"``), begun with the
coefficients it starts from and ended with the coefficients it reached, and one empty subtask
ends the list — the tree scikit-learn's lbfgs reports, so code written for it (and scikit-learn's
own callback tests) works unchanged. fastlr reports it for every solver, not only lbfgs.
One-vs-rest adds a level: one subtask per class (``"class 2 vs rest"``), its iterations under it;
there an iteration's ``fitted_estimator`` is None (one class's coefficients are not a model).

Everything runs through the solvers' one per-iteration hook, ``callback(iteration, x, f, g)`` of
``fastlr._solvers.minimize`` (given per problem as ``_Problem.callback`` in ``fastlr._fit``).
Without callbacks set, none of this runs: :func:`reporter` returns None.
"""

from __future__ import annotations

from contextlib import nullcontext

try:  # scikit-learn >= 1.9
    from sklearn.callback import CallbackSupportMixin
    # what the public decorator ``sklearn.callback.with_callbacks`` runs: the callbacks' teardown
    # hooks after fit, whatever happens. As a ``with`` block rather than a decorator, so that no
    # frame is added between fit and the user's code: warnings keep pointing at the caller.
    from sklearn.callback._callback_support import callback_management_context as managed
except ImportError:  # older scikit-learn: no callback API, nothing to report to
    class CallbackSupportMixin:  # a stand-in whose set_callbacks says what is missing
        def set_callbacks(self, *callbacks):
            import sklearn

            raise ImportError("set_callbacks needs scikit-learn >= 1.9 (sklearn.callback); "
                              f"scikit-learn {sklearn.__version__} is installed")

    def managed(estimator):
        return nullcontext()

__all__ = ["CallbackSupportMixin", "FitReporter", "managed", "reporter"]


def reporter(estimator, X, y, sample_weight) -> "FitReporter | None":
    """The reporter of one fit, or None when the estimator has no callbacks to call."""
    if not (getattr(estimator, "_skl_callbacks", None) or hasattr(estimator, "_parent_callback_ctx")):
        return None
    return FitReporter(estimator, X, y, sample_weight)


class FitReporter:
    """Calls the callbacks' hooks for one fit (see the module docstring)."""

    def __init__(self, estimator, X, y, sample_weight):
        self.estimator, self.X, self.y = estimator, X, y
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.root = None
        self.problems = []

    def _hook_args(self):
        return {"estimator": self.estimator, "X": self.X, "y": self.y, "metadata": self.metadata}

    def begin(self, problems, max_iter: int, attributes) -> None:
        """Begin the root task and give each problem its per-iteration hook (``callback``).

        ``attributes(x)``: the fitted attributes (``coef_``, ``intercept_``, ...) of a model whose
        single problem is at ``x``; not used for one-vs-rest.
        """
        # at most max_iter iterations, one even at max_iter=0 (scipy's L-BFGS-B), plus the empty one
        iterations = max(max_iter, 1) + 1
        single = len(problems) == 1
        est = self.estimator
        self.root = est._init_callback_context(max_subtasks=iterations if single else len(problems))
        self.root.call_on_fit_task_begin(**self._hook_args())
        for problem in problems:
            parent = self.root
            if not single:
                parent = self.root.subcontext(task_name=problem.name, max_subtasks=iterations)
                parent.call_on_fit_task_begin(**self._hook_args())
            tasks = _IterationTasks(self, parent, problem, attributes if single else None)
            problem.callback = tasks
            self.problems.append(tasks)

    def end_solves(self) -> None:
        """After the solvers: end each problem's open (empty) iteration task and its class task."""
        for tasks in self.problems:
            tasks.close()

    def end(self) -> None:
        """End the root task; the estimator holds its fitted attributes by now."""
        self.root.call_on_fit_task_end(**self._hook_args(), reconstruction_attributes={})


class _IterationTasks:
    """One problem's iteration subtasks: ``__call__`` is the solver's per-iteration hook."""

    def __init__(self, reporter, parent, problem, attributes):
        self.reporter, self.parent, self.attributes = reporter, parent, attributes
        self.task_name = f"{problem.solver}-iter"
        self.current = self._begin(problem.x0)

    def _reconstruction(self, x):
        if self.attributes is None:
            return None
        return lambda: self.attributes(x)  # built only if a callback asks for fitted_estimator

    def _begin(self, x):
        task = self.parent.subcontext(task_name=self.task_name)
        task.call_on_fit_task_begin(**self.reporter._hook_args(),
                                    reconstruction_attributes=self._reconstruction(x))
        return task

    def __call__(self, iteration, x, f, g):
        self.current.call_on_fit_task_end(**self.reporter._hook_args(),
                                          reconstruction_attributes=self._reconstruction(x))
        self.current = self._begin(x)

    def close(self):
        self.current.call_on_fit_task_end(estimator=self.reporter.estimator)  # the empty task
        if self.parent is not self.reporter.root:
            self.parent.call_on_fit_task_end(**self.reporter._hook_args())
