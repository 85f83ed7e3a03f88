"""Fit on data beyond one machine: logistic regression on a Dask cluster, the Spark MLlib way.

``fastlr.LogisticRegression.fit`` wraps ``dask.array`` / ``dask.dataframe`` input in a
:class:`DaskData` — the Dask data backend of the one fit driver (``fastlr._fit``; the in-memory
backend is ``fastlr._data.ArrayData``). The row blocks of X (and y, sample weights) are persisted
on the workers once. Every evaluation of the objective is then **one task graph and one
``compute``**:

    w ──┬── block_sums(X₀, y₀, s₀, w, b) ─┐
        ├── block_sums(X₁, y₁, s₁, w, b) ─┼── add_in_order ──► Sums (Σ sᵢLᵢ, Σ dzᵢxᵢ, Σ dzᵢ[, H])
        └── …                            ─┘

with w placed in the graph once (one key that every block task reads), one fused kernel task per
block (the same raw-sums kernel as in memory, one pass over the block), and the partial sums added
in block order — so two fits give bitwise-identical coefficients. Tasks per evaluation:
n_blocks + 2. The driver runs ``fastlr._solvers.minimize`` (L-BFGS, gradient descent, or Newton
with per-block Hessians summed the same way); ``fastlr._linear_loss`` normalises the sums, as it
does for in-memory data.

Before the fit, the same checks as in memory run on the cluster, without pulling X to the driver:
X finite (one small task per block), y a classification target (its distinct labels), weights
non-negative. Empty blocks (after a filter, say) contribute nothing. Blocks may be NumPy arrays or
scipy.sparse CSR matrices (``da.from_array(X_csr, chunks=(rows, -1), asarray=False)``): a sparse
block goes to the fused CSR kernel, one task per block per evaluation, as a dense one does.

Task functions are module-level (picklable by reference). Inside a task the kernel runs on one
Numba thread (``NUMBA_THREADS_PER_TASK``), so a worker with k threads runs k kernels at a time
and never more threads than it was given; give workers as many threads as cores.

A lost worker is survived by Dask itself: persisted blocks that lived on it are recomputed from
their graph on another worker, and since each block's sums do not depend on where they were
computed, the result does not change.

Dask and distributed are imported only when a Dask collection arrives (``pip install
"dask[array,dataframe]" distributed`` — or, from a checkout,
``pip install ".[dask]"``).
"""

from __future__ import annotations

import numbers

import numpy as np

from ._jit import numba_threads
from ._objective import normalise
from ._validation import check_real_dtype

__all__ = ["DaskData", "loss_grad", "predict_dask"]

#: Numba threads each block task uses: the worker's own threads already run blocks in parallel.
NUMBA_THREADS_PER_TASK = 1


# ---------------------------------------------------------------- task functions (run on workers)

def _kernel_fit(kind, target, s, labels, factors):
    from .kernels import _sums

    if kind == "logistic":
        return _sums.logistic_fit(np.ascontiguousarray(target, dtype=np.float64), s)
    if kind == "softmax":
        return _sums.softmax_fit(np.ascontiguousarray(target, dtype=np.int64), s)
    return _sums.batched_fit(np.ascontiguousarray(target, dtype=np.int64), labels, factors, s)


def _zero_sums(kind, K, n, hessian):
    """What an empty block contributes: zero sums of the pass's shapes."""
    from .kernels._sums import Sums

    p = n + 1
    if kind == "logistic":
        return Sums(0.0, np.zeros(n), 0.0, np.zeros((p, p)) if hessian else None)
    if kind == "softmax":
        return Sums(0.0, np.zeros((K, n)), np.zeros(K),
                    np.zeros((K * p, K * p)) if hessian else None)
    return Sums(np.zeros(K), np.zeros((K, n)), np.zeros(K),
                np.zeros((K, p, p)) if hessian else None)


