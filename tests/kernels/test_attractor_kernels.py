"""The performance machinery the attractor classifier runs on, against the plain constructions
it replaces: the k-NN Laplacian and its shift-invert eigenpairs, the low quantiles, the neighbour
shortcuts of attractor matching, the record buffer and the pipelined batches, and the ReLU
region fixed point."""

import threading
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from attractorkit._kernels import neighbours as nbr
from attractorkit._kernels import pipeline
from attractorkit._kernels.quantiles import low_quantiles
from attractorkit._kernels.region import region_candidate, region_contracting


# -- k-NN Laplacian ---------------------------------------------------------------------------
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
        L1, D1 = nbr.knn_laplacian(nb)
        np.testing.assert_array_equal(D1, D0)
        for name in ("indptr", "indices", "data"):
            a, b = getattr(L1, name), getattr(L0, name)
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        assert L1.has_sorted_indices and L1.shape == (N, N)
        np.testing.assert_array_equal(L1.toarray(), dense0)
    assert n_self > 0  # the self-loop case was exercised


def test_shift_invert_operator_gives_arpacks_own_eigenpairs():
    """laplacian_low passes ARPACK its own factorisation of L - sigma I: the eigenpairs are
    those of eigsh's default shift-invert path, bit for bit; the dense path agrees."""
    from scipy.sparse.linalg import eigsh

    rng = np.random.default_rng(1)
    for t in range(12):
        N = int(rng.integers(30, 300))
        Y = rng.standard_normal((N, 3))
        if t % 3 == 0:
            Y[rng.integers(0, N, N // 4)] = Y[0]
        _, nb = cKDTree(Y).query(Y, k=7)
        L, _ = nbr.knn_laplacian(nb)
        w0, V0 = eigsh(L, k=3, sigma=-1e-3, which="LM",
                       v0=np.random.default_rng(0).standard_normal(N))
        order = np.argsort(w0)
        w, V = nbr.laplacian_low(L)
        np.testing.assert_array_equal(w, w0[order])
        np.testing.assert_array_equal(V, V0[:, order])
        wd, _ = nbr.laplacian_low(L, dense=True)
        np.testing.assert_allclose(wd, w, atol=1e-9)


# -- low quantiles ----------------------------------------------------------------------------
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
        out, below = low_quantiles(D, qs)
        np.testing.assert_array_equal(out, ref)
        np.testing.assert_array_equal(np.sort(below), np.sort(D[D <= ref.max()]))
    # a sample threshold below the needed rank falls back to the whole array
    D = np.r_[np.zeros(5000), np.arange(1.0, 5001.0)]
    out, below = low_quantiles(D, [0.005, 0.6], margin=-0.5)
    np.testing.assert_array_equal(out, np.quantile(D, [0.005, 0.6]))
    np.testing.assert_array_equal(np.sort(below), D[D <= out[1]])


# -- neighbour shortcuts of attractor matching --------------------------------------------------
def _tree_decision(A, B, keep=None):
    """The plain construction: KD-trees on the kept coordinates, radius max(3 x the larger
    median nearest-neighbour distance, 0.1 x the larger spread, 1e-6 x scale), share >= 0.8
    both ways."""
    def facts(P):
        Y = P if keep is None else np.ascontiguousarray(P[:, keep])
        tree = cKDTree(Y)
        nn = float(np.median(tree.query(Y, k=2)[0][:, 1]))
        spread = float(np.sqrt(np.mean(np.sum((Y - Y.mean(0)) ** 2, axis=1))))
        return 1.0 + float(np.mean(np.max(np.abs(P), axis=1))), spread, nn, tree, Y

    fa, fb = facts(A), facts(B)
    eps = max(3.0 * max(fa[2], fb[2]), 0.1 * max(fa[1], fb[1]), 1e-6 * max(fa[0], fb[0]))
    ha = np.mean(fb[3].query(fa[4], k=1, distance_upper_bound=eps)[0] <= eps)
    hb = np.mean(fa[3].query(fb[4], k=1, distance_upper_bound=eps)[0] <= eps)
    return float(min(ha, hb)) >= 0.8


def _point_sets(rng, d=30):
    """Pairs of point sets around the matching's decision boundaries: samples of one closed
    curve (shifted by up to a few eps), parts of it, clouds, silent coordinates, far apart."""
    E = rng.standard_normal((4, d))
    sets = []
    for t in range(60):
        n = int(rng.choice([20, 25, 60, 400]))
        th = rng.uniform(0, 2 * np.pi, (2, n))
        A, B = [np.c_[np.cos(a), np.sin(a), 0.3 * np.cos(3 * a), 0.2 * np.sin(2 * a)] @ E
                for a in th]
        kind = t % 6
        if kind == 1:  # B shifted: overlap falls from 1 to 0 across these offsets
            B = B + rng.uniform(0.0, 1.0) ** 2 * rng.standard_normal(d) / np.sqrt(d)
        elif kind == 2:  # only part of the curve: the share is near 0.8
            B = B[np.mod(th[1], 2 * np.pi) < rng.uniform(1.0, 2.0) * np.pi]
        elif kind == 3:  # sparse clouds: the nearest-neighbour term sets eps
            A, B = rng.standard_normal((n, d)), rng.standard_normal((n, d)) * rng.uniform(
                0.8, 1.2)
        elif kind == 4:  # a silent coordinate, the same in both sets
            A[:, 0] = B[:, 0] = 0.25
        elif kind == 5:  # far apart (bounding boxes disjoint)
            B = B + 5.0
        if B.shape[0] >= 2:
            sets.append((A, B))
    return sets


def test_matching_shortcuts_decide_like_the_kd_trees():
    rng = np.random.default_rng(11)
    n_same = n_diff = 0
    for A, B in _point_sets(rng):
        keep = None
        moving = np.ptp(np.concatenate([A, B]), axis=0) > 0
        if 0 < moving.sum() < moving.size:
            keep = moving
        a, b = nbr.PointSet(A, keep), nbr.PointSet(B, keep)
        fast = nbr.overlap(a, b, nbr.match_radius(a, b, 1e-6 * max(a.scale, b.scale))) >= 0.8
        ref = _tree_decision(A, B, keep)
        assert fast == ref
        n_same += ref
        n_diff += not ref
    assert n_same > 15 and n_diff > 15


def test_share_within_decides_like_the_kd_tree_near_the_threshold():
    """Shares from 0.6 to 1 (B covers part of A's circle): the cheap bounds give the tree's
    share below 0.8 and a share >= 0.8 exactly when the tree's is."""
    rng = np.random.default_rng(2)
    E = rng.standard_normal((2, 30))
    paths = set()
    for f in np.linspace(0.6, 1.0, 41):
        A = np.c_[np.cos(a := rng.uniform(0, 2 * np.pi, 400)), np.sin(a)] @ E
        B = np.c_[np.cos(b := rng.uniform(0, 2 * np.pi * f, 400)), np.sin(b)] @ E
        pa, pb = nbr.PointSet(A), nbr.PointSet(B)
        eps = 0.3  # about 3 nearest-neighbour spacings, as in the matching
        exact = float(np.mean(cKDTree(B).query(A, k=1, distance_upper_bound=eps)[0] <= eps))
        share = nbr.share_within(pa, pb, eps)
        assert (share >= 0.8) == (exact >= 0.8)
        assert share == exact or 0.8 <= share <= exact
        paths.add("tree" if pb.built_tree else "candidates")
    assert paths == {"tree", "candidates"}


def test_nn_bound_bounds_the_nearest_neighbour_spacing():
    rng = np.random.default_rng(3)
    for n in (2, 3, 50, 400):
        P = rng.standard_normal((n, 5))
        s = nbr.PointSet(P)
        ref = float(np.median(cKDTree(P).query(P, k=2)[0][:, 1]))
        assert s.nn == ref and s.nn_bound >= ref


# -- record buffer and pipelined batches --------------------------------------------------------
def test_record_buffer_views_share_one_allocation():
    calls = []

    def allocate(size):
        calls.append(size)
        return np.empty(size)

    buf = pipeline.RecordBuffer(4, 8 * 4 * 10 * 3, allocate=allocate)
    assert buf.rows(10) == 3 and buf.rows(10**6) == 1
    assert [b.tolist() for b in buf.batches(np.arange(7), 10)] == [[0, 1, 2], [3, 4, 5], [6]]
    buf.reserve(500)
    v = buf.view(3, 10)
    w = buf.view(2, 5)
    assert v.shape == (3, 10, 4) and w.shape == (2, 5, 4) and np.shares_memory(v, w)
    assert calls == [500]
    buf.view(20, 10)  # larger than reserved: one new allocation
    assert calls == [500, 800]


def _sequential_reference(idx, n_rec, n):
    return [(int(b), float(b) * n_rec * n) for b in idx]


def test_pipelined_batches_give_the_sequential_results():
    """Each batch is judged on its own records: with overlap (alternating buffer halves, a
    worker thread) and without, the results are those of a plain loop; with overlap the
    judging of one batch runs while the next is simulated."""
    n, n_rec = 3, 7
    running = {"sim": 0, "judge": 0, "both": False}
    lock = threading.Lock()

    def simulate(batch, R):
        with lock:
            running["sim"] += 1
            running["both"] |= running["judge"] > 0
        R[:] = batch[:, None, None].astype(float)  # each run's record holds its id
        time.sleep(0.02)
        with lock:
            running["sim"] -= 1
        return batch.size

    def judge(batch, R, size):
        with lock:
            running["judge"] += 1
        time.sleep(0.02)
        out = [(int(b), float(R[j].sum())) for j, b in enumerate(batch)]
        assert size == batch.size
        with lock:
            running["judge"] -= 1
        return out

    idx = np.arange(5, 45)
    for max_runs, overlap in ((1000, True), (8, True), (3, False), (1000, False)):
        buf = pipeline.RecordBuffer(n, max_runs * n_rec * n * 8)
        got = pipeline.run_pipelined(idx, buf, n_rec, simulate, judge, overlap=overlap)
        flat = [x for batch in got for x in batch]
        assert flat == _sequential_reference(idx, n_rec, n)
        if overlap:
            assert len(got) >= 2  # split so that there is something to overlap
    assert running["both"]


def test_map_threads_keeps_order():
    assert pipeline.map_threads(lambda x: x * x, range(9)) == [x * x for x in range(9)]
    assert pipeline.map_threads(abs, [-1, 2], concurrent=False) == [1, 2]
    assert pipeline.map_threads(abs, []) == []


# -- ReLU region fixed point ------------------------------------------------------------------
def test_relu_region_fixed_point_matches_numpy_and_rejects_saddles():
    def region_fixed_point(WhT, c, pat, h_out, z_out):  # what the rollout accepts
        return region_candidate(WhT, c, pat, h_out, z_out) and region_contracting(WhT, pat)

    rng = np.random.default_rng(5)
    n = 12
    W = 0.25 * rng.standard_normal((n, n))
    c = rng.standard_normal(n)
    h = np.zeros(n)
    for _ in range(3000):  # a contracting ReLU map: iterate to its fixed point
        h = np.maximum(W @ h + c, 0.0)
    pat = W @ h + c > 0
    h_out, z_out = np.zeros(n), np.zeros(n)
    assert region_fixed_point(np.ascontiguousarray(W.T), c, pat, h_out, z_out)
    np.testing.assert_allclose(h_out, h, atol=1e-12)
    np.testing.assert_allclose(z_out, W @ h + c, atol=1e-12)
    flipped = pat.copy()
    flipped[np.argmax(pat)] = False  # a region that does not contain its candidate
    assert not region_fixed_point(np.ascontiguousarray(W.T), c, flipped, h_out, z_out)
    # saddle: h* = (1, 1) lies in the all-active region, but diag(0.5, 1.5) is not contracting
    A = np.diag([0.5, 1.5])
    assert not region_fixed_point(np.ascontiguousarray(A.T), np.array([0.5, -0.5]),
                                  np.array([True, True]), np.zeros(2), np.zeros(2))
