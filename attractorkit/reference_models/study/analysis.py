"""Per-run analysis: train one network, then analyse it through the public attractorkit API.

Everything a run produces comes from :func:`run_files`, a deterministic function of the study
configuration and the run's (paradigm, delta, complexity, seed); the runner writes its files.

What is measured (docs/study.md gives the reasons):

- accuracy: greedy accuracy on fresh trials, drawn from a stream independent of training;
- attractor map: for each context and each point of the signed-coherence grid, the
  stimulus-period input is frozen and :func:`attractorkit.analyze` (attractor census) labels
  the attractor reached from the stimulus-onset state of a noise-free trial (plus optional
  extra initial conditions); f_QP is the share of grid points labelled quasi-periodic;
- decision attractors and populations: the delay-period attractor reached after a strong
  stimulus for choice 1 and for choice 2, per context; units active at one, the other, both or
  neither give G+, G-, Ga, Gs and the balance index;
- information: per-unit mutual information with the task variables on noisy trials;
- crystallisation: across training, the checkpoint after which the population memberships stay
  within Jaccard 0.9 of the final ones; within trials, the decision-crystallisation time.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile

import numpy as np

import attractorkit as ak
from attractorkit.attractors import CONFIDENT
from attractorkit.core._errors import ValidationError

from . import inputs as inp
from .config import StudyConfig

__all__ = ["LABELS", "train_config", "task_config", "attractor_map", "map_fractions",
           "decision_states", "population_sets", "npz_bytes", "ideal_observer"]

LABELS = ("fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent", "undetermined")
POP_CODES = {"Gs": 0, "G+": 1, "G-": 2, "Ga": 3}
JACCARD_STABLE = 0.9


# -- configuration -> training ---------------------------------------------------------------
def task_config(config: StudyConfig, complexity: str):
    """The TaskConfig of a complexity level: a task preset, or overrides of the default."""
    from attractorkit.reference_models.task import TASK_PRESETS, TaskConfig

    overrides = config.task_overrides(complexity)
    if overrides:
        base = TASK_PRESETS[overrides.pop("base", "default")].to_dict()
        base.update(overrides)
        return TaskConfig.from_dict(base)
    return TASK_PRESETS[complexity]


def train_config(config: StudyConfig, spec):
    """The reference-models TrainConfig of one run.

    The seed is the unit's :func:`~.config.init_seed` (shared by RL and SL of a unit, never by
    two cells); the criterion is ``criterion_fraction`` of the level's ideal-observer accuracy;
    evaluations come every ``eval_every_trials`` trials whatever the paradigm's batch.
    """
    from attractorkit.reference_models.training import TrainConfig

    from .config import base_paradigm, init_seed

    overrides = config.train_overrides(spec.paradigm)
    task = task_config(config, spec.complexity)
    paradigm = base_paradigm(spec.paradigm)
    probe = TrainConfig.preset(config.train_preset, paradigm=paradigm, **{
        k: v for k, v in overrides.items() if k in ("batch_trials", "rollout_trials",
                                                     "minibatch_trials", "sl_schedule")})
    per_update = probe.trials_per_update
    if config.eval_every_trials % per_update:
        raise ValidationError(
            f"eval_every_trials: expected a multiple of the trials per update of "
            f"{spec.paradigm} ({per_update}), received {config.eval_every_trials}")
    every = config.eval_every_trials // per_update
    return TrainConfig.preset(
        config.train_preset, paradigm=paradigm, delta=spec.delta,
        seed=init_seed(spec.delta, spec.complexity, spec.seed), n_hidden=config.n_hidden,
        task=task, criterion=round(config.criterion_fraction * ideal_observer(task), 4),
        eval_every=every, checkpoint_every=every * config.checkpoint_every_evals, **overrides)


@functools.lru_cache(maxsize=32)
def _ideal_observer(task_json: str) -> float:
    from attractorkit.reference_models.task import (
        ContextDecisionMaking,
        TaskConfig,
        ideal_observer_two_choice,
    )

    cfg = TaskConfig.from_dict(json.loads(task_json))
    if cfg.n_choices == 2:
        return ideal_observer_two_choice(cfg)
    return ContextDecisionMaking(cfg).ideal_observer_accuracy(200_000, rng=0)[0]


def ideal_observer(task) -> float:
    """Ideal-observer accuracy of a task configuration (closed form for two choices, else a
    fixed-seed Monte Carlo estimate of 200 000 trials)."""
    return _ideal_observer(json.dumps(task.to_dict(), sort_keys=True))


def _rng(spec, stream: int) -> np.random.Generator:
    """Analysis randomness: identical for the RL and SL networks of a unit, independent
    across cells and of training."""
    from .config import init_seed

    return np.random.default_rng([init_seed(spec.delta, spec.complexity, spec.seed), stream])


# -- attractor maps --------------------------------------------------------------------------
def onset_state(model, task, context: int) -> np.ndarray:
    """The state at stimulus onset of a noise-free trial (h0 = 0 through the fixation period)."""
    n_fix, _ = inp.period_lengths(task)
    x = np.broadcast_to(inp.period_input(task, context, "fixation"), (1, n_fix, task.n_input))
    traj = ak.simulate(model, np.zeros(model.n_state), x, n_fix)
    return traj.states[0, 0, -1]


def _visited_states(model, task, context, n, rng) -> np.ndarray:
    """``n`` states visited during noise-free stimulus periods at random grid coherences."""
    _, n_stim = inp.period_lengths(task)
    c = rng.uniform(-50, 50, size=(n, 2))
    x = inp.stimulus_inputs(task, context, c[:, 0], c[:, 1])
    traj = ak.simulate(model, onset_state(model, task, context), x, n_stim)
    t = rng.integers(0, n_stim, size=n)
    return traj.states[np.arange(n), 0, t]


def attractor_map(model, task, settings, rng, *, thresholds=None) -> dict:
    """Labels of the attractors over the signed-coherence grid, per context.

    Runs :func:`attractorkit.attractor_census` once per context (``thresholds`` are passed on
    to the classifier). Returns ``labels`` (n_contexts, n_coh, n_coh, n_init) str, where
    initial condition 0 is the stimulus-onset state, ``confidence`` (same shape, the
    classifier's confidence in each label), ``axis`` (n_coh,) and ``final_states``
    (n_contexts, n_coh, n_coh, n_state) of the onset runs.
    """
    axis = inp.coherence_axis(settings.coherence_max, settings.n_coherences)
    c1, c2 = np.meshgrid(axis, axis, indexing="ij")
    labels, confidence, finals = [], [], []
    for context in settings.contexts:
        init = onset_state(model, task, context)[None]
        if settings.n_init:
            init = np.vstack([init, _visited_states(model, task, context, settings.n_init, rng)])
        census = ak.attractor_census(
            model, inp.stimulus_inputs(task, context, c1, c2).reshape(-1, task.n_input),
            initial_states=init, grid_shape=(axis.size, axis.size), axes=(axis, axis),
            axis_names=("c1", "c2"), n_init=init.shape[0], n_steps=settings.n_steps,
            n_transient=settings.n_transient, max_extensions=settings.max_extensions,
            thresholds=thresholds, rng=int(rng.integers(2**31 - 1)))
        att = census.attractors
        labels.append(np.asarray(att.label).reshape(axis.size, axis.size, init.shape[0]))
        confidence.append(np.asarray(att.confidence, float).reshape(labels[-1].shape))
        finals.append(np.asarray(att.final_states)[:, 0].reshape(axis.size, axis.size, -1))
    return {"labels": np.stack(labels).astype("U16"), "confidence": np.stack(confidence),
            "axis": axis, "final_states": np.stack(finals)}


def _bounds(mask_qp, mask_und, where=None) -> tuple[float, float]:
    if where is not None:
        mask_qp, mask_und = mask_qp[where], mask_und[where]
    if mask_qp.size == 0:
        return float("nan"), float("nan")
    return float(mask_qp.mean()), float((mask_qp | mask_und).mean())


def map_fractions(labels: np.ndarray, axis: np.ndarray, contexts, coherence_max,
                  prefix: str = "fqp", confidence: np.ndarray | None = None) -> dict:
    """f_QP bounds overall, per context, at low and high |relevant coherence|; label shares.

    The lower bound counts grid points labelled quasi-periodic with the classifier's
    confidence >= ``attractorkit.attractors.CONFIDENT`` (0.9; every quasi-periodic label when
    ``confidence`` is None); the upper bound counts every quasi-periodic and undetermined label
    (an undetermined attractor may be quasi-periodic), as
    :func:`attractorkit.attractors.qp_share_bounds` does. Onset runs only.
    """
    onset = labels[..., 0]
    any_qp = onset == "quasi_periodic"
    qp = any_qp
    if confidence is not None:
        qp = any_qp & (np.asarray(confidence)[..., 0] >= CONFIDENT)
    und = (onset == "undetermined") | (any_qp & ~qp)
    c1, c2 = np.meshgrid(axis, axis, indexing="ij")
    low = np.stack([np.abs(inp.relevant_coherence(k, c1, c2)) < coherence_max / 2
                    for k in contexts])
    out = {}
    parts = {"": None, "_lowcoh": low, "_highcoh": ~low}
    parts.update({f"_ctx{k}": np.arange(len(contexts))[:, None, None] == i
                  for i, k in enumerate(contexts)})
    for name, where in parts.items():
        if where is not None:
            where = np.broadcast_to(where, qp.shape)
        lo, hi = _bounds(qp, und, where)
        out[f"{prefix}{name}_lower"], out[f"{prefix}{name}_upper"] = lo, hi
    if prefix == "fqp":
        for lab in LABELS:
            out[f"share_{lab}"] = float((onset == lab).mean())
    return out


# -- decision attractors and populations -----------------------------------------------------
def _longest_delay_steps(task) -> int:
    from attractorkit.reference_models.task import TruncExp

    delay = task.delay.high if isinstance(task.delay, TruncExp) else task.delay
    return max(int(delay // task.dt), 1)


def decision_states(model, task, settings) -> tuple[np.ndarray, np.ndarray]:
    """Delay-period decision states after a strong stimulus for choice 1 and for choice 2.

    A noise-free trial with relevant coherence +-coherence_max (irrelevant 0) is run through
    fixation and stimulus; the frozen delay input is then iterated ``n_transient`` steps and the
    activity averaged over the next ``n_steps // 4`` (the attractor's mean, exact for a fixed
    point). When the frozen delay dynamics diverge there is no decision attractor: the state
    at the end of the task's longest delay is used instead and the entry is flagged.

    Returns
    -------
    states : (n_contexts, 2, n_state)
    bounded : (n_contexts, 2) bool, False where the delay dynamics diverged
    """
    n_fix, n_stim = inp.period_lengths(task)
    n_avg = max(settings.n_steps // 4, 1)
    horizon = _longest_delay_steps(task)
    out = np.empty((len(settings.contexts), 2, model.n_state))
    bounded = np.ones((len(settings.contexts), 2), bool)
    for i, k in enumerate(settings.contexts):
        for j, sign in enumerate((1.0, -1.0)):
            c = sign * settings.coherence_max
            stim = inp.stimulus_inputs(task, k, c if k == 1 else 0.0, c if k == 2 else 0.0)
            x = np.concatenate([np.broadcast_to(inp.period_input(task, k, "fixation"),
                                                (n_fix, task.n_input)),
                                np.broadcast_to(stim, (n_stim, task.n_input))])
            end = ak.simulate(model, np.zeros(model.n_state), x[None], n_fix + n_stim)
            h = end.states[0, 0, -1]
            n_total = max(settings.n_transient + n_avg, horizon)
            traj = ak.simulate(model, h, inp.period_input(task, k, "delay"), n_total)
            states = traj.states[0, 0]
            if not traj.diverged[0, 0]:
                out[i, j] = states[n_total - n_avg:].mean(axis=0)
                continue
            bounded[i, j] = False
            finite = np.flatnonzero(np.all(np.isfinite(states), axis=1))
            last = finite[finite < horizon]
            out[i, j] = states[last[-1]] if last.size else h
    return out, bounded


def population_sets(states: np.ndarray, threshold: float) -> dict:
    """Populations per context from the decision states (n_contexts, 2, n_state).

    Uses :func:`attractorkit.populations` (the DESIGN §5 definition). Returns ``codes``
    (n_contexts, n_state) with :data:`POP_CODES`, the counts per population and context, and
    ``balance`` (n_contexts,), NaN when no unit tells the two decisions apart.
    """
    codes, balance = [], []
    counts = {name: [] for name in POP_CODES}
    for i in range(states.shape[0]):
        pops = ak.populations(states[i, 0], states[i, 1], threshold=threshold)
        codes.append(np.array([POP_CODES[_SHORT[lab]] for lab in pops.labels], np.int8))
        balance.append(pops.balance)
        for name, lab in _LONG.items():
            counts[name].append(pops.counts[lab])
    return {"codes": np.array(codes), "counts": {k: np.array(v) for k, v in counts.items()},
            "balance": np.array(balance, dtype=float)}


_SHORT = {"G_s": "Gs", "G_+": "G+", "G_-": "G-", "G_a": "Ga"}
_LONG = {v: k for k, v in _SHORT.items()}


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return 1.0 if union == 0 else np.count_nonzero(a & b) / union


def membership_similarity(codes: np.ndarray, final: np.ndarray) -> float:
    """Mean Jaccard similarity of G+ and G- memberships with the final ones (over contexts)."""
    sims = [_jaccard(codes[i] == c, final[i] == c) for i in range(codes.shape[0])
            for c in (POP_CODES["G+"], POP_CODES["G-"])]
    return float(np.mean(sims))


# -- files -----------------------------------------------------------------------------------
def npz_bytes(arrays: dict) -> bytes:
    """An ``.npz`` archive with fixed timestamps: the same arrays give the same bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            arr = np.ascontiguousarray(arrays[name])
            if arr.dtype.kind == "O":
                raise TypeError(f"{name}: object arrays are not stored")
            member = io.BytesIO()
            np.lib.format.write_array(member, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, member.getvalue())
    return buf.getvalue()


def json_bytes(obj) -> bytes:
    return json.dumps(_jsonable(obj), indent=1, sort_keys=True, allow_nan=False).encode()


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer, int)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return float(v) if np.isfinite(v) else None
    return v
