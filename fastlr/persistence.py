"""Save and load a fitted ``fastlr.LogisticRegression`` as a plain ``.npz`` file (no pickle).

The file is an uncompressed ZIP archive of ``.npy`` arrays, as ``numpy.savez`` writes it. It holds
only numeric and string arrays; the reader parses each ``.npy`` header itself and refuses any
array of Python objects, so loading never unpickles and never executes code. Contents (format
version 2):

* ``format`` — the string ``"fastlr.LogisticRegression"``; ``version`` — the integer 2
* ``params`` — the constructor parameters (all of them, by name) as standard JSON (RFC 8259: no
  ``NaN``/``Infinity`` literals). Values are JSON scalars (null, booleans, numbers, strings);
  a float that JSON cannot hold is the object ``{"float": "inf"}`` (or ``"-inf"``, ``"nan"``),
  so ``C=np.inf`` loads back as ``inf``; a ``class_weight`` dict is the object
  ``{"keys": [labels...], "values": [weights...]}``. NumPy scalars are saved as the Python
  numbers they equal (``np.int64(200)`` loads back as ``200``).
* ``coef`` (n_rows, n_features), ``intercept`` (n_rows,) — float32 or float64, the same for both
  (dense: a model after ``sparsify()`` is saved, and loads, with dense ``coef_``)
* ``classes`` — the sorted labels: numbers, booleans or strings (an object array of strings is
  stored as a Unicode array); labels of other types cannot be saved in this format (pickle
  the estimator instead)
* ``n_iter``, ``solver`` (fastlr's solver used: "lbfgs", "newton", "newton-cg", "gd", or
  solver="auto"'s "lbfgs+newton-cg"),
  ``multi_class``
  (the model fitted, ``multi_class_``: "binary", "multinomial" or "ovr")
* ``loss_history_<k>`` — the learning curves, float64, one per problem
* optionally ``feature_names_in``

The model kinds and their shapes, K classes, n features:

============  ======  ============  =======  =============
multi_class   K       coef          n_iter   loss_history
============  ======  ============  =======  =============
binary        2       (1, n)        (1,)     1 curve
multinomial   >= 3    (K, n)        (1,)     1 curve
ovr           >= 3    (K, n)        (K,)     K curves
============  ======  ============  =======  =============

Every field is checked on load, and a file that fails any check raises ``ValueError`` naming what
is wrong (``FileNotFoundError``/``OSError`` only when the file cannot be opened at all): the
archive structure (only uncompressed ``.npy`` members, no duplicates, no unknown fields, each
array's header matching its data); dtypes and shapes; coef and intercept finite; classes
distinct and sorted (as fit sorts them) and classification labels; ``n_iter`` in 0..2³¹−1;
feature names distinct; each learning curve non-empty, finite after its first entry (the first,
the objective at the starting point, may be +inf or NaN where a warm start's margins overflow:
fit records that); the parameters JSON nested at most 4 deep, without duplicate keys, and
passing the estimator's own validation (``fastlr._params.check_params``, without its warnings).
``save`` runs the same checks before writing, so it never writes a file that ``load`` refuses:
a model whose parameters or coefficients fail them raises ``ValueError`` and no file is written.

Version 1 (fastlr before the multinomial model: binary or one-vs-rest only, the old constructor
parameters, Python's JSON with ``NaN``/``Infinity``) still loads: its ``penalty="l2"`` becomes
the default ``penalty="deprecated"`` (the same model), ``penalty=None`` becomes ``C=np.inf``,
3+ classes get ``multi_class="ovr"`` (the model they hold), and the parameters that did not exist
take their defaults. ``save`` always writes version 2.
"""

from __future__ import annotations

import collections
import json
import math
import numbers
import os
import re
import zipfile

import numpy as np

__all__ = ["FORMAT", "VERSION", "load", "save"]

FORMAT = "fastlr.LogisticRegression"
VERSION = 2
_READS = (1, 2)  # the format versions load reads

_KINDS = ("binary", "multinomial", "ovr")
# params is an object (1) whose class_weight is an object (2) holding lists (3) of scalars; one
# level more is parsed, so that a list or object where a scalar belongs gets its own message
_MAX_JSON_DEPTH = 4
_INT32_MAX = int(np.iinfo(np.int32).max)
_V1_PARAMS = ("penalty", "C", "fit_intercept", "solver", "max_iter", "tol", "learning_rate",
              "class_weight", "warm_start", "n_threads", "verbose")
_NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _param_names():
    """The estimator's constructor parameters (scikit-learn reads them from its signature)."""
    from .estimator import LogisticRegression

    return tuple(LogisticRegression._get_param_names())


def _bad(msg: str) -> ValueError:
    return ValueError(f"not a valid fastlr model file: {msg}")


def _unsaveable(msg: str) -> ValueError:
    return ValueError(f"cannot save this model: {msg}")


# ---------------------------------------------------------------------------------- save
def _plain_classes(classes: np.ndarray) -> np.ndarray:
    if classes.dtype.kind in "biufU":
        return classes
    if classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes):
        return classes.astype(str)
    raise _unsaveable(f"classes_ of dtype {classes.dtype} cannot be saved without pickle; "
                      "only numeric, boolean or string labels can")


def _plain_scalar(value):
    """``value`` as the JSON scalar (None, bool, int, float, str) it equals exactly, or raise
    TypeError/ValueError. NumPy scalars become Python ones."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, str):  # np.str_ too
        return str(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if number != value and not (math.isnan(number) and value != value):
            raise ValueError(f"{value!r} has no exact float64 value")
        return number
    raise TypeError(f"a value of type {type(value).__name__} is not a number, boolean, "
                    "string or None")


def _encode_float(value):
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    return value


def _encode_param(name, value):
    """One constructor parameter as a JSON value; ValueError naming it if it cannot be saved."""
    try:
        if name == "class_weight" and isinstance(value, dict):
            keys = [_plain_scalar(k) for k in value]
            if any(isinstance(k, float) and not math.isfinite(k) for k in keys):
                raise ValueError("a non-finite float key cannot be saved")
            encoded = {"keys": keys,
                       "values": [_encode_float(_plain_scalar(v)) for v in value.values()]}
        else:
            encoded = _encode_float(_plain_scalar(value))
        json.dumps(encoded, allow_nan=False)  # e.g. an int too long for str()
    except (TypeError, ValueError) as exc:
        raise _unsaveable(f"parameter {name!r} = {value!r} cannot be saved: {exc}") from exc
    return encoded


def _model_kind(estimator, n_classes):
    kind = getattr(estimator, "multi_class_", None)
    if kind is None:  # fitted by a fastlr that had only binary and one-vs-rest models
        kind = "binary" if n_classes == 2 else "ovr"
    return str(kind)


def save(estimator, path) -> None:
    """Write a fitted estimator to ``path`` (``.npz`` is not appended: the path is used as is).

    The model is checked exactly as ``load`` checks a file before anything is written;
    ``ValueError`` naming the problem if it cannot be saved (a parameter that is not a number,
    boolean, string or None, an invalid parameter, non-finite coefficients, object labels)."""
    from sklearn.utils.validation import check_is_fitted

    from ._fit import check_params

    check_is_fitted(estimator)
    missing = [a for a in ("coef_", "intercept_", "classes_", "n_iter_", "solver_",
                           "loss_history_") if not hasattr(estimator, a)]
    if missing:
        raise _unsaveable(f"the estimator has no {', '.join(missing)}")
    params = estimator.get_params(deep=False)
    try:
        check_params(params, warn=False)
    except (TypeError, ValueError) as exc:
        raise _unsaveable(f"invalid parameters ({exc})") from exc
    encoded = {name: _encode_param(name, params[name]) for name in _param_names()}
    classes = _plain_classes(np.asarray(estimator.classes_))
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION),
        "params": np.array(json.dumps(encoded, allow_nan=False)),
        # a sparsified model (scipy.sparse coef_) is saved dense: it loads densified
        "coef": (estimator.coef_.toarray() if hasattr(estimator.coef_, "toarray")
                 else np.asarray(estimator.coef_)),
        "intercept": np.asarray(estimator.intercept_),
        "classes": classes,
        "n_iter": np.asarray(estimator.n_iter_),
        "solver": np.array(str(estimator.solver_)),
        "multi_class": np.array(_model_kind(estimator, classes.shape[0])),
    }
    if hasattr(estimator, "feature_names_in_"):
        arrays["feature_names_in"] = np.asarray(estimator.feature_names_in_).astype(str)
    history = estimator.loss_history_
    histories = [history] if isinstance(history, np.ndarray) else list(history)
    for k, h in enumerate(histories):
        arrays[f"loss_history_{k}"] = np.asarray(h, dtype=np.float64)
    _model_from_arrays(arrays, _unsaveable)  # what load would refuse is not written
    with open(os.fspath(path), "wb") as fh:
        np.savez(fh, **arrays)


# ---------------------------------------------------------------------------------- read
def _read_array(zf, info, name):
    """One ``.npy`` member, parsed here: object dtypes are refused before any data is read, and
    the header's shape and dtype must account for exactly the bytes the member holds (so a
    small file cannot make the reader allocate more than it holds)."""
    from numpy.lib import format as npy

    def guarded(call, *args):  # NumPy's and zipfile's errors on bad bytes, as ValueError
        try:
            return call(*args)
        except Exception as exc:  # ValueError, BadZipFile (CRC), EOFError, OSError, ...
            raise _bad(f"field {name!r} cannot be read ({type(exc).__name__}: {exc})") from exc

    with guarded(zf.open, info) as fh:
        version = guarded(npy.read_magic, fh)
        if version not in ((1, 0), (2, 0)):
            raise _bad(f"field {name!r} has .npy format version {version}, not 1.0 or 2.0")
        read_header = (npy.read_array_header_1_0 if version == (1, 0)
                       else npy.read_array_header_2_0)
        shape, fortran_order, dtype = guarded(read_header, fh)
        if dtype.hasobject:
            raise _bad(f"field {name!r} holds Python objects (dtype {dtype}), which would need "
                       "pickle: not loaded")
        if min(shape, default=0) < 0 or dtype.itemsize == 0:
            raise _bad(f"field {name!r} has shape {shape} of dtype {dtype}")
        nbytes = math.prod(shape) * dtype.itemsize
        held = info.file_size - fh.tell()
        if nbytes != held:
            raise _bad(f"field {name!r}: its header declares shape {shape} of {dtype} "
                       f"({nbytes} bytes) but the member holds {held} bytes of data")
        data = guarded(fh.read)  # to the end: the ZIP CRC is checked there
    if len(data) != nbytes:
        raise _bad(f"field {name!r} is truncated ({len(data)} of {nbytes} bytes)")
    flat = np.frombuffer(bytearray(data), dtype=dtype)  # writable, owns a copy
    if not dtype.isnative:  # written on a machine of the other byte order
        flat = flat.astype(dtype.newbyteorder("="))
    return flat.reshape(shape, order="F" if fortran_order else "C")


def _read_archive(fh) -> dict:
    """The arrays of an uncompressed .npz archive, by field name."""
    try:
        zf = zipfile.ZipFile(fh)
    except Exception as exc:  # BadZipFile, OSError, ... on bytes that are not a ZIP archive
        raise _bad(f"not a readable .npz (ZIP) archive ({type(exc).__name__}: {exc})") from exc
    with zf:
        members = {}
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                raise _bad(f"member {info.filename!r} is not a .npy array")
            name = info.filename[:-len(".npy")]
            if name in members:
                raise _bad(f"field {name!r} appears twice")
            if info.compress_type != zipfile.ZIP_STORED:
                raise _bad(f"field {name!r} is compressed; model files are uncompressed "
                           "(numpy.savez)")
            members[name] = info
        return {name: _read_array(zf, info, name) for name, info in members.items()}


# ---------------------------------------------------------------------------------- check
def _field(arrays, name, kinds, ndim, bad):
    if name not in arrays:
        raise bad(f"missing field {name!r}")
    arr = arrays[name]
    if arr.dtype.kind not in kinds:
        raise bad(f"field {name!r} has dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise bad(f"field {name!r} has shape {arr.shape}, expected {ndim} dimension(s)")
    return arr


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{\]}]')


def _json_too_deep(text: str, limit: int) -> bool:
    """Whether the JSON text nests arrays/objects more than ``limit`` deep (brackets inside
    strings do not count); it stops at the first bracket past ``limit``, so a deeply nested
    text is refused quickly and before the recursive parser sees it."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return True
        elif token in "]}":
            depth -= 1
    return False


