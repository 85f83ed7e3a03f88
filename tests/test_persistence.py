"""Pickling, and save/load through the pickle-free .npz format, including hostile files.

Round trips compare the loaded model with the fitted one it was saved from (its attributes and
all four prediction methods, exactly); the format is read back with ``numpy.load`` and ``json``
alone; version-1 files and tampered files are written here by hand with ``numpy.savez`` and
``zipfile``, and version-1 predictions are checked against NumPy formulas.
"""

import copy
import io
import json
import math
import pickle
import warnings
import zipfile

import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy.special import expit  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402

import fastlr  # noqa: E402
from fastlr.estimator import LogisticRegression  # noqa: E402
from fastlr.persistence import load  # noqa: E402

IRIS_NAMES = np.array(["setosa", "versicolor", "virginica"], dtype=object)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def binary_data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + 0.3 + rng.logistic(size=300) > 0)
    return X, y.astype(int)


@pytest.fixture(scope="module")
def fitted(iris):
    """Multinomial, string labels, a class_weight dict."""
    X, y = iris
    return LogisticRegression(C=0.5, class_weight={"setosa": 2.0, "versicolor": 1.0,
                                                   "virginica": 1.0}).fit(X, IRIS_NAMES[y])


@pytest.fixture(scope="module")
def fitted_ovr(iris):
    X, y = iris
    return LogisticRegression(multi_class="ovr", max_iter=300).fit(X, y)


@pytest.fixture(scope="module")
def fitted_binary(binary_data):
    X, y = binary_data
    return LogisticRegression(solver="newton").fit(X, y)


def assert_same_model(a, b, X):
    """b is a: the same attributes and bit-for-bit the same predictions."""
    assert type(b) is type(a)
    for name in ("coef_", "intercept_", "classes_", "n_iter_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert getattr(b, name).shape == getattr(a, name).shape, name
    assert b.coef_.dtype == a.coef_.dtype and b.intercept_.dtype == a.intercept_.dtype
    assert b.multi_class_ == a.multi_class_ and b.solver_ == a.solver_
    assert b.n_features_in_ == a.n_features_in_
    assert hasattr(b, "feature_names_in_") == hasattr(a, "feature_names_in_")
    if hasattr(a, "feature_names_in_"):
        np.testing.assert_array_equal(a.feature_names_in_, b.feature_names_in_)
    if isinstance(a.loss_history_, list):
        assert isinstance(b.loss_history_, list) and len(b.loss_history_) == len(a.loss_history_)
        for h, h2 in zip(a.loss_history_, b.loss_history_):
            np.testing.assert_array_equal(h, h2)
    else:
        assert isinstance(b.loss_history_, np.ndarray)
        np.testing.assert_array_equal(a.loss_history_, b.loss_history_)
    assert a.get_params() == b.get_params()
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        np.testing.assert_array_equal(getattr(a, method)(X), getattr(b, method)(X),
                                      err_msg=method)


def round_trip(model, tmp_path, name="model.npz"):
    path = tmp_path / name
    model.save(path)
    return load(path)


def test_pickle_round_trip(fitted, iris):
    assert_same_model(fitted, pickle.loads(pickle.dumps(fitted)), iris[0])


# ------------------------------------------------------------------------------ round trips
LABELS = {
    "str": (np.array(["no", "yes"], dtype=object), IRIS_NAMES),
    "int": (np.array([-3, 7]), np.array([10, 20, 30])),
    "float": (np.array([0.0, 1.0]), np.array([1.0, 2.0, 3.0])),
    "bool": (np.array([False, True]), None),  # two classes only
}
KINDS = {  # kind: (constructor arguments, expected n_iter_ shape, histories)
    "binary": ({}, (1,), 1),
    "multinomial": ({}, (1,), 1),
    "ovr": ({"multi_class": "ovr"}, (3,), 3),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind, labels", [(kind, labels) for kind in sorted(KINDS)
                                          for labels in sorted(LABELS)
                                          if kind == "binary" or LABELS[labels][1] is not None])
