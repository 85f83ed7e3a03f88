"""Sphinx extension: the pages and figures generated at build time (never committed).

* ``_generated/changelog.rst`` — the changelog, from ``git log --first-parent`` (one line per
  commit of the main line, newest first, grouped by day); without git history, a note saying so.
* ``_generated/bench.png`` — ``fastlr.bench.plot`` drawn from ``bench-results.json``, the JSON
  of a measured ``fastlr bench --json`` run (text in the repository; the PNG is not).
"""

from __future__ import annotations

import json
import re
import subprocess
from itertools import groupby
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
OUT = DOCS / "_generated"


def _escape(text: str) -> str:
    """Commit subjects as plain text in reST: no markup, no references."""
    return re.sub(r"([\\`*_|<>\[\]])", r"\\\1", text)


def changelog() -> str:
    head = ["Changelog", "=========", "",
            "Generated from the git history at build time (``git log --first-parent``): each",
            "line is one commit of the main line, newest first; merged branches appear as their",
            "merge commit.", ""]
    try:
        done = subprocess.run(["git", "log", "--first-parent", "--date=short",
                               "--format=%ad%x09%h%x09%s"], cwd=DOCS, capture_output=True,
                              text=True, timeout=60)
        lines = done.stdout.splitlines() if done.returncode == 0 else []
    except (OSError, subprocess.SubprocessError):
        lines = []
    if not lines:
        return "\n".join(head + ["This copy has no git history, so there is nothing to list.", ""])
    out = list(head)
    rows = [line.split("\t", 2) for line in lines if line.count("\t") == 2]
    for day, commits in groupby(rows, key=lambda r: r[0]):
        out += [day, "-" * len(day), ""]
        out += [f"* ``{sha}`` {_escape(subject)}" for _, sha, subject in commits]
        out.append("")
    return "\n".join(out)


def bench_figure() -> None:
    from fastlr.bench.plot import plot_results

    results = json.loads((DOCS / "bench-results.json").read_text())
    plot_results(results, str(OUT / "bench.png"))


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:  # unchanged: Sphinx need not reread it
        path.write_text(text)


def generate(app) -> None:
    OUT.mkdir(exist_ok=True)
    _write_if_changed(OUT / "changelog.rst", changelog())
    import fastlr.bench.plot

    sources = (DOCS / "bench-results.json", Path(fastlr.bench.plot.__file__))
    figure = OUT / "bench.png"
    if not figure.exists() or figure.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        bench_figure()


def setup(app):
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
