"""Ctrl-C during a fit: a clean ``KeyboardInterrupt`` within one evaluation of the objective.

A kernel runs compiled code with the GIL released; Python's SIGINT handler only runs when the
main thread executes bytecode again, and if that happens inside Numba's call machinery the
``KeyboardInterrupt`` surfaces as ``SystemError: ... returned a result with an exception set``.
One-vs-rest classes on worker threads never see the signal at all and run to the end.

``deferred_sigint()`` replaces the handler for the duration of a fit with one that only records
the signal. The objective (``fastlr._objective.Objective``) calls :func:`check` before every
evaluation, in whichever thread solves the problem, and raises ``KeyboardInterrupt`` there: every
solver and every one-vs-rest thread stops within one evaluation. When the fit ends, the previous
handler is back. Nothing is set on the estimator before the fit completes, so an interrupted fit
leaves it as it was.

Only the main thread can install a signal handler; a fit started from another thread keeps
Python's usual behaviour.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

__all__ = ["check", "deferred_sigint"]

_pending = threading.Event()
_depth = 0


def check() -> None:
    """Raise ``KeyboardInterrupt`` if Ctrl-C arrived during the current fit."""
    if _pending.is_set():
        raise KeyboardInterrupt


@contextmanager
def deferred_sigint():
    """Record SIGINT instead of raising it mid-kernel; see the module docstring."""
    global _depth
    if threading.current_thread() is not threading.main_thread() or _depth:
        yield  # a nested fit (or another thread): the outer fit's handler is in charge
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        yield  # the user installed their own handler (or ignores SIGINT): leave it alone
        return
    _pending.clear()
    signal.signal(signal.SIGINT, lambda signum, frame: _pending.set())
    _depth = 1
    try:
        yield
        check()  # a signal that arrived after the last evaluation
    finally:
        _depth = 0
        signal.signal(signal.SIGINT, previous)
        _pending.clear()
