"""Per-run pieces: frozen inputs match the task, populations, deterministic files, report."""

import json

import numpy as np
import pytest
from study_fakes import fake_full_compute

from attractorkit.reference_models.study import analysis as an
from attractorkit.reference_models.study import inputs as inp
from attractorkit.reference_models.study import report, runner
from attractorkit.reference_models.study.presets import preset
from attractorkit.reference_models.task import ContextDecisionMaking, task_preset

pytestmark = pytest.mark.study


@pytest.mark.parametrize("name", ["default", "neurogym", "choices3"])
def test_stimulus_inputs_match_the_task_encoding(name):
    cfg = task_preset(name)
    task = ContextDecisionMaking(cfg)
    n_fix, n_stim = inp.period_lengths(cfg)
    for context in (1, 2):
        for c1, c2 in [(15.0, -50.0), (-5.0, 5.0), (50.0, 15.0)]:
            c_rel, c_irr = (c1, c2) if context == 1 else (c2, c1)
            if cfg.n_choices > 2 and (c_rel < 0 or c_irr < 0):
                continue  # away from choice 1 is not a choice with > 2 directions
            gt = 1 if c_rel >= 0 else 2
            other = 1 if c_irr >= 0 else 2
            b = task.sample(1, 0, ground_truth=gt, other_choice=other, context=context - 1,
                            coherence=[abs(c1), abs(c2)], delay=300.0, noise=False)
            x = inp.stimulus_inputs(cfg, context, c1, c2)
            np.testing.assert_allclose(b.observations[0, n_fix], x, atol=1e-6)
            np.testing.assert_allclose(b.observations[0, 0],
                                       inp.period_input(cfg, context, "fixation"), atol=1e-7)
            np.testing.assert_allclose(b.observations[0, n_fix + n_stim],
                                       inp.period_input(cfg, context, "delay"), atol=1e-7)
            np.testing.assert_allclose(b.observations[0, -1],
                                       inp.period_input(cfg, context, "decision"), atol=1e-7)


def test_population_sets_and_balance():
    states = np.zeros((1, 2, 6))
    states[0, 0] = [1, 1, 1, 0, 1, 0]   # choice 1: units 0, 1, 2, 4
    states[0, 1] = [0, 0, 1, 1, 1, 0]   # choice 2: units 2, 3, 4
    pops = an.population_sets(states, 1e-3)
    codes = pops["codes"][0]
    assert list(codes) == [1, 1, 3, 2, 3, 0]
    assert pops["counts"]["G+"][0] == 2 and pops["counts"]["G-"][0] == 1
    assert pops["balance"][0] == pytest.approx(1 - 1 / 3)
    same = an.population_sets(np.ones((1, 2, 4)), 1e-3)
    assert np.isnan(same["balance"][0])   # no unit tells the decisions apart
    assert an.membership_similarity(pops["codes"], pops["codes"]) == 1.0


def test_map_fractions_give_both_bounds():
    axis = np.array([-50.0, 0.0, 50.0])
    labels = np.full((2, 3, 3, 1), "fixed_point", dtype="U16")
    labels[0, 1, :, 0] = "quasi_periodic"    # context 1, c1 = 0 (low relevant coherence)
    labels[1, 0, 0, 0] = "undetermined"      # context 2, c2 = -50 (high)
    f = an.map_fractions(labels, axis, (1, 2), 50.0)
    assert f["fqp_lower"] == pytest.approx(3 / 18) and f["fqp_upper"] == pytest.approx(4 / 18)
    assert f["fqp_ctx1_lower"] == pytest.approx(3 / 9) and f["fqp_ctx2_lower"] == 0
    assert f["fqp_ctx2_upper"] == pytest.approx(1 / 9)
    assert f["fqp_lowcoh_lower"] == pytest.approx(3 / 6) and f["fqp_highcoh_lower"] == 0
    assert f["fqp_highcoh_upper"] == pytest.approx(1 / 12)
    assert f["share_fixed_point"] == pytest.approx(14 / 18)
    u = an.map_fractions(labels, axis, (1, 2), 50.0, prefix="fqp_untrained")
    assert u["fqp_untrained_lower"] == f["fqp_lower"] and "share_fixed_point" not in u
    # the lower bound keeps only confident quasi-periodic labels; the others join the upper
    conf = np.ones(labels.shape)
    conf[0, 1, 0, 0] = 0.7
    c = an.map_fractions(labels, axis, (1, 2), 50.0, confidence=conf)
    assert c["fqp_lower"] == pytest.approx(2 / 18) and c["fqp_upper"] == f["fqp_upper"]
    assert c["fqp_ctx1_lower"] == pytest.approx(2 / 9)
    assert c["fqp_ctx1_upper"] == f["fqp_ctx1_upper"]
    assert c["share_quasi_periodic"] == f["share_quasi_periodic"]


