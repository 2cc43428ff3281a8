"""Evidence about one recorded orbit: recurrence, stationarity, curve geometry and rotation,
correlation dimension, spectral lines. Pure numpy/scipy functions used by the classifier, and
public as the lower layer of :func:`attractorkit.classify_attractors`.

Each function takes the consecutive points of one orbit (a map's iterates, or the successive
Poincaré-section points of a flow) and returns a number or a small named result.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.distance import pdist

from .._kernels.neighbours import knn_laplacian, laplacian_low, n_components
from .._kernels.quantiles import low_quantiles
from ..core._pca import pca_axes

__all__ = ["CurveTest", "Recurrence", "RationalApproximation", "SpectralLines", "Stationarity",
           "correlation_dimension", "curve_test", "exact_period", "rational_distance",
           "return_ratio", "spectral_lines", "stationarity"]


class Recurrence(NamedTuple):
    """Smallest exact period (0 if none) and its recurrence error (else the closest return)."""

    period: int
    error: float


class Stationarity(NamedTuple):
    """The record's halves compared: spread ratio (second / first), mean shift / spread, and
    the spread (RMS distance from the mean) of the whole record."""

    spread_ratio: float
    mean_shift: float
    spread: float


class RationalApproximation(NamedTuple):
    """The nearest p/q (q <= q_max) to a number, and its distance."""

    distance: float
    p: int
    q: int


class SpectralLines(NamedTuple):
    """Share of power in the top 5% of frequency bins, dominant frequency (cycles/sample)."""

    line_fraction: float
    frequency: float


@dataclasses.dataclass(frozen=True)
class CurveTest:
    """Result of :func:`curve_test`.

    Attributes
    ----------
    ring_cv : float
        Spread (coefficient of variation) of the eigenmap radius.
    rotation : float
        Rotation number in [0, 0.5] (orientation folded).
    shift_spread : float
        Circular standard deviation of the rank shifts, in cycles.
    gap_ratio : float
        Largest / median angular gap.
    connected : bool
        The k-NN graph is connected.
    """

    ring_cv: float = np.nan
    rotation: float = np.nan
    shift_spread: float = np.nan
    gap_ratio: float = np.nan
    connected: bool = False


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


def exact_period(X, p_max, tol) -> Recurrence:
    """Smallest p <= p_max with |h_{t+p} - h_t|_inf <= tol over a window of the record X
    (n_steps, n) ending at its last state (the window holds max(2 p, 50) returns, or all
    there are); period 0 if none, with the closest last return as the error.

    A recurrence whose window spans at most 100 tol in every coordinate is not resolved from a
    point: it is reported as period 1 (a spiral converging within tolerance returns closer
    after a few steps than after one)."""
    e = last_returns(X, p_max)
    for p in np.flatnonzero(e <= tol) + 1:
        W = X.shape[0] - p
        span = min(W, max(2 * p, 50))
        err = float(np.max(np.abs(X[-span:] - X[-span - p:-p])))
        if err <= tol:
            if p > 1 and float(np.max(np.ptp(X[-span - p:], axis=0))) <= 100 * tol:
                return Recurrence(1, err)
            return Recurrence(int(p), err)
    return Recurrence(0, float(e.min()) if e.size else np.inf)


def return_ratio(X, p_max, *, n_candidates=3) -> float:
    """How much the near-returns of the record X shrink along it: for p = 1 and the periods
    p <= p_max whose last return is among the ``n_candidates`` closest and within 20% of the
    spread, the distances |h_{t+p} - h_t|_inf are cut into quarters; the result is the
    smallest ratio last / first quarter median among the periods whose quarter medians
    strictly decrease (1.0 if none does). Below about 0.7: the record still approaches a fixed
    point or a cycle; on an attractor the returns are stationary (a quasi-periodic orbit's
    near-returns, a cycle longer than the candidates)."""
    spread = spread_of(X)
    cands = {1}
    e = last_returns(X, min(p_max, X.shape[0] - 1))
    if e.size:
        order = np.argsort(e)[:n_candidates]
        cands |= {int(j) + 1 for j in order if e[j] <= 0.2 * max(spread, 1e-300)}
    return min(shrink_ratio(X, p) for p in sorted(cands))


def shrink_ratio(X, p) -> float:
    """Last / first quarter median of the return distances |h_{t+p} - h_t|_inf along the
    record X when the quarter medians strictly decrease, else 1.0."""
    if X.shape[0] < p + 8:
        return 1.0
    d = np.max(np.abs(X[p:] - X[:-p]), axis=1)
    q = d.size // 4
    quarters = [np.median(d[k * q:(k + 1) * q]) for k in range(4)]
    if all(a > b for a, b in zip(quarters[:-1], quarters[1:])) and quarters[0] > 0:
        return float(quarters[-1] / quarters[0])
    return 1.0


def stationarity(X) -> Stationarity:
    """The two halves of the record X (n_steps, n) compared: spread ratio second half / first
    half, mean shift between halves / spread, and the spread of all of X.

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
    if s == 0:
        return Stationarity(1.0, 0.0, 0.0)
    return Stationarity(float(sb / sa) if sa > 0 else np.inf,
                        float(np.linalg.norm(ma - mb) / s), float(s))


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