def test_round_trip_every_kind(kind, labels, dtype, iris, binary_data, tmp_path):
    binary_labels, multi_labels = LABELS[labels]
    if kind == "binary":
        X, y = binary_data
        y = binary_labels[y]
    else:
        X, y = iris
        y = multi_labels[y]
    X = X.astype(dtype)
    kwargs, n_iter_shape, n_histories = KINDS[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=300, **kwargs).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert loaded.multi_class_ == kind
    assert loaded.coef_.shape == ((1 if kind == "binary" else 3), X.shape[1])
    assert loaded.coef_.dtype == dtype
    assert loaded.n_iter_.shape == n_iter_shape
    histories = loaded.loss_history_ if kind == "ovr" else [loaded.loss_history_]
    assert len(histories) == n_histories
    assert_same_model(model, loaded, X)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.predict(X).tolist() == model.predict(X).tolist()  # same label values


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_sparsified_model_saves(kind, iris, binary_data, tmp_path):
    """sparsify().save() failed ("field 'coef' has dtype object"): the coefficients are saved
    dense and load as the model was before sparsify(); the saved model keeps its CSR coef_."""
    X, y = binary_data if kind == "binary" else iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(max_iter=300, **KINDS[kind][0]).fit(X, y)
    dense = copy.deepcopy(model)
    model.sparsify()
    loaded = round_trip(model, tmp_path)
    assert hasattr(model.coef_, "toarray") and not hasattr(loaded.coef_, "toarray")
    assert_same_model(dense, loaded, X)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_round_trip_no_penalty_with_feature_names(kind, iris, binary_data, tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = binary_data if kind == "binary" else iris
    df = pd.DataFrame(X.astype(np.float32), columns=[f"f{j}" for j in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=np.inf, max_iter=50, **KINDS[kind][0]).fit(df, y)
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = load(path)
    assert loaded.C == math.inf
    np.testing.assert_array_equal(loaded.feature_names_in_, df.columns)
    assert_same_model(model, loaded, df)
    # the file holds standard JSON: no Infinity literal, C as a tagged float
    with np.load(path, allow_pickle=False) as data:
        text = str(data["params"])

    def strict(name):
        raise AssertionError(f"non-standard JSON constant {name} in {text}")

    assert json.loads(text, parse_constant=strict)["C"] == {"float": "inf"}


def test_file_contents(fitted_ovr, tmp_path):
    """The documented fields, read with numpy.load and json alone."""
    path = tmp_path / "m.npz"
    fitted_ovr.save(path)
    assert zipfile.ZipFile(path).infolist()[0].compress_type == zipfile.ZIP_STORED
    with np.load(path, allow_pickle=False) as data:
        fields = {k: data[k] for k in data.files}
    assert set(fields) == {"format", "version", "params", "coef", "intercept", "classes",
                           "n_iter", "solver", "multi_class", "loss_history_0",
                           "loss_history_1", "loss_history_2"}
    assert str(fields["format"]) == "fastlr.LogisticRegression"
    assert int(fields["version"]) == 2
    assert str(fields["multi_class"]) == "ovr" and str(fields["solver"]) == fitted_ovr.solver_
    params = json.loads(str(fields["params"]))
    assert params["multi_class"] == "ovr" and params["max_iter"] == 300
    assert params["C"] == 1.0 and params["class_weight"] is None
    assert fields["coef"].shape == (3, 4) and fields["n_iter"].shape == (3,)


def test_file_of_the_other_byte_order_loads(fitted, iris, tmp_path):
    """A file written on a machine of the other byte order (every array byte-swapped)."""
    arrays = _arrays(_saved(fitted, tmp_path))
    swapped = {k: v.astype(v.dtype.newbyteorder("S")) for k, v in arrays.items()}
    assert not swapped["coef"].dtype.isnative  # the premise
    _write(tmp_path / "swapped.npz", swapped)
    loaded = load(tmp_path / "swapped.npz")
    assert loaded.coef_.dtype.isnative
    assert_same_model(fitted, loaded, iris[0])


@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_warm_start_continues_from_the_loaded_model(kind, binary_data, iris, tmp_path):
    X, y = binary_data if kind == "binary" else iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(warm_start=True, max_iter=3).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert loaded.warm_start is True
    in_memory = copy.deepcopy(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        loaded.fit(X, y)
        in_memory.fit(X, y)
    # the second fit starts where the first stopped: its first objective is the first's last
    assert loaded.loss_history_[0] == pytest.approx(model.loss_history_[-1], rel=1e-12)
    assert loaded.loss_history_[0] < model.loss_history_[0]
    np.testing.assert_array_equal(loaded.coef_, in_memory.coef_)
    np.testing.assert_array_equal(loaded.intercept_, in_memory.intercept_)


def test_learning_curve_may_start_non_finite(binary_data, tmp_path):
    """Fit records the objective at a warm start whose margins overflow (NaN); the model saves
    and loads with it."""
    X, y = binary_data
    model = LogisticRegression(warm_start=True).fit(X, y)
    model.coef_ = np.full_like(model.coef_, 1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X * 1e5, y)
    assert not np.isfinite(model.loss_history_[0])  # what fit produced (the premise)
    loaded = round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.loss_history_, model.loss_history_)


# ------------------------------------------------------------------------------ NumPy scalars
def test_numpy_scalar_parameters_are_saved_as_python_numbers(iris, tmp_path):
    X, y = iris
    class_weight = {np.int64(0): np.float32(2.0), np.int64(1): np.float64(1.5), np.int64(2): 1}
    params = dict(max_iter=np.int64(200), C=np.float32(0.1), fit_intercept=np.True_,
                  tol=np.float64(1e-6), class_weight=class_weight, verbose=np.int8(0),
                  warm_start=np.False_, n_threads=np.int32(1), intercept_scaling=np.float16(1),
                  learning_rate=np.float32(0.25), solver=np.str_("newton"))
    model = LogisticRegression(**params).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert_same_model(model, loaded, X)
    got = loaded.get_params()
    expected_types = dict(max_iter=int, C=float, fit_intercept=bool, tol=float, verbose=int,
                          warm_start=bool, n_threads=int, intercept_scaling=float,
                          learning_rate=float, solver=str)
    for name, typ in expected_types.items():
        assert type(got[name]) is typ, name
        assert got[name] == params[name], name
    assert got["C"] == float(np.float32(0.1))  # the float32 value exactly, not 0.1
    assert [type(k) for k in got["class_weight"]] == [int, int, int]
    assert [type(v) for v in got["class_weight"].values()] == [float, float, int]
    assert got["class_weight"] == {0: 2.0, 1: 1.5, 2: 1.0}
    # save did not touch the estimator's parameters
    assert model.class_weight is class_weight
    assert [type(k) for k in class_weight] == [np.int64] * 3
    assert type(model.max_iter) is np.int64


def test_grid_search_best_estimator_saves(iris, tmp_path):
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(LogisticRegression(), {"max_iter": np.arange(100, 301, 200),
                                                     "C": np.array([0.1, 1.0])}, cv=2).fit(X, y)
    best = search.best_estimator_
    assert isinstance(best.max_iter, np.integer)  # the premise
    loaded = round_trip(best, tmp_path)
    assert type(loaded.max_iter) is int and type(loaded.C) is float
    assert_same_model(best, loaded, X)


@pytest.mark.parametrize("name, value, match", [
    ("random_state", np.random.RandomState(0), "'random_state'.*RandomState"),
    ("random_state", [1, 2], "'random_state'"),
    pytest.param("C", np.longdouble(1) / 3, "'C'.*exact float64", marks=pytest.mark.skipif(
        np.finfo(np.longdouble).eps == np.finfo(np.float64).eps,
        reason="long double is double here")),
    ("class_weight", {(0, 1): 2.0}, "'class_weight'"),
    ("class_weight", {0: 2.0, 1: "heavy"}, "class_weight"),
    ("verbose", "x", "invalid parameters.*verbose"),
    ("multi_class", "softmax", "invalid parameters.*multi_class"),
])
def test_unsaveable_parameters_raise_value_error(fitted_binary, tmp_path, name, value, match):
    model = copy.deepcopy(fitted_binary).set_params(**{name: value})
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match=match):
        model.save(path)
    assert not path.exists()


@pytest.mark.parametrize("attr, value, match", [
    ("coef_", lambda m: np.full_like(m.coef_, np.inf), "finite"),
    ("coef_", lambda m: m.coef_.astype(np.float16), "dtype"),
    ("multi_class_", lambda m: "multinomial", "multi_class"),
    ("n_iter_", lambda m: np.array([-1]), "n_iter"),
    ("classes_", lambda m: np.array([object(), object()], dtype=object), "classes_"),
    ("solver_", None, "has no solver_"),
])
def test_unsaveable_models_raise_value_error(fitted_binary, tmp_path, attr, value, match):
    model = copy.deepcopy(fitted_binary)
    if value is None:
        delattr(model, attr)
    else:
        setattr(model, attr, value(model))
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match=match):
        model.save(path)
    assert not path.exists()


