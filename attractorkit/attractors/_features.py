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

from ..core._pca import pca_axes


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


def stationarity(X, *, with_spread=False) -> tuple:
    """(spread ratio second half / first half, mean shift between halves / spread), and the
    spread of all of X (:func:`spread_of`) when ``with_spread``.

    Two passes over X: the halves' means, then their squared deviations; the whole's sum of
    squares is the halves' plus their means' deviations from the overall mean (the same
    numbers as three :func:`spread_of` calls up to rounding)."""
    n = X.shape[0]
    h = n // 2
    a, b = X[:h], X[h:]
    if h < 2:
        sa, sb, s = spread_of(a), spread_of(b), spread_of(X)
        ma, mb = a.mean(0), b.mean(0)
    else:
        ma, mb = a.mean(0), b.mean(0)
        ssa, ssb = _sum_sq(a - ma), _sum_sq(b - mb)
        m = (h * ma + (n - h) * mb) / n
        ss = ssa + ssb + h * _sum_sq(ma - m) + (n - h) * _sum_sq(mb - m)
        sa, sb, s = np.sqrt(ssa / h), np.sqrt(ssb / (n - h)), float(np.sqrt(ss / n))
    out = (1.0, 0.0) if s == 0 else (float(sb / sa) if sa > 0 else np.inf,
                                     float(np.linalg.norm(ma - mb) / s))
    return out + (s,) if with_spread else out


def _sum_sq(D):
    D = np.ascontiguousarray(D).ravel()
    return float(D @ D)


def _reduce(P, k=10, axes=None):
    """P centred and projected on its first k principal axes (those with a variance above
    1e-18 of the first, at least 2); ``axes`` = (V, var) from :func:`pca_axes` of a larger
    set holding P (e.g. the whole orbit) replaces P's own."""
    C = P - P.mean(0)
    V, var = pca_axes(C, k) if axes is None else (axes[0][:k], axes[1][:k])
    keep = max(2, int(np.sum(var > 1e-18 * var[0])) if var.size and var[0] > 0 else 2)
    # contiguous axes: a BLAS product (the reversed-order view takes numpy's slow loop)
    return C @ np.ascontiguousarray(V[:keep].T)


def knn_laplacian(nb):
    """Normalised Laplacian ``L = I - Dm A Dm`` (CSC) of the symmetrised k-NN graph, and
    ``Dm = 1 / sqrt(degree)``.

    ``nb`` (N, k+1) are each point's neighbour indices, nearest first; column 0 (the point
    itself) is skipped. A is the 0/1 matrix with A[i, j] = 1 when j is among i's k neighbours
    or i among j's. L is built from the edge list (no dense N x N matrix) with the entries,
    order and index type the dense construction ``I - Dm[:, None] * A * Dm[None, :]`` converted
    to CSC would have: the eigensolvers see the same matrix."""
    import scipy.sparse as sp

    N, kk = nb.shape
    src = np.repeat(np.arange(N, dtype=np.int64), kk - 1)
    dst = nb[:, 1:].astype(np.int64).ravel()
    # CSC order is column-major: key = column * N + row; both directions, duplicates merged
    key = np.unique(np.concatenate([dst * N + src, src * N + dst]))
    col, row = np.divmod(key, N)
    deg = np.bincount(col, minlength=N).astype(float)  # A symmetric: row sums = column sums
    Dm = 1.0 / np.sqrt(deg)
    m = Dm[row] * Dm[col]  # (Dm_i * A_ij) * Dm_j with A_ij = 1
    off = row != col  # a self-loop (duplicate points) sits on the diagonal: 1 - m there
    diag = np.arange(N, dtype=np.int64)
    dval = np.ones(N)
    dval[row[~off]] -= m[~off]
    key = np.concatenate([key[off], diag * N + diag])
    val = np.concatenate([-m[off], dval])
    order = np.argsort(key, kind="stable")
    key, val = key[order], val[order]
    indptr = np.searchsorted(key, np.arange(N + 1, dtype=np.int64) * N).astype(np.int32)
    L = sp.csc_matrix((val, (key % N).astype(np.int32), indptr), shape=(N, N))
    L.has_sorted_indices = True
    return L, Dm


