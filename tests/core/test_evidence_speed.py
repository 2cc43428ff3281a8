"""The fast paths of the classifier's evidence and attractor matching against the plain
constructions they replace (same numbers, same decisions)."""

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from attractorkit import _features as F


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
