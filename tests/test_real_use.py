"""fastlr where users run it: a fork after a fit, joblib/loky and Dask-style worker processes,
a user's own Numba settings, and Ctrl-C in the middle of a fit. Each case runs a fresh
interpreter (signals, forks and Numba's process-wide threading layer are per process).

Kernels compiled by the rest of the suite are in the per-user disk cache, so these processes load
them instead of compiling.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest


def _python(code, env=None, timeout=240):
    # without the thread settings of this test session (conftest sets NUMBA_NUM_THREADS)
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_THREADING_LAYER")}
    full_env.update(env or {})
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=full_env, timeout=timeout)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout.strip().splitlines()


FORK_AFTER_FIT = """
    import multiprocessing as mp, numpy as np
    import fastlr, numba
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1_000_000, 5)); y = (X[:, 0] > 0).astype(int)  # 40 MB: parallel kernels
    fastlr.LogisticRegression().fit(X, y)
    layer = numba.threading_layer()
    def work(i):
        return float(fastlr.LogisticRegression().fit(X[:50_000 * (i + 1)], y[:50_000 * (i + 1)]).coef_.sum())
    if __name__ == "__main__":
        with mp.get_context("fork").Pool(2) as pool:
            print(layer, len(pool.map(work, range(4))))
"""


@pytest.mark.parametrize("layer", [None, "workqueue"], ids=["default", "workqueue"])
def test_a_fork_pool_after_a_fit_finishes(layer):
    """GNU OpenMP kills forked children; fastlr's default layer (TBB) and its fallback
    (workqueue) survive the fork."""
    env = {} if layer is None else {"NUMBA_THREADING_LAYER": layer}
    (line,) = _python(FORK_AFTER_FIT, env, timeout=120)
    used, done = line.split()
    assert done == "4"
    assert used == (layer or "tbb")


FORK_AFTER_USER_THREADS = """
    import json, multiprocessing as mp, sys, warnings
    import numpy as np
    ORDER = sys.argv[1]
    import numba
    if ORDER == "numba-first":  # Numba's layer launched before fastlr is even imported
        numba.set_num_threads(2)
    import fastlr  # (light: fastlr._jit, which imports Numba, loads on the first fit)
    if ORDER == "fastlr-first":  # the README's advice, after import fastlr
        numba.set_num_threads(2)
    if ORDER == "omp-after-import":  # as without TBB: GNU OpenMP, launched in this process
        numba.config.THREADING_LAYER_PRIORITY = ["omp", "tbb", "workqueue"]
        numba.get_num_threads()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1_000_000, 5)); y = (X[:, 0] > 0).astype(int)  # 40 MB: parallel

    def fit(i):
        from fastlr import _jit

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            threads = _jit.max_threads()
            coef = fastlr.LogisticRegression(tol=1e-3).fit(X[i:], y[i:]).coef_
        kinds = sorted({w.category.__name__ for w in caught})
        return threads, kinds, coef.tobytes().hex()

    if __name__ == "__main__":
        parent = fit(0)
        with mp.get_context("fork").Pool(2) as pool:
            children = pool.map(fit, [0, 1])
        print(json.dumps({"layer": numba.threading_layer(), "parent": parent[:2],
                          "children": [c[:2] for c in children],
                          "same": children[0][2] == parent[2]}))
