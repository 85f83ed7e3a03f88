"""One registry of every kernel and its NumPy reference, as in numbagg's conftest.

The correctness tests, the pytest-benchmark tests, the asv suite and ``fastlr bench`` all iterate
over :data:`KERNELS`: a new kernel is tested and benchmarked by adding one entry here. An entry
says what it computes (``operation``), on what input (``input``), and how to run and label it;
consumers select entries by these fields (:func:`select`), never by name.

Operations and their signatures:

* ``"loss_grad"`` — ``(w, b, X, y, sample_weight=None, l2=0.0) -> (J, dw, db)``
* ``"loss_grad_hess"`` — same arguments ``-> (J, dw, db, H)``, H over θ = [w, b]
* ``"multinomial_loss_grad"`` — ``(W, b, X, y, sample_weight=None, l2=0.0) -> (J, dW, db)`` with
  W (n_features, K), b (K,) and y class indices in [0, K)
* ``"multinomial_loss_grad_hess"`` — same arguments ``-> (J, dW, db, H)``, H over
  θ = [W[:, 0], …, W[:, K−1], b]
* ``"cost"`` — same arguments as ``loss_grad`` ``-> J``
* ``"sigmoid"`` — ``(z) -> σ(z)``

Inputs: ``"dense"`` (NumPy X, any memory order), ``"csr"`` (scipy.sparse CSR X) and ``"vector"``
(the sigmoid's z). For every (operation, input) exactly one entry has ``reference=True``: the
NumPy reference the others are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import kernels, reference

__all__ = ["KERNELS", "Kernel", "reference_for", "select"]


@dataclass(frozen=True)
class Kernel:
    """One implementation of one operation."""

    name: str
    operation: str
    input: str
    func: Callable
    #: how tables and plots name it
    label: str
    #: the NumPy reference of its (operation, input)
    reference: bool = False
    #: runs on Numba's threads (``numba.set_num_threads`` limits it)
    parallel: bool = False
    #: runs on BLAS's threads (threadpoolctl limits it)
    blas: bool = False
    #: largest n_samples * n_features it should be run on (pure Python is ~1000x slower)
    max_elements: int | None = None
    #: largest n_features it should be run on (a Hessian holds (n+1)² values per task)
    max_features: int | None = None

    def accepts(self, n_samples: int, n_features: int) -> bool:
        """Whether a problem of this size is within the entry's limits."""
        return ((self.max_elements is None or n_samples * n_features <= self.max_elements)
                and (self.max_features is None or n_features <= self.max_features))

    @property
    def key(self) -> str:
        """A unique id: ``operation-input-name``."""
        return f"{self.operation}-{self.input}-{self.name}"


#: a Hessian is (n+1)² values; Newton's method is for up to a few hundred features
_HESS_FEATURES = 1_000

_ENTRIES = (
    Kernel("python", "loss_grad", "dense", reference.loss_grad_python,
           "double loop, pure Python (slide 014)", max_elements=200_000),
    Kernel("loops", "loss_grad", "dense", kernels.loss_grad_loops,
           "double loop, Numba (slide 014)"),
    Kernel("numpy", "loss_grad", "dense", reference.loss_grad,
           "NumPy reference (slides 017-018)", reference=True, blas=True),
    Kernel("fused", "loss_grad", "dense", kernels.loss_grad,
           "fused kernel, one pass over X", parallel=True),
    Kernel("numpy", "loss_grad", "csr", reference.loss_grad,
           "NumPy reference, scipy.sparse products", reference=True),
    Kernel("fused", "loss_grad", "csr", kernels.loss_grad,
           "fused CSR kernel, one pass over the nonzeros", parallel=True),
    Kernel("numpy", "loss_grad_hess", "dense", reference.loss_grad_hess,
           "NumPy reference Hessian", reference=True, blas=True, max_features=_HESS_FEATURES),
    Kernel("fused", "loss_grad_hess", "dense", kernels.loss_grad_hess,
           "fused Hessian kernel, one pass over X", parallel=True, max_features=_HESS_FEATURES),
    Kernel("numpy", "loss_grad_hess", "csr", reference.loss_grad_hess,
           "NumPy reference Hessian (densified)", reference=True, blas=True,
           max_features=_HESS_FEATURES),
    Kernel("fused", "loss_grad_hess", "csr", kernels.loss_grad_hess,
           "fused CSR Hessian kernel", parallel=True, max_features=_HESS_FEATURES),
    Kernel("numpy", "multinomial_loss_grad", "dense", reference.multinomial_loss_grad,
           "NumPy reference, softmax", reference=True, blas=True),
    Kernel("fused", "multinomial_loss_grad", "dense", kernels.multinomial_loss_grad,
           "fused softmax kernel, one pass over X", parallel=True),
    Kernel("numpy", "multinomial_loss_grad", "csr", reference.multinomial_loss_grad,
           "NumPy reference, softmax, scipy.sparse products", reference=True),
    Kernel("fused", "multinomial_loss_grad", "csr", kernels.multinomial_loss_grad,
           "fused softmax CSR kernel", parallel=True),
    Kernel("numpy", "multinomial_loss_grad_hess", "dense", reference.multinomial_loss_grad_hess,
           "NumPy reference softmax Hessian", reference=True, blas=True,
           max_features=_HESS_FEATURES // 10),
    Kernel("fused", "multinomial_loss_grad_hess", "dense", kernels.multinomial_loss_grad_hess,
           "fused softmax Hessian kernel", parallel=True, max_features=_HESS_FEATURES // 10),
    Kernel("numpy", "multinomial_loss_grad_hess", "csr", reference.multinomial_loss_grad_hess,
           "NumPy reference softmax Hessian (densified)", reference=True, blas=True,
           max_features=_HESS_FEATURES // 10),
    Kernel("fused", "multinomial_loss_grad_hess", "csr", kernels.multinomial_loss_grad_hess,
           "fused softmax CSR Hessian kernel", parallel=True, max_features=_HESS_FEATURES // 10),
    Kernel("numpy", "cost", "dense", reference.cost, "NumPy reference", reference=True,
           blas=True),
    Kernel("fused", "cost", "dense", kernels.cost, "fused kernel, loss only", parallel=True),
    Kernel("numpy", "sigmoid", "vector", reference.sigmoid, "NumPy reference", reference=True),
    Kernel("numba", "sigmoid", "vector", kernels.sigmoid, "Numba, one exp per value"),
)

#: every entry, by ``Kernel.key``
KERNELS = {k.key: k for k in _ENTRIES}


def select(operation: str, input: str | None = None, *, reference: bool | None = None):
    """The entries of one operation (and input), in registry order."""
    return [k for k in _ENTRIES if k.operation == operation
            and (input is None or k.input == input)
            and (reference is None or k.reference == reference)]


def reference_for(kernel: Kernel) -> Kernel:
    """The NumPy reference entry of ``kernel``'s operation and input."""
    (ref,) = select(kernel.operation, kernel.input, reference=True)
    return ref
