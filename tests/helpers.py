"""Shared test helpers: the curated nasty inputs, the independent answers, and problem generators.

* **Curated cases** (as in bottleneck's tests/util.py): every :class:`Case` has an ``id`` naming
  its shape, dtype, layout and options, so a failing test names its input. Cases are described
  cheaply at import (for parametrisation) and their arrays built on first use, once per session.
  Dense layouts hold the same logical values in different memory layouts:

  * ``C``, ``F`` — contiguous copies;
  * ``C[::2]`` — every other row of a C array twice as tall (rows strided, A layout);
  * ``C[:,::3]`` — every third column of a C array three times as wide;
  * ``F[::2]`` — every other row of an F array (column-major walk, A layout);
  * ``C[::-1,::-1]`` — negative strides in both axes.

  The elements a strided view skips are NaN: a kernel that reads outside the view returns NaN.
  Sparse layouts are scipy CSR matrices equal to the dense values: ``CSR`` (int32 indices),
  ``CSR-int64`` (int64 indices), ``CSR-dup`` (every value stored as two halves, in reversed
  column order: duplicate and unsorted indices) and ``CSR-zeros`` (explicitly stored zeros).
  Sparse cases have empty rows.

  ``scale`` multiplies X and divides w by the same factor (the margins stay of order 1): at 1e-200
  (float64) ‖w‖² overflows, so with an L2 term J is +inf while the gradient is finite (a huge
  warm start; hardening round 3); at 1e-37 (float32) a tenth of X is subnormal and X·X products
  underflow (the float32 fit that overflowed its coefficients).

* **Independent answers**: :func:`closed_form` (margins and gradient in long double, the loss
  from ``np.logaddexp``, σ from ``scipy.special.expit``, sums by ``math.fsum``; the Hessian from
  NumPy in long double) — no code from fastlr; :func:`sk_objective`, scikit-learn's objective
  C·Σ sᵢ·Lᵢ + ½‖w‖² written out in NumPy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

DENSE_LAYOUTS = ("C", "F", "C[::2]", "C[:,::3]", "F[::2]", "C[::-1,::-1]")
#: byte-swapped ("big-endian" on this machine) C and F copies: converted to native, not promoted
SWAPPED_LAYOUTS = ("C-swapped", "F-swapped")
SPARSE_LAYOUTS = ("CSR", "CSR-int64", "CSR-dup", "CSR-zeros")
LAYOUTS = DENSE_LAYOUTS  # what the property tests draw from
DTYPES = (np.float64, np.float32)

#: relative tolerance per dtype, applied to the error scales of ``closed_form``
TOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-5}


def is_sparse_layout(layout: str) -> bool:
    return layout.startswith("CSR")


def _csr(base: np.ndarray, index_dtype=np.int32):
    import scipy.sparse as sp

    X = sp.csr_matrix(base)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


def arrange(base: np.ndarray, layout: str):
    """A view (dense) or CSR matrix (sparse) with ``base``'s values in the named layout."""
    import scipy.sparse as sp

    m, n = base.shape
    if layout == "C":
        return np.ascontiguousarray(base)
    if layout == "F":
        return np.asfortranarray(base)
    if layout == "C[::2]":
        big = np.full((2 * m, n), np.nan, dtype=base.dtype)
        big[::2] = base
        return big[::2]
    if layout == "C[:,::3]":
        big = np.full((m, 3 * n), np.nan, dtype=base.dtype)
        big[:, ::3] = base
        return big[:, ::3]
    if layout == "F[::2]":
        big = np.full((2 * m, n), np.nan, dtype=base.dtype, order="F")
        big[::2] = base
        return big[::2]
    if layout == "C[::-1,::-1]":
        return np.ascontiguousarray(base[::-1, ::-1])[::-1, ::-1]
    if layout in SWAPPED_LAYOUTS:
        order = layout[0]
        return np.asarray(base, order=order).astype(base.dtype.newbyteorder(), order=order)
    if layout == "CSR":
        return _csr(base)
    if layout == "CSR-int64":
        return _csr(base, np.int64)
    if layout in ("CSR-dup", "CSR-zeros"):
        X = _csr(base)
        data, index, indptr = [], [], [0]
        for i in range(m):
            lo, hi = X.indptr[i], X.indptr[i + 1]
            values, cols = X.data[lo:hi], X.indices[lo:hi]
            if layout == "CSR-dup":  # halves are exact: v/2 + v/2 == v; reversed: unsorted
                values, cols = np.tile(values[::-1] / 2, 2), np.tile(cols[::-1], 2)
            else:  # an explicitly stored zero in a column the row does not use, if any
                free = np.setdiff1d(np.arange(n), cols)
                if free.size:
                    values, cols = np.append(values, 0), np.append(cols, free[i % free.size])
            data.append(values)
            index.append(cols)
            indptr.append(indptr[-1] + len(cols))
        return sp.csr_matrix((np.concatenate(data).astype(base.dtype),
                              np.concatenate(index).astype(np.int32),
                              np.array(indptr, dtype=np.int32)), shape=(m, n))
    raise ValueError(f"unknown layout {layout!r}")


