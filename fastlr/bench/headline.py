"""The headline figures: a few ratios picked from the tables, each marked when it rests on a noisy row.

Which rows they compare comes from the registry's fields carried by the rows, never from names.
Figures are picked per operation (``loss_grad``, then ``multinomial_loss_grad`` when its tables
ran), from that operation's tables only. The subjects are the non-reference ``parallel`` entries
(the fused kernels in the current registry; if a table has none, its fastest non-reference entry
at 1 thread). Per subject, when the run measured what a figure needs:

* in the largest dense table (float64, C order when measured) and the largest CSR table: the
  subject vs its NumPy reference, and as % of reading the input once, at 1 thread and at the
  most threads timed (the reference at the same thread count, or at 1 thread when it has no row
  there, which the figure then says);
* in the largest dense table: the subject at the most threads vs 1 thread;
* F order time / C order time and float64 time / float32 time of the subject at 1 thread, at the
  largest dense size;
* in the largest table where an entry with ``max_elements`` (the pure-Python loop) was timed in
  full, not scaled from a slice: every other 1-thread entry vs it (slide 014's compiled loop vs
  pure Python, with ``--slides``).

With ``--slides`` this gives the large-size figures: the fused kernel at 1e6 x 100, and the
fused softmax kernel at 1e6 x 100 with K = 10, each vs its NumPy reference at 1 and all threads
and as a fraction of one read of X.

A figure computed from a flagged row (or a flagged read-once floor) carries ``noisy``: the rows'
labels and flags; the report prints it as noise, not as a result.
"""

from __future__ import annotations

__all__ = ["headline"]


def _rows(table, role="kernel"):
    return [r for r in (table["rows"] if table else ()) if r["role"] == role and r["samples"]]


def _row(table, key, threads, role="kernel"):
    return next((r for r in _rows(table, role) if (key is None or r["key"] == key)
                 and r["threads"] == threads), None)


def _find(tables, **fields):
    return next((t for t in tables if all(t.get(k) == v for k, v in fields.items())), None)


def _where(t):
    if t["input"] == "csr":
        return (f"CSR {t['n_samples']}x{t['n_features']} at "
                f"{t['nnz'] / (t['n_samples'] * t['n_features']):.2%} {t['dtype']}")
    classes = f" K={t['n_classes']}" if t.get("n_classes") else ""
    return f"{t['n_samples']}x{t['n_features']}{classes} {t['dtype']} {t['layout']}"


def _figure(figure, where, value, unit, *rows):
    """One figure; ``rows`` are the rows it rests on, or ``(context, row)`` for rows of another
    table (F vs C order, float64 vs float32), so the noise note says which table's row."""
    noisy = []
    for r in rows:
        context, r = r if isinstance(r, tuple) else ("", r)
        if r and r["flags"]:
            noisy.append(f"{context}{r['label']}: {', '.join(r['flags'])}")
    return {"figure": figure, "where": where if isinstance(where, str) else _where(where),
            "value": value, "unit": unit, "noisy": noisy}


def _subjects(table) -> list:
    """The 1-thread rows of the table's headline subjects (see the module docstring)."""
    candidates = [r for r in _rows(table) if not r["reference"] and r["ok"] and r["threads"] == 1]
    parallel = [r for r in candidates if r["parallel"]]
    if parallel:
        return parallel
    fastest = min(candidates, key=lambda r: r["median_s"], default=None)
    return [] if fastest is None else [fastest]


def _largest(tables, *prefer):
    return max(tables, key=lambda t: (t["n_samples"] * t["n_features"] if t["input"] == "dense"
                                      else t["nnz"], *(p(t) for p in prefer)))


def _threads_text(t):
    return "BLAS threads not limited" if t is None else f"{t} thread{'' if t == 1 else 's'}"


