"""Gradient checking by nudging: the slides' "derivatives" lesson as a public tool.

Nudge one parameter θ by ±ε and watch J (slides 009–010): the central difference

    dθ ≈ (J(θ + ε) − J(θ − ε)) / (2ε)

has error O(ε²). ``check_grad`` does this for every wⱼ and for b and compares the result with the
analytic gradient of any ``loss_grad``-like function, reporting the course's relative difference
‖g − g̃‖ / (‖g‖ + ‖g̃‖) (about 1e-7 or below means the analytic gradient is right).

The difference J(θ + ε) − J(θ − ε) is only as good as J's last digits: a J rounded to float32
(relative precision 6e-8) differenced with ε = 1e-6 measures rounding, not slope. So the nudged
evaluations run on float64 copies of float32 (and float16) data, and a J that still comes back
in a lower precision is differenced with a step scaled to that precision (see ``check_grad``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import is_sparse

__all__ = ["GradCheck", "check_grad"]


@dataclass(frozen=True)
class GradCheck:
    """Result of :func:`check_grad`: the two gradients and how far apart they are.

    ``step`` is the ε the central differences used (``eps``, or larger for a J computed in less
    than float64 precision).
    """

    analytic_dw: np.ndarray
    analytic_db: float
    numeric_dw: np.ndarray
    numeric_db: float
    max_abs_error: float
    relative_difference: float
    step: float | None = None


def _in_float64(a):
    """A float64 copy of a NumPy array or scipy.sparse matrix of float32/float16; else ``a``."""
    if isinstance(a, np.ndarray) or is_sparse(a):
        dtype = np.dtype(a.dtype)
        if dtype.kind == "f" and dtype.itemsize < 8:
            return a.astype(np.float64)
    return a


def _precision(J) -> float:
    """Machine epsilon of J's dtype (float64's for Python floats and non-float results)."""
    dtype = np.asarray(J).dtype
    return float(np.finfo(dtype).eps) if dtype.kind == "f" else float(np.finfo(np.float64).eps)


def check_grad(loss_grad, w, b, *args, eps: float = 1e-6, **kwargs) -> GradCheck:
    """Compare ``loss_grad(w, b, *args, **kwargs) -> (J, dw, db, ...)`` with central differences.

    The analytic gradient comes from one call on the arguments as given. Each wⱼ and b is then
    nudged by ±ε (2·(n+1) evaluations of J, taken from the same ``loss_grad``, and one more to
    learn J's precision when data were copied to float64, below), with w and b in
    float64; ``w`` itself is never modified.

    Precision of J: for those evaluations every float32/float16 NumPy array or scipy.sparse matrix
    among ``args`` and ``kwargs`` (X, y, sample_weight, …) is replaced by a float64 copy (the
    caller's arrays are untouched), so J is differenced in float64 and a float32 gradient is held
    to the true slope: a correct one scores about 1e-7, as on float64 input. A J that still comes
    back below float64 precision (data held in a closure or a pandas DataFrame) is differenced
    with ε = max(``eps``, ∛u), u being the machine epsilon of J's dtype (∛u ≈ 4.9e-3 for
    float32): the step that balances the O(ε²) truncation error against the u·abs(J)/ε rounding
    error. Such a check resolves only what J's precision allows: on float32 a correct gradient
    then scores about 1e-5 to 1e-4, and only errors larger than that fraction of ‖g‖ stand out.
    The step used is returned as ``GradCheck.step``.
    """
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    w = np.array(w, dtype=np.float64, copy=True).reshape(-1)
    b = float(b)

    J0, dw, db = loss_grad(w, b, *args, **kwargs)[:3]
    analytic = np.append(np.asarray(dw, dtype=np.float64).reshape(-1), float(db))

    args64 = tuple(_in_float64(a) for a in args)
    kwargs64 = {k: _in_float64(v) for k, v in kwargs.items()}
    promoted = any(new is not old for new, old in zip(args64, args)) or \
        any(kwargs64[k] is not kwargs[k] for k in kwargs)
    if promoted:  # the precision J has on the float64 copies
        J0 = loss_grad(w, b, *args64, **kwargs64)[0]
    u = _precision(J0)
    h = float(eps)
    if u > np.finfo(np.float64).eps:
        h = max(h, float(np.cbrt(u)))

    def J(w_, b_):
        return float(loss_grad(w_, b_, *args64, **kwargs64)[0])

    numeric = np.empty_like(analytic)
    for j in range(w.shape[0]):
        step = np.zeros_like(w)
        step[j] = h
        numeric[j] = (J(w + step, b) - J(w - step, b)) / (2 * h)
    numeric[-1] = (J(w, b + h) - J(w, b - h)) / (2 * h)

    diff = np.linalg.norm(analytic - numeric)
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return GradCheck(
        analytic_dw=analytic[:-1],
        analytic_db=float(analytic[-1]),
        numeric_dw=numeric[:-1],
        numeric_db=float(numeric[-1]),
        max_abs_error=float(np.max(np.abs(analytic - numeric))),
        relative_difference=float(diff / denom) if denom > 0 else 0.0,
        step=h,
    )
