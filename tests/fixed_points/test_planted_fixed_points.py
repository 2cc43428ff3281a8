"""Acceptance with planted truth (issue 15): winner-take-all ReLU networks (every exact fixed
point and its stability), line and plane attractors (one set of dimension 1 / 2), a ring
attractor, an approximate line attractor (a slow manifold), a saturating GRU (only the
isolated points in its box). Truth comes from numpy linear algebra, closed forms, full
enumeration, scipy's root finder or long simulation, never from attractorkit's solver. Each
family has a tuning half and a held-out half (planted.py)."""

import warnings

import numpy as np
import pytest
from fp_planted import (
    GRU_HELD_OUT,
    GRU_TUNE,
    WTA_HELD_OUT,
    WTA_SMALL_HELD_OUT,
    WTA_SMALL_TUNE,
    WTA_TUNE,
    Arc,
    Ring,
    gru_truth,
    linear_attractor,
    saturating_gru,
    wta_truth,
    wta_weights,
)
from fp_systems import relu_fixed_points_reference, same_sets

import attractorkit as ak
from attractorkit.adapters import GRU, VanillaRNN


@pytest.mark.parametrize("seed, n, groups", WTA_TUNE + WTA_HELD_OUT)
def test_winner_take_all_every_fixed_point_and_stability(seed, n, groups):
    W, c, g = wta_weights(n, groups, seed, noise=0.0)
    truth, rho = wta_truth(W, c, g)
    m = VanillaRNN(W, b=c, activation="relu")
    fp = ak.find_fixed_points(m, n_init=256, rng=seed)
    assert same_sets(fp.points, truth, 1e-9)
    assert len(fp) == len(truth) == 2**groups - 1
    D = np.max(np.abs(fp.points[:, None] - truth[None]), axis=2)
    np.testing.assert_array_equal(fp.stable, rho[D.argmin(1)] < 1)
    assert fp.stable.sum() == groups                        # one winner per group
    assert f"{groups} stable point(s), {groups} confirmed" in fp.summary()
    # seeded from a user's trajectories: every state they settle on is a confirmed point
    starts = np.random.default_rng(seed).normal(size=(64, n))
    runs = ak.simulate(m, starts, None, 300).states[0]
    ends = np.unique(np.round(runs[:, -1], 8), axis=0)
    fu = ak.find_fixed_points(m, initial_states=runs[:, :100], n_init=1024, rng=seed)
    D = np.max(np.abs(ends[:, None] - fu.points[None]), axis=2)
    hit = D.argmin(1)
    assert np.all(D.min(1) < 1e-7) and np.all(fu.stable[hit]) and np.all(fu.confirmed[hit])


@pytest.mark.parametrize("seed, n, groups", WTA_SMALL_TUNE + WTA_SMALL_HELD_OUT)
def test_winner_take_all_with_coupling_equals_full_enumeration(seed, n, groups):
    W, c, _ = wta_weights(n, groups, seed, noise=0.3)
    truth = relu_fixed_points_reference(W, c)              # all 2^n patterns, numpy
    m = VanillaRNN(W, b=c, activation="relu")
    fp = ak.find_fixed_points(m, n_init=256, rng=seed)
    assert same_sets(fp.points, truth, 1e-9)
    rho = [np.max(np.abs(np.linalg.eigvals((h @ W.T + c > 0)[:, None] * W))) for h in truth]
    D = np.max(np.abs(fp.points[:, None] - truth[None]), axis=2)
    np.testing.assert_array_equal(fp.stable, np.asarray(rho)[D.argmin(1)] < 1)


@pytest.mark.parametrize("dim, seed", [(1, 0), (2, 0), (1, 1), (2, 1)])
def test_line_and_plane_attractors_are_one_set(dim, seed):
    """30 units, h' = A h with dim eigenvalues 1: the fixed points are the eigenspace (closed
    form); reported as one set of that dimension in a few rows, not one row per seed."""
    A, B = linear_attractor(30, dim, seed)
    fp = ak.find_fixed_points(VanillaRNN(A, activation="identity"), n_init=256, rng=seed)
    assert len(fp.manifolds) == 1 and np.all(fp.manifold == 0) and len(fp) <= 8
    s = fp.manifolds[0]
    assert s.dimension == dim and s.kind == ("line attractor", "plane attractor")[dim - 1]
    assert s.n_points > 50
    np.testing.assert_allclose(fp.points - fp.points @ B @ B.T, 0.0, atol=1e-8)
    # its axes span the eigenspace: principal angles 0
    sv = np.linalg.svd(B.T @ s.axes, compute_uv=False)
    np.testing.assert_allclose(sv, 1.0, atol=1e-8)
    assert np.all(s.extent > 0.5)
    assert f"1 {s.kind} (dimension {dim})" in fp.summary()


