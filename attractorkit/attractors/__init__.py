"""Asymptotic classification of trajectories (fixed point, cycle, torus, chaos, divergence) from
independent evidence, and the census over grids of constant inputs.

Two layers: :func:`classify_attractors` and :func:`attractor_census` build everything they need;
the evidence functions (:func:`curve_test`, :func:`correlation_dimension`,
:func:`rational_distance`, :func:`spectral_lines`, :func:`stationarity`, :func:`exact_period`,
:func:`approaching`) and :func:`decide` are the lower layer they are made of, public so that a
record or a stored evidence row can be examined (or re-decided under other
:class:`ClassifierThresholds`) without running a classification: :func:`relabel`,
:func:`threshold_sensitivity` and :func:`qp_share_bounds` do that for a whole classification,
:func:`audit_census` re-runs part of a census with longer records.
"""

from __future__ import annotations

from ._audit import CensusAudit, audit_census
from ._bounds import (
    CONFIDENT,
    ThresholdSensitivity,
    qp_share_bounds,
    relabel,
    threshold_sensitivity,
)
from ._census import Census, attractor_census
from ._classify import classify_attractors
from ._decide import LABELS, Decision, SlowApproach, approaching, decide
from ._features import (
    CurveTest,
    RationalApproximation,
    Recurrence,
    SpectralLines,
    Stationarity,
    correlation_dimension,
    curve_test,
    exact_period,
    rational_distance,
    return_ratio,
    spectral_lines,
    stationarity,
)
from ._results import Attractors, Evidence
from ._thresholds import ClassifierThresholds

__all__ = [
    "CONFIDENT",
    "LABELS",
    "Attractors",
    "Census",
    "CensusAudit",
    "ClassifierThresholds",
    "CurveTest",
    "Decision",
    "Evidence",
    "RationalApproximation",
    "Recurrence",
    "SlowApproach",
    "SpectralLines",
    "Stationarity",
    "ThresholdSensitivity",
    "approaching",
    "attractor_census",
    "audit_census",
    "classify_attractors",
    "correlation_dimension",
    "curve_test",
    "decide",
    "exact_period",
    "qp_share_bounds",
    "rational_distance",
    "relabel",
    "return_ratio",
    "spectral_lines",
    "stationarity",
    "threshold_sensitivity",
]
