"""The cross-validation grid engine: every (fold, C) model of a search, solved together.

``LogisticRegressionCV`` (``fastlr.cv``) and ``logistic_regression_path`` fit a grid of models
— n_folds × n_Cs for one l1_ratio — and score each on its fold's held-out rows. scikit-learn fits
them fold by fold, C by C; here:

Binary and one-vs-rest: one batch (``fastlr._objective``, model="batch")
    Every (fold, C[, class]) model is one binary problem of one batched objective over all of X.
    A row's *group* is (its train/held-out pattern over the folds, its class): problem k of fold
    f sees a row of group g with label labels[k, g] (1 where g's class is k's positive class)
    and weight sᵢ·factors[k, g], factors[k, g] = class_weight[class of g] if the rows of g train
    fold f, else 0. So one pass over X evaluates the loss and gradient of **all** the grid's
    models (each row contributes to every model that trains on it), the lockstep solvers
    (``fastlr._solvers``) advance them together, and a model that has converged leaves the
    index and stops costing work. Each model's objective is scikit-learn's for its fold,
    C·Σ_train sᵢ·Lᵢ + ½‖w‖² divided by C·S_k (S_k = the fold's Σ sᵢ·class_weight), so its
    optimum is the one ``LogisticRegression(C=C)`` finds on the fold's training rows.

    Two schedules (``WARM_PATH``): one stage per C — the models of all folds at Cs[c] as one
    batch, each started at its fold's optimum for Cs[c − 1] (scikit-learn's warm start along
    Cs; the default; each C's first evaluation reuses the data term the previous C computed at
    its start, ``_WarmData``: binary dense 100,000 × 50, 5 folds × 10 Cs, 30 → 21 passes) — or
    the whole grid as one batch from zero. Measured
    (benchmarks/cv_vs_sklearn.py, binary dense 100,000 × 50 float64, 5 folds × 10 Cs, tol 1e-4,
    2 threads, min of 3 interleaved, load ~4): warm path 1.23 s (30 passes of 5 models), whole
    grid 1.31 s (8 passes of up to 50 models; a pass of 50 models costs 2.5 ms per model, of 5
    4.4, of 1 11: it needs fewer passes but more model-iterations from zero); scikit-learn
    4.55 s (n_jobs=2). The warm path also lands where scikit-learn's
    lands at a loose tol (scores equal to 2e-15; from zero: 5e-5 at tol 1e-4) and on
    problems without a finite optimum (a training fold of one class): there every C after
    the first starts at the previous one's point and stops at once, as in scikit-learn. Either
    way a pass evaluates every model of its batch, and the iterations (``n_iter``) are
    scikit-learn's count: 0 for a warm start that is already converged.

    Memory: the batch holds per model O(n_features) solver state (L-BFGS: ~25·(n_features + 1)
    doubles, and the warm path's kept points and data gradients of this C and the previous,
    4·(n_features + 1)), and newton-cg keeps one curvature per model and sample (n_samples doubles),
    Newton-Cholesky two (n_features + 1)² Hessians. The grid is cut into chunks of models so
    that one chunk's state stays under ``GRID_MEMORY_BYTES`` (512 MiB); each chunk is one batch
    (its own passes over X).

L1 and elastic net: the same batch, per l1_ratio
    One grid per l1_ratio (the penalty's L1 share is one per objective, ``_penalties.ElasticNet``;
    its strength 1/(C·S_k) per problem), the same stages (all folds of a C, warm-started from
    the previous C). The batch's problems run the working-set proximal Newton solver
    (``_solvers.prox_newton``) with the rows, labels and fold weights of their problem
    (``_fit._logistic_problem``: held-out rows weigh 0): its outer checks (a full gradient) are
    ``smooth_loss_grad`` requests, shared passes over X for every model of the stage; its inner
    Newton steps work on each problem's own working-set columns, model by model. liblinear's
    penalised intercept is the objective's ``intercept_penalty`` (``intercept_scaling``).

Multinomial: model by model, warm-started along Cs
    The softmax datafit has no batched form in the pass engine (a batch of softmax problems
    would need a new compiled datafit). Each fold's training rows are copied once
    (``X[train]``, as scikit-learn does; dense X's into one buffer for all folds, ``_FoldRows``)
    and its Cs are fitted in order, each from the previous
    C's solution (scikit-learn's warm start, its first evaluation the previous C's data term:
    dense 50,000 × 50, 10 classes, 5 × 10, 191 → 146 passes; ``WARM_PATH=False``: each from
    zero); with an L1 part by OWL-QN (``_solvers.owlqn``: it needs only the loss and
    gradient). make_text_corpus 20,000 × 20,000, 10 classes, L1, 5 folds × 5 Cs (0.1 … 100),
    2 threads: tol 1e-4 FISTA 26.1 s (1,482 iterations) -> OWL-QN 14.6-16.1 s (400), with its
    intercepts scaled apart (``owlqn._free_scale``) 7.6 s (303); tol 1e-6 FISTA > 300 s ->
    OWL-QN 56 s (3,552) -> 33.9 s (1,729); the class-by-class proximal Newton the estimator
    runs on CSR took 112.6 s there (355 iterations of many CD sweeps at the large Cs). Measured
    (dense 50,000 × 50 float64, 10 classes, 5 folds × 10 Cs, tol 1e-4, 2 threads, load ~3-4,
    two runs each): warm 2.31/2.03 s (124 iterations in all), cold 4.95/4.64 s (379) — the
    choice over extending the engine with a batch of softmax problems, which would share the
    passes but start every C from zero. At 100,000 × 50 (benchmarks/cv_vs_sklearn.py
    multiclass) the warm path made scikit-learn's iterates in 135 passes, 80 % of the time; one
    pass costs what NumPy's two products X·Wᵀ and Rᵀ·X cost on one BLAS thread. On dense X each
    C's L-BFGS run now also starts from the pairs of the run before (``_carried_pairs``): 86
    passes, no longer scikit-learn's iterates. Starts other than scikit-learn's (from the other
    folds' solutions), Newton-CG, Newton-Cholesky and the folds on parallel threads were
    measured and not kept (docs/user_guide/cross_validation.rst has the figures).

Scores: for accuracy and log-loss (the scorers named "accuracy", "neg_log_loss" and the
default), all of a fold's models are scored from one product W·X_testᵀ of the fold's held-out
rows with the (K·n_Cs, n_features) coefficients — one pass over X_test for the whole fold —
computing what scikit-learn's scorers compute on ``predict``/``predict_proba``; any other
scorer is called on a ``fastlr.LogisticRegression`` holding each model's coefficients.
"""