def _vs_reference_and_read(table, what, lines):
    """Per subject: vs its reference and % read, at 1 thread and at the most threads timed."""
    references = {r["threads"]: r for r in _rows(table) if r["reference"]}
    for s in _subjects(table):
        name = s["entry_label"]
        rows = [r for r in _rows(table) if r["key"] == s["key"]]
        most = max(rows, key=lambda r: r["threads"] or 0)
        for r in [s] + ([most] if (most["threads"] or 0) > 1 else []):
            t = r["threads"]
            ref = references.get(t) or references.get(1) or references.get(None)
            if r["speedup_vs_reference"] is not None and ref is not None:
                if ref["threads"] == t:
                    text = f"{name} vs NumPy reference, {_threads_text(t)}"
                else:
                    text = (f"{name}, {_threads_text(t)} vs NumPy reference, "
                            f"{_threads_text(ref['threads'])}")
                lines.append(_figure(text, table, r["speedup_vs_reference"], "x", r, ref))
            if r["pct_of_read"] is not None:
                lines.append(_figure(f"{name}, {_threads_text(t)}, as % of reading {what} once",
                                     table, r["pct_of_read"], "%", r,
                                     _row(table, None, t, role="read")))


def _dense_figures(dense, lines):
    big = _largest(dense, lambda t: t["dtype"] == "float64", lambda t: t["layout"] == "C")
    _vs_reference_and_read(big, "X", lines)
    m, n, dtype, layout = big["n_samples"], big["n_features"], big["dtype"], big["layout"]
    k = big.get("n_classes")
    same = dict(n_samples=m, n_features=n, n_classes=k)
    where = f"{m}x{n}" + (f" K={k}" if k else "")
    for s in _subjects(big):
        key, name = s["key"], s["entry_label"]
        most = max((r for r in _rows(big) if r["key"] == key), key=lambda r: r["threads"] or 0)
        if (most["threads"] or 0) > 1:
            lines.append(_figure(f"{name}, {most['threads']} threads vs 1 thread", big,
                                 s["median_s"] / most["median_s"], "x", s, most))
        c = _row(_find(dense, dtype=dtype, layout="C", **same), key, 1)
        f = _row(_find(dense, dtype=dtype, layout="F", **same), key, 1)
        if c and f:
            lines.append(_figure(f"{name}: F order time / C order time, 1 thread",
                                 f"{where} {dtype}", f["median_s"] / c["median_s"], "x",
                                 ("C order: ", c), ("F order: ", f)))
        d64 = _row(_find(dense, dtype="float64", layout=layout, **same), key, 1)
        d32 = _row(_find(dense, dtype="float32", layout=layout, **same), key, 1)
        if d64 and d32:
            lines.append(_figure(f"{name}: float64 time / float32 time, 1 thread",
                                 f"{where} {layout}", d64["median_s"] / d32["median_s"], "x",
                                 ("float64: ", d64), ("float32: ", d32)))


def _vs_capped_in_full(tables, lines):
    in_full = [(t, r) for t in tables for r in _rows(t)
               if r["capped"] and r["scaled_from_rows"] is None and r["threads"] == 1]
    if not in_full:
        return
    table, capped = max(in_full, key=lambda e: (e[0]["n_samples"] * e[0]["n_features"],
                                                e[0]["dtype"] == "float64", e[0]["layout"] == "C"))
    for r in _rows(table):
        if r is not capped and r["threads"] == 1:
            lines.append(_figure(f"{r['label']} vs {capped['label']} (timed in full)", table,
                                 capped["median_s"] / r["median_s"], "x", r, capped))


def headline(tables: list) -> list:
    """The headline figures (dicts: figure, where, value, unit, noisy) from a run's tables, per
    operation in the order the tables ran."""
    lines = []
    for operation in dict.fromkeys(t["operation"] for t in tables):
        mine = [t for t in tables if t["operation"] == operation]
        dense = [t for t in mine if t["input"] == "dense"]
        if dense:
            _dense_figures(dense, lines)
        sparse = [t for t in mine if t["input"] == "csr"]
        if sparse:
            _vs_reference_and_read(_largest(sparse, lambda t: t["dtype"] == "float64"),
                                   "the nonzeros", lines)
        _vs_capped_in_full(mine, lines)
    return lines
