"""The sweep runner: atomic run directories, resume after kill -9, corruption, executors."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from study_fakes import failing_compute, fake_compute

from attractorkit import MissingDependencyError, ValidationError
from attractorkit.reference_models.study import preset, runner

pytestmark = pytest.mark.study
HERE = Path(__file__).parent


def small_config(**kw):
    import dataclasses

    return dataclasses.replace(preset("tiny"), seeds=(0, 1, 2), **kw)


def checksums(out):
    """{run_id: {file: sha256}} from the manifests (what 'identical results' means)."""
    res = {}
    for d in runner.finished_runs(out):
        m = json.loads((d / runner.MANIFEST).read_text())
        res[d.name] = {k: v["sha256"] for k, v in m["files"].items()}
    return res


def test_sweep_writes_every_run_then_reuses_them(tmp_path):
    cfg = small_config()
    rep = runner.run_sweep(cfg, tmp_path, compute=fake_compute)
    assert len(rep.computed) == cfg.n_runs == rep.total and not rep.reused
    ids = sorted(s.run_id for s in runner.expand_runs(cfg))
    assert [d.name for d in runner.finished_runs(tmp_path)] == ids
    for d in runner.finished_runs(tmp_path):
        assert runner.check_run(d, runner.run_hash(cfg, runner.RunSpec(**json.loads(
            (d / "summary.json").read_text()) and json.loads(
            (d / runner.MANIFEST).read_text())["spec"])))[0] == "ok"
    rep2 = runner.run_sweep(cfg, tmp_path, compute=failing_compute)  # never called again
    assert not rep2.computed and len(rep2.reused) == cfg.n_runs and not rep2.failed
    assert "reused" in rep2.summary()


def test_run_ids_are_unique_and_matched_across_paradigms():
    cfg = small_config()
    specs = runner.expand_runs(cfg)
    assert len({s.run_id for s in specs}) == len(specs)
    rl = {(s.delta, s.complexity, s.seed) for s in specs if s.paradigm == "rl"}
    sl = {(s.delta, s.complexity, s.seed) for s in specs if s.paradigm == "sl"}
    assert rl == sl


def test_corrupted_and_stale_runs_are_redone(tmp_path):
    cfg = small_config()
    runner.run_sweep(cfg, tmp_path, compute=fake_compute)
    before = checksums(tmp_path)
    runs = runner.finished_runs(tmp_path)
    (runs[0] / "blob.bin").write_bytes(b"garbage")            # changed file
    (runs[1] / runner.MANIFEST).write_text("{not json")        # broken manifest
    (runs[2] / "summary.json").unlink()                        # missing file
    (runs[3] / "extra.txt").write_text("x")                    # extra file
    assert runner.check_run(runs[0])[0] == "corrupt"
    rep = runner.run_sweep(cfg, tmp_path, compute=fake_compute)
    assert sorted(rep.redone) == sorted(r.name for r in runs[:4])
    assert sorted(rep.computed) == sorted(r.name for r in runs[:4])
    assert checksums(tmp_path) == before
    # other analysis settings: every run is stale and is recomputed
    import dataclasses

    cfg2 = dataclasses.replace(cfg, analysis=dataclasses.replace(cfg.analysis, n_steps=101))
    rep = runner.run_sweep(cfg2, tmp_path, compute=fake_compute)
    assert len(rep.computed) == cfg.n_runs
    assert all(v.startswith("stale") for v in rep.redone.values())


def test_failures_are_reported_not_written_and_retried(tmp_path):
    cfg = small_config()
    rep = runner.run_sweep(cfg, tmp_path, compute=failing_compute)
    n_fail = sum(1 for s in runner.expand_runs(cfg) if s.seed == 1)
    assert len(rep.failed) == n_fail and "boom" in next(iter(rep.failed.values()))
    assert len(runner.finished_runs(tmp_path)) == cfg.n_runs - n_fail
    rep = runner.run_sweep(cfg, tmp_path, compute=fake_compute)
    assert len(rep.computed) == n_fail


def test_leftover_temporary_directories_are_removed(tmp_path):
    cfg = small_config()
    tmp = tmp_path / "runs" / ".tmp-rl_d0.05_default_s000-deadbeef"
    tmp.mkdir(parents=True)
    (tmp / "summary.json").write_text("{}")
    runner.run_sweep(cfg, tmp_path, compute=fake_compute)
    assert not tmp.exists()


def test_local_processes_give_identical_results(tmp_path):
    cfg = small_config()
    runner.run_sweep(cfg, tmp_path / "a", compute=fake_compute)
    rep = runner.run_sweep(cfg, tmp_path / "b", compute=fake_compute, n_jobs=2)
    assert len(rep.computed) == cfg.n_runs
    assert checksums(tmp_path / "a") == checksums(tmp_path / "b")


def test_bad_arguments(tmp_path):
    cfg = small_config()
    with pytest.raises(ValidationError, match="n_jobs"):
        runner.run_sweep(cfg, tmp_path, n_jobs=0, compute=fake_compute)
    with pytest.raises(ValidationError, match="one of them"):
        runner.run_sweep(cfg, tmp_path, cluster="dask://x:1", ray="auto", compute=fake_compute)
    with pytest.raises(ValidationError, match="cluster"):
        runner.run_sweep(cfg, tmp_path, cluster="http://x:1", compute=fake_compute)
    with pytest.raises(ValidationError, match="StudyConfig"):
        runner.run_sweep({"name": "x"}, tmp_path)


def test_ray_is_optional_with_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependencyError, match=r"attractorkit\[dist\]"):
        runner.run_sweep(small_config(), tmp_path, ray="auto", compute=fake_compute)


def test_one_sweep_per_directory(tmp_path):
    import fcntl

    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / ".sweep.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValidationError, match="another sweep"):
            runner.run_sweep(small_config(), tmp_path, compute=fake_compute)


SWEEP_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {here!r})
    from study_fakes import fake_compute
    from attractorkit.reference_models.study import runner
    from attractorkit.reference_models.study import StudyConfig
    if __name__ == "__main__":   # (the spawned workers import this file too)
        cfg = StudyConfig(name="kill", deltas=(0.05, 0.2), complexities=("default",),
                          seeds=tuple(range(5)), n_hidden=4).validate()
        rep = runner.run_sweep(cfg, sys.argv[1], compute=fake_compute, n_jobs=int(sys.argv[2]))
        print("COMPUTED", len(rep.computed), "REUSED", len(rep.reused))
""")


