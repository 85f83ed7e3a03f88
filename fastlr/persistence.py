"""Save and load a fitted ``fastlr.LogisticRegression`` as a plain ``.npz`` file (no pickle).

The file holds only numeric/string arrays, written by ``numpy.savez`` and read with
``numpy.load(allow_pickle=False)``, so loading never executes code. Contents:

* ``format`` — the string ``"fastlr.LogisticRegression"``; ``version`` — integer format version
* ``params`` — the constructor parameters as a JSON string (only JSON scalars: numbers, strings,
  booleans, null, and a dict of class weights)
* ``coef``, ``intercept``, ``classes``, ``n_iter``, ``solver`` (the one used); optionally ``feature_names_in``, and the
  learning curves as ``loss_history_<k>``

Every field is checked on load (presence, dtype, shape, finiteness, consistency with each other);
a corrupted, truncated or crafted file raises ``ValueError`` naming what is wrong. Classes may be
numbers, booleans or strings (object arrays of strings are stored as Unicode arrays); labels of
other types cannot be saved in this format (pickle the estimator instead).
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

__all__ = ["FORMAT", "VERSION", "load", "save"]

FORMAT = "fastlr.LogisticRegression"
VERSION = 1


def _param_names():
    """The estimator's constructor parameters (scikit-learn reads them from its signature)."""
    from .estimator import LogisticRegression

    return tuple(LogisticRegression._get_param_names())


def _plain_classes(classes: np.ndarray) -> np.ndarray:
    if classes.dtype.kind in "biufU":
        return classes
    if classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes):
        return classes.astype(str)
    raise ValueError(f"classes_ of dtype {classes.dtype} cannot be saved without pickle; "
                     "only numeric, boolean or string labels can")


def _jsonable_class_weight(cw):
    if cw is None or isinstance(cw, str):
        return cw
    if isinstance(cw, dict):
        return {"keys": [k.item() if hasattr(k, "item") else k for k in cw],
                "values": [float(v) for v in cw.values()]}
    raise ValueError(f"class_weight {cw!r} cannot be saved")


def save(estimator, path) -> None:
    """Write a fitted estimator to ``path`` (``.npz`` is not appended: the path is used as is)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    params = estimator.get_params()
    params = {k: params[k] for k in _param_names()}
    params["class_weight"] = _jsonable_class_weight(params["class_weight"])
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "params": np.array(json.dumps(params)),
        "coef": np.asarray(estimator.coef_),
        "intercept": np.asarray(estimator.intercept_),
        "classes": _plain_classes(np.asarray(estimator.classes_)),
        "n_iter": np.asarray(estimator.n_iter_),
        "solver": np.array(str(estimator.solver_)),
    }
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(estimator.feature_names_in_).astype(str)
    history = estimator.loss_history_
    histories = [history] if isinstance(history, np.ndarray) else list(history)
    for k, h in enumerate(histories):
        arrays[f"loss_history_{k}"] = np.asarray(h, dtype=np.float64)
    with open(os.fspath(path), "wb") as fh:
        np.savez(fh, **arrays)


def _bad(msg: str):
    return ValueError(f"not a valid fastlr model file: {msg}")


def _field(data, name, kinds, ndim=None):
    if name not in data.files:
        raise _bad(f"missing field {name!r}")
    try:
        arr = data[name]
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _bad(f"field {name!r} cannot be read ({exc})") from exc
    if not isinstance(arr, np.ndarray):
        raise _bad(f"field {name!r} is not a .npy array")
    if arr.dtype.kind not in kinds:
        raise _bad(f"field {name!r} has dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise _bad(f"field {name!r} has shape {arr.shape}, expected {ndim} dimension(s)")
    return arr


def _params(text: str) -> dict:
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad(f"params is not valid JSON ({exc})") from exc
    names = _param_names()
    if not isinstance(params, dict) or set(params) != set(names):
        raise _bad(f"params must be an object with exactly the keys {sorted(names)}")
    cw = params["class_weight"]
    if isinstance(cw, dict):
        keys, values = cw.get("keys"), cw.get("values")
        if (set(cw) != {"keys", "values"} or not isinstance(keys, list)
                or not isinstance(values, list) or len(keys) != len(values)):
            raise _bad("class_weight must hold two lists 'keys' and 'values' of equal length")
        params["class_weight"] = dict(zip(keys, values))
    for name, value in params.items():
        if name != "class_weight" and not (value is None
                                           or isinstance(value, (bool, int, float, str))):
            raise _bad(f"parameter {name!r} has a value of type {type(value).__name__}")
    return params


def load(path):
    """Read a model written by ``save``; raise ValueError if the file is not a valid one."""
    from ._fit import check_params
    from .estimator import LogisticRegression

    try:
        data = np.load(os.fspath(path), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise _bad(f"{path!r} is not a readable .npz archive ({exc})") from exc
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise _bad(f"{path!r} holds a single array, not an .npz archive")
    with data:
        fmt = _field(data, "format", "U", ndim=0)
        if str(fmt) != FORMAT:
            raise _bad(f"format is {str(fmt)!r}, expected {FORMAT!r}")
        version = _field(data, "version", "iu", ndim=0)
        if int(version) != VERSION:
            raise _bad(f"format version {int(version)} is not supported (this fastlr reads "
                       f"version {VERSION})")
        params = _params(str(_field(data, "params", "U", ndim=0)))
        coef = _field(data, "coef", "f", ndim=2)
        intercept = _field(data, "intercept", "f", ndim=1)
        classes = _field(data, "classes", "biufU", ndim=1)
        n_iter = _field(data, "n_iter", "iu", ndim=1)
        solver = str(_field(data, "solver", "U", ndim=0))
        if solver not in ("gd", "lbfgs", "newton"):
            raise _bad(f"solver {solver!r} is not a fastlr solver")
        n_problems, n_features = coef.shape
        if coef.dtype not in (np.float32, np.float64) or intercept.dtype != coef.dtype:
            raise _bad(f"coef/intercept dtypes {coef.dtype}/{intercept.dtype} are not a "
                       "matching float32/float64 pair")
        if n_features < 1 or not np.all(np.isfinite(coef)) or not np.all(np.isfinite(intercept)):
            raise _bad("coef and intercept must be non-empty and finite")
        if classes.shape[0] < 2 or np.unique(classes).shape[0] != classes.shape[0]:
            raise _bad("classes must hold at least 2 distinct labels")
        expected = 1 if classes.shape[0] == 2 else classes.shape[0]
        if n_problems != expected or intercept.shape != (n_problems,) or \
                n_iter.shape != (n_problems,):
            raise _bad(f"coef {coef.shape}, intercept {intercept.shape} and n_iter "
                       f"{n_iter.shape} do not fit {classes.shape[0]} classes")
        names = None
        if "feature_names_in" in data.files:
            names = _field(data, "feature_names_in", "U", ndim=1)
            if names.shape[0] != n_features:
                raise _bad(f"{names.shape[0]} feature names for {n_features} features")
        histories = []
        for k in range(n_problems):
            histories.append(_field(data, f"loss_history_{k}", "f", ndim=1))
        try:
            est = LogisticRegression(**params)
            check_params(est.get_params())
        except (TypeError, ValueError) as exc:
            raise _bad(f"invalid parameters ({exc})") from exc

    est.coef_ = coef
    est.intercept_ = intercept
    est.classes_ = classes
    est.solver_ = solver
    est.n_iter_ = n_iter.astype(np.int32)
    est.n_features_in_ = n_features
    if names is not None:
        est.feature_names_in_ = names.astype(object)
    est.loss_history_ = histories[0] if n_problems == 1 else histories
    return est
