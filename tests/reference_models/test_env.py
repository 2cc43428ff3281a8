"""The Gymnasium environment plays exactly the vectorised task."""

import numpy as np
import pytest

from attractorkit.reference_models.env import ContextDecisionMakingEnv
from attractorkit.reference_models.task import DECISION

pytestmark = pytest.mark.study


def test_episode_is_one_trial_scored_like_the_task():
    env = ContextDecisionMakingEnv("default")
    rng = np.random.default_rng(0)
    for episode in range(30):
        obs, info = env.reset(seed=episode)
        batch = env._batch
        np.testing.assert_array_equal(obs, batch.observations[0, 0])
        actions, rewards, t = [], [], 0
        while True:
            a = int(info["gt"]) if rng.random() < 0.8 else int(rng.integers(0, 3))
            actions.append(a)
            obs, r, terminated, truncated, info = env.step(a)
            rewards.append(r)
            assert not truncated
            t += 1
            if terminated:
                break
            np.testing.assert_array_equal(obs, batch.observations[0, t])
        full = np.zeros(batch.period.shape, np.int64)
        full[0, :len(actions)] = actions
        out = env.task.score(batch, full)
        np.testing.assert_allclose(rewards, out.rewards[0, :len(actions)])
        assert len(actions) == out.alive.sum() and info["correct"] == out.correct[0]


def test_spaces_seeding_and_errors():
    env = ContextDecisionMakingEnv("choices3")
    assert env.observation_space.shape == (9,) and env.action_space.n == 4
    a, _ = env.reset(seed=3)
    b, _ = ContextDecisionMakingEnv("choices3").reset(seed=3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="action"):
        env.step(7)
    fresh = ContextDecisionMakingEnv()
    with pytest.raises(RuntimeError, match="reset"):
        fresh.step(0)
    fresh.reset(seed=0)
    while not fresh.in_decision:
        fresh.step(0)
    assert fresh._batch.period[0, fresh._t] == DECISION


def test_passes_gymnasium_env_checker():
    from gymnasium.utils.env_checker import check_env

    check_env(ContextDecisionMakingEnv("default"), skip_render_check=True)
