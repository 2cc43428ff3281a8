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
