"""``fastlr bench --plot``: how many times faster than the NumPy reference, at a glance.

One panel per timing table (operation, input, size, dtype, layout). Each kernel row is a
horizontal bar, labelled where it is (no legend to look up): its length is the row's speed-up
over the NumPy reference at the same thread count, on a log axis (the pure-Python loop is ~100x
below the rest); further right is better. Marked on every bar:

* the speed-up itself, in a column right of the panel ("noisy" under it when the row is
  flagged, :mod:`fastlr.bench.flags`);
* an error bar over the range of ratios the samples allow: the reference's slowest sample over
  the row's fastest, and its fastest over the row's slowest — noise, from the timing spread;
* the read-once limit, a black tick: the reference's time over the time to read the input once
  at the row's thread count. A kernel that reads every input element once cannot pass it.

The vertical line at 1x is the reference. When the fit comparison ran, a last panel shows each
contender's fit time at equal optimum as a speed-up over the fastest scikit-learn (or other
non-fastlr) contender, with the same error bars. matplotlib is imported here only, when a plot is
asked for.
"""

from __future__ import annotations

import math

__all__ = ["plot_results"]

_FASTLR = "#1f5fa8"  # fastlr's compiled kernels
_OTHER = "#9a9a9a"  # other implementations (loops, scipy.sparse)


def _title(t) -> str:
    size = f"{t['n_samples']:,} x {t['n_features']:,}"
    if t.get("n_classes"):
        size += f", K = {t['n_classes']}"
    if t["input"] == "csr":  # two lines: a panel is narrow
        density = t["nnz"] / (t["n_samples"] * t["n_features"])
        return f"{t['operation']}\nCSR X {size} at {density:.1%}, {t['dtype']}"
    return f"{t['operation']}\ndense X {size}, {t['dtype']}, {t['layout']} order"


def _bars(table) -> list[dict]:
    """The table's kernel rows as bars: speed-up, its sample range, read-once limit, flags."""
    rows = [r for r in table["rows"] if r["samples"]]
    references = [r for r in rows if r["role"] == "kernel" and r["reference"]]
    reads = {r["threads"]: r for r in rows if r["role"] == "read"}
    bars = []
    for r in rows:
        if r["role"] != "kernel" or r["reference"] or not r["speedup_vs_reference"]:
            continue
        ref_s = r["speedup_vs_reference"] * r["median_s"]
        ref = min(references, key=lambda q: abs(q["median_s"] - ref_s), default=None)
        low = high = r["speedup_vs_reference"]
        if ref is not None and r["min_s"] and r["max_s"]:
            low, high = ref["min_s"] / r["max_s"], ref["max_s"] / r["min_s"]
        read = reads.get(r["threads"]) or (reads.get(max(reads)) if reads else None)
        label = r["label"]
        if r["scaled_from_rows"]:
            label += f"\n(timed on {r['scaled_from_rows']:,} rows, scaled)"
        bars.append({"label": label, "speedup": r["speedup_vs_reference"],
                     "low": min(low, r["speedup_vs_reference"]),
                     "high": max(high, r["speedup_vs_reference"]),
                     "limit": ref_s / read["median_s"] if read else None,
                     "fastlr": bool(r["parallel"] or "fused" in r["key"]),
                     "noisy": bool(r["flags"])})
    return bars


def _fit_bars(fit) -> list[dict]:
    """The fit table as bars: the fastest non-fastlr contender's time over each contender's."""
    timed = [f for f in (fit or {}).get("fits", []) if f["status"] == "ok"]
    peers = [f for f in timed if f["library"] != "fastlr"]
    if not peers:
        return []
    fastest = min(peers, key=lambda f: f["seconds"])
    bars = []
    for f in timed:
        speedup = fastest["seconds"] / f["seconds"]
        low = high = speedup
        if f.get("min_seconds") and fastest.get("min_seconds"):
            low = fastest["min_seconds"] / f["max_seconds"]
            high = fastest["max_seconds"] / f["min_seconds"]
        bars.append({"label": f["model"], "speedup": speedup, "low": min(low, speedup),
                     "high": max(high, speedup), "limit": None,
                     "fastlr": f["library"] == "fastlr", "noisy": bool(f["flags"])})
    return bars


