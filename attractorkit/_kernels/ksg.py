"""k-nearest-neighbour mutual-information kernels (KSG; Ross in ``ross.py``) for 1-D variables.

All kernels work on *sorted* copies of the data so that neighbour searches are sweeps and
marginal counts are binary searches, and they run a batch of (unit, shuffle) jobs in one
``prange``. Every comparison is made on exact differences ``|v[j] - v[p]|`` (never on bounds
``v[p] +- r``, which rounds), so counts agree with a KD-tree's.

Conventions shared by the batch kernels:

- ``vals`` (U, N): each row is one unit's values sorted ascending; ``order`` (U, N) the argsort
  that produced it (``vals[u] == x[order[u], u]``);
- ``perms`` (S, N): shuffles as index arrays; under shuffle ``s`` the partner variable of
  sample ``i`` is ``y[perms[s, i]]`` (row 0 is usually the identity: the observed value);
- ``psi`` (N + 2,): the digamma function at 0, 1, ..., N + 1 (``psi[0]`` is unused);
- ``out`` (U, S): the estimates, in nats.

No validation and no random numbers here: the callers in ``attractorkit.information._mi`` and
``attractorkit.information._selectivity`` prepare everything.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .ross import ross_batch  # noqa: F401  (Ross's estimator lives in ross.py; re-exported)

# mean number of points per grid cell under independence (tuned in benchmarks/bench_mi.py)
GRID_OCCUPANCY = 2.0


@njit(cache=True, inline="always")
def _inside(d, r, strict):
    return d < r if strict else d <= r


@njit(cache=True, inline="always")
def count_within(v, p, r, strict):
    """Number of j != p with |v[j] - v[p]| < r (strict) or <= r, for v sorted ascending.

    Galloping outward from p brackets each end (one unpredictable branch), then a
    fixed-length bisection on the exact predicate finds it (branch-free selects).
    """
    n = v.shape[0]
    c = v[p]
    if strict and r <= 0.0:
        return 0
    # left end: first j <= p inside. Invariant: v[lo] outside (or lo = -1), v[hi] inside.
    step = 1
    while p - step >= 0 and _inside(c - v[p - step], r, strict):
        step *= 2
    lo = max(p - step, -1)
    length = p - step // 2 - lo          # hi - lo with hi = p - step // 2 (inside)
    while length > 1:
        half = length // 2
        mid = lo + half
        lo = lo if _inside(c - v[mid], r, strict) else mid
        length -= half
    left = lo + 1
    # right end: last j >= p inside. Invariant: v[lo] inside, v[hi] outside (or hi = n).
    step = 1
    while p + step < n and _inside(v[p + step] - c, r, strict):
        step *= 2
    lo = p + step // 2
    length = min(p + step, n) - lo
    while length > 1:
        half = length // 2
        mid = lo + half
        lo = mid if _inside(v[mid] - c, r, strict) else lo
        length -= half
    return lo - left


@njit(cache=True, inline="always")
def _insert(best, bdx, bdy, d, dx, dy, k):
    i = k - 1
    while i > 0 and best[i - 1] > d:
        best[i] = best[i - 1]
        bdx[i] = bdx[i - 1]
        bdy[i] = bdy[i - 1]
        i -= 1
    best[i] = d
    bdx[i] = dx
    bdy[i] = dy


@njit(cache=True, inline="always")
def _scan_cell(cell, start, mx, my, mid, p, x0, y0, k, best, bdx, bdy, track):
    """Offer the points of one cell to the k best. Without ``track`` (KSG1 needs only the
    distances) the update is a branch-free min/max network; with it, an insertion that also
    keeps each neighbour's |dx| and |dy| (KSG2)."""
    for m in range(start[cell], start[cell + 1]):
        dx = abs(mx[m] - x0)
        dy = abs(my[m] - y0)
        d = dx if dx >= dy else dy
        d = np.inf if mid[m] == p else d
        if track:
            if d < best[k - 1]:
                _insert(best, bdx, bdy, d, dx, dy, k)
        else:
            for i in range(k - 1, 0, -1):
                best[i] = min(best[i], max(best[i - 1], d))
            best[0] = min(best[0], d)


