"""Census bounds on the quasi-periodic share, their sensitivity to the thresholds of the rules,
re-decision from stored evidence, and the audit of a census by longer runs."""

import numpy as np
import pytest
from systems import Hopf, Logistic, Rotation, random_rnn

import attractorkit as ak
from attractorkit.attractors import (
    ClassifierThresholds,
    audit_census,
    qp_share_bounds,
    relabel,
    threshold_sensitivity,
)

GOLDEN = (np.sqrt(5) - 1) / 2


@pytest.fixture(scope="module")
def rotation_census():
    omegas = np.array([0.25, GOLDEN, 0.1, np.sqrt(2) - 1])
    return ak.attractor_census(Rotation(), omegas[:, None], initial_states=[[0.5, 0.0],
                                                                            [0.0, 1.5]],
                               rng=0)


def test_quasi_periodic_share_bounds(rotation_census):
    c = rotation_census
    lab, conf = c.attractors.label, c.attractors.confidence
    assert lab[[0, 2]].tolist() == [["periodic"] * 2] * 2
    assert lab[[1, 3]].tolist() == [["quasi_periodic"] * 2] * 2, c.attractors.reason
    # the bounds by their definition, from the labels and confidences
    lower = ((lab == "quasi_periodic") & (conf >= 0.9)).mean(axis=1)
    upper = np.isin(lab, ["quasi_periodic", "undetermined"]).mean(axis=1)
    np.testing.assert_array_equal(c.qp_lower, lower)
    np.testing.assert_array_equal(c.qp_upper, upper)
    assert c.qp_bounds == (lower.mean(), upper.mean()) == (0.5, 0.5)
    assert "quasi-periodic share: [50.0%, 50.0%]" in c.summary()
    # an undetermined run widens the upper bound only
    lab2 = lab.copy()
    lab2[0, 0] = "undetermined"
    lo, hi = qp_share_bounds(lab2, conf)
    assert lo.tolist() == lower.tolist() and hi.tolist() == [0.5, 1.0, 0.0, 1.0]


def test_sensitivity_table_moves_with_the_rules_it_varies(rotation_census):
    s = rotation_census.sensitivity
    assert len(s.names) == 13 and s.factors == (0.5, 2.0) and s.lower.shape == (13, 2)
    assert s.base == rotation_census.qp_bounds
    k = s.names.index("line_fraction")
    # a line fraction of 1.8 is never reached: no run is quasi-periodic any more, the two
    # become undetermined (the upper bound keeps them)
    assert s.lower[k, 1] == 0.0 and s.upper[k, 1] == 0.5
    # periods fit 16 times or more here: halving min_repeats changes nothing
    j = s.names.index("min_repeats")
    assert s.lower[j, 0] == 0.5 and s.upper[j, 0] == 0.5
    assert "| line_fraction | [50.0%, 50.0%] | [0.0%, 50.0%] |" in s.table()
    assert s.range() == (0.0, 0.5) and "line_fraction" in s.summary()


def test_relabel_reproduces_the_labels_and_follows_the_thresholds():
    """Re-deciding on the stored evidence with the classification's thresholds gives its
    labels and confidences, for maps and flows, settled and slow runs; other thresholds change
    them as the rules say."""
    from attractorkit.adapters import VanillaRNN

    r, w = 0.997, 2.1
    focus = VanillaRNN(r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]]),
                       activation="identity")
    runs = [
        ak.classify_attractors(Rotation(), [[0.25], [GOLDEN]], initial_states=[[0.5, 0.0]],
                               rng=0),
        ak.classify_attractors(random_rnn(30, 3.0, seed=1), None, n_init=2, n_steps=1000,
                               rng=0),
        ak.classify_attractors(focus, None, initial_states=[[1.0, 0.0]], n_steps=600,
                               n_transient=200, rng=0),
        ak.classify_attractors(Hopf(dt=0.1), [[-0.3], [0.5]], n_init=1, n_steps=1000, rng=0),
    ]
    assert {lab for a in runs for lab in a.label.ravel()} >= {"periodic", "quasi_periodic",
                                                              "chaotic", "fixed_point"}
    assert "slow convergence" in runs[2].reason[0, 0]
    for a in runs:
        lab, conf = relabel(a, ClassifierThresholds())
        np.testing.assert_array_equal(lab, a.label)
        np.testing.assert_array_equal(conf, a.confidence)
    lg = ak.classify_attractors(Logistic(), [[3.2], [3.9]], initial_states=[[0.3]], rng=0)
    assert lg.label.ravel().tolist() == ["periodic", "chaotic"]
    # a zero band of 0.6 per step swallows the logistic map's exponent (~0.5): no chaos
    lab, _ = relabel(lg, {"zero_abs": 0.6})
    assert lab.ravel().tolist() == ["periodic", "undetermined"]


