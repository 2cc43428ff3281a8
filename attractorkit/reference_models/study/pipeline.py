"""The per-run pipeline after training: measure, collect, serialise (see :mod:`.analysis`)."""

from __future__ import annotations

import tempfile

import numpy as np

import attractorkit as ak

from . import inputs as inp
from . import measures
from .analysis import (
    JACCARD_STABLE,
    LABELS,
    POP_CODES,
    _rng,
    attractor_map,
    decision_states,
    ideal_observer,
    json_bytes,
    map_fractions,
    membership_similarity,
    npz_bytes,
    population_sets,
    task_config,
    train_config,
)
from .config import StudyConfig
from .settings import THRESHOLD_VARIANTS

__all__ = ["analyse_trained", "information", "crystallisation", "example_orbit"]

# training-history entries that do not depend on the machine (no timings)
_DETERMINISTIC = ("update", "accuracy", "abort_rate", "loss", "trials", "env_steps")
MI_VARIABLES = ("context", "coh1", "coh2", "relevant_coh", "choice", "epoch")


def fresh_accuracy(net, task, n_trials: int, spec) -> float:
    """Greedy accuracy on ``n_trials`` fresh trials from a stream no training run uses."""
    from attractorkit.reference_models.task import ContextDecisionMaking
    from attractorkit.reference_models.training import evaluate

    return float(evaluate(net, ContextDecisionMaking(task), n_trials, _rng(spec, 10))["accuracy"])


def _trial_states(model, task, n_trials, rng):
    from attractorkit.reference_models.task import ContextDecisionMaking

    batch = ContextDecisionMaking(task).sample(n_trials, rng)
    obs = batch.observations.astype(np.float64)
    traj = ak.simulate(model, np.zeros(model.n_state), obs, obs.shape[1])
    return batch, traj.states[:, 0]


def information(model, task, settings, codes, rng) -> dict:
    """Per-unit MI with the task variables over the steps of noisy trials (ak.selectivity)."""
    batch, states = _trial_states(model, task, settings.mi_trials, rng)
    theta = np.linspace(0, 2 * np.pi, task.n_choices + 1)[:-1]
    signed = batch.coherence * np.cos(theta[batch.direction - 1])  # (B, 2), along choice 1
    T = states.shape[1]
    per_trial = {
        "context": batch.context, "coh1": signed[:, 0], "coh2": signed[:, 1],
        "relevant_coh": np.where(batch.context == 0, signed[:, 0], signed[:, 1]),
        "choice": batch.ground_truth,
    }
    mask = batch.mask
    variables = {k: np.broadcast_to(np.asarray(v)[:, None], (len(v), T))[mask]
                 for k, v in per_trial.items()}
    variables["epoch"] = batch.period[mask].astype(np.int64)
    activity = states[mask]
    keep = activity.std(axis=0) > 0  # silent units carry no information (MI = 0)
    mi = np.zeros((model.n_state, len(MI_VARIABLES)))
    p = np.full_like(mi, np.nan)
    if keep.any():
        sel = ak.selectivity(activity[:, keep], {k: variables[k] for k in MI_VARIABLES},
                             method=settings.mi_method, n_shuffles=settings.mi_shuffles,
                             rng=int(rng.integers(2**31 - 1)))
        mi[keep] = sel.mi
        p[keep] = sel.p_adjusted
    out = {"mi": mi, "p_adjusted": p, "summary": {}}
    for j, name in enumerate(MI_VARIABLES):
        out["summary"][f"mi_{name}"] = float(mi[:, j].mean())
        if settings.mi_shuffles:
            out["summary"][f"sig_{name}"] = float(np.mean(p[:, j] <= 0.01))
    decision_units = np.isin(codes[0], (POP_CODES["G+"], POP_CODES["G-"]))
    ci = MI_VARIABLES.index("choice")
    out["summary"]["mi_choice_decision_units"] = (
        float(mi[decision_units, ci].mean()) if decision_units.any() else None)
    out["summary"]["crystallisation_time"] = _decision_time(batch, states, task, rng)
    return out


def _decision_time(batch, states, task, rng) -> float | None:
    """Within-trial decision crystallisation (:func:`attractorkit.crystallization_time`): the
    first step, counted from stimulus onset, after which a cross-validated linear decoder of
    the choice stays >= 90% of its end-of-stimulus accuracy above chance. Fixation and stimulus
    periods only (they have the same length in every trial)."""
    n_fix, n_stim = inp.period_lengths(task)
    y = batch.ground_truth
    if len(y) < 10 or np.bincount(y).max() > len(y) - 3:
        return None
    cryst = ak.crystallization_time(states[:, :n_fix + n_stim], y, cv=3,
                                    baseline=1.0 / task.n_choices,
                                    rng=int(rng.integers(2**31 - 1)))
    if cryst.index < 0 or cryst.final - 1.0 / task.n_choices < 0.05:
        return None
    return float(cryst.index - n_fix)


