"""One side of ``python -m benchmarks.compare``: a worker process that times cases on request.

Run as a script by ``benchmarks/compare.py`` with ``PYTHONPATH`` set to one checkout, so that
``import fastlr`` is that checkout's code while the cases below are the same for both sides.
Protocol, one JSON object per line: the worker first prints ``{"fastlr": path}``; then for each
request ``{"case": name, "setup": true}`` it builds the case's data and runs it once untimed (Numba
compiles there, so JIT time is never timed) and answers ``{"ok": true}``; for ``{"case": name}``
it answers ``{"seconds": t}``, the time of one unit of the case's work. An error is answered as
``{"error": text}``. ``FASTLR_COMPARE_EXTRA_SECONDS`` adds that many seconds to every timed unit:
the synthetic slowdown with which the comparison's own test checks that it can fail.

Only the public API is used (``fastlr.kernels``, ``fastlr.LogisticRegression``), so an older
commit runs the same cases.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import numpy as np


def _binary(n, p, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X @ rng.standard_normal(p) + rng.standard_normal(n) > 0).astype(np.float64)
    return X, y


def _kernel_dense(fastlr, n=200_000, p=100, calls=10):
    X, y = _binary(n, p)
    w = np.full(p, 0.01)
    return lambda: [fastlr.kernels.loss_grad(w, 0.1, X, y) for _ in range(calls)]


def _kernel_csr(fastlr):
    import scipy.sparse

    X = scipy.sparse.random(200_000, 2_000, density=0.01, format="csr", random_state=0,
                            dtype=np.float64)
    y = (np.random.default_rng(0).random(200_000) > 0.5).astype(np.float64)
    w = np.full(2_000, 0.01)
    return lambda: [fastlr.kernels.loss_grad(w, 0.1, X, y) for _ in range(10)]


def _kernel_multinomial(fastlr):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 50))
    y = rng.integers(0, 5, 100_000)
    W, b = np.full((50, 5), 0.01), np.zeros(5)
    return lambda: [fastlr.kernels.multinomial_loss_grad(W, b, X, y) for _ in range(10)]


def _fit(solver, n=100_000, p=20, classes=2, fits=3):
    def make(fastlr):
        if classes == 2:
            X, y = _binary(n, p)
        else:
            rng = np.random.default_rng(0)
            X = rng.standard_normal((n, p))
            y = np.argmax(X[:, :classes] + rng.standard_normal((n, classes)), axis=1)
        return lambda: [fastlr.LogisticRegression(solver=solver, tol=1e-6, max_iter=500).fit(X, y)
                        for _ in range(fits)]
    return make


#: name -> (what one unit of work is, a function of the fastlr module returning that unit)
CASES = {
    "kernel-dense": ("10 x kernels.loss_grad, 200,000 x 100 float64 C", _kernel_dense),
    "kernel-csr": ("10 x kernels.loss_grad, CSR 200,000 x 2,000 at 1 %", _kernel_csr),
    "kernel-multinomial": ("10 x kernels.multinomial_loss_grad, 100,000 x 50, K = 5",
                           _kernel_multinomial),
    "fit-lbfgs": ("3 x LogisticRegression(solver='lbfgs', tol=1e-6).fit, 100,000 x 20",
                  _fit("lbfgs")),
    "fit-newton": ("3 x LogisticRegression(solver='newton-cholesky', tol=1e-6).fit, 100,000 x 20",
                   _fit("newton-cholesky")),
    "fit-multinomial": ("5 x LogisticRegression(tol=1e-6).fit, 20,000 x 20, 5 classes",
                        _fit("lbfgs", n=20_000, classes=5, fits=5)),
    # small and quick, for the comparison's own test: kernels the test suite compiles anyway
    "tiny": ("20 x kernels.loss_grad, 20,000 x 20 float64 C",
             lambda fastlr: _kernel_dense(fastlr, 20_000, 20, calls=20)),
}


def main() -> None:
    import fastlr

    extra = float(os.environ.get("FASTLR_COMPARE_EXTRA_SECONDS", "0") or 0)
    warnings.simplefilter("ignore")  # convergence warnings of fixed-tol fits are not results
    print(json.dumps({"fastlr": os.path.dirname(fastlr.__file__)}), flush=True)
    units = {}
    for line in sys.stdin:
        request = json.loads(line)
        name = request["case"]
        try:
            if request.get("setup"):
                units[name] = CASES[name][1](fastlr)
                units[name]()  # compile (or load from the cache): never timed
                answer = {"ok": True}
            else:
                unit = units[name]
                start = time.perf_counter()
                unit()
                if extra:
                    time.sleep(extra)
                answer = {"seconds": time.perf_counter() - start}
        except Exception as exc:  # reported as the case's result for this side
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
