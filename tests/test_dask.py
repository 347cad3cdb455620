"""The power study and the bootstrap on a Dask cluster (``client=``).

A local cluster (two workers, one thread each) stands in for a real one.  The claims: the
numbers are identical to a local run with the same seed; a cluster that goes away mid-study
leaves the completed replications (power) or a clean typed error (bootstrap).  Skipped when
dask.distributed is not installed (``pip install cbec-sem[dask]``).
"""

from __future__ import annotations

import importlib.util
import warnings

import numpy as np
import pandas as pd
import pytest

# dask.distributed is imported where a cluster is made: importing it here cost every xdist
# worker ~1 s of CPU at collection, most of them never running these tests
if importlib.util.find_spec("distributed") is None:
    pytest.skip("dask.distributed is not installed", allow_module_level=True)

import cbec_sem as cs  # noqa: E402
from cbec_sem.errors import CbecSemWarning, EstimationError, SpecError  # noqa: E402
from cbec_sem.parallel import executor  # noqa: E402
from cbec_sem.power import power  # noqa: E402
from cbec_sem.resampling import bootstrap  # noqa: E402

HYPOTHESES = ["H1", "H2", "H4", "H7"]


def local_cluster(processes: bool = False, n_workers: int = 2):
    from dask import distributed

    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                    processes=processes, dashboard_address=":0",
                                    silence_logs=50)


def dask_client(cluster):
    from dask import distributed

    return distributed.Client(cluster)


@pytest.fixture(scope="module")
def client():
    with local_cluster() as cluster, dask_client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def local_study():
    return power(cs.paper_model(), [120, 200], reps=25, hypotheses=HYPOTHESES, seed=5,
                 nca_permutations=30)


@pytest.fixture(scope="module")
def example_fit():
    data = cs.datasets.example_survey()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cs.fit(cs.paper_model(), data)


def test_power_on_dask_equals_local(client, local_study):
    res = power(cs.paper_model(), [120, 200], reps=25, hypotheses=HYPOTHESES, seed=5,
                nca_permutations=30, client=client)
    assert res.backend.startswith("Dask cluster (2 worker threads)")
    assert res.completed == 50 and res.interrupted is None
    pd.testing.assert_frame_equal(res.replications, local_study.replications)
    pd.testing.assert_frame_equal(res.table, local_study.table)


def test_power_on_dask_processes_equals_local(local_study):
    """Worker processes: the study is pickled and shipped; still the same numbers.  One worker
    process is enough for that (a second one cost ~5 s of CPU to start, importing dask, NumPy,
    SciPy, pandas and cbec_sem again); two workers sharing the chunks are
    test_power_on_dask_equals_local's."""
    with local_cluster(processes=True, n_workers=1) as cluster, dask_client(cluster) as c:
        res = power(cs.paper_model(), [120], reps=25, hypotheses=HYPOTHESES, seed=5,
                    nca_permutations=30, client=c)
    local = local_study.replications
    pd.testing.assert_frame_equal(res.replications,
                                  local[local["n"] == 120].reset_index(drop=True))


def test_bootstrap_on_dask_equals_local(client, example_fit):
    local = bootstrap(example_fit, 40, seed=9, ci=("percentile",))
    remote = bootstrap(example_fit, 40, seed=9, ci=("percentile",), client=client)
    np.testing.assert_array_equal(remote.est, local.est)
    np.testing.assert_array_equal(remote.status, local.status)
    pd.testing.assert_frame_equal(remote.table, local.table)


def test_lost_cluster_keeps_completed_replications():
    with local_cluster() as cluster, dask_client(cluster) as c:
        def lose_cluster(done, total):
            if done >= 20:  # after the first chunk (one per size: 40 replications) is back
                c.close()

        with pytest.warns(CbecSemWarning, match=r"interrupted.*of 80 replications completed"):
            res = power(cs.paper_model(), [120, 200], reps=40, hypotheses=["H2"], seed=5,
                        client=c, progress=lose_cluster)
    assert res.interrupted is not None and "Dask cluster" in res.interrupted
    assert 20 <= res.completed < 80
    assert res.table["completed"].sum() == res.completed
    done = res.replications[res.replications["status"] >= 0]
    assert len(done) == res.completed
    # the replications that completed are the local run's replications
    local = power(cs.paper_model(), [120, 200], reps=40, hypotheses=["H2"], seed=5)
    merged = done.merge(local.replications, on=["n", "rep", "id"], suffixes=("", ".local"))
    np.testing.assert_array_equal(merged["est"], merged["est.local"])
    assert "INTERRUPTED" in res.summary()


def test_lost_cluster_fails_bootstrap_cleanly(example_fit, monkeypatch):
    """The bootstrap's intervals need every draw: a lost cluster is a typed error."""
    from cbec_sem import parallel

    class LosesItsCluster(parallel.DaskExecutor):
        def run(self, func, shared, chunks, on_done=None):
            return super().run(func, shared, chunks, lambda i, out: self.client.close())

    import importlib

    bootstrap_module = importlib.import_module("cbec_sem.resampling.bootstrap")

    monkeypatch.setattr(bootstrap_module, "DaskExecutor", LosesItsCluster)
    with local_cluster() as cluster, dask_client(cluster) as c:
        with pytest.raises(EstimationError, match=r"interrupted.*draws had completed"):
            bootstrap(example_fit, 40, seed=1, ci=("percentile",), client=c)


def test_closed_client_is_refused():
    with local_cluster() as cluster:
        c = dask_client(cluster)
        c.close()
        with pytest.raises(SpecError, match="not connected"):
            power(cs.paper_model(), [120], reps=5, hypotheses=["H2"], client=c)


def test_not_a_client():
    with pytest.raises(SpecError, match="dask.distributed.Client"):
        executor(client="tcp://scheduler:8786")