def _block_weights(s):
    return None if s is None else np.ascontiguousarray(s, dtype=np.float64)


def _block_pass(X, target, s, request):
    """One row block's pass (``fastlr._backend.Backend.run``): its Sums — and, for want =
    "curvature", (Sums, curvature (K, m_b)). An empty block contributes nothing."""
    from ._validation import check_X
    from .kernels import _sums

    (kind, labels, factors), W, b, want = request
    K, n = W.shape
    if X.shape[0] == 0:
        sums = _zero_sums(kind, K, n, want == "hessian")
        return (sums, np.empty((K, 0))) if want == "curvature" else sums
    X, _ = check_X(X)
    fit = _kernel_fit(kind, target, _block_weights(s), labels, factors)
    with numba_threads(NUMBA_THREADS_PER_TASK):
        if want == "hessian":
            return _sums.gram_sums(fit, X, W, b)
        if want != "curvature":
            return _sums.gradient_sums(fit, X, W, b, with_grad=want != "loss")
        curvature = np.empty((K, X.shape[0]))
        return _sums.gradient_sums(fit, X, W, b, curvature=curvature), curvature


def _block_hessp(X, target, s, curvature, request):
    """One row block's raw H·v: (HV (K, n), hb (K,))."""
    from ._validation import check_X
    from .kernels import _sums

    (kind, labels, factors), V, vb = request
    if X.shape[0] == 0:
        return np.zeros(V.shape), np.zeros(V.shape[0])
    X, _ = check_X(X)
    with numba_threads(NUMBA_THREADS_PER_TASK):
        return _sums.hessp_sums(_kernel_fit(kind, target, _block_weights(s), labels, factors),
                                X, V, vb, curvature)


def _block_diagonal(X, s, kind, curvature, n, class_mean=False):
    """One row block's raw Hessian diagonal: (D (K, n), d_b (K,)); (1, n), (1,) with
    ``class_mean``."""
    from ._data import _diagonal_weights
    from ._validation import check_X
    from .kernels import _sums

    K = 1 if class_mean and kind == "softmax" else curvature.shape[0]
    if X.shape[0] == 0:
        return np.zeros((K, n)), np.zeros(K)
    X, _ = check_X(X)
    with numba_threads(NUMBA_THREADS_PER_TASK):
        return _sums.diagonal_sums(X, _diagonal_weights(kind, curvature, _block_weights(s),
                                                        class_mean))


def _take_rows(blocks, rows):
    """One block's curvature rows gathered from several kept passes."""
    return np.stack([block[row] for block, row in zip(blocks, rows)])


def _add_in_order(parts):
    """Add per-block Sums in block order: a fixed order, so results are reproducible."""
    from .kernels._sums import add_in_order

    return add_in_order(parts)


def _add_pairs_in_order(parts):
    """Add per-block (array, array) pairs in block order."""
    first, second = (np.array(v, dtype=np.float64, copy=True) for v in parts[0])
    for a, b in parts[1:]:
        first += a
        second += b
    return first, second


def _group_weight_sums(groups, s, n_groups):
    return np.bincount(groups, weights=None if s is None else s, minlength=n_groups)


def _nonfinite(X_block):
    """(any NaN, any ±inf) in one block of X, dense or scipy.sparse."""
    values = X_block.data if hasattr(X_block, "tocsr") else np.asarray(X_block)
    return bool(np.isnan(values).any()), bool(np.isinf(values).any())


def _class_index(y_block, classes):
    """Each label's index in the sorted ``classes``."""
    return np.searchsorted(classes, y_block)


def _label_types(y_block):
    """The type names of one block's labels (for the message on labels of mixed types)."""
    return {type(v).__name__ for v in np.ravel(y_block)}


def _block_sum(block):
    """Σ of one block of weights, as a 1-element array; inf (no warning) when it overflows."""
    with np.errstate(over="ignore"):
        return np.array([np.sum(block, dtype=np.float64)])


