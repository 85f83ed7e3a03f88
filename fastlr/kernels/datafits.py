"""Datafits: the per-sample part of a pass, over the margins of a block, never over X.

A pass (``_passes``) computes the margins Z (K, count) of a block of rows, hands them to its
datafit, and scatters what the datafit leaves in Z back over X. A datafit is a handful of compiled
hooks, bound into the pass at compile time (as ``_layout`` binds tasks, so the disk cache keys
each pass × datafit by its own name):

``pointwise(Z, start, count, fit, scratch, curv, coff, acc, lt, gb) -> acc``
    Z ← dZ = ∂(weighted loss)/∂Z in place; the block's losses added to ``lt`` (or to ``acc[0]``),
    its Σᵢ dZ[k, i] to ``gb`` (or to ``acc[1]``); with a non-empty ``curv``, each sample's
    curvature into ``curv[:, start − coff + i]`` (what H·v, the diagonal and the Gram products
    need at this point). ``fit`` is the datafit's per-sample arrays, a 4-tuple (unused ones empty).
``hessp(Z, start, count, fit, scratch, curv, coff, acc, lt, gb) -> acc``
    the same place in a pass over a direction V (Z = V·x̃ᵢ): Z ← ∇²(loss)·Z sample by sample, from
    the curvature a gradient pass kept; Σᵢ into ``gb``/``acc[1]``.
``pair_weights(pair, C, start, count, fit, r)``
    the weights rᵢ of the Gram product of one block of the Hessian, B_pair += Σᵢ rᵢ·x̃ᵢx̃ᵢᵀ,
    from the block's curvature C; ``n_pairs(K)`` blocks in all.

The three datafits, with sᵢ the sample weights (1 without):

* **logistic** (binary, K = 1): y ∈ [0, 1] per sample; L = log(1 + e^z) − y·z, dz = s·(σ − y),
  curvature h = s·σ(1 − σ) (``_pointwise.pointwise_block``: one exp per sample).
* **softmax** (multinomial, K classes): y the class index; L = logsumexp(z) − z_y,
  dz = s·(p − e_y); the curvature kept is p itself (unweighted), and H·v per sample is
  s·(p ⊙ u − p·(pᵀu)) (``_pointwise.softmax_block``). The Hessian has K(K+1)/2 blocks
  B_kl = Σ s·(p_k·[k = l] − p_k·p_l)·x̃x̃ᵀ.
* **batched logistic** (K independent binary problems sharing X: one-vs-rest, folds of a
  cross-validation, a grid of C): per sample an integer group gᵢ (its class, its fold, or both),
  and per problem k a label table y[k, g] and a weight table f[k, g], so problem k sees the label
  y[k, gᵢ] and the weight sᵢ·f[k, gᵢ] (0 leaves the sample out: a fold's held-out rows). Losses
  per problem; curvature h per problem; one Hessian block per problem.

Sums over a block are pure reductions (loops that only load): see ``_xpass`` on why a loop that
stores must never also reduce.
"""

from __future__ import annotations

import numpy as np

from .._jit import jit
from ._pointwise import pointwise_block, softmax_block

__all__ = ["BATCHED", "DATAFITS", "Datafit", "LOGISTIC", "SOFTMAX"]


# ---------------------------------------------------------------------------------- logistic

@jit(inline="always")
def _logistic_scratch(K, rows):
    """e, loss, h, and the exp's int64 scale bits."""
    return (np.empty(rows), np.empty(rows), np.empty(rows), np.empty((2, rows), dtype=np.int64))


@jit(fast=True, inline="always")
def _logistic_pointwise(Z, start, count, fit, scratch, curv, coff, acc, lt, gb):
    y, s = fit[0], fit[1]
    e, loss, h, bits = scratch
    z = Z[0]
    with_h = curv.shape[0] > 0
    pointwise_block(z, y, s, start, count, s.shape[0] > 0, e, bits, loss, h, with_h)
    if with_h:
        c = curv[0]
        for k in range(count):
            c[start - coff + k] = h[k]
    loss_t, db_t = acc
    for k in range(count):
        loss_t += loss[k]
        db_t += z[k]
    return (loss_t, db_t)


