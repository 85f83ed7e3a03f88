"""Hypothesis property tests over random shapes, dtypes, layouts and options: every implementation
agrees with the closed form; the loss is positive; permuting samples changes nothing beyond rounding;
the sigmoid is a symmetric, monotone map into [0, 1] equal to expit."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.special import expit

from conftest import GRADIENT_KERNELS, as_input
from fastlr import kernels, reference
from helpers import LAYOUTS, as_float64, arrange, assert_close, closed_form

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def problems(draw):
    m = draw(st.integers(1, 600))
    n = draw(st.integers(1, 40))
    # float32 in C or F order only: a strided float32 X compiles one more specialisation per
    # kernel, checked by the ``-m full`` run (conftest.exhaustive)
    dtype, layout = draw(st.sampled_from([(np.float64, layout) for layout in LAYOUTS]
                                         + [(np.float32, "C"), (np.float32, "F")]))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0, 100.0]))  # 100: margins far into the tails
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((m, n)).astype(dtype)
    w = rng.standard_normal(n) * scale / np.sqrt(n)
    b = float(rng.standard_normal())
    y = rng.random(m) if draw(st.booleans()) else (rng.random(m) < 0.5).astype(np.float64)
    s = None
    if draw(st.booleans()):
        s = rng.uniform(0, 2, m)
        s[0] += 0.5
    l2 = draw(st.sampled_from([0.0, 0.01, 1.0]))
    return base, arrange(base, layout), y, w, b, s, l2


@SETTINGS
@given(problems())
def test_every_implementation_matches_closed_form(problem):
    base, X, y, w, b, s, l2 = problem
    want, scales = closed_form(base, y, w, b, s, l2)
    for kernel in GRADIENT_KERNELS:
        if not kernel.accepts(*X.shape):
            continue
        got = kernel.func(w, b, as_input(X if kernel.input == "dense" else base, kernel), y,
                          sample_weight=s, l2=l2)
        assert_close(got, want, scales, X.dtype, what=f"{kernel.key}: ")
        assert float(got[0]) >= 0.0  # Lᵢ = yᵢ·softplus(−zᵢ) + (1−yᵢ)·softplus(zᵢ) ≥ 0


@SETTINGS
@given(problems(), st.integers(0, 2**32 - 1))
def test_permuting_samples_changes_only_rounding(problem, seed):
    base, X, y, w, b, s, l2 = problem
    perm = np.random.default_rng(seed).permutation(base.shape[0])
    got = kernels.loss_grad(w, b, X[perm], y[perm], sample_weight=None if s is None else s[perm], l2=l2)
    _, scales = closed_form(base, y, w, b, s, l2)
    ref = kernels.loss_grad(w, b, X, y, sample_weight=s, l2=l2)
    assert_close(got, as_float64(ref), scales, X.dtype, factor=2.0)


@SETTINGS
@given(st.lists(st.floats(-1e300, 1e300, allow_nan=False), min_size=1, max_size=50),
       st.sampled_from([np.float64, np.float32]))
def test_sigmoid_properties(values, dtype):
    with np.errstate(over="ignore"):  # float64 → float32 cast of huge values gives ±inf on purpose
        z = np.array(values).astype(dtype)
    for sig in (kernels.sigmoid, reference.sigmoid):
        a = sig(z)
        assert a.dtype == dtype and a.shape == z.shape
        assert np.all((a >= 0) & (a <= 1))
        order = np.argsort(z, kind="stable")
        assert np.all(np.diff(a[order]) >= 0)  # monotone
        # σ(−z) = 1 − σ(z), exact up to rounding of the larger side
        np.testing.assert_allclose(sig(-z) + a, 1.0, rtol=0, atol=2 * np.finfo(dtype).eps)
        moderate = np.abs(z) < 700
        np.testing.assert_array_max_ulp(a[moderate], expit(z[moderate].astype(np.float64)).astype(dtype),
                                        maxulp=4)
