"""The run table: validation, cell summaries (failures counted), CSV round trip."""

import numpy as np
import pytest
from scipy import stats

from attractorkit import ValidationError
from attractorkit.reference_models.study import StatsSettings
from attractorkit.reference_models.study import aggregate as agg
from attractorkit.reference_models.study import simulate as sim

pytestmark = pytest.mark.study

SETTINGS = StatsSettings(n_boot=200, n_perm=200, stability_resamples=0)


def table(n_seeds=5, seed=0):
    return sim.simulate_table(sim.DesignModel(n_seeds=n_seeds), np.random.default_rng(seed))


def test_cell_summaries_count_failures_and_use_t_intervals():
    t = table()
    t["reached_criterion"] = np.ones(len(t["seed"]))
    t["reached_criterion"][:3] = 0.0
    cells = agg.cell_summaries(t, SETTINGS)
    assert len(cells) == 2 * 3 * 2
    assert sum(c["failed"] for c in cells) == 3 and all(c["n"] == 5 for c in cells)
    c = cells[0]
    m = ((t["paradigm"] == c["paradigm"]) & (t["delta"] == c["delta"])
         & (t["complexity"] == c["complexity"]) & (t["reached_criterion"] == 1))
    x = t["fqp_lower"][m]
    lo, hi = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
    assert c["fqp_lower"] == pytest.approx(x.mean())
    assert (c["fqp_lower_low"], c["fqp_lower_high"]) == pytest.approx((lo, hi))
    assert c["fqp_lower_n"] == x.size


def test_csv_round_trip_keeps_the_claims():
    from attractorkit.reference_models.study import evaluate_claims

    t = table(n_seeds=4)
    t["note"] = np.array(["a,b"] * len(t["seed"]))
    back = agg.read_csv(agg.table_csv(t))
    assert set(back) == set(t)
    np.testing.assert_array_equal(back["fqp_lower"], t["fqp_lower"])
    assert list(back["note"]) == list(t["note"])
    assert evaluate_claims(back, SETTINGS) == evaluate_claims(t, SETTINGS)


def test_validate_table():
    t = table(n_seeds=2)
    t["balance"] = t["balance"].reshape(-1, 1)
    with pytest.raises(ValidationError, match="1-D"):
        agg.validate_table(t)
    t = table(n_seeds=2)
    t["accuracy_hard"] = np.array(["x"] * len(t["seed"]))
    with pytest.raises(ValidationError, match="numbers"):
        agg.validate_table(t)
    with pytest.raises(ValidationError, match="mapping"):
        agg.validate_table([1, 2])
