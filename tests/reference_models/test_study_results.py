"""The committed results of the standard study (docs/study/results/) regenerate exactly.

`attractorkit reproduce --preset standard --report-only --out DIR` on a copy of the committed
table (networks.csv and runs.npz, no run directories) must give the committed claims, report
and figures byte for byte, and the committed files must satisfy what the study promises
(N = 250, at least 10 independent initialisations per cell, every claim with a verdict, an
effect, an interval, the power and n). Committed reruns with other seeds
(``docs/study/results/rerun-*/networks.csv``) enter the regeneration through ``--reruns``.
"""

import json
import shutil
from pathlib import Path

import pytest

from attractorkit.cli import main

pytestmark = pytest.mark.study

RESULTS = Path(__file__).parents[2] / "docs" / "study" / "results"
REPORT = RESULTS / "report"
VERDICTS = ("reproduced", "not reproduced", "inconclusive")


def test_committed_results_regenerate_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "results"
    (out / "report").mkdir(parents=True)
    for name in ("networks.csv", "runs.npz"):
        shutil.copy(REPORT / name, out / "report" / name)
    reruns = sorted(str(p) for p in RESULTS.glob("rerun-*") if p.is_dir())
    assert main(["reproduce", "--preset", "standard", "--report-only", "--out", str(out),
                 "--no-progress"] + (["--reruns", *reruns] if reruns else [])) == 0
    assert "runs.npz" in capsys.readouterr().err
    for name in ("claims.json", "claims.md", "study.json", "networks.csv", "index.html"):
        assert (out / "report" / name).read_bytes() == (REPORT / name).read_bytes(), name
    committed = sorted(p.name for p in (REPORT / "figures").glob("*.png"))
    assert committed and committed == sorted(
        p.name for p in (out / "report" / "figures").glob("*.png"))
    for name in committed:
        assert ((out / "report" / "figures" / name).read_bytes()
                == (REPORT / "figures" / name).read_bytes()), name


def test_committed_results_meet_the_design():
    from attractorkit.reference_models.study.aggregate import read_csv

    table = read_csv((REPORT / "networks.csv").read_text())
    assert (REPORT / "networks.csv").stat().st_size <= 5 * 2**20
    for col in ("paradigm", "delta", "complexity", "seed", "n_hidden", "accuracy",
                "trials_to_criterion", "fqp_lower", "fqp_upper", "fqp_untrained_lower",
                "fqp_untrained_upper", "balance"):
        assert col in table, col
    assert set(table["n_hidden"]) == {250.0}
    cells = {}
    for p, d, c, s in zip(table["paradigm"], table["delta"], table["complexity"],
                          table["seed"]):
        cells.setdefault((p, d, c), set()).add(s)
    assert min(len(s) for s in cells.values()) >= 10
    claims = json.loads((REPORT / "claims.json").read_text())
    assert isinstance(claims, list) and len(claims) >= 8
    reruns = [p for p in RESULTS.glob("rerun-*") if p.is_dir()]
    for c in claims:
        assert c["verdict"] in VERDICTS
        assert c["n_reruns"] == len(reruns)   # every committed rerun enters the verdicts
        for key in ("claim", "effect", "ci_low", "ci_high", "power", "n", "test"):
            assert c[key] is not None, (c["claim"], key)
        assert c["ci_low"] <= c["effect"] <= c["ci_high"] or c["id"] in (
            "qp_accuracy_complexity",), c["claim"]
    run = json.loads((RESULTS / "run.json").read_text())
    assert run["command"].startswith("attractorkit reproduce --preset standard")
    assert run["cores"] == 2 and run["wall_time_s"] > 0 and len(run["revision"]) == 40
