"""The asv suite (benchmarks/) works: every benchmark runs once, here, in the pytest process.

``test_benchmark`` is one item per benchmark and parameter combination, found by asv's own
discovery (``asv_runner``, which comes with asv) and run the way ``asv run --quick`` runs it —
asv's quick settings (one sample of one call), setup → benchmark → teardown, ``setup_cache``
once per cache key — but in this process, so Numba compiles each kernel once for the whole suite
instead of once per combination's process (the real quick run takes several minutes on 2 cores).
A benchmark that raises fails its item; ``NotImplementedError`` from ``setup`` is asv's
"skipped" and skips the item; ``timeraw_`` benchmarks run their code once in a fresh interpreter,
through asv's own timer. ``test_every_benchmark_ran`` then fails when every combination of some
benchmark was skipped, and a deliberately broken suite checks that the driver (and asv itself)
report a raising benchmark.

The real ``asv run --python=same --quick`` of the whole suite is ``test_asv_runs_the_whole_suite``,
marked ``slow_asv`` and deselected by default; run it with ``python -m pytest -m slow_asv
tests/test_asv_suite.py``. Needs asv (test or bench extra); skipped with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import numbers
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import types
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_DIR = ROOT / "benchmarks"

pytest.importorskip("asv", reason="asv is not installed (pip install asv)")
from asv_runner.benchmarks.mark import SkipNotImplemented  # noqa: E402  (comes with asv)
from asv_runner.discovery import disc_benchmarks, get_benchmark_from_name  # noqa: E402

#: the extra benchmark attributes ``asv run --quick`` gives every benchmark (asv.runner)
QUICK = {"number": 1, "repeat": 1, "warmup_time": 0, "rounds": 1}

def _on_path(directory: Path):
    if str(directory) not in sys.path:
        sys.path.insert(0, str(directory))


def discover(root: Path):
    """[(benchmark name, parameter index or None, pytest id)] of the suite in ``root``, as asv finds it."""
    _on_path(root.parent)
    cases = []
    for bench in disc_benchmarks(str(root)):
        if not bench.params:
            cases.append((bench.name, None, bench.name))
            continue
        for idx, values in enumerate(itertools.product(*bench.params)):
            args = ",".join(f"{n}={v.strip(chr(39))}" for n, v in zip(bench.param_names, values))
            cases.append((bench.name, idx, f"{bench.name}({args})"))
    return cases


#: (root, setup_cache key) -> (what setup_cache returned, the directory it ran in)
_SETUP_CACHE: dict = {}


@contextlib.contextmanager
def _working_directory(path):
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


@pytest.fixture(scope="module", autouse=True)
def _remove_setup_cache_directories():
    yield
    for _, directory in _SETUP_CACHE.values():
        shutil.rmtree(directory, ignore_errors=True)
    _SETUP_CACHE.clear()


def run_once(root: Path, name: str, param_idx: int | None):
    """Run one benchmark combination as ``asv run --quick`` would, in this process.

    As asv does, ``setup_cache`` runs once per cache key in a directory of its own, which is the
    working directory of every benchmark that uses it (files it writes there are theirs), and any
    other benchmark runs in a fresh temporary working directory.

    Returns its result (asv's: timing samples, bytes, or the tracked value); calls
    ``pytest.skip`` when setup raises NotImplementedError (asv's "skipped"); anything else a
    benchmark raises propagates.
    """
    _on_path(root.parent)
    bench_id = name if param_idx is None else f"{name}-{param_idx}"
    bench = get_benchmark_from_name(str(root), bench_id, extra_params=QUICK)
    with contextlib.ExitStack() as stack:
        if bench.setup_cache_key is not None:
            key = (str(root), bench.setup_cache_key)
            if key not in _SETUP_CACHE:
                directory = tempfile.mkdtemp(prefix="asv-setup-cache-")
                with _working_directory(directory):
                    _SETUP_CACHE[key] = (bench.do_setup_cache(), directory)
            cache, directory = _SETUP_CACHE[key]
            bench.set_cache(cache)
        else:
            bench.set_cache(None)
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="asv-run-"))
        stack.enter_context(_working_directory(directory))
        return _setup_run_teardown(bench, name)


def _setup_run_teardown(bench, name):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            skipped = bench.do_setup()  # True after NotImplementedError in setup, or skip_params
    except BaseException:
        # asv's process would end here; this one goes on, so undo what setup did (threads)
        with contextlib.suppress(Exception):
            bench.do_teardown()
        raise
    try:
        if skipped:
            pytest.skip(printed.getvalue().strip() or "asv: skipped (skip_params)")
        try:
            result = bench.do_run()
        except SkipNotImplemented as exc:
            pytest.skip(f"asv: skipped in the benchmark: {exc!r}")
    finally:
        bench.do_teardown()
    if bench.type == "track":
        assert isinstance(result, numbers.Real) and not isinstance(result, bool), (
            f"{name} returned {result!r}; a track_ benchmark returns a number")
    return result


CASES = discover(BENCHMARK_DIR)
#: benchmark name -> outcomes of its combinations in this session ("ran", "skipped", "failed")
_OUTCOMES: dict[str, list[str]] = {}


#: combinations that compile every kernel they use in a fresh interpreter from an empty cache:
#: 130 s (FirstFit, empty cache) and 17 s each (Compile) of a 2-core default run, where the
#: cache tests (tests/test_cache.py) already check compiling from empty; they run with
#: ``-m slow_asv``, as the whole real ``asv run`` does
FROM_EMPTY_CACHE = ("bench_fit.FirstFit.timeraw_import_and_first_fit(library=fastlr-empty-cache)",
                    "bench_kernels.Compile.timeraw_compile_first_call")


def _case(name, idx, case_id):
    if case_id.startswith(FROM_EMPTY_CACHE):
        return pytest.param(name, idx, id=case_id, marks=pytest.mark.slow_asv)
    return pytest.param(name, idx, id=case_id)


@pytest.mark.parametrize(("name", "param_idx"), [_case(*case) for case in CASES])
def test_benchmark(name, param_idx):
    outcome = "failed"
    try:
        run_once(BENCHMARK_DIR, name, param_idx)
        outcome = "ran"
    except pytest.skip.Exception:
        outcome = "skipped"
        raise
    finally:
        _OUTCOMES.setdefault(name, []).append(outcome)


def test_every_benchmark_ran():
    """No benchmark is skipped in every combination (a skip that hides a broken lookup)."""
    totals = {}
    for name, _, _ in CASES:
        totals[name] = totals.get(name, 0) + 1
    if any(len(_OUTCOMES.get(name, [])) != total for name, total in totals.items()):
        pytest.skip("not every combination of test_benchmark ran in this session")
    never = sorted(name for name, outcomes in _OUTCOMES.items()
                   if all(o == "skipped" for o in outcomes))
    assert not never, f"every combination of these benchmarks was skipped: {never}"


def test_discovery_finds_the_suite():
    names = {name for name, _, _ in CASES}
    for expected in ("bench_kernels.LossGrad.time_loss_grad", "bench_kernels.LossGradLayout.time_loss_grad",
                     "bench_kernels.LossGradHess.time_loss_grad_hess",
                     "bench_kernels.LossGradHessError.track_max_error",
                     "bench_kernels.Compile.timeraw_compile_first_call",
                     "bench_kernels.KernelError.track_max_error", "bench_fit.Fit.peakmem_fit",
                     "bench_fit.Fit.track_n_iter", "bench_fit.MultinomialFit.time_fit",
                     "bench_fit.MultinomialFit.track_n_iter", "bench_fit.MultinomialFit.track_objective",
                     "bench_fit.FirstFit.timeraw_import_and_first_fit", "bench_fit.SmallFit.time_fit",
                     "bench_kernels.SparseReadOnce.time_read_nonzeros"):
        assert expected in names


# ------------------------------------------------------------------ what the new benchmarks measure

def test_sparse_read_once_reads_every_nonzero_as_fastlr_bench_does():
    """The asv floor of the CSR kernel sums every stored value and index (math.fsum, computed
    here), and agrees with ``fastlr.bench.readonce.read_csr``, the floor of ``fastlr bench``."""
    import numpy as np

    from benchmarks.bench_kernels import READ_CHUNKS, read_nonzeros_once
    from benchmarks.common import sparse_problem

    from fastlr.bench.readonce import READ_CHUNKS as BENCH_CHUNKS
    from fastlr.bench.readonce import read_csr

    assert READ_CHUNKS == BENCH_CHUNKS
    for dtype in ("float64", "float32"):
        X = sparse_problem(3_001, 97, 0.05, dtype)[2]
        expected = math.fsum(X.data.astype(np.float64).tolist()) + int(X.indices.astype(np.int64).sum())
        got = read_nonzeros_once()(X.data, X.indices, READ_CHUNKS)
        assert got == pytest.approx(expected, rel=1e-12)
        assert got == pytest.approx(read_csr(X), rel=1e-12)


def _log_loss_objective(est, X, y):
    from sklearn.metrics import log_loss

    W = est.coef_
    return log_loss(y, est.predict_proba(X), labels=est.classes_, normalize=False) + 0.5 * float((W * W).sum())


def test_multinomial_fit_objective_and_model_check():
    """``MultinomialFit``'s objective is scikit-learn's log-loss form (computed independently,
    with ``sklearn.metrics.log_loss``), and its softmax check tells the multinomial model from
    one-vs-rest."""
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression as Sk

    from benchmarks.bench_fit import MULTINOMIAL, _is_softmax, _multinomial_objective
    from benchmarks.common import multinomial_problem

    from fastlr import LogisticRegression

    X, y = multinomial_problem(*MULTINOMIAL)[2:]
    X, y = X[:2000], y[:2000]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: any point will do
        far = Sk(max_iter=3).fit(X, y)
    for est in (far, LogisticRegression().fit(X, y)):
        assert _multinomial_objective(est, X, y) == pytest.approx(_log_loss_objective(est, X, y), rel=1e-10)
        assert _is_softmax(est, X)
    assert not _is_softmax(LogisticRegression(multi_class="ovr").fit(X, y), X)


def test_first_fit_setup_code_gives_each_sample_an_empty_cache_and_removes_it(tmp_path):
    """The empty-cache variant's untimed setup points NUMBA_CACHE_DIR at a new empty directory
    (fastlr's cache on), which is gone when the interpreter exits; the warm variant points at the
    directory ``setup_cache`` returned; the timed code is the import and the fit."""
    from benchmarks.bench_fit import FirstFit

    bench = FirstFit()
    cache = {"path": str(tmp_path / "warm"), "why": None}
    code, setup = bench.timeraw_import_and_first_fit(cache, "fastlr-empty-cache")
    assert code.startswith("from fastlr import LogisticRegression") and ".fit(X, y)" in code
    probe = setup + textwrap.dedent("""
        import os, sys
        print(os.environ["NUMBA_CACHE_DIR"], os.environ["FASTLR_CACHE"], os.listdir(os.environ["NUMBA_CACHE_DIR"]),
              "fastlr" in sys.modules, X.shape)
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    path, flag, listing, imported, shape = done.stdout.split(" ", 4)
    assert flag == "1" and listing == "[]" and imported == "False" and "(100000, 20)" in shape
    assert not os.path.exists(path)  # removed at exit
    code, setup = bench.timeraw_import_and_first_fit(cache, "fastlr-warm-cache")
    assert repr(cache["path"]) in setup and "FASTLR_CACHE" in setup
    code, setup = bench.timeraw_import_and_first_fit(cache, "sklearn")
    assert code.startswith("from sklearn.linear_model import LogisticRegression")
    assert "NUMBA_CACHE_DIR" not in setup


def test_first_fit_setup_cache_filled_the_warm_cache():
    """When the suite ran ``FirstFit`` in this session, its setup_cache left compiled kernels in
    the directory it returned (fastlr's cache layout: <dir>/fastlr/<digest>/...)."""
    from asv_runner.benchmarks._base import get_setup_cache_key

    from benchmarks.bench_fit import FirstFit

    key = (str(BENCHMARK_DIR), get_setup_cache_key(FirstFit.setup_cache))
    if key not in _SETUP_CACHE:
        pytest.skip("bench_fit.FirstFit did not run in this session")
    cache, _ = _SETUP_CACHE[key]
    assert cache["path"] is not None, cache["why"]
    files = [f for _, _, names in os.walk(cache["path"]) for f in names]
    assert any(f.endswith(".nbi") for f in files) and any(f.endswith(".nbc") for f in files)


# ------------------------------------------------------------------ the registry is benchmarked

def test_every_registry_entry_is_benchmarked():
    """Each entry of fastlr.implementations.KERNELS is an implementation parameter of a benchmark
    in benchmarks/bench_kernels.py (BENCHMARKED), and the suite finds it through the registry."""
    from benchmarks import bench_kernels
    from benchmarks.registry import REFERENCE

    from fastlr.implementations import KERNELS

    used = set()  # implementation parameter values of the kernel benchmarks
    for cls in vars(bench_kernels).values():
        if isinstance(cls, type) and "implementation" in getattr(cls, "param_names", []):
            used |= set(cls.params[cls.param_names.index("implementation")])
    missing = []
    for key, kernel in KERNELS.items():
        names = bench_kernels.BENCHMARKED.get((kernel.operation, kernel.input), {})
        params = [p for p, name in names.items() if p in used
                  and (name == kernel.name or (name == REFERENCE and kernel.reference))]
        if not params:
            missing.append(key)
            continue
        for p in params:
            impl = bench_kernels.impl_of(kernel.operation, kernel.input, p)
            assert (impl.source, impl.func) == ("registry", kernel.func), (key, p, impl)
            assert (impl.parallel, impl.blas, impl.max_elements) == (
                kernel.parallel, kernel.blas, kernel.max_elements)
    assert not missing, f"benchmark {missing} in benchmarks/bench_kernels.py (BENCHMARKED)"


def test_benchmarked_names_exist_in_the_registry():
    """BENCHMARKED maps every parameter to an entry of this commit's registry (no stale names)."""
    from benchmarks.bench_kernels import BENCHMARKED
    from benchmarks.registry import REFERENCE

    from fastlr.implementations import select

    for (operation, input), names in BENCHMARKED.items():
        for param, name in names.items():
            entries = (select(operation, input, reference=True) if name == REFERENCE
                       else [k for k in select(operation, input) if k.name == name])
            assert len(entries) == 1, (operation, input, param, name)


def test_lookups_fall_back_to_fixed_paths_without_a_registry(monkeypatch):
    """In a commit without the registry (older ones), every lookup finds the same function."""
    from benchmarks.bench_kernels import BENCHMARKED
    from benchmarks.registry import find

    registry = {(op, inp, p): find(op, inp, name).func
                for (op, inp), names in BENCHMARKED.items() for p, name in names.items()}
    monkeypatch.setitem(sys.modules, "fastlr.implementations",
                        types.ModuleType("fastlr.implementations"))
    for (op, inp), names in BENCHMARKED.items():
        for p, name in names.items():
            impl = find(op, inp, name)
            assert impl.source == "fixed path" and impl.func is registry[op, inp, p], (op, inp, p)


# ------------------------------------------------------------------ a broken benchmark fails

BROKEN_SUITE = '''
def time_raises():
    raise RuntimeError("a broken benchmark")


class Skips:
    params = [1, 2]
    param_names = ["n"]

    def setup(self, n):
        if n == 2:
            raise NotImplementedError("not for n=2")

    def track_value(self, n):
        return 10 * n


TORN_DOWN = []


class SetupRaises:
    def setup(self):
        raise RuntimeError("a broken setup")

    def teardown(self):
        TORN_DOWN.append(True)

    def time_nothing(self):
        pass
'''


@pytest.fixture
def broken_suite(tmp_path):
    suite = tmp_path / "broken_benchmarks"
    suite.mkdir()
    (suite / "__init__.py").write_text("")
    (suite / "bench_broken.py").write_text(BROKEN_SUITE)
    yield suite
    sys.path[:] = [p for p in sys.path if p != str(tmp_path)]
    for module in [m for m in sys.modules if m.split(".")[0] == "broken_benchmarks"]:
        del sys.modules[module]


def test_the_driver_reports_a_raising_benchmark(broken_suite):
    cases = discover(broken_suite)
    assert sorted((n, i, case_id) for n, i, case_id in cases) == [
        ("bench_broken.SetupRaises.time_nothing", None, "bench_broken.SetupRaises.time_nothing"),
        ("bench_broken.Skips.track_value", 0, "bench_broken.Skips.track_value(n=1)"),
        ("bench_broken.Skips.track_value", 1, "bench_broken.Skips.track_value(n=2)"),
        ("bench_broken.time_raises", None, "bench_broken.time_raises")]
    assert run_once(broken_suite, "bench_broken.Skips.track_value", 0) == 10
    with pytest.raises(pytest.skip.Exception, match="not for n=2"):
        run_once(broken_suite, "bench_broken.Skips.track_value", 1)
    with pytest.raises(RuntimeError, match="a broken benchmark"):
        run_once(broken_suite, "bench_broken.time_raises", None)
    with pytest.raises(RuntimeError, match="a broken setup"):
        run_once(broken_suite, "bench_broken.SetupRaises.time_nothing", None)
    assert sys.modules["broken_benchmarks.bench_broken"].TORN_DOWN == [True]


# ------------------------------------------------------------------ asv itself

def _git_head():
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.fixture(scope="module")
def asv_env(tmp_path_factory):
    """Environment for asv: a throw-away HOME holding the machine file ``asv machine --yes`` writes."""
    if _git_head() is None:
        pytest.skip("not a git checkout with a HEAD commit: asv needs one")
    home = tmp_path_factory.mktemp("asv-home")
    env = dict(os.environ, HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", "fastlr-ci"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def _asv(env, *args, config=None, timeout=900):
    cmd = [sys.executable, "-m", "asv", *args]
    if args[0] == "run":
        cmd += ["--machine", "fastlr-ci"]
    if config is not None:
        cmd += ["--config", str(config)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_asv_config():
    from asv.util import load_json

    conf = load_json(str(ROOT / "asv.conf.json"), js_comments=True)
    assert conf["repo"] == "." and conf["branches"] == ["main"]
    assert conf["environment_type"] == "virtualenv"
    for key in ("results_dir", "html_dir", "env_dir"):
        assert conf[key].startswith(".asv/")  # .asv/ is gitignored
    assert "pythons" not in conf  # never a list of Pythons the package may stop supporting


def test_asv_check(asv_env):
    """asv's own import and signature check of the suite (about a second)."""
    done = _asv(asv_env, "check", "--python=same", timeout=300)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]


def test_asv_fails_on_a_raising_benchmark(asv_env, broken_suite, tmp_path):
    """asv itself exits with status 2 when a benchmark raises (a few seconds)."""
    conf = tmp_path / "asv.conf.json"
    conf.write_text(json.dumps({
        "version": 1, "project": "fastlr", "repo": str(ROOT), "branches": ["main"],
        "environment_type": "virtualenv", "benchmark_dir": str(broken_suite),
        "env_dir": str(tmp_path / "env"), "results_dir": str(tmp_path / "results"),
        "html_dir": str(tmp_path / "html"),
    }))
    done = _asv(asv_env, "run", "--python=same", "--quick", "--dry-run", "--show-stderr",
                "--bench", "time_raises", config=conf, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "a broken benchmark" in done.stdout + done.stderr


@pytest.mark.slow_asv
def test_asv_runs_the_whole_suite(asv_env):
    """The real ``asv run --quick``: each combination in its own process (5-10 minutes)."""
    done = _asv(asv_env, "run", "--python=same", "--quick", "--dry-run", "--show-stderr")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-12000:]
    assert "failed" not in output.lower(), output[-12000:]
    for name in {name for name, _, _ in CASES}:
        assert ".".join(name.split(".")[-2:]) in output, name  # asv shortens long names on the left



def test_cv_best_score_is_the_grid_searchs_best_score():
    """``CVFit.track_best_score`` is the mean held-out neg_log_loss at the chosen C: the
    ``best_score_`` of scikit-learn's GridSearchCV over LogisticRegression on the same folds and
    Cs (cold fits against the warm-started path: equal to the fits' tolerance)."""
    pytest.importorskip("sklearn")
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from benchmarks.bench_fit import CV_DATA, CV_GRID, CVFit

    for kind in CV_DATA:
        bench = CVFit()
        bench.setup("sklearn", kind)
        folds = list(StratifiedKFold(3).split(bench.X, bench.y))
        search = GridSearchCV(LogisticRegression(tol=1e-8, max_iter=1000),
                              {"C": list(np.logspace(-4, 4, CV_GRID["Cs"]))}, cv=folds,
                              scoring="neg_log_loss").fit(bench.X, bench.y)
        assert bench.track_best_score("sklearn", kind) == pytest.approx(search.best_score_,
                                                                        rel=1e-4)
