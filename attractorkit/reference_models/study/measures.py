"""Per-network measures besides the attractor map: hard held-out accuracy, learning curves and
trial relevance (where trial-time states go relative to the frozen-input attractors)."""

from __future__ import annotations

import numpy as np

import attractorkit as ak

from . import inputs as inp

__all__ = ["hard_trials", "hard_accuracy", "learning_summary", "trial_conditions",
           "relevance"]


def hard_trials(task, n_trials: int, rng):
    """Noisy trials at the level's lowest coherence in the relevant modality (the other one
    drawn as usual) and the longest delay of the task: harder than the training mixture, and
    held out (a stream no training run uses)."""
    from attractorkit.reference_models.task import ContextDecisionMaking, TruncExp

    c = task
    ctx = rng.integers(0, 2, n_trials) if c.context_cue else np.zeros(n_trials, np.int64)
    coh = np.asarray(c.coherences)[rng.integers(0, len(c.coherences), (n_trials, 2))]
    coh[np.arange(n_trials), ctx] = min(c.coherences)
    delay = (c.delay.high - c.dt / 2) if isinstance(c.delay, TruncExp) else float(c.delay)
    return ContextDecisionMaking(c).sample(n_trials, rng, context=ctx, coherence=coh,
                                           delay=delay)


def _ideal_choices(batch, task) -> np.ndarray:
    n = task.n_choices
    theta = np.linspace(0, 2 * np.pi, n + 1)[:-1]
    ring = np.cos(theta[:, None] - theta[None, :])
    from attractorkit.reference_models.task import STIMULUS

    stim = (batch.period == STIMULUS)[:, :, None]
    sums = (batch.observations[:, :, 1:1 + 2 * n] * stim).sum(1, dtype=np.float64)
    rel = np.where(batch.context[:, None] == 0, sums[:, :n], sums[:, n:])
    return np.argmax(rel @ ring, axis=1) + 1


def hard_accuracy(net, task, n_trials: int, rng) -> tuple[float, float]:
    """Greedy accuracy of ``net`` on :func:`hard_trials`, and the ideal observer's on the same
    trials."""
    import torch

    from attractorkit.reference_models.packed import PackedTrials
    from attractorkit.reference_models.task import ContextDecisionMaking

    batch = hard_trials(task, n_trials, rng)
    packing = PackedTrials(batch.lengths, batch.mask.shape[1])
    with torch.no_grad():
        _, logits, _ = net.forward_packed(torch.from_numpy(packing.pack(batch.observations)),
                                          packing)
    out = ContextDecisionMaking(task).score(batch, packing.unpack(logits.argmax(-1)).numpy())
    ideal = float(np.mean(_ideal_choices(batch, task) == batch.ground_truth))
    return float(out.accuracy), ideal


def learning_summary(history: dict, reached: bool) -> dict:
    """Trials and updates to criterion (None when not reached) from a training history."""
    trials = np.asarray(history["trials"])
    updates = np.asarray(history["update"])
    return {"trials_to_criterion": int(trials[-1]) if reached and trials.size else None,
            "updates_to_criterion": int(updates[-1]) if reached and updates.size else None,
            "trials_seen": int(trials[-1]) if trials.size else 0}


# -- trial relevance -------------------------------------------------------------------------
def trial_conditions(task):
    """The task's noise-free stimulus conditions as signed coherences (two choices only):
    ``(contexts (K,), c1 (K,), c2 (K,))`` over both contexts and every signed pair."""
    signed = np.concatenate([-np.asarray(task.coherences)[::-1], np.asarray(task.coherences)])
    c1, c2 = np.meshgrid(signed, signed, indexing="ij")
    ks = [1, 2] if task.context_cue else [1]
    return (np.repeat(ks, c1.size), np.tile(c1.ravel(), len(ks)), np.tile(c2.ravel(), len(ks)))


def _signed(batch, task):
    theta = np.linspace(0, 2 * np.pi, task.n_choices + 1)[:-1]
    return batch.coherence * np.cos(theta[batch.direction - 1])


