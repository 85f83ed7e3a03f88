"""Markers of scikit-learn's test_logistic.py, which test_sklearn_logistic.py imports.

scikit-learn's module applies ``pytest.mark.thread_unsafe`` (a marker of its own conftest, for
pytest-run-parallel) when it is imported; under this project's ``--strict-markers`` an unregistered
marker is an error, so it is registered here. It has no effect in this project.
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "thread_unsafe: scikit-learn's marker for tests not to run on parallel "
        "threads (pytest-run-parallel); no effect here")
