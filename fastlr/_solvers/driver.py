"""The lockstep driver: many solvers, one objective call per request kind per round.

A solver is a generator (see the package docstring). Each round, every unfinished solver has
one pending request; the driver groups them by kind, makes one call of the objective per kind
with the increasing index of the problems asking (their arguments stacked into (q, p)), and
sends each solver its own part of the answer. "iteration" events cost no call: the driver
records the objective in the problem's learning curve, prints the verbose line and calls the
callback, then resumes the solver at once. A finished solver leaves the index. With
``threads`` > 1 the solvers answered by one call take their steps (up to their next request) on
that many Python threads: their O(p) work is compiled and releases the GIL (``step_threads``:
when that pays).

The objective (``fastlr._objective`` implements it for logistic regression)::

    n_problems: int; n_params: int; capabilities: frozenset  ⊆ {"hessian", "hessp", "diagonal"}
    loss_grad(index, x)            -> f (q,), g (q, p)
    smooth_loss_grad(index, x)     -> the same of the smooth part     (proximal solvers)
    loss_grad_hess(index, x)       -> f, g, H (q, p, p)              ("hessian")
    loss_grad_curvature(index, x)  -> f, g; keeps the curvature at x  ("hessp")
    hessp(index, v)                -> H·v (q, p) at the kept point    ("hessp")
    hessian_diagonal(index)        -> diag H (q, p) at the kept point ("diagonal")
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np

from .. import _interrupt
from . import _sweeps
from .common import gmax
from .lbfgs import MEMORY

__all__ = ["CallablesObjective", "Lockstep", "solve"]

#: the capability each request kind needs
REQUIRES = {"loss_grad": None, "smooth_loss_grad": None, "loss_grad_hess": "hessian", "loss_grad_curvature": "hessp",
            "hessp": "hessp", "hessian_diagonal": "diagonal"}
_WITH_X = ("loss_grad", "smooth_loss_grad", "loss_grad_hess", "loss_grad_curvature")


class Lockstep:
    """Runs solvers ``solvers[i]`` on problem i of ``objective`` together; see the module
    docstring. ``calls`` counts the objective's calls per kind, ``rounds`` the rounds.

    ``threads`` > 1: after each call, the problems' solvers take their steps up to their next
    request on that many Python threads (``step_threads`` says when that pays); each solver
    only touches its own state, so the results are bitwise those of ``threads=1``. Not with
    ``verbose`` or a ``callback`` (their lines and calls stay in problem order)."""

    def __init__(self, objective, solvers, *, verbose: int = 0, callback=None,
                 threads: int = 1):
        self.objective = objective
        self.solvers = list(solvers)
        if len(self.solvers) != objective.n_problems:
            raise ValueError(f"{len(self.solvers)} solvers for an objective of "
                             f"{objective.n_problems} problems: one solver per problem")
        self.capabilities = frozenset(objective.capabilities)
        self.verbose = verbose
        self.callback = callback
        self.threads = 1 if verbose or callback is not None else max(1, int(threads))
        self.calls = Counter()
        self.rounds = 0

    def run(self) -> list:
        """Every problem's ``SolverResult`` (its ``loss_history`` from the "iteration" events)."""
        P = len(self.solvers)
        self._start = time.perf_counter()
        self._pending = {}
        self._results = [None] * P
        self._history = [[] for _ in range(P)]
        pool = ThreadPoolExecutor(self.threads) if self.threads > 1 and P > 1 else None
        try:
            self._resume_all(range(P), [None] * P, pool)
            while self._pending:
                _interrupt.check()
                self.rounds += 1
                by_kind = {}
                for i in sorted(self._pending):
                    by_kind.setdefault(self._pending[i][0], []).append(i)
                for kind, problems in by_kind.items():
                    self._resume_all(problems, self._call(kind, problems), pool)
        finally:
            if pool is not None:  # every step has returned before a solver is closed
                pool.shutdown(wait=True)
            for solver in self.solvers:
                solver.close()
        return self._results

    def _resume_all(self, problems, answers, pool):
        """Send each of ``problems`` its answer (on ``pool``'s threads, when given and more than
        one) and take note of what each asks next, in problem order."""
        if pool is None or len(problems) < 2:
            steps = map(self._step, problems, answers)
        else:
            steps = pool.map(self._step, problems, answers)
        for i, (request, result) in zip(problems, list(steps)):
            self._settle(i, request, result)

    def _step(self, i, answer):
        """Send problem i its answer; handle its events until its next request or its end:
        (request, None) or (None, its result). Touches problem i's solver and history only."""
        solver = self.solvers[i]
        try:
            request = solver.send(answer)
            while request[0] == "iteration":
                self._iteration(i, *request[1:])
                request = solver.send(None)
        except StopIteration as done:
            return None, replace(done.value, loss_history=self._history[i])
        return request, None

    def _settle(self, i, request, result):
        self._pending.pop(i, None)
        if request is None:
            self._results[i] = result
            return
        kind = request[0]
        if kind not in REQUIRES:
            raise ValueError(f"problem {i}: unknown request {kind!r}")
        need = REQUIRES[kind]
        if need is not None and need not in self.capabilities:
            raise ValueError(f"problem {i}'s solver asks for {kind!r}, which needs the "
                             f"objective's {need!r} capability; it has "
                             f"{sorted(self.capabilities)}")
        self._pending[i] = request

    def _iteration(self, i, x, f, g):
        history = self._history[i]
        iteration = len(history)  # 0: the starting point
        history.append(float(f))
        if iteration == 0:
            return
        if self.verbose:
            who = f"  problem {i}" if len(self.solvers) > 1 else ""
            elapsed = time.perf_counter() - self._start
            print(f"iter {iteration:4d}{who}  objective {f:.10e}  max|grad| {gmax(g):.3e}  "
                  f"elapsed {elapsed:.3f}s", flush=True)
        if self.callback is not None:
            self.callback(i, iteration, np.array(x), f, g)

    def _call(self, kind, problems):
        """One call of the objective for ``problems``; their answers, in order."""
        q = len(problems)
        index = np.asarray(problems, dtype=np.int64)
        pending = self._pending
        if kind == "hessian_diagonal":
            args = ()
        elif q == 1:
            args = (np.asarray(pending[problems[0]][1])[None],)
        else:
            args = (np.stack([pending[i][1] for i in problems]),)
        out = getattr(self.objective, kind)(index, *args)
        self.calls[kind] += 1
        p = self.objective.n_params
        if kind in _WITH_X:
            f, g = out[0], out[1]
            _check_shape(kind, "f", f, (q,))
            _check_shape(kind, "g", g, (q, p))
            if kind == "loss_grad_hess":
                H = out[2]
                _check_shape(kind, "H", H, (q, p, p))
                return [(float(f[j]), g[j], H[j]) for j in range(q)]
            return [(float(f[j]), g[j]) for j in range(q)]
        _check_shape(kind, "the result", out, (q, p))
        return [out[j] for j in range(q)]


