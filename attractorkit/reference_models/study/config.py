"""The study's configuration: one frozen dataclass, presets, TOML loading and validation.

A study is the sweep {paradigm} x {delta} x {complexity} x {seed}. Every run of a sweep shares
the network size, the training settings and the analysis settings; what a run computes is fixed
by its :meth:`StudyConfig.run_settings`, whose hash is recorded in the run's manifest, so a run
computed under other settings is recognised as stale and redone.

TOML layout (every key optional except where a preset does not supply it)::

    preset = "quick"            # start from a preset, then override
    name = "my-study"
    paradigms = ["rl", "sl"]
    deltas = [0.05, 0.1]
    complexities = ["easy", "hard"]
    seeds = [0, 1, 2]            # or: n_seeds = 3 (seeds 0 .. n_seeds - 1)
    n_hidden = 64
    threads_per_run = 1

    [train]                      # overrides of reference_models.TrainConfig, both paradigms
    max_updates = 300
    [train_rl]                   # ... for RL only
    [train_sl]                   # ... for SL only

    [task.easy]                  # task overrides that define a complexity level
    sigma = 0.5

    [analysis]
    coherence_max = 0.5
    n_coherences = 9
    ...
    [stats]
    alpha = 0.05
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
from collections.abc import Mapping
from typing import Any

from attractorkit.core._errors import ValidationError

__all__ = [
    "AnalysisSettings",
    "StatsSettings",
    "StudyConfig",
]

PARADIGMS = ("rl", "sl")


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
        for f in ("checkpoint_populations", "grid_fixed_points"):
            if not isinstance(getattr(self, f), bool):
                raise _fail(f"analysis.{f}", "true or false", getattr(self, f))
        return dataclasses.replace(self, contexts=tuple(int(c) for c in ctx))


@dataclasses.dataclass(frozen=True)
class StatsSettings:
    """Statistics of the aggregation: tests, bootstrap and the verdict thresholds."""

    alpha: float = 0.05
    n_boot: int = 2000
    n_perm: int = 2000
    confidence: float = 0.95
    sesoi_fqp: float = 0.05
    """Smallest f_QP difference that counts as an effect (5 percentage points)."""
    sesoi_rho: float = 0.2
    """Smallest rank correlation that counts as an effect."""
    sesoi_balance: float = 0.05
    sl_zero_margin: float = 0.05
    """f_QP(SL) counts as ~0 when its whole interval lies below this."""
    accuracy_margin: float = 0.05
    """RL and SL accuracies count as similar when the interval of the difference lies within."""
    criterion_only: bool = True
    """Claims use only the networks that reached the training criterion, as the paper analyses
    trained networks; the others are counted in the report."""
    seed: int = 20251013

    def validate(self) -> StatsSettings:
        _float("stats.alpha", self.alpha, low=0.0, high=0.5)
        _int("stats.n_boot", self.n_boot, minimum=100)
        _int("stats.n_perm", self.n_perm, minimum=100)
        _float("stats.confidence", self.confidence, low=0.5, high=0.999)
        for f in ("sesoi_fqp", "sesoi_rho", "sesoi_balance", "sl_zero_margin",
                  "accuracy_margin"):
            _float(f"stats.{f}", getattr(self, f), low=0.0, high=1.0)
        _int("stats.seed", self.seed, minimum=0)
        if not isinstance(self.criterion_only, bool):
            raise _fail("stats.criterion_only", "true or false", self.criterion_only)
        return self


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """The whole study: what to sweep, how to train, how to analyse, how to judge.

    Build one from a preset (:func:`preset`), a TOML file (:func:`load_config`) or directly;
    :meth:`validate` returns a normalised copy or raises a :class:`ValidationError` naming the
    key.
    """

    name: str = "study"
    paradigms: tuple = PARADIGMS
    deltas: tuple = (0.05, 0.1)
    complexities: tuple = ("easy",)
    seeds: tuple = (0, 1, 2)
    n_hidden: int = 64
    train_preset: str = "quick"
    """The reference models' training preset the ``train`` tables override."""
    train: Mapping = dataclasses.field(default_factory=dict)
    train_rl: Mapping = dataclasses.field(default_factory=dict)
    train_sl: Mapping = dataclasses.field(default_factory=dict)
    task: Mapping = dataclasses.field(default_factory=dict)
    """complexity level -> task overrides defining it (levels not listed are task presets)."""
    analysis: AnalysisSettings = dataclasses.field(default_factory=AnalysisSettings)
    stats: StatsSettings = dataclasses.field(default_factory=StatsSettings)
    threads_per_run: int = 1

    # -- validation ---------------------------------------------------------------------------
    def validate(self) -> StudyConfig:
        if not isinstance(self.name, str) or not self.name.strip():
            raise _fail("name", "a non-empty string", self.name)
        paradigms = _unique("paradigms", _seq("paradigms", self.paradigms))
        for p in paradigms:
            if p not in PARADIGMS:
                raise _fail("paradigms", "a list drawn from 'rl', 'sl'", list(paradigms))
        deltas = _unique("deltas", tuple(
            _float("deltas", d, low=0.0) for d in _seq("deltas", self.deltas)))
        complexities = _unique("complexities", _seq("complexities", self.complexities))
        for c in complexities:
            if not isinstance(c, str) or not c or "/" in c or c.startswith("."):
                raise _fail("complexities", "level names (plain strings)", c)
        seeds = _unique("seeds", tuple(
            _int("seeds", s, minimum=0) for s in _seq("seeds", self.seeds)))
        _int("n_hidden", self.n_hidden, minimum=2)
        _int("threads_per_run", self.threads_per_run, minimum=1)
        if self.train_preset not in ("quick", "paper"):
            raise _fail("train_preset", "'quick' or 'paper'", self.train_preset)
        train = {k: _plain_table(k, getattr(self, k)) for k in ("train", "train_rl", "train_sl")}
        for k, table in train.items():
            _check_train_keys(k, table)
        task = _plain_table("task", self.task)
        _check_complexities(complexities, task)
        analysis = self.analysis
        if not isinstance(analysis, AnalysisSettings):
            raise _fail("analysis", "AnalysisSettings", analysis)
        if not isinstance(self.stats, StatsSettings):
            raise _fail("stats", "StatsSettings", self.stats)
        return dataclasses.replace(
            self, paradigms=tuple(paradigms), deltas=deltas, complexities=tuple(complexities),
            seeds=seeds, analysis=analysis.validate(), stats=self.stats.validate(), task=task,
            **train,
        )

    # -- derived ------------------------------------------------------------------------------
    @property
    def n_runs(self) -> int:
        return len(self.paradigms) * len(self.deltas) * len(self.complexities) * len(self.seeds)

    def task_overrides(self, complexity: str) -> dict:
        """The task overrides of a complexity level ({} when the level is a task preset)."""
        return dict(self.task.get(complexity, {}))

    def train_overrides(self, paradigm: str) -> dict:
        """TrainConfig overrides for one paradigm (common ones, then paradigm-specific)."""
        out = dict(self.train)
        out.update(self.train_rl if paradigm == "rl" else self.train_sl)
        return out

    def run_settings(self, paradigm: str, complexity: str) -> dict:
        """Everything besides (delta, seed) that determines a run's results."""
        return {
            "n_hidden": self.n_hidden,
            "train_preset": self.train_preset,
            "train": self.train_overrides(paradigm),
            "task": self.task_overrides(complexity),
            "analysis": dataclasses.asdict(self.analysis),
            "threads_per_run": self.threads_per_run,
        }

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for k in ("paradigms", "deltas", "complexities", "seeds"):
            d[k] = list(d[k])
        d["analysis"]["contexts"] = list(d["analysis"]["contexts"])
        for k in ("train", "train_rl", "train_sl", "task"):
            d[k] = json.loads(json.dumps(d[k]))
        return d

    @classmethod
    def from_dict(cls, data: Mapping, *, base: StudyConfig | None = None) -> StudyConfig:
        """Build (and validate) a config from a mapping such as a parsed TOML document.

        ``base`` (default: the class defaults) supplies every key ``data`` leaves out; a
        ``preset = NAME`` key is resolved by :func:`~.presets.load_config`, which passes the
        preset as ``base``. Unknown keys are errors, so a typo never passes silently.
        """
        if not isinstance(data, Mapping):
            raise _fail("config", "a table of settings", type(data).__name__)
        data = dict(data)
        if "preset" in data:
            raise ValidationError("preset: load_config() resolves a preset key; "
                                  "StudyConfig.from_dict() takes the preset as base=")
        base = base if base is not None else cls()
        if "n_seeds" in data:
            if "seeds" in data:
                raise ValidationError("seeds, n_seeds: give one of them, not both")
            data["seeds"] = list(range(_int("n_seeds", data.pop("n_seeds"), minimum=1)))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(
                f"config: unknown key(s) {', '.join(unknown)}; known keys are "
                f"{', '.join(sorted(known | {'preset', 'n_seeds'}))}"
            )
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key == "analysis":
                changes[key] = _sub(AnalysisSettings, base.analysis, value, "analysis")
            elif key == "stats":
                changes[key] = _sub(StatsSettings, base.stats, value, "stats")
            elif key in ("paradigms", "deltas", "complexities", "seeds"):
                changes[key] = tuple(_seq(key, value))
            else:
                changes[key] = value
        return dataclasses.replace(base, **changes).validate()

    def config_hash(self) -> str:
        """A hash of the whole configuration (the study's identity)."""
        return stable_hash(self.to_dict())

    def to_toml(self) -> str:
        """The configuration as a TOML document that :func:`load_config` reads back."""
        d = self.to_dict()
        lines = []
        tables = {k: d.pop(k) for k in ("train", "train_rl", "train_sl", "analysis", "stats")}
        task = d.pop("task")
        for k, v in d.items():
            lines.append(f"{k} = {_toml_value(v)}")
        for name, table in tables.items():
            lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        for level, table in task.items():
            lines += ["", f"[task.{level}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in table.items()]
        return "\n".join(lines) + "\n"


_STUDY_OWNED = {"paradigm": "paradigms", "delta": "deltas", "seed": "seeds",
                "n_hidden": "n_hidden", "task": "complexities and [task.LEVEL]",
                "num_threads": "threads_per_run",
                "max_seconds": "nothing: a wall-time cap makes results machine-dependent"}


def _check_train_keys(name: str, table: dict) -> None:
    for key in table:
        if key in _STUDY_OWNED:
            raise ValidationError(f"{name}.{key}: set by the study (use {_STUDY_OWNED[key]})")
    if not table:
        return
    try:
        from attractorkit.reference_models.training import TrainConfig
    except ImportError:  # pragma: no cover - torch missing: checked again when training
        return
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValidationError(f"{name}: unknown training setting(s) {', '.join(unknown)}; "
                              f"TrainConfig takes {', '.join(sorted(known - set(_STUDY_OWNED)))}")


def _check_complexities(levels, task: dict) -> None:
    from attractorkit.reference_models.task import TASK_PRESETS, TaskConfig

    for level, overrides in task.items():
        if not isinstance(overrides, dict):
            raise _fail(f"task.{level}", "a table of task settings", overrides)
        base = overrides.get("base", "default")
        if base not in TASK_PRESETS:
            raise _fail(f"task.{level}.base", f"one of {', '.join(TASK_PRESETS)}", base)
        try:
            TaskConfig.from_dict({**TASK_PRESETS[base].to_dict(),
                                  **{k: v for k, v in overrides.items() if k != "base"}})
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"task.{level}: {exc}") from None
    for level in levels:
        if level not in task and level not in TASK_PRESETS:
            raise ValidationError(
                f"complexities: level {level!r} is neither a task preset "
                f"({', '.join(TASK_PRESETS)}) nor defined by a [task.{level}] table")


def _sub(cls, base, value, name):
    if not isinstance(value, Mapping):
        raise _fail(name, "a table of settings", value)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise ValidationError(
            f"{name}: unknown key(s) {', '.join(unknown)}; known keys are "
            f"{', '.join(sorted(known))}"
        )
    value = dict(value)
    if "contexts" in value:
        value["contexts"] = tuple(_seq(f"{name}.contexts", value["contexts"]))
    return dataclasses.replace(base, **value)


def _plain_table(name, value) -> dict:
    if not isinstance(value, Mapping):
        raise _fail(name, "a table of settings", value)
    try:
        return json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise _fail(name, "a table of plain values (numbers, strings, lists)", str(exc)) from None


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise _fail("config value", "a TOML-representable value", v)


def stable_hash(obj) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys, no whitespace)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _toml_loads(text: str, source: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        try:
            import tomli as tomllib
        except ImportError:
            from attractorkit.core._errors import MissingDependencyError

            raise MissingDependencyError(
                "reading TOML on Python 3.10 needs tomli: pip install 'attractorkit[study]'"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(f"{source}: not valid TOML ({exc})") from None
