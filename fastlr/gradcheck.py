"""Gradient checking by nudging: the slides' "derivatives" lesson as a public tool.

Nudge one parameter θ by ±ε and watch J (slides 009–010): the central difference

    dθ ≈ (J(θ + ε) − J(θ − ε)) / (2ε)

has error O(ε²). ``check_grad`` does this for every wⱼ and for b and compares the result with the
analytic gradient of any ``loss_grad``-like function, reporting the course's relative difference
‖g − g̃‖ / (‖g‖ + ‖g̃‖) (about 1e-7 or below means the analytic gradient is right).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["GradCheck", "check_grad"]


@dataclass(frozen=True)
class GradCheck:
    """Result of :func:`check_grad`: the two gradients and how far apart they are."""

    analytic_dw: np.ndarray
    analytic_db: float
    numeric_dw: np.ndarray
    numeric_db: float
    max_abs_error: float
    relative_difference: float


def check_grad(loss_grad, w, b, *args, eps: float = 1e-6, **kwargs) -> GradCheck:
    """Compare ``loss_grad(w, b, *args, **kwargs) -> (J, dw, db, ...)`` with central differences.

    Each wⱼ and b is nudged by ±``eps`` (2·(n+1) evaluations of J, taken from the same
    ``loss_grad``), in float64; ``w`` itself is never modified.
    """
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive finite number, got {eps!r}")
    w = np.array(w, dtype=np.float64, copy=True).reshape(-1)
    b = float(b)

    def J(w_, b_):
        return float(loss_grad(w_, b_, *args, **kwargs)[0])

    _, dw, db = loss_grad(w, b, *args, **kwargs)[:3]
    analytic = np.append(np.asarray(dw, dtype=np.float64).reshape(-1), float(db))
    numeric = np.empty_like(analytic)
    for j in range(w.shape[0]):
        step = np.zeros_like(w)
        step[j] = eps
        numeric[j] = (J(w + step, b) - J(w - step, b)) / (2 * eps)
    numeric[-1] = (J(w, b + eps) - J(w, b - eps)) / (2 * eps)

    diff = np.linalg.norm(analytic - numeric)
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    return GradCheck(
        analytic_dw=analytic[:-1],
        analytic_db=float(analytic[-1]),
        numeric_dw=numeric[:-1],
        numeric_db=float(numeric[-1]),
        max_abs_error=float(np.max(np.abs(analytic - numeric))),
        relative_difference=float(diff / denom) if denom > 0 else 0.0,
    )
