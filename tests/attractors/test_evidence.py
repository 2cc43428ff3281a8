"""The evidence functions of the classifier (its public lower layer) against closed forms and
the plain constructions their fast paths replace."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from attractorkit.attractors import (
    correlation_dimension,
    curve_test,
    exact_period,
    rational_distance,
    spectral_lines,
    stationarity,
)
from attractorkit.core import pca_axes


def _golden_curve(rng, n=1000, d=20, noise=0.0):
    th = 2 * np.pi * np.mod(0.1 + np.arange(n) * (np.sqrt(5) - 1) / 2, 1.0)  # a rotation
    P = np.c_[np.cos(th), 0.5 * np.sin(th), 0.05 * np.cos(2 * th)] @ rng.standard_normal((3, d))
    return P + noise * rng.standard_normal(P.shape)


def _reduce(P, k):
    """P centred on its first k principal axes with variance > 1e-18 of the first (>= 2)."""
    C = P - P.mean(0)
    V, var = pca_axes(C, k)
    keep = max(2, int(np.sum(var > 1e-18 * var[0])))
    return C @ V[:keep].T


def test_sparse_eigenmap_and_sort_free_dimension_match_their_references():
    """curve_test's sparse eigensolver against the dense one; correlation_dimension's counts
    against counts over the fully sorted distances."""
    rng = np.random.default_rng(3)
    curve = _golden_curve(rng)
    noise = rng.standard_normal((1000, 6))
    for P in (curve, noise):
        ref, fast = curve_test(P, dense=True), curve_test(P)
        assert ref.connected == fast.connected
        for key in ("ring_cv", "gap_ratio"):
            np.testing.assert_allclose(getattr(fast, key), getattr(ref, key), rtol=1e-6)
        # rank statistics: near-tied angles may swap order between eigensolvers (the
        # thresholds on them are >= 0.02 and rational_tol 2e-5 on distances of ~1e-2)
        for key in ("rotation", "shift_spread"):
            np.testing.assert_allclose(getattr(fast, key), getattr(ref, key), atol=1e-4)
        idx = np.random.default_rng(0).choice(P.shape[0], size=400, replace=False)
        D = pdist(_reduce(P[idx], 20))
        D = np.sort(D[D > 0])
        r = np.geomspace(*np.quantile(D, [0.005, 0.1]), 10)
        C = np.searchsorted(D, r, side="right") / D.size
        np.testing.assert_allclose(correlation_dimension(P),
                                   np.polyfit(np.log(r), np.log(C), 1)[0], rtol=1e-9)
    assert curve_test(curve[:10]).connected is False
    assert np.isnan(correlation_dimension(curve[:20]))


def test_curve_test_reads_the_rotation_number_and_rejects_clouds():
    rng = np.random.default_rng(4)
    ct = curve_test(_golden_curve(rng, n=400, d=50))
    assert ct.connected and ct.ring_cv < 0.1 and ct.shift_spread < 0.005  # ranks: ~1/N
    assert abs(ct.rotation - (1 - (np.sqrt(5) - 1) / 2)) < 1e-4  # folded into [0, 0.5]
    cloud = curve_test(rng.standard_normal((400, 5)))
    assert cloud.shift_spread > 0.05 or cloud.ring_cv > 0.25


def test_evidence_on_the_axes_of_the_whole_orbit():
    """curve_test and correlation_dimension given the principal axes of the whole point set:
    the same numbers when the block is the whole set, close ones on an orbit."""
    rng = np.random.default_rng(3)
    orbit = _golden_curve(rng, d=40, noise=1e-3)
    for P, rtol in ((orbit[:300], 1e-9), (orbit, 0.05)):
        axes = pca_axes(P - P.mean(0), 20)
        own, shared = curve_test(P), curve_test(P, axes=axes)
        assert own.connected and shared.connected
        for key in ("ring_cv", "shift_spread", "gap_ratio", "rotation"):
            np.testing.assert_allclose(getattr(shared, key), getattr(own, key), rtol=rtol,
                                       atol=1e-12)
        np.testing.assert_allclose(correlation_dimension(P, axes=axes),
                                   correlation_dimension(P), rtol=max(rtol, 1e-6))


@pytest.mark.parametrize("dim", [1, 2])
def test_correlation_dimension_of_a_torus(dim):
    rng = np.random.default_rng(dim)
    th = rng.uniform(0, 2 * np.pi, (4000, dim))
    P = np.concatenate([np.c_[np.cos(t), np.sin(t)] for t in th.T], axis=1)
    P = P @ np.linalg.qr(rng.standard_normal((40, 40)))[0][: 2 * dim]
    assert abs(correlation_dimension(P) - dim) < 0.2


def test_full_and_subset_principal_axes_agree():
    rng = np.random.default_rng(8)
    for n, d, k in ((1000, 40, 20), (300, 60, 10), (30, 50, 5), (500, 8, 20)):
        X = rng.standard_normal((n, d)) * np.geomspace(1.0, 1e-3, d)
        C = X - X.mean(0)
        (V1, w1), (V2, w2) = pca_axes(C, k), pca_axes(C, k, solver="full")
        assert V1.shape == V2.shape == (min(k, d), d) and w1.shape == w2.shape
        np.testing.assert_allclose(w2, w1, rtol=1e-10)
        np.testing.assert_allclose(np.abs(np.sum(V1 * V2, axis=1)), 1.0, rtol=1e-8)


def test_two_pass_stationarity_matches_three_spreads():
    def spread(X):
        return np.sqrt(np.mean(np.sum((X - X.mean(0)) ** 2, axis=1)))

    def reference(X):
        h = X.shape[0] // 2
        a, b = X[:h], X[h:]
        return np.array([spread(b) / spread(a),
                         np.linalg.norm(a.mean(0) - b.mean(0)) / spread(X), spread(X)])

    rng = np.random.default_rng(6)
    for n, d, offset, scale in ((1000, 250, 0.0, 1.0), (999, 7, 3.0, 0.1), (60, 3, 1e3, 1e-9),
                                (5, 4, 0.0, 1.0)):
        Z = scale * rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, n)[:, None]
        X = offset + Z
        out = np.array(stationarity(X))
        if offset < 1e3:
            np.testing.assert_allclose(out, reference(X), rtol=1e-12)
        else:  # a tiny spread far from 0: as accurate as the means allow (both ways)
            exact = reference(X - offset)  # X - offset is exact here
            bound = 10 * np.finfo(float).eps * offset / exact[2]
            assert np.all(np.abs(out - exact) <= bound * exact)
            assert np.all(np.abs(reference(X) - exact) <= bound * exact)
    assert tuple(stationarity(np.ones((10, 3)))) == (1.0, 0.0, 0.0)
    assert stationarity(np.ones((10, 3))).spread_ratio == 1.0


def test_exact_period_rational_distance_and_spectral_lines():
    cycle = np.random.default_rng(0).standard_normal((7, 5))
    X = cycle[np.arange(300) % 7]
    rec = exact_period(X, 100, 1e-12)
    assert rec.period == 7 and rec.error == 0.0
    assert exact_period(X + 1e-3 * np.arange(300)[:, None], 100, 1e-8).period == 0
    approx = rational_distance(0.3334, 20)
    assert (approx.p, approx.q) == (1, 3) and approx.distance == pytest.approx(0.3334 - 1 / 3)
    t = np.arange(4096)
    lines = spectral_lines(np.cos(2 * np.pi * 0.1234 * t) + 0.5 * np.cos(2 * np.pi * 0.3 * t))
    assert lines.line_fraction > 0.97 and abs(lines.frequency - 0.1234) < 1e-4
    assert spectral_lines(np.random.default_rng(1).standard_normal(4096)).line_fraction < 0.3
