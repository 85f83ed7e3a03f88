"""Slide 014 as written, compiled: the explicit double loop over samples and features, and σ.

``loss_grad_loops`` returns the raw sums of the fused kernels (``_sums``), as a float64 vector
[Σ sᵢ·Lᵢ, Σ sᵢ·(σ(zᵢ) − yᵢ)·xᵢ (n), Σ sᵢ·(σ(zᵢ) − yᵢ)], with the scalar per-sample step of
``_pointwise`` (one exp per sample). It is the baseline the fused pass is measured against.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ._pointwise import loss_dz, sigmoid_scalar

__all__ = ["loss_grad_loops", "sigmoid_flat"]


@jit()
def sigmoid_flat(z, out):
    for i in range(z.shape[0]):
        out[i] = sigmoid_scalar(np.float64(z[i]))


@jit()
def loss_grad_loops(X, y, s, w, b):
    """Slide 014 as written: ``for i in range(m)`` with an inner ``for j in range(n)``; raw sums."""
    m, n = X.shape
    weighted = s.shape[0] > 0
    out = np.zeros(n + 2)
    dw = out[1:n + 1]
    J = 0.0
    db = 0.0
    for i in range(m):
        z = b
        for j in range(n):
            z += w[j] * X[i, j]
        loss, dz = loss_dz(z, y[i])
        if weighted:
            loss *= s[i]
            dz *= s[i]
        J += loss
        for j in range(n):
            dw[j] += X[i, j] * dz
        db += dz
    out[0] = J
    out[n + 1] = db
    return out
