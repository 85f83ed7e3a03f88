"""The passes over X: one template per kind of pass, specialised per layout × datafit.

Three templates, each a task function for ``_layout`` (``task(t, out, …)`` over rows
t·task_rows … (t+1)·task_rows − 1):

``gradient``  margins → datafit pointwise (or H·v step) → scatter, per block (``_xpass``,
              ``datafits``); out = [G (K·n), g_b (K), losses (L)]. With the datafit's ``hessp``
              hook and W a direction V, the same pass is the Hessian-vector product.
``gram``      the same, with the block's curvature, then each Hessian block
              B += Σᵢ rᵢ·x̃ᵢx̃ᵢᵀ (dense: a SYRK on the transposed block; CSR: per pair of nonzeros);
              out = [G, g_b, losses, B (pairs × (n+1)², upper triangles)].
``diagonal``  D[k, j] += Σᵢ C[k, i]·xᵢⱼ², d_b[k] += Σᵢ C[k, i]; out = [D (K·n), d_b (K)].

What a specialisation binds (as module globals of a copy of the template, resolved when Numba
compiles it — so each is its own compiled function with its own cache files, named
``<template>__<layout>__<datafit>``):

* the layout: ``MARGINS``, ``SCATTER``, ``N_ROWS`` and ``FEATURE_MAJOR`` (C order and CSR with
  K functions hold W and G as (n, K)); for ``gram`` also ``GRAM_SCRATCH``, ``GRAM_MARGINS``,
  ``GRAM_SCATTER``, ``ACCUMULATE``;
* the datafit: ``SCRATCH``, ``POINTWISE`` (its pointwise or its hessp hook), ``N_PAIRS``,
  ``PAIR_WEIGHTS``, ``PER_FUNCTION_LOSSES``.

Layouts: ``rows_1``, ``rows_k``, ``cols``, ``csr_1``, ``csr_k`` for the gradient pass (``_1``:
one function, the binary model; ``_k``: register-blocked over K functions; ``cols`` is both);
``dense`` (either memory order: the block is transposed first), ``csr_1``, ``csr_k`` for gram;
``rows`` (one function), ``rows_k`` (several: ``_vector_rows``), ``cols``, ``csr`` for the
diagonal. Nothing compiles before a pass first runs.
"""

from __future__ import annotations

import types

import numpy as np

from .._jit import jit
from . import _layout, _vector_rows, _xpass
from .datafits import DATAFITS

__all__ = ["compiled", "compiled_so_far"]

# Placeholders: every specialisation rebinds them (see ``_specialise``).
MARGINS = SCATTER = N_ROWS = SCRATCH = POINTWISE = N_PAIRS = PAIR_WEIGHTS = None
GRAM_SCRATCH = GRAM_MARGINS = GRAM_SCATTER = ACCUMULATE = DIAG = AS_X = None
FEATURE_MAJOR = PER_FUNCTION_LOSSES = False


@jit(inline="always")
def _task_outputs(out, W, feature_major, per_function_losses):
    """(K, n, G, gb, lt, rest): a task's flat output ``out`` as views — G the coefficients'
    sums ((K, n), or (n, K) ``feature_major``), gb the intercepts' (K), lt the losses (K when
    ``per_function_losses``, else 1), ``rest`` what follows (the Gram pass's blocks)."""
    if feature_major:
        n, K = W.shape
    else:
        K, n = W.shape
    n_losses = K if per_function_losses else 1
    G = out[:K * n].reshape((n, K) if feature_major else (K, n))
    gb = out[K * n:K * n + K]
    lt = out[K * n + K:K * n + K + n_losses]
    return K, n, G, gb, lt, out[K * n + K + n_losses:]


def _gradient(t, out, x0, x1, x2, W, b, block_rows, task_rows, f0, f1, f2, f3, curv, with_grad):
    X = AS_X(x0, x1, x2)
    fit = (f0, f1, f2, f3)
    m = N_ROWS(X)
    K, n, G, gb, lt, _ = _task_outputs(out, W, FEATURE_MAJOR, PER_FUNCTION_LOSSES)
    Z = np.empty((K, block_rows))
    scratch = SCRATCH(K, block_rows)
    acc = (0.0, 0.0)
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        MARGINS(X, start, count, W, b, Z)
        acc = POINTWISE(Z, start, count, fit, scratch, curv, 0, acc, lt, gb)
        if with_grad:
            SCATTER(X, start, count, Z, G)
    lt[0] += acc[0]
    gb[0] += acc[1]


