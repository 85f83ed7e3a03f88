"""Penalties on the coefficients, one strength per problem: L2, L1 and the elastic net.

The objective of a problem is a mean loss plus a penalty on its coefficients w (never on the
intercept): f(θ) = Σ sᵢ·Lᵢ / Σ sᵢ + P(w). A penalty holds one strength per problem (a batch of
problems — one-vs-rest, cross-validation folds, a grid of C — has one per problem) and works on
the coefficients of the problems asked for, ``W`` of shape (q, d), rows in the order of
``index``. What the solvers need of it:

* ``value(W, index)`` (q,), ``gradient(W, index)`` (q, d) — smooth penalties only;
* ``hessian_diagonal(W, index)`` and ``hessp(V, index)`` — the curvature (smooth only);
* ``prox(W, step, index)`` — argmin_u ½‖u − w‖² + step·P(u), row by row, ``step`` (q,);
* ``subdifferential_distance(W, G, index)`` — per coefficient, the distance from −g (g the
  gradient of the smooth part) to the subdifferential ∂P(w): 0 at an optimum, so its largest
  value is a stopping rule for non-smooth problems (for a smooth penalty it is |g + ∇P(w)|);
* ``lambda_max(G0, index)`` — the smallest strength at which w = 0 is optimal, from the gradient
  of the smooth part at w = 0 (L1 parts only);
* ``split()`` — (smooth part, prox part): the L2 part that joins the data term as a smooth
  function (``Objective.smooth_loss_grad``) and the L1 part that proximal and coordinate solvers
  handle by its prox; either may be None (L2: (self, None); L1: (None, self); elastic net: its
  (½α(1 − ρ)‖w‖², αρ‖w‖₁)).

With strength 0 a penalty contributes exactly nothing (‖w‖² is never formed: it may overflow).

scikit-learn's objective C·Σ sᵢ·Lᵢ + r(w) divided by C·Σ sᵢ is this one with strength
1 / (C·Σ sᵢ): :func:`from_sklearn` builds it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ElasticNet", "L1", "L2", "from_sklearn"]


def _rows(values, index, like):
    """The per-problem strengths of ``index`` as a column, broadcastable against ``like``."""
    return np.asarray(values, dtype=np.float64)[np.asarray(index)].reshape(
        (-1,) + (1,) * (np.ndim(like) - 1))


class _Penalty:
    smooth = True

    def __init__(self, strength):
        strength = np.atleast_1d(np.asarray(strength, dtype=np.float64))
        if strength.ndim != 1 or not np.all((strength >= 0) & np.isfinite(strength)):
            raise ValueError(f"penalty strengths must be finite and >= 0, got {strength!r}")
        self.strength = strength

    @property
    def n_problems(self) -> int:
        return self.strength.shape[0]

    def __repr__(self):
        return f"{type(self).__name__}({self.strength.tolist()})"


def l2_value(lam: float, w) -> float:
    """½·λ·‖w‖² of one problem's coefficients (any shape, summed in their C order); an
    overflowing ‖w‖² gives +inf, warning-free."""
    with np.errstate(over="ignore"):
        return l2_value_unguarded(lam, w)


def l2_value_unguarded(lam: float, w) -> float:
    """:func:`l2_value` for a caller already inside ``np.errstate(over="ignore")``."""
    w = np.ravel(w)
    return 0.5 * lam * float(np.dot(w, w))


class L2(_Penalty):
    """P(w) = ½·λ·‖w‖². Problems with λ = 0 are left alone (no ‖w‖², no 0·inf)."""

    def value(self, W, index):
        lam = _rows(self.strength, index, W[:, 0])
        if W.shape[0] == 1:  # one problem (binary, multinomial): no loop
            return np.array([l2_value(lam[0], W[0]) if lam[0] else 0.0])
        out = np.zeros(W.shape[0])
        for k in np.flatnonzero(lam):
            out[k] = l2_value(lam[k], W[k])
        return out

    def gradient(self, W, index):
        lam = _rows(self.strength, index, W)
        if lam.all():
            return lam * W
        out = np.zeros_like(W, dtype=np.float64)
        on = np.flatnonzero(lam.reshape(-1))
        out[on] = lam[on] * W[on]
        return out

    def hessian_diagonal(self, W, index):
        return np.broadcast_to(_rows(self.strength, index, W), W.shape)

    def hessp(self, V, index):
        return _rows(self.strength, index, V) * V

    def prox(self, W, step, index):
        return W / (1.0 + np.asarray(step).reshape(_rows(self.strength, index, W).shape)
                    * _rows(self.strength, index, W))

    def subdifferential_distance(self, W, G, index):
        return np.abs(G + self.gradient(W, index))

    def split(self):
        return self, None


class L1(_Penalty):
    """P(w) = α·‖w‖₁ (not smooth: proximal and coordinate solvers)."""

    smooth = False

    def value(self, W, index):
        alpha = _rows(self.strength, index, W[:, 0])
        return alpha * np.abs(W.reshape(W.shape[0], -1)).sum(axis=1)

    def prox(self, W, step, index):
        """Soft thresholding: sign(w)·max(|w| − step·α, 0)."""
        t = np.asarray(step).reshape(_rows(self.strength, index, W).shape) \
            * _rows(self.strength, index, W)
        return np.sign(W) * np.maximum(np.abs(W) - t, 0.0)

    def subdifferential_distance(self, W, G, index):
        """|g + α·sign(w)| where w ≠ 0; max(|g| − α, 0) where w = 0."""
        alpha = _rows(self.strength, index, W)
        return np.where(W != 0, np.abs(G + alpha * np.sign(W)), np.maximum(np.abs(G) - alpha, 0.0))

    def minimal_subgradient(self, W, G, index):
        """The element of g + ∂P(w) nearest 0 (its |·| is ``subdifferential_distance``):
        g + α·sign(w) where w ≠ 0, sign(g)·max(|g| − α, 0) where w = 0 — what proximal solvers
        report as their gradient."""
        alpha = _rows(self.strength, index, W)
        return np.where(W != 0, G + alpha * np.sign(W),
                        np.sign(G) * np.maximum(np.abs(G) - alpha, 0.0))

    def split(self):
        return None, self

    def lambda_max(self, G0, index=None):
        """max|∇ⱼ| at w = 0, per problem: the smallest α with the all-zero solution."""
        return np.abs(G0.reshape(G0.shape[0], -1)).max(axis=1)


class ElasticNet(_Penalty):
    """P(w) = α·(ρ·‖w‖₁ + ½·(1 − ρ)·‖w‖²) with ρ = ``l1_ratio`` ∈ [0, 1] (scikit-learn's)."""

    smooth = False

    def __init__(self, strength, l1_ratio):
        super().__init__(strength)
        rho = float(l1_ratio)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"l1_ratio must be in [0, 1], got {l1_ratio!r}")
        self.l1_ratio = rho
        self._l1 = L1(self.strength * rho)
        self._l2 = L2(self.strength * (1.0 - rho))
        self.smooth = rho == 0.0

    def value(self, W, index):
        return self._l1.value(W, index) + self._l2.value(W, index)

    def gradient(self, W, index):
        """The smooth (L2) part's gradient; the L1 part goes through ``prox``."""
        return self._l2.gradient(W, index)

    def hessian_diagonal(self, W, index):
        return self._l2.hessian_diagonal(W, index)

    def hessp(self, V, index):
        return self._l2.hessp(V, index)

    def prox(self, W, step, index):
        """Soft thresholding by step·α·ρ, then shrinking by 1 + step·α·(1 − ρ)."""
        return self._l2.prox(self._l1.prox(W, step, index), step, index)

    def subdifferential_distance(self, W, G, index):
        return self._l1.subdifferential_distance(W, G + self._l2.gradient(W, index), index)

    def split(self):
        if self.l1_ratio == 0.0:
            return self._l2, None
        if self.l1_ratio == 1.0:
            return None, self._l1
        return self._l2, self._l1

    def lambda_max(self, G0, index=None):
        """The smallest α with the all-zero solution: max|∇ⱼ| / ρ (inf for ρ = 0)."""
        with np.errstate(divide="ignore"):
            return self._l1.lambda_max(G0) / self.l1_ratio

    def __repr__(self):
        return f"ElasticNet({self.strength.tolist()}, l1_ratio={self.l1_ratio})"


def from_sklearn(C, weight_sum, l1_ratio=0.0, penalize=True):
    """scikit-learn's penalty for C (one or one per problem) on the mean-scaled objective:
    strength 1/(C·Σsᵢ), 0 for C = ∞ or no penalty; L2 for l1_ratio = 0, else the elastic net
    (l1_ratio = 1: L1)."""
    C = np.atleast_1d(np.asarray(C, dtype=np.float64))
    S = np.broadcast_to(np.asarray(weight_sum, dtype=np.float64), C.shape)
    with np.errstate(divide="ignore"):
        strength = np.where(np.isinf(C) | (not penalize), 0.0, 1.0 / (C * S))
    if l1_ratio == 0:
        return L2(strength)
    if l1_ratio == 1:
        return L1(strength)
    return ElasticNet(strength, l1_ratio)
