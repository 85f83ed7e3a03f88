"""Fit time of fastlr.LogisticRegression against scikit-learn (and glum), at equal optimum.

    python benchmarks/fit_vs_sklearn.py [--threads 1] [--repeat 3] [--budget 120] [--no-memory]
        [--cases dense200k,dense1m,float32,sparse,text50k,text,text1m,multinomial,
                 breast_cancer,wine,digits,illcond,corpus20]
    python benchmarks/fit_vs_sklearn.py --cases l1dense-0.1,l1dense-0.01,l1text-0.1,...
        [--scale 0.2]   (L1 / elastic-net cases: see L1_CASES; --scale shrinks their rows)
    python benchmarks/fit_vs_sklearn.py --peers [--scale 0.2]
        (the L1 peer table: binary dense and text CSR, multinomial dense and corpus CSR, elastic
        net dense and text, each at 0.1 and 0.01 λ_max)

The protocol, the contenders and the table are ``fastlr.bench.fit`` (this script imports them; the
same code makes ``fastlr bench``'s fit tables), in short:

1. The best objective f* of a problem is the lowest objective that the quasi-Newton and Newton
   contenders (lbfgs, newton*, of fastlr and scikit-learn) reach at the tightest tolerance of the
   ladder (scikit-learn's F = C·Σ Lᵢ + ½‖W‖², computed with NumPy); first-order and coordinate
   solvers (saga, liblinear) and glum only climb the ladder below.
2. Each contender is timed at the **loosest** tolerance of the ladder 1e-2, 1e-3, …, 1e-10 whose
   fit lands within 1e-6 (relative) of f*: every library is timed doing just enough to reach the
   same optimum, none is handicapped by a needlessly tight (or helped by a loose) stopping rule.
3. The time is the median of ``--repeat`` fits at that tolerance, taken in rounds of one fit per
   contender (shuffled), after a warm-up fit (fastlr's compile is not counted; its first-fit cost
   is in benchmarks/real_use.py and asv's ``bench_fit.FirstFit``). Peak memory: the peak of memory
   allocated during one more fit (tracemalloc, NumPy's and Numba's allocators; X not counted).
   A contender whose single fit takes over ``--budget`` seconds (default 120) stops there
   ("over budget" in the table, with that fit's time).

Contenders: fastlr auto (the default) / lbfgs / newton / newton-cg (where they apply), scikit-learn lbfgs,
newton-cholesky, newton-cg, liblinear (binary), saga (CSR), and glum's GeneralizedLinearRegressor
with the same objective (α = 1/(C·n_samples), binary) when glum is installed. The L1 cases
(``fastlr.bench.fit.l1_contenders``): fastlr saga, scikit-learn saga and liblinear, and — binary
only, each when installed (``pip install ".[bench]"``), skipped with a note in the table otherwise
— skglm's ProxNewton, celer and glum's irls-cd. Threads:
``--threads`` Numba threads for fastlr, and the same limit for BLAS and OpenMP (threadpoolctl) for
everyone.

asv imports this module when it discovers the suite: fastlr is imported inside the functions only.
"""

from __future__ import annotations

import argparse
import os


def make_dense(m, n, dtype, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)).astype(dtype)
    w = rng.standard_normal(n) / np.sqrt(n) * 2.0
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w + 0.3)))).astype(np.int64)
    return X, y


def make_sparse(m, n, density, seed=0):
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random(m, n, density=density, format="csr", random_state=seed, dtype=np.float64)
    w = rng.standard_normal(n) * 3.0
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w - 0.2)))).astype(np.int64)
    return X, y


def make_text(m, n, nnz_per_row=50, seed=0):
    """Text-like CSR: column frequencies Zipf (p_j ∝ 1/j), ~nnz_per_row distinct terms a row,
    values TF-IDF-like (log-scaled counts, rows normalised), labels from a sparse model."""
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, n + 1)
    cols = rng.choice(n, size=m * nnz_per_row, p=p / p.sum())
    rows = np.repeat(np.arange(m), nnz_per_row)
    X = sp.csr_matrix((np.ones(m * nnz_per_row), (rows, cols)), shape=(m, n))
    X.sum_duplicates()
    X.data = 1.0 + np.log(X.data)
    X = sp.diags(1.0 / np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())) @ X
    X = X.tocsr()
    w = rng.standard_normal(n) * (rng.random(n) < 0.05) * 8.0
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(np.int64)
    return X, y


