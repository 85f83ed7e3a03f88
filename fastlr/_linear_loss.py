"""The objective layer: kernel sums → the mean-scaled objective, its gradient and its Hessian.

Every kernel and every data backend (dense, CSR, Dask blocks) returns raw weighted sums
(``fastlr.kernels._sums.Sums``). This module is the one place that divides them by Σ sᵢ and adds
the L2 term, as scikit-learn's ``LinearModelLoss`` is for its solvers:

    J      = Σ sᵢ·Lᵢ / S + ½·λ·‖w‖²
    ∇_w J  = Σ sᵢ·dzᵢ·xᵢ / S + λ·w,        ∂_b J = Σ sᵢ·dzᵢ / S
    ∇²J    = Σ sᵢ·hᵢ·x̃ᵢx̃ᵢᵀ / S + λ·diag(1, …, 1, 0)     over θ = [w, b], S = Σ sᵢ

The intercept is not penalised. With λ = 0, ‖w‖² is never formed (it may overflow); with λ > 0
an overflowing ‖w‖² gives J = +inf, without a warning (the solvers treat a non-finite J).

scikit-learn's ``LogisticRegression`` minimises F(θ) = C·Σ sᵢ·Lᵢ + ½‖w‖² (``penalty=None``:
C·Σ sᵢ·Lᵢ). Its solvers work, as ours do, on F / (C·S), which is J above with λ = 1/(C·S): the
gradient is O(1) whatever the number of samples, so one ``tol`` fits every problem size, and the
minimiser — the coefficients — is the same.
"""

from __future__ import annotations

import numpy as np

from . import _interrupt

__all__ = ["LinearLoss", "l2_of", "normalise"]


def normalise(sums, w, weight_sum: float, l2: float):
    """Raw sums → ``(J, grad_w, grad_b)``, or ``(J, grad_w, grad_b, H)`` when sums carry a Hessian.

    Exact divisions by S (no reciprocal), float64 throughout.
    """
    J = sums.loss / weight_sum
    grad_w = sums.grad_w / weight_sum
    grad_b = sums.grad_b / weight_sum
    if l2 != 0.0:
        with np.errstate(over="ignore"):  # ‖w‖² of a huge warm start: J = inf, warning-free
            J += 0.5 * l2 * float(np.dot(w.ravel(), w.ravel()))
            grad_w = grad_w + l2 * w
    if sums.hess is None:
        return J, grad_w, grad_b
    H = sums.hess / weight_sum
    n_w = w.size
    H[np.arange(n_w), np.arange(n_w)] += l2
    return J, grad_w, grad_b, H


def l2_of(C: float, weight_sum: float, penalize: bool) -> float:
    """λ = 1 / (C·Σ sᵢ) of the mean-scaled objective; 0 without a penalty (or C = ∞)."""
    if not penalize or np.isinf(C):
        return 0.0
    return 1.0 / (C * weight_sum)


class LinearLoss:
    """The mean-scaled objective of one binary problem, as a function of θ = [w..., b].

    ``data`` is a data backend (``fastlr._data.ArrayData`` in memory, ``fastlr.distributed.
    DaskData`` on a cluster) with ``n_features``, ``weight_sum`` and
    ``sums(target, w, b, hessian=False) -> Sums``; ``target`` is the backend's handle of the
    0/1 labels. Without an intercept θ is just w. This is what ``fastlr._solvers.minimize``
    consumes: ``loss_grad(x) -> (f, g)`` and ``loss_grad_hess(x) -> (f, g, H)``, float64.
    """

    def __init__(self, data, target, *, l2: float, fit_intercept: bool = True):
        self.data = data
        self.target = target
        self.l2 = float(l2)
        self.fit_intercept = bool(fit_intercept)
        self.n_features = int(data.n_features)
        self.n_params = self.n_features + int(self.fit_intercept)

    def split(self, x):
        """θ → (w, b) as the kernels want them (b = 0 without an intercept)."""
        x = np.asarray(x, dtype=np.float64)
        w = np.ascontiguousarray(x[: self.n_features])
        b = float(x[self.n_features]) if self.fit_intercept else 0.0
        return w, b

    def _evaluate(self, x, hessian: bool):
        _interrupt.check()  # Ctrl-C during a fit stops here, in every solver and thread
        w, b = self.split(x)
        sums = self.data.sums(self.target, w, b, hessian=hessian)
        return normalise(sums, w, self.data.weight_sum, self.l2)

    def _theta_grad(self, grad_w, grad_b):
        if not self.fit_intercept:
            return np.asarray(grad_w, dtype=np.float64)
        return np.append(grad_w, grad_b)

    def loss_grad(self, x):
        """(f, ∇f) at x; one pass over X."""
        J, grad_w, grad_b = self._evaluate(x, hessian=False)
        return float(J), self._theta_grad(grad_w, grad_b)

    def loss_grad_hessp(self, x):
        """(f, ∇f, p ↦ ∇²f·p) at x: one pass over X, then one per product (Newton-CG).

        ∇²f·p = Xᵀ·diag(h)·(X·p_w + p_b) / S + λ·p_w, with hᵢ = sᵢ·σ(zᵢ)(1 − σ(zᵢ)) kept from the
        gradient pass: the Hessian is never formed.
        """
        _interrupt.check()
        w, b = self.split(x)
        sums, h = self.data.curvature_sums(self.target, w, b)
        J, grad_w, grad_b = normalise(sums, w, self.data.weight_sum, self.l2)
        n, S, l2 = self.n_features, self.data.weight_sum, self.l2

        def hessp(p):
            p = np.asarray(p, dtype=np.float64)
            pb = float(p[n]) if self.fit_intercept else 0.0
            hv, hb = self.data.hessp(h, p[:n], pb)
            hv = hv / S + l2 * p[:n]
            return np.append(hv, hb / S) if self.fit_intercept else hv

        def diagonal():
            """The Hessian's diagonal (one pass over X): Newton-CG's Jacobi preconditioner."""
            d, db = self.data.hessian_diagonal(h)
            d = d / S + l2
            return np.append(d, db / S) if self.fit_intercept else d

        hessp.diagonal = diagonal
        return float(J), self._theta_grad(grad_w, grad_b), hessp

    def loss_grad_hess(self, x):
        """(f, ∇f, ∇²f) at x; one pass over X (for Newton)."""
        J, grad_w, grad_b, H = self._evaluate(x, hessian=True)
        if not self.fit_intercept:
            H = H[: self.n_features, : self.n_features].copy()
        return float(J), self._theta_grad(grad_w, grad_b), H