from __future__ import annotations

import copy
import inspect
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from scipy.special import log_expit

from . import _fit, _interrupt, _solvers
from ._data import ArrayData
from ._jit import max_threads, numba_threads
from ._objective import Datafit, Objective
from ._penalties import from_sklearn
from ._solvers.driver import step_threads
from .kernels._sums import Sums
from ._validation import is_dask_collection

__all__ = ["GRID_MEMORY_BYTES", "Grid", "fit_grid", "fold_patterns", "score_grid"]

#: batched grid: all models from zero in one stage (False), or one stage per C, all folds
#: together, each model started at its fold's optimum for the previous C (True)
WARM_PATH = True

#: bound on the solver state of one batch of grid models (see the module docstring)
GRID_MEMORY_BYTES = 512 * 2**20


@dataclass
class Grid:
    """The fitted grid: ``coefs`` (F, n_Cs, M, n_features + fit_intercept) float64 (M = 1 binary,
    K otherwise; intercept last), ``n_iter`` (F, n_Cs, R) int32 (R = K for one-vs-rest, else 1),
    ``passes``: passes over X by kind, over all chunks (diagnostics and tests)."""

    coefs: np.ndarray
    n_iter: np.ndarray
    kind: str
    passes: dict
    chunks: int = 1
    solver: str = "lbfgs"  # the fastlr solver its models ran (``_fit._solver_for``)


def fold_patterns(train_masks):
    """Rows with the same train/held-out pattern over the folds share a group:
    (pattern index per row (m,), patterns (n_patterns, F) bool)."""
    F, m = train_masks.shape
    if F <= 62:  # the pattern as the bits of one int64: a sort of m integers
        codes = np.zeros(m, dtype=np.int64)
        for f in range(F):
            codes |= train_masks[f].astype(np.int64) << f
        unique, inverse = np.unique(codes, return_inverse=True)
        patterns = ((unique[:, None] >> np.arange(F)) & 1).astype(bool)
    else:
        patterns, inverse = np.unique(train_masks.T, axis=0, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64), patterns


def model_bytes(solver: str, n_params: int, n_samples: int) -> int:
    """Bytes of solver state one grid model of the batch holds (see the module docstring)."""
    doubles = 29 * n_params  # L-BFGS's 25, ``_WarmData``'s 4
    if solver in ("newton-cg", "lbfgs+newton-cg"):
        doubles += n_samples + 10 * n_params
    elif solver == "newton":
        doubles += 2 * n_params * n_params
    return 8 * doubles


