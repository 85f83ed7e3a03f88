"""``fastlr bench --plot``: what a reader can compare across rows and sizes.

One panel per kind of table (per operation: dense X per dtype and memory order, CSR X per dtype;
the multinomial tables get panels of their own): a group of bars
per size, one bar per row (entry and thread count, the same colour in every group), its height the
row's throughput in GB/s of the input on a log axis (the pure-Python loop is ~1000x below the
rest), each bar labelled with its "% read". Dashed lines across each group: the read-once speed
at each thread count, the ceiling a kernel that reads the input once can reach. Hatched, faded
bars are rows flagged noisy. The last panel, when the fit comparison ran: its learning curves.

GB/s rather than time: the default sizes (200000x100 and 20000x1000) have the same number of
elements, so a time-vs-size plot put every point on one vertical line; GB/s compares rows within a
size and sizes with each other. matplotlib is imported here only, when a plot is asked for.
"""

from __future__ import annotations

import math

import numpy as np

from .report import fmt_pct

__all__ = ["plot_results"]

_LINE_STYLES = ("--", ":", "-.", (0, (5, 1, 1, 1)))


def _panel_key(t):
    return (t["operation"], t["input"], t["dtype"], t["layout"])


def _size_label(t):
    text = f"{t['n_samples']:,} x {t['n_features']:,}"
    if t.get("n_classes"):
        text += f"\nK = {t['n_classes']}"
    return text + (f"\nat {t['nnz'] / (t['n_samples'] * t['n_features']):.1%}" if t["input"] == "csr" else "")


def _draw_tables(ax, tables, colors, line_styles):
    from matplotlib.lines import Line2D

    kernel_labels = list(dict.fromkeys(r["label"] for t in tables for r in t["rows"]
                                       if r["role"] == "kernel"))
    n = len(kernel_labels)
    width = 0.8 / max(n, 1)
    for g, t in enumerate(tables):
        rows = {r["label"]: r for r in t["rows"] if r["role"] == "kernel" and r["samples"]}
        for j, label in enumerate(kernel_labels):
            r = rows.get(label)
            if r is None:
                continue
            x = g - 0.4 + (j + 0.5) * width
            ax.bar(x, r["gb_per_s"], width * 0.9, color=colors[label],
                   alpha=0.35 if r["flags"] else 1.0, hatch="//" if r["flags"] else None,
                   edgecolor="black" if r["flags"] else colors[label], linewidth=0.5)
            if r["pct_of_read"] is not None:
                ax.annotate(fmt_pct(r["pct_of_read"]) + ("*" if r["scaled_from_rows"] else ""),
                            (x, r["gb_per_s"]), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize=6, rotation=90)
        for r in t["rows"]:
            if r["role"] == "read" and r["samples"]:
                ax.hlines(r["gb_per_s"], g - 0.45, g + 0.45, linestyles=line_styles[r["threads"]],
                          colors="grey" if r["flags"] else "black", linewidth=1.2)
    ax.set_xticks(range(len(tables)), [_size_label(t) for t in tables])
    ax.set_xlim(-0.55, len(tables) - 0.45)
    ax.set_yscale("log")
    threads = sorted({r["threads"] for t in tables for r in t["rows"] if r["role"] == "read"})
    ax.legend([Line2D([0], [0], color="black", linestyle=line_styles[n]) for n in threads],
              [f"read once, {n} thread{'s' if n > 1 else ''}" for n in threads],
              fontsize=7, loc="upper right", ncol=len(threads))
    speeds = [r["gb_per_s"] for t in tables for r in t["rows"] if r["gb_per_s"]]
    if speeds:  # room below the slowest bar, and above for the % labels and the legend
        ax.set_ylim(min(speeds) / 3, max(speeds) * 6)
    t = tables[0]
    what = "nonzeros' data + indices" if t["input"] == "csr" else "X"
    ax.set_ylabel(f"GB/s of {what} (log)")
    kind = "CSR X" if t["input"] == "csr" else f"dense X, {t['layout']} order"
    ax.set_title(f"{t['operation']}, {kind}, {t['dtype']}\nbar: GB/s, above it: % read; "
                 f"hatched bar / grey line: noisy", fontsize=9)
    return kernel_labels


def _fit_curves(fit):
    return [f for f in (fit or {}).get("fits", []) if f.get("loss_history")]


def _draw_fit(ax, curves):
    for f in curves:
        ax.plot(np.arange(len(f["loss_history"])), f["loss_history"], label=f["model"])
    ax.set_xlabel("iteration")
    ax.set_ylabel("objective (loss_history_)")
    ax.set_title("fit comparison: learning curves", fontsize=9)
    ax.legend(fontsize=7)


def plot_results(results: dict, path: str) -> None:
    """Save the figure described in the module docstring to ``path`` (PNG, or any format
    matplotlib infers from the suffix)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = {}
    for t in results["tables"]:
        panels.setdefault(_panel_key(t), []).append(t)
    for tables in panels.values():
        tables.sort(key=lambda t: (t["n_samples"] * t["n_features"], t["n_samples"]))
    labels = list(dict.fromkeys(r["label"] for t in results["tables"] for r in t["rows"]
                                if r["role"] == "kernel"))
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    colors = {label: cmap(i % cmap.N) for i, label in enumerate(labels)}

    curves = _fit_curves(results.get("fit"))
    n_panels = max(1, len(panels) + bool(curves))
    ncols = min(3, n_panels)
    nrows = math.ceil(n_panels / ncols)
    legend_in = 0.3 + 0.22 * math.ceil(len(labels) / 3)  # the colour key under the panels
    height = 5.0 * nrows + legend_in
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.5 * ncols, height), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    read_threads = sorted({r["threads"] for t in results["tables"] for r in t["rows"]
                           if r["role"] == "read"})
    line_styles = {n: _LINE_STYLES[i % len(_LINE_STYLES)] for i, n in enumerate(read_threads)}
    for ax, tables in zip(axes, panels.values()):
        _draw_tables(ax, tables, colors, line_styles)
    if curves:
        _draw_fit(axes[n_panels - 1], curves)
    elif not panels:
        axes[0].text(0.5, 0.5, "no tables and no fit in this run", ha="center", va="center")
        axes[0].set_axis_off()
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[label]) for label in labels]
    fig.legend(handles, labels, loc="lower center", ncol=min(3, max(1, len(labels))), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, legend_in / height, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
