"""Derived systems are Models: a model at a frozen input and the p-th iterate of a map, each
checked against direct computation (repeated steps, products of Jacobians, finite
differences) and run through the analyses unchanged."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit.adapters import GRU, VanillaRNN
from attractorkit.systems import FrozenInput, Iterate, chain_jacobians


def _tanh_rnn(n=6, m=2, seed=0):
    rng = np.random.default_rng(seed)
    return VanillaRNN(rng.normal(0, 1.5 / np.sqrt(n), (n, n)), U=rng.normal(size=(n, m)),
                      b=rng.normal(0, 0.3, n), activation="tanh")


def _gru(n=5, m=2, seed=1):
    rng = np.random.default_rng(seed)
    return GRU(rng.normal(size=(3 * n, m)), rng.normal(size=(3 * n, n)),
               rng.normal(size=3 * n), rng.normal(size=3 * n))


@pytest.mark.parametrize("make", [_tanh_rnn, _gru])
def test_frozen_input_is_the_model_at_that_input(make):
    m = make()
    x = np.array([0.7, -0.3])
    f = FrozenInput(m, x)
    assert f.n_input == 0 and f.n_state == m.n_state and f.time == m.time
    assert f.kernel is not None and f.kernel.n_input == 0     # still a compiled cell
    H = np.random.default_rng(2).normal(size=(9, m.n_state))
    X = np.broadcast_to(x, (9, 2))
    np.testing.assert_allclose(f.step(H, np.zeros((9, 0))), m.step(H, X), atol=1e-13)
    np.testing.assert_allclose(f.jacobian(H, np.zeros((9, 0))), m.jacobian(H, X), atol=1e-13)
    assert f.input_jacobian(H, np.zeros((9, 0))).shape == (9, m.n_state, 0)
    ak.check_model(f)
    a = ak.find_fixed_points(m, x, n_init=32, rng=0)
    b = ak.find_fixed_points(f, n_init=32, rng=0)
    np.testing.assert_allclose(b.points, a.points, atol=1e-10)


def test_frozen_input_of_a_model_without_kernel():
    class Plain:
        n_state, n_input, time, dt = 2, 1, "discrete", None

        def step(self, h, x):
            return 0.5 * h + x

        def jacobian(self, h, x):
            return np.broadcast_to(0.5 * np.eye(2), (len(h), 2, 2)).copy()

        def input_jacobian(self, h, x):
            return np.ones((len(h), 2, 1))

    f = FrozenInput(Plain(), [2.0])
    assert getattr(f, "kernel", None) is None
    fp = ak.find_fixed_points(f, n_init=8, rng=0)
    np.testing.assert_allclose(fp.points, [[4.0, 4.0]], atol=1e-12)   # h = 0.5 h + 2
    with pytest.raises(ak.ValidationError, match="x"):
        FrozenInput(Plain(), [1.0, 2.0])
    with pytest.raises(ak.ModelTypeError):
        FrozenInput("not a model", [1.0])


def test_iterate_steps_and_chain_rule_against_direct_products():
    m = _tanh_rnn()
    F = Iterate(m, 3)
    rng = np.random.default_rng(3)
    H, X = rng.normal(size=(7, 6)), rng.normal(size=(7, 2))
    h1 = m.step(H, X)
    h2 = m.step(h1, X)
    np.testing.assert_allclose(F.step(H, X), m.step(h2, X), atol=1e-14)
    J = F.jacobian(H, X)
    for i in range(7):
        ref = m.jacobian(h2[i:i + 1], X[i:i + 1])[0] @ m.jacobian(h1[i:i + 1], X[i:i + 1])[0] \
            @ m.jacobian(H[i:i + 1], X[i:i + 1])[0]
        np.testing.assert_allclose(J[i], ref, atol=1e-12)
    ak.check_model(F)      # Jacobian and input Jacobian against finite differences
    orbit = F.orbit(H, X)
    assert orbit.shape == (7, 4, 6)
    np.testing.assert_allclose(orbit[:, 2], h2, atol=1e-14)


def test_chain_rule_skips_vanishing_rows():
    """A silent ReLU unit zeroes its row of every later product, even when an earlier factor
    holds a non-finite entry (0 * inf would be NaN in a plain product)."""
    J0 = np.array([[[np.inf, 1.0], [2.0, 3.0]]])
    J1 = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    M = chain_jacobians([J0, J1])
    assert M[0, 0, 0] == 0.0 and M[0, 0, 1] == 0.0
    np.testing.assert_array_equal(M[0, 1], [np.inf, 4.0])
    W = np.array([[0.5, 0.3, 0.0], [0.2, 0.5, 0.1], [0.4, 0.0, 0.2]])
    m = VanillaRNN(W, b=np.array([1.0, -5.0, 0.1]), activation="relu")
    h = np.array([[1.0, 0.0, 0.5]])
    D = np.diag([1.0, 0.0, 1.0]) @ W            # unit 1 silent along the orbit
    np.testing.assert_allclose(Iterate(m, 2).jacobian(h, np.zeros((1, 0)))[0], D @ D,
                               atol=1e-15)


def test_cycles_are_fixed_points_of_the_iterate():
    flip = VanillaRNN(np.array([[-2.0]]), activation="tanh")      # h' = tanh(-2 h)
    fp = ak.find_fixed_points(Iterate(flip, 2), initial_states=np.linspace(-1, 1, 21)[:, None],
                              n_init=21, rng=0)
    s = 0.9
    for _ in range(50):                      # the 2-cycle: s = tanh(2 s)
        s -= (s - np.tanh(2 * s)) / (1 - 2 * (1 - np.tanh(2 * s) ** 2))
    np.testing.assert_allclose(np.sort(fp.points[:, 0]), [-s, 0.0, s], atol=1e-10)
    stable = fp.points[fp.stable, 0]
    np.testing.assert_allclose(np.sort(stable), [-s, s], atol=1e-10)


def test_iterate_refuses_flows_and_bad_periods():
    flow = VanillaRNN(np.eye(2), activation="tanh", time="continuous", dt=0.1)
    with pytest.raises(ak.ValidationError, match="map"):
        Iterate(flow, 2)
    with pytest.raises(ak.ValidationError, match="p"):
        Iterate(_tanh_rnn(), 0)
    assert "p=4" in repr(Iterate(_tanh_rnn(), 4))


def test_frozen_input_and_iterate_keep_a_jax_models_own_solver():
    """FrozenInput forwards a model's own newton_solve (JaxModel: the solver compiled in JAX),
    and Iterate(model, 2) reaches it with period 2: the points are the numpy kernel's."""
    jax = pytest.importorskip("jax")
    from attractorkit.adapters import JaxModel
    from attractorkit.fixed_points import newton_solve

    rng = np.random.default_rng(2)
    W, U = rng.normal(0, 1.2 / np.sqrt(4), (4, 4)), rng.normal(size=(4, 1))
    jm = JaxModel(lambda h, x: jax.numpy.tanh(W @ h + U @ x), n_state=4, n_input=1)
    ref = VanillaRNN(W, U=U, activation="tanh")
    x = np.array([0.3])
    f = FrozenInput(jm, x)
    assert callable(getattr(f, "newton_solve", None))
    assert not hasattr(FrozenInput(ref, x), "newton_solve")       # kernel models: compiled
    H0 = rng.normal(size=(16, 4))
    for p in (1, 2):
        a = newton_solve(Iterate(f, p) if p > 1 else f, H0)
        b = newton_solve(Iterate(FrozenInput(ref, x), p) if p > 1 else FrozenInput(ref, x),
                         H0)
        assert a.converged.sum() >= 8
        np.testing.assert_array_equal(a.code, b.code)
        np.testing.assert_allclose(a.points[a.converged], b.points[a.converged], atol=1e-9)
