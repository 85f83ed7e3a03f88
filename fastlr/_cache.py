"""Compiled kernels on disk: a per-user cache that is safe to share, to race on and to upgrade.

Every process that fits a model would otherwise pay Numba's compiler first (2-5 s per kernel and
layout). With the cache, the first process after an install compiles and saves; every later one
loads the machine code in a few milliseconds per kernel.

Where
    ``$NUMBA_CACHE_DIR/fastlr/<digest>`` when ``NUMBA_CACHE_DIR`` is set, else the platform's
    per-user cache directory: ``$XDG_CACHE_HOME/fastlr`` (an absolute path; a relative one
    is ignored, as the XDG specification says) or ``~/.cache/fastlr`` (Linux),
    ``~/Library/Caches/fastlr`` (macOS), ``%LOCALAPPDATA%\\fastlr\\Cache`` (Windows), then
    ``/<digest>``. ``FASTLR_CACHE=0`` turns the cache off.

Upgrades and edits
    ``<digest>`` hashes fastlr's version and the source of every kernel module and of the
    compile flags (``fastlr/kernels/*.py``, ``fastlr/_jit.py``, this file, and the solvers'
    compiled modules ``fastlr/_solvers/_sweeps.py`` and ``fastlr/_solvers/_cd.py``). Numba's own index only
    checks the time stamp of the file that defines a function, so an edit to a *callee* in
    another module would load stale machine code; here any edit anywhere in the kernels gives a
    new directory, and the index checks the digest, too.

Several processes at once
    Numba writes each file to a temporary name and renames it, so no reader sees a half-written
    file; but it numbers data files 1, 2, … per function, so two processes that compile two
    signatures at once can both pick ``.1.nbc``, and the index of one then names the other's
    machine code. Here a data file is named after a hash of its index key (signature, CPU,
    bytecode), so different keys never share a file; a lost index update only costs a recompile.

Nowhere to write
    A directory that exists but is read-only (a prepared image, ``fastlr warmup`` run as another
    user) is used to load, never to save. Where no directory can be made or written at all, the
    kernels run uncached and a :class:`CacheWarning` says so, once per process.

Damaged files
    A power loss, a full disk or bit rot can leave an index or data file empty, truncated or
    with flipped bytes; Numba's loader then raised (``EOFError``, ``UnpicklingError``, …) in
    every later process, or ran the damaged machine code (SIGSEGV, SIGILL). Here every failure
    to read an entry is a cache miss: the kernel compiles and its entry is written again. Files
    are written to a temporary name, flushed to disk (``fsync``) and renamed, and a data file
    starts with the SHA-256 of the rest (:data:`DATA_MAGIC`, digest, Numba's pickle): it is
    checked before anything is unpickled, so damaged machine code is never loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import uuid
import warnings
from pathlib import Path

__all__ = ["CacheWarning", "DATA_MAGIC", "attach", "cache_dir", "enabled"]

#: First bytes of a data file; the SHA-256 (32 bytes) of the rest of the file follows.
DATA_MAGIC = b"fastlr-nbc-1\n"

_PACKAGE = Path(__file__).resolve().parent
_warned = False


class CacheWarning(UserWarning):
    """fastlr could not use an on-disk compile cache (the kernels still work, uncached)."""


def enabled() -> bool:
    """The cache is on unless ``FASTLR_CACHE`` is 0, false, no or off."""
    return os.environ.get("FASTLR_CACHE", "1").strip().lower() not in {"0", "false", "no", "off"}


def _user_cache_root() -> Path:
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "fastlr"
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "fastlr" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "fastlr"
    # the XDG Base Directory specification: a relative path is invalid and must be ignored
    # (it made a cache directory under every working directory)
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return Path(xdg if os.path.isabs(xdg) else Path.home() / ".cache") / "fastlr"


def source_digest() -> str:
    """Hash of fastlr's version and of every source file whose change changes compiled code."""
    from . import __version__

    h = hashlib.sha256(__version__.encode())
    for path in sorted([*(_PACKAGE / "kernels").glob("*.py"), _PACKAGE / "_jit.py",
                        _PACKAGE / "_cache.py", _PACKAGE / "_solvers" / "_sweeps.py",
                        _PACKAGE / "_solvers" / "_cd.py"]):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


_DIGEST = None
_DIRECTORY = None  # (path, writable) once probed; path None when unusable


def cache_dir():
    """(directory, writable) of this fastlr's kernels; (None, False) when there is none."""
    global _DIGEST, _DIRECTORY
    if _DIRECTORY is None:
        _DIGEST = source_digest()
        path = _user_cache_root() / _DIGEST
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            pass
        if not path.is_dir():
            _DIRECTORY = (None, False)
        else:
            try:
                probe = path / f".probe-{os.getpid()}"
                probe.write_bytes(b"")
                probe.unlink()
                _DIRECTORY = (path, True)
            except OSError:
                _DIRECTORY = (path, False)  # read-only: load what is there, save nothing
    return _DIRECTORY


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(message, CacheWarning, stacklevel=3)