@jit(fast=True, inline="always")
def _logistic_hessp(Z, start, count, fit, scratch, curv, coff, acc, lt, gb):
    u = Z[0]
    c = curv[0]
    for k in range(count):
        u[k] *= c[start - coff + k]
    loss_t, db_t = acc
    for k in range(count):
        db_t += u[k]
    return (loss_t, db_t)


@jit(inline="always")
def _one_pair(K):
    return 1


@jit(inline="always")
def _logistic_pair_weights(pair, C, start, count, fit, r):
    c = C[0]
    for i in range(count):
        r[i] = c[i]


# ---------------------------------------------------------------------------------- softmax

@jit(inline="always")
def _softmax_scratch(K, rows):
    """E (K, rows), work (4, rows), bits (2, rows), loss (rows), P (K, rows)."""
    return (np.empty((K, rows)), np.empty((4, rows)), np.empty((2, rows), dtype=np.int64),
            np.empty(rows), np.empty((K, rows)))


@jit(fast=True, inline="always")
def _add_class_sums(Z, count, gb):
    """gb[k] += Σᵢ Z[k, i] over the block's samples (i < count): the intercepts' part."""
    for k in range(Z.shape[0]):
        zk = Z[k]
        total = 0.0
        for i in range(count):
            total += zk[i]
        gb[k] += total


@jit(fast=True, inline="always")
def _block_totals(loss, Z, count, gb):
    """Σ of the block's losses; gb[k] += Σᵢ Z[k, i]."""
    total = 0.0
    for i in range(count):
        total += loss[i]
    _add_class_sums(Z, count, gb)
    return total


@jit(fast=True, inline="always")
def _softmax_pointwise(Z, start, count, fit, scratch, curv, coff, acc, lt, gb):
    y, s = fit[0], fit[1]
    E, work, bits, loss, P = scratch
    K = Z.shape[0]
    with_p = curv.shape[0] > 0
    softmax_block(Z, y, s, start, count, s.shape[0] > 0, E, work, bits, loss,
                  P if with_p else E, with_p)
    if with_p:
        for k in range(K):
            pk = P[k]
            ck = curv[k]
            for i in range(count):
                ck[start - coff + i] = pk[i]
    loss_t, db_t = acc
    loss_t += _block_totals(loss, Z, count, gb)
    return (loss_t, db_t)


@jit(fast=True, inline="always")
def _softmax_hessp(Z, start, count, fit, scratch, curv, coff, acc, lt, gb):
    """Z[:, i] ← sᵢ·(pᵢ ⊙ uᵢ − pᵢ·(pᵢᵀuᵢ)), uᵢ = Z[:, i] (the margins of the direction)."""
    s = fit[1]
    work = scratch[1]
    K = Z.shape[0]
    dot = work[0]
    for i in range(count):
        dot[i] = 0.0
    for k in range(K):
        zk = Z[k]
        ck = curv[k]
        for i in range(count):
            dot[i] += ck[start - coff + i] * zk[i]
    weighted = s.shape[0] > 0
    for k in range(K):
        zk = Z[k]
        ck = curv[k]
        for i in range(count):
            v = ck[start - coff + i] * (zk[i] - dot[i])
            zk[i] = v * s[start + i] if weighted else v
    _add_class_sums(Z, count, gb)
    return acc


@jit(inline="always")
def _softmax_pairs(K):
    return K * (K + 1) // 2


