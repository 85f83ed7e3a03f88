"""Shared fixtures: the kernel registry as parameters, thread-count restoration.

The registry ``fastlr.implementations`` drives the tests (as numbagg's conftest does): a new
kernel is tested by adding one entry there. Entries are chosen by their fields (``select``).
"""

from __future__ import annotations

import numba
import pytest

from fastlr.implementations import select

_LOSS_GRAD_DENSE = {k.name: k for k in select("loss_grad", "dense")}
_COST_DENSE = {k.name: k.func for k in select("cost", "dense")}
_SIGMOID = {k.name: k.func for k in select("sigmoid", "vector")}


def skip_if_too_big(impl, elements: int) -> None:
    """Skip an implementation (the pure-Python loop) on inputs larger than it is meant for."""
    if impl.max_elements is not None and elements > impl.max_elements:
        pytest.skip(f"{impl.name} is limited to {impl.max_elements} elements, case has {elements}")


@pytest.fixture(params=sorted(_LOSS_GRAD_DENSE))
def impl(request):
    """Each dense loss_grad entry of the registry (a ``Kernel``: ``.func``, ``.name``, ...)."""
    return _LOSS_GRAD_DENSE[request.param]


@pytest.fixture(params=sorted(_COST_DENSE))
def cost_func(request):
    return _COST_DENSE[request.param]


@pytest.fixture(params=sorted(_SIGMOID))
def sigmoid_func(request):
    return _SIGMOID[request.param]


@pytest.fixture
def numba_threads():
    """Yield the maximum Numba thread count; restore the caller's thread count afterwards."""
    before = numba.get_num_threads()
    try:
        yield numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before)
