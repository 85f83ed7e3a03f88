"""Scalar building blocks shared by every kernel: one exp per sample, never an overflow.

With e = exp(−|z|) ∈ (0, 1]:

    σ(z) = 1/(1+e)                 for z ≥ 0,   e/(1+e)        for z < 0
    L(z, y) = log1p(e) + (1−y)·z   for z > 0,   log1p(e) − y·z for z ≤ 0

which is log(1 + e^z) − y·z rearranged so that neither exp overflows nor two large terms cancel
(for y = 1 and z = 40 the loss is 4.2e-18, not 0). The loss and the sigmoid share one ``exp``.
These are compiled inline into the kernels that call them.
"""

from __future__ import annotations

import math

from .._jit import jit


@jit(inline="always")
def sigmoid_scalar(z):
    e = math.exp(-abs(z))
    if z >= 0.0:
        return 1.0 / (1.0 + e)
    return e / (1.0 + e)


@jit(inline="always")
def loss_and_dz(z, y):
    """(Lᵢ, σ(zᵢ) − yᵢ) from one exp."""
    e = math.exp(-abs(z))
    inv = 1.0 / (1.0 + e)
    if z > 0.0:
        return math.log1p(e) + (1.0 - y) * z, inv - y
    return math.log1p(e) - y * z, e * inv - y