def test_unfitted_estimator_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        LogisticRegression().save(tmp_path / "x.npz")


def test_deprecated_parameters_save_and_load_without_warnings(binary_data, tmp_path):
    X, y = binary_data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        model = LogisticRegression(penalty="l2", n_jobs=2).fit(X, y)
    path = tmp_path / "m.npz"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(path)
        loaded = fastlr.load(path)
    assert loaded.penalty == "l2" and loaded.n_jobs == 2
    assert_same_model(model, loaded, X)


# ------------------------------------------------------------------------------ version 1
def _write(path, arrays):
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _v1_file(path, coef, intercept, classes, penalty="l2", C=0.5):
    params = {"penalty": penalty, "C": C, "fit_intercept": True, "solver": "lbfgs",
              "max_iter": 100, "tol": 1e-4, "learning_rate": 0.1,
              "class_weight": {"keys": [int(classes[0])], "values": [2.0]}, "warm_start": False,
              "n_threads": None, "verbose": 0}
    arrays = {"format": np.array("fastlr.LogisticRegression"), "version": np.array(1),
              "params": np.array(json.dumps(params)), "coef": coef, "intercept": intercept,
              "classes": classes, "n_iter": np.full(coef.shape[0], 7, dtype=np.int32),
              "solver": np.array("lbfgs")}
    for k in range(coef.shape[0]):
        arrays[f"loss_history_{k}"] = np.array([0.69, 0.5, 0.4])
    _write(path, arrays)


