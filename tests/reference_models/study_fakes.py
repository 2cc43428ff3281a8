"""A cheap, deterministic stand-in for a run's computation (the runner's tests use it)."""

import hashlib
import json
import os
import time


def fake_compute(config, spec):
    """Files that depend only on (config, spec); sleeps FAKE_STUDY_SLEEP seconds."""
    time.sleep(float(os.environ.get("FAKE_STUDY_SLEEP", "0")))
    key = json.dumps([spec, config["n_hidden"], config["analysis"]], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()
    f = int(digest[:4], 16) / 65535
    summary = {**spec, "fqp_lower": f, "fqp_upper": f, "accuracy_hard": 0.9,
               "fqp_lowcoh_lower": 0.0, "fqp_lowcoh_upper": 0.0, "fqp_highcoh_lower": 0.0,
               "fqp_highcoh_upper": 0.0, "balance": 0.5}
    return {"files": {"summary.json": json.dumps(summary, sort_keys=True).encode(),
                      "blob.bin": digest.encode() * 10},
            "seconds": 0.0}


def failing_compute(config, spec):
    if spec["seed"] == 1:
        raise RuntimeError("boom")
    return fake_compute(config, spec)


def fake_full_compute(config, spec):
    """Synthetic run files with the full layout the report reads (RL has QP attractors, more
    at large delta; SL has none)."""
    import numpy as np

    from attractorkit.reference_models.study.analysis import LABELS, json_bytes, npz_bytes
    from attractorkit.reference_models.study.config import init_seed

    a = config["analysis"]
    n = a["n_coherences"]
    rng = np.random.default_rng(init_seed(spec["delta"], spec["complexity"], spec["seed"])
                                + (spec["paradigm"] == "rl"))
    axis = np.linspace(-a["coherence_max"], a["coherence_max"], n)
    p_qp = (0.2 + 2 * spec["delta"]) if spec["paradigm"] == "rl" else 0.0
    shape = (len(a["contexts"]), n, n, 1)
    u = rng.random(shape)
    undetermined = 0.97 if spec["paradigm"] == "rl" else 1.0
    labels = np.where(u < p_qp, "quasi_periodic",
                      np.where(u > undetermined, "undetermined", "fixed_point")).astype("U16")
    lo, hi = float((labels == "quasi_periodic").mean()), float(np.isin(
        labels, ("quasi_periodic", "undetermined")).mean())
    untrained = np.full(shape, "fixed_point", dtype="U16")
    summary = {**spec, "run_id": "x", "fqp_lower": lo, "fqp_upper": hi,
               "fqp_lowcoh_lower": lo, "fqp_lowcoh_upper": hi, "fqp_highcoh_lower": lo,
               "fqp_highcoh_upper": hi, "fqp_untrained_lower": 0.0, "fqp_untrained_upper": 0.0,
               "fqp_untrained_lowcoh_lower": 0.0, "fqp_untrained_lowcoh_upper": 0.0,
               "fqp_untrained_highcoh_lower": 0.0, "fqp_untrained_highcoh_upper": 0.0,
               "accuracy": 0.95, "accuracy_hard": 0.85 + 0.05 * lo + 0.01 * rng.random(),
               "balance": float(rng.uniform(0.7, 1.0) if spec["paradigm"] == "rl"
                                else rng.uniform(0.2, 1.0)),
               "balance_untrained": None, "reached_criterion": True, "criterion": 0.95,
               "trials_to_criterion": 10000, "example_label": "quasi_periodic",
               "mi_choice": float(rng.random()), "crystallisation_fraction": 0.5,
               "frac_Gplus": 0.2, "frac_Gminus": 0.2, "frac_Ga": 0.3, "frac_Gs": 0.3}
    t = np.linspace(0, 20, 60)
    arrays = {"labels": labels, "labels_untrained": untrained, "coherence_axis": axis,
              "contexts": np.asarray(a["contexts"]), "label_names": np.asarray(LABELS),
              "example_orbit": np.column_stack([np.cos(t), np.sin(t)]),
              "example_section": np.array([[1.0, 0.0]]),
              "example_fixed_points": np.zeros((1, 2)), "example_fp_stable": np.array([False]),
              "ckpt_updates": np.array([0, 2, 4]), "ckpt_similarity": np.array([0.2, 0.8, 1.0]),
              "history_trials": np.array([0, 1000, 2000]),
              "history_accuracy": np.array([0.3, 0.7, 0.96])}
    return {"files": {"summary.json": json_bytes(summary), "analysis.npz": npz_bytes(arrays)},
            "seconds": 0.0}