def dense(X) -> np.ndarray:
    """The dense values of X (CSR summed over duplicates, as scipy defines them)."""
    return X.toarray() if hasattr(X, "toarray") else np.asarray(X)


@dataclass(frozen=True)
class Data:
    X: object
    y: np.ndarray
    w: np.ndarray
    b: float
    sample_weight: np.ndarray | None
    l2: float

    @property
    def args(self):
        return (self.w, self.b, self.X, self.y)

    @property
    def kwargs(self):
        return {"sample_weight": self.sample_weight, "l2": self.l2}


@dataclass(frozen=True)
class Case:
    m: int
    n: int
    dtype: type
    layout: str = "C"
    weighted: bool = False
    l2: float = 0.0
    soft: bool = False  # labels anywhere in [0, 1] instead of {0, 1}
    seed: int = 0
    classes: int = 0  # K > 0: a multinomial case (W (n, K), b (K,), y class indices)
    scale: float = 1.0  # X·scale and w/scale: the same margins at extreme magnitudes

    @property
    def input(self) -> str:
        """The registry input kind this case feeds: "dense" or "csr"."""
        return "csr" if is_sparse_layout(self.layout) else "dense"

    @property
    def id(self) -> str:
        opts = [o for o, on in (("w", self.weighted), (f"l2={self.l2:g}", self.l2), ("soft", self.soft),
                                (f"K={self.classes}", self.classes),
                                (f"scale={self.scale:g}", self.scale != 1.0))
                if on]
        return "-".join([f"{self.m}x{self.n}", np.dtype(self.dtype).name, self.layout, *opts])

    @property
    def elements(self) -> int:
        return self.m * self.n

    def data(self) -> Data:
        return _build(self)


@functools.lru_cache(maxsize=None)
def _values(m: int, n: int, dtype, weighted: bool, soft: bool, seed: int, sparse: bool,
            scale: float = 1.0):
    """Logical (C-ordered) values of a problem; shared by all layouts of it."""
    rng = np.random.default_rng([seed, m, n])
    X = (rng.standard_normal((m, n)) * scale).astype(dtype)
    if sparse:  # about 30 % nonzeros, and every fifth row empty
        X[rng.random((m, n)) < 0.7] = 0
        X[::5] = 0
    w = rng.standard_normal(n) * (2.0 / math.sqrt(n) / scale)  # margins of order 2
    b = 0.3
    z = X.astype(np.longdouble) @ w.astype(np.longdouble) + b
    z = z.astype(np.float64)
    y = rng.random(m) if soft else (rng.random(m) < expit(z)).astype(np.float64)
    s = None
    if weighted:
        s = rng.uniform(0.0, 3.0, m)
        s[rng.random(m) < 0.2] = 0.0  # exact zeros: those rows must not count at all
        s[0] = 1.5  # at least one positive weight
    return X, y, w, b, s


