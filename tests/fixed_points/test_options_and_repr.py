"""FixedPointOptions (one place for every option, keyword shortcuts) and the short repr of
every fixed-point result."""

import numpy as np
import pytest
from fp_systems import Logistic, grouped_relu

import attractorkit as ak
from attractorkit.adapters import VanillaRNN
from attractorkit.fixed_points import FixedPointOptions


def test_options_and_keyword_shortcuts_agree():
    m = grouped_relu(32, 2, seed=0, alpha=0.5)
    x = np.array([0.1])
    opt = FixedPointOptions(n_init=64, tol=1e-11, explore=False)
    a = ak.find_fixed_points(m, x, options=opt, rng=0)
    b = ak.find_fixed_points(m, x, n_init=64, tol=1e-11, explore=False, rng=0)
    c = ak.find_fixed_points(m, x, options=FixedPointOptions(n_init=8), n_init=64,
                             tol=1e-11, explore=False, rng=0)   # keywords override options
    assert ak.results_equal(a, b) and ak.results_equal(a, c)
    assert ak.FixedPointOptions is FixedPointOptions
    assert FixedPointOptions().n_init == 256 and FixedPointOptions().replace(tol=1e-6).tol == 1e-6


def test_options_are_validated_and_unknown_names_refused():
    m = VanillaRNN(np.zeros((2, 2)))
    with pytest.raises(ak.ValidationError, match="tolerance"):
        ak.find_fixed_points(m, tolerance=1e-3)
    with pytest.raises(ak.ValidationError, match="n_init"):
        FixedPointOptions(n_init=0)
    with pytest.raises(ak.ValidationError, match="method"):
        FixedPointOptions(method="adam")
    with pytest.raises(ak.ValidationError, match="exact"):
        FixedPointOptions(exact="yes")
    with pytest.raises(ak.ValidationError, match="options"):
        ak.find_fixed_points(m, options={"n_init": 3})
    with pytest.raises(ak.ValidationError, match="region"):
        ak.find_fixed_points(m, region=np.zeros(3))


def test_repr_is_a_short_summary_for_a_250_unit_model():
    m = grouped_relu(250, 5, seed=0, alpha=0.5)
    X = np.array([[0.2], [0.0], [-0.2]])
    fp = ak.find_fixed_points(m, X, n_init=64, rng=0)
    assert len(fp) > 30
    text = repr(fp)
    assert len(text) < 600 and text.startswith(fp.summary()[:60]) and "array(" not in text
    assert "stable point(s)" in text
    assert len(repr(fp.stability)) < 600
    st = ak.linear_stability(m, fp.points, X[fp.condition])
    assert len(repr(st)) < 300
    br = ak.continue_fixed_points(Logistic(with_input=True), np.linspace(2.5, 3.9, 30)[:, None],
                                  initial_states=np.linspace(0.05, 0.95, 20)[:, None],
                                  n_init=20, n_fresh=0, rng=0)
    assert len(repr(br)) < 900 and "array(" not in repr(br)
    cy = ak.find_cycles(Logistic(3.2), period=2, initial_states=np.linspace(0.05, 0.95, 9)[:, None],
                        n_init=9, rng=0)
    assert len(repr(cy)) < 600 and "array(" not in repr(cy)