def crystallisation(checkpoints, task, settings, final_codes) -> dict:
    """Population memberships along training and the update after which they stay put."""
    updates, sims, accs = [], [], []
    for net, meta in checkpoints:
        states, _ = decision_states(net.to_model(), task, settings)
        codes = population_sets(states, settings.active_threshold)["codes"]
        updates.append(int(meta.get("update", 0)))
        accs.append(float(meta.get("accuracy", np.nan)))
        sims.append(membership_similarity(codes, final_codes))
    updates, sims, accs = np.array(updates), np.array(sims), np.array(accs)
    order = np.argsort(updates, kind="stable")
    updates, sims, accs = updates[order], sims[order], accs[order]
    out = {"updates": updates, "similarity": sims, "accuracy": accs,
           "crystallisation_update": None, "crystallisation_fraction": None}
    if updates.size:
        below = np.flatnonzero(sims < JACCARD_STABLE)
        k = 0 if below.size == 0 else int(below[-1]) + 1
        if k < updates.size:
            out["crystallisation_update"] = int(updates[k])
            last = max(int(updates[-1]), 1)
            out["crystallisation_fraction"] = float(updates[k] / last)
    return out


def example_orbit(model, task, settings, amap, rng) -> dict:
    """One grid point's attractor for the report: the orbit in its 2 leading PCs, its Poincare
    section and the fixed points of the same frozen input (ak.find_fixed_points)."""
    labels = amap["labels"][..., 0]
    axis = amap["axis"]
    pick = None
    for lab in ("quasi_periodic", "chaotic", "periodic", "fixed_point"):
        hits = np.argwhere(labels == lab)
        if hits.size:
            pick = hits[len(hits) // 2]
            break
    if pick is None:
        pick = np.array([0, axis.size // 2, axis.size // 2])
    i, a, b = (int(v) for v in pick)
    context = settings.contexts[i]
    x = inp.stimulus_inputs(task, context, axis[a], axis[b])
    from .analysis import onset_state

    traj = ak.simulate(model, onset_state(model, task, context), x, settings.example_orbit_steps,
                       n_transient=settings.n_transient)
    orbit = traj.states[0, 0]  # a map's orbit: its points trace the attractor
    out = {"label": str(labels[i, a, b]), "context": context, "c1": float(axis[a]),
           "c2": float(axis[b])}
    if not np.all(np.isfinite(orbit)):
        return {**out, "orbit": np.zeros((0, 2)), "section": np.zeros((0, 2)),
                "fixed_points": np.zeros((0, 2)), "fp_stable": np.zeros(0, bool)}
    mean = orbit.mean(axis=0)
    _, _, vt = np.linalg.svd(orbit - mean, full_matrices=False)
    basis = vt[:2].T if vt.shape[0] >= 2 else np.eye(orbit.shape[1])[:, :2]
    section = np.zeros((0, 2))
    if np.ptp(orbit, axis=0).max() > 1e-9:
        sec = ak.poincare_section(orbit, kind="slab", pc=min(2, orbit.shape[1] - 1))
        pts = np.asarray(getattr(sec, "points", np.zeros((0, orbit.shape[1]))))
        if pts.ndim == 2 and pts.shape[1] == orbit.shape[1]:
            section = (pts - mean) @ basis
    fps = ak.find_fixed_points(model, x, n_init=32, rng=int(rng.integers(2**31 - 1)))
    pts = np.asarray(fps.points).reshape(-1, model.n_state)
    return {**out, "orbit": (orbit - mean) @ basis, "section": section,
            "fixed_points": (pts - mean) @ basis,
            "fp_stable": np.asarray(fps.stable if hasattr(fps, "stable")
                                    else fps.stability.stable, bool).reshape(-1)}


def _census_fractions(model, task, a, spec, prefix, thresholds=None) -> tuple[dict, dict]:
    amap = attractor_map(model, task, a, _rng(spec, 1), thresholds=thresholds)
    return amap, map_fractions(amap["labels"], amap["axis"], a.contexts, a.coherence_max,
                               prefix=prefix, confidence=amap["confidence"])


def analyse_trained(config: StudyConfig, spec, result, checkpoints) -> dict:
    """Every measure of one trained network, as the run's files ``{name: bytes}``."""
    from .config import init_seed

    a = config.analysis
    task = task_config(config, spec.complexity)
    net = result.network
    model = net.to_model()
    amap, fractions = _census_fractions(model, task, a, spec, "fqp")
    variants = a.threshold_variants if (a.threshold_seeds == 0
                                        or spec.seed < a.threshold_seeds) else ()
    for name in variants:
        fractions.update(_census_fractions(model, task, a, spec, f"fqp_{name}",
                                           THRESHOLD_VARIANTS[name])[1])
    untrained = {}
    arrays = {}
    if a.untrained:
        net0, meta0 = checkpoints[0]
        if int(meta0.get("update", -1)) != 0:
            raise RuntimeError("the first checkpoint is not the update-0 network")
        amap0, untrained = _census_fractions(net0.to_model(), task, a, spec, "fqp_untrained")
        arrays["labels_untrained"] = amap0["labels"]
        s0, _ = decision_states(net0.to_model(), task, a)
        bal0 = population_sets(s0, a.active_threshold)["balance"]
        untrained["balance_untrained"] = (float(np.nanmean(bal0)) if np.isfinite(bal0).any()
                                          else None)
    dec_states, bounded = decision_states(model, task, a)
    pops = population_sets(dec_states, a.active_threshold)
    info = information(model, task, a, pops["codes"], _rng(spec, 2))
    cryst = crystallisation(checkpoints if a.checkpoint_populations else [], task, a,
                            pops["codes"])
    example = example_orbit(model, task, a, amap, _rng(spec, 3))
    rel = (measures.relevance(model, task, a, dict(zip(a.contexts, dec_states)), _rng(spec, 4))
           if a.relevance else None)
    acc_hard, ideal_hard = measures.hard_accuracy(net, task, a.hard_trials, _rng(spec, 11))
    n = model.n_state
    bal = pops["balance"]
    summary = {
        **spec.to_dict(), "run_id": spec.run_id, "n_hidden": n,
        "init_seed": init_seed(spec.delta, spec.complexity, spec.seed),
        "criterion": result.config.criterion, "ideal_observer": ideal_observer(task),
        "accuracy": fresh_accuracy(net, task, a.eval_trials, spec),
        "accuracy_hard": acc_hard, "ideal_observer_hard": ideal_hard,
        "train_accuracy": result.accuracy, "reached_criterion": bool(result.reached_criterion),
        "updates": int(result.updates),
        **measures.learning_summary(result.history, result.reached_criterion),
        **fractions, **untrained,
        "balance": float(np.nanmean(bal)) if np.isfinite(bal).any() else None,
        "decision_split": bool(np.isfinite(bal).all()),
        "decision_bounded": bool(bounded.all()),
        **{f"balance_ctx{k}": bal[i] for i, k in enumerate(a.contexts)},
        **{f"frac_{name.replace('+', 'plus').replace('-', 'minus')}": float(c.mean() / n)
           for name, c in pops["counts"].items()},
        **info["summary"],
        "crystallisation_update": cryst["crystallisation_update"],
        "crystallisation_fraction": cryst["crystallisation_fraction"],
        "example_label": example["label"],
    }
    if rel is not None:
        arrays["relevance_labels"] = rel.pop("relevance_labels")
        summary.update(rel)
    arrays.update({
        "labels": amap["labels"], "coherence_axis": amap["axis"],
        "contexts": np.asarray(a.contexts), "label_names": np.asarray(LABELS),
        "populations": pops["codes"], "mi": info["mi"], "mi_p_adjusted": info["p_adjusted"],
        "ckpt_updates": cryst["updates"], "ckpt_similarity": cryst["similarity"],
        "ckpt_accuracy": cryst["accuracy"], "history_update": result.history["update"],
        "history_accuracy": result.history["accuracy"],
        "history_trials": result.history["trials"], "example_orbit": example["orbit"],
        "example_section": example["section"], "example_fixed_points": example["fixed_points"],
        "example_fp_stable": example["fp_stable"],
    })
    weights = {k: v.detach().cpu().numpy() for k, v in net.state_dict().items()}
    training = {"train_config": result.config.to_dict(),
                "history": {k: v for k, v in result.history.items() if k in _DETERMINISTIC},
                "example": {k: example[k] for k in ("label", "context", "c1", "c2")}}
    return {"summary.json": json_bytes(summary), "analysis.npz": npz_bytes(arrays),
            "network.npz": npz_bytes(weights), "training.json": json_bytes(training)}


def run_files(config: StudyConfig, spec) -> dict:
    """Train and analyse one run; returns its files ``{name: bytes}``."""
    from attractorkit.reference_models.training import load_checkpoint, train

    tc = train_config(config, spec)
    with tempfile.TemporaryDirectory(prefix="ak-study-") as tmp:
        result = train(tc, out=tmp)
        checkpoints = [load_checkpoint(p) for p in result.checkpoints]
    return analyse_trained(config, spec, result, checkpoints)
