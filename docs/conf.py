"""Sphinx configuration of fastlr's documentation.

Build (offline, warnings are errors):  python -m sphinx -W -b html docs docs/_build/html
Doctests of every page:                python -m sphinx -W -b doctest docs docs/_build/doctest
Both run in the default test run (tests/test_docs.py).

Generated at build time, never committed (see docs/_ext/generated.py): the changelog, from
``git log``; the benchmark figure, drawn by ``fastlr.bench.plot`` from the measured run kept as
text in docs/bench-results.json.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's fastlr, installed or not
sys.path.insert(0, str(HERE / "_ext"))

import fastlr  # noqa: E402

project = "fastlr"
author = "fastlr developers"
copyright = "fastlr developers"
release = version = fastlr.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "generated",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = []
html_static_path = []
html_theme = "alabaster"
html_theme_options = {"description": "fast, trustworthy logistic regression on Numba kernels",
                      "fixed_sidebar": True}
html_title = f"fastlr {release}"

# numpydoc: parse the docstrings' Parameters / Attributes sections; no per-member autosummary
# tables (they need stub pages) and no style validation (the docstrings are written for reading)
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "undoc-members": False}

# the doctests: small inputs, and the kernels the test suite compiles anyway (float64 C-order
# dense loss_grad, the default LogisticRegression fit), so the doctest build stays quick
doctest_global_setup = """
import warnings
import numpy as np
warnings.simplefilter("error", RuntimeWarning)
"""
doctest_default_flags = (__import__("doctest").ELLIPSIS
                         | __import__("doctest").NORMALIZE_WHITESPACE
                         | __import__("doctest").DONT_ACCEPT_TRUE_FOR_1)

os.environ.setdefault("MPLBACKEND", "Agg")