def relevance(model, task, settings, decision, rng) -> dict | None:
    """Where trial-time states go relative to the frozen-input attractors.

    For every stimulus condition of the task (context, signed c1, c2), the attractor reached
    from the stimulus-onset state under the frozen noise-free stimulus is classified
    (:func:`attractorkit.attractor_census`) and its orbit recorded; then, for noisy trials,
    each stimulus-epoch state is *near* when its distance to that orbit is at most
    ``relevance_radius`` times the orbit's mean norm, and each delay-epoch state when it is
    that close to the decision attractor (``decision``: context -> (2, n_state) means) of the
    trial's correct choice. Returns shares by attractor type (QP, fixed point) and by |relevant
    coherence| (lowest coherence of the level vs the others), or None for more than two
    choices (the signed grid covers only two directions).
    """
    if task.n_choices != 2 or not task.context_cue or set(decision) != {1, 2}:
        return None
    ks, c1, c2 = trial_conditions(task)
    x = np.stack([inp.stimulus_inputs(task, k, a, b) for k, a, b in zip(ks, c1, c2)])
    init = np.stack([analysis_onset(model, task, k) for k in ks])[:, None]
    census = ak.attractor_census(model, x, initial_states=init, n_init=1,
                                 n_steps=settings.n_steps, n_transient=settings.n_transient,
                                 max_extensions=settings.max_extensions,
                                 rng=int(rng.integers(2**31 - 1)))
    labels = np.asarray(census.attractors.label)[:, 0]
    finals = np.asarray(census.attractors.final_states)[:, 0]
    bounded = np.all(np.isfinite(finals), axis=1)
    n_orbit = 64
    orbit = np.full((len(ks), n_orbit, model.n_state), np.inf)   # divergent: never near
    if bounded.any():
        orbit[bounded] = ak.simulate(model, finals[bounded][:, None], x[bounded],
                                     n_orbit).states[:, 0]
    with np.errstate(invalid="ignore"):
        scale = np.where(bounded, np.linalg.norm(np.where(np.isfinite(orbit), orbit, 0.0),
                                                 axis=-1).mean(axis=1), 0.0) + 1e-9
    batch = _sample(task, settings.mi_trials, rng)
    states = ak.simulate(model, np.zeros(model.n_state), batch.observations.astype(float),
                         batch.observations.shape[1]).states[:, 0]
    signed = _signed(batch, task)
    key = {(int(k), float(a), float(b)): i for i, (k, a, b) in enumerate(zip(ks, c1, c2))}
    cond = np.array([key[(int(k) + 1, float(a), float(b))] for k, (a, b) in
                     zip(batch.context, np.round(signed, 9))])
    from attractorkit.reference_models.task import DELAY, STIMULUS

    r = settings.relevance_radius
    near_stim, qp_stim, low_stim = [], [], []
    lowest = min(task.coherences)
    for i in range(batch.n_trials):
        j = cond[i]
        s = states[i][batch.period[i] == STIMULUS]
        d = np.linalg.norm(s[:, None, :] - orbit[j][None], axis=-1).min(axis=1)
        near_stim.append(d <= r * scale[j])
        qp_stim.append(np.full(d.size, labels[j] == "quasi_periodic"))
        c_rel = abs(signed[i, batch.context[i]])
        low_stim.append(np.full(d.size, np.isclose(c_rel, lowest)))
    near, qp, low = (np.concatenate(v) for v in (near_stim, qp_stim, low_stim))
    fp = np.concatenate([np.full(np.count_nonzero(batch.period[i] == STIMULUS),
                                 labels[cond[i]] == "fixed_point")
                         for i in range(batch.n_trials)])
    delay_near = []
    for i in range(batch.n_trials):
        s = states[i][batch.period[i] == DELAY]
        target = decision[int(batch.context[i]) + 1][batch.ground_truth[i] - 1]
        size = np.linalg.norm(target) + 1e-9
        delay_near.append(np.linalg.norm(s - target, axis=-1) <= r * size)
    delay_near = np.concatenate(delay_near) if delay_near else np.zeros(0, bool)

    def share(m):
        return float(near[m].mean()) if np.any(m) else None

    return {"relevance_near": share(np.ones_like(near)),
            "relevance_near_qp": share(qp), "relevance_near_fp": share(fp),
            "relevance_near_qp_low": share(qp & low), "relevance_near_qp_high": share(qp & ~low),
            "relevance_near_fp_low": share(fp & low), "relevance_near_fp_high": share(fp & ~low),
            "relevance_delay_near": float(delay_near.mean()) if delay_near.size else None,
            "relevance_qp_conditions": float(np.mean(labels == "quasi_periodic")),
            "relevance_labels": labels}


def analysis_onset(model, task, context):
    from .analysis import onset_state

    return onset_state(model, task, context)


def _sample(task, n, rng):
    from attractorkit.reference_models.task import ContextDecisionMaking

    return ContextDecisionMaking(task).sample(n, rng)
