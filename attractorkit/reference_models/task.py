"""The context-dependent decision-making task, vectorised over a batch of trials.

A trial has four periods: fixation, stimulus, delay and decision. During the stimulus two
modalities each show a noisy ring-encoded stimulus pointing at one of ``n_choices`` directions;
a context cue says which modality counts. The agent must fixate (action 0) until the decision
period and then report the direction of the relevant modality (actions ``1..n_choices``).

The reference preset ``"neurogym"`` reproduces NeuroGym's ``ContextDecisionMaking`` (v2.x,
``use_expl_context=True``) exactly: same timing, same trial statistics and the same
observation encoding. Everything here is numpy; a batch of trials is built with a handful of
array operations and scored with one array operation per quantity.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

from attractorkit.core._errors import ValidationError
from attractorkit.core._validation import as_rng, check_int

__all__ = [
    "TruncExp",
    "TaskConfig",
    "TrialBatch",
    "Outcome",
    "ContextDecisionMaking",
    "TASK_PRESETS",
    "COMPLEXITY_PRESETS",
    "task_preset",
    "ideal_observer_two_choice",
    "FIXATION",
    "STIMULUS",
    "DELAY",
    "DECISION",
    "PADDING",
]

# period codes used in TrialBatch.period
FIXATION, STIMULUS, DELAY, DECISION, PADDING = 0, 1, 2, 3, -1
_PERIODS = ("fixation", "stimulus", "delay", "decision")


@dataclasses.dataclass(frozen=True)
class TruncExp:
    """An exponential duration of mean ``mean`` (ms), truncated to ``[low, high)`` (ms).

    NeuroGym's ``TruncExp(600, 300, 3000)``: the exponential is drawn and rejected until it falls
    in the interval; here it is drawn by inverting the truncated CDF (the same distribution).
    """

    mean: float
    low: float
    high: float

    def __post_init__(self):
        for name in ("mean", "low", "high"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValidationError(
                    f"TruncExp.{name}: expected a finite number >= 0, received {v!r}")
        if self.mean <= 0:
            raise ValidationError(f"TruncExp.mean: expected > 0, received {self.mean!r}")
        if not self.low < self.high:
            raise ValidationError(
                f"TruncExp: expected low < high, received low={self.low!r}, high={self.high!r}")

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        a, b = math.exp(-self.low / self.mean), math.exp(-self.high / self.mean)
        u = rng.random(size)
        return -self.mean * np.log(a - u * (a - b))


@dataclasses.dataclass(frozen=True)
class TaskConfig:
    """Configuration of the task; validated at construction.

    Parameters
    ----------
    sigma : float
        Input noise in NeuroGym's units: the per-step standard deviation is
        ``sigma / sqrt(dt)`` (``sigma=1`` and ``dt=100`` give 0.1 per step). Noise is added to the
        stimulus channels during the stimulus period only.
    coherences : tuple of float
        Unsigned coherences in percent, drawn uniformly and independently for each modality.
    fixation, stimulus, decision : float
        Period durations in ms (each is floored to a multiple of ``dt``, as NeuroGym does).
    delay : float or TruncExp
        Constant delay (ms; 0 allowed) or a truncated exponential, floored to a multiple of dt.
    dt : float
        Time step in ms.
    n_choices : int
        Number of directions (>= 2); ring (cosine) encoding as NeuroGym's ``dim_ring``.
    context_cue : bool
        Explicit context: two context channels, context drawn per trial. ``False`` is NeuroGym's
        implicit mode: no context channels and context fixed to 0 (modality 1 relevant).
    fixation_cue : {"fixation", "until_decision"}
        When the fixation input is 1: during the fixation period only (NeuroGym 2.x) or through
        fixation, stimulus and delay, so that its offset is a go cue (NeuroGym 0.x/1.x, Mante 2013).
    abort_period : {"fixation", "until_decision"}
        Where a non-fixate action earns ``reward_abort``: the fixation period only (NeuroGym) or
        everywhere before the decision period.
    abort_ends_trial : bool
        Whether an abort ends the trial (NeuroGym's ``abort``; default False).
    reward_correct, reward_wrong, reward_abort : float
        Reward of a correct choice, of a wrong choice (both in the decision period; a choice ends
        the trial) and of each aborting action.
    """

    sigma: float = 0.5
    coherences: tuple = (5.0, 15.0, 50.0)
    fixation: float = 300.0
    stimulus: float = 750.0
    delay: float | TruncExp = TruncExp(600.0, 300.0, 3000.0)
    decision: float = 100.0
    dt: float = 100.0
    n_choices: int = 2
    context_cue: bool = True
    fixation_cue: str = "until_decision"
    abort_period: str = "until_decision"
    abort_ends_trial: bool = False
    reward_correct: float = 1.0
    reward_wrong: float = 0.0
    reward_abort: float = -0.1

    def __post_init__(self):
        _finite(self, "sigma", minimum=0.0)
        _finite(self, "dt", minimum=0.0, strict=True)
        cohs = self.coherences
        if isinstance(cohs, (str, bytes)) or not hasattr(cohs, "__len__") or len(cohs) == 0:
            raise ValidationError(
                f"coherences: expected a non-empty sequence of numbers in (0, 100], "
                f"received {cohs!r}")
        cohs = tuple(float(c) for c in cohs)
        if not all(math.isfinite(c) and 0 < c <= 100 for c in cohs):
            raise ValidationError(
                f"coherences: expected numbers in (0, 100] (percent), received {cohs!r}")
        object.__setattr__(self, "coherences", cohs)
        if isinstance(self.delay, Mapping):
            object.__setattr__(self, "delay", TruncExp(**self.delay))
        for name in ("fixation", "stimulus", "decision"):
            _finite(self, name, minimum=self.dt, what=f"a duration in ms >= dt={self.dt}")
        if isinstance(self.delay, TruncExp):
            if self.delay.low < self.dt:
                raise ValidationError(
                    f"delay: expected TruncExp.low >= dt={self.dt} ms, received {self.delay}")
        else:
            _finite(self, "delay", minimum=0.0)
            if 0 < self.delay < self.dt:
                raise ValidationError(
                    f"delay: expected 0 or a duration >= dt={self.dt} ms, received {self.delay!r}")
        check_int("n_choices", self.n_choices, minimum=2)
        for name in ("context_cue", "abort_ends_trial"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(
                    f"{name}: expected a bool, received {getattr(self, name)!r}")
        for name in ("fixation_cue", "abort_period"):
            if getattr(self, name) not in ("fixation", "until_decision"):
                raise ValidationError(
                    f"{name}: expected 'fixation' or 'until_decision', "
                    f"received {getattr(self, name)!r}")
        for name in ("reward_correct", "reward_wrong", "reward_abort"):
            _finite(self, name)

    @property
    def n_input(self) -> int:
        return 1 + 2 * self.n_choices + (2 if self.context_cue else 0)

    @property
    def n_actions(self) -> int:
        return 1 + self.n_choices

    @property
    def noise_std(self) -> float:
        """Per-step standard deviation of the input noise."""
        return self.sigma / math.sqrt(self.dt)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["coherences"] = list(self.coherences)
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> TaskConfig:
        d = dict(d)
        if isinstance(d.get("delay"), Mapping):
            d["delay"] = TruncExp(**d["delay"])
        d["coherences"] = tuple(d.get("coherences", ()))
        return cls(**d)


def _finite(cfg, name, *, minimum=None, strict=False, what=None):
    v = getattr(cfg, name)
    ok = isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
    ok = ok and math.isfinite(v)
    if ok and minimum is not None:
        ok = v > minimum if strict else v >= minimum
    if not ok:
        rel = "" if minimum is None else f" {'>' if strict else '>='} {minimum}"
        raise ValidationError(
            f"{name}: expected {what or 'a finite number' + rel}, received {v!r}")


# -- presets --------------------------------------------------------------------------------------
_NEUROGYM = TaskConfig(sigma=1.0, fixation_cue="fixation", abort_period="fixation")
TASK_PRESETS: dict[str, TaskConfig] = {
    # NeuroGym 2.x ContextDecisionMaking(use_expl_context=True), exactly (the reference).
    "neurogym": _NEUROGYM,
    # the training default: half the noise, fixation offset as go cue, fixation enforced.
    "default": TaskConfig(),
    # complexity axis: weaker evidence, then more choices on the ring (noise lowered so that the
    # ideal observer stays near 98-99% and the 95% criterion remains reachable).
    "lowcoh": TaskConfig(coherences=(4.0, 10.0, 30.0)),
    # the study's hard level: NeuroGym's coherences with more noise than NeuroGym (ideal
    # observer 0.932, 5.8 points below "default"); its criterion is relative to that
    "noisy": TaskConfig(sigma=1.1),
    # and a third level for the paper preset: ideal observer 0.879, 5.3 points below "noisy"
    "noisier": TaskConfig(sigma=1.8),
    "choices3": TaskConfig(n_choices=3, sigma=0.35),
    "choices4": TaskConfig(n_choices=4, sigma=0.3),
}
#: task presets that make complexity levels (docs/reference_models.md: their ideal observers;
#: a study lists its levels from easiest to hardest)
COMPLEXITY_PRESETS = ("default", "lowcoh", "choices3", "choices4", "noisy", "noisier")


def task_preset(name) -> TaskConfig:
    """Return the :class:`TaskConfig` of a preset name (a TaskConfig passes through)."""
    if isinstance(name, TaskConfig):
        return name
    if name not in TASK_PRESETS:
        raise ValidationError(
            f"task: expected a TaskConfig or one of {', '.join(map(repr, TASK_PRESETS))}, "
            f"received {name!r}")
    return TASK_PRESETS[name]


# -- batches --------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class TrialBatch:
    """A padded batch of trials (B trials, T = longest trial).

    Attributes
    ----------
    observations : float32 array (B, T, n_input); zero after a trial's end
    targets : int64 array (B, T); supervised labels: 0 (fixate) before the decision period,
        the ground truth during it, -1 on padding
    period : int8 array (B, T); FIXATION, STIMULUS, DELAY, DECISION or PADDING
    mask : bool array (B, T); True on the steps of the trial
    lengths : int64 array (B,)
    ground_truth : int64 array (B,); the correct action, 1..n_choices
    context : int64 array (B,); 0 (modality 1 relevant) or 1 (modality 2)
    direction : int64 array (B, 2); the direction (1..n_choices) shown in each modality
    coherence : float64 array (B, 2); unsigned coherence (percent) of each modality
    """

    observations: np.ndarray
    targets: np.ndarray
    period: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray
    ground_truth: np.ndarray
    context: np.ndarray
    direction: np.ndarray
    coherence: np.ndarray

    @property
    def n_trials(self) -> int:
        return self.observations.shape[0]

    @property
    def n_steps(self) -> int:
        return int(self.mask.sum())


@dataclasses.dataclass(frozen=True, eq=False)
class Outcome:
    """The result of acting in a batch of trials (see :meth:`ContextDecisionMaking.score`).

    rewards (B, T) float32; alive (B, T) bool, steps that happen (the trial ends at the first
    choice in the decision period, at an abort when aborts end trials, or at its last step);
    done (B, T) bool, the last alive step; choice (B,) the action that ended the decision (0 if
    none); correct (B,) bool; aborted (B,) bool, any aborting action.
    """

    rewards: np.ndarray
    alive: np.ndarray
    done: np.ndarray
    choice: np.ndarray
    correct: np.ndarray
    aborted: np.ndarray

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean())


# -- the task -------------------------------------------------------------------------------------
class ContextDecisionMaking:
    """The task: samples batches of trials and scores actions, all vectorised.

    Parameters
    ----------
    config : TaskConfig or str
        A configuration or a preset name (see ``TASK_PRESETS``); default ``"default"``.

    Examples
    --------
    >>> task = ContextDecisionMaking("neurogym")
    >>> batch = task.sample(4, rng=0)
    >>> batch.observations.shape[0], batch.observations.shape[2]
    (4, 7)
    >>> outcome = task.score(batch, batch.targets.clip(0))   # acting out the targets
    >>> outcome.accuracy
    1.0
    """

    def __init__(self, config: TaskConfig | str = "default"):
        self.config = task_preset(config)
        n = self.config.n_choices
        self._theta = np.linspace(0, 2 * np.pi, n + 1)[:-1]

    def __repr__(self):
        return f"ContextDecisionMaking({self.config!r})"

    @property
    def n_input(self) -> int:
        return self.config.n_input

    @property
    def n_actions(self) -> int:
        return self.config.n_actions

    def period_steps(self, delay_ms) -> tuple[int, int, np.ndarray, int]:
        """Steps of (fixation, stimulus, delay (array), decision); durations floored to dt."""
        c = self.config
        steps = [int(getattr(c, p) // c.dt) for p in ("fixation", "stimulus", "decision")]
        return steps[0], steps[1], np.floor_divide(delay_ms, c.dt).astype(np.int64), steps[2]

    def sample(self, n_trials: int, rng=None, *, ground_truth=None, other_choice=None,
               context=None, coherence=None, delay=None, noise: bool = True) -> TrialBatch:
        """Sample ``n_trials`` trials.

        Conditions are drawn as NeuroGym draws them (ground truth, the other modality's
        direction, context, and one coherence per modality, all uniform and independent) unless
        given: each override is a scalar or an array of shape (n_trials,) (``coherence``: also
        (2,) or (n_trials, 2), percent). ``delay`` overrides the delay in ms. ``noise=False``
        gives the noise-free (mean) inputs, e.g. for freezing inputs in an analysis.
        """
        c = self.config
        n_trials = check_int("n_trials", n_trials, minimum=1)
        rng = as_rng(rng)
        n = c.n_choices
        gt = rng.integers(1, n + 1, n_trials)
        other = rng.integers(1, n + 1, n_trials)
        ctx = rng.integers(0, 2, n_trials) if c.context_cue else np.zeros(n_trials, np.int64)
        cohs = np.asarray(c.coherences)[rng.integers(0, len(c.coherences), (n_trials, 2))]
        delay_ms = (c.delay.sample(rng, n_trials) if isinstance(c.delay, TruncExp)
                    else np.full(n_trials, float(c.delay)))
        gt = _override("ground_truth", gt, ground_truth, (n_trials,), 1, n)
        other = _override("other_choice", other, other_choice, (n_trials,), 1, n)
        ctx = _override("context", ctx, context, (n_trials,), 0, 1 if c.context_cue else 0)
        cohs = _override("coherence", cohs, coherence, (n_trials, 2), 0, 100, integer=False)
        delay_ms = _override("delay", delay_ms, delay, (n_trials,), 0, np.inf, integer=False)
        # the relevant modality shows the ground truth, the other one the other direction
        direction = np.where(ctx[:, None] == 0, np.stack([gt, other], 1), np.stack([other, gt], 1))
        return self._build(gt, ctx, direction, cohs, delay_ms, rng, noise)

    def _build(self, gt, ctx, direction, cohs, delay_ms, rng, noise) -> TrialBatch:
        c = self.config
        n, B = c.n_choices, gt.shape[0]
        n_fix, n_stim, n_delay, n_dec = self.period_steps(delay_ms)
        lengths = n_fix + n_stim + n_delay + n_dec
        T = int(lengths.max())
        t = np.arange(T)[None, :]
        s3 = (n_fix + n_stim + n_delay)[:, None]
        period = np.select([t < n_fix, t < n_fix + n_stim, t < s3, t < lengths[:, None]],
                           [FIXATION, STIMULUS, DELAY, DECISION], PADDING).astype(np.int8)
        obs = np.zeros((B, T, c.n_input), np.float32)
        fix_on = period == FIXATION if c.fixation_cue == "fixation" else (
            (period >= FIXATION) & (period < DECISION))
        obs[:, :, 0] = fix_on
        # ring encoding of both modalities: 0.5 + cos(theta - theta_dir) * coh / 200
        mean = np.cos(self._theta[None, None, :] - self._theta[direction - 1][:, :, None])
        mean = (mean * (cohs[:, :, None] / 200) + 0.5).reshape(B, 2 * n).astype(np.float32)
        stim = np.broadcast_to(mean[:, None, :], (B, n_stim, 2 * n))
        if noise and c.sigma > 0:
            stim = stim + rng.standard_normal((B, n_stim, 2 * n)) * c.noise_std
        obs[:, n_fix:n_fix + n_stim, 1:1 + 2 * n] = stim
        if c.context_cue:  # on for the whole trial, decision included (as NeuroGym 2.x)
            obs[np.arange(B)[:, None], t, 1 + 2 * n + ctx[:, None]] = period >= 0
        targets = np.where(period == DECISION, gt[:, None], 0)
        targets = np.where(period == PADDING, -1, targets).astype(np.int64)
        return TrialBatch(observations=obs, targets=targets, period=period, mask=period >= 0,
                          lengths=lengths.astype(np.int64), ground_truth=gt.astype(np.int64),
                          context=ctx.astype(np.int64), direction=direction.astype(np.int64),
                          coherence=cohs.astype(np.float64))

    def score(self, batch: TrialBatch, actions) -> Outcome:
        """Rewards, trial ends and correctness of ``actions`` (B, T) taken in ``batch``.

        The network does not see its own actions, so acting on a whole pre-generated trial is
        the same as stepping it: a trial simply ends at the first choice in the decision period
        (or at an abort when aborts end trials); later actions are ignored.
        """
        c = self.config
        a = np.asarray(actions)
        if a.shape != batch.period.shape:
            raise ValidationError(
                f"actions: expected shape {batch.period.shape}, received {a.shape}")
        period, valid = batch.period, batch.mask
        T = period.shape[1]
        t = np.arange(T)[None, :]
        act = (a != 0) & valid
        abortable = (period == FIXATION) if c.abort_period == "fixation" else (
            valid & (period < DECISION))
        abort = abortable & act
        choose = (period == DECISION) & act
        ends = choose | (t == batch.lengths[:, None] - 1)
        if c.abort_ends_trial:
            ends = ends | abort
        end = ends.argmax(axis=1)
        alive = t <= end[:, None]
        done = t == end[:, None]
        chose = (choose & done).any(axis=1)
        choice = np.where(chose, a[np.arange(a.shape[0]), end], 0)
        correct = choice == batch.ground_truth
        r_choice = np.where(correct, c.reward_correct, c.reward_wrong)
        rewards = np.where(abort & alive, c.reward_abort, 0.0)
        rewards = rewards + np.where(choose & done, r_choice[:, None], 0.0)
        return Outcome(rewards=rewards.astype(np.float32), alive=alive, done=done,
                       choice=choice.astype(np.int64), correct=correct,
                       aborted=(abort & alive).any(axis=1))

    def ideal_observer_accuracy(self, n_trials: int = 200_000, rng=0) -> tuple[float, float]:
        """Monte Carlo accuracy of the optimal integrator, and its standard error.

        The observer knows the context and sums each channel of the relevant modality over the
        stimulus period; with i.i.d. Gaussian noise and a cosine ring code the optimal choice is
        the direction whose ring vector has the largest projection of those sums, whatever the
        coherence. Trials come from :meth:`sample`, so this also exercises the sampler.
        """
        n_trials = check_int("n_trials", n_trials, minimum=1)
        rng = as_rng(rng)
        n = self.config.n_choices
        ring = np.cos(self._theta[:, None] - self._theta[None, :])  # (channel, direction)
        hits, done = 0, 0
        while done < n_trials:
            m = min(50_000, n_trials - done)
            b = self.sample(m, rng)
            stim = (b.period == STIMULUS)[:, :, None]
            sums = (b.observations[:, :, 1:1 + 2 * n] * stim).sum(1, dtype=np.float64)
            rel = np.where(b.context[:, None] == 0, sums[:, :n], sums[:, n:])
            hits += int((np.argmax(rel @ ring, axis=1) + 1 == b.ground_truth).sum())
            done += m
        p = hits / n_trials
        return p, math.sqrt(max(p * (1 - p), 1e-12) / n_trials)


def ideal_observer_two_choice(config: TaskConfig | str) -> float:
    """Closed-form ideal-observer accuracy for two choices: mean over coherences of
    Phi(coh/100 * sqrt(n_stim) / (sqrt(2) * noise_std))."""
    c = task_preset(config)
    if c.n_choices != 2:
        raise ValidationError(f"config: expected n_choices=2, received {c.n_choices}")
    n_stim = int(c.stimulus // c.dt)
    if c.sigma == 0:
        return 1.0
    z = [co / 100 * math.sqrt(n_stim) / (math.sqrt(2) * c.noise_std) for co in c.coherences]
    return float(np.mean([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in z]))


def _override(name, default, value, shape, lo, hi, *, integer=True):
    if value is None:
        return default
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf" + ("" if integer else "f"):
        raise ValidationError(f"{name}: expected numbers, received dtype {arr.dtype}")
    if integer and arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
        raise ValidationError(f"{name}: expected integers, received {value!r}")
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValidationError(
            f"{name}: expected a scalar or shape {shape}, received shape {arr.shape}") from None
    if not (np.all(arr >= lo) and np.all(arr <= hi)):
        raise ValidationError(f"{name}: expected values in [{lo}, {hi}], received {value!r}")
    return np.array(arr, dtype=np.int64 if integer else np.float64)
