"""Parsers for ``fastlr bench``'s option values; each raises ``ValueError`` with a message the CLI
shows as a usage error (exit status 2)."""

from __future__ import annotations

import os
import tempfile

__all__ = ["check_output_path", "parse_choices", "parse_multinomial", "parse_real",
           "parse_sizes", "parse_sparse", "parse_threads"]


def check_output_path(path: str, option: str) -> None:
    """``ValueError`` unless a file can be written at ``path`` — checked before a run of minutes
    rather than after it. Tried for real (permission bits say nothing to root or on a read-only
    mount): an existing file is opened for appending (its contents and time stamp untouched),
    a new one's directory must take a temporary file; a directory is refused."""
    if os.path.isdir(path):
        raise ValueError(f"{option} {path}: is a directory, not a file")
    try:
        if os.path.exists(path):
            with open(path, "ab"):
                pass
        else:
            with tempfile.NamedTemporaryFile(dir=os.path.dirname(path) or ".",
                                             prefix=".fastlr-probe-"):
                pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(f"{option} {path}: cannot write there ({reason})") from None


def _parse_size(item: str) -> tuple[int, int]:
    text = item.strip().lower().replace("_", "")
    parts = text.split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"size {item.strip()!r} is not of the form N_SAMPLESxN_FEATURES, e.g. 200000x100")
    m, n = int(parts[0]), int(parts[1])
    if m < 1 or n < 1:
        raise ValueError(f"size {item.strip()!r} must have at least one sample and one feature")
    return m, n


def parse_sizes(text: str) -> tuple[tuple[int, int], ...]:
    """``"200000x100,50000x1000"`` → ``((200000, 100), (50000, 1000))``; ``_`` allowed in numbers."""
    return tuple(_parse_size(item) for item in text.split(","))


def parse_multinomial(text: str) -> tuple[tuple[int, int, int], ...]:
    """``"200000x100x10"`` → ``((200000, 100, 10),)``: N_SAMPLESxN_FEATURESxN_CLASSES, several
    comma-separated; at least 2 classes."""
    out = []
    for item in text.split(","):
        parts = item.strip().lower().replace("_", "").split("x")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"multinomial size {item.strip()!r} is not of the form "
                             f"N_SAMPLESxN_FEATURESxN_CLASSES, e.g. 200000x100x10")
        m, n = _parse_size("x".join(parts[:2]))
        k = int(parts[2])
        if k < 2:
            raise ValueError(f"multinomial size {item.strip()!r} needs at least 2 classes")
        out.append((m, n, k))
    return tuple(out)


def parse_sparse(text: str) -> tuple[tuple[int, int, float], ...]:
    """``"200000x2000@0.01"`` → ``((200000, 2000, 0.01),)``: CSR sizes with their density.

    Several comma-separated; the density is the fraction of nonzero entries, in (0, 1].
    """
    out = []
    for item in text.split(","):
        size, sep, density_text = item.partition("@")
        if not sep:
            raise ValueError(f"sparse size {item.strip()!r} is not of the form "
                             f"N_SAMPLESxN_FEATURES@DENSITY, e.g. 200000x2000@0.01")
        m, n = _parse_size(size)
        try:
            density = float(density_text)
        except ValueError:
            density = float("nan")
        if not 0.0 < density <= 1.0:  # also rejects NaN
            raise ValueError(f"density {density_text.strip()!r} of {item.strip()!r} must be a "
                             f"number in (0, 1], e.g. 0.01 for 1 % nonzeros")
        out.append((m, n, density))
    return tuple(out)


def parse_threads(text: str, max_threads: int) -> tuple[int, ...]:
    """``"1,all"`` → ``(1, max_threads)``, duplicates removed, in increasing order."""
    counts = set()
    for item in text.split(","):
        item = item.strip().lower()
        if item == "all":
            counts.add(max_threads)
        elif item.isdigit() and 1 <= int(item) <= max_threads:
            counts.add(int(item))
        else:
            raise ValueError(
                f"thread count {item!r} must be 'all' or an integer from 1 to {max_threads} "
                f"(NUMBA_NUM_THREADS)"
            )
    return tuple(sorted(counts))


def parse_choices(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
    """``"C,F"`` → ``("C", "F")``, each checked against ``allowed`` (case-insensitive)."""
    lookup = {a.lower(): a for a in allowed}
    out = []
    for item in text.split(","):
        key = item.strip().lower()
        if key not in lookup:
            raise ValueError(f"{what} {item.strip()!r} is not one of {', '.join(allowed)}")
        if lookup[key] not in out:
            out.append(lookup[key])
    return tuple(out)


def parse_real(text: str | None) -> tuple[str, ...]:
    """``--fit-real``'s value: ``None`` (the option alone) → ``cases.QUICK_REAL``; ``"all"`` →
    every case; else comma-separated names of ``cases.REAL_CASES``."""
    from .cases import QUICK_REAL, REAL_CASES

    if text is None:
        return QUICK_REAL
    out = []
    for item in text.split(","):
        name = item.strip().lower()
        names = tuple(REAL_CASES) if name == "all" else (name,)
        for name in names:
            if name not in REAL_CASES:
                raise ValueError(f"real dataset {item.strip()!r} is not one of "
                                 f"{', '.join(REAL_CASES)} (or all)")
            if name not in out:
                out.append(name)
    return tuple(out)
