"""``import fastlr`` stays light and compiles nothing (the disk cache: tests/test_cache.py). Each
test runs a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

HEAVY = ["numba", "sklearn", "dask", "distributed", "matplotlib", "pandas", "scipy.optimize"]


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
        from fastlr.kernels import _layout, _loops, _passes, _pointwise, _sums, _xpass, datafits
        from numba.core.registry import CPUDispatcher
        built_at_import = [list(key) for key in _passes.compiled_so_far()]
        # a pass built (not run): its drivers exist, uncompiled, with the disk cache attached
        built = _passes.compiled("gradient", "rows_1", "logistic")
        compiled, cached = {}, []
        dispatchers = {"pass.serial": built.serial, "pass.parallel": built.parallel}
        for mod in (_layout, _loops, _pointwise, _xpass, datafits):
            for name, obj in vars(mod).items():
                dispatchers[f"{mod.__name__}.{name}"] = obj
        for key, d in dispatchers.items():
            if isinstance(d, CPUDispatcher):
                compiled[key] = len(d.signatures)
                if type(d._cache).__name__ != "NullCache":
                    cached.append(key)
        heavy = [m for m in ("sklearn", "dask", "distributed", "matplotlib", "pandas") if m in sys.modules]
        print(json.dumps({"compiled": compiled, "heavy": heavy, "cached": cached,
                          "built_at_import": built_at_import}))
    """)
    report = json.loads(_run(code))
    assert report["compiled"], "found no Numba dispatchers to inspect"
    assert "fastlr.kernels._xpass.rows_margins_1" in report["compiled"]
    assert "pass.parallel" in report["compiled"]
    assert report["built_at_import"] == []
    assert {k: v for k, v in report["compiled"].items() if v} == {}
    assert report["heavy"] == []
    assert "pass.serial" in report["cached"], "the on-disk cache is on by default"
