"""JaxModel: float64 Jacobians through jit(vmap(jacfwd)), without touching global JAX config."""

import sys
import warnings

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import MissingDependencyError, ModelTypeError, ValidationError
from attractorkit.adapters import JaxModel

jax = pytest.importorskip("jax")
jnp = jax.numpy


def _gru_weights(rng, n, m):
    return [rng.normal(size=s) * 0.7 for s in ((3 * n, m), (3 * n, n), (3 * n,), (3 * n,))]


def test_matches_the_gru_kernel(rng):
    """A JAX GRU cell written by hand agrees with the numba GRU kernel to float64 precision."""
    from attractorkit.adapters import GRU

    Wih, Whh, bih, bhh = _gru_weights(rng, 4, 2)
    n = 4

    def cell(h, x):
        gi = jnp.asarray(Wih) @ x + bih
        gh = jnp.asarray(Whh) @ h + bhh
        r = jax.nn.sigmoid(gi[:n] + gh[:n])
        z = jax.nn.sigmoid(gi[n:2 * n] + gh[n:2 * n])
        c = jnp.tanh(gi[2 * n:] + r * gh[2 * n:])
        return (1 - z) * c + z * h

    model = JaxModel(cell, n_state=4, n_input=2)
    ref = GRU(Wih, Whh, bih, bhh)
    ak.check_model(model, rng=0)
    H, X = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    np.testing.assert_allclose(model.step(H, X), ref.step(H, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.jacobian(H, X), ref.jacobian(H, X), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(model.input_jacobian(H, X), ref.input_jacobian(H, X),
                               rtol=1e-10, atol=1e-12)
    assert model.step(H, X).dtype == np.float64


def test_x64_stays_local():
    before = jax.config.jax_enable_x64
    model = JaxModel(lambda h, x: jnp.sin(h) * 1e-9 + h, n_state=1, n_input=0)
    out = model.step(np.array([[1.0]]), None)
    # 1 + 1e-9 sin(1) is representable only in float64
    assert out[0, 0] != 1.0
    assert jax.config.jax_enable_x64 == before
    assert jnp.zeros(1).dtype == (jnp.float64 if before else jnp.float32)


def test_flow_and_no_input(rng):
    model = JaxModel(lambda h, x: -h + jnp.tanh(2.0 * h), n_state=3, n_input=0,
                     time="continuous", dt=0.01)
    ak.check_model(model, rng=0)
    assert model.input_jacobian(np.zeros((2, 3)), None).shape == (2, 3, 0)
    np.testing.assert_allclose(model.jacobian(np.zeros((1, 3)), None)[0], np.eye(3))


def test_errors(monkeypatch):
    with pytest.raises(ModelTypeError, match="expected a callable"):
        JaxModel(3, n_state=1, n_input=0)
    with pytest.raises(ValidationError, match="dt: a flow"):
        JaxModel(lambda h, x: h, n_state=1, n_input=0, time="continuous")
    with pytest.raises(ValidationError, match="n_state: expected an integer >= 1"):
        JaxModel(lambda h, x: h, n_state=0, n_input=0)
    bad = JaxModel(lambda h, x: h[:1], n_state=2, n_input=0)
    with pytest.raises(ValidationError, match=r"step has shape \(3, 1\), expected \(3, 2\)"):
        bad.step(np.zeros((3, 2)), None)
    broken = JaxModel(lambda h, x: h * float(h[0]), n_state=2, n_input=0)
    with pytest.raises(ModelTypeError, match="pure function of ONE sample"):
        broken.step(np.zeros((3, 2)), None)
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'attractorkit\[jax\]'"):
        JaxModel(lambda h, x: h, n_state=1, n_input=0)


def _saturating_gru(n=12, seed=2, gain=4.0):
    """GRU weights (PyTorch layout) with gains x4 (saturating gates) and the same cell as a
    plain JAX function of one sample."""
    rng = np.random.default_rng(seed)
    s = gain / np.sqrt(n)
    Wih, Whh = rng.normal(0, s, (3 * n, 1)), rng.normal(0, s, (3 * n, n))
    bih, bhh = rng.normal(0, 0.5, 3 * n), rng.normal(0, 0.5, 3 * n)

    def cell(h, x):
        gi, gh = Wih @ x + bih, Whh @ h + bhh
        r = jax.nn.sigmoid(gi[:n] + gh[:n])
        z = jax.nn.sigmoid(gi[n:2 * n] + gh[n:2 * n])
        c = jnp.tanh(gi[2 * n:] + r * gh[2 * n:])
        return (1 - z) * c + z * h

    return (Wih, Whh, bih, bhh), cell


def test_newton_solver_in_jax_matches_the_kernel_solver():
    """The Newton / LM solver compiled in JAX (all starts in one jit loop, per-point damping
    and stopping) finds the fixed points the numba kernel's solver finds from the same starts,
    with the same statuses; every converged point is a fixed point of the numpy GRU."""
    from attractorkit.adapters import GRU
    from attractorkit.fixed_points import newton_solve

    weights, cell = _saturating_gru()
    jm, km = JaxModel(cell, n_state=12, n_input=1), GRU(*weights)
    runs = ak.simulate(km, np.random.default_rng(0).normal(size=(20, 12)), np.zeros(1), 10)
    H0 = runs.states[0].reshape(-1, 12)[::2]                    # 100 states on trajectories
    X = np.zeros((100, 1))
    a, b = newton_solve(jm, H0, X), newton_solve(km, H0, X)
    assert np.mean(a.code == b.code) > 0.95 and a.converged.sum() >= 20
    P = a.points[a.converged]
    G = km.step(P, X[a.converged]) - P
    assert np.all(np.max(np.abs(G), axis=1) <= 1e-10 * np.maximum(1, np.max(np.abs(P), axis=1)))
    def box(s):      # the distinct isolated points where the GRU lives, |h| <= 1 (far out,
        P = s.points[s.converged]     # saturated gates leave points poorly determined)
        return np.unique(np.round(P[np.max(np.abs(P), axis=1) <= 1 + 1e-9], 6), axis=0)

    assert len(box(a)) >= 2
    np.testing.assert_allclose(box(a), box(b), atol=1e-6)
    same = a.converged & b.converged & (np.max(np.abs(a.points - b.points), axis=1) < 1e-6)
    assert same.mean() > 0.9 * a.converged.mean()


def test_no_retracing_per_batch_shape():
    """find_fixed_points calls the model with many batch sizes; batches are padded to a few
    fixed sizes, so the step function is traced a bounded number of times, and a second search
    with other batch sizes traces nothing new."""
    traces = []
    weights, cell = _saturating_gru(n=6, seed=1, gain=1.0)

    def counted(h, x):
        traces.append(1)                     # runs once per trace, not per call
        return cell(h, x)

    model = JaxModel(counted, n_state=6, n_input=1, state_bounds=(-1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ak.ConvergenceWarning)
        fp = ak.find_fixed_points(model, np.zeros(1), n_init=48, rng=0)
        first = len(traces)
        ak.find_fixed_points(model, np.zeros(1), n_init=37, n_steps=23, rng=1)
    assert len(fp) >= 1 and fp.converged.any()
    assert first <= 12                       # step, Jacobians and solver at two batch sizes
    assert len(traces) == first
