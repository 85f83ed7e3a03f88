"""fastlr's solvers: generators of evaluation requests, run in lockstep over a batched objective.

A solver is a generator function of the starting point and its options::

    def lbfgs(x0, *, tol, max_iter, ...):
        f, g = yield ("loss_grad", x)       # a request: the objective's method, and its argument
        ...
        yield ("iteration", x, f, g)        # an event after each iteration (and at x0): no call
        ...
        return SolverResult(x, n_iter, converged, [], message)

Request kinds are the objective's method names: "loss_grad", "loss_grad_hess",
"loss_grad_curvature" (argument x), "hessp" (argument v), "hessian_diagonal" (none); the answer
is that method's result for the one problem (f a float, g (p,), H (p, p), H·v (p,), diag (p,)).
``solve(objective, solvers)`` (``driver``) runs one solver per problem together, one objective
call per request kind per round; ``minimize`` is the one-problem API on plain callables.

Solvers (``SOLVERS``), all stopping at max|g| ≤ tol (objectives are mean-scaled, so one tol fits
every size) or after max_iter iterations, and never reporting convergence at a non-finite
objective:

* ``"gd"`` — the slides' batch gradient descent x := x − α·g (``gd``);
* ``"lbfgs"`` — L-BFGS with L-BFGS-B's iteration, line search and stopping rules (``lbfgs``);
* ``"newton"`` — Newton with a Cholesky step and Armijo backtracking (``newton``);
* ``"newton-cg"`` — the same with a preconditioned-CG step on H·v products (``newton``, ``cg``);
* ``"lbfgs+newton-cg"`` — L-BFGS for up to 20 iterations, then Newton-CG from where it stopped
  (``hybrid``): the estimator's default on large dense data;
* ``"fista"`` — proximal gradient with momentum, backtracking and restart, for penalties with an
  L1 part (``fista``): it asks for ``smooth_loss_grad`` and takes the non-smooth part as a
  ``proximal`` (``Objective.proximal(k)``), stopping when the minimal subgradient's max|·| ≤ tol;
* ``"owlqn"`` — OWL-QN, L-BFGS on the smooth part with its steps kept in an orthant, for
  penalties with an L1 part (``owlqn``): the same requests, proximal part and stopping rule as
  FISTA, about one pass an iteration against FISTA's two;
* ``"prox-newton"`` — working sets and proximal Newton with coordinate descent, binary problems
  held in memory (``prox_newton``): it works on the data itself, yielding only events;
* ``"prox-newton-softmax"`` — the same for a multinomial problem in memory, class by class on
  the softmax Hessian's diagonal blocks (``prox_newton_softmax``; CSR and wide dense X);
* ``"prox-newton-kron"`` — the multinomial problem on dense X with the full softmax Hessian:
  coordinate descent over features, each a K-vector step on its K × K block
  (``prox_newton_kron``).

Each solver function states the capabilities it needs (``NEEDS``); :func:`make_solver` checks
them against the objective's before anything runs. ``x0`` is the float64 parameter vector
(for fastlr's models ``[w_1 … w_n, b]``, the intercept last); the solvers never look inside it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from . import fista as _fista, gd as _gd, hybrid as _hybrid, lbfgs as _lbfgs, newton as _newton
from . import owlqn as _owlqn
from . import prox_newton as _prox_newton, prox_newton_kron as _prox_newton_kron
from . import prox_newton_softmax as _prox_newton_softmax
from .common import SolverResult
from .driver import CallablesObjective, Lockstep, solve

__all__ = ["DATA_SOLVERS", "FUNCTIONS", "PROXIMAL_SOLVERS", "SOLVERS", "CallablesObjective",
           "Lockstep", "SolverResult", "make_solver", "minimize", "solve"]

#: solver name -> generator function (the submodules keep their names: ``_solvers.lbfgs`` is
#: the module)
FUNCTIONS = {"gd": _gd.gd, "lbfgs": _lbfgs.lbfgs, "newton": _newton.newton,
             "newton-cg": _newton.newton_cg, "lbfgs+newton-cg": _hybrid.lbfgs_then_newton_cg,
             "fista": _fista.fista, "owlqn": _owlqn.owlqn,
             "prox-newton": _prox_newton.prox_newton,
             "prox-newton-softmax": _prox_newton_softmax.prox_newton_softmax,
             "prox-newton-kron": _prox_newton_kron.prox_newton_kron}
#: the solvers that work on the problem's data in memory (``problem=``), with a proximal part
DATA_SOLVERS = ("prox-newton", "prox-newton-softmax", "prox-newton-kron")
#: the solvers that take the problem's non-smooth part (``proximal=``)
PROXIMAL_SOLVERS = ("fista", "owlqn", *DATA_SOLVERS)
SOLVERS = tuple(FUNCTIONS)


def make_solver(name: str, x0, *, capabilities, tol: float, max_iter: int,
                learning_rate: float | None = None, proximal=None, problem=None,
                history=None):
    """The generator of solver ``name`` from x0 (copied), for an objective with
    ``capabilities``: a clear ValueError when the solver needs one it lacks. ``proximal``: the
    problem's non-smooth part (``Objective.proximal(k)``), for "fista" and the ``DATA_SOLVERS``;
    ``problem``: the data of a problem in memory (``prox_newton.LogisticProblem``,
    ``prox_newton_softmax.SoftmaxProblem``), for the ``DATA_SOLVERS``; ``history``: L-BFGS
    pairs to start from (``lbfgs.lbfgs``), for "lbfgs"."""
    if name not in FUNCTIONS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {name!r}")
    function = FUNCTIONS[name]
    missing = function.NEEDS - frozenset(capabilities)
    if missing:
        raise ValueError(f"solver={name!r} needs the objective's {sorted(missing)}; "
                         f"it has {sorted(capabilities)}")
    x0 = np.array(x0, dtype=np.float64, copy=True).reshape(-1)
    if name == "gd":
        if learning_rate is None or not learning_rate > 0:
            raise ValueError(f"solver='gd' needs learning_rate > 0, got {learning_rate!r}")
        return function(x0, tol=tol, max_iter=max_iter, learning_rate=learning_rate)
    if name in ("newton-cg", "lbfgs+newton-cg"):
        return function(x0, tol=tol, max_iter=max_iter,
                         precondition="diagonal" in capabilities)
    if name in ("fista", "owlqn"):
        if proximal is None:
            raise ValueError(f"solver={name!r} needs the problem's proximal part")
        return function(x0, tol=tol, max_iter=max_iter, proximal=proximal)
    if name in DATA_SOLVERS:
        if proximal is None or problem is None:
            raise ValueError(f"solver={name!r} needs the problem's data and proximal part")
        return function(x0, tol=tol, max_iter=max_iter, problem=problem, proximal=proximal)
    if name == "lbfgs" and history is not None:
        return function(x0, tol=tol, max_iter=max_iter, history=history)
    return function(x0, tol=tol, max_iter=max_iter)


def minimize(loss_grad: Callable, x0, *, solver: str, max_iter: int, tol: float,
             learning_rate: float | None = None, loss_grad_hess: Callable | None = None,
             loss_grad_hessp: Callable | None = None, verbose: int = 0,
             callback: Callable | None = None) -> SolverResult:
    """Minimise a smooth convex objective from ``x0`` with one solver (P = 1).

    ``loss_grad(x) -> (f, g)``; ``loss_grad_hess(x) -> (f, g, H)`` for "newton";
    ``loss_grad_hessp(x) -> (f, g, hessp)`` for "newton-cg" (``hessp.diagonal()``, when present,
    preconditions CG). ``callback(iteration, x, f, g)`` after every iteration.
    """
    x0 = np.array(x0, dtype=np.float64, copy=True).reshape(-1)
    if solver not in FUNCTIONS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if solver == "newton-cg" and loss_grad_hessp is None:
        raise ValueError("solver='newton-cg' needs loss_grad_hessp")
    if solver == "newton" and loss_grad_hess is None:
        raise ValueError("solver='newton' needs loss_grad_hess")
    objective = CallablesObjective(x0.shape[0], loss_grad, loss_grad_hess, loss_grad_hessp)
    generator = make_solver(solver, x0, capabilities=objective.capabilities, tol=tol,
                            max_iter=int(max_iter), learning_rate=learning_rate)
    def on_iteration(problem, iteration, x, f, g):
        callback(iteration, x, f, g)

    return solve(objective, [generator], verbose=verbose,
                 callback=None if callback is None else on_iteration)[0]