"""


@pytest.mark.parametrize("order", ["numba-first", "fastlr-first", "omp-after-import"])
def test_a_fork_pool_survives_numba_threads_set_before_the_first_kernel(order):
    """numba.set_num_threads (or get_num_threads) before fastlr's first kernel made Numba take
    GNU OpenMP before fastlr had loaded TBB: a forked Pool child that fitted was killed and
    pool.map hung (the timeout of _python stops it). After import fastlr, TBB is chosen; where
    GNU OpenMP was launched in this process, the children run serially; launched before
    import fastlr, the process cannot tell whether it is a forked child, so it runs serially
    too, and says so. The children's fits equal the parent's (the kernels' sums are the same at
    every thread count)."""
    script = FORK_AFTER_USER_THREADS.replace('sys.argv[1]', repr(order))
    result = json.loads(_python(script, {"NUMBA_NUM_THREADS": "2"}, timeout=180)[-1])
    assert result["same"], result
    serial = [1, ["ThreadingLayerWarning"]]
    if order == "fastlr-first":
        assert result["layer"] == "tbb"
        assert result["parent"] == [2, []] and result["children"] == [[2, []], [2, []]]
    elif order == "omp-after-import":
        assert result["layer"] == "omp"
        assert result["parent"] == [2, []] and result["children"] == [serial, serial]
    else:  # (the warning once: the children inherit the parent's "said so")
        assert result["layer"] == "omp"
        assert result["parent"] == serial and result["children"] == [[1, []], [1, []]]


def test_the_users_numba_settings_win():
    code = """
        import numpy as np, numba
        from fastlr import _jit, kernels
        X = np.ones((2_000_000, 5)); y = np.ones(2_000_000)
        kernels.loss_grad(np.zeros(5), 0.0, X, y)
        print(numba.threading_layer(), _jit.max_threads())
    """
    assert _python(code, {"NUMBA_THREADING_LAYER": "workqueue", "NUMBA_NUM_THREADS": "2",
                          "OMP_NUM_THREADS": "1"}) == ["workqueue 2"]


def test_omp_num_threads_caps_the_kernels_threads():
    """Dask's worker processes (and other pools) announce their share of the cores through
    OMP_NUM_THREADS; Numba reads only NUMBA_NUM_THREADS, so fastlr bridges the two."""
    code = """
        import numba
        from fastlr import _jit
        print(numba.config.NUMBA_NUM_THREADS >= 2, _jit.max_threads(), _jit.threads_for(1e12))
    """
    assert _python(code, {"OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "3"}) == ["True 3 3"]
    cores = os.cpu_count() or 1
    assert _python(code, {"OMP_NUM_THREADS": "1"}) == [f"{cores >= 2} 1 1"]


def test_thread_limits_inside_a_loky_worker_and_gridsearch_agrees():
    """GridSearchCV(n_jobs=2) runs fastlr in loky worker processes: each kernel may use that
    worker's share of the cores (one each on two cores), and the search finds what n_jobs=1 finds."""
    code = """
        import json, os
        import numpy as np
        from joblib import Parallel, delayed
        from sklearn.datasets import make_classification
        from sklearn.model_selection import GridSearchCV
        import fastlr

        def share(_):
            from fastlr import _jit
            return _jit.max_threads()

        shares = Parallel(n_jobs=2, backend="loky")(delayed(share)(i) for i in range(4))
        X, y = make_classification(4000, 10, random_state=0)
        grid = {"C": [0.01, 0.1, 1.0, 10.0]}
        one = GridSearchCV(fastlr.LogisticRegression(), grid, n_jobs=1).fit(X, y)
        two = GridSearchCV(fastlr.LogisticRegression(), grid, n_jobs=2).fit(X, y)
        print(json.dumps({"shares": shares, "cores": os.cpu_count(),
                          "same": bool(one.best_params_ == two.best_params_ and
                                       np.allclose(one.cv_results_["mean_test_score"],
                                                   two.cv_results_["mean_test_score"]))}))
    """
    result = json.loads(_python(code)[-1])
    assert result["same"]
    assert all(1 <= s <= max(1, result["cores"] // 2) for s in result["shares"]), result


# A process started in the background (``cmd &`` in a script, nohup, some CI runners) inherits
# SIGINT *ignored*, and Python then keeps it ignored: these scripts put back the handler that an
# interactive user's Python has, or every signal they send would be dropped (a CI run hung so).
#
# What is asserted is behaviour, never a time: the fit ends in a KeyboardInterrupt, a warm-started
# model keeps its coefficients, and few objective evaluations start after the signal was sent
# (counted by wrapping ``fastlr._interrupt.check``, which every evaluation calls first). A fit
# that ignored the signal, or stopped only at the end of a problem, would run on for hundreds of
# evaluations (max_iter=100_000, tol=0) until the subprocess timeout, a hang catcher only. The
# latency in seconds is a benchmark: ``python benchmarks/real_use.py --only interrupt``.
COUNT_EVALUATIONS = """
    import threading
    from fastlr import _interrupt
    signal_sent = threading.Event()
    after_signal = [0]
    evaluations = [0]
    third_evaluation = threading.Event()
    _check = _interrupt.check
    def counting_check():
        _check()  # raises KeyboardInterrupt once the signal has been recorded
        evaluations[0] += 1
        if evaluations[0] == 3:
            third_evaluation.set()
        if signal_sent.is_set():
            after_signal[0] += 1  # an evaluation that started after the signal was sent
    _interrupt.check = counting_check
"""

CTRL_C = COUNT_EVALUATIONS + """
    import json, os, signal, threading, time, warnings
    import numpy as np
    import fastlr
    signal.signal(signal.SIGINT, signal.default_int_handler)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2_000_000, 40))  # 640 MB: every fit lasts seconds
    y = np.digitize(X[:, :3].sum(axis=1) + rng.standard_normal(2_000_000), [-1.0, 0.0, 1.0])
    report = []
    for solver in ("lbfgs", "newton", "gd"):
        for labels, kind in ((y == 1, "binary"), (y, "one-vs-rest")):
            # compile (or load) the kernels this fit uses first
            fastlr.LogisticRegression(solver=solver, max_iter=1).fit(X, labels)
            model = fastlr.LogisticRegression(solver=solver, max_iter=2, warm_start=True)
            model.fit(X[:20_000], labels[:20_000])
            before = model.coef_.copy()
            model.set_params(max_iter=100_000, tol=0.0)
            signal_sent.clear()
            after_signal[0] = evaluations[0] = 0
            third_evaluation.clear()
            # The signal comes from another thread once the fit is under way: during its third
            # evaluation. A fixed delay does not: on a fast machine the binary L-BFGS fit
            # (17 evaluations, 0.3 s on this VM) finished before a 0.3 s timer fired.
            def interrupt_mid_fit():
                if third_evaluation.wait(timeout=60):
                    signal_sent.set()
                    os.kill(os.getpid(), signal.SIGINT)
            timer = threading.Thread(target=interrupt_mid_fit, daemon=True)
            timer.start()
            try:
                model.fit(X, labels)
                outcome = "finished"
            except KeyboardInterrupt:
                outcome = "KeyboardInterrupt"
            except BaseException as exc:
                outcome = type(exc).__name__ + ": " + str(exc)[:200]
            third_evaluation.set()  # a fit that finished before its third evaluation: let the
            try:                     # interrupter fire now, and its late signal land here
                timer.join()
                time.sleep(0.05)
            except KeyboardInterrupt:
                pass
            report.append({"solver": solver, "kind": kind, "outcome": outcome,
                           "problems": len(model.coef_), "evaluations_after_signal": after_signal[0],
                           "unchanged": bool(np.array_equal(model.coef_, before))})
    print(json.dumps(report))
"""


def test_ctrl_c_stops_every_solver_within_an_evaluation():
    """SIGINT from another thread during each fit's third evaluation: a KeyboardInterrupt (not a SystemError),
    for every solver, binary and one-vs-rest; at most two evaluations per problem start after the
    signal is sent (the one racing it, and one of slack), and the warm-started model keeps its
    previous coefficients."""
    report = json.loads(_python(CTRL_C, timeout=400)[-1])
    assert len(report) == 6
    for row in report:
        assert row["outcome"] == "KeyboardInterrupt", row
        assert row["evaluations_after_signal"] <= 2 * row["problems"], row
        assert row["unchanged"], row


CTRL_C_ON_ANOTHER_THREAD = COUNT_EVALUATIONS + """
    import json, signal, threading, time, warnings
    import numpy as np
    import fastlr
    signal.signal(signal.SIGINT, signal.default_int_handler)
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100_000, 10))
    y = np.digitize(X[:, :3].sum(axis=1), [-1.0, 1.0])
    model = fastlr.LogisticRegression(solver="gd", multi_class="ovr", max_iter=2, n_threads=2)
    model.fit(X, y)  # compile (or load) first
    model.set_params(max_iter=1_000_000, tol=0.0)  # minutes, unless interrupted
    def interrupt_from_another_thread():
        time.sleep(0.3)
        signal_sent.set()
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)  # to this thread, not main
    threading.Thread(target=interrupt_from_another_thread, daemon=True).start()
    try:
        model.fit(X, y)
        outcome = "finished"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
    print(json.dumps({"outcome": outcome, "evaluations_after_signal": after_signal[0]}))
"""


def test_ctrl_c_delivered_to_another_thread_still_stops_a_one_vs_rest_fit():
    """The OS may hand a process's SIGINT to any of its threads; Python's handler then runs
    only when the main thread next executes bytecode. One-vs-rest fits once ran each class on a
    Python worker thread while the main thread slept until they ended, and a SIGINT sent to a
    worker never stopped them (a CI run hung on it). The classes now run in lockstep on the main
    thread; the signal here goes to a thread other than the main one. Each gd evaluation of
    100,000 x 10 takes about a millisecond; a fit that ran on would count into the hundreds of
    thousands."""
    result = json.loads(_python(CTRL_C_ON_ANOTHER_THREAD, env={"NUMBA_NUM_THREADS": "2"}, timeout=120)[-1])
    assert result["outcome"] == "KeyboardInterrupt", result
    assert result["evaluations_after_signal"] <= 5_000, result