class _Progress:
    """The objective, printing a line for passes that evaluate gradients (``verbose``): the
    pass number, how many of the batch's models are still running, the time so far. A line
    every 10 passes and whenever the number of running models changes, and one when the batch
    (a C of the warm path, or a chunk of the grid) is done."""

    def __init__(self, objective, label: str):
        self._objective = objective
        self._label = label
        self._passes = 0
        self._running = None
        self._start = time.perf_counter()

    def __getattr__(self, name):
        return getattr(self._objective, name)

    def _report(self, index):
        self._passes += 1
        q = len(index)
        if q != self._running or self._passes % 10 == 0:
            self._running = q
            print(f"[LogisticRegressionCV] {self._label}: pass {self._passes}, {q} of "
                  f"{self._objective.n_problems} models running, "
                  f"{time.perf_counter() - self._start:.2f}s", flush=True)

    def done(self, n_iter):
        print(f"[LogisticRegressionCV] {self._label}: {self._objective.n_problems} models done "
              f"after {self._passes} passes over X, at most {n_iter} iterations, "
              f"{time.perf_counter() - self._start:.2f}s", flush=True)

    def loss_grad(self, index, x):
        self._report(index)
        return self._objective.loss_grad(index, x)

    def smooth_loss_grad(self, index, x):
        self._report(index)
        return self._objective.smooth_loss_grad(index, x)

    def loss_grad_curvature(self, index, x):
        self._report(index)
        return self._objective.loss_grad_curvature(index, x)

    def loss_grad_hess(self, index, x):
        self._report(index)
        return self._objective.loss_grad_hess(index, x)


class _WarmData:
    """The stage's objective, answering ``loss_grad`` at a warm start from the data term the
    previous stage computed there.

    Along the warm path, model (f, c) starts at the last point its predecessor (f, c − 1) was
    evaluated at (L-BFGS returns an evaluated point), on the same rows with the same labels
    and weights: the data term there (Σ sᵢ·Lᵢ / S and its gradient) is the one the previous
    stage already has; only the penalty changes with C. So each stage's first evaluation costs
    no pass over X for the models whose start is their predecessor's last point (compared
    exactly); every other evaluation is the objective's own. ``previous``: model id → (x, the
    raw sums of the data term there) of the previous stage's last evaluation of each model (the
    pass's own arrays, kept without a copy: ``Objective.penalised`` forms f and g from them as
    from a fresh pass, to the bit); ``current`` receives this stage's; ``keys`` / ``starts``:
    per problem of the objective, its model id and its predecessor's (−1: none). L2
    objectives only (no L1 part, no penalised intercept): the others pass through."""

    def __init__(self, objective, keys, starts, previous, current):
        self._objective = objective
        self._keys = keys
        self._starts = starts
        self._previous = previous
        self._current = current
        self._plain = objective.prox_penalty is None and objective.intercept_penalty is None

    def __getattr__(self, name):
        return getattr(self._objective, name)

    def loss_grad(self, index, x):
        objective = self._objective
        if not self._plain:
            return objective.loss_grad(index, x)
        index = np.asarray(index)
        x = np.asarray(x, dtype=np.float64).reshape(len(index), objective.n_params)
        if objective.model != "batch":  # one problem (multinomial): its sums as they are
            kept = self._previous.pop(self._starts[index[0]], None)
            if kept is not None and np.array_equal(kept[0], x[0]):
                sums = kept[1]
            else:
                sums, _ = objective._run(index, x, "gradient")
            self._current[self._keys[index[0]]] = (x[0].copy(), sums)
            return objective.penalised(index, x, sums)
        # per problem: its data term's raw sums (loss, grad_w, grad_b) at x — kept from the
        # previous stage, or from this call's pass over X
        raw = [None] * len(index)
        todo = []
        for row, k in enumerate(index):
            kept = self._previous.pop(self._starts[k], None)
            if kept is not None and np.array_equal(kept[0], x[row]):
                raw[row] = kept[1]
            else:
                todo.append(row)
        if len(todo) == len(index):  # no fancy-indexed copies of x for the common case
            sums, _ = objective._run(index, x, "gradient")
            raw = list(zip(sums.loss, sums.grad_w, sums.grad_b))
        elif todo:
            rows = np.asarray(todo)
            sums, _ = objective._run(index[rows], x[rows], "gradient")
            for row, parts in zip(todo, zip(sums.loss, sums.grad_w, sums.grad_b)):
                raw[row] = parts
        # kept: x copied (it may be a view of a solver's buffer); the sums' rows are the
        # pass's own new arrays, which nothing writes to
        points = x.copy()
        for row, k in enumerate(index):
            self._current[self._keys[k]] = (points[row], raw[row])
        loss, grad_w, grad_b = zip(*raw)
        if not objective.fused_coefficients(index):
            grad_w = np.array(grad_w)
        return objective.penalised(index, x, Sums(np.array(loss), grad_w, np.array(grad_b)))


