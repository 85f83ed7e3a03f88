"""``python -m benchmarks.compare``: it passes a commit compared with itself, fails a synthetic
slowdown, and judges with both thresholds.

The end-to-end runs use the ``tiny`` case (a kernel the rest of the suite compiles; about 5 s a
run with the cache filled): the point is the pipeline — export, workers, interleaving, table, exit
status — not a timing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.compare import judge

ROOT = Path(__file__).resolve().parent.parent


def _is_git_checkout() -> bool:
    if shutil.which("git") is None:
        return False
    done = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=ROOT, capture_output=True)
    return done.returncode == 0


needs_git = pytest.mark.skipif(not _is_git_checkout(), reason="needs a git checkout with commits")


def _compare(*args):
    return subprocess.run([sys.executable, "-m", "benchmarks.compare", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_both_thresholds_must_be_crossed():
    assert judge([1.0] * 3, [1.2] * 3, 0.15, 0.05) == "slower"
    assert judge([0.01] * 3, [0.03] * 3, 0.15, 0.05) == "same"  # +200 %, but 0.02 s
    assert judge([10.0] * 3, [11.0] * 3, 0.15, 0.05) == "same"  # 1 s, but +10 %
    assert judge([1.2] * 3, [1.0] * 3, 0.15, 0.05) == "faster"
    assert judge([1.0, 9.0, 1.0], [1.1, 1.1, 9.0], 0.15, 0.05) == "same"  # medians, not means


@needs_git
def test_a_commit_compared_with_itself_passes():
    done = _compare("HEAD", "HEAD", "--cases", "tiny", "--rounds", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("tiny ")]
    assert row.rstrip().endswith("ok")
    assert "SLOWER = head > 15% and > 0.05 s slower" in done.stdout


@needs_git
def test_a_synthetic_slowdown_fails():
    done = _compare("HEAD", "HEAD", "--cases", "tiny", "--rounds", "2", "--inject-slowdown", "0.2")
    assert done.returncode == 1, done.stdout + done.stderr
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("tiny ")]
    assert row.rstrip().endswith("SLOWER")


def test_bad_arguments_are_a_usage_error():
    done = _compare("HEAD", "HEAD", "--cases", "nonsense")
    assert done.returncode == 2 and "unknown cases" in done.stderr


@needs_git
def test_an_unknown_revision_is_named():
    done = _compare("no-such-revision-here", "HEAD", "--cases", "tiny")
    assert done.returncode == 2 and "no-such-revision-here" in done.stderr