def _no_duplicate_keys(pairs):
    result = dict(pairs)
    if len(result) != len(pairs):
        counts = collections.Counter(k for k, _ in pairs)
        twice = sorted(k for k, n in counts.items() if n > 1)
        raise ValueError(f"duplicate keys in an object: {twice[:10]}")
    return result


def _reject_constant(name):
    raise ValueError(f"{name} is not standard JSON (write non-finite floats as "
                     '{"float": "inf"})')


def _decode_value(name, value, version, bad):
    if isinstance(value, dict) and version >= 2:
        if set(value) == {"float"} and value["float"] in _NONFINITE:
            return _NONFINITE[value["float"]]
        raise bad(f"parameter {name!r} is an object other than "
                  '{"float": "inf" | "-inf" | "nan"}')
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise bad(f"parameter {name!r} has a value of type {type(value).__name__}")


def _decode_class_weight(cw, version, bad):
    keys, values = cw.get("keys"), cw.get("values")
    if (set(cw) != {"keys", "values"} or not isinstance(keys, list)
            or not isinstance(values, list) or len(keys) != len(values)):
        raise bad("class_weight must hold two lists 'keys' and 'values' of equal length")
    for key in keys:
        if not (key is None or isinstance(key, (bool, int, float, str))):
            raise bad(f"class_weight key {key!r} is not a class label (a number, boolean, "
                      "string or null)")
    weights = [_decode_value("class_weight", v, version, bad) for v in values]
    decoded = dict(zip(keys, weights))
    if len(decoded) != len(keys):
        raise bad("class_weight has duplicate keys")
    return decoded


