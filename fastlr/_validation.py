"""Input checks shared by the kernels, the NumPy reference and the in-memory data backend.

The kernels and the reference take ``(w, b, X, y, sample_weight=None, l2=0.0)`` with X of shape
(n_samples, n_features), dense or scipy.sparse CSR/CSC, and must reject the same bad inputs with
the same messages, so the checks live here once. Nothing here copies X when it is already
float32/float64 (dense X is read in whatever memory order it arrives; CSC becomes CSR, one O(nnz)
copy). Small arrays (w, y, sample_weight) are converted freely, never in place, so a caller's
arrays are never modified.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["MultinomialProblem", "Problem", "check_X", "check_class_indices",
           "check_csr_structure", "check_labels01", "check_multinomial_problem", "check_problem",
           "check_real_array", "check_real_dtype", "distinct_labels", "pandas_float_dtype", "check_sample_weight", "check_weight_sum", "is_dask_collection",
           "is_sparse",
           "working_dtype"]


class Problem(NamedTuple):
    """A validated problem, ready for a kernel.

    ``X`` is the caller's array (no copy when float32/float64) or a CSR matrix; ``w``, ``y`` are
    float64 and contiguous; ``sample_weight`` is float64 or None; ``weight_sum`` is Σ sᵢ (m
    without weights).
    """

    w: np.ndarray
    b: float
    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None
    weight_sum: float
    l2: float
    dtype: np.dtype


def working_dtype(dtype: np.dtype) -> np.dtype:
    """float32 (in either byte order) stays float32; every other real dtype is computed in
    float64. The result is always native-endian."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if (dtype.kind, dtype.itemsize) == ("f", 4) else np.dtype(np.float64)


def is_sparse(X) -> bool:
    """scipy.sparse matrix or array, decided without importing scipy.sparse."""
    return hasattr(X, "tocsr") and hasattr(X, "format")


def is_dask_collection(obj) -> bool:
    """dask.array / dask.dataframe collection, decided without importing Dask."""
    return type(obj).__module__.split(".")[0] == "dask"


def _from_pandas(a, name: str):
    """A pandas DataFrame/Series with numeric extension dtypes (nullable ``Float64``/``Int64``,
    pyarrow-backed) as a float NumPy array, missing values as NaN; ``a`` itself otherwise.

    ``np.asarray`` turns such frames into object arrays, which would be reported as
    "non-numeric"; here the real problem is named instead (a non-numeric column)."""
    if type(a).__module__.split(".")[0] != "pandas" or not hasattr(a, "to_numpy"):
        return a
    dtype = pandas_float_dtype(a, name)
    if dtype is None:
        return a  # plain NumPy dtypes: np.asarray handles them without a copy
    return a.to_numpy(dtype=dtype, na_value=np.nan)


