"""Slide 015's vectorization demo: c = Σ aᵢ·bᵢ over 1,000,000 random values, three ways.

A Python loop, ``np.dot`` and the same loop compiled by Numba, timed interleaved
(:func:`~fastlr.bench.timing.time_interleaved`). The Python loop may run over the first
``python_elements`` values only and is then scaled linearly to n (its time per element does not
depend on the position, so the scaling is exact up to noise).
"""

from __future__ import annotations

import numpy as np

from .timing import Contender, time_interleaved

__all__ = ["dot_demo", "dot_loop", "python_dot"]

_compiled = {}


def dot_loop():
    """Slide 015's loop compiled by Numba (compiled on first call)."""
    if not _compiled:
        from .._jit import jit

        @jit()
        def loop(a, b):
            # slide 015's loop as written: one dependent add per element (no reassociation)
            c = 0.0
            for i in range(a.shape[0]):
                c += a[i] * b[i]
            return c

        _compiled["dot_loop"] = loop
    return _compiled["dot_loop"]


def python_dot(a, b):
    c = 0.0
    for i in range(len(a)):
        c += a[i] * b[i]
    return c


def dot_demo(n: int = 1_000_000, python_elements: int | None = None, repeat: int = 5, seed: int = 0,
             on_round=None) -> dict:
    """Seconds per call of each way (medians, with their spread) and whether the values agree."""
    rng = np.random.default_rng(seed)
    a, b = rng.random(n), rng.random(n)
    py_n = n if python_elements is None else max(1, min(n, python_elements))
    a_py, b_py = a[:py_n], b[:py_n]
    loop = dot_loop()
    python, numpy_t, numba_t = time_interleaved([
        Contender("Python loop", lambda: python_dot(a_py, b_py)),
        Contender("np.dot", lambda: np.dot(a, b)),
        Contender("Numba loop", lambda: loop(a, b)),
    ], repeat, on_round=on_round)
    expected = float(np.dot(a, b))
    values = [float(numba_t.result)] + ([float(python.result)] if py_n == n else [])
    scale = n / py_n
    return {
        "n": n,
        "python_s": python.median_s * scale,
        "python_spread": python.spread,
        "python_elements_timed": py_n,
        "numpy_s": numpy_t.median_s,
        "numpy_spread": numpy_t.spread,
        "numba_s": numba_t.median_s,
        "numba_spread": numba_t.spread,
        "numba_first_call_s": numba_t.first_call_s,
        "value": expected,
        "ok": all(abs(v - expected) <= 1e-9 * abs(expected) for v in values),
    }
