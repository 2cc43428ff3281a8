"""k-nearest-neighbour mutual-information kernels (KSG and Ross) for one-dimensional variables.

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

No validation and no random numbers here: the callers in ``attractorkit._information`` and
``attractorkit._selectivity`` prepare everything.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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


# Ross kernel: the sorted values are padded with ROSS_PAD copies of -inf / +inf at both ends so
# that neighbour counts can read whole blocks without bounds tests
ROSS_PAD = 64
# the smallest positive double: |a - b| < SMALLEST exactly when a == b
SMALLEST = 5e-324


@njit(cache=True, inline="always")
def _count_side(vp, j, x0, d1, d2, block, step):
    """Numbers of samples strictly within d1 and within d2 of x0 = vp[j] on one side of index
    j of the padded sorted values: after it for ``step`` = 1, before it for -1 (two radii: the
    two shuffles of a job share each pass over the values).

    Counted in branch-free blocks of ``block`` comparisons (a multiple of 8 passed at run
    time, so that LLVM vectorises the loop); on sorted values the count of a block is the
    length of its inside prefix, and a full block means the next one must be read too.
    """
    n1 = 0
    n2 = 0
    while True:
        c1 = 0
        c2 = 0
        for t in range(block):
            e = step * (vp[np.uint64(j + step * (1 + t))] - x0)
            c1 += e < d1
            c2 += e < d2
        n1 += c1
        n2 += c2
        if c1 < block and c2 < block:
            return n1, n2
        j += step * block


@njit(cache=True, inline="always")
def _kth_distance(cval, i, x0, kk):
    """Distance from x0 = cval[i] to its kk-th neighbour in the sorted run ``cval``: the
    smallest over a of max(distance of the a-th on the left, of the (kk - a)-th on the right).
    kk = 3 (the default k) is written out: a shallow min/max tree, 15% faster per sample than
    the loop."""
    if kk == 3:
        left1, left2, left3 = x0 - cval[i - 1], x0 - cval[i - 2], x0 - cval[i - 3]
        right1, right2, right3 = cval[i + 1] - x0, cval[i + 2] - x0, cval[i + 3] - x0
        return min(min(right3, max(left1, right2)), min(max(left2, right1), left3))
    d = cval[i + kk] - x0
    for a in range(1, kk + 1):
        d = min(d, max(x0 - cval[i - a], cval[i + kk - a] - x0))
    return d


@njit(cache=True)
def _class_runs(vp, lab, n, counts, k, psi, cidx, cval):
    """Gather the values of each class into a contiguous sorted run of ``cval`` with k values
    -inf / +inf around it; sample p lands at ``cval[cidx[p]]``. Returns per class kk (the
    neighbour rank used), psi(kk) - psi(n_c) and the block length of the neighbour counts."""
    n_classes = counts.shape[0]
    fill = np.empty(n_classes, np.int64)
    kks = np.empty(n_classes, np.int64)
    consts = np.empty(n_classes)
    blocks = np.empty(n_classes, np.int64)
    b = k
    for c in range(n_classes):
        nc = counts[c]
        fill[c] = b
        for a in range(1, k + 1):
            cval[b - a] = -np.inf
            cval[b + nc + a - 1] = np.inf
        b += nc + 2 * k
        kk = min(k, nc - 1)
        kks[c] = kk
        consts[c] = psi[kk] - psi[nc] if nc > 1 else 0.0
        # samples within d on one side ~ (kk + 1) n / (2 nc): one block usually does
        blocks[c] = min(ROSS_PAD, 8 * (1 + int(1.5 * (kk + 1) * n / (2 * max(nc, 1))) // 8))
    for p in range(n):
        c = lab[p]
        i = fill[c]
        cidx[p] = i
        cval[i] = vp[p + ROSS_PAD]
        fill[c] = i + 1
    return kks, consts, blocks


@njit(cache=True)
def _ross_pair(vp, labs, n, counts, k, psi, cidx, cval):
    """Ross (2014) estimates for the n samples of padded sorted values ``vp`` (sample p at
    ``vp[p + ROSS_PAD]``) under the one or two labellings ``labs`` (g, n) (returns both; the
    same twice for g = 1); ``counts`` are the class sizes, each 0 or at least 2 (classes of
    one sample dropped beforehand). ``cidx`` (g, n) and ``cval`` (g, n + 2 k n_classes) are
    work space.

    The k-th in-class neighbour of p comes from the k nearest members of its class run on
    each side; the count m of samples strictly within its distance d (p included, the k-th
    neighbour and ties at distance d not, as in scikit-learn) is read off the sorted values,
    in one pass for both labellings. Samples are visited in sorted order, the order in which
    the terms are summed.
    """
    if n == 0:
        return 0.0, 0.0
    h = labs.shape[0] - 1
    kks, consts, blocks = _class_runs(vp, labs[0], n, counts, k, psi, cidx[0], cval[0])
    if h:
        _class_runs(vp, labs[1], n, counts, k, psi, cidx[1], cval[1])
    lab1, lab2, cidx1, cidx2, cval1, cval2 = labs[0], labs[h], cidx[0], cidx[h], cval[0], cval[h]
    tot1 = 0.0
    tot2 = 0.0
    for p in range(n):
        c1 = lab1[p]
        c2 = lab2[p]
        x0 = cval1[cidx1[p]]
        # d = 0 (duplicates, jitter off): count the samples equal to x0, as scikit-learn
        # does (its radius nextafter(d, 0) with <= is < d for d > 0, == 0 for d = 0)
        d1 = max(_kth_distance(cval1, cidx1[p], x0, kks[c1]), SMALLEST)
        d2 = max(_kth_distance(cval2, cidx2[p], x0, kks[c2]), SMALLEST)
        j = p + ROSS_PAD
        block = max(blocks[c1], blocks[c2])
        up1, up2 = _count_side(vp, j, x0, d1, d2, block, 1)
        down1, down2 = _count_side(vp, j, x0, d1, d2, block, -1)
        tot1 += consts[c1] - psi[1 + up1 + down1]
        tot2 += consts[c2] - psi[1 + up2 + down2]
    return psi[n] + tot1 / n, psi[n] + tot2 / n


@njit(cache=True, parallel=True)
def ross_batch(vals, order, labels, perms, n_classes, k, psi, out):
    """Ross (2014) continuous-discrete MI of every unit with integer ``labels`` (N,) in
    0..n_classes-1, under every shuffle.

    Samples whose (shuffled) label occurs once are dropped (as scikit-learn does). A shuffle
    does not change the class sizes, so either no job drops anything, and a job is one unit
    under two shuffles sharing the padded sorted values, or every job (one unit, one shuffle)
    copies the values it keeps (rare in practice).
    """
    n_units, n = vals.shape
    n_shuf = perms.shape[0]
    kept = np.zeros(n_classes, np.int64)
    for i in range(n):
        kept[labels[i]] += 1
    n_used = 0
    for c in range(n_classes):
        kept[c] = kept[c] if kept[c] > 1 else 0
        n_used += kept[c]
    plab = np.empty((n_shuf, n), np.int32)
    for s in prange(n_shuf):
        for i in range(n):
            plab[s, i] = labels[perms[s, i]]
    width = n_used + 2 * k * n_classes
    if n_used < n:
        for job in prange(n_units * n_shuf):
            u = job // n_shuf
            s = job % n_shuf
            vp = np.full(n_used + 2 * ROSS_PAD, np.inf)
            vp[:ROSS_PAD] = -np.inf
            lab = np.empty((1, n_used), np.int32)
            j = 0
            for p in range(n):
                c = plab[s, order[u, p]]
                if kept[c] > 0:
                    lab[0, j] = c
                    vp[j + ROSS_PAD] = vals[u, p]
                    j += 1
            out[u, s] = _ross_pair(vp, lab, n_used, kept, k, psi, np.empty((1, n), np.int64),
                                   np.empty((1, width)))[0]
        return
    vpad = np.empty((n_units, n + 2 * ROSS_PAD))
    for u in prange(n_units):
        vpad[u, :ROSS_PAD] = -np.inf
        vpad[u, ROSS_PAD:ROSS_PAD + n] = vals[u]
        vpad[u, ROSS_PAD + n:] = np.inf
    n_pairs = (n_shuf + 1) // 2
    for job in prange(n_units * n_pairs):
        u = job // n_pairs
        s = 2 * (job % n_pairs)
        g = min(2, n_shuf - s)
        lab = np.empty((g, n), np.int32)
        for h in range(g):
            src = plab[s + h]
            dst = lab[h]
            for p in range(n):
                dst[p] = src[order[u, p]]
        mi = _ross_pair(vpad[u], lab, n, kept, k, psi, np.empty((g, n), np.int64),
                        np.empty((g, width)))
        out[u, s] = mi[0]
        if g == 2:
            out[u, s + 1] = mi[1]
