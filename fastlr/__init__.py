"""fastlr: fast, trustworthy logistic regression — Numba kernels checked against NumPy.

Submodules load on first use, so ``import fastlr`` compiles nothing and imports neither Numba nor
scikit-learn, Dask or matplotlib:

* :mod:`fastlr.kernels` — the compiled kernels (sigmoid, cost, fused loss_grad, loss_grad_loops)
* :mod:`fastlr.reference` — the vectorized NumPy reference with the same signatures
* :mod:`fastlr.course` — the course-style API (X of shape (n_x, m))
* :func:`fastlr.check_grad` — finite-difference gradient check
* :class:`fastlr.LogisticRegression` — the scikit-learn-compatible estimator (loads scikit-learn)
* :class:`fastlr.LogisticRegressionCV`, :func:`fastlr.logistic_regression_path` — C chosen by
  cross-validation, and the models of a grid of C, the whole grid per pass over X (loads
  scikit-learn)
* :func:`fastlr.load` — read a model written by ``LogisticRegression.save``
* :mod:`fastlr.distributed` — the fit on Dask (loads Dask only when given Dask input)
* :func:`fastlr.warmup` — compile the common kernels into the disk cache ahead of use
"""

from __future__ import annotations

import importlib

from . import _forksafe

__version__ = "0.1.0"

# Numba's fork-safe threading layer in place before anyone launches it (see fastlr._forksafe)
_forksafe.install()

_SUBMODULES = {"kernels", "reference", "course", "gradcheck", "implementations", "distributed",
               "cv"}
_ATTRIBUTES = {
    "check_grad": ("gradcheck", "check_grad"),
    "GradCheck": ("gradcheck", "GradCheck"),
    "LogisticRegression": ("estimator", "LogisticRegression"),
    "LogisticRegressionCV": ("cv", "LogisticRegressionCV"),
    "logistic_regression_path": ("cv", "logistic_regression_path"),
    "load": ("persistence", "load"),
    "warmup": ("warmup", "warmup"),
}

__all__ = sorted(_SUBMODULES | set(_ATTRIBUTES) | {"__version__"})


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _ATTRIBUTES:
        module, attr = _ATTRIBUTES[name]
        value = getattr(importlib.import_module(f"{__name__}.{module}"), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
