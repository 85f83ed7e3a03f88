"""scikit-learn's test_logistic.py run against fastlr.LogisticRegression (see
test_sklearn_logistic.py). A package, so that its conftest.py is imported as
``sklearn_logistic.conftest`` and never shadows ``tests/conftest.py``, which other test modules
import as ``conftest``."""
