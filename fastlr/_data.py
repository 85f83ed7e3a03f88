"""The in-memory data backend of the fit: X, the labels and the sample weights, checked once.

A data backend is what the fit driver (``fastlr._fit``) and the objective (``fastlr._linear_loss.
LinearLoss``) see of the data. Two exist: :class:`ArrayData` here (NumPy or scipy.sparse CSR in
this process) and ``fastlr.distributed.DaskData`` (row blocks on a Dask cluster). Both provide

* ``n_samples``, ``n_features``, ``dtype`` (X's working dtype), ``weight_sum`` (Σ sᵢ);
* ``labels()`` — the sorted distinct labels of y;
* ``class_counts(classes)`` and ``class_weight_sums(classes)`` — per class, for ``class_weight``
  and the "two classes with positive weight" check;
* ``multiply_weights(per_class, classes)`` — sᵢ ← sᵢ · per_class[class of i];
* ``target(label)`` — a handle of the 0/1 labels y == label, for ``sums``;
* ``class_target(classes)`` — a handle of the class indices (position in ``classes``), for
  ``multinomial_sums``;
* ``sums(target, w, b, hessian=False)`` and ``multinomial_sums(target, W, b, hessian=False)`` —
  the raw kernel sums (``fastlr.kernels._sums.Sums``);
* ``curvature_sums(target, w, b)`` and ``hessp(h, v, v_b)`` — for Hessian-free Newton (in
  memory only);
* ``parallel_problems`` — whether one-vs-rest problems may be solved on parallel Python threads.

X is validated by the caller (scikit-learn's ``validate_data`` in the estimator) and is never
copied here: float32/float64 dense X in any memory order, or CSR (CSC is converted once).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_sample_weight, check_weight_sum, check_X, distinct_labels
from .kernels import _sums

__all__ = ["ArrayData"]

_EMPTY = np.empty(0)


class ArrayData:
    """X (dense or CSR), labels y and sample weights held in this process."""

    parallel_problems = True

    def __init__(self, X, y, sample_weight=None):
        X, self.dtype = check_X(X)  # CSC → CSR once; CSR structure checked once per fit
        self.X = X
        self.n_samples, self.n_features = X.shape
        self.nbytes = (X.data.nbytes + X.indices.nbytes if hasattr(X, "tocsr")
                       else self.n_samples * self.n_features * X.itemsize)
        self.y = np.asarray(y)
        self._classes = distinct_labels(self.y)
        # np.unique(return_inverse=True) sorts all of y (0.35 s at 2,000,000 labels, a third of
        # that fit); the distinct labels are few, so find them, then searchsorted each label.
        self._y_index = np.searchsorted(self._classes, self.y)
        weights, self.weight_sum = check_sample_weight(sample_weight, self.n_samples)
        # unit weights take the kernels' unweighted path (same sums, no multiplications)
        self._weights = None if weights is not None and np.all(weights == 1.0) else weights

    @property
    def sample_weight(self):
        """float64 weights, or None for unit weights."""
        return self._weights

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

    def multinomial_sums(self, target, W, b, hessian: bool = False):
        s = _EMPTY if self._weights is None else self._weights
        return _sums.multinomial_sums(self.X, target, s, W, b, hessian=hessian)

    def curvature_sums(self, target, w, b):
        """(Sums, h): the gradient pass that also returns each sample's sᵢ·σ(zᵢ)(1 − σ(zᵢ))."""
        s = _EMPTY if self._weights is None else self._weights
        h = np.empty(self.n_samples)
        return _sums.sums(self.X, target, s, w, b, h_out=h), h

    def hessp(self, h, v, vb):
        """Raw (Σ hᵢ·(xᵢ·v + v_b)·xᵢ, Σ hᵢ·(xᵢ·v + v_b)): one pass over X."""
        return _sums.hessp_sums(self.X, h, np.ascontiguousarray(v, dtype=np.float64), vb)

    def hessian_diagonal(self, h):
        """Raw (Σ hᵢ·xᵢⱼ², Σ hᵢ): the Hessian's diagonal, for Newton-CG's preconditioner."""
        return _sums.hessian_diagonal_sums(self.X, h)

    def sums(self, target, w, b, hessian: bool = False):
        s = _EMPTY if self._weights is None else self._weights
        if hessian:
            return _sums.hessian_sums(self.X, target, s, w, b)
        return _sums.sums(self.X, target, s, w, b)
