"""JaxModel: float64 Jacobians through jit(vmap(jacfwd)), without touching global JAX config."""

import sys

import numpy as np
import pytest
from attractorkit.adapters import JaxModel

import attractorkit as ak
from attractorkit import MissingDependencyError, ModelTypeError, ValidationError

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