def _params(text: str, version: int, bad) -> dict:
    """The parameters JSON, parsed and decoded (not yet validated)."""
    if _json_too_deep(text, _MAX_JSON_DEPTH):
        raise bad(f"params nest more than {_MAX_JSON_DEPTH} levels deep (a model's "
                  "parameters nest 3 levels: the object, class_weight's object, its lists)")
    try:
        params = json.loads(text, object_pairs_hook=_no_duplicate_keys,
                            parse_constant=_reject_constant if version >= 2 else None)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise bad(f"params is not valid JSON ({exc})") from exc
    names = _V1_PARAMS if version == 1 else _param_names()
    if not isinstance(params, dict) or set(params) != set(names):
        raise bad(f"params must be an object with exactly the keys {sorted(names)}")
    decoded = {}
    for name, value in params.items():
        if name == "class_weight" and isinstance(value, dict):
            decoded[name] = _decode_class_weight(value, version, bad)
        else:
            decoded[name] = _decode_value(name, value, version, bad)
    return decoded


def _upgrade_v1_params(params: dict, n_classes: int, bad) -> dict:
    """Version-1 parameters (the old signature) as the current signature's, same model."""
    from .estimator import LogisticRegression

    new = LogisticRegression().get_params(deep=False)
    params = dict(params)
    penalty = params.pop("penalty")
    if penalty not in ("l2", None):
        raise bad(f"invalid parameters (penalty must be 'l2' or None, got {penalty!r})")
    new.update(params)
    if penalty is None:
        new["C"] = math.inf
    new["multi_class"] = "ovr" if n_classes > 2 else "auto"
    return new


def _check_classes(classes, bad):
    from sklearn.utils.multiclass import check_classification_targets

    if classes.dtype.kind == "f" and not np.all(np.isfinite(classes)):
        raise bad("classes must be finite")
    if classes.shape[0] < 2 or not np.all(classes[1:] > classes[:-1]):
        raise bad("classes must hold at least 2 distinct labels, sorted (as fit sorts them)")
    try:
        check_classification_targets(classes)
    except ValueError as exc:
        raise bad(f"classes are not classification labels ({exc})") from exc


