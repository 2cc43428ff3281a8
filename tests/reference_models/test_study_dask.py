"""The same runs on a real dask.distributed LocalCluster give the same files as locally."""

import dataclasses
import json

import pytest
from study_fakes import fake_compute

from attractorkit.reference_models.study import runner
from attractorkit.reference_models.study.presets import preset

pytestmark = pytest.mark.study
distributed = pytest.importorskip("distributed")


def checksums(out):
    return {d.name: {k: v["sha256"] for k, v in json.loads(
        (d / runner.MANIFEST).read_text())["files"].items()} for d in runner.finished_runs(out)}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as c:
        yield c


def test_dask_address_and_client_give_identical_files(tmp_path, cluster):
    cfg = dataclasses.replace(preset("tiny"), seeds=(0, 1, 2))
    runner.run_sweep(cfg, tmp_path / "local", compute=fake_compute)
    address = cluster.scheduler_address.replace("tcp://", "dask://")
    rep = runner.run_sweep(cfg, tmp_path / "dask", cluster=address, compute=fake_compute)
    assert len(rep.computed) == cfg.n_runs and not rep.failed
    assert checksums(tmp_path / "dask") == checksums(tmp_path / "local")
    with distributed.Client(cluster) as client:
        rep = runner.run_sweep(cfg, tmp_path / "client", cluster=client, compute=fake_compute)
        assert client.status == "running"      # a client we were given is not closed
    assert checksums(tmp_path / "client") == checksums(tmp_path / "local")


def test_tiny_study_on_dask_matches_the_local_run(tmp_path, cluster):
    cfg = dataclasses.replace(preset("tiny"), deltas=(0.2,), seeds=(0,))
    rep = runner.run_sweep(cfg, tmp_path / "local")
    assert not rep.failed, rep.summary()
    rep = runner.run_sweep(cfg, tmp_path / "dask", cluster=cluster.scheduler_address)
    assert not rep.failed, rep.summary()
    local, dask = checksums(tmp_path / "local"), checksums(tmp_path / "dask")
    assert local and local == dask