@functools.lru_cache(maxsize=None)
def _build(case: Case) -> Data:
    X, y, w, b, s = _values(case.m, case.n, case.dtype, case.weighted, case.soft, case.seed,
                            case.input == "csr", case.scale)
    if case.classes:
        rng = np.random.default_rng([case.seed, case.m, case.n, case.classes])
        K = case.classes
        w = rng.standard_normal((case.n, K)) * (2.0 / math.sqrt(case.n) / case.scale)
        b = 0.3 * rng.standard_normal(K)
        z = (X.astype(np.longdouble) @ w.astype(np.longdouble) + b).astype(np.float64)
        # labels drawn from the model's own probabilities: every class occurs, none is certain
        p = np.exp(z - z.max(axis=1, keepdims=True))
        y = (rng.random(case.m)[:, None] > np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
             ).sum(axis=1)
    return Data(arrange(X, case.layout), y, w, b, s, case.l2)


def _cases():
    out = []
    for dtype in DTYPES:
        # 1x1 is C- and F-contiguous at once; 1 x n: a single sample; n = 1: a single feature.
        out.append(Case(1, 1, dtype))
        for layout in ("C", "F"):
            out += [Case(1, 50, dtype, layout), Case(100, 1, dtype, layout),
                    Case(209, 12288, dtype, layout)]  # the slides' n_x = 64*64*3, m = 209
        # not multiples of the block size (880 rows for n=37 float64), and many tasks (20011x13)
        for shape in ((7, 3), (1001, 37), (20011, 13)):
            out += [Case(*shape, dtype, layout) for layout in DENSE_LAYOUTS]
        for layout in ("C", "F", "C[::2]", "F[::2]"):
            for opts in (dict(weighted=True), dict(l2=0.7), dict(weighted=True, l2=0.7),
                         dict(soft=True)):
                out.append(Case(1001, 37, dtype, layout, **opts))
        out += [Case(1001, 37, dtype, layout, weighted=True) for layout in SWAPPED_LAYOUTS]
        for opts in (dict(weighted=True), dict(weighted=True, l2=0.7, soft=True)):
            out.append(Case(7, 3, dtype, "C", **opts))
        # sparse: block remainders (257 rows: blocks of 256), many tasks, every structure
        for shape in ((1, 5), (7, 3), (257, 40), (20011, 13)):
            out += [Case(*shape, dtype, layout) for layout in SPARSE_LAYOUTS]
        for opts in (dict(weighted=True), dict(l2=0.7), dict(weighted=True, l2=0.7, soft=True)):
            out.append(Case(1001, 37, dtype, "CSR", **opts))
    # extreme magnitudes (hardening round 3): J = inf from ½λ‖w‖² with a finite gradient, and
    # float32 X at the edge of its normal range
    out += [Case(1001, 37, np.float64, layout, l2=0.7, scale=1e-200) for layout in ("C", "F", "CSR")]
    out += [Case(1001, 37, np.float32, layout, scale=1e-37) for layout in ("C", "F", "CSR")]
    return out


def _multinomial_cases():
    out = []
    for dtype in DTYPES:
        out += [Case(1, 1, dtype, classes=2), Case(1, 5, dtype, classes=3),
                Case(100, 1, dtype, "F", classes=4)]
        for K in (2, 3, 10):
            out += [Case(1001, 37, dtype, layout, classes=K)
                    for layout in ("C", "F", "C[::2]", "F[::2]", "CSR")]
        # many tasks, odd class counts, remainders of the 4-row and 2-class blocking
        for layout in ("C", "F", "CSR", "CSR-dup"):
            out.append(Case(20011, 13, dtype, layout, classes=7))
        for layout in ("C", "F", "CSR"):
            for opts in (dict(weighted=True), dict(l2=0.7), dict(weighted=True, l2=0.7)):
                out.append(Case(1001, 37, dtype, layout, classes=5, **opts))
    out += [Case(1001, 37, np.float64, layout, classes=3, l2=0.7, scale=1e-200)
            for layout in ("C", "CSR")]
    out += [Case(1001, 37, np.float32, layout, classes=3, scale=1e-37) for layout in ("C", "CSR")]
    return out


