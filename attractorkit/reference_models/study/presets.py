"""The study's presets: ``tiny`` (tests), ``quick`` (<= 15 min on 2 cores), ``standard``
(N = 250, sized by the power analysis of docs/study.md, <= 2 h on 2 cores), ``paper``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from attractorkit.core._errors import ValidationError

from .config import AnalysisSettings, StatsSettings, StudyConfig, _fail, _toml_loads

__all__ = ["PRESETS", "preset", "load_config"]


def _tiny() -> StudyConfig:
    return StudyConfig(
        name="tiny", deltas=(0.05, 0.2), complexities=("default",), seeds=(0, 1), n_hidden=12,
        train={"max_updates": 4, "eval_trials": 32, "batch_trials": 8, "rollout_trials": 16,
               "minibatch_trials": 8, "ppo_epochs": 1},
        eval_every_trials=32, checkpoint_every_evals=1,
        analysis=AnalysisSettings(n_coherences=3, n_transient=60, n_steps=100, mi_trials=16,
                                  max_extensions=0, example_orbit_steps=40, eval_trials=50,
                                  hard_trials=50),
        stats=StatsSettings(n_boot=400, n_perm=400, stability_resamples=5,
                            stability_perm=400),
    )


def _quick() -> StudyConfig:
    return StudyConfig(
        name="quick", deltas=(0.1, 0.3), complexities=("default", "noisy"), seeds=(0, 1, 2),
        n_hidden=64, train_preset="quick", ablation_deltas=(0.3,),
        train_rl={"max_updates": 600}, train_sl={"max_updates": 6000},
        analysis=AnalysisSettings(n_coherences=5, n_transient=400, n_steps=300,
                                  max_extensions=0, mi_trials=48, eval_trials=1000),
    )


def _standard() -> StudyConfig:
    return StudyConfig(
        name="standard", deltas=(0.05, 0.1, 0.15), complexities=("default", "noisy"),
        seeds=tuple(range(15)), n_hidden=250, train_preset="paper",
        train_rl={"max_updates": 800}, train_sl={"max_updates": 4000},
        ablation_deltas=(0.1,),
        analysis=AnalysisSettings(n_coherences=9, n_transient=1000, n_steps=1000,
                                  max_extensions=1, mi_trials=64, threshold_seeds=5),
    )


def _paper() -> StudyConfig:
    return StudyConfig(
        name="paper", deltas=(0.02, 0.04, 0.06, 0.08, 0.10, 0.12, 0.15),
        complexities=("default", "noisy", "noisier"), seeds=tuple(range(20)), n_hidden=250,
        train_preset="paper", ablation_deltas=(0.1,),
        analysis=AnalysisSettings(n_coherences=21, n_transient=2000, n_steps=4000,
                                  mi_trials=256),
        stats=StatsSettings(n_boot=5000, n_perm=5000),
    )


_PRESET_FACTORIES = {"tiny": _tiny, "quick": _quick, "standard": _standard, "paper": _paper}
PRESETS = tuple(_PRESET_FACTORIES)


def preset(name: str) -> StudyConfig:
    """A named preset: ``"tiny"`` (tests), ``"quick"`` (<= 15 min on 2 cores), ``"standard"``
    (N = 250, <= 2 h on 2 cores) or ``"paper"`` (N = 250, the paper's scale)."""
    if name not in _PRESET_FACTORIES:
        raise _fail("preset", f"one of {', '.join(map(repr, PRESETS))}", name)
    return _PRESET_FACTORIES[name]().validate()


def load_config(source: str | Path | Mapping | None = None, *, preset_name: str | None = None
                ) -> StudyConfig:
    """Load a study configuration.

    Parameters
    ----------
    source : path to a TOML file, a mapping, or None
        Settings that override the base. A ``preset = NAME`` key inside selects the base.
    preset_name : str, optional
        The base preset when ``source`` names none (default: the class defaults).

    Raises
    ------
    ValidationError
        For unreadable TOML, unknown keys or values out of range; the message names the key.
    """
    base = preset(preset_name) if preset_name is not None else None
    if source is None:
        return base if base is not None else StudyConfig().validate()
    if isinstance(source, Mapping):
        return _from_mapping(source, base)
    path = Path(source)
    if not path.is_file():
        raise ValidationError(f"config: no TOML file at {str(path)!r}")
    return _from_mapping(_toml_loads(path.read_text(), str(path)), base)



def _from_mapping(data, base):
    if not isinstance(data, Mapping):
        raise _fail("config", "a table of settings", type(data).__name__)
    data = dict(data)
    if "preset" in data:
        base = preset(data.pop("preset"))
    return StudyConfig.from_dict(data, base=base)
