"""Evidence about one recorded orbit: recurrence, stationarity, curve geometry and rotation,
correlation dimension, spectral lines. Pure numpy/scipy functions used by the classifier.

Each function takes the consecutive points of one orbit (a map's iterates, or the successive
Poincaré-section points of a flow) and returns plain numbers.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist


def scale_of(X) -> float:
    """Typical magnitude used to make tolerances relative: 1 + mean max-abs state entry."""
    return 1.0 + float(np.mean(np.max(np.abs(X), axis=1)))


def spread_of(X) -> float:
    """RMS distance of the points from their mean."""
    return float(np.sqrt(np.mean(np.sum((X - X.mean(0)) ** 2, axis=1))))


def last_returns(X, p_max) -> np.ndarray:
    """e[p-1] = max-abs distance between the last state and the state p steps earlier."""
    p_max = min(p_max, X.shape[0] - 1)
    return np.max(np.abs(X[-1] - X[-1 - np.arange(1, p_max + 1)]), axis=1)


def exact_period(X, p_max, tol) -> tuple[int, float]:
    """Smallest p <= p_max with |h_{t+p} - h_t|_inf <= tol over the whole window (0 if none)."""
    e = last_returns(X, p_max)
    for p in np.flatnonzero(e <= tol) + 1:
        W = X.shape[0] - p
        span = min(W, max(2 * p, 50))
        err = float(np.max(np.abs(X[-span:] - X[-span - p:-p])))
        if err <= tol:
            return int(p), err
    return 0, float(e.min()) if e.size else np.inf


def stationarity(X) -> tuple[float, float]:
    """(spread ratio second half / first half, mean shift between halves / spread)."""
    h = X.shape[0] // 2
    a, b = X[:h], X[h:]
    sa, sb = spread_of(a), spread_of(b)
    s = spread_of(X)
    if s == 0:
        return 1.0, 0.0
    ratio = sb / sa if sa > 0 else np.inf
    return float(ratio), float(np.linalg.norm(a.mean(0) - b.mean(0)) / s)


def pca_axes(C, k):
    """(axes (k, d) as rows, variances (k,)) of centred points C (n, d), largest first.

    Uses the d x d covariance (cheap for n >> d) on at most 2000 rows."""
    C = C[:: max(1, C.shape[0] // 2000)]
    n, d = C.shape
    if n >= d:
        w, V = eigh(C.T @ C, subset_by_index=[max(0, d - k), d - 1])
        return V[:, ::-1].T, np.maximum(w[::-1], 0.0) / max(n, 1)
    _, S, Vt = np.linalg.svd(C, full_matrices=False)
    return Vt[:k], S[:k] ** 2 / max(n, 1)


def _reduce(P, k=10):
    C = P - P.mean(0)
    V, var = pca_axes(C, k)
    keep = max(2, int(np.sum(var > 1e-18 * var[0])) if var.size and var[0] > 0 else 2)
    return C @ V[:keep].T


def _laplacian_low(A, Dm, dense):
    """The 3 smallest eigenpairs of the normalised Laplacian ``I - Dm A Dm`` of a k-NN graph:
    sparse shift-invert Lanczos (ARPACK; the graph has about k N non-zeros, 3-4x faster than a
    dense solver at N = 400), the dense solver when ``dense`` or if ARPACK does not converge."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    N = A.shape[0]
    if not dense:
        L = sp.identity(N, format="csc") - sp.csc_matrix(Dm[:, None] * A * Dm[None, :])
        v0 = np.random.default_rng(0).standard_normal(N)  # fixed start: reproducible
        try:
            w, V = eigsh(L, k=3, sigma=-1e-3, which="LM", v0=v0)
            order = np.argsort(w)
            return w[order], V[:, order]
        except (ArpackNoConvergence, RuntimeError):
            pass
    return eigh(np.eye(N) - Dm[:, None] * A * Dm[None, :], subset_by_index=[0, 2])


def curve_test(P, *, n_max=400, k=6, dense=False) -> dict:
    """Is the ordered point sequence P a rotation on one closed curve?

    The points (a contiguous block of at most ``n_max``) are ordered around the curve by the
    angle of their first two non-trivial Laplacian-eigenmap coordinates of the k-NN graph
    (which, for a sampled closed curve, are the cosine and sine of the position along it,
    however the curve is embedded). If P is the orbit of a circle homeomorphism, the rank of
    each point in that cyclic order advances by a constant fraction ``rho`` (the rotation number;
    the empirical distribution function conjugates the dynamics to a rigid rotation), so the
    spread of the rank shifts measures how well "rotation on a closed curve" describes P.
    ``dense=True`` uses the dense eigensolver (the reference for the sparse default).

    Returns keys: ``ring_cv`` (spread of the eigenmap radius), ``rotation`` (in [0, 0.5],
    orientation folded), ``shift_spread`` (circular std of rank shifts, cycles), ``gap_ratio``
    (largest / median angular gap), ``connected``.
    """
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
    w, V = _laplacian_low(A, Dm, dense)
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


def rational_distance(rho, q_max=50) -> tuple[float, int, int]:
    """Distance of rho to the nearest p/q with q <= q_max, and that (p, q)."""
    best = (np.inf, 0, 1)
    for q in range(1, q_max + 1):
        p = round(rho * q)
        dist = abs(rho - p / q)
        if dist < best[0] - 1e-15:
            best = (dist, int(p), q)
    return best


def correlation_dimension(P, *, n_max=400, rng=None) -> float:
    """Grassberger-Procaccia slope of log C(r) vs log r between the 0.5% and 10% quantiles of
    the pairwise distances (points subsampled, coordinates reduced to <= 20 principal axes)."""
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
    Dn = D[D <= hi]  # every count is of distances <= hi: no need to sort them all
    C = np.array([np.count_nonzero(Dn <= x) for x in r]) / D.size
    return float(np.polyfit(np.log(r), np.log(C), 1)[0])


def spectral_lines(seq) -> tuple[float, float]:
    """(line fraction, dominant frequency in cycles per sample) of a scalar sequence.

    Line fraction: share of the (Hann-windowed, mean-removed) power in the top 5% of frequency
    bins (at least 3). Near 1 for periodic and quasi-periodic sequences, well below for
    broadband (chaotic) ones.
    """
    x = np.asarray(seq, dtype=float)
    if x.size < 16:
        return np.nan, np.nan
    x = x - x.mean()
    P = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    P = P[1:]
    tot = P.sum()
    if tot <= 0:
        return 1.0, 0.0
    k = max(3, int(0.05 * P.size))
    frac = float(np.sort(P)[-k:].sum() / tot)
    i = int(np.argmax(P))
    f = (i + 1) / x.size
    if 0 < i < P.size - 1:  # parabolic interpolation on log power
        a, b, c = np.log(P[i - 1:i + 2] + 1e-300)
        den = a - 2 * b + c
        if den < 0:
            f += 0.5 * (a - c) / den / x.size
    return frac, float(f)


def pc1_series(X) -> np.ndarray:
    """Projection of the points on their first principal axis."""
    C = X - X.mean(0)
    return C @ pca_axes(C, 1)[0][0]


def set_overlap(A, B, eps) -> float:
    """Fraction of A's points with a point of B within eps, and vice versa (the smaller)."""
    ta, tb = cKDTree(A), cKDTree(B)
    fa = np.mean(tb.query(A, k=1, distance_upper_bound=eps)[0] <= eps)
    fb = np.mean(ta.query(B, k=1, distance_upper_bound=eps)[0] <= eps)
    return float(min(fa, fb))
