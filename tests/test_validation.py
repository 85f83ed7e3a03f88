"""The input contract: bad input gives a clear ValueError/TypeError (the same for kernels and
reference), inputs are never modified, read-only arrays work, labels may be int/bool/float, and the
sample_weight and l2 semantics hold (checked against repeated rows and the penalty's closed form)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import COST_KERNELS, GRADIENT_KERNELS, skip_if_too_big
from fastlr import course, kernels
from helpers import CASES, as_float64, assert_close, closed_form

rng = np.random.default_rng(11)
X0 = rng.standard_normal((6, 3))
Y0 = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
W0 = np.array([0.5, -0.2, 0.1])

# (id, kwargs overriding the good problem, exception, message regex)
BAD = [
    ("y-too-short", dict(y=Y0[:5]), ValueError, r"y must be 1-D of length n_samples=6"),
    ("y-2d", dict(y=Y0[:, None]), ValueError, r"y must be 1-D"),
    ("w-too-long", dict(w=np.zeros(4)), ValueError, r"w must be 1-D of length n_features=3"),
    ("w-2d", dict(w=W0[:, None]), ValueError, r"w must be 1-D"),
    ("X-1d", dict(X=X0[:, 0]), ValueError, r"X must be 2-D"),
    ("X-3d", dict(X=X0[None]), ValueError, r"X must be 2-D"),
    ("X-no-rows", dict(X=np.zeros((0, 3)), y=np.zeros(0)), ValueError, r"X is empty"),
    ("X-no-cols", dict(X=np.zeros((6, 0)), w=np.zeros(0)), ValueError, r"X is empty"),
    ("label-2", dict(y=np.array([0, 1, 2, 0, 1, 0])), ValueError, r"labels y must lie in \[0, 1\]"),
    ("label-negative", dict(y=Y0 - 0.5), ValueError, r"labels y must lie in \[0, 1\]"),
    ("label-nan", dict(y=np.where(Y0 == 1, np.nan, 0.0)), ValueError, r"labels y must lie in \[0, 1\]"),
    ("label-inf", dict(y=np.where(Y0 == 1, np.inf, 0.0)), ValueError, r"labels y must lie in \[0, 1\]"),
    ("weight-negative", dict(sample_weight=np.array([1, 1, -1, 1, 1, 1.0])), ValueError,
     r"sample_weight must be non-negative"),
    ("weight-short", dict(sample_weight=np.ones(5)), ValueError, r"sample_weight must be 1-D of length"),
    ("weight-nan", dict(sample_weight=np.array([1, np.nan, 1, 1, 1, 1.0])), ValueError,
     r"sample_weight must be finite"),
    ("weight-inf", dict(sample_weight=np.array([1, np.inf, 1, 1, 1, 1.0])), ValueError,
     r"sample_weight must be finite"),
    ("weight-all-zero", dict(sample_weight=np.zeros(6)), ValueError, r"sample_weight sums to zero"),
    ("weight-sum-overflow", dict(sample_weight=np.full(6, 1e308)), ValueError,
     r"sample_weight sums to inf \(overflow: the largest weight is 1e\+308\)"),
    ("X-object", dict(X=X0.astype(object)), TypeError, r"X has non-numeric dtype object"),
    ("X-str", dict(X=X0.astype(str)), TypeError, r"X has non-numeric dtype"),
    ("X-complex", dict(X=X0.astype(complex)), TypeError, r"X has complex dtype"),
    ("y-str", dict(y=Y0.astype(str)), TypeError, r"y has non-numeric dtype"),
    ("y-complex", dict(y=Y0.astype(complex)), TypeError, r"y has complex dtype"),
    ("w-complex", dict(w=W0.astype(complex)), TypeError, r"w has complex dtype"),
    ("w-object", dict(w=W0.astype(object)), TypeError, r"w has non-numeric dtype"),
    ("weight-complex", dict(sample_weight=np.ones(6, complex)), TypeError, r"sample_weight has complex"),
    ("l2-negative", dict(l2=-0.1), ValueError, r"l2 must be a finite number >= 0"),
    ("l2-nan", dict(l2=np.nan), ValueError, r"l2 must be a finite number >= 0"),
    ("l2-inf", dict(l2=np.inf), ValueError, r"l2 must be a finite number >= 0"),
    ("l2-str", dict(l2="0.1"), TypeError, r"l2 must be a real number"),
    ("b-vector", dict(b=np.zeros(2)), ValueError, r"b must be a scalar"),
    ("b-str", dict(b="0"), TypeError, r"b must be a real number"),
    ("b-complex", dict(b=1j), TypeError, r"b must be a real number"),
]


def _call(func, **override):
    args = dict(w=W0, b=0.1, X=X0, y=Y0, sample_weight=None, l2=0.0) | override
    return func(args["w"], args["b"], args["X"], args["y"], sample_weight=args["sample_weight"],
                l2=args["l2"])


ALL_FUNCS = {k.key: k.func for k in GRADIENT_KERNELS + COST_KERNELS if k.input == "dense"}


@pytest.mark.parametrize("func", sorted(ALL_FUNCS))
@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_bad_input_raises(func, bad):
    _, override, exc, match = bad
    with pytest.raises(exc, match=match):
        _call(ALL_FUNCS[func], **override)


@pytest.mark.parametrize("bad", BAD, ids=[b[0] for b in BAD])
def test_same_error_from_every_implementation(bad):
    _, override, exc, _ = bad
    messages = {}
    for name, func in ALL_FUNCS.items():
        with pytest.raises(exc) as info:
            _call(func, **override)
        messages[name] = str(info.value)
    assert len(set(messages.values())) == 1, messages


@pytest.mark.parametrize("z", [np.array(["a"]), np.array([1 + 2j]), np.array([None, 1.0])],
                         ids=["str", "complex", "object"])
def test_sigmoid_rejects_non_real(sigmoid_func, z):
    with pytest.raises(TypeError, match="z has"):
        sigmoid_func(z)


def test_course_rejects_mismatched_Y():
    with pytest.raises(ValueError, match=r"Y has shape \(1, 5\) but X has m=6"):
        course.propagate(np.zeros((3, 1)), 0.0, X0.T, np.zeros((1, 5)))


# ------------------------------------------------------------------------ inputs never modified

def _snapshot(*arrays):
    return [None if a is None else np.array(a, copy=True) for a in arrays]


@pytest.mark.parametrize("case", [c for c in CASES if c.m == 1001 and c.weighted and c.input == "dense"],
                         ids=lambda c: c.id)
def test_inputs_never_modified(impl, cost_func, case):
    skip_if_too_big(impl, case.m, case.n)
    d = case.data()
    before = _snapshot(d.X, d.y, d.w, d.sample_weight)
    impl.func(*d.args, **d.kwargs)
    cost_func(*d.args, **d.kwargs)
    for old, new in zip(before, (d.X, d.y, d.w, d.sample_weight)):
        np.testing.assert_array_equal(new, old)


def test_course_api_never_modifies_inputs():
    X = rng.standard_normal((4, 30))
    Y = (rng.random((1, 30)) < 0.5).astype(float)
    w = rng.standard_normal((4, 1))
    before = _snapshot(X, Y, w)
    course.propagate(w, 0.1, X, Y)
    course.optimize(w, 0.1, X, Y, num_iterations=3)
    course.predict(w, 0.1, X)
    course.model(X, Y, X, Y, num_iterations=3)
    course.sigmoid(X)
    for old, new in zip(before, (X, Y, w)):
        np.testing.assert_array_equal(new, old)


def test_sigmoid_never_modifies_input(sigmoid_func):
    z = np.linspace(-5, 5, 11)
    sigmoid_func(z)
    np.testing.assert_array_equal(z, np.linspace(-5, 5, 11))


@pytest.mark.parametrize("order", ["C", "F"])
def test_read_only_arrays_work(impl, order):
    """Only float64 here: read-only arrays are a separate Numba type, i.e. a separate compilation."""
    X = np.asarray(rng.standard_normal((50, 4)), order=order)
    y = (rng.random(50) < 0.5).astype(np.float64)
    w, s = rng.standard_normal(4), rng.random(50)
    want = impl.func(w, 0.1, X, y, sample_weight=s, l2=0.2)
    for a in (X, y, w, s):
        a.setflags(write=False)
    got = impl.func(w, 0.1, X, y, sample_weight=s, l2=0.2)
    np.testing.assert_array_equal(got[1], want[1])
    assert got[0] == want[0] and got[2] == want[2]
    np.testing.assert_array_equal(kernels.sigmoid(X), kernels.sigmoid(X.copy()))


# ----------------------------------------------------------------------------- label dtypes

@pytest.mark.parametrize("label_dtype", [np.int64, np.int8, np.uint8, np.bool_, np.float32])
def test_labels_int_bool_float(impl, label_dtype):
    X = rng.standard_normal((40, 3))
    y = (rng.random(40) < 0.5)
    want, scales = closed_form(X, y.astype(np.float64), W0, 0.1)
    got = impl.func(W0, 0.1, X, y.astype(label_dtype))
    assert_close(got, want, scales, np.float64)
    same = impl.func(W0, 0.1, X, y.astype(np.float64))
    assert float(got[0]) == float(same[0])
    np.testing.assert_array_equal(got[1], same[1])


@pytest.mark.parametrize("l2", [0, 1, np.float32(0.5), np.int64(2), np.array(0.5)], ids=repr)
def test_scalar_types_for_b_and_l2(impl, l2):
    got = impl.func(W0, np.float32(0.25), X0, Y0, l2=l2)
    want, scales = closed_form(X0, Y0, W0, 0.25, None, float(l2))
    assert_close(got, want, scales, np.float64)


# -------------------------------------------------------------------- sample_weight and l2

def test_integer_weights_equal_repeated_rows(impl):
    """sᵢ = k gives the result of repeating row i k times (sᵢ = 0: of dropping it)."""
    X = rng.standard_normal((60, 5))
    y = (rng.random(60) < 0.5).astype(np.float64)
    w = rng.standard_normal(5)
    s = rng.integers(0, 4, 60)
    s[0] = 2
    got = impl.func(w, -0.2, X, y, sample_weight=s)
    Xr, yr = np.repeat(X, s, axis=0), np.repeat(y, s)
    want = impl.func(w, -0.2, Xr, yr)
    _, scales = closed_form(Xr, yr, w, -0.2)
    assert_close(got, as_float64(want), scales, np.float64)


def test_weights_are_scale_invariant(impl):
    X = rng.standard_normal((40, 3))
    y = rng.random(40)
    s = rng.random(40)
    a = impl.func(W0, 0.1, X, y, sample_weight=s)
    b = impl.func(W0, 0.1, X, y, sample_weight=s * 1000.0)
    _, scales = closed_form(X, y, W0, 0.1, s)
    assert_close(a, as_float64(b), scales, np.float64)


def test_unit_weights_equal_no_weights(impl):
    a = impl.func(W0, 0.1, X0, Y0, sample_weight=np.ones(6))
    b = impl.func(W0, 0.1, X0, Y0)
    _, scales = closed_form(X0, Y0, W0, 0.1)
    assert_close(a, as_float64(b), scales, np.float64)


@pytest.mark.parametrize("l2", [0.3, 5.0])
def test_l2_term_is_half_l2_norm_squared(impl, l2):
    """J(l2) = J(0) + ½·l2·‖w‖², dw(l2) = dw(0) + l2·w, db unchanged (the intercept is not penalised)."""
    X = rng.standard_normal((30, 4))
    y = (rng.random(30) < 0.5).astype(np.float64)
    w = rng.standard_normal(4)
    J0, dw0, db0, *_ = impl.func(w, 0.4, X, y)
    J, dw, db, *_ = impl.func(w, 0.4, X, y, l2=l2)
    assert float(J) == pytest.approx(float(J0) + 0.5 * l2 * float(np.sum(w * w)), rel=1e-13)
    np.testing.assert_allclose(dw, dw0 + l2 * w, rtol=1e-13, atol=1e-15)
    assert float(db) == pytest.approx(float(db0), rel=1e-14, abs=1e-17)