def _gram(t, out, x0, x1, x2, W, b, block_rows, task_rows, f0, f1, f2, f3, column_major):
    X = AS_X(x0, x1, x2)
    fit = (f0, f1, f2, f3)
    m = N_ROWS(X)
    K, n, G, gb, lt, rest = _task_outputs(out, W, FEATURE_MAJOR, PER_FUNCTION_LOSSES)
    p = n + 1
    pairs = N_PAIRS(K)
    blocks = rest.reshape((pairs, p, p))
    T, U = GRAM_SCRATCH(p, block_rows)
    Z = np.empty((K, block_rows))
    C = np.empty((K, block_rows))
    r = np.empty(block_rows)
    scratch = SCRATCH(K, block_rows)
    acc = (0.0, 0.0)
    stop = min(m, (t + 1) * task_rows)
    for start in range(t * task_rows, stop, block_rows):
        count = min(block_rows, stop - start)
        GRAM_MARGINS(X, start, count, W, b, Z, T, column_major)
        acc = POINTWISE(Z, start, count, fit, scratch, C, start, acc, lt, gb)
        GRAM_SCATTER(X, start, count, Z, G, T)
        for pair in range(pairs):
            PAIR_WEIGHTS(pair, C, start, count, fit, r)
            ACCUMULATE(X, start, count, T, U, r, blocks[pair])
    lt[0] += acc[0]
    gb[0] += acc[1]


def _diagonal(t, out, x0, x1, x2, C, n, task_rows):
    X = AS_X(x0, x1, x2)
    m = N_ROWS(X)
    K = C.shape[0]
    D = out[:K * n].reshape((n, K) if FEATURE_MAJOR else (K, n))
    db = out[K * n:K * n + K]
    DIAG(X, t * task_rows, min(m, (t + 1) * task_rows), C, D, db)


# ------------------------------------------------------------------------- X and the Gram layouts
# A parallel driver's loop body may not take a tuple of arrays (Numba's parfor gufuncs accept
# arrays and scalars only), so X and the datafit's arrays reach a task flat: X as three arrays
# (dense X and two unused empty ones, or CSR's data, indices, indptr), the datafit's as four
# (unused ones empty), and the task packs them.

@jit(inline="always")
def _dense_x(x0, x1, x2):
    return x0


@jit(inline="always")
def _csr_x(x0, x1, x2):
    return (x0, x1, x2)


@jit(inline="always")
def _dense_gram_scratch(p, rows):
    return np.empty((p, rows)), np.empty((p, rows))


@jit(inline="always")
def _no_gram_scratch(p, rows):
    return np.empty((0, 0)), np.empty((0, 0))


@jit(fast=True, inline="always")
def _dense_gram_margins(X, start, count, W, b, Z, T, column_major):
    """T ← the block transposed (plus a row of ones); Z[k, i] = b[k] + Σⱼ W[k, j]·T[j, i]."""
    _xpass.transposed_block(X, start, count, column_major, T)
    K, n = W.shape
    for k in range(K):
        zk = Z[k]
        for i in range(count):
            zk[i] = b[k]
        for j in range(n):
            wkj = W[k, j]
            Tj = T[j]
            for i in range(count):
                zk[i] += wkj * Tj[i]


@jit(fast=True, inline="always")
def _dense_gram_scatter(X, start, count, Z, G, T):
    """G[k, j] += Σᵢ Z[k, i]·T[j, i] (j < n): contiguous dots on the transposed block."""
    K, n = G.shape
    for k in range(K):
        zk = Z[k]
        gk = G[k]
        for j in range(n):
            Tj = T[j]
            acc = 0.0
            for i in range(count):
                acc += zk[i] * Tj[i]
            gk[j] += acc


@jit(inline="always")
def _csr_gram_margins_1(X, start, count, W, b, Z, T, column_major):
    _xpass.csr_margins_1(X, start, count, W, b, Z)


@jit(inline="always")
def _csr_gram_margins_k(X, start, count, W, b, Z, T, column_major):
    _xpass.csr_margins_k(X, start, count, W, b, Z)


@jit(inline="always")
def _csr_gram_scatter_1(X, start, count, Z, G, T):
    _xpass.csr_scatter_1(X, start, count, Z, G)


@jit(inline="always")
def _csr_gram_scatter_k(X, start, count, Z, G, T):
    _xpass.csr_scatter_k(X, start, count, Z, G)


