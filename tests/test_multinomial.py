"""The multinomial (softmax) kernels of the registry, dense and CSR, against independent answers:
the long-double closed form on curated cases, scikit-learn's multinomial loss through its linear
model layer, finite differences, the binary objective at K = 2, and pinned extreme margins; plus
NaN propagation, bitwise reproducibility and the input contract."""

from __future__ import annotations

import functools
import math

import numba
import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from conftest import as_input, kernel_params
from fastlr import kernels, reference
from fastlr.implementations import select
from helpers import MULTINOMIAL_CASES, assert_close, dense, expected

MULTINOMIAL = select("multinomial_loss_grad") + select("multinomial_loss_grad_hess")


def _run(kernel, case):
    d = case.data()
    return kernel.func(d.w, d.b, d.X, d.y, sample_weight=d.sample_weight, l2=d.l2)


@pytest.mark.parametrize("kernel, case", kernel_params(MULTINOMIAL, MULTINOMIAL_CASES))
def test_matches_closed_form(kernel, case):
    got = _run(kernel, case)
    want, scales = expected(case)
    assert got[1].shape == (case.n, case.classes) and got[2].shape == (case.classes,)
    assert got[1].dtype == case.dtype and np.asarray(got[0]).dtype == case.dtype
    assert_close(got, want, scales, case.dtype, what=f"{kernel.key} on {case.id}: ")
    if kernel.operation.endswith("hess") and case.classes * (case.n + 1) <= 200:
        H = _expected_hessian(case)
        tol = 1e-10 if case.dtype == np.float64 else 1e-4
        np.testing.assert_allclose(got[3], H, rtol=tol, atol=tol * np.abs(H).max())
        np.testing.assert_array_equal(got[3], got[3].T)


@functools.lru_cache(maxsize=None)
def _expected_hessian(case):
    d = case.data()
    return _kronecker_hessian(dense(d.X), d.y, d.w, d.b, d.sample_weight, d.l2)


def _kronecker_hessian(X, y, W, b, s, l2):
    """H = Σ sᵢ·(diag(pᵢ) − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ / Σ sᵢ + l2, over θ = [W[:, 0], …, W[:, K−1], b]:
    in long double, one weighted Gram matrix x̃ᵀ·diag(s∘A[:, k, l])·x̃ per pair of classes k ≤ l
    (a five-index einsum gave the same numbers 10-20x slower: 20,011 x 13, K = 7)."""
    m, n = X.shape
    K = W.shape[1]
    s = np.ones(m) if s is None else s
    Z = X.astype(np.longdouble) @ W + b
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    A = np.einsum("ik,kl->ikl", P, np.eye(K)) - np.einsum("ik,il->ikl", P, P)  # (m, K, K)
    Xt = np.hstack([X.astype(np.longdouble), np.ones((m, 1), dtype=np.longdouble)])
    sl = s.astype(np.longdouble)
    blocks = np.empty((K, n + 1, K, n + 1), dtype=np.longdouble)
    for k in range(K):
        for l in range(k, K):
            block = (Xt * (sl * A[:, k, l])[:, None]).T @ Xt
            blocks[k, :, l, :] = block
            blocks[l, :, k, :] = block.T
    blocks /= s.sum()
    full = blocks.reshape(K * (n + 1), K * (n + 1))  # θ as [class 0: (w_0, b_0), class 1: …]
    order = np.r_[[k * (n + 1) + j for k in range(K) for j in range(n)],
                  [k * (n + 1) + n for k in range(K)]]
    H = full[np.ix_(order, order)].astype(np.float64)
    H[np.arange(K * n), np.arange(K * n)] += l2
    return H


