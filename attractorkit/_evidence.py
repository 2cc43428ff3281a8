"""Faster equivalents of the costliest per-orbit evidence of :mod:`._features`, used by the
classifier (:func:`._decide.gather`). Same definitions, same numbers (to rounding):

- :func:`curve_test` finds the three smallest eigenpairs of the k-NN graph's normalised
  Laplacian with sparse shift-invert Lanczos (ARPACK) instead of a dense eigensolver (the graph
  has about k N non-zeros; 3-4x faster at N = 400), falling back to the dense solver if ARPACK
  does not converge;
- :func:`correlation_dimension` counts the pairs below each radius with one selection of the
  needed order statistics instead of a full sort of all N (N - 1) / 2 distances.

``tests/core/test_classify.py`` checks both against the :mod:`._features` reference.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from ._features import _reduce

__all__ = ["curve_test", "correlation_dimension"]


def _laplacian_low(A, Dm, N):
    """(eigenvalues, eigenvectors) of the 3 smallest eigenpairs of I - Dm A Dm."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    L = sp.identity(N, format="csc") - sp.csc_matrix(Dm[:, None] * A * Dm[None, :])
    v0 = np.random.default_rng(0).standard_normal(N)  # fixed start: reproducible
    try:
        w, V = eigsh(L, k=3, sigma=-1e-3, which="LM", v0=v0)
    except (ArpackNoConvergence, RuntimeError):
        return eigh(L.toarray(), subset_by_index=[0, 2])
    order = np.argsort(w)
    return w[order], V[:, order]


def curve_test(P, *, n_max=400, k=6) -> dict:
    """:func:`attractorkit._features.curve_test` with a sparse eigensolver (same keys)."""
    out = {"ring_cv": np.nan, "rotation": np.nan, "shift_spread": np.nan, "gap_ratio": np.nan,
           "connected": False}
    P = P[-n_max:]
    N = P.shape[0]
    if N < 20:
        return out
    Y = _reduce(P)
    kk = min(k + 1, N)
    _, nb = cKDTree(Y).query(Y, k=kk)
    A = np.zeros((N, N))
    A[np.repeat(np.arange(N), kk - 1), nb[:, 1:].ravel()] = 1.0
    A = np.maximum(A, A.T)
    Dm = 1.0 / np.sqrt(A.sum(1))
    w, V = _laplacian_low(A, Dm, N)
    out["connected"] = bool(w[1] > 1e-9)
    U = V[:, 1:3] * Dm[:, None]
    r = np.hypot(U[:, 0], U[:, 1])
    out["ring_cv"] = float(r.std() / r.mean()) if r.mean() > 0 else np.inf
    ang = np.arctan2(U[:, 1], U[:, 0])
    order = np.argsort(ang)
    srt = ang[order]
    gaps = np.diff(np.r_[srt, srt[0] + 2 * np.pi])
    out["gap_ratio"] = float(gaps.max() / max(np.median(gaps), 1e-300))
    rank = np.empty(N)
    rank[order] = np.arange(N)
    z = np.exp(2j * np.pi * np.mod(np.diff(rank) / N, 1.0))
    R = abs(z.mean())
    out["shift_spread"] = float(np.sqrt(max(-2.0 * np.log(max(R, 1e-300)), 0.0)) / (2 * np.pi))
    rho = float(np.mod(np.angle(z.mean()) / (2 * np.pi), 1.0))
    out["rotation"] = min(rho, 1.0 - rho)
    return out


def correlation_dimension(P, *, n_max=400, rng=None) -> float:
    """:func:`attractorkit._features.correlation_dimension` without the full sort."""
    if P.shape[0] < 30:
        return np.nan
    rng = np.random.default_rng(0) if rng is None else rng
    idx = rng.choice(P.shape[0], size=min(n_max, P.shape[0]), replace=False)
    D = pdist(_reduce(P[idx], 20))
    D = D[D > 0]
    if D.size < 100:
        return 0.0
    lo, hi = np.quantile(D, [0.005, 0.1])
    if not hi > lo:
        return 0.0
    r = np.geomspace(lo, hi, 10)
    Dn = D[D <= hi]  # every count is of distances <= hi
    C = np.array([np.count_nonzero(Dn <= x) for x in r]) / D.size
    return float(np.polyfit(np.log(r), np.log(C), 1)[0])
