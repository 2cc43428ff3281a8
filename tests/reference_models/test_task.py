"""The task against NeuroGym's ContextDecisionMaking (the reference preset) and its own rules."""

import dataclasses
import math

import numpy as np
import pytest

from attractorkit import ValidationError
from attractorkit.reference_models.task import (
    COMPLEXITY_PRESETS,
    DECISION,
    FIXATION,
    STIMULUS,
    TASK_PRESETS,
    ContextDecisionMaking,
    TaskConfig,
    TruncExp,
    ideal_observer_two_choice,
)

pytestmark = pytest.mark.study
ngym_cdm = pytest.importorskip("neurogym.envs.native.contextdecisionmaking")


def neurogym_env(**kw):
    env = ngym_cdm.ContextDecisionMaking(use_expl_context=True, **kw)
    env.seed(0)
    return env


def noise_free(preset="neurogym", **kw):
    return ContextDecisionMaking(dataclasses.replace(TASK_PRESETS[preset], sigma=0.0, **kw))


@pytest.mark.parametrize("n_choices", [2, 3])
@pytest.mark.parametrize("delay", [300, 650, 1200])
def test_encoding_matches_neurogym_exactly(n_choices, delay):
    env = neurogym_env(sigma=0.0, dim_ring=n_choices, timing={"delay": delay})
    task = noise_free(n_choices=n_choices)
    conds = [(g, o, c, c1, c2) for g in range(1, n_choices + 1) for o in range(1, n_choices + 1)
             for c in (0, 1) for c1, c2 in ((5, 50), (15, 5), (50, 15))]
    g, o, c, c1, c2 = (np.array(v) for v in zip(*conds))
    batch = task.sample(len(conds), rng=1, ground_truth=g, other_choice=o, context=c,
                        coherence=np.stack([c1, c2], 1), delay=delay)
    for i, (gi, oi, ci, k1, k2) in enumerate(conds):
        env.new_trial(ground_truth=gi, other_choice=oi, context=ci, coh_1=k1, coh_2=k2)
        T = env.ob.shape[0]
        assert batch.lengths[i] == T
        assert batch.observations.dtype == env.ob.dtype
        np.testing.assert_array_equal(batch.observations[i, :T], env.ob)
        np.testing.assert_array_equal(batch.targets[i, :T], env.gt)


def test_trial_statistics_match_neurogym():
    from scipy.stats import chi2_contingency

    env = neurogym_env()
    n_ref = 1500
    ref = {"len": [], "gt": [], "ctx": [], "coh": []}
    for _ in range(n_ref):
        tr = env.new_trial()
        ref["len"].append(env.ob.shape[0])
        ref["gt"].append(tr["ground_truth"])
        ref["ctx"].append(tr["context"])
        ref["coh"].append(tr["coh_1"])
    b = ContextDecisionMaking("neurogym").sample(30_000, rng=3)
    ours = {"len": b.lengths, "gt": b.ground_truth, "ctx": b.context, "coh": b.coherence[:, 0]}
    assert b.lengths.min() == 3 + 7 + 3 + 1 and b.lengths.max() <= 3 + 7 + 29 + 1
    for key in ref:
        values = np.union1d(np.unique(ref[key]), np.unique(ours[key]))
        table = np.array([[np.sum(np.asarray(x) == v) for v in values] for x in (ref[key],
                                                                                ours[key])])
        table = table[:, table.sum(0) >= 10]  # pool-free: drop rare cells
        assert chi2_contingency(table)[1] > 1e-3, key
    # exact mean of floor(TruncExp(600, 300, 3000) / 100) plus the 11 fixed steps
    k = np.arange(3, 30)
    p = np.exp(-k / 6) - np.exp(-(k + 1) / 6)
    exact = 11 + (k * p).sum() / p.sum()
    sd = 5.25  # standard deviation of the delay in steps
    assert abs(np.mean(ref["len"]) - exact) < 4 * sd / np.sqrt(n_ref)
    assert abs(b.lengths.mean() - exact) < 4 * sd / np.sqrt(b.n_trials)


def test_noise_is_neurogym_scaled_and_only_on_stimulus_channels():
    task = ContextDecisionMaking("neurogym")
    b = task.sample(4000, rng=5)
    clean = task.sample(4000, rng=5, noise=False)
    diff = b.observations - clean.observations
    stim = b.period == STIMULUS
    assert np.all(diff[~stim] == 0) and np.all(diff[..., [0, 5, 6]] == 0)
    std = diff[stim][:, 1:5].std()
    assert std == pytest.approx(1.0 / math.sqrt(100), rel=0.02)


def test_rewards_match_neurogym_step_by_step():
    rng = np.random.default_rng(0)
    env = neurogym_env(sigma=0.0, timing={"delay": 500})
    task = noise_free()
    for trial in range(40):
        g, o, c = rng.integers(1, 3), rng.integers(1, 3), rng.integers(0, 2)
        batch = task.sample(1, rng=0, ground_truth=g, other_choice=o, context=c,
                            coherence=15, delay=500)
        env.new_trial(ground_truth=g, other_choice=o, context=c, coh_1=15, coh_2=15)
        env.t = env.t_ind = 0
        T = batch.lengths[0]
        actions = rng.integers(0, 3, T) * (rng.random(T) < 0.4)
        actions[-1] = rng.integers(0, 3)
        out = task.score(batch, actions[None])
        for t in range(T):
            _, r, _, _, info = env.step(int(actions[t]))
            assert out.rewards[0, t] == pytest.approx(r), (trial, t)
            assert out.alive[0, t]
            if info["new_trial"]:
                assert out.done[0, t]
                assert out.correct[0] == (actions[t] == g)
                break


