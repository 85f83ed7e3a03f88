"""L1 and elastic-net penalties: closed forms, the optimum's KKT conditions (checked with NumPy),
agreement with scikit-learn's saga and liblinear optima, warm starts, Dask, the parameter
surface (penalty= mapping, solver names, solver_)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp

from fastlr import LogisticRegression
from fastlr._penalties import L1, ElasticNet, from_sklearn

sklearn_lm = pytest.importorskip("sklearn.linear_model")


# ----------------------------------------------------------------------------- data and helpers
def _data(n=200, d=10, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    W = np.zeros((classes, d))
    W[:, :4] = rng.standard_normal((classes, 4)) * 1.5
    Z = X @ W.T + 0.5 * rng.standard_normal((n, classes))
    y = (Z[:, 0] > 0).astype(int) if classes == 2 else np.argmax(Z, axis=1)
    return X, y


BINARY = _data()
MULTI = _data(classes=3, seed=1)
WEIGHTS = np.random.default_rng(2).uniform(0.2, 3.0, BINARY[0].shape[0])
#: the multinomial L1 solvers by layout (scikit-learn's saga fits what they fit)
MULTINOMIAL_SOLVER = {False: "owlqn", True: "prox-newton-softmax"}


def objective(coef, intercept, X, y, C, l1_ratio, sample_weight=None, model="binary",
              intercept_scaling=None):
    """scikit-learn's objective C·Σ sᵢLᵢ + l1_ratio·‖W‖₁ + ½(1 − l1_ratio)‖W‖² in NumPy (one-vs-rest:
    the sum of the classes' binary objectives; liblinear: the intercept penalised as w_b with
    b = w_b·intercept_scaling)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    Z = X @ coef.T + intercept
    if model == "multinomial":
        loss = np.sum(s * (logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))
    else:
        Y = (y[:, None] == np.unique(y)[1:]) if model == "binary" else \
            (y[:, None] == np.unique(y)[None, :])
        loss = np.sum(s[:, None] * (np.logaddexp(0, Z) - Y * Z))
    penalised = coef if intercept_scaling is None else np.column_stack(
        [coef, intercept / intercept_scaling])
    return C * loss + l1_ratio * np.abs(penalised).sum() + 0.5 * (1 - l1_ratio) * np.sum(
        penalised**2)


