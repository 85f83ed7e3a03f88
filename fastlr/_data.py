"""The in-memory data backend of the fit: X, the labels and the sample weights, checked once.

:class:`ArrayData` implements ``fastlr._backend.Backend`` for NumPy or scipy.sparse CSR X held in
this process; ``fastlr.distributed.DaskData`` is the other backend. X is validated by the caller
(scikit-learn's ``validate_data`` in the estimator) and is never copied here: float32/float64
dense X in any memory order, or CSR (CSC is converted once). A curvature handle is a (K, m)
float64 array, one row per linear function of the pass that kept it.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ._validation import check_sample_weight, check_weight_sum, check_X, distinct_labels
from .kernels import _sums

__all__ = ["ArrayData"]


class ArrayData:
    """X (dense or CSR), labels y and sample weights held in this process."""

    #: "finish": ``run`` and ``hessp`` take ``finish`` (``_sums.gradient_sums``,
    #: ``_sums.hessp_sums``: the two-phase softmax pass on CSR X forms the L2-penalised
    #: coefficients itself)
    capabilities = frozenset({"hessian", "hessp", "diagonal", "finish"})
    feature_names = None

    def __init__(self, X, y, sample_weight=None):
        X, self.dtype = check_X(X)  # CSC → CSR once; CSR structure checked once per fit
        self.X = X
        self._csc = None  # X's CSC copy, built on the first softmax pass that takes it
        self.n_samples, self.n_features = X.shape
        self.is_sparse = hasattr(X, "tocsr")
        self.nbytes = (X.data.nbytes + X.indices.nbytes if hasattr(X, "tocsr")
                       else self.n_samples * self.n_features * X.itemsize)
        self.y = np.asarray(y)
        weights, self.weight_sum = check_sample_weight(sample_weight, self.n_samples)
        # unit weights take the kernels' unweighted path (same sums, no multiplications)
        self._weights = None if weights is not None and np.all(weights == 1.0) else weights

    @property
    def sample_weight(self):
        """float64 weights, or None for unit weights."""
        return self._weights

    # ---------------------------------------------------------------- labels and weights
    # found on first use: a cross-validation fold's data (``fastlr._cv``) is given class
    # positions its datafit reads directly (multinomial 100,000 × 50, 10 classes, 5 folds: 13 ms
    # of a 0.5 s grid)
    @cached_property
    def _classes(self) -> np.ndarray:
        return distinct_labels(self.y)

    @cached_property
    def _y_index(self) -> np.ndarray:
        # np.unique(return_inverse=True) sorts all of y (0.35 s at 2,000,000 labels, a third of
        # that fit); the distinct labels are few, so find them, then searchsorted each label.
        return np.searchsorted(self._classes, self.y).astype(np.int64)

    def labels(self) -> np.ndarray:
        return self._classes

    def class_counts(self, classes) -> np.ndarray:
        return np.bincount(self._y_index, minlength=len(classes)).astype(np.float64)

    def class_weight_sums(self, classes) -> np.ndarray:
        if self._weights is None:
            return self.class_counts(classes)
        return np.bincount(self._y_index, weights=self._weights, minlength=len(classes))

    def multiply_weights(self, per_class, classes) -> None:
        factors = np.asarray(per_class, dtype=np.float64)[self._y_index]
        with np.errstate(over="ignore"):  # products or their sum may overflow: said below
            weights = factors if self._weights is None else self._weights * factors
            weight_sum = float(np.sum(weights))
        self.weight_sum = check_weight_sum(weight_sum, weights.max, with_class_weight=True)
        self._weights = weights

    def target(self, label) -> np.ndarray:
        return (self.y == label).astype(np.float64)

    def class_target(self, classes) -> np.ndarray:
        return self._y_index

    def group_weight_sums(self, groups, n_groups: int) -> np.ndarray:
        return np.bincount(groups, weights=self._weights, minlength=n_groups).astype(np.float64)

    # ---------------------------------------------------------------- passes over X
    def _fit(self, datafit):
        if datafit.kind == "logistic":
            return _sums.logistic_fit(datafit.target, self._weights)
        if datafit.kind == "softmax":
            return _sums.softmax_fit(datafit.target, self._weights)
        return _sums.batched_fit(datafit.target, datafit.labels, datafit.factors, self._weights)

    def run(self, datafit, W, b, want: str, finish=None):
        fit = self._fit(datafit)
        if want == "hessian":
            return _sums.gram_sums(fit, self.X, W, b), None
        curvature = np.empty((W.shape[0], self.n_samples)) if want == "curvature" else None
        sums = _sums.gradient_sums(fit, self.X, W, b, with_grad=want != "loss",
                                   curvature=curvature, transposed=self._transposed(datafit),
                                   finish=finish)
        return sums, curvature

    def _transposed(self, datafit):
        """X's CSC copy for the softmax passes on CSR X (``_sums.transposed``), built once."""
        if datafit.kind != "softmax" or not self.is_sparse:
            return None
        if self._csc is None:
            self._csc = _sums.transposed(self.X)
        return self._csc

    def gather_curvature(self, kept):
        if len(kept) == 1 and kept[0][1] is None:  # all rows of one pass
            return kept[0][0]
        first, _ = kept[0]
        rows = [row for _, row in kept]
        if all(handle is first for handle, _ in kept):
            if rows == list(range(first.shape[0])):
                return first
            return first[rows]
        return np.stack([handle[row] for handle, row in kept])

    def hessp(self, datafit, curvature, V, vb, finish=None):
        return _sums.hessp_sums(self._fit(datafit), self.X, V, vb, curvature,
                                self._transposed(datafit), finish)

    def diagonal(self, datafit, curvature, class_mean: bool = False):
        return _sums.diagonal_sums(self.X, _diagonal_weights(datafit.kind, curvature,
                                                              self._weights, class_mean))


def _diagonal_weights(kind, curvature, weights, class_mean: bool = False):
    """Per-sample weights C (K, m) of the Hessian's diagonal: the curvature h itself for the
    logistic datafits; sᵢ·p_k(1 − p_k) from the kept probabilities for softmax — with
    ``class_mean``, their average over the classes (1, m): the class-averaged diagonal in one
    pass of K = 1's cost."""
    if kind != "softmax":
        return curvature
    C = curvature * (1.0 - curvature)
    if class_mean:
        C = C.mean(axis=0, keepdims=True)
    return C if weights is None else C * weights
