"""The headline figures: a few ratios picked from the tables, each marked when it rests on a noisy row.

Which rows they compare comes from the registry's fields carried by the rows, never from names.
The subjects are the non-reference ``parallel`` entries (the fused kernels in the current registry;
if a table has none, its fastest non-reference entry at 1 thread). Per subject, when the run
measured what a figure needs:

* in the largest dense table (float64, C order when measured) and the largest CSR table: the
  subject vs its NumPy reference at 1 thread, and as % of reading the input once at 1 thread;
* in the largest dense table: the subject at the most threads vs 1 thread;
* F order time / C order time and float64 time / float32 time of the subject at 1 thread, at the
  largest dense size;
* in the largest table where an entry with ``max_elements`` (the pure-Python loop) was timed in
  full, not scaled from a slice: every other 1-thread entry vs it (slide 014's compiled loop vs
  pure Python, with ``--slides``).

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
    return next((t for t in tables if all(t[k] == v for k, v in fields.items())), None)


def _where(t):
    if t["input"] == "csr":
        return (f"CSR {t['n_samples']}x{t['n_features']} at "
                f"{t['nnz'] / (t['n_samples'] * t['n_features']):.2%} {t['dtype']}")
    return f"{t['n_samples']}x{t['n_features']} {t['dtype']} {t['layout']}"


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


def _vs_reference_and_read(table, what, lines):
    reference = next((r for r in _rows(table) if r["reference"] and r["threads"] in (1, None)), None)
    read = _row(table, None, 1, role="read")
    for s in _subjects(table):
        name = s["entry_label"]
        if s["speedup_vs_reference"] is not None:
            lines.append(_figure(f"{name} vs NumPy reference, 1 thread", table,
                                 s["speedup_vs_reference"], "x", s, reference))
        if s["pct_of_read"] is not None:
            lines.append(_figure(f"{name}, 1 thread, as % of reading {what} once", table,
                                 s["pct_of_read"], "%", s, read))


def _dense_figures(dense, lines):
    big = _largest(dense, lambda t: t["dtype"] == "float64", lambda t: t["layout"] == "C")
    _vs_reference_and_read(big, "X", lines)
    m, n, dtype, layout = big["n_samples"], big["n_features"], big["dtype"], big["layout"]
    for s in _subjects(big):
        key, name = s["key"], s["entry_label"]
        most = max((r for r in _rows(big) if r["key"] == key), key=lambda r: r["threads"] or 0)
        if (most["threads"] or 0) > 1:
            lines.append(_figure(f"{name}, {most['threads']} threads vs 1 thread", big,
                                 s["median_s"] / most["median_s"], "x", s, most))
        c = _row(_find(dense, n_samples=m, n_features=n, dtype=dtype, layout="C"), key, 1)
        f = _row(_find(dense, n_samples=m, n_features=n, dtype=dtype, layout="F"), key, 1)
        if c and f:
            lines.append(_figure(f"{name}: F order time / C order time, 1 thread",
                                 f"{m}x{n} {dtype}", f["median_s"] / c["median_s"], "x",
                                 ("C order: ", c), ("F order: ", f)))
        d64 = _row(_find(dense, n_samples=m, n_features=n, dtype="float64", layout=layout), key, 1)
        d32 = _row(_find(dense, n_samples=m, n_features=n, dtype="float32", layout=layout), key, 1)
        if d64 and d32:
            lines.append(_figure(f"{name}: float64 time / float32 time, 1 thread",
                                 f"{m}x{n} {layout}", d64["median_s"] / d32["median_s"], "x",
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
    """The headline figures (dicts: figure, where, value, unit, noisy) from a run's tables."""
    lines = []
    dense = [t for t in tables if t["input"] == "dense"]
    if dense:
        _dense_figures(dense, lines)
    sparse = [t for t in tables if t["input"] == "csr"]
    if sparse:
        _vs_reference_and_read(_largest(sparse, lambda t: t["dtype"] == "float64"), "the nonzeros",
                               lines)
    _vs_capped_in_full(tables, lines)
    return lines