def pandas_float_dtype(frame, name: str):
    """The float dtype a pandas (or Dask) DataFrame/Series with numeric extension dtypes
    (``Float64``, ``Int64``, ``boolean``, pyarrow) becomes — float32 when every column is
    float32, else float64 — or None when every dtype is a plain NumPy one; TypeError naming a
    non-numeric column. Reads only the dtypes (a Dask collection is not computed)."""
    import pandas as pd

    dtypes = (list(frame.dtypes) if hasattr(frame, "dtypes") and not hasattr(frame, "dtype")
              else [frame.dtype])
    if all(isinstance(d, np.dtype) for d in dtypes):
        return None
    columns = list(getattr(frame, "columns", [getattr(frame, "name", name)]))
    for column, dtype in zip(columns, dtypes):
        if not (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
            raise TypeError(f"{name} has a non-numeric column {column!r} of dtype {dtype}; "
                            "fastlr needs real numbers")
    float32 = all(str(d).lower() in ("float32", "float[pyarrow]") for d in dtypes)
    return np.dtype(np.float32 if float32 else np.float64)


def check_real_dtype(dtype, name: str) -> None:
    """TypeError unless ``dtype`` is real (bool and integers allowed): in memory and on Dask."""
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise TypeError(f"{name} has complex dtype {dtype}; fastlr needs real numbers")
    if dtype.kind not in "biuf":
        raise TypeError(f"{name} has non-numeric dtype {dtype}; fastlr needs real numbers")


def check_real_array(a, name: str, ndim: int | None = None) -> np.ndarray:
    """``np.asarray(a)`` that insists on a real numeric dtype (bool and integers allowed)."""
    arr = np.asarray(_from_pandas(a, name))
    check_real_dtype(arr.dtype, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got an array of shape {arr.shape}")
    return arr


def _as_float(a: np.ndarray, dtype) -> np.ndarray:
    """Convert without copying when ``a`` already has ``dtype`` (any memory order is kept)."""
    return a if a.dtype == dtype else a.astype(dtype)


def _check_scalar(value, name: str) -> float:
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise ValueError(f"{name} must be a scalar, got an array of shape {value.shape}")
        value = value.reshape(()).item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    return float(value)


def check_csr_structure(X) -> None:
    """Reject a CSR matrix whose arrays would make the kernels read outside them.

    scipy accepts matrices built from raw arrays without checking them; the kernels index
    ``data``, ``indices`` (by ``indptr``) and ``w`` (by ``indices``) unchecked, so the structure
    is checked here, in O(nnz): ``indptr`` of length n_samples + 1, starting at 0, never
    decreasing, ending within ``data`` and ``indices``; every column index in [0, n_features).
    """
    m, n = X.shape
    indptr, indices = X.indptr, X.indices
    if indptr.shape != (m + 1,):
        raise ValueError(f"sparse X has an indptr of shape {indptr.shape}; a CSR matrix with "
                         f"{m} rows needs {m + 1} entries")
    nnz = int(indptr[-1])
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        raise ValueError("sparse X has a malformed indptr: it must start at 0 and never decrease")
    if nnz > min(indices.shape[0], X.data.shape[0]):
        raise ValueError(f"sparse X has a malformed indptr: it ends at {nnz}, beyond its "
                         f"{min(indices.shape[0], X.data.shape[0])} stored values")
    if nnz:
        used = indices[:nnz]
        if not (used.min() >= 0 and used.max() < n):
            raise ValueError("sparse X has column indices outside [0, n_features)")


def check_X(X, name: str = "X"):
    """X as the kernels read it: float32/float64 dense (no copy) or CSR; with its working dtype.

    Other real dtypes are converted to float64; CSC and other sparse formats become CSR.
    """
    if is_sparse(X):
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D, got a sparse array of shape {X.shape}")
        if X.format != "csr":
            X = X.tocsr()
        check_real_array(X.data, name)
        dtype = working_dtype(X.data.dtype)
        if X.data.dtype != dtype:
            X = X.astype(dtype)
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"{name} is empty: shape {X.shape}; need at least one sample and "
                             "one feature")
        check_csr_structure(X)
        return X, dtype
    X = check_real_array(X, name, ndim=2)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {X.shape}; need at least one sample and one "
                         "feature")
    dtype = working_dtype(X.dtype)
    return _as_float(X, dtype), dtype


def mixed_labels_error(type_names) -> ValueError:
    """scikit-learn's "Unknown label type" for labels that cannot be sorted together."""
    return ValueError(f"Unknown label type: y mixes labels of types {sorted(set(type_names))}; "
                      "class labels must be all numbers or all strings")


def distinct_labels(y: np.ndarray) -> np.ndarray:
    """``np.unique(y)``; labels that cannot be compared (str and int in one object array: numpy's
    "'<' not supported") raise :func:`mixed_labels_error` instead, whatever their order."""
    try:
        return np.unique(y)
    except TypeError:
        raise mixed_labels_error(type(v).__name__ for v in np.ravel(y)) from None


def check_labels01(y, m: int, shape) -> np.ndarray:
    """Labels as float64, contiguous, each in [0, 1] (soft labels allowed)."""
    y = check_real_array(y, "y")
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"y must be 1-D of length n_samples={m} (X has shape {shape}), got shape {y.shape}"
        )
    y = np.ascontiguousarray(y, dtype=np.float64)
    # two reductions and no temporaries (a NaN makes the minimum NaN, and fails): 7.4 -> 3.1 us
    # of a public kernel's call at 10 samples, more with more
    if not (y.min() >= 0.0 and y.max() <= 1.0):
        inside = (y >= 0.0) & (y <= 1.0)
        raise ValueError(f"labels y must lie in [0, 1]; found {y[~inside][0]!r}")
    return y


def check_sample_weight(sample_weight, m: int):
    """(float64 weights or None, Σ sᵢ); non-negative, finite, not all zero."""
    if sample_weight is None:
        return None, float(m)
    sample_weight = check_real_array(sample_weight, "sample_weight")
    if sample_weight.ndim != 1 or sample_weight.shape[0] != m:
        raise ValueError(
            f"sample_weight must be 1-D of length n_samples={m}, got shape {sample_weight.shape}"
        )
    sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight must be finite")
    if np.any(sample_weight < 0):
        raise ValueError("sample_weight must be non-negative")
    with np.errstate(over="ignore"):  # an overflowing sum is reported by check_weight_sum
        weight_sum = float(np.sum(sample_weight))
    return sample_weight, check_weight_sum(weight_sum, sample_weight.max)