def test_version_1_binary_file_loads(tmp_path):
    coef, intercept = np.array([[0.5, -1.0, 2.0]]), np.array([0.25])
    _v1_file(tmp_path / "v1.npz", coef, intercept, np.array([3, 8]), penalty=None)
    model = load(tmp_path / "v1.npz")
    assert model.multi_class_ == "binary" and model.multi_class == "auto"
    assert model.penalty == "deprecated" and model.C == math.inf  # penalty=None, same model
    assert model.class_weight == {3: 2.0} and model.n_iter_.tolist() == [7]
    X = np.random.default_rng(0).normal(size=(20, 3))
    p = expit(X @ coef[0] + intercept[0])
    np.testing.assert_allclose(model.predict_proba(X), np.column_stack([1 - p, p]), rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), np.where(p > 0.5, 8, 3))


def test_version_1_multiclass_file_loads_as_one_vs_rest(tmp_path):
    coef = np.array([[0.5, -1.0], [-0.2, 0.3], [1.0, 1.0]])
    intercept = np.array([0.1, -0.2, 0.0])
    _v1_file(tmp_path / "v1.npz", coef, intercept, np.array([0, 1, 2]))
    model = load(tmp_path / "v1.npz")
    assert model.multi_class_ == "ovr" and model.multi_class == "ovr"
    assert model.penalty == "deprecated" and model.C == 0.5
    assert isinstance(model.loss_history_, list) and len(model.loss_history_) == 3
    X = np.random.default_rng(1).normal(size=(20, 2))
    s = expit(X @ coef.T + intercept)
    np.testing.assert_allclose(model.predict_proba(X), s / s.sum(axis=1, keepdims=True),
                               rtol=1e-12)


# ------------------------------------------------------------------------------ tampered files
def _arrays(path):
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _params(a):
    return json.loads(str(a["params"]))


