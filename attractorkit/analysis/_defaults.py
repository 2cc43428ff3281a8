"""The options of :func:`attractorkit.analyze`: one frozen dataclass, the one place the docs link.

``AnalysisOptions()`` holds the defaults, chosen so that a 250-unit model on a 10 x 10 input grid
finishes in about a minute on two cores. ``analyze(model, inputs, options=AnalysisOptions(...))``
or the keyword shortcuts ``analyze(model, inputs, n_steps=500)`` change them.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping, Sequence

import numpy as np

from ..core._errors import ValidationError
from ..core._options import replace_options
from ..core._validation import check_int

__all__ = ["AnalysisOptions", "DEFAULTS", "STAGE_OPTIONS"]

#: The per-stage option dicts and the public function each one is passed to.
STAGE_OPTIONS = {
    "fixed_point_options": "find_fixed_points",
    "cycle_options": "find_cycles",
    "census_options": "attractor_census",
    "lyapunov_options": "lyapunov_spectrum",
    "selectivity_options": "selectivity",
    "connectivity_options": "functional_connectivity",
}


@dataclasses.dataclass(frozen=True)
class AnalysisOptions:
    """What :func:`attractorkit.analyze` runs and how much work each stage does.

    Stages
    ------
    fixed_points, census, lyapunov, state_space : bool, default True
        Run the stage. The census labels every (condition, initial state) run as a fixed
        point, a cycle, a torus, chaos or divergence; ``lyapunov`` computes the leading
        exponents of the same runs; ``state_space`` keeps a few trajectories in principal
        component coordinates for the plots.
    cycles : None, bool or sequence of int, default None
        Periods of the cycles searched (maps only). None means ``cycle_periods`` for maps and
        no search for flows; True means ``cycle_periods``; False none.
    information : None or bool, default None
        Run selectivity and functional connectivity; None means "when recordings are given".
    audit_conditions : int, default 1
        Census conditions the audit re-runs (:func:`attractorkit.attractors.audit_census`):
        a random sample, classified again from the same initial states with the transient and
        the records ``audit_factor`` times longer, to count the labels that hold. 0 switches
        the audit off; it runs only with the census.
    audit_factor : int, default 10
        How much longer the audit's runs are.

    Sizes
    -----
    n_init : int, default 8
        Initial states per input condition of the census and the Lyapunov pass (a count; the
        states themselves are ``analyze(initial_states=...)``).
    n_steps : int, default 1000
        Recorded steps per run of the census, after ``n_transient`` (default 1000) steps.
    n_fixed_point_init : int, default 32
        Seeds per condition of the fixed-point search (a count; the states to sample them
        from are ``analyze(fixed_point_states=...)``).
    n_lyapunov_steps : int, default 500
        Steps of the Lyapunov pass, continued from where the census runs ended.
    n_exponents : int, default 3
        Leading Lyapunov exponents.
    cycle_periods : tuple of int, default (2,)
    n_showcase, n_showcase_conditions, n_showcase_steps, n_components : int
        Trajectories kept for the plots (8, from 4 conditions, 600 steps each, in 3 principal
        components).

    Per-stage options
    -----------------
    fixed_point_options, cycle_options, census_options, lyapunov_options, \
selectivity_options, connectivity_options : dict, optional
        Extra keywords of :func:`find_fixed_points`, :func:`find_cycles`,
        :func:`attractor_census`, :func:`lyapunov_spectrum`, :func:`selectivity` and
        :func:`functional_connectivity`; they override the sizes above. An option the
        function does not take raises a ValidationError when the stage runs.
    """

    fixed_points: bool = True
    cycles: bool | tuple[int, ...] | None = None
    census: bool = True
    lyapunov: bool = True
    information: bool | None = None
    state_space: bool = True
    audit_conditions: int = 1
    audit_factor: int = 10
    n_init: int = 8
    n_steps: int = 1000
    n_transient: int = 1000
    n_fixed_point_init: int = 32
    n_lyapunov_steps: int = 500
    n_exponents: int = 3
    cycle_periods: tuple[int, ...] = (2,)
    n_showcase: int = 8
    n_showcase_conditions: int = 4
    n_showcase_steps: int = 600
    n_components: int = 3
    fixed_point_options: Mapping | None = None
    cycle_options: Mapping | None = None
    census_options: Mapping | None = None
    lyapunov_options: Mapping | None = None
    selectivity_options: Mapping | None = None
    connectivity_options: Mapping | None = None

    def __post_init__(self):
        for name in ("fixed_points", "census", "lyapunov", "state_space"):
            _check_bool(name, getattr(self, name))
        if self.information is not None:
            _check_bool("information", self.information)
        for name, minimum in (("audit_conditions", 0), ("audit_factor", 1)):
            v = getattr(self, name)
            v = int(v) if isinstance(v, np.integer) else v
            object.__setattr__(self, name, check_int(name, v, minimum=minimum))
        for f in dataclasses.fields(self):
            if f.name.startswith("n_"):
                v = getattr(self, f.name)
                v = int(v) if isinstance(v, np.integer) else v
                object.__setattr__(self, f.name, check_int(
                    f.name, v, minimum=0 if f.name == "n_transient" else 1))
        object.__setattr__(self, "cycle_periods", _periods("cycle_periods", self.cycle_periods))
        if self.cycles is not None and not isinstance(self.cycles, bool):
            object.__setattr__(self, "cycles", _periods("cycles", self.cycles))
        for name in STAGE_OPTIONS:
            value = getattr(self, name)
            if value is not None and not isinstance(value, Mapping):
                raise ValidationError(f"{name}: expected a dict of keyword options for "
                                      f"{STAGE_OPTIONS[name]}(), received "
                                      f"{type(value).__name__}")
            if value is not None:  # a read-only copy: the options stay what was given
                object.__setattr__(self, name, types.MappingProxyType(dict(value)))

    def replace(self, **changes) -> AnalysisOptions:
        """A copy with ``changes`` applied (validated); unknown names are a ValidationError."""
        return replace_options(self, changes, of="analyze()")

    def periods(self, time: str) -> tuple[int, ...]:
        """The cycle periods searched for a model with this ``time``."""
        if self.cycles is False:
            return ()
        if self.cycles is None:
            return self.cycle_periods if time == "discrete" else ()
        periods = self.cycle_periods if self.cycles is True else self.cycles
        if periods and time != "discrete":
            raise ValidationError("cycles: period-p cycles are searched in maps only; for a flow "
                                  "the census finds limit cycles (pass cycles=False)")
        return periods

    def stage_options(self) -> dict[str, dict]:
        """The per-stage option dicts that were given, as plain dicts."""
        return {k: dict(getattr(self, k)) for k in STAGE_OPTIONS if getattr(self, k)}


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{name}: expected True or False, received {value!r}")


def _periods(name, value) -> tuple[int, ...]:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise ValidationError(f"{name}: expected a period or a sequence of periods >= 2, "
                              f"received {value!r}")
    return tuple(check_int(name, int(p) if isinstance(p, np.integer) else p, minimum=2)
                 for p in value)


#: The default sizes as a read-only mapping (``AnalysisOptions()`` is the source).
DEFAULTS = types.MappingProxyType({
    f.name: f.default for f in dataclasses.fields(AnalysisOptions)
    if f.name.startswith("n_") or f.name == "cycle_periods"
})
