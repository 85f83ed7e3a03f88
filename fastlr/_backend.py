"""What a data backend provides to the fit: the protocol, written once.

A backend holds X, the labels and the sample weights — checked once — and runs passes over X
for the objective (``fastlr._objective``). Two implement it: ``fastlr._data.ArrayData`` (NumPy
or scipy.sparse CSR in this process) and ``fastlr.distributed.DaskData`` (row blocks on a Dask
cluster). A GPU backend would be one more implementation of the same protocol.

One pass method, :meth:`Backend.run`, takes the datafit (``fastlr._objective.Datafit``: which
one, and the backend's handle of its per-sample target), the coefficients W (K, n) and
intercepts b (K,) of the pass, and what is wanted of it:

=============  ======================================================================
``want``       the pass returns (``Sums``, curvature handle)
=============  ======================================================================
"loss"         the losses alone (no scatter)
"gradient"     losses and gradients
"curvature"    losses and gradients, and a handle of each sample's curvature at (W, b)
"hessian"      losses, gradients and the Hessians (a Gram pass)
=============  ======================================================================

``hessp`` and ``diagonal`` are passes at a point whose curvature a "curvature" pass kept:
``gather_curvature([(handle, row), …])`` makes one handle of the rows of several such passes.
What a backend can do is declared in ``capabilities``, never probed.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["Backend", "WANTS"]

WANTS = ("loss", "gradient", "curvature", "hessian")


@runtime_checkable
class Backend(Protocol):
    n_samples: int
    n_features: int
    dtype: np.dtype  # X's working dtype
    nbytes: int  # bytes of X a pass reads
    is_sparse: bool  # X is scipy.sparse (CSR): solver="auto" takes Newton-CG
    feature_names: np.ndarray | None
    weight_sum: float  # Σ sᵢ
    #: subset of {"hessian", "hessp", "diagonal", "finish"} ("finish": ``run`` and ``hessp``
    #: take ``finish=(S, λ, out)`` and may form the L2-penalised coefficients in the pass)
    capabilities: frozenset

    # ---------------------------------------------------------------- labels and weights
    def labels(self) -> np.ndarray:
        """The sorted distinct labels of y."""

    def class_counts(self, classes) -> np.ndarray:
        """Samples per class (float64)."""

    def class_weight_sums(self, classes) -> np.ndarray:
        """Σ sᵢ per class."""

    def multiply_weights(self, per_class, classes) -> None:
        """sᵢ ← sᵢ·per_class[class of i] (``class_weight``)."""

    def target(self, label):
        """A handle of the 0/1 labels y == label (the logistic datafit's target)."""

    def class_target(self, classes):
        """A handle of the class indices, positions in ``classes`` (softmax, and the groups of a
        one-vs-rest batch)."""

    def group_weight_sums(self, groups, n_groups: int) -> np.ndarray:
        """Σ sᵢ per group g ∈ [0, n_groups) of a handle of group codes."""

    # ---------------------------------------------------------------- passes over X
    def run(self, datafit, W, b, want: str):
        """One pass: (``fastlr.kernels._sums.Sums``, curvature handle or None)."""

    def hessp(self, datafit, curvature, V, vb):
        """Raw Hessian-vector products (HV (K, n), hb (K,)) for directions V (K, n), vb (K,)."""

    def diagonal(self, datafit, curvature, class_mean: bool = False):
        """Raw Hessian diagonals (D (K, n), d_b (K,)); with ``class_mean`` (softmax) their
        average over the K classes, (D (1, n), d_b (1,)), in one pass of K = 1's cost."""

    def gather_curvature(self, kept):
        """One curvature handle from [(handle, row), …] (row None: all of the handle's rows)."""
