"""A Gymnasium environment over :class:`~attractorkit.reference_models.task.ContextDecisionMaking`.

One episode is one trial. Observations, rewards and trial ends are exactly those of the
vectorised task (the environment samples a batch of one trial and scores actions with the same
rule), so agents trained here and with the vectorised trainers see the same task.
"""

from __future__ import annotations

import numpy as np

from attractorkit.core._errors import MissingDependencyError

from .task import DECISION, ContextDecisionMaking, TaskConfig

try:
    import gymnasium as gym
except ImportError as exc:  # pragma: no cover - exercised only without gymnasium
    raise MissingDependencyError(
        "ContextDecisionMakingEnv needs gymnasium: pip install 'attractorkit[study]'") from exc

__all__ = ["ContextDecisionMakingEnv"]


class ContextDecisionMakingEnv(gym.Env):
    """The context-dependent decision-making task as a Gymnasium environment (one trial per
    episode).

    ``reset()`` starts a trial and returns its first observation; ``step(action)`` returns the
    next observation, the reward of ``action``, ``terminated`` (the trial ended: a choice in the
    decision period, an abort when aborts end trials, or the last step) and ``truncated=False``.
    ``info`` holds ``gt`` (the correct action), ``period`` and, at the end, ``correct``.

    Unlike NeuroGym's environments, which chain trials into one endless episode and return the
    observation of step 1 from ``reset``, every episode here is one whole trial from its step 0.

    Parameters
    ----------
    config : TaskConfig or str
        Task configuration or preset name (default ``"default"``).

    Examples
    --------
    >>> env = ContextDecisionMakingEnv("default")
    >>> obs, info = env.reset(seed=0)
    >>> obs.shape
    (7,)
    """

    metadata = {"render_modes": []}  # noqa: RUF012

    def __init__(self, config: TaskConfig | str = "default"):
        super().__init__()
        self.task = ContextDecisionMaking(config)
        c = self.task.config
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (c.n_input,), np.float32)
        self.action_space = gym.spaces.Discrete(c.n_actions)
        self._batch = None
        self._t = 0
        self._actions = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._batch = self.task.sample(1, self.np_random)
        self._t = 0
        self._actions = np.zeros(self._batch.period.shape, np.int64)
        return self._batch.observations[0, 0], self._info()

    def _info(self):
        b, t = self._batch, self._t
        return {"gt": int(b.targets[0, t]), "period": int(b.period[0, t]),
                "ground_truth": int(b.ground_truth[0])}

    def step(self, action):
        if self._batch is None:
            raise RuntimeError("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action: expected an int in [0, {self.action_space.n}), "
                             f"received {action!r}")
        b, t = self._batch, self._t
        self._actions[0, t] = int(action)
        out = self.task.score(b, self._actions)  # later actions are still 0: no effect on t
        reward = float(out.rewards[0, t])
        terminated = bool(out.done[0, t])
        info = self._info()
        if terminated:
            info["correct"] = bool(out.correct[0])
            info["choice"] = int(out.choice[0])
            obs = np.zeros(b.observations.shape[2], np.float32)
            self._batch = None
        else:
            self._t += 1
            obs = b.observations[0, self._t]
        return obs, reward, terminated, False, info

    @property
    def in_decision(self) -> bool:
        """Whether the current step is in the decision period."""
        return self._batch is not None and self._batch.period[0, self._t] == DECISION
