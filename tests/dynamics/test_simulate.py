"""simulate: kernel paths (BLAS batched, per-sample RK4) and the numpy path agree with plain
numpy loops; transient/stride/record conventions; divergence handling; bad input."""

import numpy as np
import pytest
from systems import DiagonalLinear, Hopf, Lorenz

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


class Wrapped:
    """The same model without a kernel (forces the numpy path)."""

    def __init__(self, m):
        self.m, self.n_state, self.n_input = m, m.n_state, m.n_input
        self.time, self.dt = m.time, m.dt

    def step(self, h, x):
        return self.m.step(h, x)

    def jacobian(self, h, x):
        return self.m.jacobian(h, x)

    def input_jacobian(self, h, x):
        return self.m.input_jacobian(h, x)


@pytest.fixture
def relu_rnn(rng):
    n = 30
    return VanillaRNN(0.9 * rng.standard_normal((n, n)) / np.sqrt(n),
                      rng.standard_normal((n, 2)), 0.1 * rng.standard_normal(n),
                      activation="relu", alpha=0.7)


def reference(model, h0, xs, steps):
    h, out = h0.copy(), []
    for t in range(steps):
        x = xs[t] if xs.ndim == 2 else xs
        h = 0.3 * h + 0.7 * np.maximum(h @ model.W.T + x @ model.U.T + model.b, 0.0)
        out.append(h)
    return np.array(out)


def test_kernel_batched_matches_numpy_reference(relu_rnn, rng):
    h0 = rng.standard_normal((3, 30))
    inputs = rng.standard_normal((4, 2))
    tr = ak.simulate(relu_rnn, h0, inputs, 12, n_transient=5, stride=3)
    assert tr.states.shape == (4, 3, 4, 30)
    for c in range(4):
        ref = reference(relu_rnn, h0, inputs[c], 17)
        np.testing.assert_allclose(tr.states[c], np.swapaxes(ref[[7, 10, 13, 16]], 0, 1),
                                   atol=1e-12)
        np.testing.assert_allclose(tr.initial[c], ref[4], atol=1e-12)
    np.testing.assert_allclose(tr.times, [8, 11, 14, 17])
    slow = ak.simulate(Wrapped(relu_rnn), h0, inputs, 12, n_transient=5, stride=3)
    np.testing.assert_allclose(slow.states, tr.states, atol=1e-12)


def test_time_varying_inputs_and_per_condition_states(relu_rnn, rng):
    h0 = rng.standard_normal((2, 3, 30))
    xs = rng.standard_normal((2, 10, 2))
    tr = ak.simulate(relu_rnn, h0, xs, 8, n_transient=2)
    for c in range(2):
        ref = reference(relu_rnn, h0[c], xs[c], 10)
        np.testing.assert_allclose(tr.states[c], np.swapaxes(ref[2:], 0, 1), atol=1e-12)
    slow = ak.simulate(Wrapped(relu_rnn), h0, xs, 8, n_transient=2, progress=False)
    np.testing.assert_allclose(slow.states, tr.states, atol=1e-12)


def test_flow_rk4_kernel_and_numpy_agree(rng):
    n = 12
    model = VanillaRNN(2.0 * rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal((n, 1)),
                       time="continuous", dt=0.05)
    h0 = 0.3 * rng.standard_normal((2, n))
    a = ak.simulate(model, h0, [[0.4], [-0.2]], 40, n_transient=10, stride=2)
    b = ak.simulate(Wrapped(model), h0, [[0.4], [-0.2]], 40, n_transient=10, stride=2)
    np.testing.assert_allclose(a.states, b.states, atol=1e-12)
    np.testing.assert_allclose(a.times, 0.05 * np.arange(12, 51, 2))


def test_rk4_order_on_the_hopf_cycle():
    # on the limit cycle r = sqrt(mu) the RK4 solution stays on it to O(dt^4)
    hopf = Hopf(omega=1.0, dt=0.05)
    tr = ak.simulate(hopf, [[1.0, 0.0]], [1.0], 2000)
    r = np.linalg.norm(tr.states[0, 0], axis=1)
    assert np.abs(r - 1.0).max() < 1e-6
    # phase after t = 100: angle 100 rad
    ang = np.arctan2(tr.states[0, 0, -1, 1], tr.states[0, 0, -1, 0])
    assert abs(np.angle(np.exp(1j * (ang - 100.0)))) < 1e-5


