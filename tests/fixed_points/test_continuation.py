"""continue_fixed_points: branches, folds, flips, Neimark-Sacker and Hopf crossings."""

import numpy as np
import pytest
from fp_systems import Hopf, Logistic, ScaledRotation

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


def test_fold_of_a_bistable_unit():
    # h' = tanh(2h + x): three fixed points for |x| < x_c = atanh(1/sqrt 2) - sqrt 2 ~ 0.5328
    m = VanillaRNN(np.array([[2.0]]), U=np.array([[1.0]]), activation="tanh")
    xs = np.linspace(-1, 1, 21)[:, None]
    br = ak.continue_fixed_points(m, xs, n_init=32, n_fresh=48, n_steps=20, rng=0)
    assert br.n_branches == 3
    app = br.event_kind == "appear"
    van = br.event_kind == "vanish"
    assert app.sum() == 2 and van.sum() == 2
    xc = np.arctanh(1 / np.sqrt(2)) - np.sqrt(2)
    # the fold lies between the last condition with and the first without the pair
    for k in br.event_condition[app]:
        assert xs[k - 1, 0] < xc <= xs[k, 0] or xs[k - 1, 0] < -abs(xc) <= xs[k, 0]
    for k in br.event_condition[van]:
        assert xs[k - 1, 0] <= abs(xc) < xs[k, 0]
    assert np.all(br.event_crossing[app | van] == "real +1")
    # the middle branch is unstable, the outer ones stable, wherever they exist
    for b in range(3):
        sel = br.branch == b
        mid = np.abs(br.points[sel, 0]) < 1 / np.sqrt(2)
        np.testing.assert_array_equal(br.stable[sel], ~mid)
    assert np.all(br.q < 1e-20)


def test_flip_of_the_logistic_map():
    rs = np.linspace(2.65, 3.45, 9)[:, None]
    S = np.linspace(0.05, 0.95, 20)[:, None]
    br = ak.continue_fixed_points(Logistic(with_input=True), rs, initial_states=S, n_init=20,
                                  n_fresh=0, rng=0)
    ev = br.event_kind == "stability"
    assert ev.sum() == 1
    k = br.event_condition[ev][0]
    assert rs[k - 1, 0] < 3.0 < rs[k, 0]          # x* = 1 - 1/r loses stability at r = 3
    assert br.event_crossing[ev][0] == "real -1"


def test_neimark_sacker_and_hopf():
    br = ak.continue_fixed_points(ScaledRotation(), np.linspace(0.81, 1.21, 9)[:, None],
                                  initial_states=np.zeros((1, 2)), n_init=1, n_fresh=0, rng=0)
    ev = br.event_kind == "stability"
    assert ev.sum() == 1 and br.event_crossing[ev][0] == "complex pair"
    hb = ak.continue_fixed_points(Hopf(with_input=True), np.linspace(-0.45, 0.55, 11)[:, None],
                                  initial_states=np.zeros((1, 2)), n_init=1, n_fresh=0, rng=0)
    ev = hb.event_kind == "stability"
    assert ev.sum() == 1 and hb.event_crossing[ev][0] == "hopf pair"
    assert "stable focus -> unstable focus" in hb.event_detail[ev][0]


def test_bad_input_roundtrip_and_plot(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    m = VanillaRNN(np.array([[2.0]]), U=np.array([[1.0]]), activation="tanh")
    with pytest.raises(ak.ValidationError, match="at least 2"):
        ak.continue_fixed_points(m, np.zeros((1, 1)))
    with pytest.raises(ak.ValidationError, match="inputs"):
        ak.continue_fixed_points(m, np.zeros((3, 2)))
    br = ak.continue_fixed_points(m, np.linspace(-0.2, 0.2, 3)[:, None], n_init=16, rng=0)
    back = ak.FixedPointBranches.load(br.save(tmp_path / "b"))
    assert ak.results_equal(br, back)
    assert "branch" in br.summary()
    assert br.plot(axis=np.linspace(-0.2, 0.2, 3)) is not None
