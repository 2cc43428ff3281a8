"""Ross (2014) continuous-discrete mutual-information kernel for one-dimensional variables.

Conventions as in :mod:`attractorkit._kernels.ksg`: ``vals`` (U, N) sorted values per unit,
``order`` (U, N) their argsort, ``perms`` (S, N) shuffles as index arrays (row 0 usually the
identity), ``psi`` (N + 2,) the digamma table, ``out`` (U, S) estimates in nats. Every
comparison is made on exact differences, so counts agree with a KD-tree's. No validation and no
random numbers here.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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
