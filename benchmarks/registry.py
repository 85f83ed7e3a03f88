"""Which fastlr function a kernel benchmark runs, in this commit and in older ones.

asv benchmarks older commits too (``asv run A..B``), so every lookup works on each of them, in
this order:

1. the registry ``fastlr.implementations.KERNELS`` where it exists: the entry is selected by its
   fields — operation and input, then ``reference=True`` for :data:`REFERENCE` or the entry's
   name — and its ``parallel``, ``blas`` and ``max_elements`` fields say how to run it;
2. the older registry dict ``fastlr.implementations.LOSS_GRAD`` (dense ``loss_grad`` only);
3. fixed module paths (``fastlr.kernels``, ``fastlr.reference``), and for CSR input and the
   Hessian the internal kernels of the commits before those took it publicly. Those internal
   kernels get validated float64 arrays and skip the public argument checks.

A lookup that finds nothing skips the benchmark (:func:`common.skip`, asv's convention).
Benchmarks name implementations with fixed strings and map them to a registry name or to
:data:`REFERENCE` here, so a benchmark's parameters and history keep their meaning whatever the
registry calls an entry; ``tests/test_asv_suite.py`` checks that every registry entry is reached.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .common import skip

#: asks for the NumPy reference of an (operation, input): the entry with ``reference=True``
REFERENCE = "reference"


@dataclass(frozen=True)
class Impl:
    """A function to benchmark and how to run it (the registry's fields, or known values)."""

    func: Callable
    #: runs on Numba's threads
    parallel: bool = False
    #: runs on BLAS's threads
    blas: bool = False
    #: largest n_samples * n_features to run it on
    max_elements: int | None = None
    #: where it was found: "registry", "LOSS_GRAD", "fixed path" or "internal kernel"
    source: str = "fixed path"


def find(operation: str, input: str, name: str) -> Impl:
    """The implementation ``name`` (a registry name or :data:`REFERENCE`) of an operation/input."""
    for lookup in (_from_registry, _from_loss_grad_dict, _from_fixed_paths):
        impl = lookup(operation, input, name)
        if impl is not None:
            return impl
    what = "NumPy reference" if name == REFERENCE else f"implementation {name!r}"
    skip(f"this commit has no {what} of {operation} on {input} input")


def _from_registry(operation, input, name):
    try:
        from fastlr.implementations import select
    except ImportError:
        return None
    if name == REFERENCE:
        entries = select(operation, input, reference=True)
    else:
        entries = [k for k in select(operation, input) if k.name == name]
    if len(entries) != 1:
        return None
    (k,) = entries
    return Impl(k.func, parallel=k.parallel, blas=k.blas, max_elements=k.max_elements,
                source="registry")


def _from_loss_grad_dict(operation, input, name):
    if (operation, input) != ("loss_grad", "dense"):
        return None
    try:
        from fastlr.implementations import LOSS_GRAD
    except ImportError:
        return None
    key = "numpy" if name == REFERENCE else name
    if key not in LOSS_GRAD:
        return None
    entry = LOSS_GRAD[key]
    return Impl(entry.func, parallel=getattr(entry, "parallel", False), blas=key == "numpy",
                max_elements=getattr(entry, "max_elements", None), source="LOSS_GRAD")


#: (operation, input, name) -> (module, attribute, fields) of the public functions
_FIXED = {
    ("loss_grad", "dense", "python"): ("fastlr.reference", "loss_grad_python",
                                       {"max_elements": 200_000}),
    ("loss_grad", "dense", "loops"): ("fastlr.kernels", "loss_grad_loops", {}),
    ("loss_grad", "dense", REFERENCE): ("fastlr.reference", "loss_grad", {"blas": True}),
    ("loss_grad", "dense", "fused"): ("fastlr.kernels", "loss_grad", {"parallel": True}),
    ("loss_grad", "csr", REFERENCE): ("fastlr.reference", "loss_grad", {}),
    ("loss_grad", "csr", "fused"): ("fastlr.kernels", "loss_grad", {"parallel": True}),
    ("loss_grad_hess", "dense", REFERENCE): ("fastlr.reference", "loss_grad_hess", {"blas": True}),
    ("loss_grad_hess", "dense", "fused"): ("fastlr.kernels", "loss_grad_hess", {"parallel": True}),
    ("loss_grad_hess", "csr", REFERENCE): ("fastlr.reference", "loss_grad_hess", {}),
    ("loss_grad_hess", "csr", "fused"): ("fastlr.kernels", "loss_grad_hess", {"parallel": True}),
    # the multinomial kernels took CSR X and had their Hessian from the start
    ("multinomial_loss_grad", "dense", REFERENCE): ("fastlr.reference", "multinomial_loss_grad",
                                                    {"blas": True}),
    ("multinomial_loss_grad", "dense", "fused"): ("fastlr.kernels", "multinomial_loss_grad",
                                                  {"parallel": True}),
    ("multinomial_loss_grad", "csr", REFERENCE): ("fastlr.reference", "multinomial_loss_grad", {}),
    ("multinomial_loss_grad", "csr", "fused"): ("fastlr.kernels", "multinomial_loss_grad",
                                                {"parallel": True}),
    ("multinomial_loss_grad_hess", "dense", REFERENCE): (
        "fastlr.reference", "multinomial_loss_grad_hess", {"blas": True}),
    ("multinomial_loss_grad_hess", "dense", "fused"): (
        "fastlr.kernels", "multinomial_loss_grad_hess", {"parallel": True}),
    ("multinomial_loss_grad_hess", "csr", REFERENCE): (
        "fastlr.reference", "multinomial_loss_grad_hess", {"blas": True}),
    ("multinomial_loss_grad_hess", "csr", "fused"): (
        "fastlr.kernels", "multinomial_loss_grad_hess", {"parallel": True}),
    ("cost", "dense", REFERENCE): ("fastlr.reference", "cost", {"blas": True}),
    ("cost", "dense", "fused"): ("fastlr.kernels", "cost", {"parallel": True}),
    ("sigmoid", "vector", REFERENCE): ("fastlr.reference", "sigmoid", {}),
    ("sigmoid", "vector", "numba"): ("fastlr.kernels", "sigmoid", {}),
}


def _takes_csr(func) -> bool:
    """Whether ``func(w, b, X, y)`` accepts a scipy.sparse CSR X (older commits raise)."""
    import scipy.sparse

    tiny = scipy.sparse.csr_matrix(np.eye(3))
    try:
        func(np.zeros(3), 0.0, tiny, np.zeros(3))
    except (TypeError, ValueError):
        return False
    return True


def _from_fixed_paths(operation, input, name):
    key = (operation, input, name)
    if key in _FIXED:
        module, attr, fields = _FIXED[key]
        try:
            func = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            func = None
        binary = operation in ("loss_grad", "loss_grad_hess")
        if func is not None and (input != "csr" or not binary or _takes_csr(func)):
            return Impl(func, **fields)
    if name == "fused":
        return _internal_kernel(operation, input)
    return None


def _internal_kernel(operation, input):
    """The fused kernels of the commits before the public functions took CSR X or had a Hessian.

    Their signature was ``(X, y, s, w, b, weight_sum, l2)`` on validated arrays, returning
    ``(J, dw, db)`` or ``(J, g, H)`` with g over θ = [w, b]; wrapped here to the public one.
    """
    if operation == "loss_grad" and input == "csr":
        module, attr = "fastlr.kernels.sparse", "csr_loss_grad"
    elif operation == "loss_grad_hess" and input == "csr":
        module, attr = "fastlr.kernels.sparse", "csr_loss_grad_hess"
    elif operation == "loss_grad_hess" and input == "dense":
        module, attr = "fastlr.kernels.hessian", "loss_grad_hess_dense"
    else:
        return None
    try:
        kernel = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None
    hessian = operation == "loss_grad_hess"

    def public(w, b, X, y, sample_weight=None, l2=0.0):
        s = np.empty(0) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        weight_sum = float(X.shape[0]) if sample_weight is None else float(s.sum())
        out = kernel(X, np.ascontiguousarray(y, dtype=np.float64), s,
                     np.ascontiguousarray(w, dtype=np.float64), float(b), weight_sum, float(l2))
        if not hessian:
            return out
        J, g, H = out
        return J, g[:-1], g[-1], H

    return Impl(public, parallel=True, source="internal kernel")