def _cache_classes():
    """Numba's cache machinery, specialised as described in the module docstring (built lazily:
    importing Numba's caching module is only needed once a kernel is defined)."""
    from numba.core import caching

    class Locator(caching._CacheLocator):
        def __init__(self, py_func, path):
            self._py_func = py_func
            self._path = str(path)
            self._py_file = getattr(py_func.__code__, "co_filename", "")

        def ensure_cache_path(self):
            os.makedirs(self._path, exist_ok=True)

        def get_cache_path(self):
            return self._path

        def get_source_stamp(self):
            return _DIGEST

        def get_disambiguator(self):
            return str(self._py_func.__code__.co_firstlineno)

        @classmethod
        def from_function(cls, py_func, py_file):
            path, _ = cache_dir()
            return None if path is None else cls(py_func, path)

    class Impl(caching.CompileResultCacheImpl):
        _locator_classes = [Locator]

    class DataFiles(caching.IndexDataCacheFile):
        """Data files named by a hash of their index key (concurrent writers never collide),
        checksummed, written durably; any damaged file reads as a cache miss."""

        def __init__(self, cache_path, filename_base, source_stamp):
            super().__init__(cache_path, filename_base, source_stamp)
            self._filename_base = filename_base

        def save(self, key, data):
            name = f"{self._filename_base}.{hashlib.sha256(self._dump(key)).hexdigest()[:24]}.nbc"
            self._save_data(name, data)  # the data first: the index never names a missing file
            overloads = self._load_index()
            overloads[key] = name
            self._save_index(overloads)

        def load(self, key):
            name = self._load_index().get(key)
            if name is None:
                return None
            try:
                return self._load_data(name)
            except Exception:  # missing, truncated or damaged: compiled again, then replaced
                return None

        def _load_index(self):
            try:
                overloads = super()._load_index()
            except Exception:  # empty, truncated or damaged (EOFError, UnpicklingError, ...)
                return {}
            return overloads if isinstance(overloads, dict) else {}

        def _save_data(self, name, data):
            payload = self._dump(data)
            with self._open_for_write(self._data_path(name)) as fh:
                fh.write(DATA_MAGIC + hashlib.sha256(payload).digest() + payload)

        def _load_data(self, name):
            with open(self._data_path(name), "rb") as fh:
                raw = fh.read()
            start = len(DATA_MAGIC) + 32
            if (raw[:len(DATA_MAGIC)] != DATA_MAGIC
                    or hashlib.sha256(raw[start:]).digest() != raw[len(DATA_MAGIC):start]):
                raise ValueError("damaged cache file")  # never unpickled, never executed
            return pickle.loads(raw[start:])

        @contextlib.contextmanager
        def _open_for_write(self, filepath):
            """Numba's temporary name and rename, with the data on disk before the rename: a
            power loss leaves the old file or the new one, never a partial one."""
            tmpname = f"{filepath}.tmp.{uuid.uuid4().hex[:16]}"
            try:
                with open(tmpname, "wb") as fh:
                    yield fh
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmpname, filepath)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmpname)
                raise

    class KernelCache(caching.FunctionCache):
        _impl_class = Impl

        def __init__(self, py_func, writable):
            super().__init__(py_func)
            self._writable = writable
            self._cache_file = DataFiles(self._cache_path, self._impl.filename_base,
                                         self._impl.locator.get_source_stamp())

        def load_overload(self, sig, target_context):
            try:
                return super().load_overload(sig, target_context)
            except Exception:  # an entry that checks out but does not rebuild: a cache miss
                return None

        def save_overload(self, sig, data):
            if not self._writable:
                return
            try:
                super().save_overload(sig, data)
            except OSError as exc:  # disk full, permissions changed: keep running uncached
                self._writable = False
                _warn_once(f"fastlr could not save a compiled kernel to {self._cache_path} "
                           f"({exc}); it will compile again in the next process.")

    return KernelCache


_KernelCache = None


def attach(dispatcher) -> None:
    """Give a Numba dispatcher fastlr's on-disk cache (nothing when disabled or unusable)."""
    global _KernelCache
    if not enabled() or not hasattr(dispatcher, "py_func"):  # NUMBA_DISABLE_JIT: plain functions
        return
    path, writable = cache_dir()
    if path is None:
        _warn_once(f"fastlr found no usable directory for its compiled kernels (tried "
                   f"{_user_cache_root()}); kernels compile in every process. Point "
                   "NUMBA_CACHE_DIR to a writable directory, or set FASTLR_CACHE=0 to silence "
                   "this warning.")
        return
    if _KernelCache is None:
        _KernelCache = _cache_classes()
    dispatcher._cache = _KernelCache(dispatcher.py_func, writable)