def _weighted_by_class(y_block, s_block, per_class, classes):
    """sᵢ·per_class[class of yᵢ] (sᵢ = 1 without weights); inf (no warning) on overflow."""
    factors = per_class[_class_index(y_block, classes)]
    with np.errstate(over="ignore"):
        return factors if s_block is None else factors * s_block


# ---------------------------------------------------------------- data on the cluster

def _as_dask_array(data, name: str, numeric: bool = False):
    """A Dask array of ``data``; a Dask DataFrame/Series with ``numeric`` is first converted as
    in memory (nullable ``Float64``/``Float32``/``Int64``/``boolean`` columns to float64, as
    scikit-learn's check_array converts them for the in-memory fit; missing values NaN; a
    non-numeric column is a TypeError), not left to become an object array."""
    import dask.array as da

    if isinstance(data, da.Array):
        return data
    if hasattr(data, "to_dask_array"):  # dask DataFrame / Series: lengths give known row chunks
        if numeric:
            from ._validation import pandas_float_dtype

            if pandas_float_dtype(data, name) is not None:
                data = data.astype(np.float64)
        return data.to_dask_array(lengths=True)
    raise TypeError(f"{name} must be a dask.array or dask.dataframe collection, "
                    f"got {type(data).__name__}")


def _require_known_chunks(array, name: str) -> None:
    """Row counts unknown (a boolean-mask selection, say) leave the length nan: say what to do
    instead of comparing shapes with nan in them."""
    if array.ndim and any(np.isnan(c) for c in array.chunks[0]):
        raise ValueError(f"{name} has unknown chunk sizes; call {name}.compute_chunk_sizes() "
                         "first")


def feature_stand_in(X):
    """An empty in-memory stand-in of a Dask collection for scikit-learn's feature checks
    (``validate_data(..., skip_check_array=True)``: the feature names and n_features), computing
    nothing: a pandas DataFrame with a Dask DataFrame's columns, in order, or an empty array of a
    Dask array's width (no names)."""
    if hasattr(X, "columns"):
        import pandas as pd

        return pd.DataFrame(columns=X.columns)
    return np.empty((0,) + tuple(X.shape[1:]))


