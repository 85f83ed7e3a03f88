"""Preconditioned conjugate gradients on Hessian-vector products (a sub-generator).

A line-by-line port of ``scipy.sparse.linalg.cg`` (scipy 1.17, x0 = 0, real arithmetic): the
same recurrences, the same stopping test ‖r‖ < max(rtol·‖b‖, atol) checked before each
iteration, the same result after ``maxiter`` iterations — so Newton-CG takes the steps it took
on scipy's ``cg`` — except that each product H·p is a ``("hessp", p)`` request, and that a
direction of non-positive (or NaN) curvature pᵀHp ends the solve where scipy would divide by it.

From ``COMPILED_MIN`` unknowns the vector updates are compiled, fused and in place
(``_sweeps.cg_update`` / ``cg_direction`` / ``cg_dot``): the same recurrences and elementwise
rounding, the dot products summed in another (fixed) order than BLAS's. NumPy's form costs four
temporaries of n doubles and ~23 vector streams per CG step: at 2·10⁶ unknowns 33-56 ms per
step against 22-35 ms compiled, at 10⁶ 15-17 ms against 6-12 ms (1 thread, BLAS on one as in a
fit, load 4-5; benchmarks/solver_overhead.py --cg). At 6.5·10⁴ the two tie.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COMPILED_MIN", "Workspace", "conjugate_gradient"]

#: unknowns from which CG's vector updates run compiled (``_sweeps``): 2¹⁶, 512 KiB a vector
COMPILED_MIN = 65_536


class Workspace:
    """CG's vectors x, r, p (and the caller's, e.g. the preconditioner's "w"), kept by one
    solver from one CG solve to the next. Fresh vectors of this size cost their first touch
    each solve (page faults): text corpus 40,000 x 100,000, 20 classes (2·10⁶ unknowns),
    Newton-CG at 2 threads, line-profiled per solve: x 1.9 ms, r 4.8 ms, p 20 ms (its first
    write, the parallel ``cg_direction``) against 1.2-1.5 ms for a sweep over touched vectors;
    the whole fit (0.6 s) moved within the machine's noise (medians 0.62 / 0.59 -> 0.54 /
    0.59 s). ``x`` is the solution returned: valid until the next solve."""

    def __init__(self):
        self._vectors = {}

    def get(self, name: str, n: int) -> np.ndarray:
        """The float64 vector ``name`` of length n (uninitialised the first time)."""
        v = self._vectors.get(name)
        if v is None or v.shape[0] != n:
            v = self._vectors[name] = np.empty(n)
        return v


def conjugate_gradient(b, *, rtol: float, maxiter: int, atol: float = 0.0,
                       inverse_diagonal=None, work: Workspace | None = None):
    """Solve H·x = b from x = 0 (``yield from``): yields ``("hessp", p)``, is sent H·p.

    ``inverse_diagonal``: the Jacobi preconditioner M⁻¹ = diag(inverse_diagonal), or None.
    Returns (x, info): info 0 converged, ``maxiter`` when the iterations ran out, −1 when a
    direction of non-positive curvature stopped it (x is then the last iterate, None if there
    was none). ``work``: vectors kept between solves (``Workspace``; used from
    ``COMPILED_MIN`` unknowns) — x is then one of them, and b may be ``work.get("r", n)``
    (overwritten: CG's residual starts as b).
    """
    bnrm2 = float(np.linalg.norm(b))
    atol = max(float(atol), float(rtol) * bnrm2)
    if bnrm2 == 0:
        return np.array(b, dtype=np.float64), 0
    compiled = b.ndim == 1 and b.shape[0] >= COMPILED_MIN
    if compiled and work is not None:
        n = b.shape[0]
        x = work.get("x", n)
        x.fill(0.0)
        r = work.get("r", n)
        if b is not r:
            np.copyto(r, b)
    else:
        x = np.zeros_like(b, dtype=np.float64)
        r = np.array(b, dtype=np.float64)
    if compiled:
        w = (None if inverse_diagonal is None
             else np.ascontiguousarray(inverse_diagonal, dtype=np.float64))
        p = np.empty_like(r) if work is None else work.get("p", r.shape[0])
        return (yield from _compiled(x, r, p, w, atol, maxiter))
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


def _compiled(x, r, p, w, atol, maxiter):
    """The loop above on compiled in-place updates (module docstring)."""
    from . import _sweeps

    rr, rho_cur = _sweeps.cg_update(x, r, p, r, 0.0, w)
    rho_prev = None
    for iteration in range(maxiter):
        if np.sqrt(rr) < atol:
            return x, 0
        if iteration > 0:
            _sweeps.cg_direction(p, r, w, rho_cur / rho_prev, first=False)
        else:
            _sweeps.cg_direction(p, r, w, 0.0, first=True)
        q = np.ascontiguousarray((yield ("hessp", p)), dtype=np.float64).reshape(-1)
        curvature = _sweeps.cg_dot(p, q)
        if not curvature > 0.0:
            return (x if iteration > 0 else None), -1
        alpha = rho_cur / curvature
        rho_prev = rho_cur
        rr, rho_cur = _sweeps.cg_update(x, r, p, q, alpha, w)
    return x, maxiter
