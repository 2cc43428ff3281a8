"""Poincaré sections: exact planes, interpolation accuracy, automatic planes, map sections."""

import numpy as np
import pytest
from systems import Hopf, TorusFlow

import attractorkit as ak
from attractorkit.attractors import curve_test


def test_circle_crossings_and_return_times():
    t = np.arange(0, 50, 0.01)
    X = np.c_[np.cos(t), np.sin(t), np.zeros_like(t)]
    sec = ak.poincare_section(X, plane=([0, 2, 0], 0.0), dt=0.01)  # y = 0 upward
    np.testing.assert_allclose(sec.points[:, 0], 1.0, atol=2e-5)  # linear: O(dt^2)
    np.testing.assert_allclose(np.diff(sec.times), 2 * np.pi, atol=1e-6)
    both = ak.poincare_section(X, plane=([0, 1, 0], 0.0), direction=0, dt=0.01)
    assert both.n_points == 2 * sec.n_points + 1  # the extra downward crossing at t = 3 pi
    down = ak.poincare_section(X, plane=([0, 1, 0], 0.0), direction=-1, dt=0.01)
    np.testing.assert_allclose(down.points[:, 0], -1.0, atol=2e-5)


def test_hopf_section_radius_and_period_with_hermite():
    mu, om, dt = 0.49, 1.3, 0.1
    hopf = Hopf(omega=om, dt=dt)
    tr = ak.simulate(hopf, [[0.1, 0.0]], [mu], 2000, n_transient=1000)
    X = tr.states[0, 0]
    V = hopf.step(X, [mu])
    lin = ak.poincare_section(X, plane=([0, 1], 0.0), dt=dt)
    her = ak.poincare_section(X, plane=([0, 1], 0.0), dt=dt, velocities=V)
    err_lin = np.abs(lin.points[:, 0] - np.sqrt(mu)).max()
    err_her = np.abs(her.points[:, 0] - np.sqrt(mu)).max()
    assert err_her < 1e-5 < err_lin < 5e-3
    np.testing.assert_allclose(her.return_times(), 2 * np.pi / om, rtol=1e-5)  # RK4 phase


def test_automatic_plane_on_a_torus_gives_the_rotation_number():
    tf = TorusFlow(mu2=0.16, n_extra=3, seed=4, dt=0.1)
    tr = ak.simulate(tf, 0.5 * np.ones(7), None, 12_000, n_transient=500)
    X = tr.states[0, 0]
    sec = ak.poincare_section(X, dt=0.1, velocities=tf.step(X, None))  # normal to PC2
    # one crossing per period of the large oscillator (omega1 = 1)
    assert abs(sec.n_points - 1200 / (2 * np.pi)) <= 2
    ct = curve_test(sec.points)
    assert ct.shift_spread < 0.01 and ct.ring_cv < 0.1
    assert abs(ct.rotation - (np.sqrt(2) - 1)) < 1e-3
    assert sec.coords.shape == (sec.n_points, 2)


def test_map_orbit_and_slab_sections():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    orb = ak.poincare_section(X, kind="orbit")
    assert orb.kind == "orbit" and orb.n_points == 500
    np.testing.assert_array_equal(orb.points, X)
    slab = ak.poincare_section(X, plane=([0, 0, 1], 0.0), kind="slab", slab=0.1)
    assert np.all(np.abs(slab.points[:, 2]) < 1e-12)
    assert slab.n_points == int(np.sum(np.abs(X[:, 2]) <= 0.1))


def test_bad_input_summary_plot_and_round_trip(tmp_path):
    X = np.c_[np.cos(np.arange(100) * 0.1), np.sin(np.arange(100) * 0.1)]
    with pytest.raises(ak.ValidationError, match="states.*at least 2"):
        ak.poincare_section(X[:1])
    with pytest.raises(ak.ValidationError, match="normal vector is zero"):
        ak.poincare_section(X, plane=([0, 0], 0.0))
    with pytest.raises(ak.ValidationError, match="direction"):
        ak.poincare_section(X, direction=2)
    with pytest.raises(ak.ValidationError, match="plane normal"):
        ak.poincare_section(X, plane=([0, 0, 1], 0.0))
    with pytest.raises(ak.ValidationError, match="kind"):
        ak.poincare_section(X, kind="cut")
    sec = ak.poincare_section(X, plane=([0, 1], 0.0), dt=0.1)
    assert sec.summary().startswith("PoincareSection (crossing): 1 points in 2-D")
    assert ak.results_equal(sec, ak.PoincareSection.load(sec.save(tmp_path / "p")))
    assert sec.plot() is not None
