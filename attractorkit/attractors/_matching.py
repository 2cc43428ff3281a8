"""Per-run results of a classification in progress, and the matching of attractors across the
initial states of one condition (same label and overlapping point sets)."""

from __future__ import annotations

import numpy as np

from . import _decide as D
from . import _features as F

__all__ = ["RunResults"]

_MARGIN = 1e-9  # relative: cheap bounds decide only when rounding cannot matter


class RunResults:
    """Per-run labels, evidence and point sets while a classification is assembled."""

    def __init__(self, B, n, m):
        self.label = np.full(B, D.UNDETERMINED, dtype="U14")
        self.period = np.full(B, np.nan)
        self.tdim = np.zeros(B, dtype=np.int64)
        self.conf = np.zeros(B)
        self.reason = np.full(B, "", dtype="U120")
        self.lam = np.full((B, m), np.nan)
        self.se = np.full((B, m), np.nan)
        self.loc = np.full((B, n), np.nan)
        self.final = np.full((B, n), np.nan)
        self.steps = np.zeros(B, dtype=np.int64)
        self.ev = D.empty_evidence(B)
        self.pts = [None] * B
        self.ids = np.full(B, -1, dtype=np.int64)

    def set(self, b, label, *, period=np.nan, tdim=0, conf=0.0, reason="", loc=None, pts=None):
        self.label[b], self.period[b], self.tdim[b] = label, period, tdim
        self.conf[b], self.reason[b] = conf, reason[:120]
        if loc is not None:
            self.loc[b] = loc
        self.pts[b] = pts

    def match(self, c, i, st):
        """Attractor ids per condition: same label and overlapping point sets."""
        for cc in range(c):
            rows = [b for b in range(cc * i, (cc + 1) * i)
                    if self.label[b] != D.DIVERGENT and self.pts[b] is not None]
            self._match_condition(rows)

    def _match_condition(self, rows):
        facts = {b: _SetFacts(self.pts[b]) for b in rows}
        multi = [facts[b] for b in rows if facts[b].n > 1]
        keep = None  # coordinates constant over all the condition's sets carry no distance
        if multi:  # max > min over the sets' points <=> np.ptp of their concatenation > 0
            moving = np.max([f.hi for f in multi], axis=0) > np.min([f.lo for f in multi],
                                                                     axis=0)
            keep = moving if 0 < moving.sum() < moving.size else None
        for f in facts.values():
            f.keep = keep
        reps = []  # (row of the representative, id)
        for b in rows:
            for rep, aid in reps:
                if self.label[rep] != self.label[b]:
                    continue
                fa, fp = facts[rep], facts[b]
                if fa.n == 1 and fp.n == 1 and self.label[b] != D.CHAOTIC:
                    same = bool(np.linalg.norm(fa.P[0] - fp.P[0]) <= 1e-6 * max(
                        fa.scale, fp.scale))  # _same on two fixed points
                else:
                    same = _same(fa.P, fp.P, self.label[b] == D.CHAOTIC, fa, fp)
                if same:
                    self.ids[b] = aid
                    break
            else:
                self.ids[b] = len(reps)
                reps.append((b, len(reps)))


class _SetFacts:
    """Facts about one run's point set P used by the matching, each computed when first
    needed: scale, spread, median nearest-neighbour distance (and a cheap upper bound of it),
    KD-tree, bounding box, the points Y on the coordinates ``keep`` and Y sorted along its
    widest coordinate (candidate neighbours)."""

    def __init__(self, P, keep=None):
        self.P = P
        self.n = P.shape[0]
        self.keep = keep
        self._c = {}

    def _get(self, name, make):
        if name not in self._c:
            self._c[name] = make()
        return self._c[name]

    @property
    def scale(self):  # F.scale_of(P); for one point 1 + max |p| (the mean of one number)
        return self._get("scale", lambda: 1.0 + float(np.max(np.abs(self.P[0]))) if self.n == 1
                         else F.scale_of(self.P))

    @property
    def hi(self):
        return self._get("hi", lambda: self.P.max(axis=0))

    @property
    def lo(self):
        return self._get("lo", lambda: self.P.min(axis=0))

    @property
    def Y(self):
        return self._get("Y", lambda: self.P if self.keep is None or self.n == 1 else
                         np.ascontiguousarray(self.P[:, self.keep]))

    @property
    def spread(self):
        return self._get("spread", lambda: F.spread_of(self.Y))

    @property
    def tree(self):
        from scipy.spatial import cKDTree

        return self._get("tree", lambda: cKDTree(self.Y))

    @property
    def nn(self):
        """Median distance of a point to its nearest other point (KD-tree), None for one."""
        return self._get("nn", lambda: float(np.median(self.tree.query(self.Y, k=2)[0][:, 1]))
                         if self.n >= 2 else None)

    @property
    def nn_bound(self):
        """An upper bound of ``nn``: the median over points of the distance to the closest of
        the 2 points on either side in the order along the widest coordinate."""
        return self._get("nn_bound", self._nn_bound)

    def _nn_bound(self):
        Ys = self.sorted[2]
        d = np.full(self.n, np.inf)
        for s in range(1, min(3, self.n)):
            e = Ys[s:] - Ys[:-s]
            e = np.sqrt(np.einsum("ij,ij->i", e, e))
            np.minimum(d[s:], e, out=d[s:])
            np.minimum(d[:-s], e, out=d[:-s])
        return float(np.median(d))

    @property
    def sorted(self):
        """(widest coordinate j, Y[:, j] sorted, Y in that order)."""
        def make():
            Y = self.Y
            lo, hi = self.box()
            j = int(np.argmax(hi - lo))
            order = np.argsort(Y[:, j], kind="stable")
            Ys = Y[order]
            return j, np.ascontiguousarray(Ys[:, j]), Ys
        return self._get("sorted", make)

    def box(self):
        return (self.lo, self.hi) if self.keep is None else (self.lo[self.keep],
                                                            self.hi[self.keep])