def _check_shape(kind, name, value, shape):
    if np.shape(value) != shape:
        raise ValueError(f"objective.{kind} returned {name} of shape {np.shape(value)}, "
                         f"expected {shape}")


#: the solvers whose steps between two calls are compiled vector sweeps (serial below the
#: kernels' cut-off, releasing the GIL) and a little Python: those ``step_threads`` threads.
#: Not Newton-CG: a CG step is a few short sweeps between Python lines, and threads lose
#: (one-vs-rest, text-like CSR 40,000 x 100,000, 5 classes, C = 10, tol 1e-6, 2 threads,
#: median of 3: newton-cg 1.15 -> 1.33 s on threads; lbfgs 2.84 -> 2.44 s)
THREADED_STEP_SOLVERS = frozenset({"lbfgs"})
#: parameters per problem from which their steps go on threads. Measured (LogisticRegressionCV,
#: text-like CSR, 20 nonzeros a row, 5 folds x 10 Cs, tol 1e-6, 2 threads, medians of 3 fits in
#: two interleaved rounds, serial steps -> threaded): 20,000 x 16,384 0.82 / 0.78 -> 0.86 /
#: 0.85 s (the steps' Python holds the GIL: a loss), 25,000 x 32,768 1.32 / 1.40 -> 1.27 /
#: 1.28 s, 30,000 x 50,000 1.81 / 1.95 -> 1.74 / 1.62 s, 100,000 x 100,000 5.97 / 5.87 ->
#: 5.28 / 5.36 s; with a process spinning on one core 8.37 -> 8.29 s (no loss)
STEP_THREADS_MIN_PARAMS = 32_768


