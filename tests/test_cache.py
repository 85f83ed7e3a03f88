"""The on-disk compile cache: on by default in a per-user directory, NUMBA_CACHE_DIR wins,
FASTLR_CACHE=0 turns it off; a later process compiles nothing; four processes racing on an empty
cache all get right answers; an edited kernel source never loads stale machine code; an
unwritable or read-only location never breaks a call. Each case runs fresh interpreters.

Most cases call ``kernels.sigmoid`` (the cheapest kernel to compile, ~0.5 s); its compiled code
inlines ``_pointwise.sigmoid_scalar`` from another module, which is what the stale-code case
edits. One case loads the fused ``loss_grad`` (task dispatcher passed to the driver) from disk.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

import fastlr

PACKAGE_DIR = Path(fastlr.__file__).resolve().parent
Z = [-3.0, 0.5, 40.0]

# Prints the result and the fastlr functions Numba compiled in this process (from its event API).
PROBE = textwrap.dedent("""
    import json, warnings
    from numba.core import event
    compiled = []
    class Listener(event.Listener):
        def on_start(self, ev):
            func = ev.data["dispatcher"].py_func
            if func.__module__.startswith("fastlr"):
                compiled.append(func.__qualname__)
        def on_end(self, ev):
            pass
    event.register("numba:compile", Listener())
    import numpy as np
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from fastlr import kernels
        CALL
    print(json.dumps({"value": [float(v) for v in np.ravel(value)], "compiled": compiled,
                      "warnings": [str(w.message) for w in caught]}))
""")
SIGMOID = PROBE.replace("CALL", f"value = kernels.sigmoid(np.array({Z!r}))")
SIGMOID32 = PROBE.replace("CALL", f"value = kernels.sigmoid(np.array({Z!r}, dtype=np.float32))")
LOSS_GRAD = PROBE.replace("CALL", "value = kernels.loss_grad(np.array([0.5, -1.0]), 0.1, "
                                  "np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1.0, 0.0]))[1]")


def _env(tmp_path, **extra):
    """A clean environment: no user cache settings, HOME and XDG_CACHE_HOME inside tmp_path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("FASTLR_", "NUMBA_CACHE", "XDG_CACHE"))}
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "xdg"))
    env.update(extra)
    return env


def _probe(code, env, cwd=None, prefix=()):
    out = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, cwd=cwd, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _cache_files(root: Path):
    return sorted(p for p in root.rglob("*") if p.suffix in (".nbi", ".nbc"))


def test_on_by_default_in_the_per_user_directory_and_a_second_process_compiles_nothing(tmp_path):
    env = _env(tmp_path)
    first = _probe(SIGMOID, env)
    assert "sigmoid_flat" in first["compiled"]
    files = _cache_files(tmp_path / "xdg" / "fastlr")
    assert any(f.suffix == ".nbi" for f in files) and any(f.suffix == ".nbc" for f in files)
    second = _probe(SIGMOID, env)
    assert second["compiled"] == [] and second["warnings"] == []
    np.testing.assert_array_max_ulp(np.array(second["value"]), expit(np.array(Z)), maxulp=4)


def test_the_fused_kernel_loads_from_disk(tmp_path):
    env = _env(tmp_path)
    first = _probe(LOSS_GRAD, env)
    assert {"gradient__rows_1__logistic",
            "gradient__rows_1__logistic_serial"} <= set(first["compiled"])
    second = _probe(LOSS_GRAD, env)
    assert second["compiled"] == [] and second["value"] == first["value"]


DIAGONAL = PROBE.replace("CALL", textwrap.dedent("""\
    from fastlr.kernels import _sums
    rng = np.random.default_rng(1)
    d, db = _sums.diagonal_sums(rng.standard_normal((1003, 7)), rng.random((3, 1003)))
    value = np.concatenate([d.ravel(), db])""").replace("\n", "\n    "))


def test_a_pass_loaded_from_disk_gives_the_bits_it_gave_when_compiled(tmp_path):
    """The C-order diagonal of several functions (``_vector_rows``), compiled in one process
    and loaded from the cache in the next: the same bits. (Its Σ C[k, i] once came out one ulp
    apart: a reassociated loop inlined into the task was optimised again when the task was
    linked into its driver in the compiling process, and not when loaded.)"""
    env = _env(tmp_path)
    first = _probe(DIAGONAL, env)
    assert "diagonal__rows_k" in first["compiled"]
    second = _probe(DIAGONAL, env)
    assert second["compiled"] == [] and second["value"] == first["value"]


def test_a_relative_xdg_cache_home_is_ignored(tmp_path):
    """XDG_CACHE_HOME=relative/cache made a cache directory under every working directory; the
    XDG specification says a relative value is invalid and must be ignored: ~/.cache is used."""
    work = tmp_path / "work"
    work.mkdir()
    _probe(SIGMOID, _env(tmp_path, XDG_CACHE_HOME="relative/cache"), cwd=work)
    assert list(work.iterdir()) == []
    assert _cache_files(tmp_path / "home" / ".cache" / "fastlr")