def curve_test(P, *, n_max=400, k=6, dense=False, axes=None) -> CurveTest:
    """Is the ordered point sequence P a rotation on one closed curve?

    The points (the last contiguous block of at most ``n_max``) are ordered around the curve by
    the angle of their first two non-trivial Laplacian-eigenmap coordinates of the k-NN graph
    (which, for a sampled closed curve, are the cosine and sine of the position along it,
    however the curve is embedded). If P is the orbit of a circle homeomorphism, the rank of
    each point in that cyclic order advances by a constant fraction ``rho`` (the rotation number;
    the empirical distribution function conjugates the dynamics to a rigid rotation), so the
    spread of the rank shifts measures how well "rotation on a closed curve" describes P.

    The orbit of a rotation close to p/q comes in tight groups whose sizes depend on the number
    of points (the three-gap theorem), and the k-NN graph of a short block may fall apart into
    them, or the block may leave a gap on its curve (an orbit that has not yet filled it): then
    2k neighbours are tried, then longer blocks (400, 1600, then ``n_max`` points; the first
    whose graph is connected and that is not a gapped curve is used, so a set that is clearly
    no curve costs one 400-point test). A set whose graph stays in several pieces is no closed
    curve. ``dense=True`` uses the dense eigensolver (the reference for the
    sparse default). ``axes``: principal axes (V, var) of all of P (see
    :func:`attractorkit.core.pca_axes`) for the 10-dimensional reduction, instead of those of
    the block. Fewer than 20 points, or no connected graph: NaNs, not connected.

    Returns
    -------
    CurveTest
    """
    N = P.shape[0]
    sizes = sorted({min(s, n_max, N) for s in (400, 1600, n_max)})
    ct = None
    for size in sizes:
        ct = _curve_block(P[-size:], k, dense, axes) or ct
        if ct is not None and not _gapped_curve(ct):
            return ct
    return ct if ct is not None else CurveTest()


def _gapped_curve(ct) -> bool:
    """A rotation on a curve (small radius spread and rank-shift spread) that leaves a gap:
    more points may close it."""
    return ct.ring_cv < 0.25 and ct.shift_spread < 0.02 and ct.gap_ratio >= 30


def _curve_block(P, k, dense, axes):
    """:func:`curve_test` on the block P, or None when its neighbour graph is in pieces."""
    N = P.shape[0]
    if N < 20:
        return CurveTest()
    Y = _reduce(P, 10, axes)
    tree = cKDTree(Y)
    for kk in (k, 2 * k):
        _, nb = tree.query(Y, k=min(kk + 1, N))
        if n_components(nb) == 1:
            break
    else:
        return None
    L, Dm = knn_laplacian(nb)
    low = laplacian_low(L, dense=dense, maxiter=500, dense_max=1500)
    if low is None:
        return None
    w, V = low
    connected = bool(w[1] > 1e-9)
    U = V[:, 1:3] * Dm[:, None]
    r = np.hypot(U[:, 0], U[:, 1])
    ring_cv = float(r.std() / r.mean()) if r.mean() > 0 else np.inf
    ang = np.arctan2(U[:, 1], U[:, 0])
    order = np.argsort(ang)
    srt = ang[order]
    gaps = np.diff(np.r_[srt, srt[0] + 2 * np.pi])
    gap_ratio = float(gaps.max() / max(np.median(gaps), 1e-300))
    rank = np.empty(N)
    rank[order] = np.arange(N)
    z = np.exp(2j * np.pi * np.mod(np.diff(rank) / N, 1.0))
    R = abs(z.mean())
    shift_spread = float(np.sqrt(max(-2.0 * np.log(max(R, 1e-300)), 0.0)) / (2 * np.pi))
    rho = float(np.mod(np.angle(z.mean()) / (2 * np.pi), 1.0))
    return CurveTest(ring_cv=ring_cv, rotation=min(rho, 1.0 - rho), shift_spread=shift_spread,
                     gap_ratio=gap_ratio, connected=connected)


def rational_distance(rho, q_max=50) -> RationalApproximation:
    """Distance of rho to the nearest p/q with q <= q_max, and that (p, q)."""
    best = (np.inf, 0, 1)
    for q in range(1, q_max + 1):
        p = round(rho * q)
        dist = abs(rho - p / q)
        if dist < best[0] - 1e-15:
            best = (dist, int(p), q)
    return RationalApproximation(*best)


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


def spectral_lines(seq) -> SpectralLines:
    """(line fraction, dominant frequency in cycles per sample) of a scalar sequence.

    Line fraction: share of the (Hann-windowed, mean-removed) power in the top 5% of frequency
    bins (at least 3). Near 1 for periodic and quasi-periodic sequences, well below for
    broadband (chaotic) ones.
    """
    x = np.asarray(seq, dtype=float)
    if x.size < 16:
        return SpectralLines(np.nan, np.nan)
    x = x - x.mean()
    P = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    P = P[1:]
    tot = P.sum()
    if tot <= 0:
        return SpectralLines(1.0, 0.0)
    k = max(3, int(0.05 * P.size))
    frac = float(np.sort(P)[-k:].sum() / tot)
    i = int(np.argmax(P))
    f = (i + 1) / x.size
    if 0 < i < P.size - 1:  # parabolic interpolation on log power
        a, b, c = np.log(P[i - 1:i + 2] + 1e-300)
        den = a - 2 * b + c
        if den < 0:
            f += 0.5 * (a - c) / den / x.size
    return SpectralLines(frac, float(f))


def pc1_series(X, axes=None) -> np.ndarray:
    """Projection of the points on their first principal axis (``axes`` from
    :func:`pca_axes` of X, if already computed)."""
    C = X - X.mean(0)
    return C @ (pca_axes(C, 1) if axes is None else axes)[0][0]
