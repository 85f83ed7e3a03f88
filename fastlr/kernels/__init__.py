"""fastlr's Numba kernels: stable sigmoid, cross-entropy cost, gradient and Hessian.

X has shape (n_samples, n_features): float32 or float64 (other real dtypes are converted to
float64) in any memory order — C-ordered X is read row by row, F-ordered X (such as the course's
``X.T``) column by column, and neither is copied — or a scipy.sparse CSR/CSC matrix (CSC is
converted to CSR). With sᵢ the sample weights (1 without) and λ = ``l2``:

    J  = Σ sᵢ·Lᵢ / Σ sᵢ + ½·λ·‖w‖²,   Lᵢ = log(1 + e^{zᵢ}) − yᵢ·zᵢ,   zᵢ = xᵢ·w + b
    dw = Σ sᵢ·(σ(zᵢ) − yᵢ)·xᵢ / Σ sᵢ + λ·w,   db = Σ sᵢ·(σ(zᵢ) − yᵢ) / Σ sᵢ

The intercept is not penalised. Margins and sums are accumulated in float64; results come back in
X's working dtype (float32 X → float32 J, dw, db). Each function compiles on its first call for
each dtype and memory order, and the compiled code is kept on disk for the next process
(``fastlr._cache``; ``FASTLR_CACHE=0`` turns that off).

``loss_grad`` is the fused kernel: one pass over X, on one thread below 32 MB of X (about 11 MB
of CSR over 16,384 or more columns, whose bytes cost about three times as much) and on Numba's
threads above (limit them with ``numba.set_num_threads``); its result is bitwise identical at
every thread count.
``loss_grad_loops`` is slide 014's double loop compiled as written, on one thread.
``loss_grad_hess`` adds the Hessian over θ = [w, b] in the same single pass (for Newton).

Every kernel is one pass of the pass engine (``_sums``: X pass × datafit, ``_passes``) and
returns raw weighted sums; ``fastlr._objective.normalise`` divides them by Σ sᵢ — one place for
every kernel and data backend — and the L2 terms are added after it (``fastlr._penalties``).
"""

from __future__ import annotations

import numpy as np

from .._objective import normalise
from .._penalties import l2_value_unguarded
from .._validation import (check_multinomial_problem, check_problem, check_real_array,
                           working_dtype)
from . import _sums
from ._loops import sigmoid_flat

__all__ = ["cost", "loss_grad", "loss_grad_hess", "loss_grad_loops", "multinomial_loss_grad",
           "multinomial_loss_grad_hess", "sigmoid"]

def sigmoid(z):
    """σ(z) = 1 / (1 + e^{−z}) elementwise (slide 017), stable for every finite z.

    Any shape or a scalar; float32 stays float32 (computed in float64, rounded once), other real
    dtypes give float64. Equal to ``scipy.special.expit`` to within a few ulps.
    """
    arr = check_real_array(z, "z")
    dtype = working_dtype(arr.dtype)
    flat = np.ascontiguousarray(arr, dtype=dtype).reshape(-1)
    out = np.empty(flat.shape[0], dtype=dtype)
    sigmoid_flat(flat, out)
    return out.reshape(arr.shape)[()] if arr.ndim == 0 else out.reshape(arr.shape)


def _penalised(parts, W, l2, rows=None):
    """The data term plus ½·l2·‖W‖² (its gradient, its Hessian's diagonal), as one problem.

    ``rows``: the same W as the objective holds it ((K, n), class by class), the order ‖W‖² is
    summed in, so that ``multinomial_loss_grad``, ``multinomial_loss_grad_hess`` and the fit's
    objective agree bit for bit (W itself by default)."""
    if l2 == 0.0:
        return parts
    # the L2 penalty's own arithmetic without building the object per call (its construction
    # and per-problem loop were ~half of the 24 us of fixed cost the engine added to a call:
    # fastlr bench --slides, loss_grad 10,000 x 100)
    with np.errstate(over="ignore"):  # ‖w‖² of a huge warm start: J = inf, warning-free
        J = parts[0] + l2_value_unguarded(np.float64(l2), W if rows is None else rows)
        grad_w = parts[1] + l2 * np.asarray(W)
    if len(parts) == 3:
        return J, grad_w, parts[2]
    H = parts[3]
    p = np.size(W)
    H[np.arange(p), np.arange(p)] += l2
    return J, grad_w, parts[2], H


def _binary(p):
    """The logistic datafit of a validated binary problem, and its coefficients as K = 1."""
    return _sums.logistic_fit(p.y, p.sample_weight), p.X, p.w[None, :], np.array([p.b])


def _in_dtype(p, values):
    """Results in X's working dtype: float scalars, arrays."""
    return tuple(p.dtype.type(v) if np.ndim(v) == 0 else np.asarray(v).astype(p.dtype, copy=False)
                 for v in values)


