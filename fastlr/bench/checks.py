"""Every registry entry checked against its NumPy reference, before anything is timed.

The entries come from :mod:`fastlr.implementations`, grouped by (operation, input): each
non-reference entry of a group is compared with the group's reference (``reference_for``) on a
small awkward problem for that input, per dtype (and memory order for dense X). A new entry is
checked without a change here; an entry with an input this module cannot build is reported as not
checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import make_csr_problem, make_problem

__all__ = ["INPUTS", "TOLERANCE", "Check", "check_registry", "max_rel_error"]

# relative tolerance of an entry against the NumPy reference. float32: the reference forms X @ w
# and Xᵀ·dz in float32 BLAS while the kernels accumulate in float64, so the reference itself is
# only good to ~1e-6 relative; 1e-4 leaves room for m = 1e6 while catching any real bug.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}

#: the inputs this module builds problems for (``Kernel.input``)
INPUTS = ("dense", "csr", "vector")


def max_rel_error(result, expected) -> float:
    """Largest error over the parts of a result, each relative to max(1, max |expected part|).

    A result is a tuple (J, dw, db[, H]) or one value or array (cost, sigmoid); inf when any part
    is not finite or the shapes differ.
    """
    parts = result if isinstance(result, tuple) else (result,)
    wanted = expected if isinstance(expected, tuple) else (expected,)
    if len(parts) != len(wanted):
        return math.inf
    worst = 0.0
    for got, want in zip(parts, wanted):
        got = np.asarray(got, dtype=np.float64)
        want = np.asarray(want, dtype=np.float64)
        if got.shape != want.shape or not np.all(np.isfinite(got)):
            return math.inf
        if got.size:
            scale = max(1.0, float(np.max(np.abs(want))))
            worst = max(worst, float(np.max(np.abs(got - want))) / scale)
    return worst


@dataclass
class Check:
    operation: str
    input: str
    key: str
    label: str
    dtype: str
    layout: str
    max_error: float
    tolerance: float
    error: str | None = None  # the exception the entry raised, if it raised

    @property
    def ok(self) -> bool:
        return self.max_error <= self.tolerance


def _awkward_dense(dtype, layout, seed):
    """1,003 x 37 (neither a multiple of a block size), a few rows at margins of ±40."""
    w, b, X, y = make_problem(1003, 37, dtype, layout, seed=seed)
    X = X.copy(order=layout)
    X[:5] *= 40.0
    return w, b, X, y


def _awkward_csr(dtype, seed):
    """1,003 x 37 CSR at 30 %, an empty row, a few rows at margins of ±40."""
    import scipy.sparse as sp

    w, b, X, y = make_csr_problem(1003, 37, 0.3, dtype, seed=seed)
    X = sp.vstack([X[:7], sp.csr_matrix((1, X.shape[1]), dtype=X.dtype), X[8:]], format="csr")
    X.data[:X.indptr[5]] *= 40.0
    return w, b, X, y


def _multinomial(w, X, seed, n_classes=4):
    """Coefficients (n, K), intercepts (K,) and class labels for the multinomial operation."""
    rng = np.random.default_rng([seed, n_classes])
    W = np.column_stack([w * (k - 1.5) for k in range(n_classes)]) + 0.1 * rng.standard_normal(
        (X.shape[1], n_classes))
    return W, 0.1 * rng.standard_normal(n_classes), rng.integers(0, n_classes, X.shape[0])


def _problems(operation: str, input: str, dtype: str, layouts, seed: int):
    """``(layout, call, n_elements, elements_per_row)`` per problem of this input and dtype;
    ``call(func, rows)`` runs func on the problem, or on its first ``rows`` rows (entries whose
    ``max_elements`` is smaller than the problem)."""
    if input == "vector":
        big = 3e38 if dtype == "float32" else 1e308
        z = np.array([0.0, 1.0, -1.0, 37.0, -37.0, 1000.0, -1000.0, 1e20, -1e20, big, -big], dtype=dtype)
        yield "-", (lambda func, rows: func(z if rows is None else z[:rows])), z.size, 1
        return
    if input == "dense":
        made = [(layout, _awkward_dense(dtype, layout, seed)) for layout in layouts]
    elif input == "csr":
        made = [("CSR", _awkward_csr(dtype, seed))]
    else:
        raise KeyError(input)
    for layout, (w, b, X, y) in made:
        s = np.random.default_rng(seed).uniform(0.5, 2.0, X.shape[0])
        if operation.startswith("multinomial"):
            w, b, y = _multinomial(w, X, seed)

        def call(func, rows, w=w, b=b, X=X, y=y, s=s):
            r = slice(None) if rows is None else slice(0, rows)
            return func(w, b, X[r], y[r], sample_weight=s[r], l2=0.1)

        yield layout, call, X.shape[0] * X.shape[1], X.shape[1]


def check_registry(dtypes=("float64",), layouts=("C",), seed: int = 1):
    """(checks, not_checked): every non-reference entry against its reference; ``not_checked``
    lists ``(key, why)`` for entries whose input has no problem here."""
    from ..implementations import KERNELS, reference_for, select

    checks, not_checked = [], []
    groups = dict.fromkeys((k.operation, k.input) for k in KERNELS.values())
    for operation, input in groups:
        entries = [k for k in select(operation, input) if not k.reference]
        if input not in INPUTS:
            not_checked += [(k.key, f"no bench problem for input {input!r}") for k in entries]
            continue
        for dtype in dtypes:
            for layout, call, elements, per_row in _problems(operation, input, dtype, layouts,
                                                             seed):
                for k in entries:
                    rows = None
                    if k.max_elements is not None and elements > k.max_elements:
                        rows = max(1, k.max_elements // per_row)
                    expected = call(reference_for(k).func, rows)
                    err, raised = math.inf, None
                    try:
                        err = max_rel_error(call(k.func, rows), expected)
                    except Exception as exc:  # a kernel that raises fails its check, the run goes on
                        raised = f"{type(exc).__name__}: {exc}"
                    checks.append(Check(operation, input, k.key, k.label, dtype, layout, err,
                                        TOLERANCE[dtype], raised))
    return checks, not_checked