class DaskData:
    """X, y and the sample weights as persisted row blocks on the current Dask cluster.

    X must be 2-D, real, chunked by rows (a chunking over columns is merged, once, so that each
    block holds whole rows); y and sample_weight are rechunked to X's row blocks. The methods are
    those of a fit data backend (see ``fastlr._data``).
    """

    capabilities = frozenset({"hessian", "hessp", "diagonal"})

    def __init__(self, X, y, sample_weight=None, *, estimator_name: str | None = None):
        import dask

        X = _as_dask_array(X, "X", numeric=True)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
        check_real_dtype(X.dtype, "X")
        _require_known_chunks(X, "X")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X is empty: shape {X.shape}")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        if len(X.chunks[1]) > 1:
            X = X.rechunk({1: -1})
        y = _as_dask_array(y, "y")
        _require_known_chunks(y, "y")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must be 1-D of length n_samples={X.shape[0]}, got shape {y.shape}")
        y = y.rechunk((X.chunks[0],))
        if sample_weight is not None:
            sample_weight = _as_dask_array(sample_weight, "sample_weight", numeric=True)
            _require_known_chunks(sample_weight, "sample_weight")
            check_real_dtype(sample_weight.dtype, "sample_weight")  # complex: not cast to real
            if sample_weight.ndim != 1 or sample_weight.shape[0] != X.shape[0]:
                raise ValueError(f"sample_weight must be 1-D of length n_samples={X.shape[0]}, "
                                 f"got shape {sample_weight.shape}")
            sample_weight = sample_weight.astype(np.float64).rechunk((X.chunks[0],))
        X, y, sample_weight = dask.persist(X, y, sample_weight)
        self.X, self.y, self.sample_weight = X, y, sample_weight
        self.n_samples, self.n_features = X.shape
        self.dtype = np.dtype(X.dtype)
        self.n_blocks = len(X.chunks[0])
        self.is_sparse = hasattr(X._meta, "tocsr")  # blocks of scipy.sparse matrices
        self._X_blocks = X.to_delayed(optimize_graph=False).ravel().tolist()
        self._check(estimator_name)
        self._set_weights(sample_weight)

    def _check(self, estimator_name):
        """The in-memory fit's checks, as reductions on the cluster (X never leaves it)."""
        import dask
        import dask.array as da
        from sklearn.utils.validation import _assert_all_finite

        checks = [dask.delayed(_nonfinite)(block) for block in self._X_blocks]
        if self.sample_weight is not None:
            s = self.sample_weight
            checks += [da.isfinite(s).all(), (s >= 0).all()]
        results = dask.compute(*checks)
        flags = results[:self.n_blocks]
        has_nan, has_inf = any(f[0] for f in flags), any(f[1] for f in flags)
        results = (None, None) + tuple(results[self.n_blocks:])
        if has_nan or has_inf:  # scikit-learn's own message, from a one-value stand-in
            _assert_all_finite(np.array([np.nan if has_nan else np.inf], dtype=self.dtype),
                               input_name="X", estimator_name=estimator_name)
        if self.sample_weight is not None:
            if not results[2]:
                raise ValueError("sample_weight must be finite")
            if not results[3]:
                raise ValueError("sample_weight must be non-negative")

    def _set_weights(self, weights, with_class_weight: bool = False):
        import dask

        from ._validation import check_weight_sum

        if weights is not None:
            (weights,) = dask.persist(weights)
        weight_sum = float(self.n_samples)
        if weights is not None:  # the in-memory check, on the per-block sums
            block_sums = weights.map_blocks(_block_sum, chunks=((1,) * weights.numblocks[0],),
                                            dtype=np.float64)
            with np.errstate(over="ignore"):
                weight_sum = float(np.sum(block_sums.compute()))
        self.weight_sum = check_weight_sum(weight_sum, lambda: weights.max().compute(),
                                           with_class_weight)
        self.sample_weight = weights
        self._s_blocks = (None if weights is None
                          else weights.to_delayed(optimize_graph=False).ravel().tolist())

    # -------------------------------------------------------------- the fit backend's methods
    def labels(self) -> np.ndarray:
        """The sorted distinct labels of y (one small reduction on the cluster); labels that
        cannot be sorted together raise the in-memory "Unknown label type"."""
        import dask
        import dask.array as da

        from ._validation import mixed_labels_error

        try:
            return np.asarray(da.unique(self.y).compute())
        except TypeError:
            blocks = self.y.to_delayed(optimize_graph=False).ravel().tolist()
            types = dask.compute(*[dask.delayed(_label_types)(b) for b in blocks])
            raise mixed_labels_error(set().union(*types)) from None

    def class_counts(self, classes) -> np.ndarray:
        import dask.array as da

        index = self.y.map_blocks(_class_index, classes, dtype=np.intp)
        return np.asarray(da.bincount(index, minlength=len(classes)).compute(), dtype=np.float64)

    def class_weight_sums(self, classes) -> np.ndarray:
        import dask.array as da

        if self.sample_weight is None:
            return self.class_counts(classes)
        index = self.y.map_blocks(_class_index, classes, dtype=np.intp)
        return np.asarray(da.bincount(index, weights=self.sample_weight,
                                      minlength=len(classes)).compute(), dtype=np.float64)

    def multiply_weights(self, per_class, classes) -> None:
        """sᵢ ← sᵢ · per_class[class of i] (sᵢ = 1 where no weights were given), persisted."""
        import dask.array as da

        per_class = np.asarray(per_class, dtype=np.float64)
        if self.sample_weight is None:
            weights = self.y.map_blocks(_weighted_by_class, None, per_class, classes,
                                        dtype=np.float64)
        else:
            weights = da.map_blocks(_weighted_by_class, self.y, self.sample_weight, per_class,
                                    classes, dtype=np.float64)
        self._set_weights(weights, with_class_weight=True)

    def target(self, label):
        """y == label as float64 row blocks, persisted beside X."""
        import dask

        y01 = (self.y == label).astype(np.float64)
        (y01,) = dask.persist(y01)
        return y01.to_delayed(optimize_graph=False).ravel().tolist()

    def class_target(self, classes):
        """The class indices (positions in ``classes``) as int64 row blocks, persisted."""
        import dask

        index = self.y.map_blocks(_class_index, np.asarray(classes), dtype=np.int64)
        (index,) = dask.persist(index)
        return index.to_delayed(optimize_graph=False).ravel().tolist()

    def group_weight_sums(self, groups, n_groups: int) -> np.ndarray:
        import dask

        s_blocks = self._s_blocks or [None] * self.n_blocks
        parts = [dask.delayed(_group_weight_sums)(g, s, n_groups)
                 for g, s in zip(groups, s_blocks)]
        return np.sum(dask.compute(*parts), axis=0).astype(np.float64)

    def _tasks(self, function, datafit, request, per_block=None):
        """One task per block, function(X_b, target_b, s_b, [per_block_b,] request), with the
        request (the datafit's tables, the coefficients, …) one key of the graph that every
        block task reads: n_blocks + 2 tasks per evaluation with the sum."""
        import dask

        request = dask.delayed(((datafit.kind, datafit.labels, datafit.factors), *request),
                               pure=False)
        s_blocks = self._s_blocks or [None] * self.n_blocks
        extra = [()] * self.n_blocks if per_block is None else [(p,) for p in per_block]
        return [dask.delayed(function, pure=False)(Xb, tb, sb, *more, request)
                for Xb, tb, sb, more in zip(self._X_blocks, datafit.target, s_blocks, extra)]

    def run(self, datafit, W, b, want: str):
        """One task graph: per-block passes, added in block order; one ``compute`` (and, for
        "curvature", the blocks' curvatures persisted on the workers as the handle)."""
        import dask

        parts = self._tasks(_block_pass, datafit, (np.ascontiguousarray(W, dtype=np.float64),
                                                   np.ascontiguousarray(b, dtype=np.float64),
                                                   want))
        if want != "curvature":
            (total,) = dask.compute(dask.delayed(_add_in_order, pure=False)(parts))
            return total, None
        total = dask.delayed(_add_in_order, pure=False)([part[0] for part in parts])
        total, *curvature = dask.persist(total, *[part[1] for part in parts])
        return total.compute(), curvature

    def gather_curvature(self, kept):
        if len(kept) == 1 and kept[0][1] is None:  # all rows of one pass
            return kept[0][0]
        import dask

        first, _ = kept[0]
        rows = [row for _, row in kept]
        if all(handle is first for handle, _ in kept) and rows == list(range(len(rows))):
            return first
        return [dask.delayed(_take_rows, pure=False)([handle[block] for handle, _ in kept], rows)
                for block in range(self.n_blocks)]

    def hessp(self, datafit, curvature, V, vb):
        import dask

        parts = self._tasks(_block_hessp, datafit, (np.ascontiguousarray(V, dtype=np.float64),
                                                    np.ascontiguousarray(vb, dtype=np.float64)),
                            per_block=curvature)
        (total,) = dask.compute(dask.delayed(_add_pairs_in_order, pure=False)(parts))
        return total

    def diagonal(self, datafit, curvature, class_mean: bool = False):
        import dask

        s_blocks = self._s_blocks or [None] * self.n_blocks
        parts = [dask.delayed(_block_diagonal, pure=False)(Xb, sb, datafit.kind, cb,
                                                            self.n_features, class_mean)
                 for Xb, sb, cb in zip(self._X_blocks, s_blocks, curvature)]
        (total,) = dask.compute(dask.delayed(_add_pairs_in_order, pure=False)(parts))
        return total