def _solve(objective, problems, options, data=None):
    """``_fit._solve_all`` without its per-call thread and BLAS settings, which ``fit_grid``
    holds for the whole grid (threadpoolctl's library scan cost ~5 ms a call: 60 ms of a 1 s
    grid of 11 batches). The solvers are ``_fit.make_solvers``'s (prox-newton's rows, labels
    and weights: the batch's labels and fold factors of problem k)."""
    solvers = _fit.make_solvers(data, objective, problems, options)
    threads = step_threads([problem.solver for problem in problems], objective.n_params,
                           objective.n_problems)
    return _solvers.solve(objective, solvers, verbose=options.verbose, threads=threads)


def backend(X, y, sample_weight):
    """The grid's data backend: ``ArrayData`` in memory; for a Dask array X (row-chunked, as
    ``fastlr.distributed.DaskData`` leaves it), ``DaskData`` over X's row blocks, with the
    labels and weights — in memory here, the splitter needed them — sent in X's row chunks."""
    if not is_dask_collection(X):
        return ArrayData(X, y, sample_weight)
    import dask.array as da

    from .distributed import DaskData

    chunks = (X.chunks[0],)
    return DaskData(X, da.from_array(np.asarray(y), chunks=chunks),
                    None if sample_weight is None else da.from_array(sample_weight,
                                                                     chunks=chunks))


def _per_row(data, values):
    """Per-sample values (m,) as the backend's handle: the array in memory, persisted row blocks
    (X's chunks) on Dask — the folds' row masks travel as these group codes."""
    if isinstance(data, ArrayData):
        return values
    import dask
    import dask.array as da

    (blocks,) = dask.persist(da.from_array(values, chunks=(data.X.chunks[0],)))
    return blocks.to_delayed(optimize_graph=False).ravel().tolist()


def _add_passes(total, passes):
    for kind, count in passes.items():
        total[kind] = total.get(kind, 0) + count


def _quiet(options):
    """The options the solvers run with: their per-iteration lines off (the grid prints its
    own progress), ``verbose`` > 2 keeps them."""
    return replace(options, verbose=int(options.verbose > 2))


def fit_grid(X, y_index, n_classes, sample_weight, train_masks, Cs, options, class_w, kind,
             warm_path=None):
    """Fit every (fold, C) model; see the module docstring.

    X validated (dense float32/float64 or CSR); ``y_index`` (m,) int64 class positions;
    ``sample_weight`` float64 (m,) or None; ``train_masks`` (F, m) bool; ``Cs`` (n_Cs,) float64;
    ``options`` a ``fastlr._fit.FitOptions`` (its C unused); ``class_w`` (K,) per-class weights
    (ones without class_weight); ``kind`` "binary", "ovr" or "multinomial"."""
    from threadpoolctl import threadpool_limits

    if warm_path is None:
        warm_path = WARM_PATH
    # BLAS on one thread for the whole grid, whatever the size of X (``_fit._solve_all`` limits
    # it only above 32 MB of X): the solvers' and the penalty's small BLAS calls on batches of
    # wide models otherwise wake OpenBLAS's threads, which spin on the cores the kernels need.
    # Measured (CSR 30,000 x 100,000, 5 folds x 10 Cs, tol 1e-6, 2 threads, load ~7): the L2
    # penalty's ‖w‖² took 38 ms a call (7.3 of 23.7 s) with BLAS threads free.
    # Ctrl-C: a clean KeyboardInterrupt within one pass (fastlr._interrupt), as in a fit
    with threadpool_limits(limits=1, user_api="blas"), _interrupt.deferred_sigint(), \
            numba_threads(options.n_threads):
        if kind == "multinomial":
            return _multinomial_grid(X, y_index, n_classes, sample_weight, train_masks, Cs,
                                     options, class_w, warm_path)
        return _batched_grid(X, y_index, n_classes, sample_weight, train_masks, Cs, options,
                             class_w, kind, warm_path)