def test_score_rules_of_the_default_preset():
    task = ContextDecisionMaking("default")
    b = task.sample(200, rng=2)
    perfect = task.score(b, np.clip(b.targets, 0, None))
    assert perfect.accuracy == 1.0 and not perfect.aborted.any()
    assert perfect.rewards.sum() == pytest.approx(200.0)
    fixate = task.score(b, np.zeros_like(b.targets))
    assert fixate.accuracy == 0.0 and fixate.rewards.sum() == 0
    # a choice during the delay is an abort (fixation enforced until the decision period)
    early = np.clip(b.targets, 0, None)
    delay_step = b.lengths - 2
    early[np.arange(200), delay_step] = 1
    out = task.score(b, early)
    assert out.aborted.all() and out.accuracy == 1.0
    assert out.rewards.sum() == pytest.approx(200 * (1 - 0.1))
    # a wrong choice ends the trial with reward_wrong; later steps are dead
    wrong = task.score(b, np.where(b.period == DECISION, 3 - b.ground_truth[:, None], 0))
    assert wrong.accuracy == 0.0 and np.all(wrong.alive.sum(1) == b.lengths)


def test_aborts_can_end_trials():
    task = ContextDecisionMaking(dataclasses.replace(TASK_PRESETS["default"],
                                                     abort_ends_trial=True, reward_abort=-1.0))
    b = task.sample(10, rng=0)
    actions = np.zeros_like(b.targets)
    actions[:, 1] = 2
    out = task.score(b, actions)
    assert np.all(out.done[:, 1]) and np.all(out.alive.sum(1) == 2)
    assert np.all(out.rewards.sum(1) == -1.0) and out.accuracy == 0


def test_fixation_cue_and_context_encoding_of_default():
    b = noise_free("default").sample(50, rng=0)
    before = (b.period >= FIXATION) & (b.period < DECISION)
    np.testing.assert_array_equal(b.observations[..., 0], before)
    ctx = b.observations[..., 5:7]
    assert np.all(ctx.sum(-1) == b.mask)
    assert np.all(ctx[np.arange(50), 0, b.context] == 1)


def test_ideal_observer_monte_carlo_matches_closed_form():
    for name in ("neurogym", "default", "lowcoh"):
        p, se = ContextDecisionMaking(name).ideal_observer_accuracy(30_000, rng=4)
        assert abs(p - ideal_observer_two_choice(name)) < 4 * se + 1e-3, name
    assert ideal_observer_two_choice("neurogym") == pytest.approx(0.9409, abs=5e-4)
    assert set(COMPLEXITY_PRESETS) <= set(TASK_PRESETS)


def test_more_choices_use_ring_encoding_and_more_actions():
    task = ContextDecisionMaking("choices4")
    assert task.n_input == 1 + 8 + 2 and task.n_actions == 5
    b = noise_free("choices4").sample(8, rng=0, ground_truth=3, context=0, coherence=50)
    stim = b.observations[0, 3, 1:5]
    np.testing.assert_allclose(stim, 0.5 + 0.25 * np.cos(np.pi / 2 * (np.arange(4) - 2)),
                               atol=1e-7)


@pytest.mark.parametrize("kw, match", [
    ({"sigma": -1.0}, "sigma"),
    ({"coherences": ()}, "coherences"),
    ({"coherences": (5, 150)}, "coherences"),
    ({"fixation": 50.0}, "fixation"),
    ({"decision": 0.0}, "decision"),
    ({"dt": 0.0}, "dt"),
    ({"delay": 40.0}, "delay"),
    ({"delay": TruncExp(600, 50, 3000)}, "delay"),
    ({"n_choices": 1}, "n_choices"),
    ({"fixation_cue": "always"}, "fixation_cue"),
    ({"reward_abort": float("nan")}, "reward_abort"),
    ({"context_cue": 1}, "context_cue"),
])
def test_invalid_configuration_fails_at_construction(kw, match):
    with pytest.raises(ValidationError, match=match):
        TaskConfig(**kw)


def test_invalid_truncexp_and_overrides():
    with pytest.raises(ValidationError, match="low < high"):
        TruncExp(600, 3000, 300)
    task = ContextDecisionMaking("default")
    with pytest.raises(ValidationError, match="ground_truth"):
        task.sample(3, ground_truth=5)
    with pytest.raises(ValidationError, match="n_trials"):
        task.sample(0)
    with pytest.raises(ValidationError, match="task"):
        ContextDecisionMaking("no-such-preset")
    with pytest.raises(ValidationError, match="actions"):
        task.score(task.sample(2, rng=0), np.zeros((2, 1)))


def test_config_round_trips_through_dict():
    for cfg in TASK_PRESETS.values():
        assert TaskConfig.from_dict(cfg.to_dict()) == cfg
