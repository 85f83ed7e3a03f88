"""Numba's threading layer where processes fork: TBB in place before anyone launches it, and the
one case that is left detected.

Numba chooses its threading layer once per process, at the first parallel launch — and
``numba.set_num_threads`` / ``numba.get_num_threads`` launch it too. With TBB unavailable it
takes GNU OpenMP, and a process forked from one that launched GNU OpenMP is killed by Numba at
its first parallel kernel ("fork() called from a process already using GNU OpenMP, this is
unsafe"): a forked ``multiprocessing.Pool`` whose workers fit then hangs.

* The ``tbb`` wheel puts its library in the environment's ``lib`` directory, where Numba does not
  look; ``import fastlr`` loads it (:func:`load_tbb`, ~2 ms, with ctypes ~5 ms in all) so that
  Numba finds TBB whatever the user touches first — unless the user chose a layer
  (``NUMBA_THREADING_LAYER``/``NUMBA_THREADING_LAYER_PRIORITY``), which wins.
* What remains — Numba launched before ``import fastlr`` without TBB, or no TBB at all — is told
  apart by :func:`launched_here`: a process that saw the layer not yet launched (at ``import
  fastlr``, in a child right after a fork, or before a kernel's first call) launched it itself
  and may use it; any other process may be a forked child of the launcher. ``fastlr._jit`` runs
  the kernels serially there when the layer is GNU OpenMP.

Imports neither Numba nor anything heavy (``import fastlr`` stays light).
"""

from __future__ import annotations

import os
import sys

__all__ = ["install", "launched_here", "load_tbb", "note_unlaunched", "user_chose_layer"]

_TBB_NAMES = {"linux": "libtbb.so.12", "darwin": "libtbb.12.dylib", "win32": "tbb12.dll"}
_tbb_loaded = None  # None: not tried with the wheel's metadata yet
_unlaunched_pid = None  # a process seen with Numba's layer not launched: it launches its own


def user_chose_layer() -> bool:
    """The user named a threading layer (or a priority) in the environment: theirs wins."""
    return "NUMBA_THREADING_LAYER" in os.environ or "NUMBA_THREADING_LAYER_PRIORITY" in os.environ


def load_tbb(thorough: bool = True) -> bool:
    """Load the ``tbb`` wheel's library (RTLD_GLOBAL) so that Numba's TBB layer links to it.

    The environment's ``lib`` directory (``bin`` on Windows) is tried first; ``thorough`` also
    searches the wheel's file list (importlib.metadata, ~10-20 ms: once, from ``fastlr._jit``).
    """
    global _tbb_loaded
    if _tbb_loaded or (_tbb_loaded is False and not thorough):
        return bool(_tbb_loaded)
    wanted = _TBB_NAMES.get(sys.platform)
    if wanted is None:
        _tbb_loaded = False
        return False
    import ctypes

    mode = getattr(ctypes, "RTLD_GLOBAL", 0)
    for directory in ("lib", "Library/bin", "bin"):
        path = os.path.join(sys.prefix, directory, wanted)
        if os.path.exists(path):
            try:
                ctypes.CDLL(path, mode=mode)
                _tbb_loaded = True
                return True
            except OSError:
                break
    if not thorough:
        return False
    _tbb_loaded = False
    try:
        from importlib import metadata

        files = metadata.files("tbb") or []
    except Exception:  # not installed, or broken metadata: no TBB
        return False
    for entry in files:
        if entry.name == wanted:
            try:
                ctypes.CDLL(str(entry.locate()), mode=mode)
                _tbb_loaded = True
            except OSError:
                pass
            break
    return bool(_tbb_loaded)


def note_unlaunched() -> None:
    """Record this process if Numba's threading layer is not launched in it (yet)."""
    global _unlaunched_pid
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is None or not getattr(parallel, "_is_initialized", False):
        _unlaunched_pid = os.getpid()


def launched_here() -> bool:
    """Numba's layer (launched now) was launched by this process: it was seen unlaunched here."""
    return _unlaunched_pid == os.getpid()


def install() -> None:
    """At ``import fastlr``: TBB in place (unless the user chose a layer), this process's state
    recorded, and a forked child's recorded right after the fork."""
    if not user_chose_layer():
        load_tbb(thorough=False)
    note_unlaunched()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=note_unlaunched)