@njit(cache=True, inline="always")
def _knn_grid(xv, yv, ysorted, first, g, cx, cy, start, mx, my, mid, p, k, best, bdx, bdy,
              track):
    """k nearest neighbours of point p (max norm) on an equal-count g x g grid.

    Rings of cells around p's cell are scanned until the k-th best distance is no larger than
    the distance from p to the edge of the scanned block (exact, from the sorted marginals).
    """
    for i in range(k):
        best[i] = np.inf
    x0 = xv[p]
    y0 = yv[p]
    a = cx[p]
    b = cy[p]
    r = 0
    while True:
        if r == 0:
            _scan_cell(a * g + b, start, mx, my, mid, p, x0, y0, k, best, bdx, bdy,
                track)
        else:
            for c in range(max(a - r, 0), min(a + r, g - 1) + 1):
                if b - r >= 0:
                    _scan_cell(c * g + b - r, start, mx, my, mid, p, x0, y0, k, best, bdx, bdy,
                track)
                if b + r < g:
                    _scan_cell(c * g + b + r, start, mx, my, mid, p, x0, y0, k, best, bdx, bdy,
                track)
            for c in range(max(b - r + 1, 0), min(b + r - 1, g - 1) + 1):
                if a - r >= 0:
                    _scan_cell((a - r) * g + c, start, mx, my, mid, p, x0, y0, k, best, bdx, bdy,
                track)
                if a + r < g:
                    _scan_cell((a + r) * g + c, start, mx, my, mid, p, x0, y0, k, best, bdx, bdy,
                track)
        bound = np.inf
        if a - r >= 1:
            bound = min(bound, x0 - xv[first[a - r] - 1])
        if a + r + 1 <= g - 1:
            bound = min(bound, xv[first[a + r + 1]] - x0)
        if b - r >= 1:
            bound = min(bound, y0 - ysorted[first[b - r] - 1])
        if b + r + 1 <= g - 1:
            bound = min(bound, ysorted[first[b + r + 1]] - y0)
        if best[k - 1] <= bound:
            return
        r += 1


@njit(cache=True)
def _grid(xv, yv, ypos):
    """Equal-count g x g grid over (rank of x, rank of y); points stored cell by cell."""
    n = xv.shape[0]
    g = max(1, int(np.sqrt(n / GRID_OCCUPANCY)))
    first = np.empty(g + 1, np.int64)
    for c in range(g + 1):
        first[c] = (c * n + g - 1) // g
    cx = np.empty(n, np.int64)
    cy = np.empty(n, np.int64)
    start = np.zeros(g * g + 1, np.int64)
    for p in range(n):
        cx[p] = (p * g) // n
        cy[p] = (ypos[p] * g) // n
        start[cx[p] * g + cy[p] + 1] += 1
    for c in range(g * g):
        start[c + 1] += start[c]
    fill = start[: g * g].copy()
    mx = np.empty(n)
    my = np.empty(n)
    mid = np.empty(n, np.int64)
    for p in range(n):
        c = cx[p] * g + cy[p]
        mx[fill[c]] = xv[p]
        my[fill[c]] = yv[p]
        mid[fill[c]] = p
        fill[c] += 1
    return g, first, cx, cy, start, mx, my, mid


