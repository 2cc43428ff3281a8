"""`attractorkit reproduce`: end to end on a tiny study, rerun reuses everything."""

import json
import subprocess
import sys
import time

import pytest

from attractorkit.cli import main

pytestmark = pytest.mark.study


def test_reproduce_end_to_end_then_rerun_is_quick(tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text('preset = "tiny"\nseeds = [0]\n')
    out = tmp_path / "study"
    args = ["reproduce", "--config", str(cfg), "--out", str(out), "--n-jobs", "1",
            "--no-progress"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "| claim |" in captured.out and "4 runs" in captured.err
    report = out / "report" / "index.html"
    assert report.is_file() and (out / "report" / "claims.json").is_file()
    first = report.stat().st_mtime_ns
    start = time.perf_counter()
    assert main(args) == 0
    assert time.perf_counter() - start < 30
    assert "4 reused, 0 computed" in capsys.readouterr().err
    assert report.stat().st_mtime_ns >= first
    assert main(args + ["--report-only"]) == 0
    # without run directories, --report-only reads the table the report wrote
    import shutil

    shutil.copy(out / "report" / "networks.csv", tmp_path / "networks.csv")
    table_only = ["reproduce", "--config", str(cfg), "--out", str(tmp_path), "--report-only",
                  "--no-progress"]
    capsys.readouterr()
    assert main(table_only) == 0
    assert "runs.npz" in capsys.readouterr().err  # no figure arrays: said, figures left out
    assert ((tmp_path / "report" / "claims.json").read_bytes()
            == (out / "report" / "claims.json").read_bytes())
    # with runs.npz beside the table, the same report, figures and all, byte for byte
    committed = tmp_path / "committed"
    committed.mkdir()
    for name in ("networks.csv", "runs.npz"):
        shutil.copy(out / "report" / name, committed / name)
    assert main(["reproduce", "--config", str(cfg), "--out", str(committed), "--report-only",
                 "--no-progress"]) == 0
    for name in ("claims.json", "study.json", "claims.md", "index.html", "networks.csv"):
        assert (committed / "report" / name).read_bytes() == (out / "report" / name).read_bytes()
    # a rerun with other seeds (here the same numbers under other seed numbers): every
    # verdict holds in it; the same directory again is refused (not other seeds)
    from attractorkit.reference_models.study.aggregate import read_csv, table_csv

    rerun = tmp_path / "rerun"
    rerun.mkdir()
    t = read_csv((out / "report" / "networks.csv").read_text())
    t["seed"] = [s + 100 for s in t["seed"]]
    (rerun / "networks.csv").write_text(table_csv(t))
    capsys.readouterr()
    assert main(["reproduce", "--config", str(cfg), "--out", str(committed), "--report-only",
                 "--no-progress", "--reruns", str(rerun)]) == 0
    rc = json.loads((committed / "report" / "claims.json").read_text())
    assert all(c["n_reruns"] == 1 and c["rerun_stability"] == 1.0 for c in rc)
    assert "1 of 1" in (committed / "report" / "claims.md").read_text()
    assert main(["reproduce", "--config", str(cfg), "--out", str(committed), "--report-only",
                 "--no-progress", "--reruns", str(committed)]) == 2
    assert "other seeds" in capsys.readouterr().err
    assert main(["reproduce", "--config", str(cfg), "--out", str(committed), "--report-only",
                 "--no-progress", "--reruns", str(tmp_path / "missing")]) == 2
    assert "--reruns" in capsys.readouterr().err
    figures = sorted(p.name for p in (out / "report" / "figures").glob("*.png"))
    assert figures == sorted(p.name for p in (committed / "report" / "figures").glob("*.png"))
    # claims.json: one object per claim with the fields a reader looks for first
    claims = json.loads((out / "report" / "claims.json").read_text())
    assert isinstance(claims, list) and len(claims) >= 8
    for c in claims:
        assert {"claim", "verdict", "effect", "ci_low", "ci_high", "power", "n", "test"} <= set(c)
        assert c["verdict"] in ("reproduced", "not reproduced", "inconclusive")
    record = json.loads((out / "run.json").read_text())
    assert record["command"].startswith("attractorkit reproduce --config")
    assert record["cores"] >= 1 and record["runs"] == {"computed": 4, "failed": 0, "total": 4}
    # both sweeping calls are recorded; the wall time is their sum (a resumed sweep's total)
    assert [c["computed"] for c in record["calls"]] == [4, 0]
    assert record["wall_time_s"] == pytest.approx(sum(c["wall_time_s"] for c in record["calls"]),
                                                  abs=0.11)
    assert record["wall_time_s"] > 0


def test_dry_run_prints_runs_cpu_hours_and_memory(capsys):
    assert main(["reproduce", "--preset", "tiny", "--dry-run", "--n-jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "8 runs" in out and "CPU-hours" in out and "MB" in out
    assert "rl" in out and "sl" in out


def test_reproduce_usage_errors(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("deltas = [-1]\n")
    assert main(["reproduce", "--config", str(bad), "--out", str(tmp_path)]) == 2
    assert "deltas" in capsys.readouterr().err
    assert main(["reproduce", "--preset", "tiny", "--out", str(tmp_path / "empty"),
                 "--report-only"]) == 1
    assert main(["reproduce", "--preset", "tiny", "--n-jobs", "0"]) == 2


def test_standalone_module_dumps_a_loadable_config(tmp_path):
    res = subprocess.run([sys.executable, "-m", "attractorkit.reference_models.study_cli",
                          "reproduce", "--preset", "quick", "--dump-config"],
                         capture_output=True, text=True, check=True)
    f = tmp_path / "q.toml"
    f.write_text(res.stdout)
    from attractorkit.reference_models.study.presets import load_config, preset

    assert load_config(f) == preset("quick")


def test_docs_python_example_runs(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "study.md").read_text()
    block = re.search(r"### From Python.*?```python\n(.*?)```", text, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(block.replace("n_jobs=2", "n_jobs=1"), "docs/study.md", "exec"),
         {"__name__": "__main__"})
    assert (tmp_path / "tiny-study" / "report" / "index.html").is_file()


@pytest.mark.slow
def test_quick_preset_within_budget(tmp_path):
    """The acceptance run: the whole quick study in <= 15 min on 2 cores, rerun in seconds."""
    cmd = [sys.executable, "-m", "attractorkit.reference_models.study_cli", "reproduce",
           "--preset", "quick", "--out", str(tmp_path / "quick"), "--no-progress"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    assert time.perf_counter() - start < 15 * 60
    assert (tmp_path / "quick" / "report" / "index.html").is_file()
    start = time.perf_counter()
    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert time.perf_counter() - start < 60 and "30 reused, 0 computed" in res.stderr