class MultinomialLoss(LinearLoss):
    """The mean-scaled multinomial objective, as a function of θ = [W (K·n, class by class), b (K)].

    J = Σ sᵢ·(logsumexp(zᵢ) − z_{i,yᵢ}) / Σ sᵢ + ½·λ·‖W‖²,  zᵢ = W·xᵢ + b  (W of shape (K, n)).

    ``target`` is the backend's handle of the class indices; ``data.multinomial_sums(target, W,
    b, hessian)`` gives the raw sums. Without an intercept θ is just W.

    The softmax is unchanged by adding one constant to every intercept, so the Hessian is singular
    along b = (1, …, 1) (and, without a penalty, along W[:, j] = (1, …, 1) for each feature j).
    The gradient has no component along those directions, so adding c·uuᵀ for each of them (c: the
    Hessian's mean diagonal) changes no Newton step and makes the Cholesky factorisation
    well-posed; ``loss_grad_hess`` returns that regularised Hessian.
    """

    #: no Hessian-vector products for the multinomial model: its Newton step is the Cholesky one
    loss_grad_hessp = None

    def __init__(self, data, target, n_classes: int, *, l2: float, fit_intercept: bool = True):
        super().__init__(data, target, l2=l2, fit_intercept=fit_intercept)
        self.n_classes = int(n_classes)
        self.n_coef = self.n_classes * self.n_features
        self.n_params = self.n_coef + (self.n_classes if self.fit_intercept else 0)

    def split(self, x):
        x = np.asarray(x, dtype=np.float64)
        W = np.ascontiguousarray(x[: self.n_coef].reshape(self.n_classes, self.n_features))
        b = (np.ascontiguousarray(x[self.n_coef:]) if self.fit_intercept
             else np.zeros(self.n_classes))
        return W, b

    def _evaluate(self, x, hessian: bool):
        _interrupt.check()
        W, b = self.split(x)
        sums = self.data.multinomial_sums(self.target, W, b, hessian=hessian)
        return normalise(sums, W, self.data.weight_sum, self.l2)

    def _theta_grad(self, grad_w, grad_b):
        g = np.asarray(grad_w, dtype=np.float64).ravel()
        return np.concatenate([g, grad_b]) if self.fit_intercept else g

    def loss_grad_hess(self, x):
        J, grad_w, grad_b, H = self._evaluate(x, hessian=True)
        if not self.fit_intercept:
            H = H[: self.n_coef, : self.n_coef].copy()
        K, n = self.n_classes, self.n_features
        c = float(np.mean(np.diag(H))) or 1.0
        if self.fit_intercept:
            H[self.n_coef:, self.n_coef:] += c / K  # u = (0, …, 0, 1, …, 1)/√K
        if self.l2 == 0.0:
            for j in range(n):  # u = (W[:, j] = 1, …)/√K
                index = np.arange(K) * n + j
                H[np.ix_(index, index)] += c / K
        return float(J), self._theta_grad(grad_w, grad_b), H
