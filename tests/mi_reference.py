"""Brute-force references of the k-NN mutual-information estimators (O(n^2), small inputs),
shared by the tests of the public estimators (tests/information) and of their kernels
(tests/kernels). ``tests/`` is on ``sys.path`` through ``tests/conftest.py``."""

import numpy as np
from scipy.special import digamma

__all__ = ["brute_ksg", "brute_ross"]


def brute_ksg(x, y, k, variant):
    n = x.size
    dx = np.abs(x[:, None] - x[None, :])
    dy = np.abs(y[:, None] - y[None, :])
    d = np.maximum(dx, dy)
    np.fill_diagonal(d, np.inf)
    nb = np.argsort(d, axis=1, kind="stable")[:, :k]
    total = 0.0
    for i in range(n):
        others = np.arange(n) != i
        if variant == 1:
            eps = d[i, nb[i, -1]]
            total += digamma(np.sum(dx[i, others] < eps) + 1) + digamma(
                np.sum(dy[i, others] < eps) + 1)
        else:
            total += digamma(np.sum(dx[i, others] <= dx[i, nb[i]].max())) + digamma(
                np.sum(dy[i, others] <= dy[i, nb[i]].max()))
    mi = digamma(k) + digamma(n) - total / n
    return mi - 1.0 / k if variant == 2 else mi


def brute_ross(x, lab, k):
    """Ross (2014) as scikit-learn computes it: classes of one sample dropped; m counts the
    samples (p included) strictly closer than the k-th class neighbour, or equal to x[p] when
    that neighbour is at distance 0 (sklearn's radius nextafter(d, 0) with <=)."""
    counts = np.bincount(lab)
    used = counts[lab] > 1
    xs, ls = x[used], lab[used]
    n = ls.size
    total = 0.0
    for i in range(n):
        same = np.flatnonzero((ls == ls[i]) & (np.arange(n) != i))
        kk = min(k, same.size)
        dist = np.abs(xs - xs[i]) if xs.ndim == 1 else np.max(np.abs(xs - xs[i]), axis=1)
        r = np.sort(dist[same])[kk - 1]
        m = np.sum(dist < r) if r > 0 else np.sum(dist == 0)
        total += digamma(kk) - digamma(same.size + 1) - digamma(m)
    return digamma(n) + total / n
