"""``import fastlr`` stays light and compiles nothing; Numba's compile cache is opt-in and works
when the package is installed read-only. Each test runs a fresh interpreter."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import fastlr

PACKAGE_DIR = Path(fastlr.__file__).resolve().parent
HEAVY = ["numba", "sklearn", "dask", "distributed", "matplotlib", "pandas", "scipy.optimize"]

# One tiny C-ordered float64 problem: a single specialisation of the fused kernel compiles.
TINY_CALL = textwrap.dedent("""
    import numpy as np
    from fastlr import kernels
    J, dw, db = kernels.loss_grad(np.array([0.5, -1.0]), 0.1, np.array([[1.0, 2.0], [3.0, -1.0]]),
                                  np.array([1.0, 0.0]))
    print(float(J))
""")


def _run(code, env=None, cwd=None):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTLR_", "NUMBA_CACHE"))}
    full_env.update(env or {})
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                         cwd=cwd, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_fastlr_is_light():
    code = textwrap.dedent(f"""
        import json, sys
        import fastlr
        fastlr.__version__, dir(fastlr)
        print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
    """)
    assert json.loads(_run(code)) == []


def test_importing_the_kernels_compiles_nothing():
    code = textwrap.dedent("""
        import json, sys
        import fastlr.kernels, fastlr.reference, fastlr.course, fastlr.implementations
        from fastlr.kernels import _dense, _layout, _pointwise, hessian, sparse
        from numba.core.registry import CPUDispatcher
        compiled, cached = {}, []
        for mod in (_dense, _layout, _pointwise, hessian, sparse):
            for name, obj in vars(mod).items():
                if isinstance(obj, CPUDispatcher):
                    compiled[f"{mod.__name__}.{name}"] = len(obj.signatures)
                    if type(obj._cache).__name__ != "NullCache":  # FASTLR_CACHE unset: no disk cache
                        cached.append(name)
        heavy = [m for m in ("sklearn", "dask", "distributed", "matplotlib", "pandas") if m in sys.modules]
        print(json.dumps({"compiled": compiled, "heavy": heavy, "cached": cached}))
    """)
    report = json.loads(_run(code))
    assert report["compiled"], "found no Numba dispatchers to inspect"
    assert "fastlr.kernels._dense.rows_task" in report["compiled"]
    assert "fastlr.kernels._layout.over_tasks_parallel" in report["compiled"]
    assert {k: v for k, v in report["compiled"].items() if v} == {}
    assert report["heavy"] == []
    assert report["cached"] == [], "the on-disk cache must be opt-in (FASTLR_CACHE)"


def _cache_files(root: Path):
    return sorted(p.name for p in root.rglob("*") if p.suffix in (".nbi", ".nbc"))


def test_opt_in_cache_writes_to_numba_cache_dir(tmp_path):
    cache = tmp_path / "numba-cache"
    _run(TINY_CALL, env={"FASTLR_CACHE": "1", "NUMBA_CACHE_DIR": str(cache)})
    files = _cache_files(cache)
    assert any(f.endswith(".nbi") for f in files) and any(f.endswith(".nbc") for f in files), files
    assert any("rows_task" in f for f in files), files


# Root writes into chmod-read-only directories; as root, a read-only bind mount in a private mount
# namespace (unshare -m) makes the copy truly read-only.
_RO_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def test_cache_works_from_a_read_only_install(tmp_path):
    """A read-only copy of the package, first on sys.path, HOME in tmp and no NUMBA_CACHE_DIR:
    Numba falls back to its user-wide cache directory and the call succeeds."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, site / "fastlr", ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASTLR_", "NUMBA_CACHE"))}
    env.update(FASTLR_CACHE="1", HOME=str(home), PYTHONPATH=str(site), XDG_CACHE_HOME=str(home / ".cache"))
    cmd = [sys.executable, "-c", "import fastlr; print(fastlr.__file__)\n" + TINY_CALL]
    if os.geteuid() == 0:
        if shutil.which("unshare") is None or subprocess.run(
                ["unshare", "-m", "sh", "-c", _RO_MOUNT, "sh", str(site), "true"]).returncode != 0:
            pytest.skip("running as root without mount namespaces: cannot make a read-only directory")
        cmd = ["unshare", "-m", "sh", "-c", _RO_MOUNT, "sh", str(site), *cmd]
    for p in [site, *site.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[0].startswith(str(site)), out.stdout
        assert _cache_files(site) == []  # nothing written into the read-only package
        assert _cache_files(home), "no cache files under HOME"
    finally:
        for p in [site, *site.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IWUSR)
