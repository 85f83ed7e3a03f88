"""When a timing is noise rather than a result.

A row is flagged "noisy", and its figures are marked instead of reported, when

* its samples spread widely: (slowest − fastest) / median > ``WIDE_SPREAD``; on a quiet machine
  a sample of ≥ 20 ms repeats to within a few per cent, so a wide spread means other work took
  the cores during some samples and the median may be off too;
* it is faster than reading its input once ("% read" > 100 %): no kernel that reads every element
  can beat a pass that only reads them, so either the read was slowed (load during its samples)
  or the kernel's samples were lucky. Either way the ratio is not a measurement of the kernel;
* it runs at a thread count at which even the plain read of the input was slower than at 1 thread:
  those threads did not get cores of their own (other work holds them), or the input is too small
  to split. Seen on the 2-core reference machine under load: every 2-thread row 2-5x slower than
  its 1-thread row, with a small spread, so the other two rules do not catch it.

Flags never change the exit status: noise is not a wrong result. The fix is a quieter machine or
more samples (``--repeat``).
"""

from __future__ import annotations

__all__ = ["FASTER_THAN_READ", "THREADS_STARVED", "WIDE_SPREAD", "WIDE_SPREAD_FLAG", "noise_flags",
           "starved_thread_counts"]

#: widest spread still reported as a result. Measured on the 2-core reference machine, 5 samples:
#: quiet, the spreads of the default tables were 1-12 %; with one competing busy process, 20-150 %.
WIDE_SPREAD = 0.25
WIDE_SPREAD_FLAG = "wide spread"
FASTER_THAN_READ = "faster than a read"
THREADS_STARVED = "threads starved"


def starved_thread_counts(read_s: dict) -> set:
    """Thread counts (> 1) at which reading the input once took longer than at 1 thread."""
    one = read_s.get(1)
    return {t for t, s in read_s.items() if one is not None and t is not None and t > 1 and s > one}


def noise_flags(spread: float | None, pct_of_read: float | None, starved: bool = False) -> list[str]:
    """Why a row's timing is not a result (empty when it is one).

    ``spread`` is None with a single sample (nothing to judge), ``pct_of_read`` None when the row
    has no read-once floor, ``starved`` true when the row's thread count is in
    :func:`starved_thread_counts`.
    """
    flags = []
    if spread is not None and spread > WIDE_SPREAD:
        flags.append(WIDE_SPREAD_FLAG)
    if pct_of_read is not None and pct_of_read > 100.0:
        flags.append(FASTER_THAN_READ)
    if starved:
        flags.append(THREADS_STARVED)
    return flags
