"""Equinox and Flax cells lowered to numba kernels, checked against the frameworks' own cells:
step and Jacobian (jax.jacfwd of the cell itself, float64) equal on random states."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import ValidationError, adapters

jax = pytest.importorskip("jax")
jnp = jax.numpy
eqx = pytest.importorskip("equinox")
nn = pytest.importorskip("flax.linen")
nnx = pytest.importorskip("flax.nnx")

F64 = jnp.float64
KEY = jax.random.PRNGKey(0)


def _lstm(call, order):
    """A flat one-sample reference [h, c] -> [h', c'] from a cell's own call on its pair."""
    def ref(h, x):
        n = h.shape[0] // 2
        pair = (h[:n], h[n:]) if order == "hc" else (h[n:], h[:n])
        out = call(pair, x)
        return jnp.concatenate(out if order == "hc" else out[::-1])
    return ref


def _cells():
    """(name, cell, wrap keywords, flat one-sample reference step) in float64."""
    with jax.enable_x64(True):
        e_gru = eqx.nn.GRUCell(3, 5, dtype=F64, key=KEY)
        e_gru_nb = eqx.nn.GRUCell(2, 4, use_bias=False, dtype=F64, key=KEY)
        e_lstm = eqx.nn.LSTMCell(3, 4, dtype=F64, key=KEY)
        l_gru = nn.GRUCell(features=5, param_dtype=F64)
        p_gru = l_gru.init(KEY, jnp.zeros(5, F64), jnp.zeros(3, F64))
        l_lstm = nn.LSTMCell(features=4, param_dtype=F64)
        p_lstm = l_lstm.init(KEY, (jnp.zeros(4, F64), jnp.zeros(4, F64)), jnp.zeros(3, F64))
        l_simple = nn.SimpleCell(features=5, residual=True, param_dtype=F64)
        p_simple = l_simple.init(KEY, jnp.zeros(5, F64), jnp.zeros(3, F64))
        x_gru = nnx.GRUCell(3, 5, param_dtype=F64, rngs=nnx.Rngs(0))
        x_lstm = nnx.LSTMCell(3, 4, param_dtype=F64, rngs=nnx.Rngs(1))
        x_simple = nnx.SimpleCell(3, 5, activation_fn=jax.nn.relu, dtype=F64,
                                  param_dtype=F64, rngs=nnx.Rngs(2))
    return [
        ("equinox-gru", e_gru, {}, lambda h, x: e_gru(x, h)),
        ("equinox-gru-nobias", e_gru_nb, {}, lambda h, x: e_gru_nb(x, h)),
        ("equinox-lstm", e_lstm, {}, _lstm(lambda p, x: e_lstm(x, p), "hc")),
        ("linen-gru", l_gru, {"params": p_gru}, lambda h, x: l_gru.apply(p_gru, h, x)[0]),
        ("linen-lstm", l_lstm, {"params": p_lstm},
         _lstm(lambda p, x: l_lstm.apply(p_lstm, p, x)[0], "ch")),
        ("linen-simple-residual", l_simple, {"params": p_simple},
         lambda h, x: l_simple.apply(p_simple, h, x)[0]),
        ("nnx-gru", x_gru, {}, lambda h, x: x_gru(h, x)[0]),
        ("nnx-lstm", x_lstm, {}, _lstm(lambda p, x: x_lstm(p, x)[0], "ch")),
        ("nnx-simple-relu", x_simple, {}, lambda h, x: x_simple(h, x)[0]),
    ]


@pytest.mark.parametrize("case", _cells(), ids=lambda c: c[0])
def test_cell_is_lowered_and_equals_the_framework_cell(case):
    _, cell, kw, ref = case
    model = adapters.wrap(cell, **kw)
    assert isinstance(model, adapters.JaxModel) and model.kernel is not None
    assert "numba kernel" in repr(model)
    ak.check_model(model, rng=0)
    rng = np.random.default_rng(3)
    H = rng.uniform(-1.5, 1.5, (6, model.n_state))
    X = rng.normal(size=(6, model.n_input))
    with jax.enable_x64(True):
        want = np.stack([np.asarray(ref(jnp.asarray(h), jnp.asarray(x))) for h, x in zip(H, X)])
        Jh = np.stack([np.asarray(jax.jacfwd(ref)(jnp.asarray(h), jnp.asarray(x)))
                       for h, x in zip(H, X)])
        Jx = np.stack([np.asarray(jax.jacfwd(ref, argnums=1)(jnp.asarray(h), jnp.asarray(x)))
                       for h, x in zip(H, X)])
    np.testing.assert_allclose(model.step(H, X), want, rtol=0, atol=1e-13)
    np.testing.assert_allclose(model.jacobian(H, X), Jh, rtol=0, atol=1e-13)
    np.testing.assert_allclose(model.input_jacobian(H, X), Jx, rtol=0, atol=1e-13)


