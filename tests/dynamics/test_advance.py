"""The engine's lower layer: advance (maps iterated, flows by RK4) and evaluate, against closed
forms and a hand-written RK4, on kernel models (numba) and plain models (numpy)."""

import numpy as np
import pytest
from systems import DiagonalLinear, Hopf

import attractorkit as ak
from attractorkit.adapters import CallableModel, VanillaRNN
from attractorkit.dynamics import advance, evaluate


def rk4(f, h, dt, n_steps):
    """The classical RK4, written out independently of the package."""
    out = [h]
    for _ in range(n_steps):
        k1 = f(h)
        k2 = f(h + 0.5 * dt * k1)
        k3 = f(h + 0.5 * dt * k2)
        k4 = f(h + dt * k3)
        h = h + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        out.append(h)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("kernel", [True, False])
def test_map_powers_in_closed_form(kernel):
    a = np.array([0.5, -0.8, 1.1])
    model = VanillaRNN(np.diag(a), activation="identity") if kernel else DiagonalLinear(a)
    h0 = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    path = advance(model, h0, None, 6, record=True)
    assert path.shape == (2, 7, 3)
    expected = h0[:, None, :] * a[None, None, :] ** np.arange(7)[None, :, None]
    np.testing.assert_allclose(path, expected, rtol=1e-14)
    np.testing.assert_allclose(advance(model, h0, None, 6), expected[:, -1], rtol=1e-14)
    np.testing.assert_array_equal(advance(model, h0[0], None, 0), h0[:1])


@pytest.mark.parametrize("kernel", [True, False])
def test_flow_takes_rk4_steps(rng, kernel):
    n = 5
    W = 1.5 * rng.standard_normal((n, n)) / np.sqrt(n)
    U = rng.standard_normal((n, 2))
    rnn = VanillaRNN(W, U, time="continuous", dt=0.05, alpha=0.5)
    model = rnn if kernel else CallableModel(rnn.step, n_state=n, n_input=2,
                                             jacobian=rnn.jacobian,
                                             input_jacobian=rnn.input_jacobian,
                                             time="continuous", dt=0.05)
    h0 = rng.standard_normal((3, n))
    x = rng.standard_normal((3, 2))
    ref = rk4(lambda h: 0.5 * (np.tanh(h @ W.T + x @ U.T) - h), h0, 0.05, 20)
    np.testing.assert_allclose(advance(model, h0, x, 20, record=True), ref, atol=1e-13)


def test_one_input_for_all_rows_equals_repeated_rows(rng):
    model = VanillaRNN(0.5 * rng.standard_normal((4, 4)), rng.standard_normal((4, 2)))
    h0 = rng.standard_normal((3, 4))
    x = rng.standard_normal(2)
    np.testing.assert_array_equal(advance(model, h0, x, 5),
                                  advance(model, h0, np.tile(x, (3, 1)), 5))


def test_hopf_flow_on_its_cycle():
    mu = 0.64
    path = advance(Hopf(omega=2.0, dt=0.01), [[0.8, 0.0]], [mu], 300, record=True)
    np.testing.assert_allclose(np.linalg.norm(path[0], axis=1), np.sqrt(mu), atol=1e-9)
    ang = np.arctan2(path[0, -1, 1], path[0, -1, 0])
    assert abs(np.angle(np.exp(1j * (ang - 2.0 * 3.0)))) < 1e-8  # omega t = 6 rad


class Strict(DiagonalLinear):
    """Refuses NaN, as some models do."""

    def step(self, h, x):
        assert np.isfinite(np.asarray(h)).all(), "NaN passed to the model"
        return super().step(h, x)


@pytest.mark.parametrize("kernel", [True, False])
def test_divergent_and_nan_rows(kernel):
    a = np.array([2.0, 0.5])
    model = VanillaRNN(np.diag(a), activation="identity") if kernel else Strict(a)
    h0 = np.array([[1.0, 1.0], [0.0, 1.0], [np.nan, 1.0]])
    path = advance(model, h0, None, 12, record=True, divergence_threshold=100.0)
    assert np.isfinite(path[0, :7]).all() and np.isnan(path[0, 7:]).all()  # 2**7 > 100
    np.testing.assert_allclose(path[1, :, 1], 0.5 ** np.arange(13))
    assert np.isnan(path[2]).all()
    final = advance(model, h0, None, 12, divergence_threshold=100.0)
    assert np.isnan(final[[0, 2]]).all() and np.isfinite(final[1]).all()


def test_evaluate_leaves_nan_rows_out_and_checks_shapes():
    model = Strict([0.5, 2.0])
    out = evaluate(model, [[1.0, 1.0], [np.nan, 0.0]])
    np.testing.assert_array_equal(out, [[0.5, 2.0], [np.nan, np.nan]])
    hopf = Hopf(omega=1.0)
    np.testing.assert_allclose(evaluate(hopf, [1.0, 0.0], [0.5]), [[-0.5, 1.0]])  # dh/dt

    class Wrong(DiagonalLinear):
        def step(self, h, x):
            return super().step(h, x)[:, :1]

    with pytest.raises(ak.ValidationError, match="model.step: expected output of shape"):
        evaluate(Wrong([1.0, 1.0]), [[1.0, 1.0]])


def test_bad_arguments():
    model = DiagonalLinear([0.5, 0.5])
    with pytest.raises(ak.ValidationError, match="n_state=2"):
        advance(model, np.zeros((3, 4)), None, 2)
    with pytest.raises(ak.ValidationError, match="n_steps"):
        advance(model, np.zeros(2), None, -1)
    with pytest.raises(ak.ValidationError, match="divergence_threshold"):
        advance(model, np.zeros(2), None, 1, divergence_threshold=0)
    with pytest.raises(ak.ModelTypeError):
        advance(object(), np.zeros(2), None, 1)
    with pytest.raises(ak.ValidationError, match="inputs"):
        advance(VanillaRNN(np.eye(2), np.ones((2, 1))), np.zeros(2), np.zeros(3), 1)
