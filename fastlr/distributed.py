"""Fit on data beyond one machine: logistic regression on a Dask cluster, the Spark MLlib way.

``fastlr.LogisticRegression.fit`` hands ``dask.array`` / ``dask.dataframe`` input here. The row
blocks of X (and y, sample weights) are persisted on the workers once. Every evaluation of the
objective is then **one task graph and one ``compute``**:

    w ──┬── block_sums(X₀, y₀, s₀, w, b) ─┐
        ├── block_sums(X₁, y₁, s₁, w, b) ─┼── add_in_order ──► (Σ sᵢLᵢ, Σ dzᵢxᵢ, Σ dzᵢ)
        └── …                            ─┘

with w placed in the graph once (one key that every block task reads), one fused ``loss_grad``
task per block (the same kernel as in memory, one pass over the block), and the partial sums added
in block order — so two fits give bitwise-identical coefficients. Tasks per evaluation: n_blocks + 2.
The driver runs ``fastlr._solvers.minimize`` (L-BFGS via ``scipy.optimize.minimize(jac=True)``,
gradient descent, or Newton with per-block Hessians summed the same way) on a
:class:`DaskObjective`, which has the methods of the in-memory ``BinaryObjective``.

Task functions are module-level (picklable by reference). Inside a task the kernel runs on one
Numba thread (``NUMBA_THREADS_PER_TASK``), so a worker with k threads runs k kernels at a time
and never more threads than it was given; give workers as many threads as cores.

A lost worker is survived by Dask itself: persisted blocks that lived on it are recomputed from
their graph on another worker, and since each block's sums do not depend on where they were
computed, the result does not change.

Dask and distributed are imported only when a Dask collection arrives (``pip install
fastlr-numba[dask]``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._jit import numba_threads
from ._objective import LinearObjective

__all__ = ["DaskData", "DaskObjective", "fit_dask", "is_dask_collection", "loss_grad"]

#: Numba threads each block task uses: the worker's own threads already run blocks in parallel.
NUMBA_THREADS_PER_TASK = 1


def is_dask_collection(obj) -> bool:
    """True for dask.array / dask.dataframe objects, decided without importing Dask."""
    return type(obj).__module__.split(".")[0] == "dask"


# ---------------------------------------------------------------- task functions (run on workers)

def _single_thread(func, *args):
    with numba_threads(NUMBA_THREADS_PER_TASK):
        return func(*args)


def _block_loss_grad(X, y, s, w, b, with_grad):
    """Unnormalised (Σ sᵢLᵢ, Σ sᵢ·dzᵢ·xᵢ, Σ sᵢ·dzᵢ) of one row block, by the fused kernel."""
    from . import kernels
    from ._validation import check_problem

    p = check_problem(w, b, X, y, None if s is None else s)
    p = p._replace(weight_sum=1.0, l2=0.0)  # raw sums: normalised once, on the driver
    return _single_thread(kernels._fused, p, with_grad)


def _block_loss_grad_hess(X, y, s, w, b):
    """Unnormalised (Σ sᵢLᵢ, gradient sums, Hessian sums) of one row block, in one pass."""
    from ._validation import check_problem
    from .kernels import hessian

    p = check_problem(w, b, X, y, None if s is None else s)
    weights = np.empty(0) if p.sample_weight is None else p.sample_weight
    return _single_thread(hessian.loss_grad_hess_dense, p.X, p.y, weights, p.w, p.b, 1.0, 0.0)


def _add_in_order(parts):
    """Add per-block tuples of sums in block order: a fixed order, so results are reproducible."""
    total = [np.array(v, dtype=np.float64, copy=True) for v in parts[0]]
    for part in parts[1:]:
        for acc, value in zip(total, part):
            acc += value
    return tuple(total)


# ---------------------------------------------------------------- data on the cluster

def _as_dask_array(data, name: str):
    import dask.array as da

    if isinstance(data, da.Array):
        return data
    if hasattr(data, "to_dask_array"):  # dask DataFrame / Series: lengths give known row chunks
        return data.to_dask_array(lengths=True)
    raise TypeError(f"{name} must be a dask.array or dask.dataframe collection, "
                    f"got {type(data).__name__}")


class DaskData:
    """X, y and the sample weights as persisted row blocks on the current Dask cluster.

    X must be 2-D, real, chunked by rows (a chunking over columns is merged, once, so that each
    block holds whole rows); y and sample_weight are rechunked to X's row blocks.
    """

    def __init__(self, X, y, sample_weight=None):
        import dask
        import dask.array as da

        X = _as_dask_array(X, "X")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise TypeError(f"X has dtype {X.dtype}; fastlr needs real numbers")
        if any(np.isnan(c) for c in X.chunks[0]):
            raise ValueError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        y = _as_dask_array(y, "y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D of length n_samples={X.shape[0]}, got shape {y.shape}")
        y = y.rechunk((X.chunks[0],))
        if sample_weight is not None:
            sample_weight = _as_dask_array(sample_weight, "sample_weight")
            if sample_weight.ndim != 1 or sample_weight.shape[0] != X.shape[0]:
                raise ValueError(f"sample_weight must be 1-D of length n_samples={X.shape[0]}")
            sample_weight = sample_weight.astype(np.float64).rechunk((X.chunks[0],))
        X, y, sample_weight = dask.persist(X, y, sample_weight)
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.shape = X.shape
        self.dtype = X.dtype
        self.n_blocks = len(X.chunks[0])
        self._X_blocks = X.to_delayed(optimize_graph=False).ravel().tolist()
        self._s_blocks = (None if sample_weight is None
                          else sample_weight.to_delayed(optimize_graph=False).ravel().tolist())

    def classes(self):
        """The sorted distinct labels of y (one small reduction on the cluster)."""
        import dask.array as da

        return np.asarray(da.unique(self.y).compute())

    def targets(self, positive_label):
        """y == positive_label as float64 row blocks, persisted beside X."""
        import dask

        y01 = (self.y == positive_label).astype(np.float64)
        (y01,) = dask.persist(y01)
        return y01.to_delayed(optimize_graph=False).ravel().tolist()

    def multiply_weights(self, factors):
        """Multiply the sample weights (1 where none were given) by ``factors``, persisted."""
        import dask

        weights = factors if self.sample_weight is None else factors * self.sample_weight
        (weights,) = dask.persist(weights)
        self.sample_weight = weights
        self._s_blocks = weights.to_delayed(optimize_graph=False).ravel().tolist()

    def weight_sum(self) -> float:
        """Σ sᵢ (n_samples without weights)."""
        if self.sample_weight is None:
            return float(self.shape[0])
        return float(self.sample_weight.sum().compute())

    def sums(self, y_blocks, w, b, with_grad=True, hessian=False):
        """One task graph: per-block kernel sums, added in block order; one ``compute``."""
        import dask

        w_node = dask.delayed(np.ascontiguousarray(w, dtype=np.float64), pure=False)
        s_blocks = self._s_blocks or [None] * self.n_blocks
        if hessian:
            parts = [dask.delayed(_block_loss_grad_hess, pure=False)(Xb, yb, sb, w_node, b)
                     for Xb, yb, sb in zip(self._X_blocks, y_blocks, s_blocks)]
        else:
            parts = [dask.delayed(_block_loss_grad, pure=False)(Xb, yb, sb, w_node, b, with_grad)
                     for Xb, yb, sb in zip(self._X_blocks, y_blocks, s_blocks)]
        (total,) = dask.compute(dask.delayed(_add_in_order, pure=False)(parts))
        return total


def _normalised(sums, w, weight_sum, l2):
    """Raw block sums (Σ sᵢLᵢ, Σ dzᵢxᵢ, Σ dzᵢ) → (J, dw, db) with J = Σ sᵢLᵢ/Σ sᵢ + ½·l2·‖w‖²."""
    loss, dw, db = sums
    return (float(loss) / weight_sum + 0.5 * l2 * float(w @ w),
            dw / weight_sum + l2 * w, float(db) / weight_sum)


class DaskObjective(LinearObjective):
    """The mean-scaled objective of ``fastlr._objective.BinaryObjective`` on a Dask cluster.

    f(θ) = Σ sᵢ·Lᵢ / Σ sᵢ + ½·λ·‖w‖², λ = 1/(C·Σ sᵢ) (0 without penalty), θ = [w..., b].
    Same methods, so ``fastlr._solvers.minimize`` drives it unchanged; the blocks return raw
    sums, normalised and penalised here once.
    """

    def __init__(self, data: DaskData, y_blocks, *, C=1.0, fit_intercept=True, penalty="l2"):
        weight_sum = data.weight_sum()
        if weight_sum <= 0:
            raise ValueError("sample_weight sums to zero")
        super().__init__(data.shape[1], weight_sum, C=C, fit_intercept=fit_intercept,
                         penalty=penalty)
        self.data = data
        self.y_blocks = y_blocks

    def loss_grad_wb(self, w, b):
        return _normalised(self.data.sums(self.y_blocks, w, b), w, self.weight_sum, self.l2)

    def loss_grad_hess_wb(self, w, b):
        loss, g, H = self.data.sums(self.y_blocks, w, b, hessian=True)
        n = self.n_features
        J = float(loss) / self.weight_sum + 0.5 * self.l2 * float(w @ w)
        g = g / self.weight_sum
        H = H / self.weight_sum
        g[:n] += self.l2 * w
        H[np.arange(n), np.arange(n)] += self.l2
        return J, g, H


def loss_grad(w, b, X, y, sample_weight=None, l2=0.0):
    """``fastlr.kernels.loss_grad`` on Dask collections: (J, dw, db) in float64.

    J = Σ sᵢ·Lᵢ / Σ sᵢ + ½·l2·‖w‖², with one fused kernel task per row block of X.
    """
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not l2 >= 0:
        raise ValueError(f"l2 must be a number >= 0, got {l2!r}")
    data = DaskData(X, y, sample_weight)
    y_blocks = data.y.to_delayed(optimize_graph=False).ravel().tolist()
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (data.shape[1],):
        raise ValueError(f"w must be 1-D of length n_features={data.shape[1]}, got {w.shape}")
    return _normalised(data.sums(y_blocks, w, float(b)), w, data.weight_sum(), float(l2))


# ---------------------------------------------------------------- the estimator's Dask path

def _class_weighted(data: DaskData, classes, class_weight):
    """Sample weights times class weights (scikit-learn's semantics), as persisted blocks."""
    import dask.array as da
    from sklearn.utils.class_weight import compute_class_weight

    if class_weight == "balanced":
        _, counts = da.unique(data.y, return_counts=True)
        counts = np.asarray(counts.compute(), dtype=np.float64)
        per_class = counts.sum() / (len(classes) * counts)
    else:
        # dict weights need no counts: any y with every class present gives the same result
        per_class = compute_class_weight(class_weight, classes=classes, y=classes)
    data.multiply_weights(data.y.map_blocks(lambda yb: per_class[np.searchsorted(classes, yb)],
                                            dtype=np.float64))


def fit_dask(estimator, X, y, sample_weight=None):
    """``LogisticRegression.fit`` for Dask input: the same model as the in-memory fit.

    One binary problem (or one per class, one-vs-rest) as a :class:`DaskObjective`, solved on the
    driver by ``fastlr._solvers.minimize``; the fitted attributes are set by the estimator itself.
    """
    from . import _solvers
    from .estimator import _require_two_classes

    estimator._check_params()
    data = DaskData(X, y, sample_weight)
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValueError(f"X is empty: shape {data.shape}")
    classes = data.classes()
    _require_two_classes(classes)
    if estimator.class_weight is not None:
        _class_weighted(data, classes, estimator.class_weight)
    columns = getattr(X, "columns", None)
    n_problems = 1 if classes.shape[0] == 2 else classes.shape[0]
    positives = [classes[1]] if n_problems == 1 else list(classes)
    solver = estimator.solver
    x0s = estimator._initial_points(n_problems, data.shape[1], classes)
    results = []
    for k, label in enumerate(positives):
        obj = DaskObjective(data, data.targets(label), C=estimator.C,
                            fit_intercept=estimator.fit_intercept, penalty=estimator.penalty)
        results.append(_solvers.minimize(
            obj.loss_grad, x0s[k], solver=solver, max_iter=estimator.max_iter,
            tol=estimator.tol, learning_rate=estimator.learning_rate,
            loss_grad_hess=obj.loss_grad_hess, verbose=estimator.verbose))
    estimator.n_features_in_ = data.shape[1]
    names = None if columns is None else np.asarray(columns, dtype=object)
    if names is not None and all(isinstance(name, str) for name in names):
        estimator.feature_names_in_ = names
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_
    return estimator._set_fit_results(results, classes, data.shape[1], data.dtype, solver)


def _predict_block(X_block, estimator, method, columns):
    if columns is not None:  # fitted on a DataFrame: keep the feature-name check meaningful
        import pandas as pd

        X_block = pd.DataFrame(X_block, columns=list(columns))
    return getattr(estimator, method)(X_block)


def predict_dask(estimator, X, method):
    """``estimator.<method>(X)`` on a Dask collection: a lazy Dask array, block by block.

    ``decision_function`` of a binary model and ``predict`` give shape (n_samples,); probabilities
    and one-vs-rest margins give (n_samples, n_classes).
    """
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    n_classes = len(estimator.classes_)
    one_column = method == "predict" or (method == "decision_function" and n_classes == 2)
    if method == "predict":
        dtype = estimator.classes_.dtype
    else:
        dtype = np.result_type(X.dtype, np.float32)
    names = getattr(estimator, "feature_names_in_", None)
    columns = None if names is None else tuple(names)  # a tuple: dask would treat an array as data
    # an explicit meta: dask would otherwise call the estimator on an empty stand-in block
    if one_column:
        return X.map_blocks(_predict_block, estimator, method, columns, dtype=dtype,
                            drop_axis=1, meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(_predict_block, estimator, method, columns, dtype=dtype,
                        chunks=(X.chunks[0], (n_classes,)), meta=np.empty((0, 0), dtype=dtype))