@jit(inline="always")
def _softmax_pair_weights(pair, P, start, count, fit, r):
    """r[i] = sᵢ·(p_ik·[k = l] − p_ik·p_il) for the pair'th (k, l), k ≤ l, in row order."""
    s = fit[1]
    K = P.shape[0]
    k = 0
    first = 0
    while first + (K - k) <= pair:
        first += K - k
        k += 1
    l = k + (pair - first)
    pk = P[k]
    pl = P[l]
    weighted = s.shape[0] > 0
    for i in range(count):
        v = pk[i] * ((1.0 if k == l else 0.0) - pl[i])
        r[i] = v * s[start + i] if weighted else v


# ---------------------------------------------------------------------------------- batched

@jit(inline="always")
def _batched_scratch(K, rows):
    """e, loss, h, bits, and one problem's labels and weights for the block."""
    return (np.empty(rows), np.empty(rows), np.empty(rows), np.empty((2, rows), dtype=np.int64),
            np.empty(rows), np.empty(rows))


@jit(fast=True, inline="always")
def _batched_pointwise(Z, start, count, fit, scratch, curv, coff, acc, lt, gb):
    groups, labels, factors, s = fit
    e, loss, h, bits, yb, sb = scratch
    K = Z.shape[0]
    weighted = s.shape[0] > 0
    with_h = curv.shape[0] > 0
    for k in range(K):
        lk = labels[k]
        fk = factors[k]
        for i in range(count):
            g = groups[start + i]
            yb[i] = lk[g]
            sb[i] = fk[g] * s[start + i] if weighted else fk[g]
        z = Z[k]
        pointwise_block(z, yb, sb, 0, count, True, e, bits, loss, h, with_h)
        if with_h:
            c = curv[k]
            for i in range(count):
                c[start - coff + i] = h[i]
        total = 0.0
        dsum = 0.0
        for i in range(count):
            total += loss[i]
            dsum += z[i]
        lt[k] += total
        gb[k] += dsum
    return acc


@jit(fast=True, inline="always")
def _batched_hessp(Z, start, count, fit, scratch, curv, coff, acc, lt, gb):
    for k in range(Z.shape[0]):
        u = Z[k]
        c = curv[k]
        for i in range(count):
            u[i] *= c[start - coff + i]
    _add_class_sums(Z, count, gb)
    return acc


@jit(inline="always")
def _per_problem_pairs(K):
    return K


@jit(inline="always")
def _batched_pair_weights(pair, C, start, count, fit, r):
    c = C[pair]
    for i in range(count):
        r[i] = c[i]


# ---------------------------------------------------------------------------------- descriptors

class Datafit:
    """A datafit's compiled hooks (see the module docstring) and its output shapes.

    ``losses_per_function``: one loss per margin function (a batch of problems) rather than one
    for the whole model; ``block_pairs(K)``: Hessian blocks of one Gram pass.
    """

    def __init__(self, name, scratch, pointwise, hessp, n_pairs, pair_weights,
                 losses_per_function, block_pairs):
        self.name = name
        self.scratch = scratch
        self.pointwise = pointwise
        self.hessp = hessp
        self.n_pairs = n_pairs
        self.pair_weights = pair_weights
        self.losses_per_function = losses_per_function
        self.block_pairs = block_pairs

    def n_losses(self, K: int) -> int:
        return K if self.losses_per_function else 1

    def __repr__(self):
        return f"<datafit {self.name}>"


LOGISTIC = Datafit("logistic", _logistic_scratch, _logistic_pointwise, _logistic_hessp,
                   _one_pair, _logistic_pair_weights, False, lambda K: 1)
SOFTMAX = Datafit("softmax", _softmax_scratch, _softmax_pointwise, _softmax_hessp,
                  _softmax_pairs, _softmax_pair_weights, False, lambda K: K * (K + 1) // 2)
BATCHED = Datafit("batched", _batched_scratch, _batched_pointwise, _batched_hessp,
                  _per_problem_pairs, _batched_pair_weights, True, lambda K: K)

DATAFITS = {d.name: d for d in (LOGISTIC, SOFTMAX, BATCHED)}