def _model_from_arrays(arrays: dict, bad):
    """Check the fields of a model file and build the estimator they describe."""
    from ._fit import check_params
    from .estimator import LogisticRegression

    fmt = _field(arrays, "format", "U", 0, bad)
    if str(fmt) != FORMAT:
        raise bad(f"format is {str(fmt)!r}, expected {FORMAT!r}")
    version = int(_field(arrays, "version", "iu", 0, bad))
    if version not in _READS:
        raise bad(f"format version {version} is not supported (this fastlr reads versions "
                  f"{', '.join(map(str, _READS))})")
    params_text = str(_field(arrays, "params", "U", 0, bad))
    coef = _field(arrays, "coef", "f", 2, bad)
    intercept = _field(arrays, "intercept", "f", 1, bad)
    classes = _field(arrays, "classes", "biufU", 1, bad)
    n_iter = _field(arrays, "n_iter", "iu", 1, bad)
    solver = str(_field(arrays, "solver", "U", 0, bad))
    from ._solvers import SOLVERS  # the one list of fastlr's algorithms (imports Numba: lazily)

    if solver not in SOLVERS:
        raise bad(f"solver {solver!r} is not a fastlr solver ({', '.join(SOLVERS)})")

    if coef.dtype not in (np.float32, np.float64) or intercept.dtype != coef.dtype:
        raise bad(f"coef/intercept dtypes {coef.dtype}/{intercept.dtype} are not a matching "
                  "float32/float64 pair")
    n_features = coef.shape[1]
    if n_features < 1 or not np.all(np.isfinite(coef)) or not np.all(np.isfinite(intercept)):
        raise bad("coef and intercept must be non-empty and finite")
    _check_classes(classes, bad)
    n_classes = classes.shape[0]

    if version == 1:
        kind = "binary" if n_classes == 2 else "ovr"
    else:
        kind = str(_field(arrays, "multi_class", "U", 0, bad))
        if kind not in _KINDS:
            raise bad(f"multi_class {kind!r} is not one of {', '.join(_KINDS)}")
        if (kind == "binary") != (n_classes == 2):
            raise bad(f"multi_class {kind!r} does not fit {n_classes} classes (binary is "
                      "exactly 2)")
    rows = 1 if kind == "binary" else n_classes
    n_problems = n_classes if kind == "ovr" else 1
    if coef.shape[0] != rows or intercept.shape != (rows,) or n_iter.shape != (n_problems,):
        raise bad(f"coef {coef.shape}, intercept {intercept.shape} and n_iter {n_iter.shape} "
                  f"do not fit multi_class={kind!r} with {n_classes} classes (expected coef "
                  f"({rows}, n_features), intercept ({rows},), n_iter ({n_problems},))")
    if np.any(n_iter < 0) or np.any(n_iter > _INT32_MAX):
        raise bad(f"n_iter {n_iter.tolist()} must be in 0..{_INT32_MAX}")

    names = None
    if "feature_names_in" in arrays:
        names = _field(arrays, "feature_names_in", "U", 1, bad)
        if names.shape[0] != n_features:
            raise bad(f"{names.shape[0]} feature names for {n_features} features")
        if np.unique(names).shape[0] != n_features:
            raise bad("feature names must be distinct")

    histories = []
    for k in range(n_problems):
        h = _field(arrays, f"loss_history_{k}", "f", 1, bad)
        if h.dtype != np.float64:
            raise bad(f"field 'loss_history_{k}' has dtype {h.dtype}, expected float64")
        if h.shape[0] < 1:
            raise bad(f"loss_history_{k} is empty (a learning curve starts with the "
                      "objective at the starting point)")
        if not (np.all(np.isfinite(h[1:])) and h[0] != -math.inf):
            raise bad(f"loss_history_{k} must be finite after its first entry (and the first "
                      "not -inf)")
        histories.append(h)

    known = {"format", "version", "params", "coef", "intercept", "classes", "n_iter",
             "solver", "feature_names_in"} | {f"loss_history_{k}" for k in range(n_problems)}
    if version >= 2:
        known.add("multi_class")
    unknown = sorted(set(arrays) - known)
    if unknown:
        raise bad(f"unexpected field(s) {unknown} for a {kind} model with {n_classes} classes")

    params = _params(params_text, version, bad)
    if version == 1:
        params = _upgrade_v1_params(params, n_classes, bad)
    try:
        est = LogisticRegression(**params)
        check_params(est.get_params(deep=False), warn=False)
    except (TypeError, ValueError) as exc:
        raise bad(f"invalid parameters ({exc})") from exc

    est.coef_ = coef
    est.intercept_ = intercept
    est.classes_ = classes
    est.solver_ = solver
    est.multi_class_ = kind
    est.n_iter_ = n_iter.astype(np.int32)
    est.n_features_in_ = n_features
    if names is not None:
        est.feature_names_in_ = names.astype(object)
    est.loss_history_ = histories if kind == "ovr" else histories[0]
    return est


def load(path):
    """Read a model written by ``save``: a fitted ``fastlr.LogisticRegression``.

    ``ValueError`` naming the problem for a file that is not a valid model file (corrupted,
    truncated, crafted, another format, a version this fastlr does not read); the ``OSError``
    that ``open`` raises when the file cannot be opened (``FileNotFoundError`` for a missing
    file, ``IsADirectoryError``, ``PermissionError``)."""
    path = os.fspath(path)
    try:
        fh = open(path, "rb")
    except FileNotFoundError as exc:
        raise FileNotFoundError(exc.errno, "no fastlr model file", path) from exc
    with fh:
        arrays = _read_archive(fh)
    return _model_from_arrays(arrays, _bad)