def cost(w, b, X, y, sample_weight=None, l2=0.0):
    """J(w, b) = Σ sᵢ·Lᵢ / Σ sᵢ + ½·l2·‖w‖² in one pass over X (no gradient work)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    J, _, _ = _penalised(normalise(_sums.gradient_sums(*_binary(p), with_grad=False),
                                   p.weight_sum), p.w, p.l2)
    return p.dtype.type(J)


def loss_grad(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db) from the fused kernel: one blocked, multi-threaded pass over X.

    Per block of rows that fits in L2: margins z = X_block·w + b, then Lᵢ and dzᵢ = sᵢ·(σ(zᵢ) − yᵢ)
    from one exp each, then dw += X_blockᵀ·dz while the block is still in cache. Per-task partial
    sums are added in a fixed order, so the result does not depend on the thread count. CSR X:
    one pass over the nonzeros.
    """
    p = check_problem(w, b, X, y, sample_weight, l2)
    sums = _sums.gradient_sums(*_binary(p), keep=False)  # divided at once: no copy first
    return _in_dtype(p, _penalised(normalise(sums, p.weight_sum), p.w, p.l2))


def loss_grad_loops(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db) by slide 014's explicit double loop, compiled as written (one thread, dense X)."""
    p = check_problem(w, b, X, y, sample_weight, l2)
    if not isinstance(p.X, np.ndarray):
        raise TypeError("loss_grad_loops takes dense X (slide 014's loop indexes X[i, j]); "
                        "use loss_grad for sparse X")
    return _in_dtype(p, _penalised(normalise(_sums.loops_sums(p.X, p.y, p.sample_weight, p.w, p.b),
                                             p.weight_sum), p.w, p.l2))


def loss_grad_hess(w, b, X, y, sample_weight=None, l2=0.0):
    """(J, dw, db, H): ``loss_grad`` plus the Hessian over θ = [w, b], in one pass over X.

    H = Σ sᵢ·σ(zᵢ)(1 − σ(zᵢ))·x̃ᵢx̃ᵢᵀ / Σ sᵢ + l2·diag(1, …, 1, 0), x̃ᵢ = [xᵢ, 1]; shape
    (n_features + 1, n_features + 1), symmetric. Memory O(n_features²) per task: meant for up to
    a few hundred features (Newton's method).
    """
    p = check_problem(w, b, X, y, sample_weight, l2)
    return _in_dtype(p, _penalised(normalise(_sums.gram_sums(*_binary(p)), p.weight_sum), p.w,
                                   p.l2))


def multinomial_loss_grad(W, b, X, y, sample_weight=None, l2=0.0):
    """(J, dW, db) of the multinomial (softmax) model from one fused pass over X for all classes.

    W has shape (n_features, K), b (K,), and y holds class indices in [0, K) (integers, or floats
    with integral values). With zᵢ = xᵢ·W + b and pᵢ = softmax(zᵢ):

        J  = Σ sᵢ·(logsumexp(zᵢ) − z_{i,yᵢ}) / Σ sᵢ + ½·l2·‖W‖²
        dW = Σ sᵢ·xᵢᵀ(pᵢ − e_{yᵢ}) / Σ sᵢ + l2·W,   db = Σ sᵢ·(pᵢ − e_{yᵢ}) / Σ sᵢ

    Stable for every finite margin (max-shifted, one exp per class and sample; a confident correct
    prediction keeps its tiny loss and gradient). Dense X in any memory order or CSR; float32 X
    gives float32 results; bitwise identical at every thread count. With K = 2 it is the binary
    ``loss_grad`` with w = W[:, 1] − W[:, 0], b = b[1] − b[0] (up to the penalty).
    """
    p = check_multinomial_problem(W, b, X, y, sample_weight, l2)
    fit = _sums.softmax_fit(p.y, p.sample_weight)
    W = p.W_public  # (n, K): the CSR pass's own layout, so no transpose on CSR X
    sums = _sums.gradient_sums(fit, p.X, W, p.b, feature_major=True, keep=False)
    # (the class-major copy of W for ‖W‖²'s summation order only where there is a penalty)
    J, dW, gb = _penalised(normalise(sums, p.weight_sum), W, p.l2,
                           rows=p.W if p.l2 != 0.0 else None)
    return _in_dtype(p, (J, dW.reshape(W.shape), gb))


def multinomial_loss_grad_hess(W, b, X, y, sample_weight=None, l2=0.0):
    """(J, dW, db, H): ``multinomial_loss_grad`` plus the Hessian, in one pass over X (for Newton).

    H is over θ = [W[:, 0], W[:, 1], …, W[:, K−1], b] (the coefficients class by class, then the
    intercepts), of shape (K·(n_features + 1),)·2: with x̃ᵢ = [xᵢ, 1] and Aᵢ = diag(pᵢ) − pᵢpᵢᵀ,
    H = Σ sᵢ·Aᵢ ⊗ x̃ᵢx̃ᵢᵀ / Σ sᵢ + l2 on the coefficients' diagonal. It is singular along
    θ = [0, …, 0, 1, …, 1] (adding one constant to every intercept changes no probability).
    Memory O(K²·n_features²) per task: for n_features·K up to a few hundred.
    """
    p = check_multinomial_problem(W, b, X, y, sample_weight, l2)
    fit = _sums.softmax_fit(p.y, p.sample_weight)
    J, G, gb, H = _penalised(normalise(_sums.gram_sums(fit, p.X, p.W, p.b), p.weight_sum), p.W,
                             p.l2)
    return _in_dtype(p, (J, G.T, gb, H))
