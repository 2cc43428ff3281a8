"""Verdicts come from the data: synthetic run tables with, without and against each effect."""

import numpy as np
import pytest
from attractorkit.reference_models.study import aggregate as agg
from attractorkit.reference_models.study.config import StatsSettings

from attractorkit.core._errors import ValidationError

pytestmark = pytest.mark.study

SETTINGS = StatsSettings(n_boot=400, n_perm=400)
DELTAS = (0.05, 0.1, 0.15)
LEVELS = ("easy", "hard")


def synthetic(*, hybrid=1.0, delta=1.0, low=1.0, corr=1.0, corr_growth=1.0, balance=1.0,
              spread=1.0, acc_gap=0.0, n_seeds=12, seed=0):
    """A run table; each keyword scales one effect (1: present, 0: absent, -1: reversed)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in ("rl", "sl"):
        for d_i, d in enumerate(DELTAS):
            for c_i, c in enumerate(LEVELS):
                for s in range(n_seeds):
                    rows.append((p, d, d_i, c, c_i, s))
    paradigm = np.array([r[0] for r in rows])
    d_i = np.array([r[2] for r in rows], dtype=float)
    c_i = np.array([r[4] for r in rows], dtype=float)
    rl = paradigm == "rl"
    n = len(rows)
    f_base = 0.25 + 0.1 * delta * (d_i - 1) + 0.04 * rng.standard_normal(n)
    f_qp = np.where(rl, f_base * (hybrid if hybrid >= 0 else 1.0),
                    np.abs(0.01 * rng.standard_normal(n)))
    if hybrid < 0:  # reversed: SL has the QP attractors
        f_qp = np.where(rl, np.abs(0.01 * rng.standard_normal(n)), f_base)
    f_qp = np.clip(f_qp, 0, 1)
    split = 0.15 * low
    f_low = np.clip(f_qp + split, 0, 1)
    f_high = np.clip(f_qp - split, 0, 1)
    # accuracy: slope on f_QP grows with complexity when corr_growth > 0
    slope = corr * (0.3 + 0.6 * corr_growth * c_i) if corr_growth >= 0 else \
        corr * (0.9 - 0.6 * c_i)
    centred = np.where(rl, f_qp - 0.25, 0.0)
    accuracy = 0.9 + slope * centred + 0.02 * rng.standard_normal(n)
    accuracy = accuracy - np.where(rl, 0.0, acc_gap)
    bal_rl = 0.85 + 0.03 * rng.standard_normal(n)
    sd_sl = 0.03 + 0.15 * max(spread, 0)
    bal_sl = 0.85 - 0.2 * balance + sd_sl * rng.standard_normal(n)
    if spread < 0:
        bal_rl = 0.85 - 0.2 * balance + 0.18 * rng.standard_normal(n)
        bal_sl = 0.85 + 0.03 * rng.standard_normal(n) - 0.2 * balance
    bal = np.clip(np.where(rl, bal_rl, bal_sl), 0, 1)
    return {
        "paradigm": paradigm, "delta": np.array([r[1] for r in rows]),
        "complexity": np.array([r[3] for r in rows]), "seed": np.array([r[5] for r in rows]),
        "accuracy": accuracy, "f_qp": f_qp, "f_qp_low": f_low, "f_qp_high": f_high,
        "balance": bal,
    }


def verdicts(table):
    return {c["id"]: c["verdict"] for c in agg.evaluate_claims(table, SETTINGS,
                                                               complexities=LEVELS)}


def test_all_effects_present_are_all_reproduced():
    v = verdicts(synthetic())
    assert set(v) == set(agg.CLAIMS)
    assert all(x == "reproduced" for x in v.values()), v


@pytest.mark.parametrize("claim, kw", [
    ("hybrid_rl", "hybrid"),
    ("qp_delta", "delta"),
    ("qp_low_coherence", "low"),
    ("qp_accuracy", "corr"),
    ("qp_accuracy_complexity", "corr_growth"),
    ("balance", "balance"),
    ("balance_spread", "spread"),
])
def test_each_directional_claim_flips_with_its_effect(claim, kw):
    assert verdicts(synthetic())[claim] == "reproduced"
    assert verdicts(synthetic(**{kw: 0.0}))[claim] != "reproduced"
    assert verdicts(synthetic(**{kw: -1.0}))[claim] == "not reproduced"


def test_sl_fixed_point_claim_and_performance_equivalence_flip():
    assert verdicts(synthetic(hybrid=-1.0))["sl_fixed_points"] == "not reproduced"
    v = verdicts(synthetic(acc_gap=0.15))
    assert v["similar_performance"] == "not reproduced"
    assert verdicts(synthetic())["similar_performance"] == "reproduced"


def test_unrelated_verdicts_do_not_move():
    base = verdicts(synthetic())
    moved = verdicts(synthetic(balance=-1.0))
    for cid in ("hybrid_rl", "sl_fixed_points", "qp_delta", "qp_low_coherence"):
        assert moved[cid] == base[cid]


def test_too_few_networks_is_inconclusive():
    t = synthetic(n_seeds=12)
    keep = t["seed"] < 1
    small = {k: v[keep & (t["delta"] == 0.05) & (t["complexity"] == "easy")]
             for k, v in t.items()}
    v = verdicts(small)
    assert set(v.values()) == {"inconclusive"}


def test_claims_are_deterministic_and_carry_numbers():
    a = agg.evaluate_claims(synthetic(), SETTINGS)
    b = agg.evaluate_claims(synthetic(), SETTINGS)
    assert a == b
    for c in a:
        assert c["estimate"]["n"] > 0 and c["reason"] and c["test"] and c["paper"]


def test_cell_summaries():
    cells = agg.cell_summaries(synthetic(n_seeds=5), SETTINGS)
    assert len(cells) == 2 * len(DELTAS) * len(LEVELS)
    assert all(c["n"] == 5 for c in cells)
    rl = [c for c in cells if c["paradigm"] == "rl"]
    assert all(c["f_qp_low"] <= c["f_qp"] <= c["f_qp_high"] for c in rl)


def test_bad_tables_are_refused():
    t = synthetic(n_seeds=2)
    del t["balance"]
    with pytest.raises(ValidationError, match="balance"):
        agg.evaluate_claims(t, SETTINGS)
    t = synthetic(n_seeds=2)
    t["f_qp"] = t["f_qp"][:-1]
    with pytest.raises(ValidationError, match="length"):
        agg.evaluate_claims(t, SETTINGS)


def test_claims_use_only_networks_that_reached_the_criterion():
    """Untrained SL networks at chance (f_QP 0.9, accuracy 0.5) would flip the SL claims; with
    ``criterion_only`` (the default) they are left out, exactly as if they were not there."""
    import dataclasses

    t = synthetic()
    t["reached_criterion"] = np.ones(len(t["seed"]), dtype=float)
    bad = (t["paradigm"] == "sl") & (t["seed"] < 4)
    polluted = {k: v.copy() for k, v in t.items()}
    polluted["f_qp"][bad], polluted["accuracy"][bad] = 0.9, 0.5
    polluted["reached_criterion"][bad] = 0.0
    clean = {k: v[~bad] for k, v in t.items()}
    assert verdicts(polluted) == verdicts(clean)
    assert agg.evaluate_claims(polluted, SETTINGS) == agg.evaluate_claims(clean, SETTINGS)
    everything = dataclasses.replace(SETTINGS, criterion_only=False)
    v_all = {c["id"]: c["verdict"] for c in agg.evaluate_claims(polluted, everything)}
    assert v_all["sl_fixed_points"] != "reproduced"
    with pytest.raises(ValidationError, match="criterion_only"):
        StatsSettings(criterion_only="yes").validate()
