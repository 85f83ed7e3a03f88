"""One registry of the implementations of ``loss_grad``, as in numbagg's conftest.

The correctness tests, the pytest-benchmark tests, the asv suite and ``fastlr bench`` all iterate
over ``LOSS_GRAD``: a new implementation is tested and benchmarked by adding one entry here.
Every entry has the signature ``(w, b, X, y, sample_weight=None, l2=0.0) -> (J, dw, db)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import kernels, reference

__all__ = ["Implementation", "LOSS_GRAD", "SIGMOID", "COST"]


@dataclass(frozen=True)
class Implementation:
    name: str
    description: str
    func: Callable
    #: the slide the implementation transcribes
    slide: str
    #: compiled with Numba (warm it up before timing)
    compiled: bool
    #: uses every Numba thread (``numba.set_num_threads`` limits it)
    parallel: bool = False
    #: largest n_samples * n_features it should be run on (pure Python is ~1000x slower)
    max_elements: int | None = None


LOSS_GRAD = {
    impl.name: impl
    for impl in (
        Implementation("python", "double loop, pure Python", reference.loss_grad_python, "014",
                       compiled=False, max_elements=200_000),
        Implementation("loops", "double loop, Numba", kernels.loss_grad_loops, "014", compiled=True),
        Implementation("numpy", "NumPy reference", reference.loss_grad, "017-018", compiled=False),
        Implementation("fused", "fused kernel, one pass over X", kernels.loss_grad, "018",
                       compiled=True, parallel=True),
    )
}

SIGMOID = {"numpy": reference.sigmoid, "numba": kernels.sigmoid}
COST = {"numpy": reference.cost, "numba": kernels.cost}
