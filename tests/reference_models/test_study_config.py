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
    assert set(PRESETS) == {"tiny", "quick", "standard", "paper"}
    paper = preset("paper")
    assert paper.n_hidden == 250 and min(paper.deltas) == 0.02 and max(paper.deltas) == 0.15
    assert len(paper.complexities) == 3 and len(paper.seeds) >= 20
    assert paper.analysis.n_init == 0 and not paper.analysis.grid_fixed_points
    quick = preset("quick")
    assert quick.n_hidden < 250 and len(quick.deltas) >= 2 and len(quick.complexities) >= 2
    standard = preset("standard")
    assert standard.n_hidden == 250 and len(standard.seeds) >= 10
    assert standard.ablation_deltas and set(standard.ablation_deltas) <= set(standard.deltas)
    assert preset("tiny").n_runs < quick.n_runs < standard.n_runs < paper.n_runs


def test_complexity_levels_differ_by_five_points_of_ideal_observer_accuracy():
    from attractorkit.reference_models.study.analysis import ideal_observer, task_config

    for name in ("quick", "standard", "paper"):
        cfg = preset(name)
        io = [ideal_observer(task_config(cfg, c)) for c in cfg.complexities]
        assert all(a - b >= 0.05 for a, b in zip(io, io[1:])), (name, io)


def test_replication_unit_is_an_independent_initialisation():
    """RL and SL of a unit start identical; two cells share no weights (not even up to scale),
    no input weights and no trial stream."""
    import numpy as np

    from attractorkit.reference_models.study.analysis import train_config
    from attractorkit.reference_models.study.runner import RunSpec
    from attractorkit.reference_models.training import Session

    cfg = preset("quick")

    def session(p, d, c, s=0):
        return Session(train_config(cfg, RunSpec(p, d, c, s)))

    rl, sl = session("rl", 0.1, "default"), session("sl", 0.1, "default")
    for k in ("W", "U", "b", "readout_weight", "readout_bias"):
        assert np.array_equal(getattr(rl.net, k).detach(), getattr(sl.net, k).detach())
    a = session("sl", 0.1, "default")
    for other in (session("sl", 0.3, "default"), session("sl", 0.1, "noisy"),
                  session("sl", 0.1, "default", 1)):
        w1, w2 = a.net.W.detach().numpy().ravel(), other.net.W.detach().numpy().ravel()
        assert abs(np.corrcoef(w1, w2)[0, 1]) < 0.1
        assert not np.array_equal(a.net.U.detach(), other.net.U.detach())
        assert not np.array_equal(a.rng_train.random(8), other.rng_train.random(8))


def test_study_names_are_one_path_component(tmp_path):
    for bad in ("../../../x", "a/b", "..", "a\\b"):
        with pytest.raises(ValidationError, match="name"):
            load_config({"name": bad}, preset_name="tiny")
    f = tmp_path / "evil.toml"
    f.write_text('preset = "tiny"\nname = "../../../x"\n')
    with pytest.raises(ValidationError, match="single path component"):
        load_config(f)


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
    ('[train]\ncriterion = 0.9', "criterion_fraction"),
    ('[train]\neval_every = 5', "eval_every_trials"),
    ('ablation_deltas = [0.7]', "ablation_deltas"),
    ('[analysis]\nthreshold_variants = ["sloppy"]', "threshold_variants"),
    ('criterion_fraction = 1.5', "criterion_fraction"),
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


def test_the_docs_toml_example_loads(tmp_path):
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "study.md").read_text()
    f = tmp_path / "doc.toml"
    f.write_text(re.search(r"```toml\n(.*?)```", text, re.S).group(1))
    cfg = load_config(f)
    assert cfg.name == "quick-more-seeds" and "harder" in cfg.complexities
    assert cfg.ablation_deltas == (0.2,) and cfg.analysis.threshold_variants == ("strict",)
