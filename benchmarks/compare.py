"""Compare two commits' speed on this machine, with thresholds a shared machine can honour.

    python -m benchmarks.compare BASE HEAD [--cases kernel-dense,fit-lbfgs] [--rounds 7]
                                 [--rel 0.15] [--abs 0.05] [--threads 1]

BASE and HEAD are git revisions, or ``.`` for the working tree as it is. Exit status 0 when no
case is slower, 1 when one is, 2 for bad arguments or a side that cannot run.

How, and why (the earlier ways cried wolf: ``--benchmark-compare-fail=min:10%`` on the *same*
commit reported 10 regressions, ``asv continuous -f 1.1`` reported changes across a commit whose
results were bitwise unchanged):

* **side by side**: each revision is exported with ``git archive`` into a temporary directory and
  imported from there (``PYTHONPATH``) by a worker process of its own; both use this
  environment's NumPy, Numba, SciPy and scikit-learn, so only fastlr's code differs. (fastlr is
  pure Python: putting the tree on the path is its install. No virtualenv to build: seconds, not
  minutes, and no network.)
* **JIT excluded**: every case runs once untimed in each worker before any timing (compiling, or
  loading from fastlr's disk cache, whose directory is keyed by the kernels' source).
* **pinned threads**: ``NUMBA_NUM_THREADS``, ``OMP_NUM_THREADS`` and the BLAS variables are set
  to ``--threads`` (default 1) in both workers: one thread is what a loaded machine can give both
  sides alike.
* **interleaved**: in each round every case is timed on one side then the other, the order
  alternating from round to round (ABAB, BABA): load that comes and goes hits both sides alike.
  The figure per side is the median of ``--rounds`` samples; the spread is
  (slowest − fastest) / median.
* **two thresholds**: a case is a regression only when HEAD is more than ``--rel`` (15 %) slower
  *and* more than ``--abs`` (0.05 s) slower per unit of work, as glum's CI does; a unit of work is
  sized to take 0.2-0.6 s here (the table's footnotes say what each is). Faster is reported,
  never failed.

The default cases (every case but ``tiny``) took 2.1-2.4 min against a base whose kernels had to
be compiled, on the 2-core development machine under load (load average 3.6-6.3); most of it is Numba
compiling each side's kernels. The cases are in ``benchmarks/_compare_worker.py``, the same code
for both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ._compare_worker import CASES

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).resolve().parent / "_compare_worker.py"
DEFAULT_CASES = ("kernel-dense", "kernel-csr", "kernel-multinomial", "fit-lbfgs", "fit-newton",
                 "fit-multinomial")
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS")


def _fail(message: str):
    """A side that cannot run: the message on stderr, exit status 2."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


@dataclass
class Outcome:
    """One case compared: each side's samples (seconds per unit) and the verdict."""

    case: str
    base: list = field(default_factory=list)
    head: list = field(default_factory=list)
    error: str | None = None
    verdict: str = ""


def judge(base: list, head: list, rel: float, abs_s: float) -> str:
    """"slower" when HEAD's median is more than ``rel`` (relative) *and* more than ``abs_s``
    seconds above BASE's; "faster" for the mirror image; else "same"."""
    b, h = statistics.median(base), statistics.median(head)
    if h > b * (1 + rel) and h - b > abs_s:
        return "slower"
    if b > h * (1 + rel) and b - h > abs_s:
        return "faster"
    return "same"


def export(rev: str, into: Path) -> Path:
    """The tree of ``rev`` (``.``: the working tree itself), as a directory to import from."""
    if rev == ".":
        return ROOT
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT,
                            capture_output=True, text=True)
    if commit.returncode != 0:
        _fail(f"{rev!r} is not a commit of {ROOT}: {commit.stderr.strip()}")
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit.stdout.strip()], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