def check_weight_sum(weight_sum: float, largest, with_class_weight: bool = False) -> float:
    """Σ sᵢ of non-negative weights, checked as every data backend checks it (in memory here,
    on Dask ``DaskData._set_weights``), with the same messages: positive, and finite — the
    objective divides by it, and a sum that overflowed to inf gave a zero model on Dask.
    ``largest()`` gives the largest weight (called for the message only); with
    ``with_class_weight`` the weights are sᵢ·class_weight[yᵢ], whose products may overflow too."""
    what = "sample_weight × class_weight" if with_class_weight else "sample_weight"
    if weight_sum <= 0.0:
        raise ValueError(f"{what} sums to zero; at least one sample needs weight > 0")
    if not np.isfinite(weight_sum):
        top = float(largest())
        where = (f"the largest weight is {top:.3g}" if np.isfinite(top)
                 else "a product sᵢ·class_weight[yᵢ] is itself inf")
        raise ValueError(f"{what} sums to {weight_sum} (overflow: {where}); divide the weights "
                         "by a common factor, which changes no result")
    return weight_sum


def _check_l2(l2) -> float:
    l2 = _check_scalar(l2, "l2")
    if not (l2 >= 0.0 and np.isfinite(l2)):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return l2


def check_class_indices(y, m: int, n_classes: int, shape) -> np.ndarray:
    """Class labels as int64 indices in [0, n_classes): integer, boolean or integral floats."""
    y = check_real_array(y, "y")
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"y must be 1-D of length n_samples={m} (X has shape {shape}), got shape {y.shape}"
        )
    if y.dtype.kind == "f":
        integral = np.isfinite(y) & (y == np.round(y))
        if not np.all(integral):
            raise ValueError(f"class labels y must be integers in [0, {n_classes}); "
                             f"found {y[~integral][0]!r}")
    inside = (y >= 0) & (y < n_classes)
    if not np.all(inside):
        raise ValueError(f"class labels y must be integers in [0, {n_classes}); "
                         f"found {y[~inside][0]!r}")
    return np.ascontiguousarray(y, dtype=np.int64)


class MultinomialProblem(NamedTuple):
    """A validated multinomial problem. ``W_public`` is float64 (n_features, K) as given (not
    copied when float64), ``W`` the kernels' class-major (K, n_features), C-contiguous, made on
    demand; ``b`` float64 (K,)."""

    W_public: np.ndarray
    b: np.ndarray
    X: object
    y: np.ndarray
    sample_weight: np.ndarray | None
    weight_sum: float
    l2: float
    dtype: np.dtype

    @property
    def W(self) -> np.ndarray:
        return np.ascontiguousarray(self.W_public.T)


def check_multinomial_problem(W, b, X, y, sample_weight=None, l2=0.0) -> MultinomialProblem:
    """Validate the arguments of the multinomial kernels: W (n_features, K), b (K,), y class
    indices in [0, K); the rest as in :func:`check_problem`."""
    X, dtype = check_X(X)
    m, n = X.shape
    W = check_real_array(W, "W")
    if W.ndim != 2 or W.shape[0] != n or W.shape[1] < 1:
        raise ValueError(f"W must be 2-D of shape (n_features={n}, n_classes) (X has shape "
                         f"{X.shape}), got shape {W.shape}")
    K = W.shape[1]
    b = check_real_array(b, "b")
    if b.shape != (K,):
        raise ValueError(f"b must be 1-D of length n_classes={K}, got shape {b.shape}")
    y = check_class_indices(y, m, K, X.shape)
    sample_weight, weight_sum = check_sample_weight(sample_weight, m)
    return MultinomialProblem(np.asarray(W, dtype=np.float64),
                              np.ascontiguousarray(b, dtype=np.float64), X, y, sample_weight,
                              weight_sum, _check_l2(l2), dtype)


def check_problem(w, b, X, y, sample_weight=None, l2=0.0) -> Problem:
    """Validate the arguments of ``cost``/``loss_grad`` and return them ready for a kernel.

    Raises ``TypeError`` for non-numeric or complex data and ``ValueError`` for wrong shapes,
    empty X, a malformed sparse X, labels outside [0, 1], and negative, non-finite or
    wrong-length weights.
    """
    X, dtype = check_X(X)
    m, n = X.shape
    w = check_real_array(w, "w")
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"w must be 1-D of length n_features={n} (X has shape {X.shape}), got shape {w.shape}"
        )
    w = np.ascontiguousarray(w, dtype=np.float64)
    b = _check_scalar(b, "b")
    y = check_labels01(y, m, X.shape)
    sample_weight, weight_sum = check_sample_weight(sample_weight, m)
    return Problem(w, b, X, y, sample_weight, weight_sum, _check_l2(l2), dtype)
