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
import sys
from collections.abc import Mapping
from typing import Any

from attractorkit.core._errors import ValidationError

from .settings import AnalysisSettings, StatsSettings, _fail, _float, _int, _seq, _unique

__all__ = [
    "AnalysisSettings",
    "StatsSettings",
    "StudyConfig",
    "init_seed",
]

PARADIGMS = ("rl", "sl")
#: the ablation's paradigms: RL and SL with the same optimiser steps and batches per trial
#: (PPO's schedule for both) and no critic gradient in the recurrent weights; each maps to its
#: base paradigm and the TrainConfig overrides that make it
ABLATIONS = {"rl_matched": ("rl", {"critic_detached": True}),
             "sl_matched": ("sl", {"sl_schedule": "ppo"})}
ALL_PARADIGMS = PARADIGMS + tuple(ABLATIONS)


def base_paradigm(paradigm: str) -> str:
    """"rl" or "sl": the trainer of a study paradigm."""
    return ABLATIONS[paradigm][0] if paradigm in ABLATIONS else paradigm


def init_seed(delta: float, complexity: str, seed: int) -> int:
    """The seed of one initialisation: a function of its cell (delta, complexity) and its
    replicate number, so that cells share no weights, inputs or trial streams, while the RL
    and SL networks of a unit (same delta, complexity, seed) share it and start identical."""
    digest = hashlib.sha256(json.dumps([round(float(delta), 12), str(complexity), int(seed)])
                            .encode()).hexdigest()
    return int(digest[:8], 16)


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
    criterion_fraction: float = 0.96
    """Training stops at this fraction of the level's ideal-observer accuracy (0.95 on the
    default task), so that levels of any difficulty have a reachable criterion."""
    eval_every_trials: int = 1280
    """Training evaluates every this many trials, for both paradigms alike."""
    checkpoint_every_evals: int = 5
    """A checkpoint (for the crystallisation across training) every this many evaluations."""
    ablation_deltas: tuple = ()
    """Deltas at which the ablation's paradigms ``rl_matched`` and ``sl_matched`` also run
    (easiest complexity level only; see :data:`ABLATIONS`)."""

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
        _float("criterion_fraction", self.criterion_fraction, low=0.0, high=1.0)
        _int("eval_every_trials", self.eval_every_trials, minimum=1)
        _int("checkpoint_every_evals", self.checkpoint_every_evals, minimum=1)
        if not isinstance(self.ablation_deltas, (list, tuple)):
            raise _fail("ablation_deltas", "a list of deltas", self.ablation_deltas)
        ablation_deltas = _unique("ablation_deltas", tuple(
            _float("ablation_deltas", d, low=0.0) for d in self.ablation_deltas))
        for d in ablation_deltas:
            if d not in deltas:
                raise _fail("ablation_deltas", f"values from deltas {list(deltas)}", d)
        if self.train_preset not in ("quick", "paper"):
            raise _fail("train_preset", "'quick' or 'paper'", self.train_preset)
        train = {k: _plain_table(k, getattr(self, k)) for k in ("train", "train_rl", "train_sl")}
        for k, table in train.items():
            _check_train_keys(k, table)
        if not isinstance(self.name, str) or self.name != self.name.strip():
            raise _fail("name", "a name without leading or trailing spaces", self.name)
        _check_name(self.name)
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
            ablation_deltas=ablation_deltas, **train,
        )

    # -- derived ------------------------------------------------------------------------------
    @property
    def n_runs(self) -> int:
        n = len(self.paradigms) * len(self.deltas) * len(self.complexities) * len(self.seeds)
        return n + len(ABLATIONS) * len(self.ablation_deltas) * len(self.seeds)

    def task_overrides(self, complexity: str) -> dict:
        """The task overrides of a complexity level ({} when the level is a task preset)."""
        return dict(self.task.get(complexity, {}))

    def train_overrides(self, paradigm: str) -> dict:
        """TrainConfig overrides for one paradigm (common ones, then paradigm-specific). The
        ablation's paradigms take RL's settings (PPO's schedule, RL's cap on updates: the same
        trials per update) and their own overrides (:data:`ABLATIONS`)."""
        out = dict(self.train)
        out.update(self.train_sl if paradigm == "sl" else self.train_rl)
        if paradigm in ABLATIONS:
            out.update(ABLATIONS[paradigm][1])
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
            "criterion_fraction": self.criterion_fraction,
            "eval_every_trials": self.eval_every_trials,
            "checkpoint_every_evals": self.checkpoint_every_evals,
        }

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for k in ("paradigms", "deltas", "complexities", "seeds", "ablation_deltas"):
            d[k] = list(d[k])
        d["analysis"]["contexts"] = list(d["analysis"]["contexts"])
        d["analysis"]["threshold_variants"] = list(d["analysis"]["threshold_variants"])
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
            elif key == "ablation_deltas":
                changes[key] = tuple(value) if isinstance(value, (list, tuple)) else value
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
                "num_threads": "threads_per_run", "criterion": "criterion_fraction",
                "eval_every": "eval_every_trials",
                "checkpoint_every": "checkpoint_every_evals",
                "critic_detached": "ablation_deltas (the rl_matched paradigm)",
                "sl_schedule": "ablation_deltas (the sl_matched paradigm)",
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


def _check_name(name: str) -> None:
    """A study name names a directory (``attractorkit-study/<name>``): one path component."""
    from attractorkit.core._files import check_name

    check_name(name, what="name")


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
    for key in ("contexts", "threshold_variants"):
        if key in value:
            value[key] = tuple(value[key]) if isinstance(value[key], (list, tuple)) else \
                _seq(f"{name}.{key}", value[key])
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