def test_divergent_trajectories_stop_and_others_go_on():
    lin = DiagonalLinear([1.5, 0.5])
    tr = ak.simulate(lin, np.array([[1.0, 1.0], [0.0, 1.0]]), None, 100)
    assert tr.diverged.tolist() == [[True, False]]
    assert tr.diverged_at[0, 0] == 35  # 1.5**35 > 1e6 > 1.5**34
    assert np.isnan(tr.states[0, 0, 34:]).all() and np.isfinite(tr.states[0, 0, :34]).all()
    np.testing.assert_allclose(tr.states[0, 1, -1], [0.0, 0.5**100])
    kern = VanillaRNN(np.diag([1.5, 0.5]), activation="identity")
    kt = ak.simulate(kern, np.array([[1.0, 1.0], [0.0, 1.0]]), None, 100)
    assert kt.diverged_at.tolist() == tr.diverged_at.tolist()
    np.testing.assert_allclose(kt.states[0, 1], tr.states[0, 1], rtol=1e-12)
    lor = ak.simulate(Lorenz(), [[1.0, 1.0, 1.0]], None, 50, divergence_threshold=30.0)
    assert lor.diverged[0, 0] and 0 < lor.diverged_at[0, 0] <= 50


def test_bad_input_messages(relu_rnn):
    h0 = np.zeros((2, 30))
    with pytest.raises(ak.ValidationError, match="initial_states.*NaN"):
        ak.simulate(relu_rnn, np.full((2, 30), np.nan), np.zeros(2), 5)
    with pytest.raises(ak.ValidationError, match="inputs.*n_input=2"):
        ak.simulate(relu_rnn, h0, np.zeros(3), 5)
    with pytest.raises(ak.ValidationError, match="n_steps.*>= 1"):
        ak.simulate(relu_rnn, h0, np.zeros(2), 0)
    with pytest.raises(ak.ValidationError, match="n_transient \\+ n_steps = 7"):
        ak.simulate(relu_rnn, h0, np.zeros((1, 5, 2)), 5, n_transient=2)
    with pytest.raises(ak.ValidationError, match="n_state=30"):
        ak.simulate(relu_rnn, np.zeros((2, 29)), np.zeros(2), 5)
    with pytest.raises(ak.ValidationError, match="stride"):
        ak.simulate(relu_rnn, h0, np.zeros(2), 5, stride=6)
    with pytest.raises(ak.ModelTypeError, match="model"):
        ak.simulate(object(), h0, np.zeros(2), 5)
    with pytest.raises(ak.ValidationError, match="inputs.*None"):
        ak.simulate(relu_rnn, h0, None, 5)


def test_save_load_and_plot(relu_rnn, tmp_path):
    tr = ak.simulate(relu_rnn, np.ones((2, 30)), np.zeros(2), 10)
    back = ak.Trajectories.load(tr.save(tmp_path / "traj"))
    assert ak.results_equal(tr, back)
    assert "2 initial state(s)" in tr.summary()
    assert tr.plot(dims="pca") is not None


def test_blocked_parallel_batches_match_numpy(relu_rnn, rng):
    """>= 64 runs: the batched kernel cuts the batch into per-thread row blocks."""
    h0 = rng.standard_normal((70, 30))
    a = ak.simulate(relu_rnn, h0, rng.standard_normal((2, 2)), 20, n_transient=5)
    b = ak.simulate(Wrapped(relu_rnn), h0, a.inputs[:, 0], 20, n_transient=5)
    np.testing.assert_allclose(a.states, b.states, atol=1e-12)
    la = ak.lyapunov_spectrum(relu_rnn, h0, a.inputs[:, 0], n_exponents=2,
                              n_steps=60, n_transient=5, n_windows=3, rng=1)
    lb = ak.lyapunov_spectrum(Wrapped(relu_rnn), h0, a.inputs[:, 0], n_exponents=2,
                              n_steps=60, n_transient=5, n_windows=3, rng=1)
    np.testing.assert_allclose(la.exponents, lb.exponents, atol=1e-8)
