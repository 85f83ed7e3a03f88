"""The Dask fit: distributed sums equal the in-memory kernel's, fits equal the in-memory fit's.

Clusters run on loopback with the dashboard off. Most tests use threads (``processes=False``) for
speed; one module-scoped cluster with worker processes checks pickling and a killed worker.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from fastlr import kernels  # noqa: E402
from fastlr.distributed import loss_grad as dask_loss_grad  # noqa: E402
from helpers import FIT_CASES, check_fit_case, fit_under_test  # noqa: E402


def local_cluster(**kwargs):
    """A loopback cluster with the dashboard off (its bare HTTP server on a free port)."""
    return distributed.LocalCluster(threads_per_worker=1, dashboard_address=None,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                    **kwargs)


@pytest.fixture(scope="module")
def client():
    with local_cluster(n_workers=2, processes=False) as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((1000, 6))
    y = (X[:, 0] - X[:, 1] + rng.standard_normal(1000) > 0).astype(np.float64)
    s = rng.random(1000) * 2
    w = 0.3 * rng.standard_normal(6)
    return X, y, s, w


CHUNKINGS = [(250, 250, 250, 250), (1000,), (1, 99, 500, 400), (333, 333, 334), (37,) * 27 + (1,)]


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=lambda c: f"{len(c)}blocks")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_distributed_loss_grad_equals_in_memory(client, problem, chunks, weighted):
    X, y, s, w = problem
    kw = {"sample_weight": s, "l2": 0.01} if weighted else {}
    expected = kernels.loss_grad(w, 0.2, X, y, **kw)
    dkw = dict(kw)
    if weighted:
        dkw["sample_weight"] = da.from_array(s, chunks=(chunks,))
    got = dask_loss_grad(w, 0.2, da.from_array(X, chunks=(chunks, 6)),
                         da.from_array(y, chunks=(chunks,)), **dkw)
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)
    assert got[2] == pytest.approx(expected[2], rel=1e-12, abs=1e-15)


def test_misaligned_y_chunks_and_column_chunks_are_handled(client, problem):
    X, y, _, w = problem
    expected = kernels.loss_grad(w, 0.0, X, y)
    got = dask_loss_grad(w, 0.0, da.from_array(X, chunks=(300, 3)), da.from_array(y, chunks=128))
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)


def test_distributed_loss_grad_rejects_bad_input(client, problem):
    X, y, _, w = problem
    with pytest.raises(ValueError, match="y must be 1-D"):
        dask_loss_grad(w, 0.0, da.from_array(X), da.from_array(y[:10]))
    with pytest.raises(TypeError, match="dask"):
        dask_loss_grad(w, 0.0, X, y)
    with pytest.raises(ValueError, match="w must be 1-D"):
        dask_loss_grad(w[:3], 0.0, da.from_array(X), da.from_array(y))


# ---------------------------------------------------------------- the estimator on Dask input

def _estimator(**params):
    from fastlr.estimator import LogisticRegression

    return LogisticRegression(**params)


@pytest.fixture(scope="module")
def multiclass():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((900, 5))
    y = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((900, 3)), axis=1)
    return X, np.array(["a", "b", "c"])[y]


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_dask_fit_equals_in_memory_fit(client, problem, solver):
    X, y, s, _ = problem
    params = dict(solver=solver, C=0.5, tol=1e-10, max_iter=200)
    expected = _estimator(**params).fit(X, y, sample_weight=s)
    chunks = (100, 450, 450)
    got = _estimator(**params).fit(da.from_array(X, chunks=(chunks, 6)),
                                   da.from_array(y, chunks=(chunks,)),
                                   sample_weight=da.from_array(s, chunks=(chunks,)))
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-8)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-8)
    np.testing.assert_array_equal(got.classes_, expected.classes_)
    assert got.n_features_in_ == 6


def test_dask_gradient_descent_follows_the_in_memory_learning_curve(client, problem):
    X, y, _, _ = problem
    params = dict(solver="gd", learning_rate=0.5, max_iter=30, tol=0.0)
    with pytest.warns(Warning):  # both stop at max_iter and say so
        expected = _estimator(**params).fit(X, y)
    with pytest.warns(Warning):
        got = _estimator(**params).fit(da.from_array(X, chunks=(300, 6)), da.from_array(y, chunks=300))
    np.testing.assert_allclose(got.loss_history_, expected.loss_history_, rtol=1e-12)
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-10)


def test_two_dask_fits_are_bitwise_identical(client, problem):
    X, y, _, _ = problem
    Xd, yd = da.from_array(X, chunks=(130, 6)), da.from_array(y, chunks=130)
    a = _estimator(tol=1e-8).fit(Xd, yd)
    b = _estimator(tol=1e-8).fit(Xd, yd)
    assert a.coef_.tobytes() == b.coef_.tobytes()
    assert a.intercept_.tobytes() == b.intercept_.tobytes()


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_dask_multiclass_and_class_weight(client, multiclass, multi_class):
    X, y = multiclass
    params = dict(tol=1e-10, class_weight="balanced", max_iter=300, multi_class=multi_class)
    expected = _estimator(**params).fit(X, y)
    got = _estimator(**params).fit(da.from_array(X, chunks=(200, 5)), da.from_array(y, chunks=200))
    np.testing.assert_array_equal(got.classes_, ["a", "b", "c"])
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-8)
    np.testing.assert_allclose(got.intercept_, expected.intercept_, rtol=1e-8, atol=1e-12)


def test_dask_predictions_are_lazy_dask_arrays(client, multiclass):
    X, y = multiclass
    model = _estimator(tol=1e-8).fit(X, y)
    Xd = da.from_array(X, chunks=(250, 5))
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array), method
        expected = getattr(model, method)(X)
        assert lazy.shape == expected.shape
        result = lazy.compute()
        if method == "predict":
            np.testing.assert_array_equal(result, expected)
        else:
            np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-15)


def test_dask_dataframe_input_keeps_feature_names(client, problem):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _, _ = problem
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(6)])
    expected = _estimator(tol=1e-10).fit(frame, y)
    got = _estimator(tol=1e-10).fit(dd.from_pandas(frame, npartitions=3),
                                    dd.from_pandas(pd.Series(y), npartitions=3))
    np.testing.assert_array_equal(got.feature_names_in_, expected.feature_names_in_)
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-8)
    proba = got.predict_proba(dd.from_pandas(frame, npartitions=3)).compute()
    np.testing.assert_allclose(proba, expected.predict_proba(frame), rtol=1e-7)


@pytest.fixture(scope="module")
def process_client():
    """Three worker processes: one more than the blocks need, so a killed one has a stand-in."""
    with local_cluster(n_workers=3, processes=True) as cluster:
        with distributed.Client(cluster) as c:
            yield c


def test_worker_processes_and_a_killed_worker_do_not_change_the_fit(process_client, problem,
                                                                     monkeypatch):
    import os

    from fastlr.distributed import DaskData

    X, y, _, _ = problem
    Xd, yd = da.from_array(X, chunks=(250, 6)), da.from_array(y, chunks=250)
    expected = _estimator(tol=1e-10, solver="lbfgs").fit(X, y)
    undisturbed = _estimator(tol=1e-10, solver="lbfgs").fit(Xd, yd)
    np.testing.assert_allclose(undisturbed.coef_, expected.coef_, rtol=1e-8)

    calls = {"n": 0, "killed": None}
    original = DaskData.run

    def pass_killing_a_worker(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # mid-fit: kill a worker that holds persisted blocks
            holders = {addr for addrs in process_client.who_has().values() for addr in addrs}
            victim = sorted(holders)[0]
            calls["killed"] = victim
            try:
                process_client.run(os._exit, 1, workers=[victim])
            except Exception:  # the worker dies while answering
                pass
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DaskData, "run", pass_killing_a_worker)
    disturbed = _estimator(tol=1e-10, solver="lbfgs").fit(Xd, yd)
    assert calls["killed"] is not None and calls["n"] > 3
    assert disturbed.coef_.tobytes() == undisturbed.coef_.tobytes()
    assert disturbed.intercept_.tobytes() == undisturbed.intercept_.tobytes()


# ---------------------------------------------------------------- the hardening cases on Dask

def test_empty_partitions_contribute_nothing(client, problem):
    """A filter leaves 0-row partitions (lengths [0, 500, 500, ...]); fit and predict work and
    equal the in-memory results on the remaining rows."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _, _ = problem
    frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"]).assign(y=y)
    sub = dd.from_pandas(frame, npartitions=4).map_partitions(lambda p: p[p.index >= 500])
    assert 0 in sub.map_partitions(len).compute().tolist()
    model = _estimator(tol=1e-10).fit(sub[["a", "b", "c"]], sub["y"])
    expected = _estimator(tol=1e-10).fit(frame[["a", "b", "c"]][500:], y[500:])
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-8)
    proba = model.predict_proba(sub[["a", "b", "c"]]).compute()
    np.testing.assert_allclose(proba, expected.predict_proba(frame[["a", "b", "c"]][500:]),
                               rtol=1e-7)
    Xd = da.from_array(X, chunks=(250, 6))
    keep = da.from_array(np.arange(1000) >= 500, chunks=250)
    Xk, yk = Xd[keep], da.from_array(y, chunks=250)[keep]
    Xk.compute_chunk_sizes()
    yk.compute_chunk_sizes()
    got = _estimator(tol=1e-10).fit(Xk, yk)
    np.testing.assert_allclose(got.coef_, _estimator(tol=1e-10).fit(X[500:], y[500:]).coef_,
                               rtol=1e-8)
    assert got.predict(Xk).compute().shape == (500,)