CASES = _cases()
SMALL_CASES = [c for c in CASES if c.elements <= 40_000]
MULTINOMIAL_CASES = _multinomial_cases()
assert len({c.id for c in CASES + MULTINOMIAL_CASES}) == len(CASES) + len(MULTINOMIAL_CASES)


def closed_form(X, y, w, b, sample_weight=None, l2=0.0, hessian=False):
    """Independent (J, dw, db) in float64, and error scales (sJ, sdw, sdb) for tolerances.

    J  = Σ sᵢ·Lᵢ / Σ sᵢ + ½·l2·‖w‖²,  Lᵢ = yᵢ·log(1+e^{−zᵢ}) + (1−yᵢ)·log(1+e^{zᵢ})
    dw = Xᵀ·(s∘(σ(z) − y)) / Σ sᵢ + l2·w,   db = Σ sᵢ·(σ(zᵢ) − yᵢ) / Σ sᵢ

    Each scale bounds the rounding error of any reasonable summation order divided by eps: it sums
    the magnitudes of the terms, including the effect of a rounding error in the margins themselves.
    With ``hessian=True`` also returns H = X̃ᵀ·diag(s∘σ(1−σ))·X̃ / Σ sᵢ + l2·diag(1,…,1,0) and its
    scale, as a third element.
    """
    X = dense(X)
    m, n = X.shape
    Xl = X.astype(np.longdouble)
    w = np.asarray(w, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s = np.ones(m) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    S = math.fsum(s)
    z = (Xl @ w.astype(np.longdouble) + b).astype(np.float64)
    L = y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)
    dz = s * (expit(z) - y)
    with np.errstate(over="ignore"):  # ‖w‖² may overflow: J = inf is then the answer
        J = math.fsum(s * L) / S + (0.5 * l2 * math.fsum(w * w) if l2 else 0.0)
    dw = (Xl.T @ dz.astype(np.longdouble)).astype(np.float64) / S + l2 * w
    db = math.fsum(dz) / S
    absX = np.abs(X.astype(np.float64))
    zscale = absX @ np.abs(w) + abs(b)
    sJ = J + math.fsum(s * zscale) / S
    sdw = absX.T @ (np.abs(dz) + s * zscale) / S + l2 * np.abs(w)
    sdb = math.fsum(np.abs(dz) + s * zscale) / S
    if not hessian:
        return (J, dw, db), (sJ, sdw, sdb)
    a = expit(z)
    h = (s * a * (1.0 - a)).astype(np.longdouble)
    Xt = np.hstack([Xl, np.ones((m, 1), dtype=np.longdouble)])
    H = ((Xt.T * h) @ Xt).astype(np.float64) / S
    H[np.arange(n), np.arange(n)] += l2
    # |σ(1−σ)| ≤ ¼ and its relative error follows z's: scale by the products' magnitudes
    At = np.abs(Xt.astype(np.float64))
    sH = (At.T * (s * (0.25 + np.minimum(zscale, 1e300)))) @ At / S + l2
    return (J, dw, db), (sJ, sdw, sdb), (H, sH)


def closed_form_multinomial(X, y, W, b, sample_weight=None, l2=0.0):
    """Independent (J, dW (n, K), db (K,)) of the multinomial model, and error scales.

    Margins in long double, logsumexp as M + log Σ exp(z − M) in long double, pᵢ from it, sums by
    long-double products and ``math.fsum``: no code from fastlr.
    """
    X = dense(X)
    m, n = X.shape
    Xl = X.astype(np.longdouble)
    W = np.asarray(W, dtype=np.float64)
    y = np.asarray(y)
    s = np.ones(m) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    S = math.fsum(s)
    Z = Xl @ W.astype(np.longdouble) + np.asarray(b, dtype=np.longdouble)
    M = Z.max(axis=1, keepdims=True)
    lse = M[:, 0] + np.log(np.exp(Z - M).sum(axis=1))
    rows = np.arange(m)
    L = (lse - Z[rows, y]).astype(np.float64)
    P = np.exp(Z - lse[:, None])
    D = P.copy()
    D[rows, y] -= 1
    D *= s[:, None]
    with np.errstate(over="ignore"):
        J = math.fsum(s * L) / S + (0.5 * l2 * math.fsum((W * W).ravel()) if l2 else 0.0)
    dW = (Xl.T @ D).astype(np.float64) / S + l2 * W
    db = D.sum(axis=0).astype(np.float64) / S
    absX = np.abs(X.astype(np.float64))
    zscale = absX @ np.abs(W).max(axis=1) + np.abs(b).max()
    sJ = J + math.fsum(s * zscale) / S
    sdW = absX.T @ (np.abs(D.astype(np.float64)) + (s * zscale)[:, None]) / S + l2 * np.abs(W)
    sdb = (np.abs(D.astype(np.float64)) + (s * zscale)[:, None]).sum(axis=0) / S
    return (J, dW, db), (sJ, sdW, sdb)


