"""find_cycles: period-p points of maps, minimal periods, Floquet multipliers, exact ReLU
cycles (SCYFI) against brute force, bad input."""

import itertools

import numpy as np
import pytest
from fp_systems import Henon, Hopf, Logistic, NoKernel, same_sets

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


def test_logistic_two_cycle_and_no_fixed_points_as_cycles():   # V-FP8
    S = np.linspace(0.01, 0.99, 60)[:, None]
    c = ak.find_cycles(Logistic(3.2), period=2, initial_states=S, n_init=60, rng=0)
    assert len(c) == 1 and c.period[0] == 2
    np.testing.assert_allclose(c.points[0, :, 0], [0.5130445, 0.7994555], atol=1e-7)
    np.testing.assert_allclose(c.multipliers[0], [0.16], atol=1e-10)
    assert c.stable[0] and c.label[0] == "stable node"
    assert c.n_lower_period > 0                     # the fixed points 0 and 0.6875 were found
    low = ak.find_cycles(Logistic(3.2), period=2, initial_states=S, n_init=60, rng=0,
                         include_lower=True)
    assert sorted(low.period.tolist()) == [1, 1, 2]
    # orbits close: stepping p times returns to the start
    m = Logistic(3.2)
    h = c.points[:, 0]
    for _ in range(2):
        h = m.step(h, np.zeros((1, 0)))
    np.testing.assert_allclose(h, c.points[:, 0], atol=1e-12)


def test_period_four_search_reports_minimal_periods():
    S = np.linspace(0.01, 0.99, 40)[:, None]
    c = ak.find_cycles(Logistic(3.5), period=4, initial_states=S, n_init=40, rng=0,
                       include_lower=True)
    assert set(c.period.tolist()) <= {1, 2, 4} and 4 in c.period
    strict = ak.find_cycles(Logistic(3.5), period=4, initial_states=S, n_init=40, rng=0)
    assert np.all(strict.period == 4) and len(strict) == 1 and strict.stable[0]


def test_henon_two_cycle_closed_form():
    a, b = 1.4, 0.3
    m, h = Henon(a, b), np.full((1, 2), 0.1)
    states = []
    for _ in range(300):                        # seeds on the attractor (none diverge)
        h = m.step(h, np.zeros((1, 0)))
        states.append(h[0])
    c = ak.find_cycles(m, period=2, initial_states=np.array(states), n_init=128, rng=0)
    disc = np.sqrt(4 * a - 3 * (1 - b) ** 2)
    x = np.array([(1 - b - disc) / (2 * a), (1 - b + disc) / (2 * a)])
    truth = np.stack([x, b * x[::-1]], axis=1)
    assert len(c) == 1
    assert same_sets(c.points[0], truth, 1e-10)
    assert c.label[0] == "saddle" and c.unstable_dim[0] == 1
    J = Henon(a, b).jacobian(c.points[0], np.zeros((2, 0)))
    np.testing.assert_allclose(np.sort(np.abs(c.multipliers[0])),
                               np.sort(np.abs(np.linalg.eigvals(J[1] @ J[0]))), rtol=1e-10)


def _flip_relu(n, seed):
    rng = np.random.default_rng(seed)
    W = -1.5 * np.eye(n) + rng.normal(0, 0.4 / np.sqrt(n), (n, n))
    b = 1.0 + 0.2 * rng.normal(size=n)
    return VanillaRNN(W, b=b, activation="relu"), W, b


def _relu_two_cycles_reference(W, b):
    """Independent brute force over all pairs of activation patterns."""
    n = W.shape[0]
    pats = [np.array(p, bool) for p in itertools.product([0, 1], repeat=n)]
    out = []
    for D0, D1 in itertools.product(pats, pats):
        A0, A1 = D0[:, None] * W, D1[:, None] * W
        M = A1 @ A0
        v = A1 @ (D0 * b) + D1 * b
        if abs(np.linalg.det(np.eye(n) - M)) < 1e-12:
            continue
        h0 = np.linalg.solve(np.eye(n) - M, v)
        z0 = W @ h0 + b
        h1 = np.maximum(z0, 0)
        z1 = W @ h1 + b
        ok = all(np.all(z[D] >= -1e-10) and np.all(z[~D] <= 1e-10)
                 for z, D in ((z0, D0), (z1, D1)))
        if ok and np.max(np.abs(h1 - h0)) > 1e-7:
            out.append(h0)
    return np.array(out).reshape(-1, n)


@pytest.mark.parametrize("n, seed, n_init", [(3, 0, 256), (3, 1, 256), (3, 2, 256),
                                             (4, 1, 1024)])
def test_relu_exact_two_cycles_equal_brute_force(n, seed, n_init):
    m, W, b = _flip_relu(n, seed)
    c = ak.find_cycles(m, period=2, n_init=n_init, noise=0.3, rng=seed)
    ref = _relu_two_cycles_reference(W, b)
    assert len(ref) >= 8
    found = c.points.reshape(-1, n)            # both points of every orbit
    assert same_sets(found, ref, 1e-9)
    assert np.all(c.exact) and np.all(c.period == 2)


def test_newton_cycles_numpy_path_and_kernel_agree():
    rng = np.random.default_rng(4)
    W = -1.2 * np.eye(5) + rng.normal(0, 0.5 / np.sqrt(5), (5, 5))
    m = VanillaRNN(W, b=0.3 * rng.normal(size=5), activation="tanh")
    a = ak.find_cycles(m, period=2, n_init=64, rng=0)
    b = ak.find_cycles(NoKernel(m), period=2, n_init=64, rng=0)
    assert len(a) >= 1 and len(a) == len(b)
    np.testing.assert_allclose(a.points, b.points, atol=1e-8)
    np.testing.assert_allclose(a.multipliers, b.multipliers, atol=1e-8)


def test_bad_input_and_roundtrip(tmp_path):
    with pytest.raises(ak.ValidationError, match="flow"):
        ak.find_cycles(Hopf(), period=2)
    with pytest.raises(ak.ValidationError, match="period"):
        ak.find_cycles(Logistic(3.2), period=0)
    with pytest.raises(ak.ValidationError, match="period"):
        ak.find_cycles(Logistic(3.2), period=2.5)
    with pytest.raises(ak.ValidationError, match="inputs"):
        ak.find_cycles(Logistic(3.2), np.zeros(2), period=2)
    c = ak.find_cycles(Logistic(3.2), period=2, initial_states=np.full((4, 1), 0.5), n_init=4,
                       rng=0)
    back = ak.Cycles.load(c.save(tmp_path / "c"))
    assert ak.results_equal(c, back)
    assert "period 2" in c.summary()
