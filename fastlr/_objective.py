"""scikit-learn's binary logistic objective, mean-scaled, on top of fastlr's kernels.

scikit-learn's ``LogisticRegression`` minimises, over θ = [w, b] (intercept stored last),

    F(θ) = C·Σ sᵢ·Lᵢ(θ) + ½·‖w‖²          (penalty=None: C·Σ sᵢ·Lᵢ)

with Lᵢ the cross-entropy of sample i and sᵢ its weight (class weights included). Its solvers
work, as ours do, on the equivalent mean-scaled objective

    f(θ) = F(θ) / (C·Σ sᵢ) = Σ sᵢ·Lᵢ / Σ sᵢ + ½·λ·‖w‖²,   λ = 1 / (C·Σ sᵢ)   (0 without penalty)

which is exactly the kernels' ``J`` with ``l2 = λ``: its gradient is O(1) whatever the number of
samples, so one ``tol`` fits every problem size. Same minimiser, so the same coefficients.

``BinaryObjective`` is what ``fastlr._solvers.minimize`` consumes: ``loss_grad(x) -> (f, g)`` and
``loss_grad_hess(x) -> (f, g, H)`` on the float64 vector x = [w..., b] (just w without an
intercept). An objective for another data backend (e.g. Dask) only needs the same two methods plus
``n_params`` and ``weight_sum``.

Dense X goes to the fused kernel of ``fastlr.kernels`` (and ``fastlr.kernels.hessian`` for the
Hessian); CSR goes to ``fastlr.kernels.sparse``. Inputs are validated once here, not at every
evaluation, and every result is float64 even for float32 X (the kernels accumulate in float64;
rounding f to float32 would stall L-BFGS's line search near the optimum).
"""

from __future__ import annotations

import numpy as np

from . import kernels
from ._validation import check_problem
from .kernels import hessian, sparse

__all__ = ["BinaryObjective", "LinearObjective"]


def _is_sparse(X) -> bool:
    return hasattr(X, "tocsr") and hasattr(X, "format")


class LinearObjective:
    """What every objective shares: θ = [w..., b] ↔ (w, b), and packing (J, dw, db) into (f, g).

    Subclasses provide ``loss_grad_wb(w, b) -> (J, dw, db)`` and
    ``loss_grad_hess_wb(w, b) -> (J, g, H)`` (g, H over [w, b]) in mean-scaled form, float64.
    """

    def __init__(self, n_features, weight_sum, *, C=1.0, fit_intercept=True, penalty="l2"):
        self.n_features = int(n_features)
        self.fit_intercept = bool(fit_intercept)
        self.n_params = self.n_features + int(self.fit_intercept)
        self.weight_sum = float(weight_sum)
        self.C = float(C)
        self.l2 = 0.0 if penalty is None else 1.0 / (self.C * self.weight_sum)

    def split(self, x):
        """θ → (w, b) as the kernels want them (b = 0 without an intercept)."""
        x = np.asarray(x, dtype=np.float64)
        w = np.ascontiguousarray(x[: self.n_features])
        b = float(x[self.n_features]) if self.fit_intercept else 0.0
        return w, b

    def loss_grad(self, x):
        """(f, ∇f) at x, float64; one pass over X."""
        J, dw, db = self.loss_grad_wb(*self.split(x))
        if self.fit_intercept:
            g = np.empty(self.n_params)
            g[: self.n_features] = dw
            g[self.n_features] = db
        else:
            g = np.asarray(dw, dtype=np.float64)
        return float(J), g

    def loss_grad_hess(self, x):
        """(f, ∇f, ∇²f) at x, float64; one pass over X (for Newton)."""
        J, g, H = self.loss_grad_hess_wb(*self.split(x))
        if not self.fit_intercept:
            g = g[: self.n_features].copy()
            H = H[: self.n_features, : self.n_features].copy()
        return float(J), g, H


class BinaryObjective(LinearObjective):
    """Mean-scaled objective f(θ) of one binary problem (labels y01 in {0, 1}).

    X: NumPy array (float32/float64, any memory order, not copied) or a scipy.sparse CSR/CSC
    matrix or array (CSC is converted to CSR once here); sample_weight: None or (m,) non-negative.
    """

    def __init__(self, X, y01, sample_weight=None, *, C=1.0, fit_intercept=True, penalty="l2"):
        self.sparse = _is_sparse(X)
        if self.sparse:
            if X.format != "csr":
                X = X.tocsr()
            # the CSR kernels index w without bounds checks: reject out-of-range column indices
            if X.nnz and not (X.indices.min() >= 0 and X.indices.max() < X.shape[1]):
                raise ValueError("sparse X has column indices outside [0, n_features)")
            # validate y and the weights once against an (m, 1) stand-in for X
            p = check_problem(np.zeros(1), 0.0, np.zeros((X.shape[0], 1)), y01, sample_weight)
        else:
            p = check_problem(np.zeros(X.shape[1]), 0.0, X, y01, sample_weight, 0.0)
            X = p.X
        super().__init__(X.shape[1], p.weight_sum, C=C, fit_intercept=fit_intercept,
                         penalty=penalty)
        self.X = X
        self.y = p.y
        self.sample_weight = p.sample_weight
        self._s = np.empty(0) if p.sample_weight is None else p.sample_weight
        self._problem = p._replace(l2=self.l2)

    def loss_grad_wb(self, w, b):
        if self.sparse:
            return sparse.csr_loss_grad(self.X, self.y, self._s, w, b, self.weight_sum, self.l2)
        # The fused kernel on the already validated problem: float64 results, no re-checks.
        return kernels._fused(self._problem._replace(w=w, b=b), with_grad=True)

    def loss_grad_hess_wb(self, w, b):
        args = (self.y, self._s, w, b, self.weight_sum, self.l2)
        if self.sparse:
            return sparse.csr_loss_grad_hess(self.X, *args)
        return hessian.loss_grad_hess_dense(self.X, *args)
