"""The text ``fastlr bench`` prints, from the JSON-ready results of :func:`fastlr.bench.run`, and
its progress lines on stderr."""

from __future__ import annotations

import sys
import textwrap
import time

from .flags import FASTER_THAN_READ, THREADS_STARVED, WIDE_SPREAD, WIDE_SPREAD_FLAG, noise_flags
from .timing import BUSY_LOAD

__all__ = ["Progress", "format_report"]

NOISE_NOTES = {
    WIDE_SPREAD_FLAG: f"slowest and fastest sample differ by more than {WIDE_SPREAD:.0%} of the median",
    FASTER_THAN_READ: "above 100 % read: faster than reading the input once, which is impossible",
    THREADS_STARVED: "even the plain read was slower at this thread count than at 1 thread: the "
                     "threads did not get cores of their own (or the input is too small to split)",
}


def fmt_time(s: float) -> str:
    if s != s:  # NaN: no samples
        return "-"
    if s >= 100:
        return f"{s:.0f} s"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.1f} us"


def fmt_ratio(x) -> str:
    if x is None:
        return "-"
    if x < 0.1:
        return f"{x:.1g}x"
    return f"{x:.0f}x" if x >= 100 else f"{x:.2f}x"


def fmt_spread(spread) -> str:
    return "-" if spread is None else f"{spread:.0%}"


def fmt_pct(pct) -> str:
    if pct is None:
        return "-"
    return f"{pct:.1f}%" if pct < 1 else f"{pct:.0f}%"


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(text, width=100, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False)


def format_machine(m: dict) -> list[str]:
    load = m["load_average"]
    load_text = ("unknown" if load is None
                 else f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1 / 5 / 15 min)")
    blas = m.get("blas")
    blas_text = ("BLAS threads unknown (threadpoolctl not installed)" if blas is None
                 else "; ".join(f"{b['internal_api']} {b['version']} ({b['library']}), "
                                f"{b['num_threads']} threads" for b in blas) or "no BLAS found")
    out = [f"Machine: {m['cpu_count']} CPUs, load average {load_text} before the run",
           f"  Numba {m['numba']}: threading layer {m['numba_threading_layer']}, "
           f"{m['numba_threads']} threads; BLAS: {blas_text}",
           f"  NumPy {m['numpy']}, Python {m['python']}, {m['platform']}"]
    if m["busy"]:
        out += _wrap(f"BUSY: other processes kept {load[0]:.1f} cores busy over the last minute "
                     f"(threshold {BUSY_LOAD}): expect disturbed timings; the rows where it shows "
                     f"are flagged noisy")
    return out


def format_dot_demo(d: dict) -> list[str]:
    scaled = d["python_elements_timed"] < d["n"]
    note = f"  (timed on {d['python_elements_timed']:,} values, scaled)" if scaled else ""
    loop = d["python_s"]

    def noisy(spread):
        flags = noise_flags(spread, None)
        return f"   noisy: {', '.join(flags)}" if flags else ""

    return [
        f"Slide 015 — dot product of {d['n']:,} values, c = sum(a[i] * b[i]) (median, spread):",
        f"  Python loop  {fmt_time(loop):>10} {fmt_spread(d['python_spread']):>5}{note}"
        f"{noisy(d['python_spread'])}",
        f"  np.dot       {fmt_time(d['numpy_s']):>10} {fmt_spread(d['numpy_spread']):>5}   "
        f"{loop / d['numpy_s']:,.0f}x faster than the loop{noisy(d['numpy_spread'])}",
        f"  Numba loop   {fmt_time(d['numba_s']):>10} {fmt_spread(d['numba_spread']):>5}   "
        f"{loop / d['numba_s']:,.0f}x faster than the loop (the same loop, compiled; first call "
        f"incl. compile {fmt_time(d['numba_first_call_s'])}){noisy(d['numba_spread'])}",
    ]


def format_checks(checks: list, not_checked: list) -> list[str]:
    bad = [c for c in checks if not c["ok"]]
    worst = max((c["max_error"] for c in checks if c["ok"]), default=0.0)
    entries = sorted({c["key"] for c in checks})
    out = [""] + _wrap(
        f"Checked {len(checks)} results of {len(entries)} registry entries against their NumPy "
        f"reference ({'/'.join(sorted({c['dtype'] for c in checks}))}): "
        + ("all agree" if not bad else f"{len(bad)} MISMATCH")
        + f", largest relative error {worst:.1e}", indent="") + _wrap(", ".join(entries))
    for c in bad:
        why = f"raised {c['error']}" if c["error"] else f"error {c['max_error']:.2e} > {c['tolerance']:.0e}"
        out.append(f"  MISMATCH {c['key']} {c['dtype']} {c['layout']}: {why}")
    for key, why in not_checked:
        out.append(f"  not checked: {key} ({why})")
    return out


def _check_text(r: dict) -> str:
    if r["error"]:
        return f"FAILED: {r['error']}"
    if r["role"] == "read":
        text = "floor"
    elif r["role"] == "aside":
        text = ""
    elif not r["ok"]:
        return f"MISMATCH ({r['max_error']:.1e})"
    else:
        text = "reference" if r["reference"] else "ok"
    noisy = f"noisy: {', '.join(r['flags'])}" if r["flags"] else ""
    return "; ".join(t for t in (text, noisy) if t) or "-"