def make_multinomial(m, n, K, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    Z = X @ rng.standard_normal((n, K)) / np.sqrt(n) * 2.0
    y = np.argmax(Z + rng.gumbel(size=Z.shape), axis=1)
    return X, y


def make_sparse_truth(m, n, k=20, seed=0):
    """Dense X (m, n) float64, labels from a model with k nonzero coefficients (the L1 cases)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w = np.zeros(n)
    w[rng.choice(n, k, replace=False)] = rng.standard_normal(k) * 2.0
    y = (rng.random(m) < 1.0 / (1.0 + np.exp(-(X @ w)))).astype(np.int64)
    return X, y


def l1_C(X, y, fraction, l1_ratio=1.0):
    """C such that the L1 strength is ``fraction`` of λ_max, without an intercept: w = 0 is
    optimal for C·max|Xᵀ(y01 − ½)|∞ ≤ ρ (multinomial: the gradient at W = 0, y one-hot − 1/K),
    so C = ρ / (fraction · that maximum)."""
    import numpy as np

    classes = np.unique(y)
    if classes.shape[0] == 2:
        G = X.T @ ((y == classes[1]) - 0.5)
    else:
        Y = (np.asarray(y)[:, None] == classes[None, :]) - 1.0 / classes.shape[0]
        G = X.T @ Y
    return l1_ratio / (fraction * float(np.max(np.abs(G))))


def run_case(name, X, y, C, threads, repeat, memory=True, budget=120.0, l1_ratio=0.0):
    """The protocol of ``fastlr.bench.fit`` on one problem; prints its table and returns it."""
    from fastlr.bench.fit import equal_optimum, format_fit_table

    case = equal_optimum(X, y, C, threads=threads, repeat=repeat, memory=memory, budget=budget,
                         l1_ratio=l1_ratio)
    print("\n".join(format_fit_table(case, title=f"## {name}")), flush=True)
    return case


def make_bundled(name):
    """A scikit-learn bundled dataset as loaded — not standardised: column scales from 1e-3 to
    1e3 (breast_cancer), 0.1 to 1,000 (wine), 0 to 16 with constant pixels (digits)."""
    from fastlr.bench.cases import load_real

    return load_real(name)


def make_ill_conditioned(m=100_000, n=50, seed=0):
    """Gaussian columns scaled from 1e-3 to 1e3 (log-spaced), labels from a model on the
    unscaled columns: badly conditioned for any first-order method."""
    import numpy as np

    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((m, n))
    y = (Z @ rng.standard_normal(n) + rng.standard_normal(m) > 0).astype(np.int64)
    return Z * np.logspace(-3, 3, n), y


def make_corpus(m, n, K):
    """A 20-class text corpus shaped like TF-IDF of short documents (``make_text_corpus``)."""
    from fastlr.bench.data import make_text_corpus

    return make_text_corpus(m, n, n_classes=K)


CASES = {
    "breast_cancer": ("breast_cancer as loaded (569 x 30, unscaled)",
                      lambda: make_bundled("breast_cancer"), 1.0),
    "wine": ("wine as loaded (178 x 13, 3 classes, unscaled)", lambda: make_bundled("wine"), 1.0),
    "digits": ("digits as loaded (1,797 x 64, 10 classes, unscaled)",
               lambda: make_bundled("digits"), 1.0),
    "illcond": ("ill-conditioned 100,000 x 50, column scales 1e-3..1e3", make_ill_conditioned,
                100.0),
    "corpus20": ("text corpus 40,000 x 100,000, 20 classes, ~15 terms a row (TF-IDF)",
                 lambda: make_corpus(40_000, 100_000, 20), 1.0),
    "dense200k": ("200,000 x 100 float64", lambda: make_dense(200_000, 100, "float64"), 1.0),
    "dense1m": ("1,000,000 x 20 float64", lambda: make_dense(1_000_000, 20, "float64"), 1.0),
    "float32": ("200,000 x 100 float32", lambda: make_dense(200_000, 100, "float32"), 1.0),
    "sparse": ("CSR 200,000 x 2,000 at 1 %", lambda: make_sparse(200_000, 2_000, 0.01), 1.0),
    "text50k": ("text-like 50,000 x 50,000, Zipf, ~50 terms a row",
                lambda: make_text(50_000, 50_000), 10.0),
    "text": ("text-like 100,000 x 100,000, Zipf, ~50 terms a row",
             lambda: make_text(100_000, 100_000), 10.0),
    "text1m": ("text-like 100,000 x 1,000,000, Zipf, ~50 terms a row",
               lambda: make_text(100_000, 1_000_000), 10.0),
    "multinomial": ("multinomial 200,000 x 50, 10 classes",
                    lambda: make_multinomial(200_000, 50, 10), 1.0),
}


#: the L1 and elastic-net cases (issue 18): key -> (name, make(scale), fraction of λ_max,
#: l1_ratio); every contender fits without an intercept (see fastlr.bench.fit.l1_contenders)
L1_CASES = {}
for _fraction in (0.1, 0.01):
    L1_CASES[f"l1dense-{_fraction:g}"] = (
        f"L1, dense 100,000 x 200 float64, 20 true nonzeros, λ = {_fraction:g} λ_max",
        lambda scale: make_sparse_truth(int(100_000 * scale), 200), _fraction, 1.0)
    L1_CASES[f"l1text-{_fraction:g}"] = (
        f"L1, text-like CSR 100,000 x 100,000, Zipf, λ = {_fraction:g} λ_max",
        lambda scale: make_text(int(100_000 * scale), 100_000), _fraction, 1.0)
    L1_CASES[f"l1multinomial-{_fraction:g}"] = (
        f"L1, multinomial 100,000 x 100, 10 classes, λ = {_fraction:g} λ_max",
        lambda scale: make_multinomial(int(100_000 * scale), 100, 10), _fraction, 1.0)
    L1_CASES[f"enet-dense-{_fraction:g}"] = (
        f"elastic net l1_ratio=0.5, dense 100,000 x 200, λ = {_fraction:g} λ_max",
        lambda scale: make_sparse_truth(int(100_000 * scale), 200), _fraction, 0.5)
    L1_CASES[f"enet-text-{_fraction:g}"] = (
        f"elastic net l1_ratio=0.5, text-like CSR 100,000 x 100,000, Zipf, λ = {_fraction:g} λ_max",
        lambda scale: make_text(int(100_000 * scale), 100_000), _fraction, 0.5)
    L1_CASES[f"l1corpus-multinomial-{_fraction:g}"] = (
        f"L1, multinomial text corpus CSR 20,000 x 20,000, 10 classes (TF-IDF), "
        f"λ = {_fraction:g} λ_max",
        lambda scale: make_corpus(int(20_000 * scale), 20_000, 10), _fraction, 1.0)


#: the L1 peer table (``--peers``): fastlr against scikit-learn, skglm, celer and glum
PEER_CASES = tuple(f"{case}-{fraction:g}" for case in
                   ("l1dense", "l1text", "l1multinomial", "l1corpus-multinomial", "enet-dense",
                    "enet-text") for fraction in (0.1, 0.01))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory fit")
    parser.add_argument("--budget", type=float, default=120.0,
                        help="seconds: a contender whose fit takes longer stops climbing the ladder "
                             "(0: no limit)")
    parser.add_argument("--cases", default="dense200k,dense1m,float32,sparse,text,multinomial",
                        help=f"comma-separated, from: {', '.join(CASES)}, {', '.join(L1_CASES)}")
    parser.add_argument("--peers", action="store_true",
                        help="the L1 peer table: every case of PEER_CASES (overrides --cases)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="the L1 cases' rows, as a fraction of their size (shared machines)")
    args = parser.parse_args(argv)
    if args.peers:
        args.cases = ",".join(PEER_CASES)
    unknown = [key for key in args.cases.split(",") if key not in CASES and key not in L1_CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(CASES)}, {', '.join(L1_CASES)}")
    os.environ.setdefault("NUMBA_NUM_THREADS", str(max(args.threads, 1)))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}", flush=True)
    for key in args.cases.split(","):
        if key in L1_CASES:
            name, make, fraction, l1_ratio = L1_CASES[key]
            X, y = make(args.scale)
            if args.scale != 1.0:
                name += f" (rows x {args.scale:g}: {X.shape[0]:,})"
            run_case(name, X, y, l1_C(X, y, fraction, l1_ratio), args.threads, args.repeat,
                     memory=not args.no_memory, budget=args.budget or None, l1_ratio=l1_ratio)
            continue
        name, make, C = CASES[key]
        X, y = make()
        run_case(name, X, y, C, args.threads, args.repeat, memory=not args.no_memory,
                 budget=args.budget or None)


if __name__ == "__main__":
    main()