def _set_params(**changes):
    return lambda a: a.update(params=np.array(json.dumps({**_params(a), **changes})))


def _set_params_text(edit):
    return lambda a: a.update(params=np.array(edit(str(a["params"]))))


def _nested(depth):
    return "[" * depth + "]" * depth


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
    (_set_params(C=-3.0), "invalid parameters"),
    (_set_params(solver=[1, 2]), "solver"),
    (lambda a: a.update(solver=np.array("os.system")), "solver"),
    (lambda a: a.update(coef=a["coef"].astype(np.int64)), "dtype"),
    # class_weight keys that are not labels
    (_set_params(class_weight={"keys": [[1]], "values": [1.0]}), r"class_weight key \[1\]"),
    (_set_params(class_weight={"keys": [{"a": 1}], "values": [1.0]}), "class_weight key"),
    (_set_params(class_weight={"keys": [[[1]]], "values": [1.0]}), "nest"),
    (_set_params(class_weight={"keys": ["setosa", "setosa"], "values": [1.0, 2.0]}),
     "duplicate"),
    (_set_params(class_weight={"keys": ["setosa"], "values": [1.0, 2.0]}), "equal length"),
    # nesting
    (_set_params_text(lambda t: t.replace('"C": 0.5', '"C": ' + _nested(100_000))), "nest"),
    (_set_params_text(lambda t: _nested(100_000)), "nest"),
    (_set_params_text(lambda t: t[:-1] + ', "x": {"y": {"z": [[1]]}}}'), "nest"),
    (_set_params_text(lambda t: t[:-1] + ', "x": {"y": {"z": [1]}}}'), "exactly the keys"),
    # parameters that fail the estimator's own validation
    (_set_params(verbose="x"), "invalid parameters.*verbose"),
    (_set_params(fit_intercept="no"), "invalid parameters.*fit_intercept"),
    (_set_params(warm_start=5), "invalid parameters.*warm_start"),
    (_set_params(class_weight="bogus"), "invalid parameters.*class_weight"),
    (_set_params(class_weight={"keys": ["setosa"], "values": [-1.0]}),
     "invalid parameters.*class_weight"),
    (_set_params(multi_class="softmax"), "invalid parameters.*multi_class"),
    (_set_params(solver="sgd"), "invalid parameters.*solver"),
    (_set_params(max_iter=-1), "invalid parameters.*max_iter"),
    (_set_params(max_iter=1.5), "invalid parameters.*max_iter"),
    (_set_params(tol={"float": "inf"}), "invalid parameters.*tol"),
    (_set_params(C={"float": "huge"}), "'C' is an object"),
    (_set_params(C={"float": "inf", "x": 1}), "'C' is an object"),
    # JSON that is not the format's
    (_set_params_text(lambda t: t.replace('"C": 0.5', '"C": Infinity')), "Infinity"),
    (_set_params_text(lambda t: t.replace('"C": 0.5', '"C": NaN')), "NaN"),
    (_set_params_text(lambda t: t[:-1] + ', "C": 5.0}'), "duplicate keys"),
    (_set_params_text(lambda t: t[:-1] + ', "extra": 1}'), "exactly the keys"),
    (_set_params_text(lambda t: "[1, 2]"), "exactly the keys"),
    # n_iter
    (lambda a: a.update(n_iter=np.array([-5])), r"n_iter \[-5\] must be in 0\.\."),
    (lambda a: a.update(n_iter=np.array([2 ** 40])), r"n_iter \[1099511627776\] must be in"),
    (lambda a: a.update(n_iter=np.array([1.0])), "n_iter"),
    # feature names
    (lambda a: a.update(feature_names_in=np.array(["a", "a", "b", "c"])), "distinct"),
    (lambda a: a.update(feature_names_in=np.array(["a", "b", "c"])), "feature names"),
    (lambda a: a.update(feature_names_in=np.arange(4)), "feature_names_in"),
    # learning curves
    (lambda a: a.update(loss_history_0=np.r_[a["loss_history_0"][:2], np.nan]), "finite"),
    (lambda a: a.update(loss_history_0=np.r_[a["loss_history_0"][:2], np.inf]), "finite"),
    (lambda a: a.update(loss_history_0=np.r_[-np.inf, a["loss_history_0"]]), "-inf"),
    (lambda a: a.update(loss_history_0=np.zeros(0)), "empty"),
    (lambda a: a.update(loss_history_0=a["loss_history_0"].astype(np.float32)), "float64"),
    (lambda a: a.update(loss_history_0=a["loss_history_0"][None]), "loss_history_0"),
    (lambda a: a.pop("loss_history_0"), "missing field 'loss_history_0'"),
    (lambda a: a.update(loss_history_1=a["loss_history_0"]), "unexpected field"),
    # classes
    (lambda a: a.update(classes=a["classes"][::-1].copy()), "sorted"),
    (lambda a: a.update(classes=np.array([0.5, 1.5, 2.5])), "classification labels"),
    (lambda a: a.update(classes=np.array([0.0, 1.0, np.nan])), "finite"),
    (lambda a: a.update(classes=np.array(["a", "b"])), "multi_class 'multinomial'"),
    # the model kind
    (lambda a: a.update(multi_class=np.array("ovr")), "do not fit multi_class='ovr'"),
    (lambda a: a.update(multi_class=np.array("binary")), "multi_class 'binary'"),
    (lambda a: a.update(multi_class=np.array("softmax")), "multi_class 'softmax'"),
    (lambda a: a.pop("multi_class"), "missing field 'multi_class'"),
    # other fields
    (lambda a: a.update(solver=np.array("sag")), "solver 'sag'"),
    (lambda a: a.update(extra=np.zeros(3)), "unexpected field"),
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