def _title(t: dict) -> str:
    if t["input"] == "csr":
        return (f"{t['operation']} on CSR X of {t['n_samples']:,} x {t['n_features']:,} {t['dtype']} at "
                f"{t['nnz'] / (t['n_samples'] * t['n_features']):.2%} density ({t['nnz']:,} nonzeros; "
                f"data + indices {t['nbytes'] / 1e6:,.0f} MB)")
    classes = f", K = {t['n_classes']} classes" if t.get("n_classes") else ""
    return (f"{t['operation']} on X of {t['n_samples']:,} x {t['n_features']:,} {t['dtype']}, "
            f"{t['layout']} order{classes} ({t['nbytes'] / 1e6:,.0f} MB)")


def format_table(t: dict) -> list[str]:
    what = "the nonzeros" if t["input"] == "csr" else "X"
    rows = t["rows"]
    width = max(len("row"), *(len(r["label"]) + 1 for r in rows))
    out = ["", f"{_title(t)}: {t['repeat']} samples per row, in rounds of one sample of each row (shuffled)",
           f"  {'row':<{width}}{'median':>10}{'spread':>8}{'vs NumPy':>10}{'vs slowest':>12}"
           f"{'GB/s':>8}{'% read':>8}  check"]
    notes = []
    for r in rows:
        star = ""
        if r["scaled_from_rows"]:
            star = "*"
            notes.append(f"  * timed on the first {r['scaled_from_rows']:,} rows, scaled to "
                         f"{t['n_samples']:,}")
        gb = "-" if r["gb_per_s"] is None else f"{r['gb_per_s']:.2f}"
        pct = "100%" if r["role"] == "read" and r["samples"] else fmt_pct(r["pct_of_read"])
        out.append(f"  {r['label'] + star:<{width}}{fmt_time(r['median_s']):>10}"
                   f"{fmt_spread(r['spread']):>8}{fmt_ratio(r['speedup_vs_reference']):>10}"
                   f"{fmt_ratio(r['speedup_vs_slowest']):>12}{gb:>8}{pct:>8}  {_check_text(r)}")
    out += notes
    out.append("  vs NumPy = the NumPy reference at the same thread count / this row; "
               "vs slowest = the slowest 1-thread row / this row")
    out.append(f"  % read = reading {what} once at the same thread count / this row "
               f"(100 % = as fast as a plain read); spread = (slowest - fastest sample) / median")
    flags = sorted({f for r in rows for f in r["flags"]})
    if flags:
        out.append("  noisy = a timing, not a result:")
        for f in flags:
            out += _wrap(f"{f}: {NOISE_NOTES.get(f, f)}", indent="    ")
    return out


def format_headline(lines: list) -> list[str]:
    if not lines:
        return []
    out = ["", "Headline figures (one resting on a noisy row is marked NOISY, not a result):"]
    for s in lines:
        value = fmt_pct(s["value"]) if s["unit"] == "%" else fmt_ratio(s["value"])
        if s["noisy"]:
            out += _wrap(f"NOISY ({value})  {s['figure']}  ({s['where']}; "
                         f"{'; '.join(s['noisy'])})", indent="  ")
        else:
            out += _wrap(f"{value:>7}  {s['figure']}  ({s['where']})", indent="  ")
    return out


def format_report(results: dict) -> str:
    """The machine, the demo, the checks, a table per size, the headline figures, the fits."""
    lines = format_machine(results["machine"]) + [""]
    lines += format_dot_demo(results["dot_demo"])
    lines += format_checks(results["checks"], results["not_checked"])
    for t in results["tables"]:
        lines += format_table(t)
    lines += format_headline(results["headline"])
    if "fit" in results or "fit_multinomial" in results or results.get("fit_real"):
        from .fit import format_fit_table

        for key in ("fit", "fit_multinomial"):
            if key in results:
                lines += format_fit_table(results[key])
        from .cases import format_defaults

        for case in results.get("fit_real", ()):
            lines += format_fit_table(case, title=f"Fit on {case['dataset']} as loaded "
                                                  "(unscaled)")
            lines += format_defaults(case)
    noisy = sum(1 for t in results["tables"] for r in t["rows"] if r["flags"])
    lines.append("")
    lines.append("all kernels agree with the reference" if results["ok"]
                 else "FAILED: some results disagree with the reference (see MISMATCH above)")
    if noisy:
        lines.append(f"{noisy} timing rows flagged noisy: rerun on a quieter machine, or with more "
                     f"samples (--repeat), before quoting them")
    return "\n".join(lines)


class Progress:
    """Progress on stderr: one overwritten line on a terminal, plain lines otherwise."""

    def __init__(self, stream=None, enabled: bool = True):
        self.stream = sys.stderr if stream is None else stream
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if not self.enabled:
            return
        text = f"[fastlr bench {time.perf_counter() - self.start:5.1f}s] {message}"
        if self.tty:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()
