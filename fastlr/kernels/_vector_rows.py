"""The C-order pass over K functions in explicit vectors: margins and scatter as outer products.

For X with contiguous rows and K ≥ 1 functions (``_passes`` layout ``rows_k``), per block:

    Z[k, i] = b[k] + Σⱼ X[i, j]·Wt[j, k]        and        Gt[j, k] += Σᵢ D[k, i]·X[i, j],

W and G feature-major, (n, K), as the CSR pass takes them. Written as dot products along a row
(one sum per (i, k), vectorised over j), every sum ends in a horizontal reduction and a scalar
tail, and at the short rows users fit (n = 50: six vectors of eight per sum) that overhead is
as large as the multiply-adds. Here both loops are outer products: four rows at a time, each
X[i, j] broadcast against vectors of four functions, so every multiply-add is a full vector
operation and nothing is reduced across lanes. Numba/LLVM do not find this form (the loop
vectoriser vectorises over j again, or without reassociation leaves it scalar), so the
micro-kernels are LLVM IR (``numba.extending.intrinsic``): ``<4 x double>`` accumulators,
``llvm.fma``. A sweep covers up to ``SWEEP`` = 12 functions in vectors of 4, then 3 (of 4), 2
or 1 lanes (``_parts``), so nothing is read or written past K and no lane is padding. The
Hessian's diagonal (``diag_rows_k``) is the same scatter with X squared as it is loaded.

Sums, fixed by the code and not by the vector width, the alignment or the function the
kernels are inlined into (their additions carry a flag of their own, ``_exact``, so Numba's
fastmath rewrite of the pass leaves them without ``reassoc``): each margin in two chains, j
round-robin, four where one vector covers the sweep (K ≤ 4), added pairwise, then b; the
block's last rows the same way (``_margins_last_rows``); each Gt[j, k] takes a four-row sum (in
row order) per four rows, as the scalar kernels' sums did. float32 X is widened to float64 as
loaded.

CPU time of one pass against the dot-product kernels it replaced (``benchmarks/kpass.py``, one
thread, float64 unless said, Xeon with AVX-512): softmax 200,000 x 50, K = 10 22.4 -> 16.8 ms,
batched binary 24.0 -> 19.0 ms, float32 80,000 x 50 10.2 -> 8.0 ms, 20,000 x 1,000 31.5 ->
24.6 ms, 2,000 x 10,000 47.5 -> 41.6 ms, K = 3 100,000 x 100 8.6 -> 8.5 ms. Compiled for AVX2
(16 vector registers: the 24 accumulators of a full sweep spill) still 1.13-1.18x at K = 10,
0.98x at K = 3.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .._jit import jit
from ._xpass import PREFETCH_ROW_BYTES, _prefetch_rows

__all__ = ["SWEEP", "diag_rows_k", "rows_margins_k", "rows_scatter_k"]

#: functions per sweep over four rows: three vectors of four, 24 accumulators in two chains (with
#: W's three vectors and a broadcast, 28 of AVX-512's 32 vector registers)
SWEEP = 12

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_F64 = ir.DoubleType()


def _parts(lanes: int):
    """(offset, width, live) of the vectors that cover ``lanes`` functions: fours, then for the
    rest a four with three live lanes, a two or a one (10 = 4 + 4 + 2, 7 = 4 + 3 of 4). A
    three-lane part is loaded as a pair and a scalar and stored so: nothing is read or written
    outside the functions, and no load or store is masked. (Eight-lane vectors — AVX-512 —
    measured no faster in the pass at float64 and 14 % slower at float32, kpass.py.)"""
    parts = [(offset, 4, 4) for offset in range(0, lanes - lanes % 4, 4)]
    rest = lanes % 4
    if rest:
        parts.append((lanes - rest, 4 if rest == 3 else rest, rest))
    return parts


def _exact(instruction):
    """``instruction`` with the flag ``contract`` (FMA) alone. Numba's fastmath rewrite gives
    every float instruction *without* flags the caller's (``reassoc`` in the passes), which
    would let LLVM reorder these sums differently in every function they are inlined into: an
    instruction that has a flag is left alone."""
    instruction.flags.append("contract")
    return instruction


def _add(builder, a, b):
    return _exact(builder.fadd(a, b))


def _mul(builder, a, b):
    return _exact(builder.fmul(a, b))


def _vec(width):
    return ir.VectorType(_F64, width)


def _pointer(context, builder, aryty, ary, *indices):
    inds = [context.cast(builder, v, types.intp, types.intp) for v in indices]
    return cgutils.get_item_pointer(context, builder, aryty, ary, inds)


def _load(builder, pointer, width):
    return builder.load(builder.bitcast(pointer, _vec(width).as_pointer()), align=8)


def _store(builder, value, pointer):
    builder.store(value, builder.bitcast(pointer, value.type.as_pointer()), align=8)


def _load_part(builder, pointer, width, live):
    """``live`` doubles from ``pointer`` as a vector of ``width`` (lanes past ``live`` zero)."""
    if live == width:
        return _load(builder, pointer, width)
    pair = _load(builder, pointer, 2)
    last = builder.load(builder.gep(pointer, [_I64(2)]))
    v = ir.Constant(_vec(4), [0.0] * 4)
    v = builder.insert_element(v, builder.extract_element(pair, _I32(0)), _I32(0))
    v = builder.insert_element(v, builder.extract_element(pair, _I32(1)), _I32(1))
    return builder.insert_element(v, last, _I32(2))


def _store_part(builder, value, pointer, width, live):
    """The first ``live`` lanes of ``value`` to ``pointer``."""
    if live == width:
        _store(builder, value, pointer)
        return
    _store(builder, _shuffle(builder, value, value, [0, 1]), pointer)
    builder.store(builder.extract_element(value, _I32(2)), builder.gep(pointer, [_I64(2)]))


def _splat(builder, value, width):
    v = builder.insert_element(ir.Constant(_vec(width), ir.Undefined), value, _I32(0))
    return builder.shuffle_vector(v, ir.Constant(_vec(width), ir.Undefined),
                                  ir.Constant(ir.VectorType(_I32, width), [0] * width))


def _shuffle(builder, x, y, mask):
    return builder.shuffle_vector(x, y, ir.Constant(ir.VectorType(_I32, len(mask)), mask))


def _transpose(builder, a, width):
    """Four vectors of ``width`` lanes → ``width`` vectors of four: out[c][r] = a[r][c]."""
    if width == 4:
        lo01, hi01 = _shuffle(builder, a[0], a[1], [0, 4, 1, 5]), _shuffle(builder, a[0], a[1], [2, 6, 3, 7])
        lo23, hi23 = _shuffle(builder, a[2], a[3], [0, 4, 1, 5]), _shuffle(builder, a[2], a[3], [2, 6, 3, 7])
        return [_shuffle(builder, lo01, lo23, [0, 1, 4, 5]), _shuffle(builder, lo01, lo23, [2, 3, 6, 7]),
                _shuffle(builder, hi01, hi23, [0, 1, 4, 5]), _shuffle(builder, hi01, hi23, [2, 3, 6, 7])]
    out = []
    for c in range(width):
        v = ir.Constant(_vec(len(a)), ir.Undefined)
        for r, ar in enumerate(a):
            v = builder.insert_element(v, builder.extract_element(ar, _I32(c)), _I32(r))
        out.append(v)
    return out


def _untranspose(builder, a, width):
    """``width`` vectors of four (one per function) → four vectors of ``width`` (one per row)."""
    if width == 4:
        return _transpose(builder, a, 4)
    out = []
    for r in range(4):
        v = ir.Constant(_vec(width), ir.Undefined)
        for c in range(width):
            v = builder.insert_element(v, builder.extract_element(a[c], _I32(r)), _I32(c))
        out.append(v)
    return out


def _load_x(context, builder, xty, xa, row, j):
    """X[row, j] as a double."""
    value = builder.load(_pointer(context, builder, xty, xa, row, j))
    return value if xty.dtype == types.float64 else builder.fpext(value, _F64)


def _fma(builder, width):
    vt = _vec(width)
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt] * 3),
                                          f"llvm.fma.v{width}f64")


#: sweeps of at most this many functions (one vector) sum each margin in four chains, wider ones
#: in two (16 and up to 24 accumulators): ``_chains``, and ``_margins_last_rows`` in kind
FOUR_CHAINS_MAX_LANES = 4


def _chains(lanes: int) -> int:
    """Chains per margin in a sweep of ``lanes`` functions (``FOUR_CHAINS_MAX_LANES``)."""
    return 4 if lanes <= FOUR_CHAINS_MAX_LANES else 2


def _margins_sweep(lanes: int):
    """Z[k0 + c, col + r] = b[k0 + c] + Σⱼ X[row + r, j]·Wt[j, k0 + c] for r < 4, c < lanes.

    Each sum runs in ``_chains(lanes)`` chains, j taken round-robin (the last n mod chains j
    into the first chains), added pairwise at the end: more multiply-adds in flight (four rows
    of one vector would otherwise wait on the FMA latency) and fewer rounding steps in a row
    than one chain in order."""
    parts = _parts(lanes)
    chains = _chains(lanes)

    @intrinsic
    def margins_sweep(typingctx, X, row, Wt, k0, b, Z, col):
        def codegen(context, builder, sig, args):
            xty, _, wty, _, bty, zty, _ = sig.args
            xa, wa, ba, za = (context.make_array(sig.args[i])(context, builder, args[i])
                              for i in (0, 2, 4, 5))
            row, k0, col = (context.cast(builder, args[i], sig.args[i], types.intp)
                            for i in (1, 3, 6))
            n = builder.extract_value(xa.shape, 1)
            rows = [builder.add(row, _I64(r)) for r in range(4)]
            acc = [[[cgutils.alloca_once_value(builder, ir.Constant(_vec(w), [0.0] * w))
                     for _, w, _ in parts] for _ in range(4)] for _ in range(chains)]

            def step(j, chain):
                w = [_load_part(builder, _pointer(context, builder, wty, wa, j,
                                                  builder.add(k0, _I64(o))), width, live)
                     for o, width, live in parts]
                for r in range(4):
                    x = _load_x(context, builder, xty, xa, rows[r], j)
                    for p, (_, width, _) in enumerate(parts):
                        slot = acc[chain][r][p]
                        builder.store(builder.call(_fma(builder, width), [
                            _splat(builder, x, width), w[p], builder.load(slot)]), slot)

            rounds = builder.udiv(n, _I64(chains))
            with cgutils.for_range(builder, rounds) as loop:
                first = builder.mul(loop.index, _I64(chains))
                for c in range(chains):
                    step(builder.add(first, _I64(c)), c)
            done = builder.mul(rounds, _I64(chains))
            for c in range(chains - 1):  # the last n mod chains values of j
                j = builder.add(done, _I64(c))
                with builder.if_then(builder.icmp_signed("<", j, n)):
                    step(j, c)

            def total(r, p):
                sums = [builder.load(acc[c][r][p]) for c in range(chains)]
                while len(sums) > 1:
                    sums = [_add(builder, sums[i], sums[i + 1]) for i in range(0, len(sums), 2)]
                return sums[0]

            for p, (o, width, live) in enumerate(parts):
                by_function = _transpose(builder, [total(r, p) for r in range(4)], width)
                for c in range(live):
                    k = builder.add(k0, _I64(o + c))
                    bk = builder.load(_pointer(context, builder, bty, ba, k))
                    _store(builder, _add(builder, by_function[c], _splat(builder, bk, 4)),
                           _pointer(context, builder, zty, za, k, col))
            return context.get_dummy_value()

        return types.void(X, row, Wt, k0, b, Z, col), codegen

    return margins_sweep


def _scatter_sweep(lanes: int, squares: bool = False):
    """Gt[j, k0 + c] += Σ_{r<4} D[k0 + c, col + r]·X[row + r, j] for every j and c < lanes
    (``squares``: X[row + r, j]², the Hessian's diagonal)."""
    parts = _parts(lanes)

    @intrinsic
    def scatter_sweep(typingctx, X, row, D, col, k0, Gt):
        def codegen(context, builder, sig, args):
            xty, _, dty, _, _, gty = sig.args
            xa, da, ga = (context.make_array(sig.args[i])(context, builder, args[i])
                          for i in (0, 2, 5))
            row, col, k0 = (context.cast(builder, args[i], sig.args[i], types.intp)
                            for i in (1, 3, 4))
            n = builder.extract_value(xa.shape, 1)
            rows = [builder.add(row, _I64(r)) for r in range(4)]
            d = []  # d[p][r]: the part's D values of row r, a vector over its functions
            for o, width, live in parts:
                by_function = [_load(builder, _pointer(context, builder, dty, da,
                                                       builder.add(k0, _I64(o + c)), col), 4)
                               for c in range(live)]
                by_function += [ir.Constant(_vec(4), [0.0] * 4)] * (width - live)
                d.append(_untranspose(builder, by_function, width))
            with cgutils.for_range(builder, n) as loop:
                j = loop.index
                x = [_load_x(context, builder, xty, xa, rows[r], j) for r in range(4)]
                if squares:
                    x = [_mul(builder, v, v) for v in x]
                for p, (o, width, live) in enumerate(parts):
                    ptr = _pointer(context, builder, gty, ga, j, builder.add(k0, _I64(o)))
                    # the four rows' sum first, then one addition into Gt: Gt takes one
                    # rounding per four rows, as the scalar kernels' sums did
                    t = _mul(builder, _splat(builder, x[0], width), d[p][0])
                    for r in range(1, 4):
                        t = builder.call(_fma(builder, width),
                                         [_splat(builder, x[r], width), d[p][r], t])
                    g = _add(builder, _load_part(builder, ptr, width, live), t)
                    _store_part(builder, g, ptr, width, live)
            return context.get_dummy_value()

        return types.void(X, row, D, col, k0, Gt), codegen

    return scatter_sweep


def _by_lanes(name: str, kernels, params: str):
    """A compiled ``name(lanes, params…)`` that calls ``kernels[lanes − 1]`` (``lanes`` ≥
    len(kernels) takes the last): the if-chain over every width of a sweep, generated."""
    lines = [f"def {name}(lanes, {params}):"]
    for lanes in range(len(kernels), 0, -1):
        test = f"if lanes >= {lanes}" if lanes == len(kernels) else f"elif lanes == {lanes}"
        lines += [f"    {test}:", f"        _kernel_{lanes}({params})"]
    namespace = {f"_kernel_{i + 1}": kernel for i, kernel in enumerate(kernels)}
    exec(compile("\n".join(lines), f"<fastlr.kernels._vector_rows.{name}>", "exec"), namespace)
    return jit(inline="always")(namespace[name])


_margins = _by_lanes("_margins", [_margins_sweep(lanes) for lanes in range(1, SWEEP + 1)],
                     "X, row, Wt, k0, b, Z, col")
_scatter = _by_lanes("_scatter", [_scatter_sweep(lanes) for lanes in range(1, SWEEP + 1)],
                     "X, row, D, col, k0, Gt")
_squares = _by_lanes("_squares", [_scatter_sweep(lanes, squares=True)
                                  for lanes in range(1, SWEEP + 1)], "X, row, D, col, k0, Gt")


@jit(inline="always")
def rows_margins_k(X, start, count, Wt, b, Z):
    """Z[k, i] = b[k] + Σⱼ X[start + i, j]·Wt[j, k] (i < count, k < K); Wt (n, K)."""
    n, K = Wt.shape
    i = 0
    ahead = 16 if n * X.itemsize <= PREFETCH_ROW_BYTES else X.shape[0]
    while i + 4 <= count:
        _prefetch_rows(X, start + i + ahead, start + i + ahead + 4)
        for k0 in range(0, K, SWEEP):
            _margins(min(SWEEP, K - k0), X, start + i, Wt, k0, b, Z, i)
        i += 4
    if i < count:
        _margins_last_rows(X, start, i, count, Wt, b, Z)


@jit(strict=True)
def _margins_last_rows(X, start, first, count, Wt, b, Z):
    """Rows first … count − 1 of the block one at a time, each sum in its sweep's order (j
    round-robin over the sweep's chains by FMA, added pairwise), so a row's margins do not
    depend on where the block ends. Compiled apart and without reassociation (see
    ``_row_sums``)."""
    n, K = Wt.shape
    acc = np.empty(4)
    for i in range(first, count):
        row = X[start + i]
        for k in range(K):
            chains = 4 if min(SWEEP, K - (k - k % SWEEP)) <= FOUR_CHAINS_MAX_LANES else 2
            for c in range(4):
                acc[c] = 0.0
            for j in range(n):
                acc[j % chains] += row[j] * Wt[j, k]
            if chains == 4:
                value = (acc[0] + acc[1]) + (acc[2] + acc[3])
            else:
                value = acc[0] + acc[1]
            Z[k, i] = value + b[k]


@jit(inline="always")
def rows_scatter_k(X, start, count, D, Gt):
    """Gt[j, k] += Σᵢ D[k, i]·X[start + i, j] (i < count, k < K); Gt (n, K). For rows of at
    most ``PREFETCH_ROW_BYTES`` the next block's rows are prefetched meanwhile, so that the next
    margins read X from L2."""
    n = X.shape[1]
    ahead = start + count if n * X.itemsize <= PREFETCH_ROW_BYTES else X.shape[0]
    _scatter_rows(X, start, count, D, 0, Gt, False, ahead)


@jit(inline="always")
def diag_rows_k(X, start, stop, C, Dt, db):
    """Dt[j, k] += Σᵢ C[k, i]·X[i, j]², db[k] += Σᵢ C[k, i] (start ≤ i < stop); Dt (n, K)."""
    _scatter_rows(X, start, stop - start, C, start, Dt, True, X.shape[0])
    _row_sums(C, start, stop, db)


@jit(inline="always")
def _scatter_rows(X, row0, count, D, col0, Gt, squares, ahead):
    """Gt[j, k] += Σ_{i < count} D[k, col0 + i]·x with x = X[row0 + i, j] (``squares``: x²),
    four rows a sweep (rows ahead + i … prefetched meanwhile; ahead ≥ len(X): none), the last
    rows one at a time."""
    n, K = Gt.shape
    i = 0
    while i + 4 <= count:
        _prefetch_rows(X, ahead + i, ahead + i + 4)
        for k0 in range(0, K, SWEEP):
            if squares:
                _squares(min(SWEEP, K - k0), X, row0 + i, D, col0 + i, k0, Gt)
            else:
                _scatter(min(SWEEP, K - k0), X, row0 + i, D, col0 + i, k0, Gt)
        i += 4
    while i < count:
        row = X[row0 + i]
        for j in range(n):
            x = row[j] * row[j] if squares else row[j]
            gj = Gt[j]
            for k in range(K):
                gj[k] += D[k, col0 + i] * x
        i += 1


@jit(strict=True)
def _row_sums(C, start, stop, db):
    """db[k] += Σ_{start ≤ i < stop} C[k, i]: eight chains (i mod 8) added pairwise, then the
    last rows. Compiled apart and without reassociation, so that the order is the code's: as a
    reassociated loop inlined into the pass, its sums came out in one order when the pass was
    compiled in the process and in another when it was loaded from the disk cache (LLVM
    re-optimises a task linked into its driver)."""
    for k in range(C.shape[0]):
        c = C[k]
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = 0.0
        i = start
        while i + 8 <= stop:
            a0 += c[i]
            a1 += c[i + 1]
            a2 += c[i + 2]
            a3 += c[i + 3]
            a4 += c[i + 4]
            a5 += c[i + 5]
            a6 += c[i + 6]
            a7 += c[i + 7]
            i += 8
        total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
        while i < stop:
            total += c[i]
            i += 1
        db[k] += total
