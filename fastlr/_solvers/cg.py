"""Preconditioned conjugate gradients on Hessian-vector products (a sub-generator).

A line-by-line port of ``scipy.sparse.linalg.cg`` (scipy 1.17, x0 = 0, real arithmetic): the
same recurrences, the same stopping test ‖r‖ < max(rtol·‖b‖, atol) checked before each
iteration, the same result after ``maxiter`` iterations — so Newton-CG takes the steps it took
on scipy's ``cg`` — except that each product H·p is a ``("hessp", p)`` request, and that a
direction of non-positive (or NaN) curvature pᵀHp ends the solve where scipy would divide by it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conjugate_gradient"]


def conjugate_gradient(b, *, rtol: float, maxiter: int, atol: float = 0.0,
                       inverse_diagonal=None):
    """Solve H·x = b from x = 0 (``yield from``): yields ``("hessp", p)``, is sent H·p.

    ``inverse_diagonal``: the Jacobi preconditioner M⁻¹ = diag(inverse_diagonal), or None.
    Returns (x, info): info 0 converged, ``maxiter`` when the iterations ran out, −1 when a
    direction of non-positive curvature stopped it (x is then the last iterate, None if there
    was none).
    """
    bnrm2 = float(np.linalg.norm(b))
    atol = max(float(atol), float(rtol) * bnrm2)
    if bnrm2 == 0:
        return np.array(b, dtype=np.float64), 0
    x = np.zeros_like(b, dtype=np.float64)
    r = np.array(b, dtype=np.float64)
    rho_prev, p = None, None
    for iteration in range(maxiter):
        if np.linalg.norm(r) < atol:
            return x, 0
        z = r if inverse_diagonal is None else inverse_diagonal * r
        rho_cur = float(np.dot(r, z))
        if iteration > 0:
            beta = rho_cur / rho_prev
            p *= beta
            p += z
        else:
            p = np.empty_like(r)
            p[:] = z[:]
        q = yield ("hessp", p)
        curvature = float(np.dot(p, q))
        if not curvature > 0.0:
            return (x if iteration > 0 else None), -1
        alpha = rho_cur / curvature
        x += alpha * p
        r -= alpha * q
        rho_prev = rho_cur
    return x, maxiter