def _sklearn(**params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sklearn_lm.LogisticRegression(**params)


def _fit_quietly(model, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return model.fit(X, y, **kw)


# ----------------------------------------------------------------------------- penalties
def test_l1_value_prox_subdifferential_closed_forms():
    W = np.array([[1.5, -0.2, 0.0, 0.05], [-3.0, 0.0, 0.3, 0.0]])
    G = np.array([[0.1, -0.4, 0.25, 2.0], [0.5, -0.1, -0.2, 0.7]])
    pen = L1([0.3, 0.5])
    np.testing.assert_allclose(pen.value(W, [0, 1]), [0.3 * 1.75, 0.5 * 3.3])
    step = np.array([1.0, 0.5])
    t = (step * pen.strength)[:, None]
    expected = np.where(np.abs(W) > t, W - t * np.sign(W), 0.0)
    np.testing.assert_allclose(pen.prox(W, step, [0, 1]), expected)
    a = pen.strength[:, None]
    dist = np.where(W != 0, np.abs(G + a * np.sign(W)), np.maximum(np.abs(G) - a, 0))
    np.testing.assert_allclose(pen.subdifferential_distance(W, G, [0, 1]), dist)
    np.testing.assert_allclose(np.abs(pen.minimal_subgradient(W, G, [0, 1])), dist)
    # the prox is the minimiser of ½(u − w)² + t·α|u|: no grid point does better
    grid = np.linspace(-4, 4, 80001)
    for k in range(2):
        for j in range(4):
            best = grid[np.argmin(0.5 * (grid - W[k, j])**2 + t[k, 0] * np.abs(grid))]
            assert abs(best - pen.prox(W, step, [0, 1])[k, j]) <= 2e-4


def test_elastic_net_prox_split_and_lambda_max():
    W = np.array([[1.5, -0.2, 0.0, -0.9]])
    pen = ElasticNet([0.4], l1_ratio=0.25)
    a1, a2 = 0.4 * 0.25, 0.4 * 0.75
    np.testing.assert_allclose(pen.value(W, [0]), a1 * 2.6 + 0.5 * a2 * np.sum(W**2))
    t = 0.7
    closed = np.sign(W) * np.maximum(np.abs(W) - t * a1, 0) / (1 + t * a2)
    np.testing.assert_allclose(pen.prox(W, np.array([t]), [0]), closed)
    smooth, prox = pen.split()
    np.testing.assert_allclose(smooth.strength, [a2])
    np.testing.assert_allclose(prox.strength, [a1])
    G0 = np.array([[0.2, -0.6, 0.1, 0.3]])
    assert pen.lambda_max(G0) == pytest.approx(0.6 / 0.25)
    assert isinstance(from_sklearn(2.0, 10.0, l1_ratio=1.0), L1)


def test_lambda_max_is_where_the_model_becomes_zero():
    X, y = BINARY
    C_min = 1.0 / np.max(np.abs(X.T @ (y - y.mean())))  # scikit-learn's l1_min_c for this loss
    zero = LogisticRegression(C=0.99 * C_min, l1_ratio=1.0, solver="saga").fit(X, y)
    assert not np.any(zero.coef_)
    some = LogisticRegression(C=1.2 * C_min, l1_ratio=1.0, solver="saga").fit(X, y)
    assert np.count_nonzero(some.coef_) >= 1


# ----------------------------------------------------------------------------- KKT conditions
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_fitted_optimum_satisfies_the_kkt_conditions(l1_ratio):
    """|∇ⱼ| ≤ λ where wⱼ = 0, ∇ⱼ = −λ·sign(wⱼ) where wⱼ ≠ 0, ∇_b = 0 — ∇ the gradient of the
    smooth part C·ΣLᵢ + ½(1 − ρ)‖w‖², λ = ρ, computed here with NumPy."""
    X, y = BINARY
    C = 0.05
    model = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-10,
                               max_iter=1000).fit(X, y)
    w, b = model.coef_[0], model.intercept_[0]
    grad = C * X.T @ (expit(X @ w + b) - y) + (1 - l1_ratio) * w
    zero = w == 0
    assert zero.any() and (~zero).any()
    scale = C * X.shape[0]  # the mean-scaled tol 1e-10 times C·Σsᵢ
    assert np.all(np.abs(grad[zero]) <= l1_ratio + 1e-8 * scale)
    np.testing.assert_allclose(grad[~zero], -l1_ratio * np.sign(w[~zero]), atol=1e-8 * scale)
    assert abs(C * np.sum(expit(X @ w + b) - y)) <= 1e-8 * scale


# ----------------------------------------------------------------------------- vs scikit-learn
CASES = {
    "binary-l1-saga": dict(data=BINARY, params=dict(l1_ratio=1.0, solver="saga")),
    "binary-l1-liblinear": dict(data=BINARY, params=dict(l1_ratio=1.0, solver="liblinear")),
    "binary-l2-liblinear": dict(data=BINARY, params=dict(l1_ratio=0.0, solver="liblinear")),
    "binary-enet": dict(data=BINARY, params=dict(l1_ratio=0.5, solver="saga")),
    "multinomial-l1": dict(data=MULTI, params=dict(l1_ratio=1.0, solver="saga")),
    "multinomial-enet": dict(data=MULTI, params=dict(l1_ratio=0.3, solver="saga")),
    "binary-l1-csr": dict(data=BINARY, params=dict(l1_ratio=1.0, solver="saga"), csr=True),
    "multinomial-l1-csr": dict(data=MULTI, params=dict(l1_ratio=1.0, solver="saga"), csr=True),
    "multinomial-enet-csr-weights": dict(data=MULTI, params=dict(l1_ratio=0.5, solver="saga"),
                                         csr=True, weights=True),
    "binary-l1-float32": dict(data=BINARY, params=dict(l1_ratio=1.0, solver="saga"),
                              dtype=np.float32),
    "binary-l1-weights": dict(data=BINARY, params=dict(l1_ratio=1.0, solver="saga"),
                              weights=True),
    "binary-l1-class-weight": dict(data=BINARY, params=dict(l1_ratio=1.0, solver="saga",
                                                            class_weight={0: 2.0, 1: 0.5})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_objective_matches_sklearn_optimum(case):
    spec = CASES[case]
    X, y = spec["data"]
    X = X.astype(spec.get("dtype", np.float64))
    Xf = sp.csr_matrix(X) if spec.get("csr") else X
    sw = WEIGHTS if spec.get("weights") else None
    C = 0.1
    params = spec["params"]
    ours = LogisticRegression(C=C, tol=1e-10, max_iter=5000, **params).fit(Xf, y,
                                                                           sample_weight=sw)
    ref = _sklearn(C=C, tol=1e-12 if params["solver"] == "saga" else 1e-10, max_iter=200000,
                   **params).fit(X.astype(np.float64), y, sample_weight=sw)
    assert ours.coef_.dtype == X.dtype
    model = "multinomial" if len(np.unique(y)) > 2 else "binary"
    s = sw
    if params.get("class_weight"):
        s = np.vectorize(params["class_weight"].get)(y).astype(float)
    scaling = 1.0 if params["solver"] == "liblinear" else None
    f_ours = objective(ours.coef_, ours.intercept_, X, y, C, params["l1_ratio"], s, model,
                       scaling)
    f_ref = objective(ref.coef_, ref.intercept_, X, y, C, params["l1_ratio"], s, model, scaling)
    rel = 1e-5 if X.dtype == np.float32 else 1e-6  # float32: X·w rounded by scikit-learn's fit
    assert f_ours <= f_ref * (1 + rel), (f_ours, f_ref)
    assert f_ref <= f_ours * (1 + rel) or X.dtype == np.float32
    expected = MULTINOMIAL_SOLVER[bool(spec.get("csr"))] if model == "multinomial" else \
        "prox-newton"
    if params["l1_ratio"] == 0:
        expected = "lbfgs"
    assert ours.solver_ == expected
    if model == "multinomial":  # the same sparsity pattern (saga's prox zeros are exact)
        np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
        assert 0 < np.count_nonzero(ours.coef_) < ours.coef_.size


@pytest.mark.parametrize("solver", ["prox-newton-kron", "fista"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_unrouted_multinomial_l1_solvers_match_sklearn_saga(monkeypatch, l1_ratio, solver):
    """The dense multinomial L1 solvers measured slower than OWL-QN and kept: proximal Newton on
    the full softmax Hessian (``prox-newton-kron``, per-feature K × K blocks) and FISTA, with
    intercepts and sample weights: each optimum's objective equals scikit-learn's saga (tol
    1e-12) to 1e-6 relative, with the same sparsity pattern."""
    from fastlr import _fit

    monkeypatch.setattr(_fit, "DENSE_MULTINOMIAL_L1", solver)
    X, y = MULTI
    sw = np.random.default_rng(3).uniform(0.2, 3.0, X.shape[0])
    C = 0.1
    ours = LogisticRegression(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-10,
                              max_iter=5000).fit(X, y, sample_weight=sw)
    assert ours.solver_ == solver
    ref = _sklearn(C=C, l1_ratio=l1_ratio, solver="saga", tol=1e-12,
                   max_iter=200000).fit(X, y, sample_weight=sw)
    f_ours = objective(ours.coef_, ours.intercept_, X, y, C, l1_ratio, sw, "multinomial")
    f_ref = objective(ref.coef_, ref.intercept_, X, y, C, l1_ratio, sw, "multinomial")
    assert abs(f_ours - f_ref) <= 1e-6 * f_ref, (f_ours, f_ref)
    np.testing.assert_array_equal(ours.coef_ == 0, ref.coef_ == 0)
    assert 0 < np.count_nonzero(ours.coef_) < ours.coef_.size


def test_owlqn_stops_at_max_iter_with_a_warning_and_warm_starts_at_the_optimum():
    """OWL-QN (dense multinomial L1): max_iter reached -> scikit-learn's ConvergenceWarning and
    n_iter_ = max_iter; a stalled run handed over to FISTA converges; started at its own optimum
    it stops at once, with exact zeros kept."""
    from sklearn.exceptions import ConvergenceWarning

    X, y = MULTI
    with pytest.warns(ConvergenceWarning):
        short = LogisticRegression(C=0.1, l1_ratio=1.0, solver="saga", tol=1e-10,
                                   max_iter=3).fit(X, y)
    assert short.solver_ == "owlqn" and short.n_iter_[0] == 3
    # a tol where the orthant steps stall (elastic net, 1e-10: max|◇f| stuck at 3e-10 without
    # the hand-over): FISTA's steps finish the run, converged
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        tight = LogisticRegression(C=0.1, l1_ratio=0.3, solver="saga", tol=1e-10,
                                   max_iter=500).fit(X, y)
    assert tight.n_iter_[0] < 500
    model = LogisticRegression(C=0.1, l1_ratio=1.0, solver="saga", tol=1e-8, max_iter=1000,
                               warm_start=True).fit(X, y)
    coef = model.coef_.copy()
    model.fit(X, y)
    assert model.n_iter_[0] <= 1
    np.testing.assert_array_equal(model.coef_ == 0, coef == 0)
    np.testing.assert_allclose(model.coef_, coef, atol=1e-9)


def test_owlqn_scales_the_free_intercepts_to_their_own_curvature(monkeypatch):
    """OWL-QN's metric gives the unpenalised intercepts their own curvature
    (``owlqn._free_scale``): on a text-like multinomial problem it reaches the same optimum in
    fewer iterations than with one γ for all coordinates (184 against 294 here)."""
    from fastlr import _fit
    from fastlr._solvers import owlqn
    from fastlr.bench.data import make_text_corpus

    X, y = make_text_corpus(3000, 3000, 5)
    monkeypatch.setattr(_fit, "_l1_solver", lambda data, K, options: "owlqn")
    fits = []
    for scale in (owlqn._free_scale, lambda *args: None):
        monkeypatch.setattr(owlqn, "_free_scale", scale)
        fits.append(LogisticRegression(C=10.0, l1_ratio=1.0, solver="saga", tol=1e-7,
                                       max_iter=3000).fit(X, y))
    scaled, plain = fits
    assert scaled.solver_ == plain.solver_ == "owlqn"
    assert scaled.n_iter_[0] < 0.8 * plain.n_iter_[0]
    f = [objective(m.coef_, m.intercept_, X, y, 10.0, 1.0, model="multinomial") for m in fits]
    assert f[0] == pytest.approx(f[1], rel=1e-7)


def test_one_vs_rest_matches_sklearn_per_class():
    X, y = MULTI
    C = 0.1
    ours = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", multi_class="ovr",
                              tol=1e-10, max_iter=1000).fit(X, y)
    assert ours.multi_class_ == "ovr" and ours.solver_ == "prox-newton"
    for k in range(3):
        ref = _sklearn(C=C, l1_ratio=1.0, solver="liblinear", tol=1e-10,
                       max_iter=100000).fit(X, (y == k).astype(int))
        yk = (y == k).astype(int)
        f_ours = objective(ours.coef_[k:k + 1], ours.intercept_[k:k + 1], X, yk, C, 1.0,
                           intercept_scaling=1.0)
        f_ref = objective(ref.coef_, ref.intercept_, X, yk, C, 1.0, intercept_scaling=1.0)
        assert abs(f_ours - f_ref) <= 1e-6 * f_ref


# ----------------------------------------------------------------------------- warm start, Dask
def test_warm_start_reaches_the_cold_optimum_in_fewer_iterations():
    X, y = BINARY
    cold = LogisticRegression(C=0.2, l1_ratio=1.0, solver="saga", tol=1e-10).fit(X, y)
    warm = LogisticRegression(C=0.1, l1_ratio=1.0, solver="saga", tol=1e-10,
                              warm_start=True).fit(X, y)
    warm.set_params(C=0.2).fit(X, y)
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-8)
    assert warm.n_iter_[0] < cold.n_iter_[0]


def test_dask_fits_the_in_memory_l1_model():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, y = BINARY
    memory = LogisticRegression(C=0.1, l1_ratio=1.0, solver="saga", tol=1e-9,
                                max_iter=2000).fit(X, y)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        dask = LogisticRegression(C=0.1, l1_ratio=1.0, solver="saga", tol=1e-9,
                                  max_iter=2000).fit(da.from_array(X, chunks=(50, 10)),
                                                     da.from_array(y, chunks=50))
    assert dask.solver_ == "owlqn"
    np.testing.assert_allclose(dask.coef_, memory.coef_, atol=1e-7)
    np.testing.assert_array_equal(dask.coef_ == 0, memory.coef_ == 0)


# ----------------------------------------------------------------------------- parameters
def test_deprecated_penalty_maps_as_sklearn_does():
    X, y = BINARY
    with pytest.warns(FutureWarning, match="'penalty' was deprecated"), \
            pytest.warns(UserWarning, match="Inconsistent values: penalty=l1 with l1_ratio=0.0"):
        by_name = LogisticRegression(penalty="l1", solver="liblinear", C=0.1).fit(X, y)
    by_ratio = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=0.1).fit(X, y)
    np.testing.assert_allclose(by_name.coef_, by_ratio.coef_)
    with pytest.raises(ValueError, match="l1_ratio must be specified when penalty is elastic"):
        _fit_quietly(LogisticRegression(penalty="elasticnet", l1_ratio=None, solver="saga"), X, y)
    with pytest.raises(ValueError, match="Solver lbfgs supports only 'l2' or None penalties, "
                                         "got l1 penalty"):
        LogisticRegression(l1_ratio=1.0, solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="does not support multiclass"):
        LogisticRegression(l1_ratio=1.0, solver="liblinear").fit(*MULTI)


def test_sag_and_saga_l2_fit_the_lbfgs_model_and_sparsify():
    X, y = BINARY
    lbfgs = LogisticRegression(C=0.3, tol=1e-8, solver="lbfgs").fit(X, y)
    for solver in ("sag", "saga"):
        other = LogisticRegression(C=0.3, tol=1e-8, solver=solver).fit(X, y)
        assert other.solver_ == "lbfgs"
        np.testing.assert_allclose(other.coef_, lbfgs.coef_)
    model = LogisticRegression(C=0.05, l1_ratio=1.0, solver="saga").fit(X, y)
    dense = model.predict_proba(X)
    model.sparsify()
    assert sp.issparse(model.coef_) and model.coef_.nnz == np.count_nonzero(model.coef_.toarray())
    np.testing.assert_allclose(model.predict_proba(X), dense)


def test_working_sets_past_the_column_cache_satisfy_kkt():
    """Working sets grow past prox-newton's column cache (64 columns: it starts afresh), on
    C- and F-ordered X; the optimum's KKT conditions checked with NumPy."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((1500, 150))
    w = rng.standard_normal(150) * (rng.random(150) < 0.6)
    y = (rng.random(1500) < expit(X @ w / 3)).astype(int)
    C = 30.0 / np.max(np.abs(X.T @ (y - 0.5)))
    scale = C * X.shape[0]
    for order in ("C", "F"):
        model = LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", fit_intercept=False,
                                   tol=1e-10).fit(np.asarray(X, order=order), y)
        coef = model.coef_[0]
        assert 64 < np.count_nonzero(coef) < 150
        grad = C * X.T @ (expit(X @ coef) - y)
        zero = coef == 0
        assert np.all(np.abs(grad[zero]) <= 1 + 1e-8 * scale)
        np.testing.assert_allclose(grad[~zero], -np.sign(coef[~zero]), atol=1e-8 * scale)


def test_l1_models_save_and_load(tmp_path):
    import fastlr

    X, y = BINARY
    for solver, data in (("liblinear", BINARY), ("saga", MULTI)):
        model = LogisticRegression(C=0.1, l1_ratio=1.0, solver=solver).fit(*data)
        model.save(tmp_path / f"{solver}.npz")
        loaded = fastlr.load(tmp_path / f"{solver}.npz")
        assert loaded.solver_ == model.solver_
        np.testing.assert_array_equal(loaded.coef_, model.coef_)
        np.testing.assert_array_equal(loaded.predict_proba(data[0]), model.predict_proba(data[0]))


def test_the_default_solver_fits_l1_and_the_elastic_net_as_saga_does():
    """solver="auto" takes every penalty (scikit-learn's lbfgs default refuses an L1 part): it
    runs what "saga" runs, so the model is the same."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for l1_ratio in (1.0, 0.5):
        auto = LogisticRegression(C=0.1, l1_ratio=l1_ratio, tol=1e-8).fit(X, y)
        saga = LogisticRegression(C=0.1, l1_ratio=l1_ratio, tol=1e-8, solver="saga").fit(X, y)
        assert auto.solver_ == saga.solver_ == "prox-newton"
        np.testing.assert_array_equal(auto.coef_, saga.coef_)


def test_csr_gram_tiles_match_scipy_and_unsorted_rows_fit_the_same_model():
    """The working set's CSR Gram (several of its column tiles) against scipy's XᵀdiagHX; a
    text-like CSR fit whose rows' indices are unsorted (prox-newton sorts its working set's
    copy) reaches the sorted fit's model, both meeting the KKT conditions (NumPy)."""
    from fastlr._solvers import _cd

    rng = np.random.default_rng(7)
    size = 2 * _cd.TILE + 37
    X = sp.random(400, size, density=0.05, format="csr", random_state=7)
    h = rng.random(400)
    G = _cd.csr_gram(X.indptr, X.indices, X.data, h, size)
    np.testing.assert_allclose(G, (X.T @ sp.diags(h) @ X).toarray(), rtol=1e-12, atol=1e-14)
    small = X[:, :40]  # one tile: the path without the rows' cut into blocks
    G = _cd.csr_gram(small.indptr, small.indices, small.data, h, 40)
    np.testing.assert_allclose(G, (small.T @ sp.diags(h) @ small).toarray(), rtol=1e-12,
                               atol=1e-14)

    X = sp.random(300, 400, density=0.05, format="csr", random_state=8)
    y = (rng.random(300) < expit(X @ rng.standard_normal(400) * 3)).astype(int)
    shuffled = X.copy()
    for i in range(shuffled.shape[0]):  # reverse each row's entries: the same matrix
        lo, hi = shuffled.indptr[i], shuffled.indptr[i + 1]
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][::-1].copy()
        shuffled.data[lo:hi] = shuffled.data[lo:hi][::-1].copy()
    shuffled.has_sorted_indices = False
    C = 20.0 / np.max(np.abs(X.T @ (y - 0.5)))
    fits = [LogisticRegression(C=C, l1_ratio=1.0, solver="liblinear", fit_intercept=False,
                               tol=1e-10).fit(data, y).coef_[0] for data in (X, shuffled)]
    np.testing.assert_allclose(fits[0], fits[1], atol=1e-9)
    coef = fits[1]
    assert np.count_nonzero(coef) > 5
    grad = C * (X.T @ (expit(X @ coef) - y))
    zero = coef == 0
    assert np.all(np.abs(grad[zero]) <= 1 + 1e-7)
    np.testing.assert_allclose(grad[~zero], -np.sign(coef[~zero]), atol=1e-7)


def test_class_working_set_columns_match_scipy():
    """The multinomial CSR solver's column gathering (all classes in two passes over X's
    entries) equals scipy's X[:, ws] for each class's working set, sorted rows out even when X's
    rows are not."""
    from fastlr._solvers.prox_newton_softmax import _select

    rng = np.random.default_rng(9)
    X = sp.random(200, 300, density=0.05, format="csr", random_state=9)
    shuffled = X.copy()
    for i in range(shuffled.shape[0]):
        lo, hi = shuffled.indptr[i], shuffled.indptr[i + 1]
        shuffled.indices[lo:hi] = shuffled.indices[lo:hi][::-1].copy()
        shuffled.data[lo:hi] = shuffled.data[lo:hi][::-1].copy()
    shuffled.has_sorted_indices = False
    sets = [np.sort(rng.choice(300, size, replace=False)) for size in (5, 40, 300, 1)]
    for data in (X, shuffled):
        for ws, block in zip(sets, _select(data, sets)):
            assert block.has_sorted_indices and block.shape == (200, ws.size)
            np.testing.assert_array_equal(block.toarray(), X[:, ws].toarray())


@pytest.mark.parametrize("solver", ["saga", "liblinear"])
def test_csr_fit_with_its_own_gradient_meets_kkt_and_the_dense_model(solver):
    """A binary CSR fit alone computes each outer iteration's full gradient from its own margins
    (``LogisticProblem.own_gradient``): with an intercept (liblinear: penalised), sample weights
    and the elastic net's L2 part, its optimum meets the KKT conditions (NumPy) and equals the
    dense fit's, which asks the objective."""
    rng = np.random.default_rng(11)
    X = sp.random(300, 120, density=0.08, format="csr", random_state=11)
    y = (rng.random(300) < expit(X @ (rng.standard_normal(120) * 4) + 0.3)).astype(int)
    s = rng.uniform(0.5, 2.0, 300)
    C, rho = 2.0, (0.5 if solver == "saga" else 1.0)
    fits = [LogisticRegression(C=C, l1_ratio=rho, solver=solver, tol=1e-10,
                               max_iter=1000).fit(data, y, sample_weight=s)
            for data in (X, X.toarray())]
    w, b = fits[0].coef_[0], fits[0].intercept_[0]
    np.testing.assert_allclose(w, fits[1].coef_[0], atol=1e-7)
    np.testing.assert_allclose(b, fits[1].intercept_[0], atol=1e-7)
    r = C * s * (expit(X @ w + b) - y)
    grad = X.T @ r + (1 - rho) * w
    zero = w == 0
    assert zero.any() and (~zero).any()
    atol = 1e-8 * C * s.sum()
    assert np.all(np.abs(grad[zero]) <= rho + atol)
    np.testing.assert_allclose(grad[~zero], -rho * np.sign(w[~zero]), atol=atol)
    if solver == "saga":
        assert abs(r.sum()) <= atol
    else:  # liblinear: b = w_b·intercept_scaling (1), w_b penalised like w
        assert abs(r.sum() + rho * np.sign(b)) <= atol if b else abs(r.sum()) <= rho + atol
