"""numpy-weight adapters: VanillaRNN, GRU, LSTM."""

import numpy as np
import pytest
from adapters_reference import random_layers, stacked_step
from hypothesis import given, settings
from hypothesis import strategies as st

import attractorkit as ak
from attractorkit import ValidationError
from attractorkit.adapters import GRU, LSTM, VanillaRNN

ACTIVATIONS = ["tanh", "relu", "softplus", "sigmoid", "identity"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("time, alpha", [("discrete", None), ("discrete", 0.2),
                                         ("continuous", 0.5)])
def test_vanilla_passes_check_model(rng, activation, time, alpha):
    model = VanillaRNN(rng.normal(size=(6, 6)) / 2, rng.normal(size=(6, 2)),
                       rng.normal(size=6), activation=activation, alpha=alpha, time=time)
    ak.check_model(model, rng=0)
    assert model.kernel.activation == activation


def test_euler_map_is_the_euler_step_of_the_flow(rng):
    W, U, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 1)), rng.normal(size=4)
    tau, dt = 2.0, 0.1
    flow = VanillaRNN(W, U, b, alpha=1 / tau, time="continuous", dt=dt)
    euler = VanillaRNN(W, U, b, alpha=dt / tau)
    h, x = rng.normal(size=(3, 4)), rng.normal(size=(3, 1))
    np.testing.assert_allclose(euler.step(h, x), h + dt * flow.step(h, x), rtol=1e-13)
    np.testing.assert_allclose(euler.jacobian(h, x), np.eye(4) + dt * flow.jacobian(h, x),
                               rtol=1e-13, atol=1e-15)
    assert flow.dt == dt and euler.dt is None


@pytest.mark.parametrize("cls, cell", [(GRU, "gru"), (LSTM, "lstm")])
@pytest.mark.parametrize("n_layers", [1, 3])
def test_gated_match_reference_and_pass_check_model(rng, cls, cell, n_layers):
    layers = random_layers(rng, cell, n_layers, 3, 4)
    args = [[lay[k] for lay in layers] for k in range(4)]
    if n_layers == 1:
        args = [a[0] for a in args]
    model = cls(*args)
    ak.check_model(model, rng=0)
    h, x = rng.normal(size=(2, model.n_state)), rng.normal(size=(2, 3))
    for b in range(2):
        np.testing.assert_allclose(model.step(h, x)[b], stacked_step(cell, layers, h[b], x[b]),
                                   rtol=1e-12, atol=1e-14)
    assert model.n_state == n_layers * 4 * (2 if cell == "lstm" else 1)


def test_gated_without_biases_and_without_input(rng):
    model = GRU(np.zeros((6, 0)), rng.normal(size=(6, 2)))
    ak.check_model(model, rng=0)
    assert model.n_input == 0
    ref = stacked_step("gru", [(np.zeros((6, 0)), model.kernel.Wh[0], np.zeros(6), np.zeros(6))],
                       np.ones(2), np.zeros(0))
    np.testing.assert_allclose(model.step(np.ones((1, 2)), None)[0], ref, rtol=1e-12)


@settings(max_examples=20, deadline=None)
@given(n_layers=st.integers(1, 3), n_hidden=st.integers(1, 4), batch=st.integers(1, 3),
       seed=st.integers(0, 10_000), batched=st.booleans())
def test_lstm_state_round_trip(n_layers, n_hidden, batch, seed, batched):
    rng = np.random.default_rng(seed)
    layers = random_layers(rng, "lstm", n_layers, 2, n_hidden)
    model = LSTM([x[0] for x in layers], [x[1] for x in layers])
    shape = (n_layers, batch, n_hidden) if batched else (n_layers, n_hidden)
    h, c = rng.normal(size=shape), rng.normal(size=shape)
    flat = model.flatten_state((h, c))
    assert flat.shape == (batch if batched else 1, model.n_state)
    # layout: all h layer by layer, then all c layer by layer
    np.testing.assert_array_equal(flat[0, :n_hidden], h[0, 0] if batched else h[0])
    np.testing.assert_array_equal(flat[0, n_layers * n_hidden:][:n_hidden],
                                  c[0, 0] if batched else c[0])
    h2, c2 = model.unflatten_state(flat)
    np.testing.assert_array_equal(h2.reshape(h.shape), h)
    np.testing.assert_array_equal(c2.reshape(c.shape), c)