def _same_error(X, y, sample_weight=None):
    """The in-memory fit's exception, and the Dask fit's on the same data, as (type, message)."""
    with pytest.raises(Exception) as in_memory:
        _estimator().fit(X, y, sample_weight=sample_weight)
    chunks = (len(y) // 4,)
    with pytest.raises(Exception) as on_dask:
        _estimator().fit(da.from_array(X, chunks=chunks + (X.shape[1],)),
                         da.from_array(y, chunks=chunks),
                         sample_weight=None if sample_weight is None
                         else da.from_array(sample_weight, chunks=chunks))
    return ((type(in_memory.value), str(in_memory.value)),
            (type(on_dask.value), str(on_dask.value)))


def test_the_dask_fit_raises_what_the_in_memory_fit_raises(client, problem):
    X, y, _, _ = problem
    X_nan = X.copy()
    X_nan[900, 2] = np.nan  # in the last block only
    mem, dsk = _same_error(X_nan, y)
    assert mem == dsk and mem[0] is ValueError and "Input X contains NaN" in mem[1]
    X_inf = X.copy()
    X_inf[3, 1] = np.inf
    mem, dsk = _same_error(X_inf, y)
    assert mem == dsk and "infinity" in mem[1]
    mem, dsk = _same_error(X, X[:, 0])  # continuous y: not 1000 classes
    assert mem == dsk and "Unknown label type: continuous" in mem[1]
    y_nan = y.copy()
    y_nan[5] = np.nan
    mem, dsk = _same_error(X, y_nan)
    assert mem == dsk and "Input y contains NaN" in mem[1]
    only_one = (y == 1).astype(float)  # every sample of class 0 has weight 0
    mem, dsk = _same_error(X, y, only_one)
    assert mem == dsk and "only one class with positive weight" in mem[1]


@pytest.mark.parametrize("which", ["X", "y", "sample_weight"])
def test_unknown_chunk_sizes_get_the_compute_chunk_sizes_advice(client, problem, which):
    """A boolean-mask selection leaves the row counts unknown: y got "y must be 1-D of length
    n_samples=1000, got shape (nan,)" instead of the advice X already got."""
    X, y, s, _ = problem
    keep = np.arange(1000) % 3 > 0
    full = {"X": X, "y": y, "sample_weight": s}
    # the selected rows: known sizes for all but `which`, selected lazily by a Dask mask
    arrays = {name: da.from_array(a[keep], chunks=250) for name, a in full.items()}
    arrays[which] = da.from_array(full[which], chunks=250)[da.from_array(keep, chunks=250)]
    with pytest.raises(ValueError, match=rf"{which} has unknown chunk sizes; call "
                                         rf"{which}.compute_chunk_sizes\(\) first"):
        _estimator().fit(arrays["X"], arrays["y"], sample_weight=arrays["sample_weight"])


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_dask_array_of_csr_blocks_fits_like_the_in_memory_sparse_fit(client, solver):
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(2000, 40, density=0.1, format="csr", random_state=4)
    rng = np.random.default_rng(4)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(X @ rng.standard_normal(40))))).astype(int)
    Xd = da.from_array(X, chunks=(500, 40), asarray=False)  # blocks are scipy CSR matrices
    got = _estimator(solver=solver, tol=1e-10).fit(Xd, da.from_array(y, chunks=500))
    expected = _estimator(solver=solver, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(got.predict_proba(Xd).compute(), expected.predict_proba(X),
                               rtol=1e-8)
    X_bad = X.copy()
    X_bad.data[5] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        _estimator().fit(da.from_array(X_bad, chunks=(500, 40), asarray=False),
                         da.from_array(y, chunks=500))


# ---------------------------------------------------------------- feature names (hardening 3)

def _outcome(call):
    """(exception type and message, or None; the messages of the warnings raised) of call()."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
            if hasattr(result, "compute"):
                result.compute()
            error = None
        except Exception as exc:  # the outcome under test, compared below
            error = (type(exc), str(exc))
    return error, sorted(str(w.message) for w in caught)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
def test_dask_predictions_check_feature_names_as_in_memory(client, problem, method):
    """Fitted on columns age, income, debt: a Dask frame with them reordered, renamed, or one
    missing raised nothing and predicted from the wrong columns (accuracy 0.21 instead of
    0.995); it must raise what the in-memory method raises on the same pandas frame, and a Dask
    array warn as a NumPy array does."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _, _ = problem
    frame = pd.DataFrame(X[:, :3], columns=["age", "income", "debt"])
    model = _estimator().fit(frame, y)
    variants = {"reordered": frame[["debt", "income", "age"]],
                "renamed": frame.set_axis(["a", "b", "c"], axis=1),
                "missing": frame[["age", "income"]]}
    for name, pdf in variants.items():
        in_memory = _outcome(lambda: getattr(model, method)(pdf))
        on_dask = _outcome(lambda: getattr(model, method)(dd.from_pandas(pdf, npartitions=3)))
        assert in_memory[0] is not None and in_memory[0][0] is ValueError, name
        assert on_dask == in_memory, name
    in_memory = _outcome(lambda: getattr(model, method)(X[:, :3]))
    on_dask = _outcome(lambda: getattr(model, method)(da.from_array(X[:, :3], chunks=(250, 3))))
    assert in_memory[0] is None and in_memory[1] == [
        "X does not have valid feature names, but LogisticRegression was fitted with feature names"]
    assert on_dask == in_memory
    got = getattr(model, method)(dd.from_pandas(frame, npartitions=3)).compute()
    np.testing.assert_allclose(got, getattr(model, method)(frame), rtol=1e-12)


def test_dask_fit_sets_feature_names_as_in_memory(client, problem):
    """fit (warm start too) resets feature_names_in_ from the frame's columns as scikit-learn's
    validate_data does in memory: a reordered frame is a new set of names, mixed str/int column
    names raise its TypeError, a Dask array removes the names."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _, _ = problem
    frame = pd.DataFrame(X[:, :3], columns=["age", "income", "debt"])
    yd = dd.from_pandas(pd.Series(y), npartitions=3)
    for warm_start in (False, True):  # (Newton: few task-graph round trips per fit)
        params = dict(warm_start=warm_start, tol=1e-10, solver="newton")
        in_memory = _estimator(**params).fit(frame, y)
        on_dask = _estimator(**params).fit(dd.from_pandas(frame, npartitions=3), yd)
        reordered = frame[["debt", "income", "age"]]
        in_memory.fit(reordered, y)
        on_dask.fit(dd.from_pandas(reordered, npartitions=3), yd)
        np.testing.assert_array_equal(on_dask.feature_names_in_, ["debt", "income", "age"])
        np.testing.assert_array_equal(in_memory.feature_names_in_, on_dask.feature_names_in_)
        np.testing.assert_allclose(on_dask.coef_, in_memory.coef_, rtol=1e-8)
        on_dask.fit(da.from_array(X[:, :3], chunks=(250, 3)), da.from_array(y, chunks=250))
        assert not hasattr(on_dask, "feature_names_in_") and on_dask.n_features_in_ == 3
    mixed = frame.set_axis(["age", 1, "debt"], axis=1)
    in_memory = _outcome(lambda: _estimator().fit(mixed, y))
    on_dask = _outcome(lambda: _estimator().fit(dd.from_pandas(mixed, npartitions=3), yd))
    assert in_memory[0][0] is TypeError and on_dask == in_memory


# ---------------------------------------------------------------- the curated nasty fits on Dask

def _to_dask(X, y, s):
    """The in-memory data as Dask collections of 4 row blocks (pandas frames as Dask frames)."""
    rows = -(-len(y) // 4)
    if hasattr(X, "iloc"):
        dd = pytest.importorskip("dask.dataframe")
        Xd = dd.from_pandas(X, npartitions=4)
    else:
        Xd = da.from_array(X, chunks=(rows, X.shape[1]))
    return (Xd, da.from_array(np.asarray(y), chunks=rows),
            None if s is None else da.from_array(s, chunks=rows))


@pytest.mark.parametrize("case", FIT_CASES, ids=lambda c: c.id)
def test_curated_fits_on_dask(client, case, tmp_path):
    """tests/helpers.py's FIT_CASES on the Dask backend: the same refusals and the same finite,
    usable models as in memory (test_hardening.py runs them for every solver). Here with Newton
    (Newton-CG is Newton on Dask): each evaluation is a task-graph round trip (~20 ms), and
    lbfgs and gd took 5-30 s per case for the cold and warm fits."""
    solver = "newton"
    if case.raises:
        exc, match = case.raises
        with pytest.raises(exc, match=match):
            fit_under_test(case, solver, _to_dask)
        return
    model, cold, caught = fit_under_test(case, solver, _to_dask)
    check_fit_case(case, solver, model, cold, caught, _to_dask(*case.data())[0], tmp_path)


def test_weight_checks_are_the_in_memory_ones(client):
    """Every bad sample_weight of test_validation's curated list gives the Dask loss_grad the
    kernels' exception and message (an overflowing Σ sᵢ was accepted on Dask, complex weights
    lost their imaginary part)."""
    from test_validation import BAD, X0, Y0, W0

    for name, override, exc, _ in BAD:
        if set(override) != {"sample_weight"}:
            continue
        s = override["sample_weight"]
        with pytest.raises(exc) as in_memory:
            kernels.loss_grad(W0, 0.1, X0, Y0, sample_weight=s)
        with pytest.raises(exc) as on_dask:
            dask_loss_grad(W0, 0.1, da.from_array(X0, chunks=(3, 3)), da.from_array(Y0, chunks=3),
                           sample_weight=da.from_array(s))
        assert str(on_dask.value) == str(in_memory.value), name


def test_dask_prediction_dtype_is_the_in_memory_one(client, problem):
    X, y, _, _ = problem
    for fitted_on in (X, X.astype(np.float32)):
        model = _estimator().fit(fitted_on, y)
        for data in (X, X.astype(np.float32)):
            Xd = da.from_array(data, chunks=(500, 6))
            for method in ("decision_function", "predict_proba"):
                lazy = getattr(model, method)(Xd)
                got = lazy.compute()
                assert got.dtype == lazy.dtype == getattr(model, method)(data).dtype, method
        empty = model.predict_proba(da.from_array(X[:0].astype(np.float32), chunks=(250, 6)))
        assert empty.compute().dtype == empty.dtype == model.predict_proba(
            X[:1].astype(np.float32)).dtype


@pytest.mark.parametrize("dtype", ["Float64", "Int64", "boolean", "Float32"])
def test_dask_frames_of_nullable_dtypes_fit_and_predict_as_in_memory(client, dtype):
    """Nullable columns were rejected on Dask ("X has dtype object") though accepted in memory;
    a missing value is NaN there and raises the in-memory error; a text column is named."""
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(45)
    values = rng.integers(-3, 4, size=(400, 3)).astype(float)
    if dtype == "boolean":
        values = values > 0
    frame = pd.DataFrame(values, columns=["a", "b", "c"]).astype(dtype)
    y = (values[:, 0] + 0.5 * rng.standard_normal(400) > 0).astype(int)
    yd = dd.from_pandas(pd.Series(y), npartitions=4)
    in_memory = _estimator(tol=1e-10, solver="newton").fit(frame, y)
    on_dask = _estimator(tol=1e-10, solver="newton").fit(dd.from_pandas(frame, npartitions=4), yd)
    assert on_dask.coef_.dtype == in_memory.coef_.dtype
    np.testing.assert_allclose(on_dask.coef_, in_memory.coef_, rtol=1e-8)
    np.testing.assert_allclose(on_dask.predict_proba(dd.from_pandas(frame, npartitions=4)),
                               in_memory.predict_proba(frame), rtol=1e-10)
    missing = frame.copy()
    missing.iloc[7, 1] = pd.NA
    mem = _outcome(lambda: _estimator().fit(missing, y))
    dsk = _outcome(lambda: _estimator().fit(dd.from_pandas(missing, npartitions=4), yd))
    assert mem[0][0] is ValueError and "NaN" in mem[0][1] and dsk == mem
    text = frame.assign(c=["x"] * 400)
    with pytest.raises(TypeError, match="non-numeric column 'c'"):
        _estimator().fit(dd.from_pandas(text, npartitions=4), yd)
