"""Shared fixtures: the implementation registry as parameters, thread-count restoration.

The registry ``fastlr.implementations.LOSS_GRAD`` drives the tests (as numbagg's conftest does):
a new implementation is tested by adding one entry there.
"""

from __future__ import annotations

import numba
import pytest

from fastlr.implementations import COST, LOSS_GRAD, SIGMOID


def skip_if_too_big(impl, elements: int) -> None:
    """Skip an implementation (the pure-Python loop) on inputs larger than it is meant for."""
    if impl.max_elements is not None and elements > impl.max_elements:
        pytest.skip(f"{impl.name} is limited to {impl.max_elements} elements, case has {elements}")


@pytest.fixture(params=sorted(LOSS_GRAD))
def impl(request):
    """Each loss_grad implementation of the registry."""
    return LOSS_GRAD[request.param]


@pytest.fixture(params=sorted(COST))
def cost_func(request):
    return COST[request.param]


@pytest.fixture(params=sorted(SIGMOID))
def sigmoid_func(request):
    return SIGMOID[request.param]


@pytest.fixture
def numba_threads():
    """Yield the maximum Numba thread count; restore the caller's thread count afterwards."""
    before = numba.get_num_threads()
    try:
        yield numba.config.NUMBA_NUM_THREADS
    finally:
        numba.set_num_threads(before)