def _batched_grid(X, y_index, K, sample_weight, train_masks, Cs, options, class_w, kind,
                  warm_path=False):
    data = backend(X, y_index, sample_weight)
    F, nC, n = train_masks.shape[0], len(Cs), data.n_features
    p = n + int(options.fit_intercept)
    row_pattern, patterns = fold_patterns(train_masks)
    groups = row_pattern * K + y_index
    G = patterns.shape[0] * K
    g_class = np.tile(np.arange(K), patterns.shape[0])
    g_pattern = np.repeat(np.arange(patterns.shape[0]), K)
    positives = [1] if kind == "binary" else list(range(K))
    M = len(positives)
    # problem (f, c, j) is number (f·n_Cs + c)·M + j
    labels = np.zeros((F, nC, M, G))
    for j, positive in enumerate(positives):
        labels[:, :, j, :] = g_class == positive
    factors = np.broadcast_to((patterns[g_pattern].T * class_w[g_class])[:, None, None, :],
                              (F, nC, M, G))
    labels, factors = labels.reshape(-1, G), np.ascontiguousarray(factors.reshape(-1, G))
    C_of = np.broadcast_to(np.asarray(Cs, dtype=np.float64)[None, :, None], (F, nC, M)).ravel()
    P = labels.shape[0]
    groups = _per_row(data, groups)
    group_sums = data.group_weight_sums(groups, G)
    weight_sums = factors @ group_sums
    empty = np.flatnonzero(~(weight_sums > 0))
    if empty.size:
        f = empty[0] // (nC * M)
        raise ValueError(f"fold {f} has no training sample of positive weight "
                         "(sample_weight × class_weight sums to zero on its training rows)")

    # prox-newton in memory, OWL-QN on Dask (``_fit._l1_solver``, for binary problems)
    proximal = _fit._l1_solver(data, 2, options) if options.l1_ratio > 0 else None
    solver = _fit._solver_for(options, p, data, proximal)
    per_chunk = max(1, GRID_MEMORY_BYTES // model_bytes(solver, p, data.n_samples))
    per_chunk = max(M, per_chunk - per_chunk % M)  # a (fold, C)'s classes stay together
    number = np.arange(P).reshape(F, nC, M)
    if warm_path:  # stage c: every fold's models at Cs[c], started at their Cs[c - 1] optimum
        stages = [number[:, c].ravel() for c in range(nC)]
    else:  # one stage: the whole grid from zero
        stages = [number.ravel()]
    chunks = [stage[i:i + per_chunk] for stage in stages
              for i in range(0, len(stage), per_chunk)]
    solve_options = _quiet(options)
    xs = np.zeros((P, p))
    n_iter = np.zeros(P, dtype=np.int32)
    passes = {}
    previous, current = {}, {}  # the data terms of the last evaluations (``_WarmData``)
    for count, index in enumerate(chunks):
        if warm_path and index[0] // M % nC != (chunks[count - 1][0] // M % nC if count else -1):
            previous, current = current, {}  # a new C: the previous C's last points
        datafit = Datafit("batched", groups, labels=labels[index], factors=factors[index])
        penalty = from_sklearn(C_of[index], weight_sums[index], options.l1_ratio,
                               penalize=options.penalize)
        objective = Objective(data, datafit, penalty, model="batch",
                              fit_intercept=options.fit_intercept,
                              intercept_penalty=options.intercept_scaling)
        # warm path: problem k = (f, c, j) starts at (f, c - 1, j), already solved (zeros at c = 0)
        warm = warm_path and index[0] // M % nC > 0
        starts = xs[index - M] if warm else np.zeros((len(index), p))
        problems = [_fit._Problem(_name(k, nC, M, positives, Cs, kind), x0, solver)
                    for k, x0 in zip(index, starts)]
        solving = objective
        if warm_path:
            solving = _WarmData(objective, index, index - M if warm else np.full(len(index), -1),
                                previous, current)
        if options.verbose:
            label = f"C={Cs[index[0] // M % nC]:.6g}, all folds" if warm_path else \
                f"chunk {count + 1} of {len(chunks)}"
            solving = _Progress(solving, label)
        results = _solve(solving, problems, solve_options, data)
        if options.verbose:
            solving.done(max(res.n_iter for res in results))
        _fit._warn_unconverged(results, problems, options)
        for k, res in zip(index, results):
            xs[k] = res.x
            n_iter[k] = min(options.max_iter, res.n_iter)
        _add_passes(passes, objective.passes)
    coefs = xs.reshape(F, nC, M, p)
    n_iter = n_iter.reshape(F, nC, M)
    return Grid(coefs, n_iter, kind, passes, len(chunks), solver)


def _name(k, nC, M, positives, Cs, kind):
    f, rest = divmod(int(k), nC * M)
    c, j = divmod(rest, M)
    who = "" if kind == "binary" else f", class {positives[j]} vs rest"
    return f"fold {f}, C={Cs[c]:.6g}{who}"


def _carried_pairs(history, strength, objective, solver):
    """(history, strength) for the next C of a fold's warm path: L-BFGS's pairs at the end of
    the previous C with their curvature moved to this C's L2 strength λ (y += Δλ·s on the
    penalised coefficients, exact: only the penalty changes along the path), or a fresh memory
    (``history`` None); (None, None) where the solver is not L-BFGS or the penalty not a plain
    L2 on the coefficients. At the first C of the folds after the first, ``history`` is the
    first fold's after its first C: the same model on three quarters of the same rows (5 folds),
    so its curvature is close; the start stays zero and the line search keeps every step safe.
    Why (benchmarks/cv_vs_sklearn.py multiclass, 5 folds × 10 Cs): each C began with an empty
    memory and a first step of length 1/‖g‖ — 135 passes over X; 97 with the pairs carried
    along Cs (iterations per fold 6, 6, 6, 3, 2 -> 6, 5, 5, 2, 1 over the first Cs); 86 with
    the later folds also started from the first's (their first C 6 -> 4 iterations). Dense X
    only: on text-like CSR (``fastlr.bench.data.make_text_corpus`` 20,000 × 20,000, 10 classes)
    the carried pairs took 743 passes against 570, and the scores ended farther from the
    optimum (0.071 against 0.058 from ``tol=1e-8``'s); binary text CSR (cv_vs_sklearn text, the
    batched grid) 442 against 284."""
    if solver != "lbfgs" or objective.prox_penalty is not None \
            or objective.intercept_penalty is not None:
        return None, None
    new = float(objective.smooth_penalty.strength[0])
    if history is None:
        return _solvers.lbfgs.CompactMemory(objective.n_params, _solvers.lbfgs.MEMORY), new
    history.shift_curvature(new - strength, objective.n_coef)
    return history, new


class _FoldRows:
    """``X[train]`` of one fold after another, for X in memory; dense X's into one buffer.

    A fold's training rows of dense X are tens of MB (100,000 × 50 float64, 5 folds: 32 MB
    each). A fresh array of that size is new memory (NumPy asks for transparent huge pages from
    4 MB), and on the shared machine its first touch cost 5-14 ms a fold, and 85-92 ms for one
    fold in most grids (the kernel's page faults: the copy's own thread time, no system call,
    no garbage collection; benchmarks/cv_vs_sklearn.py multiclass). So dense X's folds are
    copied into one buffer of the largest fold's size, allocated once per grid
    (``np.take(mode="clip")``: the rows are valid indices, and "raise" with ``out`` copies
    twice): 5-6 ms a fold. The fold before is done with the buffer when the next one is
    copied in (each fold's data lives for its own fits only). CSR and Dask X: ``X[train]``.
    Measured (cv_vs_sklearn.py --cases multiclass --repeat 7, each fit after one of
    scikit-learn's, 2 threads, load 1.0-1.2): 0.59 s (0.54-0.72) -> 0.48 s (0.45-0.62), the
    same scores and passes.
    """

    def __init__(self, X, train_masks):
        self._X = X
        self._buffer = None
        if isinstance(X, np.ndarray):
            rows = int(train_masks.sum(axis=1).max())
            self._buffer = np.empty((rows,) + X.shape[1:], dtype=X.dtype)

    def take(self, train):
        """X[train] (C order, as NumPy's own indexing gives it)."""
        if self._buffer is None:
            return self._X[train]
        out = self._buffer[:len(train)]
        return np.take(self._X, train, axis=0, out=out, mode="clip")


def _multinomial_grid(X, y_index, K, sample_weight, train_masks, Cs, options, class_w,
                      warm_path=True):
    F, nC = train_masks.shape[0], len(Cs)
    n = X.shape[1]
    fit_intercept = options.fit_intercept
    p = K * n + (K if fit_intercept else 0)
    coefs = np.zeros((F, nC, K, n + int(fit_intercept)))
    n_iter = np.zeros((F, nC, 1), dtype=np.int32)
    passes = {}
    solve_options = _quiet(options)
    seed = (None, None)  # the first fold's pairs after Cs[0]: where the other folds start from
    fold_rows = _FoldRows(X, train_masks)
    for f in range(F):
        train = np.flatnonzero(train_masks[f])
        target = np.ascontiguousarray(y_index[train])
        weights = class_w[target]
        if sample_weight is not None:
            weights = weights * sample_weight[train]
        data = backend(fold_rows.take(train), target, None if np.all(weights == 1.0) else weights)
        solver = _fit._solver_for(options, p, data, "owlqn" if options.l1_ratio > 0 else None)
        target = _per_row(data, target)
        x = np.zeros(p)
        kept = {}  # the data term at the previous C's last point (``_WarmData``)
        carry = warm_path and not getattr(data, "is_sparse", False)  # see ``_carried_pairs``
        # L-BFGS's pairs along the fold's path (``_carried_pairs``), from the first fold's
        history, strength = copy.deepcopy(seed)
        for c, C in enumerate(Cs):
            start = time.perf_counter()
            objective = Objective(data, Datafit("softmax", target),
                                  from_sklearn(C, data.weight_sum, options.l1_ratio,
                                               penalize=options.penalize),
                                  model="multinomial", n_classes=K, fit_intercept=fit_intercept)
            if carry:
                history, strength = _carried_pairs(history, strength, objective, solver)
            problem = _fit._Problem(f"fold {f}, C={C:.6g}, multinomial", x, solver,
                                    history=history)
            previous, kept = kept, {}
            solving = _WarmData(objective, [c], [c - 1 if warm_path else -1], previous, kept)
            res, = _solve(solving, [problem], solve_options)
            _fit._warn_unconverged([res], [problem], options)
            if f == 0 and c == 0:
                seed = copy.deepcopy((history, strength))
            coefs[f, c, :, :n] = res.x[:K * n].reshape(K, n)
            if fit_intercept:
                coefs[f, c, :, n] = res.x[K * n:] - res.x[K * n:].mean()
            # the next C starts here (scikit-learn's warm start along Cs), or from zero
            x = res.x if warm_path else np.zeros(p)
            n_iter[f, c, 0] = min(options.max_iter, res.n_iter)
            _add_passes(passes, objective.passes)
            if options.verbose:
                print(f"[LogisticRegressionCV] fold {f + 1} of {F}, C={C:.6g}: "
                      f"{n_iter[f, c, 0]} iterations, {time.perf_counter() - start:.2f}s",
                      flush=True)
    return Grid(coefs, n_iter, "multinomial", passes, solver=solver)


# ---------------------------------------------------------------------------------- scoring
#: scorers computed for all of a fold's models from one X_test·Wᵀ (None: scikit-learn's
#: default, accuracy through ``LogisticRegression.score``)
FAST_SCORERS = (None, "accuracy", "neg_log_loss")


def _margins(X_test, coefs_fold, n):
    """(M, n_Cs, n_test) margins of all of a fold's models, classes on the leading axis: one
    product with X_test. Why (benchmarks/cv_vs_sklearn.py multiclass): the log-softmax's
    reductions over the K classes then run across K contiguous rows of n_Cs·n_test values, not
    along a last axis of 10 — ``score_grid`` of its 5 x 10 grid 0.34 -> 0.16 s and 0.44 ->
    0.23 s (medians of 7 and 11 interleaved calls, load 8-9); scores 2e-14 from the old."""
    from sklearn.utils.extmath import safe_sparse_dot

    nC, M, p = coefs_fold.shape
    W = np.ascontiguousarray(coefs_fold[:, :, :n].transpose(1, 0, 2)).reshape(M * nC, n)
    if M > 1 and not hasattr(X_test, "tocsr"):
        Z = np.asarray(W @ X_test.T, dtype=np.float64)
    else:  # one model per C: no reduction over classes; OpenBLAS's X·Wᵀ is the faster order
        Z = np.asarray(safe_sparse_dot(X_test, W.T, dense_output=True), dtype=np.float64).T
        if M > 1:
            Z = np.ascontiguousarray(Z)
    if p > n:
        Z += coefs_fold[:, :, n].T.reshape(-1, 1)
    return Z.reshape(M, nC, -1)


def _log_softmax_at(Z, y):
    """log softmax(Z)[y[i], c, i] (n_Cs, n_test) over the leading axis of Z (K, n_Cs, n_test):
    scipy's ``log_softmax`` (z − max, minus the log of Σ exp(z − max)) formed at the labels'
    entries only. scipy's over all entries took 0.46 of a 4.4 s multinomial grid (20,000
    held-out rows × 10 Cs × 10 classes per fold)."""
    top = Z.max(axis=0)
    at = np.take_along_axis(Z, y[None, None, :], axis=0)[0] - top
    shifted = Z - top
    np.exp(shifted, out=shifted)
    return at - np.log(shifted.sum(axis=0))


def _fast_scores(Z, kind, y_test, sw_test, scoring):
    """The scores of the n_Cs models of one fold from their margins Z (M, n_Cs, n_test), as
    scikit-learn's ``accuracy_score`` on ``predict`` and ``log_loss`` on ``predict_proba``
    (probabilities clipped to [eps, 1 − eps]) compute them; all Cs at once."""
    if kind == "binary":  # (n_test, n_Cs): ``_margins``' X_test·Wᵀ itself, C order
        z = Z[0].T
        if scoring in (None, "accuracy"):
            return np.average((z > 0).astype(np.int64) == y_test[:, None], axis=0,
                              weights=sw_test)
        log_py = log_expit(np.where(y_test == 1, 1.0, -1.0)[:, None] * z)  # log σ(±z)
        axis = 0
    else:
        if scoring in (None, "accuracy"):
            return np.average(Z.argmax(axis=0) == y_test[None, :], axis=1, weights=sw_test)
        # multinomial: log softmax(z); one-vs-rest: the normalised sigmoids, as predict_proba
        log_py = _log_softmax_at(Z if kind == "multinomial" else log_expit(Z), y_test)
        axis = 1
    proba = np.exp(log_py)
    eps = np.finfo(proba.dtype).eps
    return -np.average(-np.log(np.clip(proba, eps, 1 - eps)), axis=axis, weights=sw_test)


def _model(classes, kind, coef, intercept, n_features, dtype):
    """A fitted ``fastlr.LogisticRegression`` holding one grid model, for a scorer."""
    from .estimator import LogisticRegression

    model = LogisticRegression(multi_class="ovr" if kind == "ovr" else "auto")
    model.classes_ = classes
    model.coef_ = coef.astype(dtype)
    model.intercept_ = intercept.astype(dtype)
    model.n_features_in_ = n_features
    model.multi_class_ = kind
    return model


def _with_labels(scorer, classes):
    """scikit-learn's ``_log_reg_scoring_path``: a scorer whose metric takes ``labels`` gets all
    the classes (a fold's y_test may lack some), and binary ``pos_label`` the last class."""
    from sklearn.metrics import make_scorer

    sig = (inspect.signature(scorer._score_func).parameters
           if hasattr(scorer, "_score_func") else [])
    if "labels" not in sig:
        return scorer
    pos_label = {}
    if len(classes) <= 2 and "pos_label" in sig:
        pos_label["pos_label"] = classes[-1]
    return make_scorer(scorer._score_func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method, labels=classes, **pos_label,
                       **getattr(scorer, "_kwargs", {}))


#: the fast scores of several folds run on Python threads (NumPy and BLAS release the GIL) from
#: this many margins per fold (classes × Cs × held-out rows); below, one thread. Measured
#: (benchmarks/cv_vs_sklearn.py multiclass: 10 × 10 × 20,000 margins a fold, 2 threads)
#: score_grid 94 -> 55 ms
THREADED_SCORES_MIN = 200_000


def score_grid(X, y, y_index, folds, grid, classes, scoring, sample_weight, score_params,
               threads=None):
    """scores (F, n_Cs): each model on its fold's held-out rows. ``scoring``: None, a scorer
    name or a callable; ``score_params``: the scorer's routed parameters over all of X (with
    ``sample_weight`` where it reaches the scorer), indexed here by each fold's test rows.
    ``scoring=None`` is scikit-learn's ``LogisticRegression.score``, weighted by the fit's
    ``sample_weight`` whatever the routing. ``threads``: for the accuracy and log-loss scores,
    folds scored at once (None: the kernels' thread count, ``fastlr._jit.max_threads``)."""
    from sklearn.metrics import get_scorer
    from sklearn.utils.validation import _check_method_params

    F, nC, M, p = grid.coefs.shape
    n = X.shape[1]
    extra = {k: v for k, v in (score_params or {}).items() if k != "sample_weight"}
    fast = (scoring is None or isinstance(scoring, str)) and scoring in FAST_SCORERS \
        and not extra
    scorer = None if fast or scoring is None else _with_labels(get_scorer(scoring), classes)
    weights = sample_weight if scoring is None else (score_params or {}).get("sample_weight")
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
    scores = np.empty((F, nC))
    if fast:
        from threadpoolctl import threadpool_limits

        # BLAS on one thread, as in fit_grid: the fold products are small, and free OpenBLAS
        # threads spin against the numba threads. Why (benchmarks/cv_vs_sklearn.py multiclass,
        # BLAS unpinned, load ~4): score_grid 211 -> 151 ms, medians of 9 interleaved
        def fold_scores(f):
            test = folds[f][1]
            Z = _margins(X[test], grid.coefs[f], n)
            return _fast_scores(Z, grid.kind, y_index[test],
                                None if weights is None else weights[test], scoring)

        if threads is None:
            threads = max_threads()
        margins = M * nC * max((len(test) for _, test in folds), default=0)
        # (Dask X: its own scheduler computes each fold's test rows)
        threads = (min(threads, F) if margins >= THREADED_SCORES_MIN
                   and not is_dask_collection(X) else 1)
        with threadpool_limits(limits=1, user_api="blas"):
            if threads > 1:
                with ThreadPoolExecutor(threads) as pool:
                    scores[:] = list(pool.map(fold_scores, range(F)))
            else:
                for f in range(F):
                    scores[f] = fold_scores(f)
        return scores
    for f, (_, test) in enumerate(folds):
        X_test = X[test]
        sw_test = None if weights is None else weights[test]
        params = _check_method_params(X=X, params=score_params or {}, indices=test)
        for c in range(nC):
            w = grid.coefs[f, c]
            coef, intercept = w[:, :n], (w[:, n] if p > n else np.zeros(M))
            model = _model(classes, grid.kind, coef, intercept, n, np.float64)
            if scorer is None:  # scikit-learn's default: the estimator's own score
                scores[f, c] = model.score(X_test, y[test], sample_weight=sw_test)
            else:
                scores[f, c] = scorer(model, X_test, y[test], **params)
    return scores