@jit(fast=True, inline="always")
def _dense_accumulate(X, start, count, T, U, r, B):
    """B += (T·diag(r))·Tᵀ over the block (upper triangle)."""
    for j in range(T.shape[0]):
        Tj = T[j]
        Uj = U[j]
        for i in range(count):
            Uj[i] = Tj[i] * r[i]
    _xpass.gemm_upper(U, T, count, B)


@jit(fast=True, inline="always")
def _csr_accumulate(X, start, count, T, U, r, B):
    _xpass.csr_outer_upper(X, start, count, r, B)


_LAYOUTS = {
    "gradient": {
        "rows_1": dict(MARGINS=_xpass.rows_margins_1, SCATTER=_xpass.rows_scatter_1),
        "rows_k": dict(MARGINS=_vector_rows.rows_margins_k, SCATTER=_vector_rows.rows_scatter_k,
                       FEATURE_MAJOR=True),
        "cols": dict(MARGINS=_xpass.cols_margins_k, SCATTER=_xpass.cols_scatter_k),
        "csr_1": dict(MARGINS=_xpass.csr_margins_1, SCATTER=_xpass.csr_scatter_1),
        "csr_k": dict(MARGINS=_xpass.csr_margins_k, SCATTER=_xpass.csr_scatter_k,
                      FEATURE_MAJOR=True),
    },
    "gram": {
        "dense": dict(GRAM_SCRATCH=_dense_gram_scratch, GRAM_MARGINS=_dense_gram_margins,
                      GRAM_SCATTER=_dense_gram_scatter, ACCUMULATE=_dense_accumulate),
        "csr_1": dict(GRAM_SCRATCH=_no_gram_scratch, GRAM_MARGINS=_csr_gram_margins_1,
                      GRAM_SCATTER=_csr_gram_scatter_1, ACCUMULATE=_csr_accumulate),
        "csr_k": dict(GRAM_SCRATCH=_no_gram_scratch, GRAM_MARGINS=_csr_gram_margins_k,
                      GRAM_SCATTER=_csr_gram_scatter_k, ACCUMULATE=_csr_accumulate,
                      FEATURE_MAJOR=True),
    },
    "diagonal": {
        "rows": dict(DIAG=_xpass.diag_rows),
        "rows_k": dict(DIAG=_vector_rows.diag_rows_k, FEATURE_MAJOR=True),
        "cols": dict(DIAG=_xpass.diag_cols),
        "csr": dict(DIAG=_xpass.diag_csr),
    },
}
_TEMPLATES = {"gradient": _gradient, "gram": _gram, "diagonal": _diagonal}


def _specialise(template, qualname: str, bindings: dict):
    """A copy of ``template`` whose module globals are rebound (see the module docstring)."""
    func = types.FunctionType(template.__code__, dict(template.__globals__, **bindings), qualname)
    func.__qualname__ = qualname
    return func


#: every pass built in this process, by (kind, layout, datafit, step)
_BUILT: dict = {}


def compiled(kind: str, layout: str, datafit: str | None = None,
             step: str = "pointwise") -> _layout.Drivers:
    """The serial and parallel drivers of one pass: ``kind`` ∈ {"gradient", "gram",
    "diagonal"}, a layout of that kind, the datafit's name (not for the diagonal) and, for the
    gradient pass, which of its hooks runs per block (``"pointwise"`` or ``"hessp"``). Built
    once per process; Numba compiles it (or loads it from the disk cache) on its first call."""
    key = (kind, layout, datafit, step)
    drivers = _BUILT.get(key)
    if drivers is None:
        bindings = dict(_LAYOUTS[kind][layout])
        sparse = layout.startswith("csr")
        bindings["N_ROWS"] = _xpass.N_ROWS["csr" if sparse else "rows"]
        bindings["AS_X"] = _csr_x if sparse else _dense_x
        name = f"{kind}__{layout}"
        if datafit is not None:
            fit = DATAFITS[datafit]
            bindings.update(SCRATCH=fit.scratch, POINTWISE=getattr(fit, step),
                            N_PAIRS=fit.n_pairs, PAIR_WEIGHTS=fit.pair_weights,
                            PER_FUNCTION_LOSSES=fit.losses_per_function)
            name += f"__{datafit}" + ("" if step == "pointwise" else f"__{step}")
        task = jit(fast=True)(_specialise(_TEMPLATES[kind], name, bindings))
        drivers = _BUILT[key] = _layout.drivers(task)
    return drivers


def compiled_so_far() -> dict:
    """{(kind, layout, datafit, step): Drivers} of every pass built in this process."""
    return dict(_BUILT)
