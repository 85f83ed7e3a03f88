"""Bitwise fingerprints of every kernel's results: run before and after a refactor and compare.

    python -m benchmarks.fingerprint > before.json      # on the old commit
    python -m benchmarks.fingerprint > after.json       # on the new one
    python -m benchmarks.fingerprint --compare before.json after.json

Each entry of the JSON is one (operation, case): the SHA-256 (first 16 hex digits) of the
result's float64 bytes, at 1 thread, checked identical at 2 threads. Cases cover
dense C and F order and CSR, float32 and float64, unit and sample weights, binary and
multinomial, the Hessians, H·v and the Hessian's diagonal, at sizes that span several blocks and
tasks. Not part of the test run (it compiles every kernel in every layout).

Where a summation order had to change, the hashes differ and the question becomes whether the
result got less accurate. ``--errors`` prints, per (operation, case) with an independent oracle
(the long-double closed forms of ``tests/helpers.py``: loss_grad, loss_grad_hess,
multinomial_loss_grad, H·v and the diagonal), the largest error of any part of the result
divided by the oracle's error scale and by the dtype's machine epsilon (0.5 = half an eps of
the terms' magnitude); ``--compare-errors`` lists where the second run is less accurate::

    python -m benchmarks.fingerprint --errors --tests DIR > before-errors.json  # each commit
    python -m benchmarks.fingerprint --compare-errors before-errors.json after-errors.json

Last run (2026-12-04), the pass engine against the kernels before it (commit b39807a), both
compiled afresh, 1 thread: 129 of 149 hashes unchanged. Changed: ``loss_grad_hess`` in float64
C and F (8: the engine's Gram pass replaced the Hessian kernel), ``multinomial_loss_grad`` in
float64 C (4: the register-blocked margins and scatter of the engine's rows pass), and
``hessp_diag`` (8; measured through that commit's objective before, through the engine's sums
here, so the normalisation differs as well as the pass). Against the oracle, 95 of 96 are as
accurate or more; the one less accurate, ``multinomial_loss_grad/20000x20-float64-C-u``, has a
largest error of 0.089 eps of the scale against 0.075 (RMS over its parts 0.0225 against
0.0212); the largest anywhere is 0.32 eps, before and after.

Then (2026-12-04, later), the Gram pass's ``gemm_upper`` blocked two rows by four: 137 of 149
unchanged; changed ``loss_grad_hess`` float64 C/F (8) and ``multinomial_loss_grad_hess``
float64 C/F (4); against the oracle 96 of 96 as accurate or more, largest 0.322 eps before and
after. Four rows by four, against the same "before": again 96 of 96 as accurate or more.

Compare runs made in the same cache state: code loaded from the disk cache can differ in the
last bit from the same code compiled in the process (seen for the float32 F-order diagonal,
``hessp_diag/20000x20-float32-F-w``: fresh 1038d76fe7727bfb, from the cache 3c10c7bd1668d316;
deleting the serial driver's cache entry restores the fresh result), so point
``XDG_CACHE_HOME`` at an empty directory for both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

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


def oracle_errors(tests_dir: str) -> dict:
    """{operation/case: max over the result's parts of |got − oracle| / (scale · eps)} at 1
    thread, the oracle and its error scales from ``tests_dir/helpers.py`` (long double)."""
    import numba

    from fastlr import kernels

    sys.path.insert(0, tests_dir)
    import helpers  # tests/helpers.py: no code from fastlr's kernels

    numba.set_num_threads(1)

    def err(eps, *triples):
        return max(float(np.max(np.abs(np.asarray(got, dtype=np.float64) - want)
                                / np.maximum(scale, 1e-300))) / eps
                   for got, want, scale in triples)

    out = {}
    for name, X, y01, yk, s, w, W, v in _cases():
        eps = float(np.finfo(X.dtype).eps)
        (J, dw, db), (sJ, sdw, sdb), (H, sH) = helpers.closed_form(X, y01, w, 0.1, s, l2=0.1,
                                                                  hessian=True)
        got = kernels.loss_grad(w, 0.1, X, y01, s, l2=0.1)
        out[f"loss_grad/{name}"] = err(eps, (got[0], J, sJ), (got[1], dw, sdw), (got[2], db, sdb))
        got = kernels.loss_grad_hess(w, 0.1, X, y01, s, l2=0.1)
        out[f"loss_grad_hess/{name}"] = err(eps, (got[0], J, sJ), (got[1], dw, sdw),
                                            (got[2], db, sdb), (got[3], H, sH))
        hv, d = _hessp_and_diagonal(X, y01, s, w, 0.1, v)
        out[f"hessp_diag/{name}"] = err(eps, (hv, H @ v, np.abs(sH) @ np.abs(v)),
                                        (d, np.diag(H), np.diag(sH)))
        b = np.arange(4) * 0.1
        (J, dW, db), (sJ, sdW, sdb) = helpers.closed_form_multinomial(X, yk, W, b, s, l2=0.1)
        got = kernels.multinomial_loss_grad(W, b, X, yk, s, l2=0.1)
        out[f"multinomial_loss_grad/{name}"] = err(eps, (got[0], J, sJ), (got[1], dW, sdW),
                                                   (got[2], db, sdb))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--errors", action="store_true",
                        help="errors against the long-double oracle instead of hashes")
    parser.add_argument("--compare-errors", nargs=2, metavar=("BEFORE", "AFTER"))
    parser.add_argument("--tests", default=str(Path(__file__).resolve().parent.parent / "tests"),
                        help="the folder of the oracle's helpers.py (default: this checkout's "
                             "tests/; give both commits the same one)")
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
    if args.compare_errors:
        before, after = (json.load(open(p)) for p in args.compare_errors)
        worse = sorted(k for k in before if k in after and after[k] > before[k])
        for key in worse:
            print(f"LESS ACCURATE {key}: {before[key]:.3g} -> {after[key]:.3g} eps")
        print(f"{len(before) - len(worse)} of {len(before)} as accurate or more; largest "
              f"{max(before.values()):.3g} -> {max(after.values()):.3g} eps")
        return 1 if worse else 0
    if args.errors:
        json.dump(oracle_errors(args.tests), sys.stdout, indent=0, sort_keys=True)
        print()
        return 0
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
