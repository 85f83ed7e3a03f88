"""The pass engine (``fastlr.kernels._sums``): each datafit × layout against NumPy.

The public kernels (test_kernels, test_numerics) cover the logistic and softmax gradient passes
and their Hessians. Here: the batched logistic datafit (K binary problems sharing X, per-problem
labels, weights and row masks), and the Hessian-free pieces of Newton-CG — the curvature a
gradient pass keeps, the one-pass H·v and the Hessian's diagonal — for all three datafits, each
against an independent NumPy computation on the dense values.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_expit, logsumexp, softmax

from helpers import arrange

LAYOUTS = ["C", "F", "C[::2]", "CSR", "CSR-dup"]


def _problem(seed=41, m=3001, n=17):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((m, n))
    base[rng.random(base.shape) < 0.6] = 0.0
    return rng, base


def _logistic_numpy(base, y, s, w, b):
    """(Σ s·L, Σ s·dz·x, Σ s·dz, h = s·σ(1−σ)) of one binary problem."""
    z = base @ w + b
    loss = -(y * log_expit(z) + (1 - y) * log_expit(-z))
    dz = s * (expit(z) - y)
    return np.sum(s * loss), base.T @ dz, dz.sum(), s * expit(z) * expit(-z)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_batched_logistic_is_each_problem_alone(layout):
    """Problem k sees label labels[k, g] and weight s·factors[k, g] for a sample of group g: a
    fold left out is weight 0. Every problem's sums equal its own NumPy computation."""
    from fastlr.kernels import _sums

    rng, base = _problem()
    m, n = base.shape
    X = arrange(base, layout)
    classes = rng.integers(0, 3, m)
    folds = rng.integers(0, 2, m)
    groups = classes + 3 * folds  # 6 groups
    # problems: one-vs-rest for each class on fold 1 only, and class 2 vs rest on both folds
    labels = np.array([[1.0 * (g % 3 == c) for g in range(6)] for c in (0, 1, 2, 2)])
    factors = np.array([[0, 0, 0, 1, 1, 1]] * 3 + [[1] * 6], dtype=float) * 0.5
    s = rng.uniform(0.1, 2.0, m)
    W = rng.standard_normal((4, n)) * 0.4
    b = rng.standard_normal(4) * 0.3
    fit = _sums.batched_fit(groups.astype(np.int64), labels, factors, s)
    curvature = np.empty((4, m))
    sums = _sums.gradient_sums(fit, X, W, b, curvature=curvature)
    for k in range(4):
        weight = s * factors[k, groups]
        loss, gw, gb, h = _logistic_numpy(base, labels[k, groups], weight, W[k], b[k])
        assert sums.loss[k] == pytest.approx(loss, rel=1e-12)
        np.testing.assert_allclose(sums.grad_w[k], gw, rtol=1e-11, atol=1e-12)
        assert sums.grad_b[k] == pytest.approx(gb, rel=1e-11, abs=1e-12)
        np.testing.assert_allclose(curvature[k], h, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("layout", ["C", "C[::2]", "C[:,::3]"])
@pytest.mark.parametrize("n", [1, 6, 17])
def test_k_function_row_pass_at_every_number_of_functions(layout, n):
    """The C-order pass over K functions (``_vector_rows``: sweeps of up to 12 functions in
    vectors of 4, 2 and 1, four rows at a time, the block's last rows alone) at every K that
    takes a different path — 1 to 13, and several sweeps — with m not a multiple of four and n
    odd and even: each problem's loss, gradient, curvature, H·v and Hessian diagonal against
    NumPy."""
    from fastlr.kernels import _sums

    rng = np.random.default_rng(n)
    m = 1003
    base = rng.standard_normal((m, n))
    X = arrange(base, layout)
    for K in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16, 25]:
        groups = rng.integers(0, 2, m)
        labels = (rng.random((K, 2)) < 0.5).astype(float)
        factors = rng.uniform(0.5, 1.5, (K, 2))
        W = rng.standard_normal((K, n)) * 0.4
        b = rng.standard_normal(K) * 0.3
        fit = _sums.batched_fit(groups.astype(np.int64), labels, factors)
        h = np.empty((K, m))
        sums = _sums.gradient_sums(fit, X, W, b, curvature=h)
        V, vb = rng.standard_normal((K, n)), rng.standard_normal(K)
        hv, hb = _sums.hessp_sums(fit, X, V, vb, h)
        d, db = _sums.diagonal_sums(X, h)
        for k in range(K):
            loss, gw, gb, hk = _logistic_numpy(base, labels[k, groups], factors[k, groups],
                                               W[k], b[k])
            assert sums.loss[k] == pytest.approx(loss, rel=1e-12), (K, k)
            np.testing.assert_allclose(sums.grad_w[k], gw, rtol=1e-11, atol=1e-12)
            assert sums.grad_b[k] == pytest.approx(gb, rel=1e-11, abs=1e-12)
            np.testing.assert_allclose(h[k], hk, rtol=1e-13, atol=1e-300)
            u = hk * (base @ V[k] + vb[k])
            np.testing.assert_allclose(hv[k], base.T @ u, rtol=1e-11, atol=1e-11)
            assert hb[k] == pytest.approx(u.sum(), rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(d[k], (base ** 2).T @ hk, rtol=1e-12)
            assert db[k] == pytest.approx(hk.sum(), rel=1e-12)


@pytest.mark.parametrize("K", [3, 10])
def test_k_function_row_margins_do_not_depend_on_where_the_block_ends(K):
    """A row's margins are summed in one order whether it falls in a sweep of four rows or
    among a block's last rows: the curvature (a function of the margins alone) of rows 0 … m − 1
    is bitwise the same from X[:m] for several m."""
    from fastlr.kernels import _sums

    rng = np.random.default_rng(K)
    base = rng.standard_normal((1008, 9))
    W, b = rng.standard_normal((K, 9)), rng.standard_normal(K)
    labels, factors = np.ones((K, 1)), np.ones((K, 1))
    curvatures = []
    for m in (1008, 1007, 1006, 1005, 1004, 1003):  # rows 1000-1003: a sweep, then last rows
        fit = _sums.batched_fit(np.zeros(m, dtype=np.int64), labels, factors)
        h = np.empty((K, m))
        _sums.gradient_sums(fit, base[:m], W, b, curvature=h)
        curvatures.append(h)
    for h in curvatures[1:]:
        np.testing.assert_array_equal(h, curvatures[0][:, :h.shape[1]])


@pytest.mark.parametrize("K", [2, 3, 7, 13])
def test_k_function_row_pass_widens_float32(K):
    """float32 X: each value is widened to float64 as it is loaded, so the softmax sums are
    those of the float64 copy of X to rounding (W, Z and G are float64 throughout)."""
    from fastlr.kernels import _sums

    rng = np.random.default_rng(K)
    m, n = 1001, 9
    X = rng.standard_normal((m, n)).astype(np.float32)
    y = rng.integers(0, K, m)
    W, b = rng.standard_normal((K, n)) * 0.3, rng.standard_normal(K) * 0.1
    fit = _sums.softmax_fit(y.astype(np.int64))
    got = _sums.gradient_sums(fit, X, W, b)
    P = softmax(X.astype(np.float64) @ W.T + b, axis=1)
    loss = np.sum(logsumexp(X.astype(np.float64) @ W.T + b, axis=1)
                  - (X.astype(np.float64) @ W.T + b)[np.arange(m), y])
    D = P - np.eye(K)[y]
    assert got.loss == pytest.approx(loss, rel=1e-12)
    np.testing.assert_allclose(got.grad_w, D.T @ X.astype(np.float64), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(got.grad_b, D.sum(0), rtol=1e-11, atol=1e-11)


def test_batched_logistic_of_one_problem_is_the_logistic_datafit():
    from fastlr.kernels import _sums

    rng, base = _problem(n=9)
    y = (rng.random(base.shape[0]) < 0.5).astype(float)
    w, b = rng.standard_normal(9), 0.1
    one = _sums.gradient_sums(_sums.logistic_fit(y), base, w[None], [b])
    groups = y.astype(np.int64)
    batch = _sums.gradient_sums(_sums.batched_fit(groups, np.array([[0.0, 1.0]]),
                                                  np.ones((1, 2))), base, w[None], [b])
    assert batch.loss[0] == pytest.approx(one.loss, rel=1e-13)
    np.testing.assert_allclose(batch.grad_w[0], one.grad_w, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_hessian_free_pieces_of_the_logistic_datafits(layout):
    """Curvature, H·v (K directions) and the diagonal, exact against NumPy (the diagonal is the
    sum of squares for duplicate CSR entries: an approximation, documented)."""
    from fastlr.kernels import _sums

    rng, base = _problem()
    m, n = base.shape
    X = arrange(base, layout)
    y = (rng.random(m) < 0.5).astype(float)
    s = rng.uniform(0.1, 2.0, m)
    w, b = rng.standard_normal(n) * 0.5, 0.2
    fit = _sums.logistic_fit(y, s)
    curvature = np.empty((1, m))
    _sums.gradient_sums(fit, X, w[None], [b], curvature=curvature)
    h = _logistic_numpy(base, y, s, w, b)[3]
    np.testing.assert_allclose(curvature[0], h, rtol=1e-13)
    v, vb = rng.standard_normal(n), -0.4
    hv, hb = _sums.hessp_sums(fit, X, v[None], [vb], curvature)
    u = h * (base @ v + vb)
    np.testing.assert_allclose(hv[0], base.T @ u, rtol=1e-11, atol=1e-11)
    assert hb[0] == pytest.approx(u.sum(), rel=1e-12)
    d, db = _sums.diagonal_sums(X, curvature)
    if layout != "CSR-dup":
        np.testing.assert_allclose(d[0], (base ** 2).T @ h, rtol=1e-12)
    assert np.all(d >= 0) and db[0] == pytest.approx(h.sum(), rel=1e-12)


@pytest.mark.parametrize("layout", ["C", "F", "CSR"])
def test_softmax_hessp_is_the_hessian_times_v(layout):
    """H·v of the softmax datafit (one pass, from the kept probabilities) against the full
    Hessian of the NumPy reference times v."""
    from fastlr import reference
    from fastlr.kernels import _sums

    rng, base = _problem(m=1201, n=7)
    m, n, K = *base.shape, 4
    X = arrange(base, layout)
    y = rng.integers(0, K, m)
    s = rng.uniform(0.1, 2.0, m)
    W, b = rng.standard_normal((K, n)) * 0.5, rng.standard_normal(K) * 0.2
    fit = _sums.softmax_fit(y.astype(np.int64), s)
    P = np.empty((K, m))
    _sums.gradient_sums(fit, X, W, b, curvature=P)
    np.testing.assert_allclose(P.T, softmax(base @ W.T + b, axis=1), rtol=1e-13)
    V, vb = rng.standard_normal((K, n)), rng.standard_normal(K)
    hv, hb = _sums.hessp_sums(fit, X, V, vb, P)
    # the reference Hessian is over θ = [W[:, 0], …, W[:, K−1], b] of the (n, K) layout, mean-scaled
    *_, H = reference.multinomial_loss_grad_hess(W.T, b, base, y, s)
    theta = np.concatenate([V.ravel(), vb])
    want = H @ theta * s.sum()
    np.testing.assert_allclose(hv.ravel(), want[:K * n], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(hb, want[K * n:], rtol=1e-10, atol=1e-10)
    # the diagonal from the kept probabilities: Σ s·p(1 − p)·x²
    from fastlr._data import _diagonal_weights

    d, db = _sums.diagonal_sums(X, _diagonal_weights("softmax", P, s))
    np.testing.assert_allclose(np.concatenate([d.ravel(), db]), np.diag(H) * s.sum(),
                               rtol=1e-10)


@pytest.mark.parametrize("layout", ["C", "F", "CSR"])
def test_batched_gram_gives_each_problem_its_hessian(layout):
    from fastlr.kernels import _sums

    rng, base = _problem(m=801, n=6)
    m, n = base.shape
    X = arrange(base, layout)
    groups = rng.integers(0, 3, m).astype(np.int64)
    labels = np.eye(3)
    factors = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 1.0], [1.0, 1.0, 0.0]])
    W, b = rng.standard_normal((3, n)) * 0.5, rng.standard_normal(3)
    sums = _sums.gram_sums(_sums.batched_fit(groups, labels, factors), X, W, b)
    Xt = np.hstack([base, np.ones((m, 1))])
    for k in range(3):
        weight = factors[k, groups]
        h = _logistic_numpy(base, labels[k, groups], weight, W[k], b[k])[3]
        np.testing.assert_allclose(sums.hess[k], (Xt.T * h) @ Xt, rtol=1e-11, atol=1e-12)


def test_repeated_passes_are_bitwise_identical_wherever_the_arrays_lie():
    """A reduction loop that also stores gets a run-time alias check whose scalar fall-back adds
    in another order: the old H·v kernel's intercept term differed in its last bit between two
    identical calls in one process. Every pass, called again and again with fresh copies of its
    inputs (new addresses), must give the same bits."""
    from fastlr.kernels import _sums

    rng, base = _problem(m=3000, n=130)
    X = np.asfortranarray(base)
    y = (rng.random(3000) < 0.4).astype(float)
    s = rng.uniform(0.0, 2.0, 3000)
    w, v = rng.standard_normal(130) * 0.3, rng.standard_normal(131)
    seen = set()
    keep = []
    for trial in range(12):
        keep.append(np.empty(rng.integers(1, 40_000)))  # move the allocator along
        fit = _sums.logistic_fit(y.copy(), s.copy())
        curvature = np.empty((1, 3000))
        g = _sums.gradient_sums(fit, X, w.copy()[None], [0.1], curvature=curvature)
        hv, hb = _sums.hessp_sums(fit, X, v[None, :130].copy(), v[130:].copy(), curvature)
        d, db = _sums.diagonal_sums(X, curvature.copy())
        seen.add(b"".join(np.asarray(a, dtype=np.float64).tobytes()
                          for a in (g.loss, g.grad_w, g.grad_b, hv, hb, d, db)))
    assert len(seen) == 1


def test_passes_reject_nothing_silently_on_empty_weights():
    """Unit weights (s empty) and all-ones weights give the same sums."""
    from fastlr.kernels import _sums

    rng, base = _problem(m=500, n=5)
    y = rng.integers(0, 3, 500).astype(np.int64)
    W, b = rng.standard_normal((3, 5)), np.zeros(3)
    a = _sums.gradient_sums(_sums.softmax_fit(y), base, W, b)
    c = _sums.gradient_sums(_sums.softmax_fit(y, np.ones(500)), base, W, b)
    assert a.loss == pytest.approx(c.loss, rel=1e-14)
    np.testing.assert_allclose(a.grad_w, c.grad_w, rtol=1e-13)
    assert logsumexp(base @ W.T, axis=1).sum() - (base @ W.T)[np.arange(500), y].sum() == \
        pytest.approx(a.loss, rel=1e-12)


@pytest.mark.parametrize("chunk", [256, None])
def test_batched_csr_pass_is_bitwise_the_generic_csr_pass(monkeypatch, chunk):
    """The batched CSR pass (``_batched_csr``: all problems' margins of a chunk, then the
    pointwise blocks, then the scatter, problem by problem) against the generic ``csr_k`` pass
    on the same batch: losses, gradients, curvature and H·v bitwise equal — with held-out rows
    (factor 0, skipped there), sample weights, tasks of rows not a multiple of the block and,
    at ``chunk`` 256, several chunks per task. Both against NumPy:
    test_batched_logistic_is_each_problem_alone."""
    from fastlr.kernels import _batched_csr, _sums

    rng, base = _problem(seed=7, m=3001, n=29)
    m, n = base.shape
    X = sp.csr_matrix(base)
    folds = rng.integers(0, 3, m)
    y = rng.integers(0, 2, m)
    groups = (2 * folds + y).astype(np.int64)
    # 3 fold models (fold f held out: factor 0) at two Cs: 6 problems
    labels = np.array([[g % 2 for g in range(6)]] * 6, dtype=float)
    factors = np.array([[float(g // 2 != f) for g in range(6)] for f in (0, 1, 2)] * 2)
    s = rng.uniform(0.1, 2.0, m)
    fit = _sums.batched_fit(groups, labels, factors, s)
    W, b = rng.standard_normal((6, n)) * 0.5, rng.standard_normal(6) * 0.3
    V, vb = rng.standard_normal((6, n)), rng.standard_normal(6)
    if chunk is not None:
        monkeypatch.setattr(_batched_csr, "CHUNK_ROWS", chunk)
    out = {}
    for batched in (True, False):
        monkeypatch.setattr(_sums, "BATCHED_CSR", batched)
        curvature = np.empty((6, m))
        sums = _sums.gradient_sums(fit, X, W, b, curvature=curvature)
        loss_only = _sums.gradient_sums(fit, X, W, b, with_grad=False)
        hv, hb = _sums.hessp_sums(fit, X, V, vb, curvature)
        out[batched] = (sums.loss, sums.grad_w, sums.grad_b, curvature, loss_only.loss, hv, hb)
    for name, ours, generic in zip(("loss", "grad_w", "grad_b", "curvature", "loss only", "hv",
                                    "hb"), out[True], out[False]):
        assert np.array_equal(ours, generic), name
    assert np.all(out[True][1][:, :] != 0)  # every problem has a gradient (no empty problem)


def test_batched_csr_pass_reads_x_once_per_evaluation(monkeypatch):
    """One evaluation of a batch on CSR X is one run of the batched CSR kernel, whatever the
    number of problems (counted, not timed)."""
    from fastlr.kernels import _batched_csr, _layout, _sums

    rng, base = _problem(seed=3, m=1500, n=29)
    X = sp.csr_matrix(base)
    groups = rng.integers(0, 6, base.shape[0]).astype(np.int64)
    runs = []
    real = _layout.run_tasks

    def counting(kernel, *args):
        runs.append(kernel)
        return real(kernel, *args)

    monkeypatch.setattr(_layout, "run_tasks", counting)
    for K in (1, 5, 20):
        runs.clear()
        fit = _sums.batched_fit(groups, np.ones((K, 6)), np.ones((K, 6)))
        _sums.gradient_sums(fit, X, np.zeros((K, 29)), np.zeros(K))
        assert runs == [_batched_csr.compiled("pointwise")]
