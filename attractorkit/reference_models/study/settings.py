"""The analysis and statistics settings of a study (the ``[analysis]`` and ``[stats]`` tables).

Split from :mod:`.config` to keep modules short; both classes are re-exported there.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from attractorkit.core._errors import ValidationError

__all__ = ["AnalysisSettings", "StatsSettings", "THRESHOLD_VARIANTS"]

#: classifier threshold variants of the sensitivity table (overrides of ``thresholds=`` of
#: :func:`attractorkit.attractor_census`): each tightens or loosens every test that a
#: quasi-periodic label needs (closed invariant curve, line spectrum, dimension)
THRESHOLD_VARIANTS = {
    "strict": {"ring_cv": 0.15, "shift_spread": 0.01, "gap_ratio": 15.0,
               "line_fraction": 0.95, "dim_tol": 0.2},
    "loose": {"ring_cv": 0.4, "shift_spread": 0.04, "gap_ratio": 60.0,
              "line_fraction": 0.8, "dim_tol": 0.5},
}


def _fail(name: str, expected: str, received: Any) -> ValidationError:
    return ValidationError(f"{name}: expected {expected}, received {received!r}"[:300])


def _int(name, v, minimum=None):
    if isinstance(v, bool) or not isinstance(v, int):
        raise _fail(name, "an integer", v)
    if minimum is not None and v < minimum:
        raise _fail(name, f"an integer >= {minimum}", v)
    return v


def _float(name, v, *, low=None, high=None, strict_low=True):
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _fail(name, "a finite number", v)
    v = float(v)
    if low is not None and (v <= low if strict_low else v < low):
        raise _fail(name, f"a number {'>' if strict_low else '>='} {low}", v)
    if high is not None and v > high:
        raise _fail(name, f"a number <= {high}", v)
    return v


def _seq(name, v):
    if isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple)):
        raise _fail(name, "a list", v)
    if len(v) == 0:
        raise _fail(name, "a non-empty list", v)
    return tuple(v)


def _unique(name, items):
    if len(set(items)) != len(items):
        raise _fail(name, "a list without duplicates", list(items))
    return items


@dataclasses.dataclass(frozen=True)
class AnalysisSettings:
    """How each trained network is analysed (see docs/study.md for the reasons)."""

    coherence_max: float = 50.0
    """Largest |signed coherence| of the analysis grid, in percent (the task's unit)."""
    n_coherences: int = 9
    """Grid points per coherence axis; the grid per context is n_coherences**2 points."""
    contexts: tuple = (1, 2)
    n_init: int = 0
    """Extra initial conditions per grid point, drawn from visited states (multistability)."""
    n_transient: int = 1000
    """Steps discarded before the attractor is classified."""
    n_steps: int = 1000
    """Steps recorded for the classification (Lyapunov exponents, section, spectrum)."""
    max_extensions: int = 2
    """Times an undetermined run is continued by n_steps before its label is final."""
    active_threshold: float = 1e-3
    """A unit counts as active at an attractor when its rate exceeds this."""
    mi_trials: int = 64
    mi_method: str = "gcmi"
    mi_shuffles: int = 0
    checkpoint_populations: bool = True
    """Populations at every checkpoint -> crystallisation across training."""
    example_orbit_steps: int = 600
    grid_fixed_points: bool = False
    """Also search fixed points at every grid point (costly; the census does not need it)."""
    eval_trials: int = 1000
    """Fresh trials of the final accuracy (independent of the training's own evaluations)."""
    hard_trials: int = 2000
    """Hard held-out trials (the level's lowest coherence, the longest delay) on which RL and
    SL are compared, since the stopping rule makes their training accuracies equal."""
    untrained: bool = True
    """Census of every network at update 0 too (the untrained control)."""
    threshold_variants: tuple = ("strict", "loose")
    """Classifier threshold variants (:data:`THRESHOLD_VARIANTS`) whose census of the trained
    network gives the report's threshold-sensitivity table."""
    threshold_seeds: int = 0
    """Run the threshold variants only for seeds below this (0: every seed); the sensitivity
    table then compares verdicts on that subset of initialisations."""
    relevance: bool = True
    """Where trial-time states go relative to the frozen-input attractors."""
    relevance_radius: float = 0.1
    """A state is near an attractor when its distance to the attractor's recorded orbit is at
    most this fraction of the attractor's mean activity norm."""

    def validate(self) -> AnalysisSettings:
        _float("analysis.coherence_max", self.coherence_max, low=0.0, high=100.0)
        _int("analysis.n_coherences", self.n_coherences, minimum=2)
        ctx = _unique("analysis.contexts", _seq("analysis.contexts", self.contexts))
        for c in ctx:
            if c not in (1, 2):
                raise _fail("analysis.contexts", "contexts from {1, 2}", list(ctx))
        _int("analysis.n_init", self.n_init, minimum=0)
        _int("analysis.n_transient", self.n_transient, minimum=1)
        _int("analysis.n_steps", self.n_steps, minimum=50)
        _int("analysis.max_extensions", self.max_extensions, minimum=0)
        _float("analysis.active_threshold", self.active_threshold, low=0.0, strict_low=False)
        _int("analysis.mi_trials", self.mi_trials, minimum=4)
        if self.mi_method not in ("gcmi", "ksg1", "ksg2"):
            raise _fail("analysis.mi_method", "one of 'gcmi', 'ksg1', 'ksg2'", self.mi_method)
        _int("analysis.mi_shuffles", self.mi_shuffles, minimum=0)
        _int("analysis.example_orbit_steps", self.example_orbit_steps, minimum=16)
        _int("analysis.eval_trials", self.eval_trials, minimum=10)
        _int("analysis.hard_trials", self.hard_trials, minimum=10)
        variants = tuple(self.threshold_variants)
        for v in variants:
            if v not in THRESHOLD_VARIANTS:
                raise _fail("analysis.threshold_variants",
                            f"names from {', '.join(THRESHOLD_VARIANTS)}", list(variants))
        _unique("analysis.threshold_variants", variants)
        _float("analysis.relevance_radius", self.relevance_radius, low=0.0)
        _int("analysis.threshold_seeds", self.threshold_seeds, minimum=0)
        for f in ("checkpoint_populations", "grid_fixed_points", "untrained", "relevance"):
            if not isinstance(getattr(self, f), bool):
                raise _fail(f"analysis.{f}", "true or false", getattr(self, f))
        return dataclasses.replace(self, contexts=tuple(int(c) for c in ctx),
                                   threshold_variants=variants)


@dataclasses.dataclass(frozen=True)
class StatsSettings:
    """Statistics of the aggregation: tests, intervals and the verdict thresholds."""

    alpha: float = 0.05
    """Family-wise error rate of the claims (Holm's correction across them)."""
    n_boot: int = 2000
    n_perm: int = 2000
    confidence: float = 0.95
    sesoi_fqp: float = 0.05
    """Smallest f_QP difference that counts as an effect (5 percentage points)."""
    sesoi_rho: float = 0.2
    """Smallest rank correlation that counts as an effect."""
    sesoi_balance: float = 0.05
    sesoi_spread: float = 0.02
    """Smallest difference of the mean absolute deviation of balance (about 0.025 in SD)."""
    sl_zero_margin: float = 0.05
    """f_QP(SL) counts as ~0 when it is shown to lie below this."""
    accuracy_margin: float = 0.03
    """RL and SL accuracies (hard held-out trials) count as similar within +-this."""
    relevance_share: float = 0.5
    """Trial relevance: the share of stimulus-epoch states near their QP attractor above which
    the QP attractors count as visited by trials ("most" states)."""
    criterion_only: bool = True
    """Claims use only the networks that reached the training criterion, as the paper analyses
    trained networks; the others are counted in the report."""
    stability_resamples: int = 100
    """Resamples of the networks (within cells) over which each verdict's stability is
    reported; 0 skips it."""
    stability_perm: int = 500
    """Permutations per test inside each stability resample (at least 400, so that Holm's
    correction over the claims can reject at all: the smallest p-value is 1 / (n + 1))."""
    stability_min: float = 0.5
    """A verdict holding in at most this share of the resamples becomes inconclusive."""
    seed: int = 20251013

    def validate(self) -> StatsSettings:
        _float("stats.alpha", self.alpha, low=0.0, high=0.5)
        _int("stats.n_boot", self.n_boot, minimum=100)
        _int("stats.n_perm", self.n_perm, minimum=400)
        _float("stats.confidence", self.confidence, low=0.5, high=0.999)
        for f in ("sesoi_fqp", "sesoi_rho", "sesoi_balance", "sesoi_spread", "sl_zero_margin",
                  "relevance_share",
                  "accuracy_margin"):
            _float(f"stats.{f}", getattr(self, f), low=0.0, high=1.0)
        _int("stats.stability_resamples", self.stability_resamples, minimum=0)
        _int("stats.stability_perm", self.stability_perm, minimum=400)
        _float("stats.stability_min", self.stability_min, low=0.0, high=1.0,
               strict_low=False)
        _int("stats.seed", self.seed, minimum=0)
        if not isinstance(self.criterion_only, bool):
            raise _fail("stats.criterion_only", "true or false", self.criterion_only)
        return self