@pytest.mark.parametrize("tamper, match", [
    (lambda a: a.update(multi_class=np.array("multinomial")),
     "do not fit multi_class='multinomial'"),
    (lambda a: a.pop("loss_history_2"), "missing field 'loss_history_2'"),
    (lambda a: a.update(loss_history_3=a["loss_history_0"]), "unexpected field"),
    (lambda a: a.update(n_iter=a["n_iter"][:1]), "do not fit multi_class='ovr'"),
])
def test_crafted_one_vs_rest_files_are_rejected(fitted_ovr, tmp_path, tamper, match):
    good = tmp_path / "good.npz"
    fitted_ovr.save(good)
    arrays = _arrays(good)
    tamper(arrays)
    bad = tmp_path / "bad.npz"
    _write(bad, arrays)
    with pytest.raises(ValueError, match=match):
        load(bad)


def test_brackets_inside_strings_are_not_nesting(fitted, iris, tmp_path):
    """The nesting limit counts JSON structure only: a string may hold brackets (here a class
    weight's key: a string class label)."""
    arrays = _arrays(_saved(fitted, tmp_path))
    _set_params(class_weight={"keys": ["[[[[{{{{\"[["], "values": [1.0]})(arrays)
    _write(tmp_path / "ok.npz", arrays)
    assert load(tmp_path / "ok.npz").class_weight == {"[[[[{{{{\"[[": 1.0}