@pytest.mark.parametrize("seed", [0, 1])
def test_ring_attractor_is_one_closed_set(seed):
    r = Ring(n=6, seed=seed)
    fp = ak.find_fixed_points(r, n_init=256, rng=seed)
    on = fp.manifold >= 0
    assert len(fp.manifolds) == 1 and fp.manifolds[0].dimension == 1
    ring = fp.manifolds[0]
    assert ring.closed and ring.kind == "ring attractor"      # a closed curve, not a line
    assert "1 ring attractor (dimension 1)" in fp.summary()
    y = fp.points[on] @ r.B
    np.testing.assert_allclose(np.hypot(y[:, 0], y[:, 1]), 1.0, atol=1e-9)   # on the circle
    np.testing.assert_allclose(fp.points[on] - y @ r.B.T, 0.0, atol=1e-9)     # in its plane
    ang = np.sort(np.arctan2(y[:, 1], y[:, 0]))
    assert np.max(np.diff(np.r_[ang, ang[0] + 2 * np.pi])) < np.pi   # spread round it
    iso = fp.points[~on]
    np.testing.assert_allclose(iso, 0.0, atol=1e-10)                 # the origin, unstable
    assert not fp.stable[~on].any()


@pytest.mark.parametrize("seed", [0, 1])
def test_half_ring_is_an_open_curve(seed):
    """Only the lower half of the circle is fixed (a rotation moves the upper half): one set
    of dimension 1 on that arc, open, so a line attractor and not a ring."""
    r = Arc(n=6, seed=seed)
    fp = ak.find_fixed_points(r, n_init=256, rng=seed)
    assert len(fp.manifolds) == 1
    arc = fp.manifolds[0]
    assert arc.dimension == 1 and not arc.closed and arc.kind == "line attractor"
    y = fp.points[fp.manifold == 0] @ r.B
    np.testing.assert_allclose(np.hypot(y[:, 0], y[:, 1]), 1.0, atol=1e-6)
    assert np.all(y[:, 1] <= 1e-3)                                   # on the lower half
    assert np.ptp(y[:, 0]) > 1.5                                     # spread along it
    for line in (1, 2):                                              # lines are open too
        A, _ = linear_attractor(30, line, 0)
        fl = ak.find_fixed_points(VanillaRNN(A, activation="identity"), n_init=128, rng=0)
        assert not fl.manifolds[0].closed


def test_approximate_line_attractor_is_a_slow_manifold():
    """Eigenvalue 1 - 1e-4 along u: one true fixed point (the origin) and a slow direction;
    reported as a slow manifold along u with its q, not as a line of fixed points."""
    eps = 1e-4
    A, B = linear_attractor(30, 1, 2, eps=eps)
    fp = ak.find_fixed_points(VanillaRNN(A, activation="identity"), n_init=256, rng=0)
    assert len(fp) == 1 and np.abs(fp.points).max() < 1e-10 and fp.stable[0]
    s = fp.manifolds[0]
    assert s.kind == "slow manifold" and s.dimension == 1 and s.slow
    np.testing.assert_allclose(abs(float(B[:, 0] @ s.axes[:, 0])), 1.0, atol=1e-8)
    # q along the set grows as (eps s)^2 / 2 out to its extent (closed form)
    half = s.extent[0] / 2
    np.testing.assert_allclose(s.q_max, 0.5 * (eps * half) ** 2, rtol=0.05)
    assert "slow manifold (dimension 1)" in fp.summary()


@pytest.mark.parametrize("seed", GRU_TUNE + GRU_HELD_OUT)
def test_saturating_gru_only_its_isolated_points_in_the_box(seed):
    m = GRU(*saturating_gru(12, seed))
    truth = gru_truth(m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ak.ConvergenceWarning)   # saturated seeds may cap
        fp = ak.find_fixed_points(m, np.zeros(1), n_init=256, rng=seed)
    assert np.all(np.abs(fp.points) <= 1 + 1e-9)                  # nothing outside the box
    conv = fp.points[fp.converged]
    assert same_sets(conv, truth, 1e-8)
    assert fp.n_outside > 0                                       # counted, not listed
