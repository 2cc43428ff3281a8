"""Small quantiles of a large array without a selection over all of it."""

from __future__ import annotations

import numpy as np

__all__ = ["low_quantiles"]


def low_quantiles(D, qs, *, margin=0.03):
    """``np.quantile(D, qs)`` (linear interpolation, the same numbers) for small quantiles
    ``qs`` of a large 1-D float array without NaNs, and the elements of D <= the largest of
    them (unordered).

    Instead of a selection over all of D: a threshold above the largest requested quantile
    (from a strided sample, ``margin`` higher) keeps a small candidate set; when it holds at
    least the ranks needed, those ranks of D are those of the candidates (every smaller element
    is a candidate), else the whole array is the candidate set."""
    D = np.asarray(D, dtype=float)
    n = D.size
    qs = np.asarray(qs, dtype=float)
    v = (n - 1) * qs  # numpy's virtual indices, previous and next ranks, and weights
    prev = np.floor(v).astype(np.intp)
    nxt = np.minimum(prev + 1, n - 1)
    gamma = v - np.floor(v)
    need = int(nxt.max()) + 1
    S = D
    if n > 4000:
        sample = D[:: n // 2000]
        j = min(sample.size - 1, int(np.ceil((qs.max() + margin) * sample.size)))
        t = np.partition(sample, j)[j]
        cand = D[D <= t]
        if cand.size >= need:
            S = cand
    S = np.partition(S, np.unique(np.r_[prev, nxt]))
    a, b = S[prev], S[nxt]
    diff = b - a
    out = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return out, S[S <= out.max()]