def test_loading_warns_about_nothing(fitted, tmp_path):
    """Loaded parameters are validated without the deprecation warnings of fit."""
    arrays = _arrays(_saved(fitted, tmp_path))
    _set_params(penalty="l2", n_jobs=2, l1_ratio=None)(arrays)
    _write(tmp_path / "w.npz", arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load(tmp_path / "w.npz")
    assert (model.penalty, model.n_jobs, model.l1_ratio) == ("l2", 2, None)


def _saved(model, tmp_path):
    path = tmp_path / "good.npz"
    model.save(path)
    return path


def test_pickled_object_arrays_are_not_loaded(fitted, tmp_path):
    arrays = _arrays(_saved(fitted, tmp_path))
    arrays["classes"] = np.array([object(), object(), object()], dtype=object)  # needs pickle
    bad = tmp_path / "bad.npz"
    _write(bad, arrays)
    with pytest.raises(ValueError, match="classes.*pickle"):
        load(bad)


def _zip(path, members, compression=zipfile.ZIP_STORED):
    """A ZIP archive of the given member names and bytes."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)


def _npy(array):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=False)
    return buf.getvalue()


def _npy_header(descr, shape):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False,
                                                "shape": shape})
    return buf.getvalue()


@pytest.mark.parametrize("edit, match", [
    # a 100-byte member whose header asks for 8 TB
    (lambda m: m.update(coef=_npy_header("<f8", (10 ** 6, 10 ** 6)) + b"\0" * 32), "declares"),
    (lambda m: m.update(coef=_npy(np.zeros((3, 4)))[:-8]), "declares"),
    (lambda m: m.update(coef=_npy(np.zeros((3, 4))) + b"\0" * 8), "declares"),
    (lambda m: m.update(coef=_npy_header("<f8", (-3, -4)) + b"\0" * 96), "shape"),
    (lambda m: m.update(coef=_npy_header("|V0", (3, 4))), "dtype"),
    (lambda m: m.update(coef=b"\x93NUMPY\x09\x00" + b"\0" * 120), "version"),
    (lambda m: m.update(coef=b"not an npy file"), "'coef' cannot be read"),
])
def test_crafted_npy_members_are_rejected(fitted, tmp_path, edit, match):
    members = {k: _npy(v) for k, v in _arrays(_saved(fitted, tmp_path)).items()}
    edit(members)
    bad = tmp_path / "bad.npz"
    _zip(bad, [(k + ".npy", v) for k, v in members.items()])
    with pytest.raises(ValueError, match=match):
        load(bad)


def test_archive_structure_is_checked(fitted, tmp_path):
    members = [(k + ".npy", _npy(v)) for k, v in _arrays(_saved(fitted, tmp_path)).items()]
    cases = {
        "compressed": (members, zipfile.ZIP_DEFLATED),
        "appears twice": (members + members[:1], zipfile.ZIP_STORED),
        "not a .npy array": (members + [("README.txt", b"hi")], zipfile.ZIP_STORED),
    }
    for match, (entries, compression) in cases.items():
        bad = tmp_path / "bad.npz"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile: duplicate name
            _zip(bad, entries, compression)
        with pytest.raises(ValueError, match=match):
            load(bad)


def test_corrupted_and_foreign_files_are_rejected(fitted, tmp_path):
    raw = _saved(fitted, tmp_path).read_bytes()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(raw[: len(raw) // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(bytes(range(256)) * 10)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    flipped = bytearray(raw)
    # corrupt the middle of the archive (stored data: zip's CRC check catches it)
    flipped[len(raw) // 2] ^= 0xFF
    corrupted = tmp_path / "corrupted.npz"
    corrupted.write_bytes(bytes(flipped))
    for path in (truncated, garbage, single, empty, corrupted):
        with pytest.raises(ValueError, match="not a valid fastlr model file"):
            load(path)


def test_every_flipped_byte_or_truncation_gives_value_error_or_the_same_model(fitted, iris,
                                                                              tmp_path):
    """No corruption of a model file raises anything but ValueError; where one is not caught
    (ZIP metadata such as timestamps), the model is unchanged."""
    raw = _saved(fitted, tmp_path).read_bytes()
    bad = tmp_path / "bad.npz"
    loaded = 0
    variants = [raw[:n] for n in range(0, len(raw), 13)]
    for pos in range(0, len(raw), 3):
        flipped = bytearray(raw)
        flipped[pos] ^= 0xFF
        variants.append(bytes(flipped))
    for variant in variants:
        bad.write_bytes(variant)
        try:
            model = load(bad)
        except ValueError:
            continue
        loaded += 1
        assert_same_model(fitted, model, iris[0])
    assert loaded < len(variants) // 2


def test_zip_with_wrong_members_is_rejected(tmp_path):
    path = tmp_path / "zip.npz"
    _zip(path, [("format.npy", b"not an npy file")])
    with pytest.raises(ValueError, match="not a valid fastlr model file"):
        load(path)


def test_missing_file_is_reported_as_missing(tmp_path):
    path = tmp_path / "nowhere" / "model.npz"
    with pytest.raises(FileNotFoundError, match="no fastlr model file") as info:
        load(path)
    assert info.value.filename == str(path)
    with pytest.raises(IsADirectoryError):
        load(tmp_path)
