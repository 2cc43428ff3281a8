"""Calibration of the study's tests by simulation of the design under each claim's null.

Tables are simulated with the structure of the ``standard`` preset (3 deltas x 2 complexity
levels x 15 independent initialisations per cell, RL and SL paired on each) and of ``quick``
(2 x 2 x 3); under a claim's null its test must reject at alpha within Monte-Carlo error
(3 standard errors), its interval must cover the true value at the nominal rate, and Holm's
correction must hold the family-wise error rate. The default suite runs 500 simulations per
claim; the slow tests 2000, and the coverage of every interval.
"""

import dataclasses

import numpy as np
import pytest

from attractorkit.reference_models.study import simulate as sim
from attractorkit.reference_models.study.claims import evaluate_claims
from attractorkit.reference_models.study.config import StatsSettings

pytestmark = pytest.mark.study

ALPHA = 0.05
STANDARD = sim.DesignModel(n_seeds=15)
SMALL_CELLS = ("balance_spread", "qp_accuracy_complexity")
QUICK = dataclasses.replace(STANDARD, deltas=(0.1, 0.3), n_seeds=3, n_grid=50)
FAST = StatsSettings(n_perm=99, n_boot=199, stability_resamples=0)


def band(n_sim):
    return 3 * np.sqrt(ALPHA * (1 - ALPHA) / n_sim)


@pytest.mark.parametrize("claim", sim.DIRECTIONAL)
def test_each_test_has_its_size_under_its_null(claim):
    n_sim = 500
    rate = sim.rejection_rates(sim.null_model(STANDARD, claim), FAST, n_sim=n_sim,
                               rng=np.random.default_rng(sum(map(ord, claim))),
                               claims=(claim,))[claim]
    assert abs(rate - ALPHA) <= band(n_sim), rate


def test_boundary_nulls_of_the_equivalence_claims():
    """f_QP(SL) exactly at the margin, and RL - SL accuracy exactly at the margin: the claims
    "below the margin" and "equivalent" are wrongly supported at most alpha of the time."""
    from attractorkit.reference_models.study.claims import claim_estimates

    n_sim = 500
    # the mean share of SL networks (logit-normal, binomial grid) at the margin 0.05
    at_margin = dataclasses.replace(STANDARD, fqp_sl=0.0332, undetermined=0.0)
    big = sim.simulate_table(dataclasses.replace(at_margin, n_seeds=4000),
                             np.random.default_rng(0))
    assert big["fqp_lower"][big["paradigm"] == "sl"].mean() == pytest.approx(0.05, abs=0.002)
    boundary = dataclasses.replace(STANDARD, acc_gap=-0.03)
    rng = np.random.default_rng(1)
    hits = {"sl_fixed_points": 0, "similar_performance": 0}
    for _ in range(n_sim):
        for model, cid in ((at_margin, "sl_fixed_points"), (boundary, "similar_performance")):
            e = claim_estimates(sim.simulate_table(model, rng), FAST, only=(cid,),
                                seed=int(rng.integers(2**31)))[cid]
            hits[cid] += e.p_support < ALPHA
    for cid, h in hits.items():
        assert h / n_sim <= ALPHA + band(n_sim), (cid, h / n_sim)


@pytest.mark.slow
@pytest.mark.parametrize("design", ["standard", "quick"])
def test_sizes_with_2000_simulations(design):
    model = STANDARD if design == "standard" else QUICK
    n_sim = 2000
    # (at 3 per cell the spread and complexity claims are not evaluated: claims.MIN_CELL)
    for claim in [c for c in sim.DIRECTIONAL if design == "standard" or c not in SMALL_CELLS]:
        rate = sim.rejection_rates(sim.null_model(model, claim), FAST, n_sim=n_sim,
                                   rng=np.random.default_rng(7), claims=(claim,))[claim]
        # small cells make the tests conservative (ties, zeros), never liberal
        assert rate <= ALPHA + band(n_sim), (claim, rate)
        if design == "standard":
            assert rate >= ALPHA - band(n_sim), (claim, rate)


@pytest.mark.slow
@pytest.mark.parametrize("design", ["standard", "quick"])
def test_interval_coverage(design):
    """Coverage of every 95% interval at the design's cell sizes (measured values and the
    tolerance for the one interval known to fall short are documented in docs/study.md)."""
    model = STANDARD if design == "standard" else QUICK
    settings = dataclasses.replace(FAST, n_perm=499, n_boot=499)
    truth = sim.true_values(model, settings, rng=np.random.default_rng(5))
    if design == "quick":
        truth = {k: v for k, v in truth.items() if k not in SMALL_CELLS}
    cov = sim.coverage(model, settings, truth=truth, n_sim=1000, rng=np.random.default_rng(6))
    se = 3 * np.sqrt(0.05 * 0.95 / 1000)
    for claim, c in cov.items():
        assert c >= 0.95 - se, (claim, c)


@pytest.mark.slow
def test_holm_holds_the_family_wise_error_rate():
    """Every effect off: the share of simulated studies with any "reproduced" verdict."""
    null = STANDARD
    for claim in sim.DIRECTIONAL:
        null = sim.null_model(null, claim)
    null = dataclasses.replace(null, fqp_sl=0.2, acc_gap=0.1)   # SL and accuracy claims false
    rng = np.random.default_rng(11)
    n_sim, any_hit = 500, 0
    for _ in range(n_sim):
        s = dataclasses.replace(FAST, seed=int(rng.integers(2**31)))
        res = evaluate_claims(sim.simulate_table(null, rng), s)
        any_hit += any(c["verdict"] == "reproduced" for c in res)
    assert any_hit / n_sim <= ALPHA + band(n_sim)


@pytest.mark.slow
def test_power_analysis_against_simulated_studies():
    """The normal-approximation power of study.power (Holm's first-step level, conservative)
    against the share of simulated standard studies, effects at their SESOI, whose verdict is
    "reproduced" (Holm within the main family, both bounds). Measured: hybrid 0.996 vs 1.00,
    qp_delta 0.43 vs 0.58, qp_accuracy 0.32 vs 0.29, balance 0.97 vs 0.99."""
    from attractorkit.reference_models.study import preset
    from attractorkit.reference_models.study.power import design_power

    model = dataclasses.replace(STANDARD, hybrid=0.05, delta_gain=0.05, balance=0.05,
                                rho_acc=0.2, rho_growth=0.0)
    cfg = preset("standard")
    big = sim.simulate_table(dataclasses.replace(model, n_seeds=200), np.random.default_rng(0))
    approx = design_power(big, cfg)
    settings = StatsSettings(n_perm=999, n_boot=500, stability_resamples=0)
    simulated = sim.power(model, settings, n_sim=300, rng=np.random.default_rng(1))
    for claim, a in approx.items():
        s = simulated[claim]["reproduced"]
        assert a["power_at_sesoi"] <= s + 0.1 and s <= a["power_at_sesoi"] + 0.2, (claim, a, s)
