"""The fast paths of the classifier's evidence and attractor matching against the plain
constructions they replace (same numbers, same decisions)."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from attractorkit.attractors import _features as F


def _dense_laplacian(nb):
    N, kk = nb.shape
    A = np.zeros((N, N))
    A[np.repeat(np.arange(N), kk - 1), nb[:, 1:].ravel()] = 1.0
    A = np.maximum(A, A.T)
    Dm = 1.0 / np.sqrt(A.sum(1))
    M = Dm[:, None] * A * Dm[None, :]
    return sp.identity(N, format="csc") - sp.csc_matrix(M), Dm, np.eye(N) - M


def test_knn_laplacian_is_the_dense_construction_entry_for_entry():
    rng = np.random.default_rng(1)
    n_self = 0
    for t in range(40):
        N = int(rng.integers(20, 300))
        Y = rng.standard_normal((N, 3))
        if t % 3 == 0:  # duplicate points: a point may be its own neighbour (a self-loop)
            Y[rng.integers(0, N, N // 4)] = Y[0]
        if t % 5 == 0:
            Y = np.round(Y, 1)
        _, nb = cKDTree(Y).query(Y, k=7)
        n_self += bool((nb[:, 1:] == np.arange(N)[:, None]).any())
        L0, D0, dense0 = _dense_laplacian(nb)
        L1, D1 = F.knn_laplacian(nb)
        np.testing.assert_array_equal(D1, D0)
        for name in ("indptr", "indices", "data"):
            a, b = getattr(L1, name), getattr(L0, name)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        assert L1.has_sorted_indices and L1.shape == (N, N)
        np.testing.assert_array_equal(L1.toarray(), dense0)
    assert n_self > 0  # the self-loop case was exercised


def test_low_quantiles_are_numpys_quantiles():
    rng = np.random.default_rng(5)
    for t in range(400):
        n = int(rng.integers(100, 60000)) if t % 2 else int(rng.integers(100, 6000))
        D = rng.exponential(size=n)
        if t % 3 == 0:  # ties
            D = np.round(D, int(rng.integers(0, 3)))
        if t % 7 == 0:
            D = np.sort(D)
        if t % 11 == 0:
            D = np.sort(D)[::-1].copy()
        qs = [0.005, 0.1] if t % 4 else list(np.sort(rng.uniform(0, 0.2, 2)))
        ref = np.quantile(D, qs)
        out, below = F.low_quantiles(D, qs)
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(np.sort(below), np.sort(D[D <= ref.max()]))
    # a sample threshold below the needed rank falls back to the whole array
    D = np.r_[np.zeros(5000), np.arange(1.0, 5001.0)]
    out, below = F.low_quantiles(D, [0.005, 0.6], margin=-0.5)
    np.testing.assert_array_equal(out, np.quantile(D, [0.005, 0.6]))
    np.testing.assert_array_equal(np.sort(below), D[D <= out[1]])


# --- attractor matching: the KD-tree construction it replaces, kept as the reference ---------

def _ref_facts(P, keep=None):
    Y = P if keep is None or P.shape[0] == 1 else np.ascontiguousarray(P[:, keep])
    tree = cKDTree(Y)
    nn = float(np.median(tree.query(Y, k=2)[0][:, 1])) if P.shape[0] >= 2 else None
    return F.scale_of(P), F.spread_of(Y), nn, tree, Y


def _ref_same(A, B, chaotic=False, keep=None):
    fa, fb = _ref_facts(A, keep), _ref_facts(B, keep)
    scale = max(fa[0], fb[0])
    if chaotic:
        sa, sb = fa[1], fb[1]
        s = max(sa, sb, 1e-300)
        if np.linalg.norm(fa[4].mean(0) - fb[4].mean(0)) <= 0.1 * s and abs(sa - sb) <= 0.1 * s:
            return True
    floor = 1e-6 * scale
    if A.shape[0] == 1 and B.shape[0] == 1:
        return bool(np.linalg.norm(A[0] - B[0]) <= floor)
    if A.shape[0] == 1 or B.shape[0] == 1 or A.shape[0] < 20:
        if A.shape[0] != B.shape[0]:
            return False
        return F.set_overlap(A, B, floor) >= 1.0
    eps = max(3.0 * max(fa[2], fb[2]), 0.1 * max(fa[1], fb[1]), floor)
    ha = np.mean(fb[3].query(fa[4], k=1, distance_upper_bound=eps)[0] <= eps)
    hb = np.mean(fa[3].query(fb[4], k=1, distance_upper_bound=eps)[0] <= eps)
    return float(min(ha, hb)) >= 0.8


def _point_sets(rng, d=30):
    """Pairs of point sets around the matching's decision boundaries: samples of one closed
    curve (shifted by up to a few eps), clouds, sparse sets, small and single-point sets."""
    E = rng.standard_normal((4, d))
    sets = []
    for t in range(70):
        n = int(rng.choice([20, 25, 60, 400]))
        th = rng.uniform(0, 2 * np.pi, (2, n))
        curve = [np.c_[np.cos(a), np.sin(a), 0.3 * np.cos(3 * a), 0.2 * np.sin(2 * a)] @ E
                 for a in th]
        A, B = curve
        kind = t % 7
        if kind == 1:  # B shifted: overlap falls from 1 to 0 across these offsets
            B = B + rng.uniform(0.0, 1.0) ** 2 * rng.standard_normal(d) / np.sqrt(d)
        elif kind == 2:  # only part of the curve: the share is near 0.8
            B = B[np.mod(th[1], 2 * np.pi) < rng.uniform(1.0, 2.0) * np.pi]
        elif kind == 3:  # sparse clouds: the nearest-neighbour term sets eps
            A, B = rng.standard_normal((n, d)), rng.standard_normal((n, d)) * rng.uniform(
                0.8, 1.2)
        elif kind == 4:  # small or single-point sets, fixed points near the 1e-6 tolerance
            k = int(rng.choice([1, 3]))
            A = rng.standard_normal((k, d))
            B = A + rng.choice([0.5, 1.0, 2.0]) * 1e-6 * (1 + np.abs(A).max()) * \
                rng.standard_normal((k, d)) / np.sqrt(d)
        elif kind == 5:  # a silent coordinate, the same in both sets
            A[:, 0] = B[:, 0] = 0.25
        elif kind == 6:  # far apart (bounding boxes disjoint)
            B = B + 5.0
        sets.append((A, B))
    return sets


def test_matching_decisions_are_the_kd_tree_decisions():
    from attractorkit.attractors import _matching as _runs

    rng = np.random.default_rng(11)
    n_same = n_diff = 0
    for A, B in _point_sets(rng):
        for chaotic in (False, True):
            ref = _ref_same(A, B, chaotic)
            assert _runs._same(A, B, chaotic) == ref
            n_same += ref
            n_diff += not ref
    assert n_same > 20 and n_diff > 20


def test_match_ids_are_the_kd_tree_ids():
    """RunResults.match against the reference loop (first representative with the same label
    and overlapping points), on conditions mixing fixed points, cycles and curves."""
    from attractorkit.attractors import _decide as Dd
    from attractorkit.attractors import _matching as _runs

    rng = np.random.default_rng(4)
    d, i = 30, 8
    pairs = _point_sets(rng, d)
    c = 12
    r = _runs.RunResults(c * i, d, 3)
    for b in range(c * i):
        A, B = pairs[rng.integers(len(pairs))]
        P = (A, B)[rng.integers(2)]
        if P.shape[0] == 1:
            r.set(b, Dd.FIXED, pts=P)
        elif P.shape[0] < 20:
            r.set(b, Dd.PERIODIC, pts=P)
        else:
            r.set(b, rng.choice([Dd.QP, Dd.CHAOTIC, Dd.UNDETERMINED]), pts=P)
    r.set(5, Dd.DIVERGENT)
    r.match(c, i, Dd.Settings())
    ref = np.full(c * i, -1)
    for cc in range(c):
        rows = [b for b in range(cc * i, (cc + 1) * i)
                if r.label[b] != Dd.DIVERGENT and r.pts[b] is not None]
        sets = [r.pts[b] for b in rows if r.pts[b].shape[0] > 1]
        moving = np.ptp(np.concatenate(sets), axis=0) > 0 if sets else None
        keep = moving if sets and 0 < moving.sum() < moving.size else None
        reps = []
        for b in rows:
            for rep in reps:
                if r.label[rep] == r.label[b] and _ref_same(
                        r.pts[rep], r.pts[b], r.label[b] == Dd.CHAOTIC, keep):
                    ref[b] = ref[rep]
                    break
            else:
                ref[b] = len(reps)
                reps.append(b)
    np.testing.assert_array_equal(r.ids, ref)
    assert ref.max() > 0


def test_share_within_decides_like_the_kd_tree_near_the_threshold():
    """Shares from 0.6 to 1 (B covers part of A's circle): the cheap bounds give the tree's
    share below 0.8 and a share >= 0.8 exactly when the tree's is."""
    from attractorkit.attractors import _matching as _runs

    rng = np.random.default_rng(2)
    E = rng.standard_normal((2, 30))
    paths = set()
    for f in np.linspace(0.6, 1.0, 41):
        A = np.c_[np.cos(a := rng.uniform(0, 2 * np.pi, 400)), np.sin(a)] @ E
        B = np.c_[np.cos(b := rng.uniform(0, 2 * np.pi * f, 400)), np.sin(b)] @ E
        fa, fb = _runs._SetFacts(A), _runs._SetFacts(B)
        eps = 0.3  # about 3 nearest-neighbour spacings, as in the matching
        exact = float(np.mean(cKDTree(B).query(A, k=1, distance_upper_bound=eps)[0] <= eps))
        share = _runs._share_within(fa, fb, eps)
        assert (share >= 0.8) == (exact >= 0.8)
        assert share == exact or 0.8 <= share <= exact
        paths.add("tree" if "tree" in fb._c else "candidates")
    assert paths == {"tree", "candidates"}


def test_evidence_on_the_axes_of_the_whole_orbit():
    """curve_test, correlation_dimension and pc1_series given the principal axes of the whole
    point set: the same numbers when the block is the whole set, close ones on an orbit."""
    rng = np.random.default_rng(3)
    th = 2 * np.pi * np.mod(0.1 + np.arange(1000) * (np.sqrt(5) - 1) / 2, 1.0)
    E = rng.standard_normal((3, 40))
    orbit = np.c_[np.cos(th), 0.5 * np.sin(th), 0.05 * np.cos(2 * th)] @ E
    orbit += 1e-3 * rng.standard_normal(orbit.shape)
    for P, rtol in ((orbit[:300], 1e-9), (orbit, 0.05)):
        axes = F.pca_axes(P - P.mean(0), 20)
        own, shared = F.curve_test(P), F.curve_test(P, axes=axes)
        assert own["connected"] and shared["connected"]
        for key in ("ring_cv", "shift_spread", "gap_ratio", "rotation"):
            np.testing.assert_allclose(shared[key], own[key], rtol=rtol, atol=1e-12)
        np.testing.assert_allclose(F.correlation_dimension(P, axes=axes),
                                   F.correlation_dimension(P), rtol=max(rtol, 1e-6))
        s0, s1 = F.pc1_series(P), F.pc1_series(P, axes)
        np.testing.assert_allclose(np.abs(s1), np.abs(s0), rtol=1e-9, atol=1e-12)


def test_full_and_subset_principal_axes_agree():
    rng = np.random.default_rng(8)
    for n, d, k in ((1000, 40, 20), (300, 60, 10), (30, 50, 5), (500, 8, 20)):
        X = rng.standard_normal((n, d)) * np.geomspace(1.0, 1e-3, d)
        C = X - X.mean(0)
        (V1, w1), (V2, w2) = F.pca_axes(C, k), F.pca_axes(C, k, solver="full")
        assert V1.shape == V2.shape == (min(k, d), d) and w1.shape == w2.shape
        np.testing.assert_allclose(w2, w1, rtol=1e-10)
        np.testing.assert_allclose(np.abs(np.sum(V1 * V2, axis=1)), 1.0, rtol=1e-8)


def test_shift_invert_operator_gives_arpacks_own_eigenpairs():
    """_laplacian_low passes ARPACK its own factorisation of L - sigma I: the eigenpairs are
    those of eigsh's default shift-invert path, bit for bit."""
    from scipy.sparse.linalg import eigsh

    rng = np.random.default_rng(1)
    for t in range(12):
        N = int(rng.integers(30, 300))
        Y = rng.standard_normal((N, 3))
        if t % 3 == 0:
            Y[rng.integers(0, N, N // 4)] = Y[0]
        _, nb = cKDTree(Y).query(Y, k=7)
        L, _ = F.knn_laplacian(nb)
        w0, V0 = eigsh(L, k=3, sigma=-1e-3, which="LM",
                       v0=np.random.default_rng(0).standard_normal(N))
        order = np.argsort(w0)
        w, V = F._laplacian_low(L, False)
        np.testing.assert_array_equal(w, w0[order])
        np.testing.assert_array_equal(V, V0[:, order])


def test_two_pass_stationarity_matches_three_spreads():
    def reference(X):
        h = X.shape[0] // 2
        a, b = X[:h], X[h:]
        sa, sb, s = F.spread_of(a), F.spread_of(b), F.spread_of(X)
        return np.array([sb / sa, np.linalg.norm(a.mean(0) - b.mean(0)) / s, s])

    rng = np.random.default_rng(6)
    for n, d, offset, scale in ((1000, 250, 0.0, 1.0), (999, 7, 3.0, 0.1), (60, 3, 1e3, 1e-9),
                                (5, 4, 0.0, 1.0)):
        Z = scale * rng.standard_normal((n, d)) * np.linspace(0.5, 2.0, n)[:, None]
        X = offset + Z
        out = np.array(F.stationarity(X, with_spread=True))
        assert tuple(out[:2]) == F.stationarity(X)
        if offset < 1e3:
            np.testing.assert_allclose(out, reference(X), rtol=1e-12)
        else:  # a tiny spread far from 0: as accurate as the means allow (both ways)
            exact = reference(X - offset)  # X - offset is exact here
            bound = 10 * np.finfo(float).eps * offset / exact[2]
            assert np.all(np.abs(out - exact) <= bound * exact)
            assert np.all(np.abs(reference(X) - exact) <= bound * exact)
    assert F.stationarity(np.ones((10, 3))) == (1.0, 0.0)
