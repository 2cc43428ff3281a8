"""Per-run results of a classification in progress, and the matching of attractors across the
initial states of one condition (same label and overlapping point sets)."""

from __future__ import annotations

import numpy as np

from . import _decide as D
from . import _features as F

__all__ = ["RunResults"]


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
            sets = [self.pts[b] for b in rows if self.pts[b].shape[0] > 1]
            keep = None  # coordinates constant over all the condition's sets carry no distance
            if sets:
                moving = np.ptp(np.concatenate(sets), axis=0) > 0
                keep = moving if 0 < moving.sum() < moving.size else None
            reps = []  # (row of the representative, id)
            memo = {}  # per-run facts (scale, spread, nearest-neighbour spacing, KD-tree)
            for b in rows:
                for rep, aid in reps:
                    if self.label[rep] != self.label[b]:
                        continue
                    A, P = self.pts[rep], self.pts[b]
                    if A.shape[0] == 1 and P.shape[0] == 1 and self.label[b] != D.CHAOTIC:
                        same = bool(np.linalg.norm(A[0] - P[0]) <= 1e-6 * max(
                            F.scale_of(A), F.scale_of(P)))  # _same on two fixed points
                    else:
                        same = _same(A, P, self.label[b] == D.CHAOTIC,
                                     _facts(memo, rep, A, keep), _facts(memo, b, P, keep))
                    if same:
                        self.ids[b] = aid
                        break
                else:
                    self.ids[b] = len(reps)
                    reps.append((b, len(reps)))


def _facts(memo, b, P, keep=None):
    """(scale, spread, median nearest-neighbour distance, KD-tree, points) of the point set P
    (points and tree on the coordinates ``keep``), cached in memo under b."""
    if b not in memo:
        from scipy.spatial import cKDTree

        Y = P if keep is None or P.shape[0] == 1 else np.ascontiguousarray(P[:, keep])
        tree = cKDTree(Y)
        nn = float(np.median(tree.query(Y, k=2)[0][:, 1])) if P.shape[0] >= 2 else None
        memo[b] = (F.scale_of(P), F.spread_of(Y), nn, tree, Y)
    return memo[b]


def _overlap(fa, fb, eps):
    """:func:`_features.set_overlap` on cached trees."""
    A, B = fa[4], fb[4]
    ha = np.mean(fb[3].query(A, k=1, distance_upper_bound=eps)[0] <= eps)
    hb = np.mean(fa[3].query(B, k=1, distance_upper_bound=eps)[0] <= eps)
    return float(min(ha, hb))


def _same(A, B, chaotic=False, fa=None, fb=None):
    fa = _facts({}, 0, A) if fa is None else fa
    fb = _facts({}, 0, B) if fb is None else fb
    scale = max(fa[0], fb[0])
    if chaotic:  # samples of a high-dimensional chaotic set are sparse: compare their moments
        sa, sb = fa[1], fb[1]
        s = max(sa, sb, 1e-300)
        if np.linalg.norm(fa[4].mean(0) - fb[4].mean(0)) <= 0.1 * s and abs(sa - sb) <= 0.1 * s:
            return True
    floor = 1e-6 * scale
    if A.shape[0] == 1 and B.shape[0] == 1:  # two fixed points (what set_overlap would do)
        return bool(np.linalg.norm(A[0] - B[0]) <= floor)
    if A.shape[0] == 1 or B.shape[0] == 1 or A.shape[0] < 20:
        if A.shape[0] != B.shape[0]:
            return False
        return F.set_overlap(A, B, floor) >= 1.0
    eps = max(3.0 * max(fa[2], fb[2]), 0.1 * max(fa[1], fb[1]), floor)
    return _overlap(fa, fb, eps) >= 0.8