def _share_within(fa, fb, eps):
    """The share of A's points with a point of B within eps — as the KD-tree query gives
    it — or, when a cheap test already decides ``share >= 0.8``, a number on the same side of
    0.8: 0.0 if the bounding boxes are more than eps apart; the share of points with a
    candidate neighbour (the 2, then 4, nearest along B's widest coordinate) clearly within
    eps if that alone reaches 0.8 (the true share is at least as large)."""
    (la, ha), (lb, hb) = fa.box(), fb.box()
    gap = np.maximum(np.maximum(lb - ha, la - hb), 0.0)
    if float(np.sqrt(gap @ gap)) > eps * (1 + _MARGIN):
        return 0.0
    A = fa.Y
    j, s, Bs = fb.sorted
    pos = np.searchsorted(s, A[:, j])
    d2 = np.full(fa.n, np.inf)
    thr = eps * eps * (1 - _MARGIN)
    rows = slice(None)
    for ks in ((-1, 0), (-2, 1)):  # the 2 nearest along j, then 2 more for the points left
        for k in ks:
            diff = Bs[np.clip(pos[rows] + k, 0, fb.n - 1)] - A[rows]
            d2[rows] = np.minimum(d2[rows], np.einsum("ij,ij->i", diff, diff))
        sure = float(np.mean(d2 < thr))
        if sure >= 0.8:
            return sure
        rows = np.flatnonzero(d2 >= thr)
    return float(np.mean(fb.tree.query(A, k=1, distance_upper_bound=eps)[0] <= eps))


def _overlap(fa, fb, eps):
    """:func:`_features.set_overlap` on the facts' points (see :func:`_share_within`: exact
    whenever the result is below 0.8, else a value >= 0.8)."""
    ha = _share_within(fa, fb, eps)
    if ha < 0.8:
        return ha
    return min(ha, _share_within(fb, fa, eps))


def _eps(fa, fb, floor):
    """max(3 x the larger median nearest-neighbour distance, 0.1 x the larger spread, floor);
    the KD-tree distances are computed only when their upper bounds could decide."""
    other = max(0.1 * max(fa.spread, fb.spread), floor)
    if 3.0 * max(fa.nn_bound, fb.nn_bound) * (1 + _MARGIN) <= other:
        return other
    return max(3.0 * max(fa.nn, fb.nn), other)


def _same(A, B, chaotic=False, fa=None, fb=None):
    fa = _SetFacts(A) if fa is None else fa
    fb = _SetFacts(B) if fb is None else fb
    scale = max(fa.scale, fb.scale)
    if chaotic:  # samples of a high-dimensional chaotic set are sparse: compare their moments
        sa, sb = fa.spread, fb.spread
        s = max(sa, sb, 1e-300)
        if np.linalg.norm(fa.Y.mean(0) - fb.Y.mean(0)) <= 0.1 * s and abs(sa - sb) <= 0.1 * s:
            return True
    floor = 1e-6 * scale
    if A.shape[0] == 1 and B.shape[0] == 1:  # two fixed points (what set_overlap would do)
        return bool(np.linalg.norm(A[0] - B[0]) <= floor)
    if A.shape[0] == 1 or B.shape[0] == 1 or A.shape[0] < 20:
        if A.shape[0] != B.shape[0]:
            return False
        return F.set_overlap(A, B, floor) >= 1.0
    return _overlap(fa, fb, _eps(fa, fb, floor)) >= 0.8