def test_npz_bytes_are_deterministic_and_loadable(tmp_path):
    arrays = {"a": np.arange(5.0), "labels": np.array(["x", "yy"])}
    b1 = an.npz_bytes(arrays)
    assert b1 == an.npz_bytes(dict(reversed(list(arrays.items()))))
    (tmp_path / "x.npz").write_bytes(b1)
    with np.load(tmp_path / "x.npz", allow_pickle=False) as z:
        assert list(z["labels"]) == ["x", "yy"] and z["a"][-1] == 4
    assert json.loads(an.json_bytes({"v": np.float64(np.nan), "i": np.int64(3)})) == {
        "i": 3, "v": None}


def test_report_from_run_directories(tmp_path):
    import dataclasses

    cfg = dataclasses.replace(preset("tiny"), seeds=tuple(range(6)), deltas=(0.05, 0.3),
                              stats=dataclasses.replace(preset("tiny").stats,
                                                        stability_resamples=5))
    runner.run_sweep(cfg, tmp_path, compute=fake_full_compute)
    path = report.write_report(tmp_path, cfg)
    page = path.read_text()
    figures = sorted((path.parent / "figures").glob("*.png"))
    assert page.count("data:image/png;base64,") == len(figures) >= 7
    assert "<script" not in page and "http" not in page.split("<body>")[1]
    assert "threshold sensitivity" in page.lower() and "mi_choice" in page
    claims = json.loads((path.parent / "claims.json").read_text())
    v = {c["id"]: c["verdict"] for c in claims}
    assert v["hybrid_rl"] == "reproduced" and v["sl_fixed_points"] == "reproduced"
    for c in claims:
        assert c["power"] is None or 0 <= c["power"] <= 1
        assert c["stability"] is None or 0 <= c["stability"] <= 1
    md = (path.parent / "claims.md").read_text()
    assert md.count("\n") == len(claims) + 2 and "reproduced" in md
    rows = (path.parent / "networks.csv").read_text().splitlines()
    assert len(rows) == cfg.n_runs + 1
    # the same claims from the table alone, as a later --report-only from networks.csv does
    from attractorkit.reference_models.study.aggregate import read_csv

    again = report.write_report(tmp_path / "from-csv", cfg, table=read_csv(
        (path.parent / "networks.csv").read_text()))
    assert json.loads((again.parent / "claims.json").read_text()) == claims


def test_decision_states_survive_diverging_delay_dynamics():
    from attractorkit.adapters import VanillaRNN

    cfg = task_preset("default")
    n = 6
    U = np.zeros((n, cfg.n_input))
    U[:3, 1] = 1.0     # units 0-2 follow stimulus channel 1 (evidence for choice 1, modality 1)
    U[3:, 2] = 1.0
    settings = preset("tiny").analysis
    grows = VanillaRNN(1.5 * np.eye(n), U, np.zeros(n), activation="relu")
    states, bounded = an.decision_states(grows, cfg, settings)
    assert not bounded.any() and np.all(np.isfinite(states))
    decays = VanillaRNN(0.5 * np.eye(n), U, np.full(n, 0.1), activation="relu")
    states, bounded = an.decision_states(decays, cfg, settings)
    assert bounded.all()
    np.testing.assert_allclose(states[0, 0], 0.2, rtol=1e-6)   # the delay fixed point b/(1-0.5)