@pytest.mark.parametrize("n_jobs", [pytest.param(1, marks=pytest.mark.slow), 2])
def test_kill_9_mid_sweep_then_resume(tmp_path, n_jobs):
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP_SCRIPT.format(here=str(HERE)))
    env = {**os.environ, "FAKE_STUDY_SLEEP": "0.3"}
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(n_jobs)], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(runner.finished_runs(out)) < 3 and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)      # the sweep and its workers, mid-sweep
    proc.wait()
    n_done = len(runner.finished_runs(out))
    assert 3 <= n_done < 20
    env["FAKE_STUDY_SLEEP"] = "0"
    res = subprocess.run([sys.executable, str(script), str(out), "1"], env=env,
                         capture_output=True, text=True, check=True)
    computed = int(res.stdout.split()[1])
    reused = int(res.stdout.split()[3])
    assert reused >= n_done and computed + reused == 20
    ref = tmp_path / "reference"
    subprocess.run([sys.executable, str(script), str(ref), "1"], env=env, check=True,
                   capture_output=True)
    assert checksums(out) == checksums(ref)
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]


def _children(pid):
    """Pids whose parent is ``pid`` (from /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(d.name))
    return out


def _alive(pid):
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc")
def test_workers_end_when_the_sweep_is_killed(tmp_path):
    """SIGKILL of the sweep's process alone: its worker processes notice and end, instead of
    computing their runs to the end as orphans."""
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP_SCRIPT.format(here=str(HERE)))
    env = {**os.environ, "FAKE_STUDY_SLEEP": "60"}
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path / "out"), "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        workers = []
        while time.time() < deadline:
            workers = [p for p in _children(proc.pid)
                       if "spawn_main" in (Path("/proc") / str(p) / "cmdline").read_text()]
            if len(workers) == 2:
                break
            time.sleep(0.1)
        assert len(workers) == 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.time() + 20
        while any(_alive(p) for p in workers) and time.time() < deadline:
            time.sleep(0.1)
        assert not any(_alive(p) for p in workers)
    finally:
        for p in [proc.pid] + _children(proc.pid):
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)


def test_the_lock_file_is_never_opened_through_a_link(tmp_path):
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep")
    out = tmp_path / "out"
    out.mkdir()
    (out / ".sweep.lock").symlink_to(target)
    with pytest.raises(ValidationError, match="lock file"):
        runner.run_sweep(small_config(), out, compute=fake_compute)
    assert target.read_text() == "keep"


def test_run_files_go_through_the_safe_writer(tmp_path):
    cfg = small_config()

    def bad(config, spec):
        return {"files": {"../escape.json": b"{}"}, "seconds": 0.0}

    with pytest.raises(ValidationError, match="single path component"):
        runner.run_sweep(cfg, tmp_path, compute=bad)
    assert not (tmp_path / "escape.json").exists() and not list((tmp_path / "runs").glob("*/*"))