def test_numba_cache_dir_wins_and_fastlr_cache_0_turns_it_off(tmp_path):
    _probe(SIGMOID, _env(tmp_path, NUMBA_CACHE_DIR=str(tmp_path / "numba")))
    assert _cache_files(tmp_path / "numba" / "fastlr")
    assert not (tmp_path / "xdg").exists()
    off = _probe(SIGMOID, _env(tmp_path / "off", FASTLR_CACHE="0"))
    assert "sigmoid_flat" in off["compiled"] and off["warnings"] == []
    assert not (tmp_path / "off" / "xdg").exists()


def test_four_processes_racing_on_an_empty_cache(tmp_path):
    """Each compiles and saves at once (sigmoid in float64 and float32: two signatures per
    function, so the data files of different signatures are written concurrently); all answers
    are right and a fifth process then loads both signatures without compiling."""
    env = _env(tmp_path)
    code = PROBE.replace("CALL", f"value = np.concatenate([kernels.sigmoid(np.array({Z!r})), "
                                 f"kernels.sigmoid(np.array({Z!r}, dtype=np.float32))])")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _probe(code, env), range(4)))
    want = np.concatenate([expit(np.array(Z)), expit(np.array(Z, dtype=np.float32))])
    for r in results:
        np.testing.assert_allclose(r["value"], want, rtol=1e-6)
    fifth = _probe(code, env)
    assert fifth["compiled"] == []
    np.testing.assert_allclose(fifth["value"], want, rtol=1e-6)


def _copy_package(tmp_path) -> Path:
    site = tmp_path / "site"
    shutil.copytree(PACKAGE_DIR, site / "fastlr", ignore=shutil.ignore_patterns("__pycache__"))
    return site


def test_an_edited_kernel_source_never_loads_stale_code(tmp_path):
    """Edit a function that the cached kernel calls from another module (Numba's own index only
    checks the file of the cached function itself): the next process must run the new code."""
    site = _copy_package(tmp_path)
    env = _env(tmp_path, PYTHONPATH=str(site))
    before = _probe(SIGMOID, env, cwd=tmp_path)
    pointwise = site / "fastlr" / "kernels" / "_pointwise.py"
    source = pointwise.read_text()
    edited = source.replace("        return 1.0 / (1.0 + e)\n    return e / (1.0 + e)",
                            "        return 1.0 / (1.0 + e) + 1.0\n    return e / (1.0 + e) + 1.0")
    assert edited != source
    pointwise.write_text(edited)
    after = _probe(SIGMOID, env, cwd=tmp_path)
    assert "sigmoid_flat" in after["compiled"]
    np.testing.assert_allclose(after["value"], np.array(before["value"]) + 1.0, rtol=1e-12)


def test_no_usable_directory_runs_uncached_and_says_so_once(tmp_path):
    """XDG_CACHE_HOME below a regular file: no directory can be made, not even by root."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _probe(LOSS_GRAD.replace("value = kernels.loss_grad",
                                      "kernels.sigmoid(np.zeros(3)); value = kernels.loss_grad"),
                    _env(tmp_path, XDG_CACHE_HOME=str(blocker / "cache")))
    assert len(result["warnings"]) == 1 and "compile in every process" in result["warnings"][0]
    X, y = np.array([[1.0, 2.0], [3.0, -1.0]]), np.array([1.0, 0.0])
    dw = X.T @ (expit(X @ np.array([0.5, -1.0]) + 0.1) - y) / 2
    np.testing.assert_allclose(result["value"], dw, rtol=1e-12)


# As root, chmod does not stop writes; a read-only bind mount in a private mount namespace
# (unshare -m) does.
_RO_MOUNT = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'


def _read_only_prefix(path: Path):
    if os.geteuid() != 0:
        path.chmod(0o555)
        return ()
    if shutil.which("unshare") is None or subprocess.run(
            ["unshare", "-m", "sh", "-c", _RO_MOUNT, "sh", str(path), "true"]).returncode != 0:
        pytest.skip("running as root without mount namespaces: cannot make a read-only directory")
    return ("unshare", "-m", "sh", "-c", _RO_MOUNT, "sh", str(path))


def test_a_read_only_cache_is_loaded_and_never_written(tmp_path):
    """A prepared cache (an image built with ``fastlr warmup``) on a read-only file system: a new
    process loads it without compiling and without warnings; a signature it lacks compiles and
    runs, and nothing is written."""
    env = _env(tmp_path)
    _probe(SIGMOID, env)
    root = tmp_path / "xdg"
    files = _cache_files(root)
    prefix = _read_only_prefix(root)
    try:
        loaded = _probe(SIGMOID, env, prefix=prefix)
        assert loaded["compiled"] == [] and loaded["warnings"] == []
        new_sig = _probe(SIGMOID32, env, prefix=prefix)
        assert "sigmoid_flat" in new_sig["compiled"] and new_sig["warnings"] == []
    finally:
        root.chmod(0o755)
    assert _cache_files(root) == files


WARMUP = textwrap.dedent("""
    import json
    import numpy as np
    from fastlr import warmup
    from fastlr.kernels import _passes
    seen = []
    done = warmup(dtypes=(np.float64,), progress=seen.append)
    uncovered = ["/".join(map(str, key)) for key, drivers in _passes.compiled_so_far().items()
                 if not set(drivers.serial.signatures) <= set(drivers.parallel.signatures)]
    print(json.dumps({"done": [what for what, _ in done], "seen": seen, "uncovered": uncovered}))