def step_threads(solvers, n_params: int, n_problems: int) -> int:
    """Python threads for the steps of ``n_problems`` solvers named ``solvers`` (one name per
    problem) on ``n_params`` parameters each: the kernels' threads where every solver is in
    ``THREADED_STEP_SOLVERS`` (L-BFGS) and a step's widest sweep, over a full memory, runs on
    one thread (``threads_for`` of its traffic: wider ones are parallel themselves), from
    ``STEP_THREADS_MIN_PARAMS`` parameters; else 1."""
    from .._jit import max_threads, threads_for

    if (n_problems < 2 or n_params < STEP_THREADS_MIN_PARAMS
            or threads_for(_sweeps.direction_bytes(n_params, MEMORY)) > 1
            or not set(solvers) <= THREADED_STEP_SOLVERS):
        return 1
    return max_threads()


def solve(objective, solvers, *, verbose: int = 0, callback=None, threads: int = 1) -> list:
    """Run ``solvers`` (one generator per problem of ``objective``) in lockstep; their
    ``SolverResult``s. ``callback(problem, iteration, x, f, g)`` after every iteration;
    ``threads``: Python threads for the solvers' steps (``Lockstep``, ``step_threads``)."""
    return Lockstep(objective, solvers, verbose=verbose, callback=callback,
                    threads=threads).run()


class CallablesObjective:
    """One problem (P = 1) from plain callables: ``loss_grad(x) -> (f, g)``, optionally
    ``loss_grad_hess(x) -> (f, g, H)`` and ``loss_grad_hessp(x) -> (f, g, hessp)`` (``hessp(v)``
    the H·v product at x, with an optional ``hessp.diagonal()``: the Hessian's diagonal)."""

    n_problems = 1

    def __init__(self, n_params, loss_grad, loss_grad_hess=None, loss_grad_hessp=None):
        self.n_params = int(n_params)
        self._loss_grad = loss_grad
        self._loss_grad_hess = loss_grad_hess
        self._loss_grad_hessp = loss_grad_hessp
        capabilities = set()
        if loss_grad_hess is not None:
            capabilities.add("hessian")
        if loss_grad_hessp is not None:
            # "diagonal" is declared with the products: a hessp without ``.diagonal`` answers
            # ones, and CG preconditioned by the identity is plain CG
            capabilities |= {"hessp", "diagonal"}
        self.capabilities = frozenset(capabilities)
        self._hessp = None

    def loss_grad(self, index, x):
        f, g = self._loss_grad(x[0])
        return np.array([f], dtype=np.float64), _row(g)

    def loss_grad_hess(self, index, x):
        f, g, H = self._loss_grad_hess(x[0])
        return np.array([f], dtype=np.float64), _row(g), np.asarray(H, dtype=np.float64)[None]

    def loss_grad_curvature(self, index, x):
        f, g, self._hessp = self._loss_grad_hessp(x[0])
        return np.array([f], dtype=np.float64), _row(g)

    def hessp(self, index, v):
        return _row(self._hessp(v[0]))

    def hessian_diagonal(self, index):
        diagonal = getattr(self._hessp, "diagonal", None)
        if diagonal is None:
            return np.ones((1, self.n_params))
        return _row(diagonal())


def _row(a):
    return np.asarray(a, dtype=np.float64).reshape(1, -1)