def loss_grad(w, b, X, y, sample_weight=None, l2=0.0):
    """``fastlr.kernels.loss_grad`` on Dask collections: (J, dw, db) in float64.

    J = Σ sᵢ·Lᵢ / Σ sᵢ + ½·l2·‖w‖², with one fused kernel task per row block of X.
    """
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not l2 >= 0:
        raise ValueError(f"l2 must be a number >= 0, got {l2!r}")
    data = DaskData(X, y, sample_weight)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (data.n_features,):
        raise ValueError(f"w must be 1-D of length n_features={data.n_features}, got {w.shape}")
    from ._objective import Datafit
    from ._penalties import L2

    target = data.y.to_delayed(optimize_graph=False).ravel().tolist()
    sums, _ = data.run(Datafit("logistic", target), w[None, :], np.array([float(b)]), "gradient")
    J, grad_w, grad_b = normalise(sums, data.weight_sum)
    if l2:
        J = J + L2(l2).value(w[None, :], [0])[0]
        grad_w = grad_w + l2 * w
    return J, grad_w, grad_b


# ---------------------------------------------------------------- predictions

def _output_dtype(estimator, method, X_dtype):
    """The dtype ``method`` returns in memory: the labels' for predict, else the wider of X's
    (as validated: float32 stays, anything else is float64) and the model's, as scikit-learn."""
    if method == "predict":
        return estimator.classes_.dtype
    return np.result_type(np.float32 if X_dtype == np.float32 else np.float64,
                          estimator.coef_.dtype)


