"""The k-NN mutual-information kernels (KSG, Ross, the radix sort) against brute force and
against each other: batched equals one at a time, parallel equals serial."""

import numpy as np
import pytest
from mi_reference import brute_ksg, brute_ross
from scipy.special import digamma

from attractorkit._kernels import ksg as K
from attractorkit._kernels import ross as R
from attractorkit._kernels import sorting


def sort_columns(x):
    """Per-column sorted values and stable argsort, (d, n) each, as the estimators prepare them."""
    return sorting.sort_rows(np.ascontiguousarray(np.asarray(x, dtype=np.float64).T))


def psi_table(n):
    """digamma(0..n+1), the value at 0 replaced by 0 (never read)."""
    table = digamma(np.arange(n + 2, dtype=np.float64))
    table[0] = 0.0
    return table


@pytest.mark.parametrize("variant", [1, 2])
@pytest.mark.parametrize("k", [1, 4])
def test_ksg_kernel_matches_brute_force(variant, k):
    g = np.random.default_rng(15)
    x = g.normal(size=300)
    y = 0.5 * x + g.normal(size=300)
    vals, order = sort_columns(x[:, None])
    yo = np.argsort(y)
    yrank = np.empty(300, np.int64)
    yrank[yo] = np.arange(300)
    out = np.empty((1, 1))
    K.ksg_batch(vals, order, y, y[yo], yrank, np.arange(300)[None], k, variant,
                psi_table(300), out)
    assert out[0, 0] == pytest.approx(brute_ksg(x, y, k, variant), abs=1e-10)


def ross_cases():
    """(x, labels, k): continuous values, exact ties (integers, jitter off) with k-th
    neighbours at distance 0, a rare class (counts far beyond one block), classes smaller
    than k + 1 and classes of one sample."""
    g = np.random.default_rng(16)
    lab = g.integers(0, 4, 250)
    lab[7] = 4                                                    # a class of one sample
    yield g.normal(size=250), lab, 3
    lab = g.integers(0, 3, 300)
    yield (g.integers(0, 200, 300) + 40 * lab).astype(float), lab, 3   # ties at distance d
    lab = g.integers(0, 3, 400)
    lab[:3] = 3                                                   # a class of 3 < k + 1
    lab[3] = 4
    yield g.integers(0, 4, 400).astype(float), lab, 5             # d = 0, 100 duplicates
    lab = g.integers(0, 2, 400)
    lab[[10, 200, 390]] = 2                                       # rare class: m ~ 200
    yield g.normal(size=400) + lab, lab, 1


@pytest.mark.parametrize("case", range(4))
def test_ross_kernel_matches_brute_force(case):
    x, lab, k = list(ross_cases())[case]
    vals, order = sort_columns(x[:, None])
    out = np.empty((1, 1))
    R.ross_batch(vals, order, lab, np.arange(x.size)[None], lab.max() + 1, k,
                 psi_table(x.size), out)
    assert out[0, 0] == pytest.approx(brute_ross(x, lab, k), abs=1e-10)
    if case in (1, 2):  # integer data: sklearn's squared-distance KD-tree is exact there
        try:
            from sklearn.feature_selection._mutual_info import _compute_mi_cd
        except ImportError:  # a private function: only the reference above if it moves
            return
        assert max(0.0, out[0, 0]) == pytest.approx(_compute_mi_cd(x, lab, k), abs=1e-10)


@pytest.mark.parametrize("singleton", [False, True])
def test_ross_batch_shuffles_equal_one_at_a_time(singleton):
    """The batched path (shared sorted values, two shuffles per pass, dropped singletons under
    each shuffle) gives bit for bit the estimate of each (unit, shuffle) pair computed alone."""
    g = np.random.default_rng(17)
    n = 300
    x = np.maximum(0.0, g.normal(size=(n, 3)) + 0.5 * np.arange(3))
    x[:, 2] = np.round(x[:, 2], 1)                                 # ties, jitter off
    lab = g.integers(0, 3, n)
    if singleton:
        lab[11] = 3
    # an odd number of shuffles: jobs take them in pairs, the last one alone
    perms = np.vstack([np.arange(n), g.permutation(n), g.permutation(n), (np.arange(n) + 50) % n,
                       g.permutation(n)])
    vals, order = sort_columns(x)
    psi = psi_table(n)
    out = np.empty((3, 5))
    R.ross_batch(vals, order, lab, perms, lab.max() + 1, 3, psi, out)
    for u in range(3):
        for s in range(5):
            one = np.empty((1, 1))
            R.ross_batch(vals[u:u + 1], order[u:u + 1], lab[perms[s]], np.arange(n)[None],
                         lab.max() + 1, 3, psi, one)
            assert out[u, s] == one[0, 0]
            if s < 2:
                assert out[u, s] == pytest.approx(brute_ross(x[:, u], lab[perms[s]], 3),
                                                  abs=1e-10)


def test_sort_columns_equals_stable_argsort():
    """The radix sort behind every k-NN kernel: exactly numpy's stable argsort, with ties,
    -0.0 next to 0.0, negative values, constant and huge-range columns."""
    g = np.random.default_rng(19)
    x = np.column_stack([g.normal(size=3000), np.round(g.normal(size=3000), 1),
                         np.maximum(0.0, g.normal(size=3000)), np.full(3000, 2.5),
                         g.normal(size=3000) * 10.0 ** g.integers(-300, 300, 3000)])
    x[:50, 1] = -0.0
    x[50:100, 1] = 0.0
    vals, order = sort_columns(x)
    ref = np.argsort(x, axis=0, kind="stable").T
    assert order.dtype == np.int64 and order.flags.c_contiguous and vals.flags.c_contiguous
    assert np.array_equal(order, ref)
    assert np.array_equal(vals, np.take_along_axis(x, ref.T, axis=0).T)




@pytest.mark.parametrize("variant", [1, 2])
def test_parallel_point_chunks_equal_serial(variant):
    """ksg_points (one pair split over threads) sums the same terms as the serial kernel."""
    g = np.random.default_rng(21)
    x, y = g.normal(size=3000), g.normal(size=3000)
    xo, yo = np.argsort(x), np.argsort(y)
    yrank = np.empty(3000, np.int64)
    yrank[yo] = np.arange(3000)
    args = (x[xo], y[xo], y[yo], yrank[xo], 3, variant, psi_table(3000))
    serial = K._ksg_one(*args)
    assert K.ksg_points(*args, 7) == pytest.approx(serial, abs=1e-12)
    assert K.ksg_points(*args, 1) == pytest.approx(serial, abs=1e-12)
