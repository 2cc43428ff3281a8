"""attractor_census: shares, basins, regime boundaries, divergent runs, plots, persistence."""

import numpy as np
import pytest
from systems import DiagonalLinear, Hopf, Logistic

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


def test_hopf_census_finds_the_bifurcation():
    mus = np.array([-0.5, -0.2, 0.2, 0.5])
    c = ak.attractor_census(Hopf(dt=0.1), mus[:, None], n_init=2, n_steps=2000,
                            n_transient=1500, axes=[mus], axis_names=["mu"], rng=0)
    assert c.dominant.tolist() == ["fixed_point"] * 2 + ["periodic"] * 2
    assert c.boundary_axis.tolist() == [0] and c.boundary_from[0] == "fixed_point"
    np.testing.assert_allclose(c.boundary_points[0], [0.0])
    np.testing.assert_allclose(c.share.sum(axis=1), 1.0)
    assert c.share_of("periodic").tolist() == [0, 0, 1, 1]
    assert "boundaries along mu: 1 (fixed_point->periodic)" in c.summary()


def test_logistic_grid_shares_basins_and_2d_plot(tmp_path):
    r = np.array([2.8, 3.2, 3.5, 4.0])
    grid = np.c_[np.repeat(r, 1)]
    c = ak.attractor_census(Logistic(), grid, initial_states=[[0.2], [0.45], [0.7]],
                            grid_shape=(2, 2), n_steps=600, n_transient=500, rng=0)
    assert c.share.shape == (4, len(c.labels)) and c.grid_shape == (2, 2)
    assert c.dominant.tolist() == ["fixed_point", "periodic", "periodic", "chaotic"]
    assert c.overall["chaotic"] == pytest.approx(0.25)
    # one attractor per grid point, reached from every initial state
    assert c.n_attractors.tolist() == [1, 1, 1, 1]
    np.testing.assert_allclose(c.basin_shares[:, 0], 1.0)
    # boundaries along both axes of the 2 x 2 grid
    assert set(c.boundary_axis.tolist()) == {0, 1}
    ax = c.plot()
    assert ax is not None and c.plot("periodic") is not None
    back = ak.Census.load(c.save(tmp_path / "census"))
    assert ak.results_equal(c, back)


def test_bistable_basins_are_counted():
    # h' = tanh(3 h): two stable fixed points +-0.995, basins split by the sign of h0
    model = VanillaRNN(np.array([[3.0]]), np.array([[1.0]]))
    c = ak.attractor_census(model, [[0.0], [2.0]], initial_states=[[-1.0], [-0.5], [0.4],
                                                                      [1.0]], rng=0)
    assert c.n_attractors.tolist() == [2, 1]
    np.testing.assert_allclose(c.basin_shares[0, :2], [0.5, 0.5])
    np.testing.assert_allclose(c.basin_shares[1, 0], 1.0)
    ids = c.attractors.attractor_id[0]
    assert ids[0] == ids[1] != ids[2] == ids[3]


def test_divergent_runs_never_crash_a_census():
    model = DiagonalLinear([0.5, 0.5], with_input=True)
    grid = np.array([[0.0, 0.0], [1.0, -1.0], [1e300, 0.0]])  # last one leaves at once
    c = ak.attractor_census(model, grid, n_init=2, rng=0)
    assert c.dominant.tolist() == ["fixed_point", "fixed_point", "divergent"]
    unstable = DiagonalLinear([1.5, 0.2])
    d = ak.attractor_census(unstable, np.zeros((2, 0)), n_init=3, rng=0)
    assert (d.dominant == "divergent").all() and np.isnan(d.basin_shares).all()


def test_bad_input():
    with pytest.raises(ak.ValidationError, match="grid_shape"):
        ak.attractor_census(Logistic(), np.ones((4, 1)), grid_shape=(3, 2))
    with pytest.raises(ak.ValidationError, match="input_grid.*NaN"):
        ak.attractor_census(Logistic(), [[np.nan]])
    with pytest.raises(ak.ValidationError, match="axes"):
        ak.attractor_census(Logistic(), np.ones((4, 1)), axes=[np.arange(3)])
    with pytest.raises(ak.ValidationError, match="inputs"):
        ak.attractor_census(Logistic(), np.ones((4, 2)))


def test_plot_of_a_single_condition_has_a_finite_extent():
    """Regression: a size-1 grid axis gave matplotlib a singular extent (a warning, an error
    under this suite's filterwarnings)."""
    import matplotlib.pyplot as plt

    c = ak.attractor_census(Logistic(), [[2.8]], initial_states=[[0.3], [0.6]], n_steps=300)
    ax = c.plot()
    x0, x1 = ax.get_xlim()
    assert x1 - x0 == pytest.approx(1.0)
    plt.close(ax.figure)
