"""Study configuration: presets, TOML loading, validation errors that name the key."""

import dataclasses

import pytest

from attractorkit import ValidationError
from attractorkit.reference_models.study import (
    PRESETS,
    StudyConfig,
    load_config,
    preset,
)

pytestmark = pytest.mark.study


def test_presets_are_valid_and_sized_as_documented():
    assert set(PRESETS) == {"tiny", "quick", "paper"}
    paper = preset("paper")
    assert paper.n_hidden == 250 and min(paper.deltas) == 0.02 and max(paper.deltas) == 0.15
    assert len(paper.complexities) == 3 and len(paper.seeds) >= 20
    quick = preset("quick")
    assert quick.n_hidden < 250 and len(quick.deltas) >= 2 and len(quick.complexities) >= 2
    assert preset("tiny").n_runs < quick.n_runs < paper.n_runs


def test_toml_overrides_a_preset(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text(
        'preset = "tiny"\nname = "mine"\nn_seeds = 4\ndeltas = [0.1]\n'
        'complexities = ["default", "harder"]\n'
        '[analysis]\nn_coherences = 5\n[train_rl]\nent_coef = 0.02\n'
        '[task.harder]\nbase = "lowcoh"\nsigma = 0.6\n')
    cfg = load_config(f)
    assert cfg.name == "mine" and cfg.seeds == (0, 1, 2, 3) and cfg.deltas == (0.1,)
    assert cfg.analysis.n_coherences == 5 and cfg.analysis.n_transient == 60  # from tiny
    assert cfg.train_overrides("rl")["ent_coef"] == 0.02
    assert "ent_coef" not in cfg.train_overrides("sl")
    assert cfg.task_overrides("harder") == {"base": "lowcoh", "sigma": 0.6}


def test_toml_round_trip(tmp_path):
    for name in PRESETS:
        cfg = preset(name)
        f = tmp_path / f"{name}.toml"
        f.write_text(cfg.to_toml())
        assert load_config(f) == cfg
        assert load_config(f).config_hash() == cfg.config_hash()


def test_hash_tracks_run_settings_only():
    cfg = preset("tiny")
    other_stats = dataclasses.replace(cfg, stats=dataclasses.replace(cfg.stats, alpha=0.01))
    assert other_stats.run_settings("rl", "default") == cfg.run_settings("rl", "default")
    assert other_stats.config_hash() != cfg.config_hash()
    more_steps = dataclasses.replace(cfg, analysis=dataclasses.replace(cfg.analysis,
                                                                       n_steps=200))
    assert more_steps.run_settings("rl", "default") != cfg.run_settings("rl", "default")


@pytest.mark.parametrize("text, match", [
    ('deltas = [-0.1]', "deltas"),
    ('deltas = []', "deltas"),
    ('paradigms = ["rl", "ga"]', "paradigms"),
    ('seeds = [1, 1]', "duplicates"),
    ('seeds = [0]\nn_seeds = 2', "not both"),
    ('n_hidden = 1.5', "n_hidden"),
    ('colour = "red"', "unknown key"),
    ('complexities = ["impossible"]', "impossible"),
    ('[analysis]\nn_coherences = 1', "n_coherences"),
    ('[analysis]\ncontexts = [3]', "contexts"),
    ('[analysis]\nmi_method = "bins"', "mi_method"),
    ('[analysis]\nspeed = 3', "unknown key"),
    ('[stats]\nalpha = 0.9', "alpha"),
    ('[train]\ndelta = 0.1', "set by the study"),
    ('[train]\nmax_seconds = 10', "machine-dependent"),
    ('[train]\nlearning_rate = 0.1', "unknown training setting"),
    ('[task.x]\nsigma = -1', "task.x"),
    ('preset = "huge"', "preset"),
    ('deltas = [0.1', "not valid TOML"),
])
def test_validation_errors_name_the_key(tmp_path, text, match):
    f = tmp_path / "bad.toml"
    f.write_text('preset = "tiny"\n' + text + "\n" if not text.startswith("preset") else text)
    with pytest.raises(ValidationError, match=match):
        load_config(f)


def test_missing_file_and_direct_construction():
    with pytest.raises(ValidationError, match="no TOML file"):
        load_config("/nonexistent/study.toml")
    with pytest.raises(ValidationError, match="threads_per_run"):
        StudyConfig(threads_per_run=0).validate()
    assert load_config({"n_hidden": 8}, preset_name="tiny").n_hidden == 8