def _slack(dtype) -> float:
    """The error of rounding to ``dtype`` that no relative tolerance covers: half its smallest
    subnormal (a result below it is correctly 0)."""
    return float(np.finfo(dtype).smallest_subnormal)


def _assert_part(name, got, want, scale, tol, what, dtype=np.float64):
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64).ravel(), want.shape)
    with np.errstate(invalid="ignore"):  # inf − inf: equal infinities pass by the first test
        ok = (got == want) | (np.abs(got - want) <= tol * scale + _slack(dtype))
    bad = np.flatnonzero(~ok)  # ~ also flags NaN
    assert bad.size == 0, (f"{what}{name}[{bad[0]}]: got {got[bad[0]]!r}, want {want[bad[0]]!r} "
                           f"(tol {tol * scale[bad[0]]:.3g}; {bad.size} of {got.size} off)")


def assert_close(got, want, scales, dtype, factor=1.0, what=""):
    """Compare (J, dw, db) with |got − want| ≤ tol·scale elementwise, tol chosen by dtype."""
    tol = TOL[np.dtype(dtype)] * factor
    for name, g, w, sc in zip(("J", "dw", "db"), got[:3], want, scales):
        _assert_part(name, g, w, sc, tol, what, dtype)


def assert_hessian_close(H, want, dtype, factor=1.0, what=""):
    """H within tol·scale of the closed form's, elementwise, and exactly symmetric."""
    H0, sH = want
    H = np.asarray(H, dtype=np.float64)
    tol = TOL[np.dtype(dtype)] * factor
    err = np.abs(H - H0)
    bad = np.argwhere(~(err <= tol * sH + _slack(dtype)))
    assert bad.size == 0, (f"{what}H{tuple(bad[0])}: got {H[tuple(bad[0])]!r}, want "
                           f"{H0[tuple(bad[0])]!r} ({len(bad)} of {H.size} off)")
    np.testing.assert_array_equal(H, H.T, err_msg=f"{what}H is not symmetric")


@functools.lru_cache(maxsize=None)
def expected(case: Case, hessian: bool = False):
    """``closed_form`` (or ``closed_form_multinomial``) of a case, computed once per session."""
    d = case.data()
    if case.classes:
        return closed_form_multinomial(d.X, d.y, d.w, d.b, d.sample_weight, d.l2)
    return closed_form(d.X, d.y, d.w, d.b, d.sample_weight, d.l2, hessian=hessian)


def as_float64(result):
    """(J, dw, db, …) of any implementation as float64 values (for comparing two of them)."""
    return (float(result[0]), np.asarray(result[1], dtype=np.float64), float(result[2]))


# ------------------------------------------------------------------ scikit-learn's objective

def sk_objective(coef, intercept, X, y01, C, sample_weight=None, penalty=True):
    """scikit-learn's F = C·Σ sᵢ·(log(1 + e^z) − y·z) + ½‖w‖², in float64 NumPy."""
    X = np.asarray(dense(X), dtype=np.float64)
    w = np.asarray(coef, dtype=np.float64).ravel()
    z = X @ w + float(intercept)
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    F = C * np.sum(s * (np.logaddexp(0.0, z) - y01 * z))
    return F + 0.5 * w @ w if penalty else F