def test_gru_state_round_trip(rng):
    layers = random_layers(rng, "gru", 2, 3, 4)
    model = GRU([x[0] for x in layers], [x[1] for x in layers])
    h = rng.normal(size=(2, 5, 4))
    flat = model.flatten_state(h)
    np.testing.assert_array_equal(flat[1], np.concatenate([h[0, 1], h[1, 1]]))
    np.testing.assert_array_equal(model.unflatten_state(flat), h)
    with pytest.raises(ValidationError, match=r"state: expected shape \(n_layers=2"):
        model.flatten_state(np.zeros((3, 5, 4)))
    with pytest.raises(ValidationError, match="width n_state=8"):
        model.unflatten_state(np.zeros((5, 7)))


def test_lstm_state_errors(rng):
    model = LSTM(rng.normal(size=(8, 1)), rng.normal(size=(8, 2)))
    with pytest.raises(ValidationError, match=r"pair \(h, c\)"):
        model.flatten_state(np.zeros((1, 2)))
    with pytest.raises(ValidationError, match="same shape"):
        model.flatten_state((np.zeros((1, 3, 2)), np.zeros((1, 2, 2))))


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, pattern", [
    ({"W": np.zeros((3, 4))}, r"W: expected shape \(n_hidden, n_hidden\), received \(3, 4\)"),
    ({"U": np.zeros((4, 2))}, r"U: expected shape \(3, n_input\), received \(4, 2\)"),
    ({"b": np.zeros(4)}, r"b: expected shape \(3\)"),
    ({"W": np.full((3, 3), np.nan)}, "W: expected finite values, received 9 NaN/Inf"),
    ({"b": np.array([0, np.inf, 0])}, r"b: expected finite values.*first at index \(1,\)"),
    ({"W": np.eye(3, dtype=int)}, "W: expected floating-point weights, received dtype int64"),
    ({"U": np.ones((3, 1), dtype=bool)}, "U: expected floating-point weights, received dtype bool"),
    ({"W": np.eye(3) * 1j}, "W: expected real numbers, received complex"),
    ({"activation": "gelu"}, "activation: expected one of 'tanh', 'relu'.*received 'gelu'"),
    ({"time": "continous"}, "time: expected one of"),
    ({"alpha": 1.5}, "alpha: expected 0 < alpha <= 1"),
    ({"dt": 0.1}, "dt: maps take no integration step"),
])
def test_vanilla_bad_input(kwargs, pattern):
    args = {"W": np.eye(3) * 0.5, "U": np.ones((3, 1)), "b": np.zeros(3)}
    args.update(kwargs)
    W, U, b = args.pop("W"), args.pop("U"), args.pop("b")
    with pytest.raises(ValidationError, match=pattern):
        VanillaRNN(W, U, b, **args)


def test_gated_bad_input(rng):
    with pytest.raises(ValidationError, match=r"weight_hh: expected shape \(3 \* n_hidden"):
        GRU(rng.normal(size=(6, 2)), rng.normal(size=(8, 2)))
    with pytest.raises(ValidationError, match=r"weight_ih: expected shape \(8, n_input\)"):
        LSTM(rng.normal(size=(6, 2)), rng.normal(size=(8, 2)))
    with pytest.raises(ValidationError, match=r"weight_ih\[1\]: expected shape \(6, 2\)"):
        GRU([rng.normal(size=(6, 3)), rng.normal(size=(6, 3))],
            [rng.normal(size=(6, 2)), rng.normal(size=(6, 2))])
    with pytest.raises(ValidationError, match="one array per layer"):
        GRU([rng.normal(size=(6, 3))], [rng.normal(size=(6, 2))] * 2)
    with pytest.raises(ValidationError, match=r"bias_ih: expected shape \(6\)"):
        GRU(rng.normal(size=(6, 3)), rng.normal(size=(6, 2)), bias_ih=np.zeros(5))
    with pytest.raises(ValidationError, match="weight_hh: expected floating-point"):
        GRU(rng.normal(size=(6, 3)), np.ones((6, 2), dtype=np.int32))
    with pytest.raises(ValidationError, match="bias_hh: expected finite values"):
        LSTM(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)), bias_hh=np.full(8, np.nan))


def test_states_are_validated(rng):
    model = VanillaRNN(np.eye(3) * 0.5, np.ones((3, 1)))
    with pytest.raises(ValidationError, match="h: expected states of width n_state=3"):
        model.step(np.zeros((2, 4)), np.zeros((2, 1)))
    with pytest.raises(ValidationError, match="h: expected finite values"):
        model.step(np.array([[0.0, np.nan, 0.0]]), np.zeros((1, 1)))
    with pytest.raises(ValidationError, match="h: expected real numbers, received complex"):
        model.jacobian(np.zeros((1, 3), complex), np.zeros((1, 1)))
    with pytest.raises(ValidationError, match="x: expected inputs of width n_input=1"):
        model.input_jacobian(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="x: expected 2 rows"):
        model.step(np.zeros((2, 3)), np.zeros((3, 1)))
