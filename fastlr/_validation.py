"""Input checks shared by the kernels and the NumPy reference.

Both implementations take ``(w, b, X, y, sample_weight=None, l2=0.0)`` with X of shape
(n_samples, n_features) and must reject the same bad inputs with the same messages, so the checks
live here once. Nothing here copies X when it is already float32/float64: the kernels read it in
whatever memory order it arrives. Small arrays (w, y, sample_weight) are converted freely, never
in place, so caller's arrays are never modified.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

__all__ = ["Problem", "check_problem", "check_real_array", "working_dtype"]


class Problem(NamedTuple):
    """A validated problem, ready for a kernel.

    ``X`` is the caller's array (no copy when float32/float64); ``w``, ``y`` are float64 and
    contiguous; ``sample_weight`` is float64 or None; ``weight_sum`` is Σ sᵢ (m without weights).
    """

    w: np.ndarray
    b: float
    X: np.ndarray
    y: np.ndarray
    sample_weight: np.ndarray | None
    weight_sum: float
    l2: float
    dtype: np.dtype


def working_dtype(dtype: np.dtype) -> np.dtype:
    """float32 stays float32; every other real dtype is computed in float64."""
    return np.dtype(np.float32) if dtype == np.float32 else np.dtype(np.float64)


def check_real_array(a, name: str, ndim: int | None = None) -> np.ndarray:
    """``np.asarray(a)`` that insists on a real numeric dtype (bool and integers allowed)."""
    arr = np.asarray(a)
    kind = arr.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} has complex dtype {arr.dtype}; fastlr needs real numbers")
    if kind not in "biuf":
        raise TypeError(f"{name} has non-numeric dtype {arr.dtype}; fastlr needs real numbers")
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


def check_problem(w, b, X, y, sample_weight=None, l2=0.0) -> Problem:
    """Validate the arguments of ``cost``/``loss_grad`` and return them ready for a kernel.

    Raises ``TypeError`` for non-numeric or complex data and ``ValueError`` for wrong shapes,
    empty X, labels outside [0, 1], and negative, non-finite or wrong-length weights.
    """
    X = check_real_array(X, "X", ndim=2)
    m, n = X.shape
    if m == 0 or n == 0:
        raise ValueError(f"X is empty: shape {X.shape}; need at least one sample and one feature")
    dtype = working_dtype(X.dtype)
    X = _as_float(X, dtype)

    w = check_real_array(w, "w")
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(
            f"w must be 1-D of length n_features={n} (X has shape {X.shape}), got shape {w.shape}"
        )
    w = np.ascontiguousarray(w, dtype=np.float64)
    b = _check_scalar(b, "b")

    y = check_real_array(y, "y")
    if y.ndim != 1 or y.shape[0] != m:
        raise ValueError(
            f"y must be 1-D of length n_samples={m} (X has shape {X.shape}), got shape {y.shape}"
        )
    y = np.ascontiguousarray(y, dtype=np.float64)
    if not np.all((y >= 0.0) & (y <= 1.0)):
        bad = y[~((y >= 0.0) & (y <= 1.0))][0]
        raise ValueError(f"labels y must lie in [0, 1]; found {bad!r}")

    if sample_weight is None:
        weight_sum = float(m)
    else:
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
        weight_sum = float(np.sum(sample_weight))
        if weight_sum <= 0.0:
            raise ValueError("sample_weight sums to zero; at least one sample needs weight > 0")

    l2 = _check_scalar(l2, "l2")
    if not (l2 >= 0.0 and np.isfinite(l2)):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    return Problem(w, b, X, y, sample_weight, weight_sum, l2, dtype)
