"""Pickling, and save/load through the pickle-free .npz format, including hostile files."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_iris  # noqa: E402

from fastlr.estimator import LogisticRegression  # noqa: E402
from fastlr.persistence import load  # noqa: E402


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def fitted(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"], dtype=object)[y]
    return LogisticRegression(C=0.5, class_weight={"setosa": 2.0, "versicolor": 1.0,
                                                   "virginica": 1.0}).fit(X, names)


def assert_same_model(a, b, X):
    np.testing.assert_array_equal(a.coef_, b.coef_)
    np.testing.assert_array_equal(a.intercept_, b.intercept_)
    np.testing.assert_array_equal(a.classes_, b.classes_)
    np.testing.assert_array_equal(a.n_iter_, b.n_iter_)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.get_params() == b.get_params()


def test_pickle_round_trip(fitted, iris):
    assert_same_model(fitted, pickle.loads(pickle.dumps(fitted)), iris[0])


def test_save_load_round_trip_multiclass_strings(fitted, iris, tmp_path):
    path = tmp_path / "model.npz"
    fitted.save(path)
    loaded = load(path)
    assert_same_model(fitted, loaded, iris[0])
    for h, h2 in zip(fitted.loss_history_, loaded.loss_history_):
        np.testing.assert_array_equal(h, h2)


def test_save_load_round_trip_binary_float32_with_feature_names(iris, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = iris
    df = pd.DataFrame(X.astype(np.float32), columns=["a", "b", "c", "d"])
    model = LogisticRegression(C=np.inf, solver="lbfgs", max_iter=500).fit(df, y == 2)
    path = tmp_path / "binary.npz"
    model.save(path)
    loaded = load(path)
    assert loaded.coef_.dtype == np.float32
    np.testing.assert_array_equal(loaded.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(loaded.loss_history_, model.loss_history_)
    assert_same_model(model, loaded, df)


def _arrays(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _write(path, arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("tamper, match", [
    (lambda a: a.pop("coef"), "missing field 'coef'"),
    (lambda a: a.update(format=np.array("something else")), "format"),
    (lambda a: a.update(version=np.array(99)), "version"),
    (lambda a: a.update(coef=a["coef"][:2]), "do not fit"),
    (lambda a: a.update(coef=np.full_like(a["coef"], np.nan)), "finite"),
    (lambda a: a.update(intercept=a["intercept"].astype(np.float32)), "dtypes"),
    (lambda a: a.update(classes=np.array(["x", "x", "y"])), "distinct"),
    (lambda a: a.update(params=np.array("{not json")), "JSON"),
    (lambda a: a.update(params=np.array(json.dumps({"C": 1.0}))), "keys"),
    (lambda a: a.update(params=np.array(json.dumps(
        {**json.loads(str(a["params"])), "C": -3.0}))), "invalid parameters"),
    (lambda a: a.update(params=np.array(json.dumps(
        {**json.loads(str(a["params"])), "solver": [1, 2]}))), "solver"),
    (lambda a: a.update(solver=np.array("os.system")), "solver"),
    (lambda a: a.update(coef=a["coef"].astype(np.int64)), "dtype"),
])
def test_crafted_files_are_rejected(fitted, tmp_path, tamper, match):
    good = tmp_path / "good.npz"
    fitted.save(good)
    arrays = _arrays(good)
    tamper(arrays)
    bad = tmp_path / "bad.npz"
    _write(bad, arrays)
    with pytest.raises(ValueError, match=match):
        load(bad)


def test_pickled_object_arrays_are_not_loaded(fitted, tmp_path):
    good = tmp_path / "good.npz"
    fitted.save(good)
    arrays = _arrays(good)
    arrays["classes"] = np.array([object(), object(), object()], dtype=object)  # needs pickle
    bad = tmp_path / "bad.npz"
    _write(bad, arrays)
    with pytest.raises(ValueError, match="classes"):
        load(bad)


def test_corrupted_and_foreign_files_are_rejected(fitted, tmp_path):
    good = tmp_path / "good.npz"
    fitted.save(good)
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(bytes(range(256)) * 10)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    flipped = bytearray(raw)
    # corrupt the middle of the archive (stored data: zip's CRC check catches it)
    flipped[len(raw) // 2] ^= 0xFF
    corrupted = tmp_path / "corrupted.npz"
    corrupted.write_bytes(bytes(flipped))
    for path in (truncated, garbage, single, corrupted):
        with pytest.raises(ValueError, match="not a valid fastlr model file"):
            load(path)


def test_unfitted_estimator_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LogisticRegression().save(tmp_path / "x.npz")


def test_zip_with_wrong_members_is_rejected(tmp_path):
    path = tmp_path / "zip.npz"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("format.npy", b"not an npy file")
    path.write_bytes(buf.getvalue())
    with pytest.raises(ValueError, match="not a valid fastlr model file"):
        load(path)
