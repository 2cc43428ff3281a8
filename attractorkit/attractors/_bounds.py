"""Bounds on the quasi-periodic share of a classification, and how they move when a threshold of
the decision rules is halved or doubled."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._results import Result
from ._decide import DIVERGENT, PERIODIC, QP, UNDETERMINED, SlowApproach, decide
from ._thresholds import as_thresholds

__all__ = ["CONFIDENT", "RULE_THRESHOLDS", "ThresholdSensitivity", "qp_share_bounds", "relabel",
           "threshold_sensitivity"]

CONFIDENT = 0.9  # a label at least this confident counts as "confident"

# the thresholds the rules apply to stored evidence (the others act while simulating or
# gathering: fp_tol and period_tol settle runs early, section_tol finds a flow's section
# clusters, rate_tol chooses its plane)
RULE_THRESHOLDS = ("zero_c", "zero_abs", "ring_cv", "shift_spread", "gap_ratio", "q_max",
                   "rational_tol", "line_fraction", "dim_tol", "stationary_tol", "min_repeats",
                   "min_section_points", "qp_period")


def qp_share_bounds(label, confidence, *, level=CONFIDENT):
    """Per condition (rows of ``label``): the share of runs labelled quasi-periodic with
    confidence >= ``level`` (lower bound) and the share labelled quasi-periodic or undetermined
    (upper bound). Returns (lower, upper), each of shape (n_conditions,)."""
    label = np.asarray(label)
    qp = label == QP
    lower = (qp & (np.asarray(confidence) >= level)).mean(axis=1)
    upper = (qp | (label == UNDETERMINED)).mean(axis=1)
    return lower, upper


def relabel(attractors, thresholds=None):
    """The labels and confidences the rules give the stored evidence of ``attractors`` under
    other ``thresholds`` (a :class:`ClassifierThresholds` or a dict of overrides).

    Runs that diverged or settled before the Lyapunov pass keep their labels; the others are
    re-decided from the evidence of their last record (a run the new thresholds would have
    extended is judged on that record, not on a longer one). With the thresholds of the
    classification this reproduces its labels. Returns (label, confidence) arrays shaped like
    ``attractors.label``."""
    st = as_thresholds(thresholds)
    flow = attractors.time == "continuous"
    ev = attractors.evidence
    label = attractors.label.copy()
    conf = attractors.confidence.copy()
    if ev.record_points is None:  # a file of an older version: nothing to re-decide from
        return label, conf
    for c, i in zip(*np.nonzero(np.isfinite(ev.record_points) & (label != DIVERGENT))):
        row = ev.row(c, i)
        lam, se = attractors.lyapunov[c, i], attractors.lyapunov_stderr[c, i]
        has = lam.size > 0 and np.isfinite(lam[0])
        d = decide(row, lam if has else None, stderr=se if has else None, flow=flow,
                   thresholds=st)
        if d.label == UNDETERMINED and np.isfinite(row["converging_rate"]):
            period = attractors.period[c, i]
            slow = SlowApproach(int(period) if label[c, i] == PERIODIC else 1, None,
                                row["converging_rate"])
            d = decide(row, lam if has else None, stderr=se if has else None, flow=flow,
                       thresholds=st, slow=slow)
        label[c, i], conf[c, i] = d.label, d.confidence
    return label, conf


@dataclasses.dataclass(frozen=True, eq=False)
class ThresholdSensitivity(Result):
    """The bounds on the quasi-periodic share (all runs) with each threshold of the rules
    halved and doubled (:func:`threshold_sensitivity`).

    Attributes
    ----------
    names : tuple of str
        The thresholds varied (``RULE_THRESHOLDS``).
    factors : tuple of float
        The factors applied to each, e.g. (0.5, 2.0).
    lower, upper : ndarray of shape (n_names, n_factors)
        The share of runs confidently quasi-periodic, and quasi-periodic or undetermined.
    base : tuple of float
        (lower, upper) under the classification's own thresholds.
    level : float
        The confidence that counts as confident.
    """

    names: tuple
    factors: tuple
    lower: np.ndarray
    upper: np.ndarray
    base: tuple
    level: float = CONFIDENT

    def range(self) -> tuple:
        """(smallest lower bound, largest upper bound) over all variations and the base."""
        return (float(min(self.base[0], self.lower.min(initial=1.0))),
                float(max(self.base[1], self.upper.max(initial=0.0))))

    def table(self) -> str:
        """A Markdown table: one row per threshold, the bounds under each factor."""
        head = "| threshold | " + " | ".join(f"x{f:g}" for f in self.factors) + " |"
        lines = [head, "|---|" + "---|" * len(self.factors),
                 f"| (as run) | {_fmt(self.base)} |" + " |" * (len(self.factors) - 1)]
        for k, name in enumerate(self.names):
            cells = [_fmt((self.lower[k, j], self.upper[k, j]))
                     for j in range(len(self.factors))]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def summary(self) -> str:
        lo, hi = self.range()
        moved = [n for k, n in enumerate(self.names)
                 if np.any(np.abs(self.lower[k] - self.base[0]) > 1e-12)
                 or np.any(np.abs(self.upper[k] - self.base[1]) > 1e-12)]
        return (f"Quasi-periodic share {_fmt(self.base)} (confident, + undetermined); with each "
                f"of {len(self.names)} thresholds halved and doubled: within [{lo:.1%}, "
                f"{hi:.1%}]; moved by: {', '.join(moved) if moved else 'none'}")


def _fmt(bounds):
    return f"[{bounds[0]:.1%}, {bounds[1]:.1%}]"


def threshold_sensitivity(attractors, *, thresholds=None, factors=(0.5, 2.0),
                          level=CONFIDENT) -> ThresholdSensitivity:
    """Bounds on the quasi-periodic share of ``attractors`` (all runs) with each threshold of
    ``RULE_THRESHOLDS`` multiplied by each of ``factors``, the runs re-decided on their stored
    evidence (:func:`relabel`). ``thresholds``: those of the classification."""
    st = as_thresholds(thresholds)
    base = relabel(attractors, st)
    b = qp_share_bounds(*base, level=level)
    lower = np.zeros((len(RULE_THRESHOLDS), len(factors)))
    upper = np.zeros_like(lower)
    for k, name in enumerate(RULE_THRESHOLDS):
        for j, f in enumerate(factors):
            lo, hi = qp_share_bounds(*relabel(attractors, st.scaled(name, f)), level=level)
            lower[k, j], upper[k, j] = lo.mean(), hi.mean()
    return ThresholdSensitivity(names=RULE_THRESHOLDS, factors=tuple(float(f) for f in factors),
                                lower=lower, upper=upper,
                                base=(float(b[0].mean()), float(b[1].mean())), level=level)