class Worker:
    """A worker process importing fastlr from ``tree`` (see ``_compare_worker.py``)."""

    def __init__(self, name: str, tree: Path, threads: int, extra_seconds: float, cwd: Path):
        env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
        env.update({k: str(threads) for k in THREAD_VARIABLES})
        env["PYTHONPATH"] = str(tree)
        env["FASTLR_COMPARE_EXTRA_SECONDS"] = str(extra_seconds)
        self.name = name
        self.process = subprocess.Popen([sys.executable, str(WORKER)], cwd=cwd, env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = self._read()
        imported = Path(hello["fastlr"]).resolve()
        if imported != (tree / "fastlr").resolve():  # another fastlr shadowed the checkout
            self.close()
            _fail(f"the {name} worker imported fastlr from {imported}, not from {tree}")

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            _fail(f"the {self.name} worker exited (status {self.process.wait()}); see its "
                  "output above")
        return json.loads(line)

    def send(self, request: dict) -> None:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def ask(self, request: dict) -> dict:
        self.send(request)
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


def compare(base_rev, head_rev, cases, rounds, rel, abs_s, threads, extra_seconds=0.0,
            progress=print) -> list[Outcome]:
    """Every case's samples on both sides and its verdict (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="fastlr-compare-") as tmp:
        tmp = Path(tmp)
        trees = {"base": export(base_rev, tmp / "base"), "head": export(head_rev, tmp / "head")}
        workers = {}
        try:
            for side in ("base", "head"):
                workers[side] = Worker(side, trees[side], threads,
                                       extra_seconds if side == "head" else 0.0, tmp)
            outcomes = {c: Outcome(c) for c in cases}
            for c in cases:  # set-up and JIT, both sides at once (each worker compiles its own)
                progress(f"  set-up and compile: {c}")
                for w in workers.values():
                    w.send({"case": c, "setup": True})
                for side, w in workers.items():
                    answer = w._read()
                    if "error" in answer:
                        outcomes[c].error = f"{side}: {answer['error']}"
            live = [c for c in cases if outcomes[c].error is None]
            for r in range(rounds):
                progress(f"  round {r + 1}/{rounds}")
                order = ("base", "head") if r % 2 == 0 else ("head", "base")
                for c in live:
                    for side in order:
                        answer = workers[side].ask({"case": c})
                        if "error" in answer:
                            outcomes[c].error = f"{side}: {answer['error']}"
                            break
                        getattr(outcomes[c], side).append(answer["seconds"])
                live = [c for c in live if outcomes[c].error is None]
        finally:
            for w in workers.values():
                w.close()
    for o in outcomes.values():
        o.verdict = "error" if o.error else judge(o.base, o.head, rel, abs_s)
    return list(outcomes.values())


def _spread(samples) -> float:
    med = statistics.median(samples)
    return (max(samples) - min(samples)) / med if med else 0.0


def table(outcomes, base_rev, head_rev, rel, abs_s) -> list[str]:
    out = [f"{'case':<20}{'base':>10}{'±':>6}{'head':>10}{'±':>6}{'change':>9}{'Δ s':>9}  verdict"]
    for o in outcomes:
        if o.error:
            out.append(f"{o.case:<20}{'error: ' + o.error}")
            continue
        b, h = statistics.median(o.base), statistics.median(o.head)
        word = {"slower": "SLOWER", "faster": "faster", "same": "ok"}[o.verdict]
        out.append(f"{o.case:<20}{b:>9.3f}s{_spread(o.base):>6.0%}{h:>9.3f}s{_spread(o.head):>6.0%}"
                   f"{(h - b) / b:>+9.1%}{h - b:>+9.3f}  {word}")
    out.append(f"base = {base_rev}, head = {head_rev}; median seconds per unit of work, ± = spread "
               f"(slowest − fastest) / median; SLOWER = head > {rel:.0%} and > {abs_s:g} s slower")
    out += [f"  {o.case}: {CASES[o.case][0]}" for o in outcomes]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compare",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="git revision of the baseline ('.': the working tree)")
    parser.add_argument("head", help="git revision to check ('.': the working tree)")
    parser.add_argument("--cases", default=",".join(DEFAULT_CASES),
                        help=f"comma-separated, of: {', '.join(CASES)} (default: all but tiny)")
    parser.add_argument("--rounds", type=int, default=7, help="samples per case and side (7)")
    parser.add_argument("--rel", type=float, default=0.15,
                        help="relative threshold: fail above this fraction slower (0.15)")
    parser.add_argument("--abs", type=float, default=0.05, dest="abs_s",
                        help="absolute threshold: and above this many seconds slower (0.05)")
    parser.add_argument("--threads", type=int, default=1, help="threads for both sides (1)")
    parser.add_argument("--inject-slowdown", type=float, default=0.0, metavar="SECONDS",
                        help="add SECONDS to every head sample: checks that the comparison fails")
    args = parser.parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown or not cases or args.rounds < 1 or args.threads < 1:
        parser.error(f"unknown cases {unknown}" if unknown else "need cases, --rounds >= 1 and "
                     "--threads >= 1")
    print(f"Comparing {args.base} (base) with {args.head} (head) on {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f}, {args.threads} thread(s), {args.rounds} rounds:",
          flush=True)
    outcomes = compare(args.base, args.head, cases, args.rounds, args.rel, args.abs_s,
                       args.threads, args.inject_slowdown,
                       progress=lambda m: print(m, file=sys.stderr, flush=True))
    print("\n".join(table(outcomes, args.base, args.head, args.rel, args.abs_s)))
    if any(o.verdict == "error" for o in outcomes):
        return 2
    return 1 if any(o.verdict == "slower" for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