class _ShiftInvert:
    """``x -> (L - sigma I)^-1 x`` by a sparse LU, as ARPACK's shift-invert mode would build it
    (the same CSC matrix, the same factorisation), without the generic operator layers."""

    def __init__(self, L, sigma):
        from scipy.sparse.linalg import splu

        M = L.copy()  # canonical CSC with every diagonal entry stored (knn_laplacian)
        col = np.repeat(np.arange(L.shape[0]), np.diff(L.indptr))
        diag = L.indices == col
        M.data[diag] = L.data[diag] - sigma  # what L - sigma * eye(N) stores
        self.lu = splu(M)
        self.shape, self.dtype = L.shape, L.dtype

    def matvec(self, x):
        return self.lu.solve(x)


def _laplacian_low(L, dense):
    """The 3 smallest eigenpairs of the normalised Laplacian L (see :func:`knn_laplacian`):
    sparse shift-invert Lanczos (ARPACK; the graph has about k N non-zeros, 3-4x faster than a
    dense solver at N = 400), the dense solver when ``dense`` or if ARPACK does not converge."""
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    N = L.shape[0]
    if not dense:
        v0 = np.random.default_rng(0).standard_normal(N)  # fixed start: reproducible
        try:
            w, V = eigsh(L, k=3, sigma=-1e-3, which="LM", v0=v0,
                         OPinv=_ShiftInvert(L, -1e-3))
            order = np.argsort(w)
            return w[order], V[:, order]
        except (ArpackNoConvergence, RuntimeError):
            pass
    return eigh(L.toarray(), subset_by_index=[0, 2])


def curve_test(P, *, n_max=400, k=6, dense=False, axes=None) -> dict:
    """Is the ordered point sequence P a rotation on one closed curve?

    The points (a contiguous block of at most ``n_max``) are ordered around the curve by the
    angle of their first two non-trivial Laplacian-eigenmap coordinates of the k-NN graph
    (which, for a sampled closed curve, are the cosine and sine of the position along it,
    however the curve is embedded). If P is the orbit of a circle homeomorphism, the rank of
    each point in that cyclic order advances by a constant fraction ``rho`` (the rotation number;
    the empirical distribution function conjugates the dynamics to a rigid rotation), so the
    spread of the rank shifts measures how well "rotation on a closed curve" describes P.
    ``dense=True`` uses the dense eigensolver (the reference for the sparse default).
    ``axes``: principal axes (V, var) of all of P (see :func:`pca_axes`) for the
    10-dimensional reduction, instead of those of the block.

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
    Y = _reduce(P, 10, axes)
    kk = min(k + 1, N)
    _, nb = cKDTree(Y).query(Y, k=kk)
    L, Dm = knn_laplacian(nb)
    w, V = _laplacian_low(L, dense)
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


def correlation_dimension(P, *, n_max=400, rng=None, axes=None) -> float:
    """Grassberger-Procaccia slope of log C(r) vs log r between the 0.5% and 10% quantiles of
    the pairwise distances (points subsampled, coordinates reduced to <= 20 principal axes:
    those of the subsample, or ``axes`` = (V, var) of all of P, see :func:`pca_axes`)."""
    if P.shape[0] < 30:
        return np.nan
    rng = np.random.default_rng(0) if rng is None else rng
    idx = rng.choice(P.shape[0], size=min(n_max, P.shape[0]), replace=False)
    D = pdist(_reduce(P[idx], 20, axes))
    if not D.min() > 0:
        D = D[D > 0]
    if D.size < 100:
        return 0.0
    (lo, hi), Dn = low_quantiles(D, [0.005, 0.1])
    if not hi > lo:
        return 0.0
    r = np.geomspace(lo, hi, 10)
    # every count is of distances <= hi: no need to sort them all
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


def pc1_series(X, axes=None) -> np.ndarray:
    """Projection of the points on their first principal axis (``axes`` from
    :func:`pca_axes` of X, if already computed)."""
    C = X - X.mean(0)
    return C @ (pca_axes(C, 1) if axes is None else axes)[0][0]


def set_overlap(A, B, eps) -> float:
    """Fraction of A's points with a point of B within eps, and vice versa (the smaller)."""
    ta, tb = cKDTree(A), cKDTree(B)
    fa = np.mean(tb.query(A, k=1, distance_upper_bound=eps)[0] <= eps)
    fb = np.mean(ta.query(B, k=1, distance_upper_bound=eps)[0] <= eps)
    return float(min(fa, fb))
