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
    summary = {**spec, "f_qp": int(digest[:4], 16) / 65535, "accuracy": 0.9,
               "f_qp_low": 0.0, "f_qp_high": 0.0, "balance": 0.5}
    return {"files": {"summary.json": json.dumps(summary, sort_keys=True).encode(),
                      "blob.bin": digest.encode() * 10},
            "seconds": 0.0}


def failing_compute(config, spec):
    if spec["seed"] == 1:
        raise RuntimeError("boom")
    return fake_compute(config, spec)


def fake_full_compute(config, spec):
    """Synthetic run files with the full layout the report reads (RL has QP attractors)."""
    import numpy as np
    from attractorkit.reference_models.study.analysis import LABELS, json_bytes, npz_bytes

    a = config["analysis"]
    n = a["n_coherences"]
    rng = np.random.default_rng([spec["seed"], int(spec["delta"] * 1000),
                                 spec["paradigm"] == "rl"])
    axis = np.linspace(-a["coherence_max"], a["coherence_max"], n)
    p_qp = (0.2 + 2 * spec["delta"]) if spec["paradigm"] == "rl" else 0.0
    qp = rng.random((len(a["contexts"]), n, n, 1)) < p_qp
    labels = np.where(qp, "quasi_periodic", "fixed_point").astype("U16")
    f_qp = float(qp.mean())
    summary = {**spec, "run_id": "x", "f_qp": f_qp, "f_qp_low": f_qp, "f_qp_high": f_qp,
               "accuracy": 0.9 + 0.05 * f_qp + 0.01 * rng.random(),
               "balance": float(rng.uniform(0.7, 1.0) if spec["paradigm"] == "rl"
                                else rng.uniform(0.2, 1.0)),
               "reached_criterion": True, "example_label": "quasi_periodic",
               "mi_choice": float(rng.random()), "crystallisation_fraction": 0.5}
    t = np.linspace(0, 20, 60)
    arrays = {"labels": labels, "coherence_axis": axis, "contexts": np.asarray(a["contexts"]),
              "label_names": np.asarray(LABELS),
              "example_orbit": np.column_stack([np.cos(t), np.sin(t)]),
              "example_section": np.array([[1.0, 0.0]]),
              "example_fixed_points": np.zeros((1, 2)), "example_fp_stable": np.array([False]),
              "ckpt_updates": np.array([0, 2, 4]), "ckpt_similarity": np.array([0.2, 0.8, 1.0])}
    return {"files": {"summary.json": json_bytes(summary), "analysis.npz": npz_bytes(arrays)},
            "seconds": 0.0}
