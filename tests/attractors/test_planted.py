"""The planted benchmark (``planted.py``): every rule of the classifier on systems not used to
tune it — the held-out half.

By default a small seeded subset of the held-out half runs (its cheaper families). The whole
benchmark is slow (opt-in: ``pytest -m slow tests/attractors/test_planted.py``); its figures
are in ``benchmarks/README.md`` (``python benchmarks/bench_classify.py``).
"""

import numpy as np
import pytest
from planted import FAMILIES, HALF_SEEDS, classify, score, summary, systems

# what each rule writes in ``reason`` (the held-out half must exercise every one)
RULES = {
    "fixed point (step)": "step below tolerance",
    "fixed point (slow, Newton)": "slow convergence (rate",
    "periodic (exact recurrence)": "exact recurrence with period",
    "periodic (flow section clusters)": "section cluster(s)",
    "quasi-periodic (invariant curve)": "invariant curve",
    "quasi-periodic (torus of dimension >= 2)": "zero exponent(s), dimension",
    "chaotic": "lambda1 = ",
    "divergent": "left the bounds",
}


def _run(half, families, per_family=None):
    rows = []
    for s in systems(half, families=families, per_family=per_family):
        rows += score(s, classify(s))
    return rows


def test_halves_are_disjoint_and_reproducible():
    assert HALF_SEEDS["tuning"] != HALF_SEEDS["heldout"]
    a = systems("heldout", families=["rotation_short", "divergent_map"])
    b = systems("heldout", families=["rotation_short", "divergent_map"])
    t = systems("tuning", families=["rotation_short", "divergent_map"])
    assert [s.name for s in a] == [s.name for s in b]
    np.testing.assert_array_equal(a[0].initial_states, b[0].initial_states)
    assert [s.name for s in a] != [s.name for s in t]
    assert sum(count for _, _, count in FAMILIES) >= 30  # >= 60 systems over both halves


@pytest.mark.parametrize("families", [
    ["fixed_map", "rotation_short", "logistic_window", "divergent_map"],
    ["ns_rnn", "rnn_chaos", "synfire_ring"],
])
def test_heldout_subset(families):
    """One held-out system of each of these cheap families: every label right (at most one
    undetermined)."""
    rows = _run("heldout", families, per_family=1)
    wrong = [r for r in rows if not r[5] and r[3] != "undetermined"]
    assert not wrong, wrong
    assert sum(r[5] for r in rows) >= len(rows) - 1, rows


@pytest.mark.slow
def test_heldout_half_meets_the_acceptance():
    rows = _run("heldout", None)
    s = summary(rows)
    report = "\n".join(f"{'ok ' if r[5] else 'BAD'} {r[0]} [{r[2]}] -> {r[3]} ({r[4]:.2f}) "
                       f"{r[6]}" for r in rows)
    assert s["right"] >= 0.95, report
    assert s["confidently_wrong"] <= 0.01, report
    assert s["undetermined"] <= 0.10, report
    assert s["confident_right"] >= 0.99, report
    for rule, text in RULES.items():
        assert any(r[5] and text in r[6] for r in rows), f"rule not exercised: {rule}"
