"""Held-out check of the classifier: randomly drawn systems of the acceptance kinds (not the ones
in test_classify.py), labelled against ground truth known by construction.

Slow (opt-in): ``pytest -m slow tests/attractors/test_classify_heldout.py``. Aim: >= 95%
correct, and ``undetermined`` preferred to a wrong label (at most 1 wrong label in the set).
"""

import math

import numpy as np
import pytest
from systems import (
    DiagonalLinear,
    EmbeddedCircleMap,
    Hopf,
    Lorenz,
    TorusFlow,
    circle_map_rotation,
    random_rnn,
)

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


def _far_from_rationals(x, q_max, tol):
    return all(abs(x - round(x * q) / q) > tol for q in range(1, q_max + 1))


def _circle_states(model, rng, n):
    th = rng.uniform(0, 1, n)
    return model.circle_point(th) + 0.2 * rng.standard_normal((n, model.n_state)) / np.sqrt(
        model.n_state)


def cases(seed):
    """Yield (name, truth_label, truth_extra, run) with run() -> Attractors."""
    rng = np.random.default_rng(seed)
    for _ in range(6):  # invariant circles with irrational rotation
        while True:
            om, K = rng.uniform(0.05, 0.95), rng.uniform(0.0, 0.9)
            rho = circle_map_rotation(om, K, n=20_000, n_transient=2000)
            if _far_from_rationals(rho, 20, 5e-4):
                break
        n = int(rng.integers(50, 251))
        c, contraction = rng.uniform(0.3, 0.95), rng.uniform(0.3, 0.95)
        m = EmbeddedCircleMap(n, omega=om, K=K, c=c, contraction=contraction,
                              seed=int(rng.integers(1 << 30)))
        h0 = _circle_states(m, rng, 2)
        yield (f"circle n={n} K={K:.2f} c={c:.2f} A={contraction:.2f} rho={rho:.4f}",
               "quasi_periodic", 1,
               lambda m=m, h0=h0: ak.classify_attractors(m, None, initial_states=h0, rng=0))
    for _ in range(6):  # locked cycles p/q
        q = int(rng.integers(2, 13))
        p = int(rng.integers(1, q))
        while math.gcd(p, q) != 1:
            p = int(rng.integers(1, q))
        K = rng.uniform(0.3, 1.5)
        m = EmbeddedCircleMap(int(rng.integers(20, 120)), omega=p / q, K=K, m=q,
                              seed=int(rng.integers(1 << 30)))
        h0 = _circle_states(m, rng, 2)
        yield (f"cycle {p}/{q} K={K:.2f}", "periodic", q,
               lambda m=m, h0=h0: ak.classify_attractors(m, None, initial_states=h0, rng=0))
    for _ in range(3):  # Hopf above and below
        mu, om = rng.uniform(0.2, 1.0), rng.uniform(0.5, 2.0)
        yield (f"hopf mu={mu:.2f}", "periodic", 2 * np.pi / om,
               lambda mu=mu, om=om: ak.classify_attractors(
                   Hopf(omega=om, dt=0.05), [mu], n_init=2, n_steps=6000, rng=0))
        mu = -rng.uniform(0.1, 1.0)
        yield (f"hopf mu={mu:.2f}", "fixed_point", None,
               lambda mu=mu, om=om: ak.classify_attractors(Hopf(omega=om, dt=0.05), [mu],
                                                           n_init=2, rng=0))
    for _ in range(2):  # 2-tori of flows
        while True:
            ratio = rng.uniform(1.1, 2.4)
            if _far_from_rationals(ratio, 20, 5e-3):
                break
        tf = TorusFlow(omega2=ratio, mu2=rng.uniform(0.1, 0.3), n_extra=int(rng.integers(0, 4)),
                       dt=0.1, seed=int(rng.integers(1 << 30)))
        yield (f"torus ratio={ratio:.4f}", "quasi_periodic", 2,
               lambda tf=tf: ak.classify_attractors(tf, None, n_init=1, n_steps=10_000,
                                                    n_transient=1000, init_scale=0.5, rng=0))
    for _ in range(4):  # random tanh networks
        g = rng.uniform(2.5, 4.0)
        s = int(rng.integers(1 << 30))
        yield (f"tanh rnn g={g:.2f}", "chaotic", None,
               lambda g=g, s=s: ak.classify_attractors(random_rnn(200, g, seed=s), None,
                                                       n_init=2, rng=0))
        g = rng.uniform(0.2, 0.8)
        yield (f"tanh rnn g={g:.2f}", "fixed_point", None,
               lambda g=g, s=s: ak.classify_attractors(random_rnn(200, g, seed=s), None,
                                                       n_init=2, rng=0))
    rho_l = rng.uniform(26.0, 32.0)
    yield (f"lorenz rho={rho_l:.1f}", "chaotic", None,
           lambda: ak.classify_attractors(Lorenz(rho=rho_l, dt=0.02), None, n_init=1,
                                          n_steps=10_000, n_transient=500, init_scale=5.0,
                                          rng=0))
    for _ in range(2):  # unstable linear maps, slow foci
        a = rng.uniform(1.05, 1.5)
        yield (f"linear a={a:.2f}", "divergent", None,
               lambda a=a: ak.classify_attractors(DiagonalLinear([a, 0.3]), None, n_init=2,
                                                  rng=0))
        r, w = rng.uniform(0.996, 0.999), rng.uniform(0.3, 2.8)
        A = r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]])
        yield (f"slow focus r={r:.4f}", "fixed_point", None,
               lambda A=A: ak.classify_attractors(VanillaRNN(A, activation="identity"), None,
                                                  initial_states=[[1.0, 0.0]], rng=0))


def score(seed):
    rows = []
    for name, truth, extra, run in cases(seed):
        a = run()
        labels = a.label.ravel().tolist()
        for k, lab in enumerate(labels):
            ok = lab == truth
            if ok and truth == "periodic" and extra is not None:
                ok = np.isclose(a.period.ravel()[k], extra, rtol=1e-3)
            if ok and truth == "quasi_periodic":
                ok = a.torus_dim.ravel()[k] == extra
            rows.append((name, truth, lab, ok, a.reason.ravel()[k]))
    return rows


@pytest.mark.slow
def test_heldout_accuracy():
    rows = score(seed=20261129)
    n = len(rows)
    correct = sum(r[3] for r in rows)
    undetermined = sum(r[2] == "undetermined" for r in rows)
    wrong = n - correct - undetermined
    report = "\n".join(f"{'ok ' if r[3] else 'BAD'} {r[0]}: {r[2]} ({r[4]})" for r in rows)
    assert correct / n >= 0.95 and wrong <= 1, (
        f"{correct}/{n} correct, {undetermined} undetermined, {wrong} wrong\n{report}")


if __name__ == "__main__":  # print the table: python tests/attractors/test_classify_heldout.py
    import sys

    rows = score(int(sys.argv[1]) if len(sys.argv) > 1 else 20261129)
    for r in rows:
        print(f"{'ok ' if r[3] else 'BAD'} {r[0]}: {r[2]} ({r[4]})")
    n, c = len(rows), sum(r[3] for r in rows)
    u = sum(r[2] == "undetermined" for r in rows)
    print(f"{c}/{n} correct ({c / n:.1%}), {u} undetermined, {n - c - u} wrong")