""")


def test_warmup_leaves_every_common_kernel_compiled():
    """``fastlr.warmup`` runs each common specialisation once and compiles the parallel driver of
    every signature its serial driver has. In a fresh process (in this one it would compile the
    parallel twin of every signature the earlier tests reached: ~70 s) that shares this session's
    disk cache, so it loads what the earlier tests compiled and compiles the rest."""
    out = _probe(WARMUP, dict(os.environ))
    assert out["done"] == out["seen"]
    assert any("CSR float64, int64 indices" in what for what in out["seen"])
    assert any("loss_grad_hess, dense F" in what for what in out["seen"])
    assert out["uncovered"] == []


def test_warmup_command_refuses_without_a_cache(tmp_path):
    out = subprocess.run([sys.executable, "-m", "fastlr", "warmup"], capture_output=True,
                         text=True, env=_env(tmp_path, FASTLR_CACHE="0"), timeout=120)
    assert out.returncode == 2 and "cache is off" in out.stderr


# ------------------------------------------------------------------ damaged files (hardening 3)

def _damage(path: Path, how: str, seed: int = 0) -> None:
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "flipped":  # bytes of the machine code: the object file's first section
        elf = data.find(b"\x7fELF")
        assert elf > 0, "no object code in the data file"
        rng = np.random.default_rng(seed)
        raw = bytearray(data)
        for i in elf + 64 + rng.integers(0, 512, size=4):
            raw[i] ^= 0xFF
        path.write_bytes(bytes(raw))
    else:
        raise ValueError(how)


@pytest.fixture(scope="module")
def filled_cache(tmp_path_factory):
    """A cache that holds sigmoid's kernel (index and data file), made once for this module."""
    root = tmp_path_factory.mktemp("filled")
    _probe(SIGMOID, _env(root))
    return root


@pytest.mark.parametrize("suffix, how, seed", [
    (".nbi", "empty", 0), (".nbc", "flipped", 1),
    *[pytest.param(*case, marks=pytest.mark.full) for case in [
        (".nbi", "truncated", 0), (".nbc", "empty", 0), (".nbc", "truncated", 0),
        (".nbc", "flipped", 2), (".nbc", "flipped", 3)]]])
def test_a_damaged_cache_file_is_a_miss_and_is_replaced(filled_cache, tmp_path, suffix, how,
                                                        seed):
    """An empty or truncated index or data file made every later process fail (EOFError,
    UnpicklingError from Numba's loader); flipped bytes in the machine code crashed it (SIGSEGV,
    SIGILL: seeds 1-3 here) or ran. The next process recompiles, answers right, without a warning, and writes the
    entry again: the one after it compiles nothing."""
    shutil.copytree(filled_cache, tmp_path, dirs_exist_ok=True)
    env = _env(tmp_path)
    (target,) = [f for f in _cache_files(tmp_path / "xdg" / "fastlr") if f.suffix == suffix]
    _damage(target, how, seed)
    healed = _probe(SIGMOID, env)
    assert "sigmoid_flat" in healed["compiled"] and healed["warnings"] == []
    np.testing.assert_array_max_ulp(np.array(healed["value"]), expit(np.array(Z)), maxulp=4)
    after = _probe(SIGMOID, env)
    assert after["compiled"] == [] and after["value"] == healed["value"]


def test_data_files_carry_the_checksum_of_their_contents(filled_cache):
    """What the loader verifies: the magic, then the SHA-256 of the rest (Numba's pickle)."""
    import hashlib

    from fastlr._cache import DATA_MAGIC

    files = [f for f in _cache_files(filled_cache / "xdg" / "fastlr") if f.suffix == ".nbc"]
    assert files
    for f in files:
        raw = f.read_bytes()
        head = len(DATA_MAGIC)
        assert raw[:head] == DATA_MAGIC
        assert hashlib.sha256(raw[head + 32:]).digest() == raw[head:head + 32]
    assert not [p for p in (filled_cache / "xdg").rglob("*.tmp.*")]  # no temporary files left
