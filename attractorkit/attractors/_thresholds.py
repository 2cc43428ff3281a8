"""The thresholds of the classifier's decision rules: one public frozen dataclass, the one place
the docs link for their defaults."""

from __future__ import annotations

import dataclasses

from ..core._errors import ValidationError
from ..core._options import replace_options

__all__ = ["ClassifierThresholds", "as_thresholds"]


@dataclasses.dataclass(frozen=True)
class ClassifierThresholds:
    """Thresholds of the decision rules of :func:`attractorkit.classify_attractors` (tolerances
    are relative to the orbit's scale ``1 + mean |h|_inf`` or spread).

    Pass an instance, or a dict of overrides, as ``thresholds=`` to
    :func:`attractorkit.classify_attractors` or :func:`attractorkit.attractor_census`;
    ``ClassifierThresholds().replace(line_fraction=0.95)`` changes one.

    Attributes
    ----------
    fp_tol : float, default 1e-9
        A step ``|h_{t+1} - h_t|_inf / scale`` below this settles a fixed point.
    period_tol : float, default 1e-8
        A recurrence ``|h_{t+p} - h_t|_inf / scale`` below this over a window is exact.
    section_tol : float, default 1e-4
        Flows: section points within this (relative) form one cluster.
    min_repeats : int, default 5
        A period is called only when it fits this many times in the record (maps: steps;
        flows: section points); an exact recurrence that fits fewer times asks for a longer
        record.
    min_section_points : int, default 50
        Flows: fewer section points than this ask for a longer record.
    qp_period : int, default 500
        A quasi-periodic label gets a confidence above 0.85 only when its record excludes
        cycles up to this period (steps for maps, section returns for flows): no exact
        recurrence up to half the record.
    zero_c, zero_abs : float, default 5.0 and 1e-4
        Zero band of the exponents: ``|lambda| <= max(zero_c / T, 4 stderr, zero_abs)``.
    ring_cv : float, default 0.25
        Closed curve: spread of the eigenmap radius below this.
    shift_spread : float, default 0.02
        Closed curve: circular standard deviation of the rank shifts (cycles) below this.
    gap_ratio : float, default 30.0
        Closed curve: largest / median angular gap below this.
    q_max : int, default 20
        Rotation numbers within ``rational_tol`` of p/q with q <= q_max are resonant.
    rational_tol : float, default 2e-5
    line_fraction : float, default 0.9
        Line spectrum: share of power in the top 5% of frequency bins at least this.
    dim_tol : float, default 0.35
        Correlation dimension within this of the torus dimension.
    stationary_tol : float, default 0.1
        ``|log spread ratio|`` and mean shift / spread of the record's halves at most this.
    rate_tol : float, default 0.15
        Flows: section crossings per time within this (relative) of the dominant frequency.
    """

    fp_tol: float = 1e-9
    period_tol: float = 1e-8
    section_tol: float = 1e-4
    min_repeats: int = 5
    min_section_points: int = 50
    qp_period: int = 500
    zero_c: float = 5.0
    zero_abs: float = 1e-4
    ring_cv: float = 0.25
    shift_spread: float = 0.02
    gap_ratio: float = 30.0
    q_max: int = 20
    rational_tol: float = 2e-5
    line_fraction: float = 0.9
    dim_tol: float = 0.35
    stationary_tol: float = 0.1
    rate_tol: float = 0.15

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            kind = int if f.type in ("int", int) else float
            try:
                ok = kind(v) == v and v >= 0
            except (TypeError, ValueError, OverflowError):
                ok = False
            if not ok:
                raise ValidationError(f"thresholds.{f.name}: expected a non-negative "
                                      f"{kind.__name__}, received {v!r}")
            object.__setattr__(self, f.name, kind(v))

    def replace(self, **changes) -> ClassifierThresholds:
        """A copy with ``changes`` applied (validated); an unknown name is a ValidationError
        that lists the thresholds."""
        return replace_options(self, changes, of="the classifier's thresholds")

    def scaled(self, name, factor) -> ClassifierThresholds:
        """A copy with threshold ``name`` multiplied by ``factor`` (integers rounded, >= 1)."""
        v = getattr(self, name) * factor
        if isinstance(getattr(self, name), int):
            v = max(1, int(round(v)))
        return dataclasses.replace(self, **{name: v})


def as_thresholds(thresholds) -> ClassifierThresholds:
    """``thresholds`` (None, a :class:`ClassifierThresholds` or a dict of overrides) as a
    :class:`ClassifierThresholds`."""
    if thresholds is None:
        return ClassifierThresholds()
    if isinstance(thresholds, ClassifierThresholds):
        return thresholds
    if not isinstance(thresholds, dict):
        raise ValidationError("thresholds: expected a ClassifierThresholds or a dict, received "
                              f"{type(thresholds).__name__}")
    return ClassifierThresholds().replace(**thresholds)
