"""The compiled vector sweeps of L-BFGS: the only O(n) work the solver does per iteration.

L-BFGS's direction is d = −H·g with H the compact inverse (Byrd, Nocedal & Schnabel 1994,
eq. 3.1) of the last k ≤ m pairs sᵢ = x_{i+1} − xᵢ, yᵢ = g_{i+1} − gᵢ (chronological, rows of S
and Y)::

    H = γ·I + [S  Y] · [[R⁻ᵀ(D + γ·YᵀY)R⁻¹, −γ·R⁻ᵀ], [−γ·R⁻¹, 0]] · [Sᵀ; Yᵀ],
    R = upper triangle of SᵀY (Rᵢⱼ = sᵢ·yⱼ, i ≤ j),  D = diag(sᵢ·yᵢ),  γ = s·y / y·y (last pair),

so with a = Sᵀg, b = Yᵀg:  c = R⁻¹a,  u = R⁻ᵀ((D + γ·YᵀY)c − γ·b),  d = −γ·g − S·u + γ·Y·c.
Two sweeps per iteration read S and Y: ``dots`` (after a step: stores the new pair and computes
Sᵀg, Yᵀg and the new row and column of SᵀY and YᵀY) and ``direction`` (d, the first trial point
x + d and gᵀd, dᵀd in the same pass). Everything else is m × m.

Layout: the vectors are cut into blocks of ``BLOCK`` values (the block of d, g, s_new, y_new
stays in L1 while the k rows of S and Y stream past it), blocks are grouped into at most
``MAX_TASKS`` tasks, and each task's partial sums are added in task order — the layout depends
on n only, so the serial and the parallel variant (and every thread count) give bitwise the same
result. Each kernel is compiled twice (``_twice``): a plain loop, and a ``prange`` loop used from
``PARALLEL_MIN_BYTES`` of traffic (``fastlr._jit.threads_for``).

Reproducible to the bit: every sum is a loop that only reads (``_dot2``, ``_dots5``, ``_dot_amax``,
compiled with reassociation to vectorise), and every loop that stores is elementwise IEEE
arithmetic (the kernels are compiled without fastmath). A loop that both stores and sums was not:
LLVM guards its vector body with a run-time overlap check of the arrays' addresses, so whether
the vector body or the scalar loop ran — and the sum's rounding — depended on where the
allocator had put the vectors (found by tests/test_solvers.py's lockstep test).

This module is self-contained (no compiled callee elsewhere) and listed in
``fastlr._cache.source_digest``, so an edit here never loads stale machine code.
"""

from __future__ import annotations

import types

import numpy as np
from numba import prange

from .._jit import jit, numba_threads, parallel_guard, threads_for

__all__ = ["BLOCK", "cg_direction", "cg_dot", "cg_update", "direction", "dot_amax", "dots",
           "inverse_positive", "trial_point", "two_loop", "store_pair"]

#: values per block: 8 KiB of each vector (the d/g/s/y blocks stay in L1, 48 KiB here)
BLOCK = 1024
#: at most this many tasks (partial sums of one task: 5·m doubles)
MAX_TASKS = 64


def _twice(func, fast=False):
    """(serial, parallel) dispatchers of one sweep (``fast``: with ``FAST_FLAGS``). The parallel
    one is compiled from a copy of the function under another name: Numba's disk cache keys an
    entry by name and bytecode, not by the ``parallel`` flag, so the two must not share a name."""
    name = func.__name__ + "_parallel"
    copy = types.FunctionType(func.__code__, func.__globals__, name, func.__defaults__)
    copy.__qualname__ = name
    copy.__doc__ = func.__doc__
    return jit(fast=fast)(func), jit(parallel=True, fast=fast)(copy)


# ----------------------------------------------------------------------------- sums (read only)

@jit(fast=True)
def _dot2(a, b, c):
    """(a·b, b·c)."""
    s = 0.0
    t = 0.0
    for j in range(a.shape[0]):
        s += a[j] * b[j]
        t += b[j] * c[j]
    return s, t