def random_csr(m, n, density, dtype, seed):
    import scipy.sparse as sp

    return sp.random(m, n, density=density, format="csr", dtype=dtype, random_state=seed)


# ------------------------------------------------------------------ curated nasty fits

@dataclass(frozen=True)
class FitCase:
    """A fit an adversarial user tried (the hardening issues), run for every solver and on
    every data backend (in memory here, on Dask in test_distributed.py).

    ``data()`` gives (X, y, sample_weight) in memory (NumPy or pandas). ``warm``, if set, is
    ``(coef, intercept)``: the fit under test is a warm start from them (set on a model first
    fitted cold). ``raises`` is ``(exception type, message regex)`` when the fit must refuse;
    otherwise it must give a finite, usable model (finite coefficients and probabilities,
    ``save()`` works), and where ``cold`` lists the solver, the model a cold start gives.
    """

    id: str
    seed: int
    kind: str  # what data() builds, see _fit_data
    params: tuple = ()  # estimator parameters, as (name, value) pairs
    warm: str | None = None  # "1e200": every coefficient 1e200; "narrow": one feature fewer
    raises: tuple | None = None
    cold: tuple = ()  # solvers whose result must equal the cold start's

    def data(self):
        return _fit_data(self.kind, self.seed)

    def warm_coef(self, model):
        """(coef, intercept) to warm-start from, shaped from a cold-fitted ``model``."""
        if self.warm == "1e200":
            return np.full_like(model.coef_, 1e200), np.zeros_like(model.intercept_)
        if self.warm == "narrow":
            return model.coef_[:, :-1].copy(), model.intercept_.copy()
        return None


@functools.lru_cache(maxsize=None)
def _fit_data(kind: str, seed: int):
    rng = np.random.default_rng([seed, 20])
    X = rng.standard_normal((400, 4))
    noisy = X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.standard_normal(400)
    if kind == "binary":
        return X, (noisy > 0).astype(int), None
    if kind == "multiclass":
        return X, np.digitize(noisy, [-0.5, 0.5]), None
    if kind == "float32-separable-1e-37":  # C = inf: Newton's coefficients pass 3.4e38
        return (X * 1e-37).astype(np.float32), (X[:, 0] > 0).astype(int), None
    if kind.startswith("frame-"):  # a pandas frame of a nullable dtype (Float64, Int64, ...)
        import pandas as pd

        frame = pd.DataFrame(np.round(X, 1), columns=["a", "b", "c", "d"])
        return frame.astype(kind.partition("-")[2]), (noisy > 0).astype(int), None
    if kind.startswith("mixed-labels-"):  # ints and strings in one object array, either first
        y = np.array([1 if v > 0 else "a" for v in noisy], dtype=object)
        y[0] = 1 if kind.endswith("int-first") else "a"
        return X, y, None
    if kind.startswith("binary-weights-"):  # every sample weighs the number after the dash
        return X, (noisy > 0).astype(int), np.full(400, float(kind.rpartition("-")[2]))
    raise ValueError(f"unknown fit data {kind!r}")


NEWTONS = ("newton", "newton-cg")