def _draw(ax, bars, title, baseline):
    y = list(range(len(bars)))[::-1]  # the table's order, top to bottom
    ax.barh(y, [b["speedup"] for b in bars], height=0.6,
            color=[_FASTLR if b["fastlr"] else _OTHER for b in bars])
    for yi, b in zip(y, bars):
        ax.errorbar(b["speedup"], yi, xerr=[[b["speedup"] - b["low"]], [b["high"] - b["speedup"]]],
                    fmt="none", ecolor="black", elinewidth=0.8, capsize=3)
        # the values in a column right of the panel, where no bar, error bar or tick reaches
        text = f"{b['speedup']:.2f}x" if b["speedup"] >= 0.1 else f"{b['speedup']:.3f}x"
        ax.annotate(text, (1.02, yi), xycoords=("axes fraction", "data"), va="center",
                    fontsize=9, fontweight="bold" if b["fastlr"] else "normal")
        if b["noisy"]:
            ax.annotate("noisy", (1.02, yi - 0.32), xycoords=("axes fraction", "data"),
                        va="center", fontsize=7, color="#a05a00")
    limits = [(yi, b["limit"]) for yi, b in zip(y, bars) if b["limit"]]
    for yi, limit in limits:
        ax.plot([limit, limit], [yi - 0.38, yi + 0.38], color="black", linewidth=2.2,
                solid_capstyle="butt")
    if limits:  # one direct label for the ticks, over the top bar's
        yi, limit = limits[0]
        ax.annotate("read-once\nlimit", (limit, yi + 0.4), xytext=(0, 1),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7,
                    linespacing=0.9)
    ax.set_yticks(y, [b["label"] for b in bars], fontsize=8)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo = min([b["low"] for b in bars] + [1.0])
    hi = max([b["high"] for b in bars] + [b["limit"] or 1.0 for b in bars] + [1.0])
    ax.set_xlim(lo / 1.5, hi * 1.5)
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    left = math.log(hi * 1.5) / math.log(hi * 1.5 / (lo / 1.5)) < 0.35  # little room right of 1x
    ax.annotate(baseline, (1.0, -0.75), xytext=(-3 if left else 3, 0), textcoords="offset points",
                fontsize=7, va="center", ha="right" if left else "left", color="#444444")
    subs = (1.0,) if math.log10(hi / lo) > 2.5 else (1.0, 2.0, 5.0)  # ticks that do not collide
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("times faster (log scale)", fontsize=8)
    ax.set_ylim(-1.05, len(bars) - 0.05 + (0.5 if limits else 0.0))
    ax.set_title(title, fontsize=9, loc="left")
    ax.grid(axis="x", which="major", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def plot_results(results: dict, path: str) -> None:
    """Save the figure described in the module docstring to ``path`` (PNG, or any format
    matplotlib infers from the suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(_title(t), _bars(t), "NumPy reference = 1x") for t in results["tables"]]
    panels = [p for p in panels if p[1]]
    fit = results.get("fit")
    fit_bars = _fit_bars(fit)
    if fit_bars:
        title = (f"LogisticRegression fit at equal optimum\n{fit['n_samples']:,} x "
                 f"{fit['n_features']:,}, vs the fastest non-fastlr solver")
        panels.append((title, fit_bars, "fastest non-fastlr solver = 1x"))
    ncols = 1 if len(panels) <= 1 else 2
    nrows = max(1, math.ceil(len(panels) / ncols))
    per_row = [max((len(p[1]) for p in panels[i * ncols:(i + 1) * ncols]), default=1)
               for i in range(nrows)]
    heights = [1.4 + 0.42 * n for n in per_row]
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.2 * ncols, sum(heights) + 0.9),
                             squeeze=False, gridspec_kw={"height_ratios": heights},
                             layout="constrained")
    axes = axes.ravel()
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    for ax, (title, bars, baseline) in zip(axes, panels):
        _draw(ax, bars, title, baseline)
    if not panels:
        axes[0].text(0.5, 0.5, "no tables and no fit in this run", ha="center", va="center")
    machine = results.get("machine", {})
    load = machine.get("load_average")
    load_text = f", load average {load[0]:.1f} at the start" if load else ""
    fig.suptitle("How many times faster than the NumPy reference (log scale): longer bars are "
                 "faster, higher numbers are better.\nBlue: fastlr's compiled kernels; grey: other "
                 "implementations; error bar: the range the timing samples allow" + load_text,
                 fontsize=9, x=0.01, ha="left")
    fig.savefig(path, dpi=100)
    plt.close(fig)