@njit(cache=True)
def _ksg_sum(xv, yv, ysorted, ypos, k, variant, psi, g, first, cx, cy, start, mx, my, mid,
             p0, p1):
    """Sum over points p0..p1-1 of the digamma terms of KSG1 / KSG2."""
    best = np.empty(k)
    bdx = np.zeros(k)
    bdy = np.zeros(k)
    total = 0.0
    for p in range(p0, p1):
        _knn_grid(xv, yv, ysorted, first, g, cx, cy, start, mx, my, mid, p, k, best, bdx, bdy,
                  variant == 2)
        if variant == 1:
            eps = best[k - 1]
            nx = count_within(xv, p, eps, True)
            ny = count_within(ysorted, ypos[p], eps, True)
            total += psi[nx + 1] + psi[ny + 1]
        else:
            ex = 0.0
            ey = 0.0
            for i in range(k):
                ex = max(ex, bdx[i])
                ey = max(ey, bdy[i])
            nx = count_within(xv, p, ex, False)
            ny = count_within(ysorted, ypos[p], ey, False)
            total += psi[nx] + psi[ny]
    return total


@njit(cache=True)
def _ksg_finish(total, n, k, variant, psi):
    mi = psi[k] + psi[n] - total / n
    if variant == 2:
        mi -= 1.0 / k
    return mi


@njit(cache=True)
def _ksg_one(xv, yv, ysorted, ypos, k, variant, psi):
    """KSG estimate for x sorted ascending, y aligned with x, ysorted and positions of yv in it."""
    n = xv.shape[0]
    g, first, cx, cy, start, mx, my, mid = _grid(xv, yv, ypos)
    total = _ksg_sum(xv, yv, ysorted, ypos, k, variant, psi, g, first, cx, cy, start, mx, my,
                     mid, 0, n)
    return _ksg_finish(total, n, k, variant, psi)


@njit(cache=True, parallel=True)
def ksg_points(xv, yv, ysorted, ypos, k, variant, psi, n_chunks):
    """One KSG estimate with the points split over ``n_chunks`` parallel chunks (for a single
    large pair, where ``ksg_batch`` would have a single job)."""
    n = xv.shape[0]
    g, first, cx, cy, start, mx, my, mid = _grid(xv, yv, ypos)
    parts = np.zeros(n_chunks)
    for c in prange(n_chunks):
        parts[c] = _ksg_sum(xv, yv, ysorted, ypos, k, variant, psi, g, first, cx, cy, start,
                            mx, my, mid, c * n // n_chunks, (c + 1) * n // n_chunks)
    return _ksg_finish(parts.sum(), n, k, variant, psi)


@njit(cache=True, parallel=True)
def ksg_batch(vals, order, y, ysorted, yrank, perms, k, variant, psi, out):
    """KSG1 (variant 1) or KSG2 (variant 2) of every unit with y under every shuffle.

    ``y`` (N,) is the continuous partner, ``ysorted`` its sorted values and ``yrank[i]`` the
    position of ``y[i]`` in ``ysorted``.
    """
    n_units, n = vals.shape
    n_shuf = perms.shape[0]
    for job in prange(n_units * n_shuf):
        u = job // n_shuf
        s = job % n_shuf
        yv = np.empty(n)
        ypos = np.empty(n, np.int64)
        for p in range(n):
            j = perms[s, order[u, p]]
            yv[p] = y[j]
            ypos[p] = yrank[j]
        out[u, s] = _ksg_one(vals[u], yv, ysorted, ypos, k, variant, psi)


@njit(cache=True, parallel=True)
def ksg_pairs(vals, order, ranks, pairs, partner, k, variant, psi, out):
    """KSG between unit pairs: ``pairs`` (P, 2) of column indices; ``ranks[u, i]`` is the
    position of sample i in ``vals[u]``; sample i of unit a is paired with sample
    ``partner[i]`` of unit b (the identity for the observed value, a shift for a null)."""
    n = vals.shape[1]
    for q in prange(pairs.shape[0]):
        a = pairs[q, 0]
        b = pairs[q, 1]
        yv = np.empty(n)
        ypos = np.empty(n, np.int64)
        for p in range(n):
            ypos[p] = ranks[b, partner[order[a, p]]]
            yv[p] = vals[b, ypos[p]]
        out[q] = _ksg_one(vals[a], yv, vals[b], ypos, k, variant, psi)
