"""Selectivity: unit x variable MI with shuffle p-values, per time bin."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit.information import mutual_information


@pytest.fixture(scope="module")
def task():
    g = np.random.default_rng(1)
    n = 2000
    ctx = g.integers(0, 2, n)
    coh = g.choice([-0.5, -0.1, 0.1, 0.5], n)
    speed = g.normal(size=n)
    act = g.normal(size=(n, 5))
    act[:, 0] += 1.5 * ctx                 # context unit
    act[:, 1] += 2.0 * coh                 # coherence unit
    act[:, 2] = np.maximum(0, act[:, 2] + 1.5 * speed)   # ReLU unit tuned to a continuous var
    act[:, 4] = 0.0                        # a silent unit
    return act, {"context": ctx, "coherence": coh, "speed": speed}


def test_selective_units_found(task):
    act, variables = task
    # Holm over 15 tests would need p <= 0.05 / 15, i.e. > 300 shuffles; BH with 3 true
    # effects needs p <= 0.05 * 3 / 15, which 99 shuffles reach (p = 1 / 100)
    sel = ak.selectivity(act, variables, n_shuffles=99, alpha=0.05, correction="fdr_bh",
                         rng=1)
    assert sel.mi.shape == sel.p_value.shape == (5, 3)
    assert sel.variables == ("context", "coherence", "speed")
    assert sel.discrete.tolist() == [True, True, False]
    assert sel.significant[0, 0] and sel.significant[1, 1] and sel.significant[2, 2]
    assert sel.top_units("context", 1)[0] == 0
    # nothing else is significant (independent units)
    mask = np.ones((5, 3), bool)
    mask[[0, 1, 2], [0, 1, 2]] = False
    assert not sel.significant[mask].any()
    # silent unit: MI exactly 0, p-value 1
    assert np.all(sel.mi[4] == 0) and np.all(sel.p_value[4] == 1)


def test_matches_scalar_estimator(task):
    """The batched engine gives the scalar function's values. Jitter of 1e-10 only decides
    the order of exact ties: none in units 0-1 (equal to 1e-6), half the samples in the
    ReLU unit 2 (there the random tie order moves the estimate by O(1 / sqrt(n)))."""
    act, variables = task
    sel = ak.selectivity(act[:, :3], variables, rng=2)
    for u in range(3):
        for j, v in enumerate(variables.values()):
            ref = mutual_information(act[:, u], v, rng=3)
            assert sel.mi[u, j] == pytest.approx(ref, abs=1e-6 if u < 2 else 0.02)
    gc = ak.selectivity(act[:, :3], variables, method="gcmi")
    for u in range(3):
        for j, v in enumerate(variables.values()):
            assert gc.mi[u, j] == pytest.approx(
                mutual_information(act[:, u], v, method="gcmi"), abs=1e-9)
    assert np.all(np.isnan(sel.p_value)) and not sel.significant.any()


def test_time_bins_and_units(task, tmp_path):
    act, variables = task
    bins = np.repeat(["early", "late"], act.shape[0] // 2)
    sel = ak.selectivity(act[:, :3], variables, time_bins=bins, n_shuffles=19,
                         shuffle="circular", units="bits", correction="fdr_bh", rng=4)
    assert sel.bins.tolist() == ["early", "late"]
    assert sel.mi_by_bin.shape == sel.p_value_by_bin.shape == (2, 3, 3)
    assert np.all(sel.p_adjusted_by_bin >= sel.p_value_by_bin)
    assert sel.mi_by_bin[0, 0, 0] > 0.2   # bits
    back = ak.Selectivity.load(sel.save(tmp_path / "sel"))
    assert ak.results_equal(sel, back)
    assert "context (discrete)" in sel.summary()
    by_epoch = ak.selectivity(act[:, :3], variables, epochs=bins, rng=4)
    assert by_epoch.bins.tolist() == ["early", "late"]
    with pytest.raises(ak.ValidationError, match="not both"):
        ak.selectivity(act[:, :3], variables, epochs=bins, time_bins=bins)


def test_plots(task):
    import matplotlib

    matplotlib.use("Agg")
    act, variables = task
    sel = ak.selectivity(act[:500, :3], {k: v[:500] for k, v in variables.items()},
                         time_bins=np.arange(500) // 250)
    assert sel.plot(sort_by="context") is not None
    assert sel.plot_bins("context") is not None
    with pytest.raises(ak.ValidationError, match="no time bins"):
        ak.selectivity(act[:500, :2], {"c": variables["context"][:500]}).plot_bins("c")


def test_bad_input(task):
    act, variables = task
    with pytest.raises(ak.ValidationError, match=r"variables\['context'\]: expected shape"):
        ak.selectivity(act, {"context": variables["context"][:10]})
    with pytest.raises(ak.ValidationError, match="activity: expected finite"):
        bad = act.copy()
        bad[0, 0] = np.nan
        ak.selectivity(bad, variables)
    with pytest.raises(ak.ValidationError, match="k: expected k < n_samples"):
        ak.selectivity(act[:3], {k: v[:3] for k, v in variables.items()}, k=3)
    with pytest.raises(ak.ValidationError, match="discrete: unknown"):
        ak.selectivity(act, variables, discrete={"nope": True})
    with pytest.raises(ak.ValidationError, match="treats every variable as discrete"):
        ak.selectivity(act, variables, method="mixed", discrete={"speed": False})
    with pytest.raises(ak.ValidationError, match="non-empty dict"):
        ak.selectivity(act, [1, 2])