FIT_CASES = [
    # ½λ‖w‖² overflows at the start: Newton reported convergence at coef_ = 1e200 (issue 20.2)
    FitCase("warm-1e200-binary", 1, "binary", warm="1e200", cold=NEWTONS),
    FitCase("warm-1e200-multinomial", 2, "multiclass", warm="1e200", cold=NEWTONS),
    FitCase("warm-1e200-ovr", 3, "multiclass", (("multi_class", "ovr"),), warm="1e200",
            cold=NEWTONS),
    # float32 coefficients overflowed to inf on the final cast: predict_proba NaN (20.4)
    FitCase("float32-coef-overflow", 7, "float32-separable-1e-37", (("C", np.inf),)),
    # a warm start of another shape silently restarted from zero; scikit-learn raises (20.8)
    FitCase("warm-other-n-features", 9, "binary", warm="narrow",
            raises=(ValueError, r"Initialization coef is of shape \(1, 4\), expected shape "
                                r"\(5,\) or \(1, 5\)")),
    # nullable columns: rejected on Dask as "dtype object", accepted in memory (20.8)
    FitCase("nullable-Float64-frame", 10, "frame-Float64"),
    # numpy's "TypeError: '<' not supported" instead of scikit-learn's ValueError (20.8)
    *[FitCase(f"mixed-labels-{first}", 8, f"mixed-labels-{first}",
              raises=(ValueError, r"Unknown label type: y mixes labels of types \['int', 'str'\]"))
      for first in ("int-first", "str-first")],
    # Σ sᵢ overflows: in memory a ValueError, on Dask coef_ = 0 and an "ABNORMAL" warning (20.3)
    FitCase("weights-sum-overflow", 4, "binary-weights-1e306",
            raises=(ValueError, r"sample_weight sums to inf \(overflow: the largest weight is "
                                r"1e\+306\)")),
    FitCase("class-weight-sum-overflow", 5, "binary", (("class_weight", {0: 1e307, 1: 1.0}),),
            raises=(ValueError, r"sample_weight × class_weight sums to inf \(overflow: the "
                                r"largest weight is 1e\+307\)")),
    FitCase("class-weight-product-overflow", 6, "binary-weights-1e10",
            (("class_weight", {0: 1e300, 1: 1.0}),),
            raises=(ValueError, r"sample_weight × class_weight sums to inf \(overflow: a "
                                r"product sᵢ·class_weight\[yᵢ\] is itself inf\)")),
]


def fit_under_test(case, solver, backend=lambda X, y, s: (X, y, s)):
    """The fit of ``case`` with ``solver`` on ``backend``'s data: (model, cold model, warnings).
    A warm-start case first fits cold, then sets the case's coefficients and fits again."""
    import warnings

    from fastlr.estimator import LogisticRegression

    X, y, s = backend(*case.data())
    params = dict(case.params, solver=solver, tol=1e-8, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cold fit's own warnings are not under test
        cold = LogisticRegression(**params).fit(X, y, sample_weight=s)
    model = LogisticRegression(**params, warm_start=case.warm is not None)
    if case.warm is not None:
        set_fitted(model, cold)
        model.coef_, model.intercept_ = case.warm_coef(cold)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, sample_weight=s)
    return model, cold, caught


def set_fitted(model, fitted):
    """Copy a fitted model's attributes onto ``model`` (a warm start's starting state)."""
    for name, value in vars(fitted).items():
        if name.endswith("_"):
            setattr(model, name, np.copy(value) if isinstance(value, np.ndarray) else value)


def check_fit_case(case, solver, model, cold, caught, X_predict, tmp_path):
    """What every non-refusing curated fit must give, on any backend."""
    from sklearn.exceptions import ConvergenceWarning

    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    history = (model.loss_history_ if isinstance(model.loss_history_, list)
               else [model.loss_history_])
    proba = np.asarray(model.predict_proba(X_predict))
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
    model.save(tmp_path / f"{case.id}-{solver}.npz")
    if solver in case.cold:
        assert not [w for w in caught if issubclass(w.category, ConvergenceWarning)], \
            [str(w.message) for w in caught]
        # the warm start's own objective may be inf (it is what it was); every iterate after
        # it — the restart from zero first — is finite
        assert all(np.all(np.isfinite(h[1:])) for h in history), history
        np.testing.assert_allclose(model.coef_, cold.coef_, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(model.intercept_, cold.intercept_, rtol=1e-5, atol=1e-7)


def drive_cg(conjugate_gradient, A, b, **kw):
    """Run the CG generator on A·x = b, answering each "hessp" request with A·v: (its result,
    the number of products)."""
    gen = conjugate_gradient(b, **kw)
    products = 0
    try:
        request = next(gen)
        while True:
            assert request[0] == "hessp"
            products += 1
            request = gen.send(A @ request[1])
    except StopIteration as done:
        return done.value, products