@jit(fast=True)
def _dots5(s, y, g, y_new, s_new):
    """(s·g, y·g, s·y_new, y·y_new, s_new·y)."""
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    a4 = 0.0
    for j in range(g.shape[0]):
        sj = s[j]
        yj = y[j]
        a0 += sj * g[j]
        a1 += yj * g[j]
        a2 += sj * y_new[j]
        a3 += yj * y_new[j]
        a4 += s_new[j] * yj
    return a0, a1, a2, a3, a4


def tasks_of(n: int):
    """(number of tasks, values per task) for vectors of length n; a multiple of BLOCK."""
    n_blocks = max(1, -(-n // BLOCK))
    n_tasks = min(MAX_TASKS, n_blocks)
    per_task = -(-n_blocks // n_tasks) * BLOCK
    return -(-n // per_task), per_task


def _run(pair, threads, *args):
    """The serial variant on one thread, else the parallel one with tasks handed out one at a
    time (``parallel_chunksize(1)``: with TBB a thread on a busy core takes fewer tasks)."""
    serial, parallel = pair
    if threads == 1:
        return serial(*args)
    import numba

    with numba_threads(threads), numba.parallel_chunksize(1), parallel_guard():
        return parallel(*args)


def _run_elementwise(pair, threads, *args):
    """As ``_run`` for kernels whose ``prange`` runs over elements, not tasks: default chunks
    (one element per chunk made a 10⁶ two-loop take 15 s)."""
    serial, parallel = pair
    if threads == 1:
        return serial(*args)
    with numba_threads(threads), parallel_guard():
        return parallel(*args)


# ----------------------------------------------------------------------------- direction

def _direction(S, Y, order, k, SY, YY, sg, yg, gamma, g, x, d, xt, n_tasks, per_task):
    """d = −H·g (module docstring), xt = x + d; returns (gᵀd, dᵀd)."""
    cs = np.empty(k)  # coefficient of S[order[i]] in d
    cy = np.empty(k)  # coefficient of Y[order[i]] in d
    c = np.empty(k)
    for i in range(k - 1, -1, -1):  # c = R⁻¹a (back substitution)
        oi = order[i]
        acc = sg[oi]
        for j in range(i + 1, k):
            acc -= SY[oi, order[j]] * c[j]
        c[i] = acc / SY[oi, oi]
    for i in range(k):  # u = R⁻ᵀ((D + γ·YᵀY)c − γ·b) (forward substitution); cs = −u
        oi = order[i]
        acc = 0.0
        for j in range(k):
            acc += YY[oi, order[j]] * c[j]
        acc = SY[oi, oi] * c[i] + gamma * (acc - yg[oi])
        for j in range(i):
            acc += SY[order[j], oi] * cs[j]
        cs[i] = -(acc / SY[oi, oi])
        cy[i] = gamma * c[i]
    n = g.shape[0]
    part = np.empty((n_tasks, 2))
    for t in prange(n_tasks):
        gd = 0.0
        dd = 0.0
        t_end = min(n, (t + 1) * per_task)
        for start in range(t * per_task, t_end, BLOCK):
            end = min(t_end, start + BLOCK)
            # loops over block slices: measured 5x faster than over index ranges of the whole
            # vectors (LLVM vectorises them with known bounds; 1e5, m = 10: 0.9 ms vs 5.3 ms)
            db = d[start:end]
            gb = g[start:end]
            for j in range(db.shape[0]):
                db[j] = -gamma * gb[j]
            for i in range(k):
                sb = S[order[i], start:end]
                yb = Y[order[i], start:end]
                a = cs[i]
                b = cy[i]
                for j in range(db.shape[0]):
                    db[j] += a * sb[j] + b * yb[j]
            xb = x[start:end]
            xtb = xt[start:end]
            for j in range(db.shape[0]):
                xtb[j] = xb[j] + db[j]
            u, v = _dot2(gb, db, db)
            gd += u
            dd += v
        part[t, 0] = gd
        part[t, 1] = dd
    gd = 0.0
    dd = 0.0
    for t in range(n_tasks):
        gd += part[t, 0]
        dd += part[t, 1]
    return gd, dd


_DIRECTION = _twice(_direction)


def direction_bytes(n: int, k: int) -> float:
    """Traffic of a direction sweep over k pairs of n values (S and Y, g, x, d, xt): what
    ``threads_for`` weighs for ``direction`` and ``two_loop``."""
    return 8.0 * n * (2 * k + 4)


def direction(S, Y, order, k, SY, YY, sg, yg, gamma, g, x, d, xt):
    """Write d = −H·g (−g when k = 0) and xt = x + d; return (gᵀd, dᵀd)."""
    n = g.shape[0]
    n_tasks, per_task = tasks_of(n)
    threads = min(n_tasks, threads_for(direction_bytes(n, k)))
    return _run(_DIRECTION, threads, S, Y, order, k, SY, YY, sg, yg, float(gamma), g, x, d, xt,
                n_tasks, per_task)


# ----------------------------------------------------------------------------- dots

def _dots(S, Y, order, k, new, stp, d, g, g_old, SY, YY, sg, yg, n_tasks, per_task):
    """With ``new`` ≥ 0: S[new] = stp·d, Y[new] = g − g_old, and the new column and row of SᵀY
    and YᵀY. Always: sg[o] = S[o]·g, yg[o] = Y[o]·g for the k live rows o = order[:k]."""
    n = g.shape[0]
    width = 5 if new >= 0 else 2
    part = np.empty((n_tasks, width * k))
    for t in prange(n_tasks):
        row = part[t]
        for q in range(width * k):
            row[q] = 0.0
        t_end = min(n, (t + 1) * per_task)
        for start in range(t * per_task, t_end, BLOCK):
            end = min(t_end, start + BLOCK)
            gb = g[start:end]
            if new >= 0:
                sn = S[new, start:end]
                yn = Y[new, start:end]
                db = d[start:end]
                gob = g_old[start:end]
                for j in range(gb.shape[0]):
                    sn[j] = stp * db[j]
                    yn[j] = gb[j] - gob[j]
                for i in range(k):
                    a0, a1, a2, a3, a4 = _dots5(S[order[i], start:end],
                                                Y[order[i], start:end], gb, yn, sn)
                    row[5 * i] += a0
                    row[5 * i + 1] += a1
                    row[5 * i + 2] += a2
                    row[5 * i + 3] += a3
                    row[5 * i + 4] += a4
            else:
                for i in range(k):
                    a0, a1 = _dot2(S[order[i], start:end], gb, Y[order[i], start:end])
                    row[2 * i] += a0
                    row[2 * i + 1] += a1
    total = np.empty(width * k)  # not np.zeros: a parfor of its own under parallel=True
    for q in range(width * k):
        total[q] = 0.0
    for t in range(n_tasks):
        for q in range(width * k):
            total[q] += part[t, q]
    for i in range(k):
        o = order[i]
        sg[o] = total[width * i]
        yg[o] = total[width * i + 1]
        if new >= 0:
            SY[o, new] = total[5 * i + 2]
            YY[o, new] = total[5 * i + 3]
            YY[new, o] = total[5 * i + 3]
            SY[new, o] = total[5 * i + 4]


_DOTS = _twice(_dots)


def dots(S, Y, order, k, new, stp, d, g, g_old, SY, YY, sg, yg):
    """See ``_dots``; ``new`` = −1 stores nothing (the update was skipped)."""
    n = g.shape[0]
    n_tasks, per_task = tasks_of(n)
    threads = min(n_tasks, threads_for(8.0 * n * (2 * k + 3)))
    _run(_DOTS, threads, S, Y, order, k, int(new), float(stp), d, g, g_old, SY, YY, sg, yg,
         n_tasks, per_task)


# ----------------------------------------------------------------------------- small sweeps

def trial_point(x, d, stp, xt):
    """xt = x + stp·d (NumPy, two passes: only the first iteration's step and backtracking
    need it, and a compiled sweep cost 0.4 s of a first fit's compile)."""
    np.multiply(d, stp, out=xt)
    np.add(x, xt, out=xt)


def _dot_amax(a, b, n_tasks, per_task):
    """(a·b, max|a|, Σ a·0) over tasks; the last is 0 when every aⱼ is finite, NaN otherwise.
    It only reads (and writes its partial sums outside the loops): compiled with reassociation."""
    n = a.shape[0]
    part = np.empty((n_tasks, 3))
    for t in prange(n_tasks):
        t_end = min(n, (t + 1) * per_task)
        ab = a[t * per_task:t_end]
        bb = b[t * per_task:t_end]
        s = 0.0
        bad = 0.0
        # eight running maxima: one max reduction does not vectorise (1e6: 8 GB/s, 22 with 8)
        m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = 0.0
        n8 = ab.shape[0] - ab.shape[0] % 8
        for j in range(0, n8, 8):
            m0 = max(m0, abs(ab[j]))
            m1 = max(m1, abs(ab[j + 1]))
            m2 = max(m2, abs(ab[j + 2]))
            m3 = max(m3, abs(ab[j + 3]))
            m4 = max(m4, abs(ab[j + 4]))
            m5 = max(m5, abs(ab[j + 5]))
            m6 = max(m6, abs(ab[j + 6]))
            m7 = max(m7, abs(ab[j + 7]))
        mx = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
        for j in range(n8, ab.shape[0]):
            mx = max(mx, abs(ab[j]))
        for j in range(ab.shape[0]):
            s += ab[j] * bb[j]
            bad += ab[j] * 0.0
        part[t, 0] = s
        part[t, 1] = mx
        part[t, 2] = bad
    s = 0.0
    mx = 0.0
    bad = 0.0
    for t in range(n_tasks):
        s += part[t, 0]
        mx = max(mx, part[t, 1])
        bad += part[t, 2]
    if bad != 0.0:  # NaN != 0
        mx = np.nan
    return s, mx


_DOT_AMAX = _twice(_dot_amax, fast=True)


def dot_amax(a, b):
    """(a·b, max|a|); max|a| is NaN when a holds a NaN or an infinity."""
    n = a.shape[0]
    n_tasks, per_task = tasks_of(n)
    return _run(_DOT_AMAX, min(n_tasks, threads_for(16.0 * n)), a, b, n_tasks, per_task)


# ----------------------------------------------------------------------------- plain two-loop
# The textbook two-loop recursion (Nocedal & Wright, Algorithm 7.4), one loop over n per dot
# product and per update, kept as the yardstick of the compact form (lbfgs.TwoLoopMemory,
# benchmarks/solver_overhead.py).

def _two_loop(S, Y, order, k, rho, gamma, g, x, d, xt, alpha):
    """d = −H·g by the two-loop recursion, xt = x + d; returns (gᵀd, dᵀd)."""
    n = g.shape[0]
    for j in prange(n):
        d[j] = g[j]
    for i in range(k - 1, -1, -1):
        si = S[order[i]]
        yi = Y[order[i]]
        acc = 0.0
        for j in prange(n):
            acc += si[j] * d[j]
        a = rho[order[i]] * acc
        alpha[i] = a
        for j in prange(n):
            d[j] -= a * yi[j]
    for j in prange(n):
        d[j] *= gamma
    for i in range(k):
        si = S[order[i]]
        yi = Y[order[i]]
        acc = 0.0
        for j in prange(n):
            acc += yi[j] * d[j]
        c = alpha[i] - rho[order[i]] * acc
        for j in prange(n):
            d[j] += c * si[j]
    gd = 0.0
    dd = 0.0
    for j in prange(n):
        dj = -d[j]
        d[j] = dj
        xt[j] = x[j] + dj
        gd += g[j] * dj
        dd += dj * dj
    return gd, dd


_TWO_LOOP = _twice(_two_loop, fast=True)  # its loops either only read or only store


def two_loop(S, Y, order, k, rho, gamma, g, x, d, xt):
    """Write d = −H·g by the plain two-loop recursion and xt = x + d; return (gᵀd, dᵀd)."""
    n = g.shape[0]
    threads = threads_for(direction_bytes(n, k))
    return _run_elementwise(_TWO_LOOP, threads, S, Y, order, k, rho, float(gamma), g, x, d, xt,
                np.empty(max(k, 1)))


def _store_pair(S, Y, slot, stp, d, g, g_old):
    """S[slot] = stp·d, Y[slot] = g − g_old; returns yᵀy."""
    s_new = S[slot]
    y_new = Y[slot]
    yy = 0.0
    for j in prange(g.shape[0]):
        s_new[j] = stp * d[j]
        yj = g[j] - g_old[j]
        y_new[j] = yj
        yy += yj * yj
    return yy


_STORE_PAIR = _twice(_store_pair)


def store_pair(S, Y, slot, stp, d, g, g_old):
    """S[slot] = stp·d, Y[slot] = g − g_old; returns yᵀy."""
    n = g.shape[0]
    return _run_elementwise(_STORE_PAIR, threads_for(40.0 * n), S, Y, int(slot), float(stp), d,
                            g, g_old)


# ----------------------------------------------------------------------------- CG's updates
# Preconditioned CG (``cg.conjugate_gradient``) on more than ``cg.COMPILED_MIN`` unknowns: per
# CG step one product p·q, one fused update of x and r that also returns rᵀr and rᵀM⁻¹r at the
# new r, and one update of p — 13 vector streams, in place, against NumPy's ~23 and four
# temporaries of n doubles (at 2·10⁶ unknowns 33-56 ms per CG step with NumPy, 22-35 ms here:
# memory-bound; benchmarks/solver_overhead.py --cg). Same task layout as above: reproducible to the bit at any
# thread count; the loops that store only store, the sums only read.

@jit(fast=True)
def _dot1(a, b):
    """a·b."""
    s = 0.0
    for j in range(a.shape[0]):
        s += a[j] * b[j]
    return s


@jit(fast=True)
def _norms2(r, w):
    """(rᵀr, Σ r·(w·r))."""
    s = 0.0
    t = 0.0
    for j in range(r.shape[0]):
        rj = r[j]
        s += rj * rj
        t += rj * (w[j] * rj)
    return s, t


def _cg_dot(a, b, n_tasks, per_task):
    """a·b over tasks, added in task order."""
    n = a.shape[0]
    part = np.empty(n_tasks)
    for t in prange(n_tasks):
        t_end = min(n, (t + 1) * per_task)
        s = 0.0
        for start in range(t * per_task, t_end, BLOCK):
            end = min(t_end, start + BLOCK)
            s += _dot1(a[start:end], b[start:end])
        part[t] = s
    s = 0.0
    for t in range(n_tasks):
        s += part[t]
    return s


_CG_DOT = _twice(_cg_dot)


def _cg_update(x, r, p, q, alpha, w, precondition, n_tasks, per_task):
    """x += α·p, r −= α·q (α = 0: r unchanged); returns (rᵀr, rᵀM⁻¹r) at the new r, M⁻¹ =
    diag(w) (rᵀr twice without ``precondition``)."""
    n = x.shape[0]
    part = np.empty((n_tasks, 2))
    for t in prange(n_tasks):
        rr = 0.0
        rz = 0.0
        t_end = min(n, (t + 1) * per_task)
        for start in range(t * per_task, t_end, BLOCK):
            end = min(t_end, start + BLOCK)
            rb = r[start:end]
            if alpha != 0.0:
                xb = x[start:end]
                pb = p[start:end]
                qb = q[start:end]
                for j in range(rb.shape[0]):
                    xb[j] += alpha * pb[j]
                    rb[j] -= alpha * qb[j]
            if precondition:
                u, v = _norms2(rb, w[start:end])
            else:
                u = _dot1(rb, rb)
                v = u
            rr += u
            rz += v
        part[t, 0] = rr
        part[t, 1] = rz
    rr = 0.0
    rz = 0.0
    for t in range(n_tasks):
        rr += part[t, 0]
        rz += part[t, 1]
    return rr, rz


_CG_UPDATE = _twice(_cg_update)


def _cg_direction(p, r, w, beta, precondition, first):
    """p = z (``first``) or z + β·p, z = w·r (``precondition``) or r: elementwise."""
    n = p.shape[0]
    for j in prange(n):
        z = w[j] * r[j] if precondition else r[j]
        p[j] = z if first else beta * p[j] + z
    return 0


_CG_DIRECTION = _twice(_cg_direction)


def cg_dot(a, b) -> float:
    """a·b (fixed order)."""
    n = a.shape[0]
    n_tasks, per_task = tasks_of(n)
    return _run(_CG_DOT, min(n_tasks, threads_for(16.0 * n)), a, b, n_tasks, per_task)


def cg_update(x, r, p, q, alpha, w):
    """x += α·p, r −= α·q in place; returns (rᵀr, rᵀ·diag(w)·r) — rᵀr twice when w is None.
    ``alpha`` = 0 touches nothing and gives the sums at r (the start)."""
    n = r.shape[0]
    n_tasks, per_task = tasks_of(n)
    precondition = w is not None
    threads = min(n_tasks, threads_for(8.0 * n * (7 if alpha else 2)))
    return _run(_CG_UPDATE, threads, x, r, p, q, float(alpha), w if precondition else r,
                precondition, n_tasks, per_task)


def cg_direction(p, r, w, beta, first: bool) -> None:
    """p = z or z + β·p in place, z = diag(w)·r (r when w is None)."""
    n = p.shape[0]
    precondition = w is not None
    _run_elementwise(_CG_DIRECTION, threads_for(8.0 * n * 4), p, r, w if precondition else r,
                     float(beta), precondition, bool(first))


# ----------------------------------------------------------------------------- H·v's assembly

def _scaled_plus(out, a, s, v, lam):
    """out = a / s + λ·v, elementwise: NumPy's ``a / s`` then ``+= λ·v``, to the bit (no FMA:
    compiled without fastmath), in one pass and no temporary."""
    for j in prange(out.shape[0]):
        out[j] = a[j] / s + lam * v[j]
    return 0


_SCALED_PLUS = _twice(_scaled_plus)


def scaled_plus(out, a, s, v, lam) -> None:
    """out = a / s + λ·v in place (1-D float64 vectors): ``Objective.hessp``'s data term divided
    by Σ sᵢ plus the L2 penalty's λ·v — at 2·10⁶ coefficients three NumPy passes and a 16 MB
    temporary (~35 ms a product under load, a third of the product's time) against one pass."""
    _run_elementwise(_SCALED_PLUS, threads_for(24.0 * out.shape[0]), out, a, float(s), v,
                     float(lam))


def _inverse_positive(d, out):
    """out = 1 / d where d > 0, else 1 (a NaN d gives 1, as NumPy's ``where=d > 0``)."""
    for j in prange(d.shape[0]):
        dj = d[j]
        out[j] = 1.0 / dj if dj > 0 else 1.0
    return 0


_INVERSE_POSITIVE = _twice(_inverse_positive)


def inverse_positive(d, out=None):
    """1 / dⱼ where dⱼ > 0, else 1 — ``np.divide(1, d, where=d > 0)`` over ones, in one pass
    (Newton-CG's Jacobi preconditioner): into ``out``, or a new vector."""
    if out is None:
        out = np.empty(d.shape[0])
    _run_elementwise(_INVERSE_POSITIVE, threads_for(16.0 * d.shape[0]), d, out)
    return out
