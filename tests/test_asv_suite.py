"""The asv suite (benchmarks/) runs: every benchmark once, in quick mode, on the installed package.

A benchmark that raises makes ``asv run`` exit with status 2, so a broken benchmark fails CI here
(checked below on a deliberately broken one-benchmark suite). Needs asv (the ``bench`` extra) and a
git checkout; skipped with the reason otherwise. Takes 1-3 minutes on 2 cores: every parameter
combination runs in its own process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytest.importorskip("asv", reason="asv is not installed (pip install 'fastlr-numba[bench]')")


def _git_head():
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="module")
def asv_env(tmp_path_factory):
    """Environment for asv: a throw-away HOME holding the machine file ``asv machine --yes`` writes."""
    if _git_head() is None:
        pytest.skip("not a git checkout with a HEAD commit: asv needs one")
    home = tmp_path_factory.mktemp("asv-home")
    env = dict(os.environ, HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", "fastlr-ci"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def _asv(env, *args, config=None, timeout=900):
    cmd = [sys.executable, "-m", "asv", *args]
    if args[0] == "run":
        cmd += ["--machine", "fastlr-ci"]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_every_registered_implementation_is_benchmarked():
    from benchmarks.bench_kernels import IMPLEMENTATIONS

    from fastlr.implementations import LOSS_GRAD

    dense = {name for name, impl in LOSS_GRAD.items() if not getattr(impl, "sparse", False)}
    assert dense <= set(IMPLEMENTATIONS), f"add {sorted(dense - set(IMPLEMENTATIONS))} to benchmarks/bench_kernels.py"


def test_asv_config():
    from asv.util import load_json

    conf = load_json(str(ROOT / "asv.conf.json"), js_comments=True)
    assert conf["repo"] == "." and conf["branches"] == ["main"]
    assert conf["environment_type"] == "virtualenv"
    for key in ("results_dir", "html_dir", "env_dir"):
        assert conf[key].startswith(".asv/")  # .asv/ is gitignored
    assert "pythons" not in conf  # never a list of Pythons the package may stop supporting


@pytest.mark.slow
def test_whole_suite_runs_once(asv_env):
    done = _asv(asv_env, "check", "--python=same")
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    done = _asv(asv_env, "run", "--python=same", "--quick", "--dry-run", "--show-stderr")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    assert "failed" not in output.lower(), output[-12000:]
    for name in ("LossGrad.time_loss_grad", "LossGradLayout.time_loss_grad", "Compile.timeraw",
                 "KernelError.track_max_error", "Fit.peakmem_fit", "Fit.track_n_iter"):
        assert name in output


def test_a_raising_benchmark_fails_the_run(asv_env, tmp_path):
    """The check above can fail: asv exits non-zero when a benchmark raises."""
    suite = tmp_path / "broken_benchmarks"
    suite.mkdir()
    (suite / "__init__.py").write_text("")
    (suite / "bench_broken.py").write_text(
        "def time_raises():\n    raise RuntimeError('a broken benchmark')\n"
    )
    conf = tmp_path / "asv.conf.json"
    conf.write_text(json.dumps({
        "version": 1, "project": "fastlr", "repo": str(ROOT), "branches": ["main"],
        "environment_type": "virtualenv", "benchmark_dir": str(suite),
        "env_dir": str(tmp_path / "env"), "results_dir": str(tmp_path / "results"),
        "html_dir": str(tmp_path / "html"),
    }))
    done = _asv(asv_env, "run", "--python=same", "--quick", "--dry-run", "--show-stderr", config=conf,
                timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "a broken benchmark" in done.stdout + done.stderr
