"""Compiled inner loops of the proximal Newton solver (``prox_newton``): the logistic terms of
one margin vector, and coordinate descent on an L1-penalised quadratic.

All loops are serial, in index order (the sums are reproducible: no thread count changes
them); each is O(n_samples) or O(|working set|²) per call, small next to a pass over X.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from ..kernels._pointwise import loss_dz

__all__ = ["cd_quadratic", "logistic_loss", "logistic_terms"]


@jit()
def logistic_terms(z, y, s, S, r, h):
    """At margins z (labels y ∈ {0, 1}, weights s — empty: all 1 — total S): returns
    Σ sᵢ·L(zᵢ, yᵢ)/S, and fills r = s·(σ(z) − y)/S (the margins' gradient) and
    h = s·σ(z)(1 − σ(z))/S (their curvature, e^{−|z|}/(1 + e^{−|z|})² from one exp)."""
    total = 0.0
    unit = s.shape[0] == 0
    for i in range(z.shape[0]):
        w = 1.0 if unit else s[i]
        # loss_dz's terms from the one exp that h needs too. Why (l1text-0.01): ~3 calls per
        # outer iteration, n = 100,000 each; two exps a sample made them 1/3 slower
        zi, yi = z[i], y[i]
        e = math.exp(-abs(zi))
        q = 1.0 + e
        a = e / q
        if zi > 0.0:
            loss, dz = math.log1p(e) + (1.0 - yi) * zi, (1.0 - yi) - a
        else:
            loss, dz = math.log1p(e) - yi * zi, a - yi
        total += w * loss
        r[i] = w * dz / S
        h[i] = w * (e / (q * q)) / S
    return total / S


@jit()
def logistic_loss(z, dz, t, y, s, S):
    """Σ sᵢ·L(zᵢ + t·dzᵢ, yᵢ)/S: the data term along a line (the line search)."""
    total = 0.0
    unit = s.shape[0] == 0
    for i in range(z.shape[0]):
        w = 1.0 if unit else s[i]
        loss, _ = loss_dz(z[i] + t * dz[i], y[i])
        total += w * loss
    return total / S


@jit(inline="always")
def soft_threshold(v, thr):
    """argmin over t of ½(t − v)² + thr·|t| (thr ≥ 0): v shrunk towards 0 by thr."""
    if v > thr:
        return v - thr
    if v < -thr:
        return v + thr
    return 0.0


@jit(inline="always")
def l1_distance(v, grad, a):
    """Distance of −grad to a·∂|v| (0 when the coordinate is optimal)."""
    if v > 0.0:
        return abs(grad + a)
    if v < 0.0:
        return abs(grad - a)
    return max(abs(grad) - a, 0.0)


@jit()
def cd_quadratic(H, g, u, alpha, tol, max_epochs, delta):
    """Cyclic coordinate descent on q(δ) = gᵀδ + ½δᵀHδ + Σⱼ αⱼ|uⱼ + δⱼ| (H symmetric, positive
    semi-definite; δ in/out, usually 0 in). Each coordinate's exact minimiser is a soft
    thresholding; H·δ is kept up to date (O(m) per changed coordinate, H's row: contiguous).
    Stops when the distance of −∇ of the smooth part to αⱼ∂|uⱼ + δⱼ| is ≤ tol for every j,
    checked after each epoch (O(m)), or after max_epochs. Returns the epochs run."""
    m = g.shape[0]
    Hd = H @ delta
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        for j in range(m):
            hjj = H[j, j]
            if hjj <= 0.0:
                continue
            old = u[j] + delta[j]
            new = soft_threshold(old - (g[j] + Hd[j]) / hjj, alpha[j] / hjj)
            diff = new - old
            if diff != 0.0:
                delta[j] += diff
                for k in range(m):
                    Hd[k] += H[j, k] * diff
        worst = 0.0
        for j in range(m):
            d = l1_distance(u[j] + delta[j], g[j] + Hd[j], alpha[j])
            if d > worst:
                worst = d
        if worst <= tol:
            break
    return epoch


def l1_norm(alpha, u) -> float:
    """Σⱼ αⱼ|uⱼ|."""
    return float(np.dot(alpha, np.abs(u)))


@jit()
def csr_rmatvec(indptr, indices, data, r, out):
    """out = Xᵀ·r for CSR X (out zeroed here): one pass over X's entries in row order (each
    out[j] sums its rows in order: reproducible). Why (l1text-0.01): the full gradient of each
    outer iteration from the margins prox_newton keeps, 11-12 ms at 100,000 x 100,000 (4.3M
    entries, 1 thread) against 53 ms for the objective's pass, which recomputes X·w first."""
    for j in range(out.shape[0]):
        out[j] = 0.0
    for i in range(indptr.shape[0] - 1):
        ri = r[i]
        if ri == 0.0:
            continue
        for k in range(indptr[i], indptr[i + 1]):
            out[indices[k]] += data[k] * ri


@jit()
def csr_select_into(indptr, indices, data, position, out_ptr, out_idx, out_val):
    """The columns j with position[j] ≥ 0 of a CSR matrix, renumbered position[j], as CSR
    arrays written into out_ptr (m + 1), out_idx and out_val (float64; room for all of X's
    entries): returns the number of entries written. One pass over X's indices, no sort (the
    column order within a row follows X's). One pass rather than count-then-fill: measured 30
    vs 36-47 ms (text-like 100,000 x 100,000, 4.3M entries, |ws| = 150, 1 thread, loaded).
    A CSC copy of X with a counting transpose of the working set's columns was slower: the
    copy (scipy tocsc) 0.32 s once, the transpose 60 ms for 1.46M entries (scattered writes).
    Given arrays, not fresh ones: fresh pages are zeroed and faulted in by the kernel at every
    gathering (~20 MB at ~780 columns); a buffer kept for the fit is faulted in once
    (l1text-0.01)."""
    m = indptr.shape[0] - 1
    out_ptr[0] = 0
    at = 0
    for i in range(m):
        for k in range(indptr[i], indptr[i + 1]):
            p = position[indices[k]]
            if p >= 0:
                out_idx[at] = p
                out_val[at] = data[k]
                at += 1
        out_ptr[i + 1] = at
    return at


@jit()
def csr_select_classes(indptr, indices, data, position):
    """Every class's working-set columns of a CSR matrix in two passes over X's entries (count,
    then fill), not one pass per class: ``position`` (n, K) int32 holds column j's place in
    class c's working set or −1 (a row of K entries: one cache line per entry of X). Returns
    (indptr (K, m + 1), indices, float64 data, offsets (K + 1)): class c's CSR arrays are
    indptr[c] and the slices offsets[c]:offsets[c + 1] of the other two (column order within a
    row as X's)."""
    m = indptr.shape[0] - 1
    K = position.shape[1]
    counts = np.zeros(K, dtype=np.int64)
    for e in range(indptr[m]):
        col = indices[e]
        for c in range(K):
            if position[col, c] >= 0:
                counts[c] += 1
    offsets = np.zeros(K + 1, dtype=np.int64)
    for c in range(K):
        offsets[c + 1] = offsets[c] + counts[c]
    out_ptr = np.empty((K, m + 1), dtype=indptr.dtype)
    out_idx = np.empty(offsets[K], dtype=indices.dtype)
    out_val = np.empty(offsets[K], dtype=np.float64)
    at = offsets[:K].copy()
    for c in range(K):
        out_ptr[c, 0] = 0
    for i in range(m):
        for e in range(indptr[i], indptr[i + 1]):
            col = indices[e]
            for c in range(K):
                p = position[col, c]
                if p >= 0:
                    out_idx[at[c]] = p
                    out_val[at[c]] = data[e]
                    at[c] += 1
        for c in range(K):
            out_ptr[c, i + 1] = at[c] - offsets[c]
    return out_ptr, out_idx, out_val, offsets


#: csr_gram's tile: the Gram is accumulated in blocks of TILE × TILE (2 MB float64, about the
#: L2/L3 share of one core) — text-like 100,000 x 100,000, a working set of 3,400 columns (2.5M
#: entries, 33M pairs), 1 thread, load ~5: untiled 0.44-0.50 s, tiles of 256 / 512 / 1024 /
#: 2048: 0.49 / 0.35-0.39 / 0.37-0.42 / 0.41-0.47 s (at 700 columns all 0.075-0.08 s against
#: 0.09 s for the former kernel, which took unsorted rows and branched on the pair's order)
TILE = 512


@jit()
def csr_gram(indptr, indices, data, h, size):
    """Σᵢ hᵢ·xᵢxᵢᵀ (size × size) of a CSR matrix with ``size`` columns and **sorted indices**
    in each row: over the pairs a ≤ b of each row's entries, O(Σᵢ nnzᵢ²/2), the upper triangle
    in tiles of ``TILE`` columns (for each pair of column blocks A ≤ B, the rows' entries in A
    times those in B: G's block stays in cache while every row adds to it), mirrored at the
    end. Each G[j, k] sums its rows in row order (reproducible: no thread count or tile size
    changes the order of one entry's terms)."""
    m = indptr.shape[0] - 1
    nb = max((size + TILE - 1) // TILE, 1)
    if nb == 1:  # one tile: the same sums without the pass that cuts the rows into blocks
        # (l1text-0.1: working sets of 10-30 columns, where that pass was half the Gram)
        G = np.zeros((size, size))
        for i in range(m):
            hi = h[i]
            if hi == 0.0:
                continue
            end = indptr[i + 1]
            for a in range(indptr[i], end):
                va = hi * data[a]
                row = G[indices[a]]
                for b in range(a, end):
                    row[indices[b]] += va * data[b]
        mirror_upper(G)
        return G
    cut = np.empty((m, nb + 1), dtype=np.int64)  # row i's entries in block b: cut[i, b:b + 2]
    for i in range(m):
        k = indptr[i]
        end = indptr[i + 1]
        for blk in range(nb):
            cut[i, blk] = k
            limit = (blk + 1) * TILE
            while k < end and indices[k] < limit:
                k += 1
        cut[i, nb] = end
    G = np.zeros((size, size))
    for A in range(nb):
        for B in range(A, nb):
            for i in range(m):
                hi = h[i]
                a0, a1 = cut[i, A], cut[i, A + 1]
                b0, b1 = cut[i, B], cut[i, B + 1]
                if a0 == a1 or b0 == b1 or hi == 0.0:
                    continue
                for a in range(a0, a1):
                    va = hi * data[a]
                    row = G[indices[a]]
                    for b in range(a if A == B else b0, b1):
                        row[indices[b]] += va * data[b]
    mirror_upper(G)
    return G


@jit()
def mirror_upper(G):
    """G[k, j] = G[j, k] for k > j, in 64 × 64 tiles (the lower triangle's writes are strided:
    measured 29-38 vs 37-41 ms at 3,400 × 3,400 against the plain double loop)."""
    size = G.shape[0]
    for jb in range(0, size, 64):
        for kb in range(jb, size, 64):
            for k in range(kb, min(kb + 64, size)):
                for j in range(jb, min(jb + 64, k)):
                    G[k, j] = G[j, k]


# ----------------------------------------------------------------------------- softmax (multinomial)
# The multinomial proximal Newton solvers (``prox_newton_softmax``, ``prox_newton_kron``) keep
# the margins Z (n, K) and recompute the probabilities from them: O(n·K) exps per call, small
# next to a Gram or a CD epoch.

@jit()
def softmax_terms(Z, y, s, S, P):
    """At margins Z (n, K) (labels y: class indices, weights s — empty: all 1 — total S):
    returns Σ sᵢ·(logΣₖ e^{Zᵢₖ} − Z_{i,yᵢ})/S and fills P (n, K) with the softmax of each row."""
    n, K = Z.shape
    unit = s.shape[0] == 0
    total = 0.0
    for i in range(n):
        m = Z[i, 0]
        for k in range(1, K):
            if Z[i, k] > m:
                m = Z[i, k]
        acc = 0.0
        for k in range(K):
            e = math.exp(Z[i, k] - m)
            P[i, k] = e
            acc += e
        inv = 1.0 / acc
        for k in range(K):
            P[i, k] *= inv
        w = 1.0 if unit else s[i]
        total += w * (m + math.log(acc) - Z[i, y[i]])
    return total / S


@jit()
def softmax_class_terms(P, c, y, w, r, h):
    """Class c's margin gradient and curvature from the probabilities P (n, K), weights
    w = s/S: r = w·(P_c − [y = c]), h = w·P_c·(1 − P_c); returns Σ r (the intercept's
    gradient). One pass over P's column, no temporaries (the NumPy form took five n-vectors
    per class step). h only shapes the Newton model: 1 − P_c's rounding where P_c ≈ 1 changes
    the step, not the objective (the line search uses P's other entries)."""
    total = 0.0
    for i in range(P.shape[0]):
        p = P[i, c]
        ri = w[i] * (p - 1.0) if y[i] == c else w[i] * p
        r[i] = ri
        h[i] = w[i] * p * (1.0 - p)
        total += ri
    return total


@jit()
def l1_subgradient(x, g, alpha, n_coef, out):
    """The minimal element of g + α·∂‖x[:n_coef]‖₁ (the rest, unpenalised, passes through) into
    out; returns its max|·| (NaN when g holds a NaN)."""
    worst = 0.0
    for j in range(x.shape[0]):
        gj = g[j]
        if j >= n_coef:
            v = gj
        elif x[j] > 0.0:
            v = gj + alpha
        elif x[j] < 0.0:
            v = gj - alpha
        elif gj > alpha:
            v = gj - alpha
        elif gj < -alpha:
            v = gj + alpha
        else:
            v = 0.0
        out[j] = v
        if v != v:
            worst = np.nan
        elif abs(v) > worst:
            worst = abs(v)
    return worst


@jit()
def softmax_line(P, c, dz, rows, t, y, s, S):
    """The change of the softmax data term Σ sᵢ·L(Zᵢ)/S when class c's margins move by t·dz,
    from the probabilities P at Z: Σ over ``rows`` (those with dzᵢ ≠ 0) of
    sᵢ·(log(qᵢ + pᵢ·e^{a}) − [yᵢ = c]·a)/S, a = t·dzᵢ, pᵢ = P_{ic}, qᵢ = Σ_{k≠c} P_{ik}
    (not 1 − pᵢ: exact where pᵢ rounds to 1). One exp and one log per row: the difference
    itself, free of the cancellation of two sums of n terms (the line search near the optimum)."""
    K = P.shape[1]
    unit = s.shape[0] == 0
    total = 0.0
    for j in range(rows.shape[0]):
        i = rows[j]
        a = t * dz[i]
        p = P[i, c]
        q = 0.0
        for k in range(K):
            if k != c:
                q += P[i, k]
        if a > 0.0:
            v = a + math.log(p + q * math.exp(-a)) - math.log(p + q)
        else:
            v = math.log(q + p * math.exp(a)) - math.log(p + q)
        if y[i] == c:
            v -= a
        w = 1.0 if unit else s[i]
        total += w * v
    return total / S


@jit()
def softmax_move(Z, P, c, dz, rows, t):
    """Z[:, c] += t·dz on ``rows`` (where dz ≠ 0), and P's rows there updated: with a = t·dzᵢ,
    p = P_{ic} and q = Σ_{k≠c} P_{ik}, the new row is P_{ik}/(q + p·e^a) (k ≠ c) and
    p·e^a/(q + p·e^a) — one exp per row, not K (e^{−a} for a > 0: no overflow). The solver
    recomputes P from Z at each outer iteration, so the rounding of these updates does not
    accumulate past one working set (measured: with an intercept every row moves, and the K
    exps per row were the largest item of a text fit, 71 of 400 ms)."""
    K = Z.shape[1]
    for j in range(rows.shape[0]):
        i = rows[j]
        a = t * dz[i]
        Z[i, c] += a
        p = P[i, c]
        q = 0.0
        for k in range(K):
            if k != c:
                q += P[i, k]
        if a > 0.0:
            e = math.exp(-a)
            inv = 1.0 / (p + q * e)
            for k in range(K):
                P[i, k] *= e * inv
            P[i, c] = p * inv
        else:
            e = math.exp(a)
            inv = 1.0 / (q + p * e)
            for k in range(K):
                P[i, k] *= inv
            P[i, c] = p * e * inv


@jit()
def softmax_line_all(P, dZ, t, y, s, S):
    """The change of the softmax data term when all margins move by t·dZ, from P at Z:
    Σ sᵢ·(log Σₖ Pᵢₖ·e^{t·dZᵢₖ} − t·dZ_{i,yᵢ})/S (the shift by max t·dZᵢₖ keeps the exps ≤ 1)."""
    n, K = P.shape
    unit = s.shape[0] == 0
    total = 0.0
    for i in range(n):
        m = t * dZ[i, 0]
        for k in range(1, K):
            v = t * dZ[i, k]
            if v > m:
                m = v
        acc = 0.0
        norm = 0.0
        for k in range(K):
            acc += P[i, k] * math.exp(t * dZ[i, k] - m)
            norm += P[i, k]
        w = 1.0 if unit else s[i]
        total += w * (m + math.log(acc) - math.log(norm) - t * dZ[i, y[i]])
    return total / S


#: K-vector subproblem of ``cd_kron``: at most this many passes over its K coordinates
KRON_SUB_SWEEPS = 30


@jit()
def cd_kron(X, w, P, G, A, u, alpha, lam, n_penalised, tol, max_epochs, delta):
    """Coordinate descent over features, each a K-vector (its coefficients of all classes), on
    the multinomial proximal Newton model q(Δ) = Σⱼ Gⱼ·Δⱼ + ½ΔᵀHΔ + ½λ‖u + Δ‖² + α‖u + Δ‖₁ with
    the softmax Hessian H = Σᵢ sᵢ(diag pᵢ − pᵢpᵢᵀ) ⊗ xᵢxᵢᵀ/S, never formed.

    X (m, q) the working set's columns, F-ordered (a column is contiguous), the intercept's
    column of ones last when there is one: columns from ``n_penalised`` on are unpenalised
    (α = λ = 0); w = s/S (m) and P (m, K); G (q, K) the smooth part's gradient at u; A (q, K, K)
    the Hessian's diagonal blocks Aⱼ = Σᵢ sᵢxᵢⱼ²(diag pᵢ − pᵢpᵢᵀ)/S; u (q, K) the coefficients;
    delta (q, K), zero in, the step out.

    The cross-feature part of H·Δ is kept as V (m, K), Vᵢₖ = wᵢPᵢₖ·(dZᵢₖ − pᵢ·dZᵢ) with
    dZ = XΔ: (HΔ)ⱼₖ = Σᵢ xᵢⱼVᵢₖ, and a step d of feature j adds xᵢⱼwᵢ·Pᵢₖ·(dₖ − pᵢ·d) to row i
    of V. That update and the next feature's Σᵢ xᵢ,ⱼ₊₁Vᵢ run in one pass over the rows (each
    row's P and V are contiguous: one stream, V read once per feature visit; w·P is not
    stored, a stream less: the epochs are bound by these reads). Feature j's
    K-vector step minimises the model with the exact K × K block Aⱼ (+ λI) by cyclic CD over
    its K coordinates (soft thresholding each; at most ``KRON_SUB_SWEEPS`` passes). Stops when
    the model's minimal subgradient at each visit is ≤ tol over a whole epoch, or after
    max_epochs. Returns the epochs run."""
    m, K = P.shape
    q = X.shape[1]
    V = np.zeros((m, K))
    hv = np.zeros(K)  # Σᵢ xᵢⱼVᵢ of the feature being visited
    hv_next = np.zeros(K)
    grad = np.empty(K)
    d = np.empty(K)
    Ad = np.empty(K)
    epoch = 0
    while epoch < max_epochs:
        epoch += 1
        worst = 0.0
        valid = epoch == 1  # V = 0 in the first epoch's first visit: hv = 0
        for k in range(K):
            hv[k] = 0.0
        for j in range(q):
            if not valid:
                for k in range(K):
                    hv[k] = 0.0
                for i in range(m):
                    xi = X[i, j]
                    for k in range(K):
                        hv[k] += xi * V[i, k]
            valid = False
            a_j = alpha if j < n_penalised else 0.0
            l_j = lam if j < n_penalised else 0.0
            for k in range(K):
                grad[k] = G[j, k] + l_j * delta[j, k] + hv[k]
            viol = 0.0
            for k in range(K):
                dist = l1_distance(u[j, k] + delta[j, k], grad[k], a_j)
                if dist > viol:
                    viol = dist
            if viol > worst:
                worst = viol
            if viol == 0.0:
                continue
            for k in range(K):
                d[k] = 0.0
                Ad[k] = 0.0
            moved = False
            for _ in range(KRON_SUB_SWEEPS):
                change = 0.0
                for k in range(K):
                    hkk = A[j, k, k] + l_j
                    if hkk <= 0.0:
                        continue
                    old = u[j, k] + delta[j, k] + d[k]
                    new = soft_threshold(old - (grad[k] + Ad[k]) / hkk, a_j / hkk)
                    diff = new - old
                    if diff != 0.0:
                        moved = True
                        d[k] += diff
                        for l in range(K):
                            Ad[l] += A[j, l, k] * diff
                        Ad[k] += l_j * diff
                        if abs(diff) * hkk > change:
                            change = abs(diff) * hkk
                if change <= 0.1 * tol:
                    break
            if not moved:
                continue
            for k in range(K):
                delta[j, k] += d[k]
                hv_next[k] = 0.0
            nxt = j + 1 < q
            for i in range(m):
                xi = X[i, j]
                pd = 0.0
                for k in range(K):
                    pd += P[i, k] * d[k]
                xw = xi * w[i]
                if nxt:
                    xn = X[i, j + 1]
                    for k in range(K):
                        vik = V[i, k] + xw * P[i, k] * (d[k] - pd)
                        V[i, k] = vik
                        hv_next[k] += xn * vik
                else:
                    for k in range(K):
                        V[i, k] += xw * P[i, k] * (d[k] - pd)
            if nxt:
                for k in range(K):
                    hv[k] = hv_next[k]
                valid = True
        if worst <= tol:
            break
    return epoch
