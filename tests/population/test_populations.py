"""Populations, balance, participation ratio, PCA trajectories, crystallisation."""

import numpy as np
import pytest

import attractorkit as ak


def test_populations_default_definition(tmp_path):
    plus = np.array([1.0, 0.0, 2.0, 0.0, 0.5, 0.0])
    minus = np.array([0.0, 1.0, 3.0, 0.0, 0.0, 0.0])
    pops = ak.populations(plus, minus)
    assert pops.labels.tolist() == ["G_+", "G_-", "G_a", "G_s", "G_+", "G_s"]
    assert pops.counts == {"G_+": 2, "G_-": 1, "G_a": 1, "G_s": 2}
    assert pops.balance == pytest.approx(1 - 1 / 3)
    assert pops.fractions["G_s"] == pytest.approx(2 / 6)
    assert pops.mask("G_a").tolist() == [False, False, True, False, False, False]
    assert ak.results_equal(pops, ak.Populations.load(pops.save(tmp_path / "p")))
    # threshold and batches of states (time average over a cycle)
    assert ak.populations(plus, minus, threshold=0.7).counts["G_+"] == 1
    cyc = np.stack([plus, plus * 3])
    assert ak.populations(cyc, minus).counts == pops.counts


def test_populations_pluggable_definition():
    def by_preference(sp, sm, threshold):
        return np.where(sp > sm + threshold, "G_+", np.where(sm > sp + threshold, "G_-",
                                                             "G_s"))

    pops = ak.populations([2.0, 0.0, 1.0], [0.0, 2.0, 1.0], definition=by_preference)
    assert pops.labels.tolist() == ["G_+", "G_-", "G_s"] and pops.balance == 1.0
    assert pops.definition == "by_preference"
    with pytest.raises(ak.ValidationError, match="definition: expected labels"):
        ak.populations([1.0], [0.0], definition=lambda a, b, threshold: np.array(["X"]))
    with pytest.raises(ak.ValidationError, match="state_minus: expected shape"):
        ak.populations([1.0, 2.0], [0.0])


def test_balance_index_and_summary():
    assert ak.balance_index(5, 5) == 1.0
    assert ak.balance_index(10, 0) == 0.0
    assert np.isnan(ak.balance_index(0, 0))
    assert np.allclose(ak.balance_index([3, 1], [1, 1]), [0.5, 1.0])
    nets = [ak.populations(np.r_[np.ones(a), np.zeros(b)], np.r_[np.zeros(a), np.ones(b)])
            for a, b in [(5, 5), (6, 4), (2, 8)]]
    summ = ak.balance_summary(nets)
    assert summ.balance.tolist() == pytest.approx([1.0, 0.8, 0.4])
    assert summ.balance_mean == pytest.approx(2.2 / 3)
    assert summ.balance_std == pytest.approx(np.std([1.0, 0.8, 0.4], ddof=1))
    assert summ.fractions.shape == (3, 4)
    assert "3 networks" in summ.summary()


def test_participation_ratio_known_spectra():
    g = np.random.default_rng(0)
    iso = g.normal(size=(20000, 5))
    assert ak.participation_ratio(iso) == pytest.approx(5, rel=0.02)
    one = np.outer(g.normal(size=1000), g.normal(size=6))
    assert ak.participation_ratio(one) == pytest.approx(1.0)
    two = g.normal(size=(20000, 2)) * [1.0, np.sqrt(3.0)]  # eigenvalues 1, 3 -> 16 / 10
    assert ak.participation_ratio(two) == pytest.approx(1.6, rel=0.02)


def test_pca_trajectories():
    t = np.linspace(0, 2 * np.pi, 50)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1) @ np.array([[1.0, 0, 1, 0],
                                                                  [0, 1.0, 0, -1]])
    trials = np.stack([circle, -circle, 2 * circle, -2 * circle])
    pca = ak.pca_trajectories(trials, conditions=["a", "b", "a", "b"], n_components=3)
    assert pca.projections.shape == (2, 50, 3)
    assert pca.explained_variance_ratio[:2].sum() == pytest.approx(1.0, abs=1e-6)
    assert pca.participation_ratio == pytest.approx(2.0, rel=0.01)
    assert pca.conditions.tolist() == ["a", "b"]
    import matplotlib

    matplotlib.use("Agg")
    assert pca.plot() is not None


def test_crystallization_from_score_curve():
    score = np.array([0.5, 0.6, 0.95, 0.7, 0.92, 0.96, 1.0])
    res = ak.crystallization_time(score, times=np.arange(7) * 0.1)
    assert res.index == 4 and res.time == pytest.approx(0.4)   # 0.92 >= 0.9, 0.7 is not
    above_chance = ak.crystallization_time(score, baseline=0.5)  # level 0.95
    assert above_chance.index == 5
    assert ak.crystallization_time(np.array([1.0, 0.1])).index == 0  # never below 0.09
    assert ak.crystallization_time(np.array([0.05, 0.1])).index == 1


def test_crystallization_from_activity():
    """Choice information appears at step 5 of 10 and persists."""
    g = np.random.default_rng(1)
    n_trials, n_steps = 120, 10
    choice = g.integers(0, 2, n_trials)
    act = g.normal(size=(n_trials, n_steps, 4))
    act[:, 5:, 0] += 3.0 * (2 * choice[:, None] - 1)
    for measure in ("decoder", "mi"):
        res = ak.crystallization_time(act, choice, measure=measure, baseline=0.5 if
                                      measure == "decoder" else 0.0, rng=0)
        assert res.index == 5, measure