def test_lstm_states_in_each_framework_layout():
    cells = {c[0]: c for c in _cells()}
    for name, order in (("equinox-lstm", "hc"), ("linen-lstm", "ch"), ("nnx-lstm", "ch")):
        _, cell, kw, _ = cells[name]
        model = adapters.wrap(cell, **kw)
        h, c = np.arange(4.0), -np.arange(4.0) - 1
        pair = (h, c) if order == "hc" else (c, h)
        flat = model.flatten_state(pair)
        np.testing.assert_array_equal(flat, [np.r_[h, c]])      # flat state is [h, c]
        back = model.unflatten_state(flat[0])
        np.testing.assert_array_equal(np.stack(back), np.stack(pair))
        with pytest.raises(ValidationError, match="pair"):
            model.flatten_state(h)


def test_cells_that_cannot_be_lowered_run_through_jax():
    with jax.enable_x64(True):
        cell = nnx.SimpleCell(3, 4, activation_fn=jax.nn.gelu, dtype=F64, param_dtype=F64,
                              rngs=nnx.Rngs(0))
    model = adapters.wrap(cell)
    assert model.kernel is None and "via jax" in repr(model)
    H, X = np.random.default_rng(0).normal(size=(3, 4)), np.ones((3, 3))
    with jax.enable_x64(True):
        want = np.stack([np.asarray(cell(jnp.asarray(h), jnp.asarray(x))[0])
                         for h, x in zip(H, X)])
    np.testing.assert_allclose(model.step(H, X), want, atol=1e-13)


def test_cell_errors():
    with jax.enable_x64(True):
        gru = nn.GRUCell(features=3)
        p = gru.init(KEY, jnp.zeros(3), jnp.zeros(2))
        e = eqx.nn.GRUCell(2, 3, key=KEY)
    with pytest.raises(ValidationError, match="params: a flax.linen GRUCell holds no weights"):
        adapters.wrap(gru)
    with pytest.raises(ValidationError, match="params: expected the variables"):
        adapters.wrap(gru, params={"params": {"ir": p["params"]["ir"]}})
    with pytest.raises(ValidationError, match="only flax.linen cells take params"):
        adapters.wrap(e, params=p)
    with pytest.raises(ValidationError, match="n_state: the GRUCell has n_state=3"):
        adapters.wrap(e, n_state=4)
    with pytest.raises(ValidationError, match="argument_order: a equinox GRUCell"):
        adapters.wrap(e, argument_order="hx")


def test_argument_order_is_explicit_when_shapes_cannot_tell():
    """An Equinox-style f(x, h) with n_input == n_state would pass silently with its arguments
    swapped: the order must be given; with it (or with shapes that tell), both orders give the
    same model."""
    rng = np.random.default_rng(0)
    W, U = rng.normal(size=(3, 3)) / 2, rng.normal(size=(3, 3))

    def f_xh(x, h):
        return jnp.tanh(W @ h + U @ x)

    with pytest.raises(ValidationError, match="argument_order: n_input == n_state == 3"):
        adapters.JaxModel(f_xh, n_state=3, n_input=3)
    a = adapters.JaxModel(f_xh, n_state=3, n_input=3, argument_order="xh")
    b = adapters.JaxModel(lambda h, x: f_xh(x, h), n_state=3, n_input=3, argument_order="hx")
    H, X = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(a.step(H, X), np.tanh(H @ W.T + X @ U.T), atol=1e-14)
    np.testing.assert_allclose(a.jacobian(H, X), b.jacobian(H, X), atol=1e-14)
    U2 = rng.normal(size=(3, 2))                    # n_input = 2: the shapes tell

    def g_xh(x, h):
        return jnp.tanh(W @ h + U2 @ x)

    c = adapters.wrap(g_xh, framework="jax", n_state=3, n_input=2)
    assert c.argument_order == "xh"
    np.testing.assert_allclose(c.step(H, X[:, :2]), np.tanh(H @ W.T + X[:, :2] @ U2.T),
                               atol=1e-14)
    with pytest.raises(ValidationError, match="argument_order: expected one of"):
        adapters.JaxModel(f_xh, n_state=3, n_input=3, argument_order="x,h")
