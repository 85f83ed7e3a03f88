"""The documentation builds offline with warnings as errors, its examples pass as doctests, and it
documents the public API; the README's links to it resolve.

The doctests use small inputs and kernels the rest of the suite compiles (float64 C-order dense
``loss_grad``, the default ``LogisticRegression`` fit), so this file costs about 20 s.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _sphinx(builder, out):
    return subprocess.run([sys.executable, "-m", "sphinx", "-W", "-E", "-q", "-b", builder,
                           str(DOCS), str(out)], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    out = tmp_path_factory.mktemp("html")
    done = _sphinx("html", out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out


def test_the_examples_pass_as_doctests(tmp_path):
    done = _sphinx("doctest", tmp_path)
    assert done.returncode == 0, (tmp_path / "output.txt").read_text()[-3000:] + done.stderr[-2000:]
    summary = (tmp_path / "output.txt").read_text()
    ran = int(re.search(r"(\d+) tests\n", summary.split("Doctest summary")[1]).group(1))
    assert ran >= 15  # the quick start's and the kernels page's examples, not an empty run


@pytest.mark.parametrize("page, objects", [
    ("api/estimator.html", ["fastlr.LogisticRegression", "fastlr.LogisticRegression.fit",
                            "fastlr.LogisticRegression.set_callbacks"]),
    ("api/kernels.html", ["fastlr.kernels.loss_grad", "fastlr.kernels.loss_grad_hess",
                          "fastlr.kernels.multinomial_loss_grad", "fastlr.kernels.sigmoid"]),
    ("api/reference.html", ["fastlr.reference.loss_grad", "fastlr.reference.loss_grad_python"]),
    ("api/course.html", ["fastlr.course.model", "fastlr.course.propagate"]),
    ("api/gradcheck.html", ["fastlr.check_grad"]),
    ("api/persistence.html", ["fastlr.load"]),
    ("api/warmup.html", ["fastlr.warmup"]),
    ("api/distributed.html", ["module-fastlr.distributed"]),
])
def test_the_api_pages_come_from_the_docstrings(html, page, objects):
    text = (html / page).read_text()
    for name in objects:
        assert f'id="{name}"' in text, (page, name)


def test_generated_pages_and_figure(html):
    changelog = (html / "changelog.html").read_text()
    head = subprocess.run(["git", "log", "-1", "--format=%h"], cwd=ROOT, capture_output=True,
                          text=True)
    if head.returncode == 0 and head.stdout.strip():
        assert head.stdout.strip() in changelog  # the newest commit is listed
    png = html / "_images" / "bench.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 'src="../_images/bench.png"' in (html / "user_guide" / "benchmarks.html").read_text()


def test_the_readme_links_resolve():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((docs/[^)#]+)", readme)
    assert len(links) >= 5, links
    for link in links:
        assert (ROOT / link).is_file(), link
