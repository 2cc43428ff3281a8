"""Per-run results of a classification in progress, and the matching of attractors across the
initial states of one condition (same label and overlapping point sets)."""

from __future__ import annotations

import numpy as np

from .._kernels.neighbours import PointSet, match_radius, overlap, tree_overlap
from ._decide import CHAOTIC, DIVERGENT, UNDETERMINED, Decision
from ._gather import EVIDENCE_FIELDS, empty_evidence

__all__ = ["RunResults", "same_attractor"]


class RunResults:
    """Per-run labels, evidence and point sets while a classification is assembled."""

    def __init__(self, B, n, m):
        self.label = np.full(B, UNDETERMINED, dtype="U14")
        self.period = np.full(B, np.nan)
        self.tdim = np.zeros(B, dtype=np.int64)
        self.conf = np.zeros(B)
        self.reason = np.full(B, "", dtype="U120")
        self.lam = np.full((B, m), np.nan)
        self.se = np.full((B, m), np.nan)
        self.loc = np.full((B, n), np.nan)
        self.final = np.full((B, n), np.nan)
        self.steps = np.zeros(B, dtype=np.int64)
        self.ev = empty_evidence(B)
        self.pts = [None] * B
        self.ids = np.full(B, -1, dtype=np.int64)

    def set(self, b, decision: Decision, *, loc=None, pts=None):
        """Record run b's decision, with its location and point set."""
        self.label[b], self.period[b] = decision.label, decision.period
        self.tdim[b], self.conf[b] = decision.torus_dim, decision.confidence
        self.reason[b] = decision.reason[:120]
        if loc is not None:
            self.loc[b] = loc
        self.pts[b] = pts

    def set_evidence(self, b, row):
        """Record run b's evidence row (see ``_gather.gather``)."""
        for k in EVIDENCE_FIELDS:
            self.ev[k][b] = row[k]
        self.ev["section_kind"][b] = row["section_kind"]

    def match(self, n_conditions, n_init):
        """Attractor ids per condition: same label and overlapping point sets."""
        for c in range(n_conditions):
            rows = [b for b in range(c * n_init, (c + 1) * n_init)
                    if self.label[b] != DIVERGENT and self.pts[b] is not None]
            self._match_condition(rows)

    def _match_condition(self, rows):
        sets = {b: PointSet(self.pts[b]) for b in rows}
        multi = [sets[b] for b in rows if sets[b].n > 1]
        keep = None  # coordinates constant over all the condition's sets carry no distance
        if multi:  # max > min over the sets' points <=> np.ptp of their concatenation > 0
            moving = np.max([s.hi for s in multi], axis=0) > np.min([s.lo for s in multi],
                                                                     axis=0)
            keep = moving if 0 < moving.sum() < moving.size else None
        for s in sets.values():
            s.keep = keep
        reps = []  # (row of the representative, id)
        for b in rows:
            for rep, aid in reps:
                if self.label[rep] != self.label[b]:
                    continue
                if same_attractor(sets[rep], sets[b], chaotic=self.label[b] == CHAOTIC):
                    self.ids[b] = aid
                    break
            else:
                self.ids[b] = len(reps)
                reps.append((b, len(reps)))


def same_attractor(a: PointSet, b: PointSet, *, chaotic=False) -> bool:
    """Do the point sets of two runs (same label) belong to one attractor?

    Two fixed points: within 1e-6 x scale. Chaotic sets (sparse samples of a high-dimensional
    set): means and spreads within 10% of the spread, or else as below. A single point or fewer
    than 20 points against anything: the same number of points, every point of each within
    1e-6 x scale of the other. Otherwise at least 80% of the points of each within max(3 median
    nearest-neighbour spacings, 10% of the spread, 1e-6 x scale) of the other."""
    scale = max(a.scale, b.scale)
    floor = 1e-6 * scale
    if a.n == 1 and b.n == 1 and not chaotic:
        return bool(np.linalg.norm(a.P[0] - b.P[0]) <= floor)
    if chaotic:
        sa, sb = a.spread, b.spread
        s = max(sa, sb, 1e-300)
        if np.linalg.norm(a.Y.mean(0) - b.Y.mean(0)) <= 0.1 * s and abs(sa - sb) <= 0.1 * s:
            return True
    if a.n == 1 and b.n == 1:
        return bool(np.linalg.norm(a.P[0] - b.P[0]) <= floor)
    if a.n == 1 or b.n == 1 or a.n < 20:
        if a.n != b.n:
            return False
        return tree_overlap(a.P, b.P, floor) >= 1.0
    return overlap(a, b, match_radius(a, b, floor)) >= 0.8
