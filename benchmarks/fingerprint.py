"""Bitwise fingerprints of every kernel's results: run before and after a refactor and compare.

    python -m benchmarks.fingerprint > before.json      # on the old commit
    python -m benchmarks.fingerprint > after.json       # on the new one
    python -m benchmarks.fingerprint --compare before.json after.json

Each entry of the JSON is one (operation, case): the SHA-256 (first 16 hex digits) of the
result's float64 bytes, at 1 thread, checked identical at 2 threads. Cases cover
dense C and F order and CSR, float32 and float64, unit and sample weights, binary and
multinomial, the Hessians, H·v and the Hessian's diagonal, at sizes that span several blocks and
tasks. Not part of the test run (it compiles every kernel in every layout).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

import numpy as np


def _digest(values) -> str:
    h = hashlib.sha256()
    for v in values:
        h.update(np.ascontiguousarray(np.asarray(v, dtype=np.float64)).tobytes())
    return h.hexdigest()[:16]


def _cases():
    rng = np.random.default_rng(20261202)
    for m, n in ((20_000, 20), (3_000, 130)):
        base = rng.standard_normal((m, n)) * rng.uniform(0.1, 3.0, n)
        base[rng.random((m, n)) < 0.7] = 0.0  # sparse enough for CSR, same values dense
        y01 = (rng.random(m) < 0.4).astype(np.float64)
        yk = rng.integers(0, 4, m)
        s = rng.uniform(0.0, 2.0, m)
        w = rng.standard_normal(n) * 0.3
        W = rng.standard_normal((n, 4)) * 0.3
        v = rng.standard_normal(n + 1)
        for dtype in (np.float64, np.float32):
            for layout in ("C", "F", "CSR"):
                X = base.astype(dtype)
                if layout == "F":
                    X = np.asfortranarray(X)
                elif layout == "CSR":
                    import scipy.sparse as sp

                    X = sp.csr_matrix(X)
                for weighted in (False, True):
                    yield (f"{m}x{n}-{np.dtype(dtype).name}-{layout}-{'w' if weighted else 'u'}",
                           X, y01, yk, s if weighted else None, w, W, v)


def _hessp_and_diagonal(X, y, s, w, b, v, l2=0.1):
    """(H·v, diag H) of the binary objective J/Σs + ½λ‖w‖² at (w, b): the kernels' raw sums
    divided by Σ sᵢ, plus λ on the coefficients (the fit's normalisation)."""
    from fastlr._validation import check_sample_weight, check_X

    X, _ = check_X(X)
    s, S = check_sample_weight(s, X.shape[0])
    n = X.shape[1]
    try:  # the pass engine (issue 16)
        from fastlr.kernels import _sums

        fit = _sums.logistic_fit(np.ascontiguousarray(y, dtype=np.float64), s)
        curvature = np.empty((1, X.shape[0]))
        _sums.gradient_sums(fit, X, w[None, :], [b], curvature=curvature)
        hv, hb = _sums.hessp_sums(fit, X, v[None, :n], v[n:], curvature)
        d, db = _sums.diagonal_sums(X, curvature)
        hv, hb, d, db = hv[0], float(hb[0]), d[0], float(db[0])
    except AttributeError:  # before it (commit b39807a): the fit's objective
        from fastlr._data import ArrayData
        from fastlr._linear_loss import LinearLoss

        data = ArrayData(X, y, s)
        loss = LinearLoss(data, data.target(1.0), l2=l2)
        _, _, hessp = loss.loss_grad_hessp(np.append(w, b))
        return hessp(v), hessp.diagonal()
    return (np.append(hv / S + l2 * v[:n], hb / S), np.append(d / S + l2, db / S))


def fingerprints(threads: int):
    import numba

    from fastlr import kernels

    numba.set_num_threads(threads)
    out = {}
    for name, X, y01, yk, s, w, W, v in _cases():
        n = X.shape[1]
        results = {
            "cost": lambda: [kernels.cost(w, 0.1, X, y01, s, l2=0.1)],
            "loss_grad": lambda: kernels.loss_grad(w, 0.1, X, y01, s, l2=0.1),
            "loss_grad_hess": lambda: kernels.loss_grad_hess(w, 0.1, X, y01, s, l2=0.1),
            "multinomial_loss_grad": lambda: kernels.multinomial_loss_grad(
                W, np.arange(4) * 0.1, X, yk, s, l2=0.1),
            "hessp_diag": lambda: _hessp_and_diagonal(X, y01, s, w, 0.1, v),
        }
        if isinstance(X, np.ndarray):
            results["loss_grad_loops"] = lambda: kernels.loss_grad_loops(w, 0.1, X, y01, s, l2=0.1)
        if n <= 30:
            results["multinomial_loss_grad_hess"] = lambda: kernels.multinomial_loss_grad_hess(
                W, np.arange(4) * 0.1, X, yk, s, l2=0.1)
        for op, run in results.items():
            out[f"{op}/{name}"] = _digest(run())
    out["sigmoid"] = _digest([kernels.sigmoid(np.linspace(-800, 800, 100_001))])
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    if args.compare:
        before, after = (json.load(open(p)) for p in args.compare)
        changed = sorted(k for k in before if before[k] != after.get(k))
        for key in changed:
            print(f"CHANGED {key}: {before[key]} -> {after.get(key)}")
        missing = sorted(set(before) - set(after))
        print(f"{len(before) - len(changed)} of {len(before)} unchanged"
              + (f"; missing {missing}" if missing else ""))
        return 1 if changed else 0
    runs = {t: fingerprints(t) for t in args.threads}
    first = runs[args.threads[0]]
    for t, run in runs.items():
        differ = [k for k in first if run[k] != first[k]]
        if differ:
            print(f"threads {t} differ from {args.threads[0]} on {differ}", file=sys.stderr)
    json.dump(first, sys.stdout, indent=0, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