def _predict_block(X_block, estimator, method, columns, width):
    if X_block.shape[0] == 0:  # an empty block (after a filter): an empty answer of its shape
        return np.empty((0,) if width is None else (0, width),
                        dtype=_output_dtype(estimator, method, X_block.dtype))
    if columns is not None:
        # the collection's names were checked against feature_names_in_ once, in predict_dask
        # (a Dask array without names warned there): the block gets them back, so the
        # in-memory check, per block, passes silently
        import pandas as pd

        X_block = pd.DataFrame(X_block, columns=list(columns))
    return getattr(estimator, method)(X_block)


def predict_dask(estimator, X, method):
    """``estimator.<method>(X)`` on a Dask collection: a lazy Dask array, block by block.

    The collection's column names and width are checked against ``feature_names_in_`` and
    ``n_features_in_`` first, by scikit-learn's own check and with its messages (names in
    another order or unseen names raise; a Dask array for a model fitted with names warns), as
    the in-memory methods do. ``decision_function`` of a binary model and ``predict`` give shape
    (n_samples,); probabilities and one-vs-rest margins give (n_samples, n_classes).
    """
    from .estimator import _validate_data as validate_data

    if getattr(X, "ndim", 2) == 2:
        validate_data(estimator, feature_stand_in(X), reset=False, skip_check_array=True)
    X = _as_dask_array(X, "X", numeric=True)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got a dask array of shape {X.shape}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    n_classes = len(estimator.classes_)
    one_column = method == "predict" or (method == "decision_function" and n_classes == 2)
    dtype = _output_dtype(estimator, method, X.dtype)
    names = getattr(estimator, "feature_names_in_", None)
    columns = None if names is None else tuple(names)  # a tuple: dask would treat an array as data
    # an explicit meta: dask would otherwise call the estimator on an empty stand-in block
    if one_column:
        return X.map_blocks(_predict_block, estimator, method, columns, None, dtype=dtype,
                            drop_axis=1, meta=np.empty((0,), dtype=dtype))
    return X.map_blocks(_predict_block, estimator, method, columns, n_classes, dtype=dtype,
                        chunks=(X.chunks[0], (n_classes,)), meta=np.empty((0, 0), dtype=dtype))