def test_census_round_trip_keeps_bounds_and_options(tmp_path, rotation_census):
    back = ak.Census.load(rotation_census.save(tmp_path / "c"))
    assert ak.results_equal(back, rotation_census)
    assert back.options["n_steps"] == 2000 and back.options["thresholds"]["min_repeats"] == 5
    assert back.sensitivity.table() == rotation_census.sensitivity.table()


class CapturedLogistic:
    """x' = r x (1 - x) for x >= 0, x' = x / 2 - 1/4 for x < 0 (input r): for r slightly above
    4 orbits leave [0, 1] after a chaotic transient and settle on the fixed point -1/2."""

    n_state, n_input, time, dt = 1, 1, "discrete", None

    def step(self, h, x):
        h = np.atleast_2d(h)
        return np.where(h < 0, 0.5 * h - 0.25, np.asarray(x)[:, :1] * h * (1.0 - h))

    def jacobian(self, h, x):
        h = np.atleast_2d(h)
        return np.where(h < 0, 0.5, np.asarray(x)[:, :1] * (1.0 - 2.0 * h))[:, :, None]

    def input_jacobian(self, h, x):
        h = np.atleast_2d(h)
        return np.where(h < 0, 0.0, h * (1.0 - h))[:, :, None]


def _escape_step(r, x, n_max):
    for t in range(n_max):
        if x < 0:
            return t
        x = r * x * (1.0 - x)
    return n_max


def test_audit_holds_on_settled_labels_and_catches_a_chaotic_transient():
    c = ak.attractor_census(Logistic(), [[2.8], [3.2], [3.5], [3.9]],
                            initial_states=[[0.3], [0.6]], n_steps=300, n_transient=300, rng=0)
    audit = c.audit(Logistic(), n_conditions=3, factor=4, rng=1)
    assert audit.conditions.size == 3 and audit.held.shape == (3, 2)
    assert audit.share_held == 1.0 and audit.transitions() == {}
    assert "6/6 labels held (100.0%)" in audit.summary()
    # starts whose chaotic transient (the same arithmetic as the model's) outlasts a short run
    # of 100 + 200 steps but ends within 2000 + 4000
    r = 4.0 * (1 + 2e-6)
    starts = [x for x in np.linspace(0.1, 0.9, 41) if 400 < _escape_step(r, x, 6000) < 5000]
    assert len(starts) >= 2
    model = CapturedLogistic()
    short = ak.attractor_census(model, [[r]], initial_states=np.array(starts[:2])[:, None],
                                n_steps=200, n_transient=100, max_extensions=0, rng=0)
    assert (short.attractors.label == "chaotic").all(), short.attractors.reason
    long = audit_census(model, short, factor=20, rng=0)
    assert long.share_held == 0.0 and (long.audited == "fixed_point").all()
    assert long.transitions() == {("chaotic", "fixed_point"): 2}
    np.testing.assert_allclose(long.attractors.location, -0.5)


def test_audit_refuses_a_census_without_options():
    import dataclasses

    c = ak.attractor_census(Logistic(), [[2.8]], initial_states=[[0.3]], rng=0)
    old = dataclasses.replace(c, options=None)
    with pytest.raises(ak.ValidationError, match="census"):
        audit_census(Logistic(), old)
    with pytest.raises(ak.ValidationError, match="factor"):
        c.audit(Logistic(), factor=0)


def test_threshold_sensitivity_of_a_classification():
    a = ak.classify_attractors(Rotation(), [[GOLDEN]], initial_states=[[0.5, 0.0]], rng=0)
    s = threshold_sensitivity(a)
    assert s.base == (1.0, 1.0)
    k = s.names.index("dim_tol")
    assert s.lower[k].tolist() == [1.0, 1.0]  # a circle's dimension is 1 within 0.17