@pytest.mark.parametrize("kernel", MULTINOMIAL, ids=lambda k: k.key)
def test_matches_sklearn_multinomial_loss(kernel):
    """scikit-learn's HalfMultinomialLoss lifted by its LinearModelLoss: the same objective and
    gradient (its coef is (K, n + 1) with the intercept last; its loss is the weighted mean plus
    ½·l2·‖W‖²)."""
    from sklearn._loss.loss import HalfMultinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss

    rng = np.random.default_rng(21)
    m, n, K = 400, 6, 4
    X = rng.standard_normal((m, n))
    y = rng.integers(0, K, m)
    s = rng.uniform(0.1, 2.0, m)
    W, b, l2 = rng.standard_normal((n, K)), rng.standard_normal(K), 0.3
    lml = LinearModelLoss(base_loss=HalfMultinomialLoss(n_classes=K), fit_intercept=True)
    coef = np.hstack([W.T, b[:, None]])  # (K, n + 1)
    loss, grad = lml.loss_gradient(coef, X, y.astype(np.float64), s / s.sum() * m,
                                   l2_reg_strength=l2)
    J, dW, db, *_ = kernel.func(W, b, as_input(X, kernel), y, sample_weight=s, l2=l2)
    # LinearModelLoss: Σ s'ᵢ·Lᵢ / Σ s'ᵢ … with s' scaled to sum to m, the same weighted mean
    assert float(J) == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(np.asarray(dW), grad[:, :n].T, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.asarray(db), grad[:, n], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("kernel", MULTINOMIAL, ids=lambda k: k.key)
def test_gradient_matches_finite_differences(kernel):
    rng = np.random.default_rng(22)
    m, n, K = 200, 4, 3
    X = as_input(rng.standard_normal((m, n)), kernel)
    y = rng.integers(0, K, m)
    W, b = rng.standard_normal((n, K)), rng.standard_normal(K)

    def J(W_, b_):
        return float(kernel.func(W_, b_, X, y, l2=0.2)[0])

    _, dW, db, *_ = kernel.func(W, b, X, y, l2=0.2)
    eps = 1e-6
    for j in range(n):
        for k in range(K):
            step = np.zeros_like(W)
            step[j, k] = eps
            assert (J(W + step, b) - J(W - step, b)) / (2 * eps) == pytest.approx(dW[j, k],
                                                                                rel=1e-6, abs=1e-9)
    for k in range(K):
        step = np.zeros(K)
        step[k] = eps
        assert (J(W, b + step) - J(W, b - step)) / (2 * eps) == pytest.approx(db[k], rel=1e-6,
                                                                              abs=1e-9)


@pytest.mark.parametrize("kernel", MULTINOMIAL, ids=lambda k: k.key)
def test_two_classes_are_the_binary_model(kernel):
    """K = 2 with W = [0, w], b = [0, b₁]: J is the binary J at (w, b₁) and dW = [−dw, dw]."""
    binary = kernels.loss_grad
    rng = np.random.default_rng(23)
    X = rng.standard_normal((500, 5))
    y = (rng.random(500) < 0.4).astype(np.int64)
    w, b1 = rng.standard_normal(5), 0.3
    J2, dW, db, *_ = kernel.func(np.column_stack([np.zeros(5), w]), np.array([0.0, b1]),
                                 as_input(X, kernel), y)
    J, dw, dbb = binary(w, b1, X, y.astype(float))
    assert float(J2) == pytest.approx(float(J), rel=1e-13)
    np.testing.assert_allclose(dW[:, 1], dw, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(dW[:, 0], -dw, rtol=1e-12, atol=1e-16)
    np.testing.assert_allclose(db, [-dbb, dbb], rtol=1e-12, atol=1e-16)


EXTREME = [1e308, 1e20, 1000.0, 40.0, 1.0]


@pytest.mark.parametrize("z", EXTREME)
@pytest.mark.parametrize("kernel", MULTINOMIAL, ids=lambda k: k.key)
def test_extreme_margins_pinned(kernel, z):
    """X = [[z], [z]], W = [[1, −1, 0]]: margins (z, −z, 0) for both samples. The first is of
    class 0 (correct and confident: loss log(1 + e^{−z} + e^{−2z}) ≈ e^{−z}), the second of class 2
    (margin 0: loss z + the same log term). Finite and exact to an ulp up to z = 1e308."""
    X = as_input(np.array([[z], [z]]), kernel)
    W = np.array([[1.0, -1.0, 0.0]])
    J, dW, db, *_ = kernel.func(W, np.zeros(3), X, np.array([0, 2]))
    tail = math.log1p(math.exp(-z) + math.exp(-2 * z)) if z < 700 else 0.0
    assert np.isfinite(J) and np.all(np.isfinite(dW)) and np.all(np.isfinite(db))
    assert float(J) == pytest.approx((tail + z + tail) / 2, rel=1e-15)


@pytest.mark.parametrize("kernel", MULTINOMIAL, ids=lambda k: k.key)
def test_a_confident_correct_prediction_keeps_its_tiny_loss_and_gradient(kernel):
    """z = (40, −40, 0), class 0: L = log1p(e^{−40} + e^{−80}) = 4.2e-18 and p₀ − 1 = −4.2e-18,
    where log(Σ e^z) − z₀ and 1/S − 1 both round to 0."""
    X = as_input(np.array([[40.0]]), kernel)
    J, dW, db, *_ = kernel.func(np.array([[1.0, -1.0, 0.0]]), np.zeros(3), X, np.array([0]))
    S = 1 + math.exp(-40) + math.exp(-80)
    assert float(J) == pytest.approx(math.log1p(math.exp(-40) + math.exp(-80)), rel=1e-14)
    np.testing.assert_allclose(db, [-(math.exp(-40) + math.exp(-80)) / S, math.exp(-80) / S,
                                    math.exp(-40) / S], rtol=1e-14)
    np.testing.assert_allclose(dW[0], 40.0 * np.asarray(db), rtol=1e-14)


@pytest.mark.parametrize("where", ["X", "W"])
@pytest.mark.parametrize("kernel", MULTINOMIAL, ids=lambda k: k.key)
def test_nan_propagates(kernel, where):
    rng = np.random.default_rng(24)
    X = rng.standard_normal((50, 4))
    W = rng.standard_normal((4, 3))
    if where == "X":
        X[17, 2] = np.nan
    else:
        W[1, 0] = np.nan
    J, dW, db, *_ = kernel.func(W, np.zeros(3), as_input(X, kernel), rng.integers(0, 3, 50))
    assert np.isnan(J) and np.isnan(db).all() and np.isnan(dW).any()


# Every layout in float64, float32 in C order (as in test_numerics: the task layout is the same
# code for both dtypes, and each more pair compiles one more parallel driver, ~4-7 s here).
REPRO = [c for c in MULTINOMIAL_CASES if c.m == 20011
         and (np.dtype(c.dtype) == np.float64 or c.layout == "C")]


@pytest.mark.parametrize("kernel, case", kernel_params([k for k in MULTINOMIAL if k.parallel],
                                                      REPRO))
def test_bitwise_identical_across_thread_counts(kernel, case, numba_threads, monkeypatch):
    from fastlr import _jit
    from fastlr.kernels import _layout

    monkeypatch.setattr(_jit, "PARALLEL_MIN_BYTES", 0)
    numba.set_num_threads(1)
    one = [np.asarray(v).tobytes() for v in _run(kernel, case)]
    numba.set_num_threads(numba_threads)
    launches = []
    run_parallel = _layout.run_parallel
    monkeypatch.setattr(_layout, "run_parallel",
                        lambda *args: launches.append(args[-1]) or run_parallel(*args))
    assert [np.asarray(v).tobytes() for v in _run(kernel, case)] == one
    assert launches and min(launches) >= 2


BAD = [
    ("W-1d", dict(W=np.zeros(3)), ValueError, r"W must be 2-D of shape \(n_features=3"),
    ("W-rows", dict(W=np.zeros((4, 2))), ValueError, r"W must be 2-D"),
    ("b-length", dict(b=np.zeros(3)), ValueError, r"b must be 1-D of length n_classes=2"),
    ("label-out-of-range", dict(y=np.array([0, 1, 2, 0])), ValueError,
     r"class labels y must be integers in \[0, 2\)"),
    ("label-negative", dict(y=np.array([0, -1, 1, 0])), ValueError, r"in \[0, 2\)"),
    ("label-fractional", dict(y=np.array([0, 0.5, 1, 0])), ValueError, r"in \[0, 2\)"),
    ("label-nan", dict(y=np.array([0, np.nan, 1, 0])), ValueError, r"in \[0, 2\)"),
    ("label-str", dict(y=np.array(["a", "b", "a", "b"])), TypeError, r"y has non-numeric dtype"),
    ("X-complex", dict(X=np.ones((4, 3), complex)), TypeError, r"X has complex dtype"),
    ("weight-negative", dict(sample_weight=np.array([1.0, -1, 1, 1])), ValueError,
     r"sample_weight must be non-negative"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_bad_input_gets_the_same_clear_error_everywhere(bad):
    _, override, exc, match = bad
    args = dict(W=np.zeros((3, 2)), b=np.zeros(2), X=np.ones((4, 3)), y=np.array([0, 1, 1, 0]),
                sample_weight=None) | override
    messages = set()
    for kernel in MULTINOMIAL:
        if kernel.input != "dense":
            continue
        with pytest.raises(exc, match=match) as info:
            kernel.func(args["W"], args["b"], args["X"], args["y"],
                        sample_weight=args["sample_weight"])
        messages.add(str(info.value))
    assert len(messages) == 1


def test_float_labels_with_integral_values_are_accepted_and_inputs_untouched():
    rng = np.random.default_rng(25)
    X = rng.standard_normal((30, 3))
    W = rng.standard_normal((3, 3))
    y = rng.integers(0, 3, 30)
    before = [a.copy() for a in (X, W, y)]
    a = kernels.multinomial_loss_grad(W, np.zeros(3), X, y.astype(np.float32))
    b = kernels.multinomial_loss_grad(W, np.zeros(3), X, y)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    for old, new in zip(before, (X, W, y)):
        np.testing.assert_array_equal(old, new)
    r = reference.multinomial_loss_grad(W, np.zeros(3), X, y)
    Z = X @ W
    assert float(r[0]) == pytest.approx(np.mean(logsumexp(Z, axis=1) - Z[np.arange(30), y]))
    np.testing.assert_allclose(r[1], X.T @ (softmax(Z, axis=1) - np.eye(3)[y]) / 30, atol=1e-15)
    assert float(a[0]) == pytest.approx(float(r[0]), rel=1e-14)


@pytest.mark.parametrize("layout", ["C", "CSR"])
def test_class_averaged_preconditioner_in_one_pass(layout, monkeypatch):
    """Newton-CG's multinomial preconditioner from the one K = 1-style pass (forced on a small
    problem) is the class average of the reference Hessian's diagonal, plus the penalty's; the
    per-class path (below ``CLASS_MEAN_DIAGONAL_MIN``) gives the same to rounding."""
    import scipy.sparse as sp

    from fastlr import _objective
    from fastlr._data import ArrayData
    from fastlr._objective import Datafit, Objective
    from fastlr._penalties import L2

    rng = np.random.default_rng(11)
    m, n, K, lam = 500, 6, 4, 0.05
    base = rng.standard_normal((m, n)) * np.logspace(-1, 1, n)
    base[rng.random((m, n)) < 0.5] = 0.0
    X = sp.csr_matrix(base) if layout == "CSR" else base
    y = rng.integers(0, K, m)
    s = rng.uniform(0.5, 2.0, m)
    W, b = rng.standard_normal((K, n)) * 0.3, rng.standard_normal(K) * 0.2
    *_, H = reference.multinomial_loss_grad_hess(W.T, b, base, y, s)
    want = np.concatenate([np.tile(np.diag(H)[:K * n].reshape(K, n).mean(axis=0) + lam, K),
                           np.full(K, np.diag(H)[K * n:].mean())])
    got = {}
    for threshold in (0, 10**9):
        monkeypatch.setattr(_objective, "CLASS_MEAN_DIAGONAL_MIN", threshold)
        data = ArrayData(X, y, s)
        objective = Objective(data, Datafit("softmax", data.class_target(data.labels())),
                              L2(lam), model="multinomial", n_classes=K)
        objective.loss_grad_curvature(np.array([0]), np.concatenate([W.ravel(), b])[None])
        got[threshold] = objective.hessian_diagonal(np.array([0]))[0]
        np.testing.assert_allclose(got[threshold], want, rtol=1e-10)
    np.testing.assert_allclose(got[0], got[10**9], rtol=1e-14)


@pytest.mark.parametrize("threads", [1, 2])
def test_feature_major_copy_is_the_transpose(threads):
    """The two-phase pass's (n, K) copy of W, over several column chunks, on 1 and 2 threads,
    into a new array and into a buffer with old values: W.T exactly (NumPy's transpose)."""
    from fastlr.kernels import _softmax_csr

    rng = np.random.default_rng(3)
    W = rng.standard_normal((7, 3 * _softmax_csr.COPY_COLUMNS + 5))
    assert np.array_equal(_softmax_csr.feature_major_copy(W, threads), W.T)
    buf = rng.standard_normal(W.shape[::-1])
    out = _softmax_csr.feature_major_copy(W, threads, buf)
    assert out is buf and np.array_equal(buf, W.T)


@pytest.mark.parametrize("weighted, wide", [(False, False), (True, False), (False, True)])
def test_two_phase_csr_pass_is_the_generic_pass_bitwise(weighted, wide, monkeypatch):
    """The softmax passes on CSR X in two phases (rows, then X's CSC columns; forced on a small
    problem) give the generic pass's sums bit for bit — gradient, curvature, H·v, loss alone,
    both layouts of G, at 1 and 2 threads, several task layouts; with ``finish`` G / S + λ·V as
    NumPy computes it from those sums — and those match NumPy. ``wide``: a Zipf-like column
    density, so that a column task spans several of the column phase's tiles (and ends in a
    partial one)."""
    import scipy.sparse as sp

    from fastlr import _jit
    from fastlr.kernels import _softmax_csr, _sums

    rng = np.random.default_rng(5)
    m, n, K = (300, 5 * _softmax_csr.TILE_COLUMNS + 37, 3) if wide else (600, 40, 4)
    base = rng.standard_normal((m, n)) * np.logspace(-2, 1, n)
    # wide: a few dense columns and a tail of nearly empty ones (equal-nonzero column tasks, so
    # the tail falls in one or two tasks wider than several tiles)
    density = np.where(np.arange(n) < 8, 1.0, 1e-4) if wide else 0.2
    base[rng.random((m, n)) >= density] = 0.0
    if wide:
        tasks = _softmax_csr.column_tasks(sp.csc_matrix(base).indptr, _softmax_csr.MAX_COLUMN_TASKS)
        assert tasks.shape[0] > 3 and np.max(np.diff(tasks)) > 2 * _softmax_csr.TILE_COLUMNS
    X = sp.csr_matrix(base)
    y = rng.integers(0, K, m)
    s = rng.uniform(0.5, 2.0, m) if weighted else None
    W, b = rng.standard_normal((K, n)) * 0.3, rng.standard_normal(K) * 0.2
    V, vb = rng.standard_normal((K, n)), rng.standard_normal(K)
    fit = _sums.softmax_fit(y, s)
    T = _sums.transposed(X)
    monkeypatch.setattr(_sums, "SOFTMAX_CSR_MIN", 0)
    for threads in (1, 2):
        monkeypatch.setattr(_jit, "PARALLEL_MIN_BYTES", 0 if threads == 2 else 1e30)
        c_old, c_new = np.empty((K, m)), np.empty((K, m))
        old = _sums.gradient_sums(fit, X, W, b, curvature=c_old)
        new = _sums.gradient_sums(fit, X, W, b, curvature=c_new, transposed=T)
        assert old.loss == new.loss
        for a, c in ((old.grad_w, new.grad_w), (old.grad_b, new.grad_b), (c_old, c_new)):
            assert np.array_equal(a, c)
        Wt = np.ascontiguousarray(W.T)
        fm = _sums.gradient_sums(fit, X, Wt, b, feature_major=True, transposed=T)
        assert np.array_equal(fm.grad_w, old.grad_w.T)
        assert (_sums.gradient_sums(fit, X, W, b, with_grad=False, transposed=T).loss
                == old.loss)
        hv_old = _sums.hessp_sums(fit, X, V, vb, c_old)
        hv_new = _sums.hessp_sums(fit, X, V, vb, c_old, T)
        assert np.array_equal(hv_old[0], hv_new[0]) and np.array_equal(hv_old[1], hv_new[1])
        S, lam = 7.0, 0.3
        out = np.empty((K, n))
        _sums.hessp_sums(fit, X, V, vb, c_old, T, finish=(S, lam, out))
        assert np.array_equal(out, hv_old[0] / S + lam * V)
        out = np.empty((K, n))
        _sums.gradient_sums(fit, X, W, b, transposed=T, finish=(S, lam, out))
        assert np.array_equal(out, old.grad_w / S + lam * W)
    sw = np.ones(m) if s is None else s
    Z = base @ W.T + b
    P = softmax(Z, axis=1)
    dZ = sw[:, None] * (P - np.eye(K)[y])
    assert new.loss == pytest.approx(float(sw @ (logsumexp(Z, axis=1) - Z[np.arange(m), y])),
                                     rel=1e-12)
    np.testing.assert_allclose(new.grad_w, dZ.T @ base, rtol=1e-10, atol=1e-12)
    U = base @ V.T + vb
    HU = sw[:, None] * P * (U - np.sum(P * U, axis=1, keepdims=True))
    np.testing.assert_allclose(hv_new[0], HU.T @ base, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hv_new[1], HU.sum(axis=0), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_gradient_returned_outlives_the_next_call(sparse):
    """``multinomial_loss_grad`` divides the pass's sums straight out of its reused workspace: a
    gradient returned earlier stays as it was through a later call, equals a fresh call's and
    NumPy's softmax gradient."""
    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    Xd = rng.standard_normal((300, 40))
    Xd[rng.random(Xd.shape) < 0.7] = 0.0
    X = sp.csr_matrix(Xd) if sparse else Xd
    y = rng.integers(0, 4, 300)
    W1, W2 = rng.standard_normal((40, 4)), rng.standard_normal((40, 4))
    first = kernels.multinomial_loss_grad(W1, np.zeros(4), X, y)[1]
    kept = first.copy()
    kernels.multinomial_loss_grad(W2, np.ones(4), X, y)
    np.testing.assert_array_equal(first, kept)
    np.testing.assert_array_equal(first, kernels.multinomial_loss_grad(W1, np.zeros(4), X, y)[1])
    P = softmax(Xd @ W1, axis=1)
    np.testing.assert_allclose(first, Xd.T @ (P - np.eye(4)[y]) / 300, rtol=1e-12, atol=1e-15)
