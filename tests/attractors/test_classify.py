"""classify_attractors on planted ground truth: every acceptance case of the dynamics issue."""

import numpy as np
import pytest
from systems import (
    DiagonalLinear,
    EmbeddedCircleMap,
    Hopf,
    Logistic,
    Lorenz,
    TorusFlow,
    circle_map_rotation,
    random_rnn,
)

import attractorkit as ak
from attractorkit.attractors import Decision, approaching, decide


def near_circle(model, n, rng, spread=0.2):
    theta = rng.uniform(0, 1, n)
    return model.circle_point(theta) + spread * rng.standard_normal((n, model.n_state)) / np.sqrt(
        model.n_state)


def test_hopf_cycle_above_and_fixed_point_below():
    mu, om = 0.64, 1.3
    a = ak.classify_attractors(Hopf(omega=om, dt=0.1), [[-0.5], [mu]], n_init=3, n_steps=4000,
                               n_transient=1000, rng=0)
    assert a.label[0].tolist() == ["fixed_point"] * 3
    np.testing.assert_allclose(a.location[0], 0.0, atol=1e-8)
    assert a.label[1].tolist() == ["periodic"] * 3
    np.testing.assert_allclose(a.period[1], 2 * np.pi / om, rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(a.final_states[1], axis=1), np.sqrt(mu), atol=1e-4)
    assert np.all(np.abs(a.lyapunov[1, :, 0]) < a.evidence.zero_band[1])
    np.testing.assert_allclose(a.lyapunov[1, :, 1], -2 * mu, atol=0.01)
    assert a.attractor_id[1].tolist() == [0, 0, 0] and (a.confidence == 1.0).all()


@pytest.mark.parametrize("n,K,seed", [(50, 0.5, 0), (250, 0.3, 1)])
def test_embedded_invariant_circle_is_quasi_periodic(n, K, seed):
    model = EmbeddedCircleMap(n, K=K, seed=seed)
    rng = np.random.default_rng(seed)
    a = ak.classify_attractors(model, None, initial_states=near_circle(model, 2, rng),
                               n_steps=1500, n_transient=1000, rng=seed)
    assert a.label.tolist() == [["quasi_periodic"] * 2], a.reason
    assert a.torus_dim.tolist() == [[1, 1]]
    rho = circle_map_rotation(model.omega, K)
    np.testing.assert_allclose(a.evidence.rotation[0], min(rho, 1 - rho), atol=1e-3)
    assert a.evidence.section_kind[0].tolist() == ["curve", "curve"]
    assert np.all(np.abs(a.evidence.corr_dim[0] - 1) < 0.2)
    assert a.attractor_id.tolist() == [[0, 0]]  # the same circle from both initial states


@pytest.mark.parametrize("omega,K,m,period", [(0.4, 0.0, 1, 5), (3 / 7, 0.6, 7, 7)])
def test_rational_rotation_and_period_7(omega, K, m, period):
    model = EmbeddedCircleMap(60, omega=omega, K=K, m=m, seed=2)
    a = ak.classify_attractors(model, None, initial_states=near_circle(model, 3,
                                                                        np.random.default_rng(3)),
                               n_steps=500, n_transient=800, rng=0)
    assert a.label.tolist() == [["periodic"] * 3], a.reason
    assert a.period.tolist() == [[period] * 3]


def test_two_frequency_torus_flow_is_quasi_periodic_2():
    a = ak.classify_attractors(TorusFlow(n_extra=2, seed=1, dt=0.1), None, n_init=2,
                               n_steps=8000, n_transient=500, init_scale=0.5, rng=0)
    assert a.label.tolist() == [["quasi_periodic"] * 2], a.reason
    assert a.torus_dim.tolist() == [[2, 2]]
    np.testing.assert_allclose(a.evidence.rotation[0], np.sqrt(2) - 1, atol=1e-3)
    resonant = ak.classify_attractors(TorusFlow(omega2=1.5, n_extra=2, seed=1, dt=0.1), None,
                                      n_init=1, n_steps=8000, n_transient=500, init_scale=0.5,
                                      rng=0)
    assert resonant.label.tolist() == [["periodic"]], resonant.reason
    np.testing.assert_allclose(resonant.period[0, 0], 4 * np.pi, rtol=1e-3)  # 2 loops of w1


def test_lorenz_is_chaotic():
    a = ak.classify_attractors(Lorenz(dt=0.02), None, n_init=2, n_steps=10_000,
                               n_transient=500, init_scale=5.0, rng=0)
    assert a.label.tolist() == [["chaotic"] * 2], a.reason
    assert np.all(np.abs(a.lyapunov[0, :, 0] - 0.906) < 0.1)
    assert a.attractor_id.tolist() == [[0, 0]]


@pytest.mark.parametrize("gain,label", [(3.0, "chaotic"), (0.5, "fixed_point")])
def test_random_tanh_rnn(gain, label):
    a = ak.classify_attractors(random_rnn(200, gain, seed=0), None, n_init=3, n_steps=2000,
                               n_transient=1000, rng=0)
    assert a.label.tolist() == [[label] * 3], a.reason
    if label == "chaotic":
        assert np.all(a.lyapunov[0, :, 0] > 0.1)
        assert np.all(a.evidence.section_kind[0] == "other")


def test_settled_runs_stop_early_in_the_batched_kernel():
    model = random_rnn(100, 0.5, seed=4, n_input=1)
    x = [[0.3], [-0.2]]
    a = ak.classify_attractors(model, x, n_init=3, n_transient=2000, rng=0)
    assert (a.label == "fixed_point").all()
    assert (a.steps < 500).all() and (a.steps % 50 == 0).all()  # checked every 50 steps
    ref = ak.simulate(model, a.final_states[0], x, 50)  # the settled states are fixed points
    for c in range(2):
        np.testing.assert_allclose(ref.states[c, :, -1], a.final_states[c], atol=1e-8)


def test_unstable_linear_map_diverges_and_logistic_route():
    a = ak.classify_attractors(DiagonalLinear([1.2, 0.5]), None, n_init=3, rng=0)
    assert a.label.tolist() == [["divergent"] * 3]
    assert a.attractor_id.tolist() == [[-1] * 3]
    assert np.isnan(a.final_states).all()  # regression: stopped runs used to report zeros
    lg = ak.classify_attractors(Logistic(), [[2.8], [3.2], [3.5], [3.83], [4.0]],
                                initial_states=[[0.3], [0.6]], n_steps=1000, rng=0)
    assert lg.label[:, 0].tolist() == ["fixed_point", "periodic", "periodic", "periodic",
                                       "chaotic"]
    np.testing.assert_array_equal(lg.period[1:4, 0], [2, 4, 3])
    assert abs(lg.lyapunov[4, 0, 0] - np.log(2)) < 0.03


def test_slow_transient_is_not_called_quasi_periodic():
    """A focus contracting by 0.999 per step still spirals after the transient: it must end
    as a fixed point (slow convergence confirmed by Newton) or undetermined, never QP."""
    r, w = 0.999, 2 * np.pi * 0.1234
    A = r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]])
    from attractorkit.adapters import VanillaRNN

    a = ak.classify_attractors(VanillaRNN(A, activation="identity"), None,
                               initial_states=[[1.0, 0.0]], n_steps=600, n_transient=200,
                               max_extensions=0, rng=0)
    assert a.label[0, 0] == "fixed_point", a.reason
    assert 0 < a.confidence[0, 0] < 1
    np.testing.assert_allclose(a.evidence.converging_rate[0, 0], r, atol=1e-3)


def test_bad_input_and_round_trip(tmp_path):
    with pytest.raises(ak.ValidationError, match="initial_states.*NaN"):
        ak.classify_attractors(Logistic(), [4.0], initial_states=[[np.nan]])
    with pytest.raises(ak.ValidationError, match="inputs.*n_input=1"):
        ak.classify_attractors(Logistic(), [[4.0, 1.0]])
    with pytest.raises(ak.ValidationError, match="n_steps"):
        ak.classify_attractors(Logistic(), [4.0], n_steps=0)
    with pytest.raises(ak.ValidationError, match="thresholds.*unknown"):
        ak.classify_attractors(Logistic(), [4.0], thresholds={"nope": 1})
    with pytest.raises(ak.ValidationError, match="lyapunov"):
        ak.classify_attractors(Logistic(), [4.0], lyapunov="some")
    a = ak.classify_attractors(Logistic(), [[3.2], [4.0]], n_init=2, n_steps=300,
                               n_transient=300, lyapunov="all", rng=1)
    assert np.isfinite(a.lyapunov).all()  # "all": exponents of settled runs too
    assert a.lyapunov[0, 0, 0] < 0
    back = ak.Attractors.load(a.save(tmp_path / "att"))
    assert ak.results_equal(a, back)
    assert "periodic 2" in a.summary() and a.basins(0)[0][0] == "periodic"
    assert a.plot_evidence() is not None


def test_relu_runs_settle_by_region_and_a_saddle_is_not_certified():
    from attractorkit.adapters import VanillaRNN

    # slow spiral (radius 0.997, angle ~ 1/4 turn) into an attracting fixed point in the
    # all-active region: certified there long before the step criterion fires
    r, w = 0.997, 2 * np.pi * 0.2499
    A = r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]])
    c = np.array([3.0, 2.0])
    h_star = np.linalg.solve(np.eye(2) - A, c)
    model = VanillaRNN(A, np.eye(2), activation="relu")
    a = ak.classify_attractors(model, [c], initial_states=h_star + [[0.5, 0.0], [0.0, -0.4]],
                               n_steps=500, n_transient=4000, rng=0)
    assert (a.label == "fixed_point").all(), a.reason
    assert (a.reason == "converges to the attracting fixed point of its linear region").all()
    np.testing.assert_allclose(a.final_states[0], [h_star, h_star], atol=1e-12)
    assert (a.steps < 4000).all()
    # saddle diag(0.5, 1.5) with h* = (1, 1): a run on its stable manifold converges to it,
    # but the region is not contracting, so only the step criterion may call it a fixed point
    sad = VanillaRNN(np.diag([0.5, 1.5]), np.eye(2), activation="relu")
    s = ak.classify_attractors(sad, [[0.5, -0.5]], initial_states=[[3.0, 1.0]], rng=0)
    assert s.label[0, 0] == "fixed_point" and s.reason[0, 0] == "step below tolerance"


def test_a_close_return_without_a_period_is_not_an_exact_recurrence():
    """Evidence with recurrence_error below period_tol but no period over a window (section
    kind "other") must not give "exact recurrence with period 0"."""
    ev = {"step_size": 1e-6, "recurrence_error": 1e-9, "section_kind": "other",
          "zero_band": 1e-3}
    lam = np.array([-0.003, -0.1])
    d = decide(ev, lam)
    assert "period 0" not in d.reason and not (d.label == "periodic" and d.period == 0)
    ev.update(section_kind="points", n_section_points=3)
    d = decide(ev, lam, thresholds=ak.ClassifierThresholds())
    assert (d.label, d.period, d.reason) == ("periodic", 3, "exact recurrence with period 3")
    assert d.confidence == 1.0 and isinstance(d, Decision)
    # the same evidence under a tighter recurrence tolerance is no exact recurrence
    assert decide(ev, lam, thresholds={"period_tol": 1e-10}).label != "periodic"


def test_return_distances_tell_a_transient_from_an_attractor():
    """approaching(): a slow approach to a 3-cycle (0.998 per step) is a transient; an
    irrational rotation, an exact cycle and a chaotic orbit are not."""
    t = np.arange(900)
    cycle = np.array([[1.0, 0.0, 0.5], [-0.3, 0.8, 0.1], [0.2, -0.6, -0.9]])
    v = np.array([0.3, -0.2, 0.4])
    assert approaching(cycle[t % 3] + 0.998 ** t[:, None] * v)
    assert not approaching(cycle[t % 3])
    ang = 2 * np.pi * 0.5 * (np.sqrt(5) - 1) * t
    assert not approaching(np.c_[np.cos(ang), np.sin(ang), np.cos(ang) ** 2])
    x = [0.3]
    for _ in range(899):
        x.append(4.0 * x[-1] * (1.0 - x[-1]))
    assert not approaching(np.array(x)[:, None])
    # a flow creeping onto its fixed point: the step size (p = 1) shrinks
    assert approaching(np.exp(-0.002 * t)[:, None] * v, flow=True)


def test_unresolved_orbits_are_extended_with_doubling_records():
    """A rigid rotation by 7/300 of the plane: period 300 is beyond half of the first record
    (500 steps) and fits only 3.3 times in the second (1000): each extension doubles the
    record, and the third (2000 steps) fits it 6.7 times. Without extensions the label stays
    undetermined and says why."""
    from attractorkit.adapters import VanillaRNN

    ang = 2 * np.pi * 7 / 300
    A = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    model = VanillaRNN(A, activation="identity")
    kw = dict(initial_states=[[1.0, 0.0]], n_steps=500, n_transient=100, rng=0)
    a = ak.classify_attractors(model, None, **kw)
    assert (a.label[0, 0], a.period[0, 0]) == ("periodic", 300.0), a.reason
    assert a.steps[0, 0] == 100 + 500 + 1000 + 2000
    assert a.evidence.record_points[0, 0] == 2000
    b = ak.classify_attractors(model, None, max_extensions=1, **kw)
    assert b.label[0, 0] == "undetermined" and b.steps[0, 0] == 100 + 500 + 1000
    assert b.reason[0, 0].startswith("recurrence with period 300 fits 3.3 times in 1000")


def test_slow_approach_with_a_silent_unit_is_polished_to_the_exact_fixed_point():
    """A slow spiral (0.997 per step) onto a stable fixed point of a ReLU map with a silent
    unit, through a model without kernel (no region test): Newton polishes it to the exact
    point, whose silent coordinate is 0, and finds it attracting."""
    from attractorkit.adapters import CallableModel

    r, w = 0.997, 2 * np.pi * 0.2137
    W = np.zeros((3, 3))
    W[np.ix_([0, 2], [0, 2])] = r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]])
    W[1] = [0.1, 0.0, 0.2]
    b = np.array([1.0, -5.0, 0.5])  # unit 1 silent near the fixed point

    def step(h, x):
        return np.maximum(h @ W.T + b, 0.0)

    def jacobian(h, x):
        return (h @ W.T + b > 0)[:, :, None] * W[None]

    model = CallableModel(step, n_state=3, n_input=0, jacobian=jacobian)
    h_star = np.zeros(3)
    h_star[[0, 2]] = np.linalg.solve(np.eye(2) - W[np.ix_([0, 2], [0, 2])], b[[0, 2]])
    a = ak.classify_attractors(model, None, initial_states=[h_star + [0.5, 0.0, -0.3]],
                               n_steps=600, n_transient=200, max_extensions=0, rng=0)
    assert a.label[0, 0] == "fixed_point", a.reason
    assert a.reason[0, 0].startswith("slow convergence") and 0 < a.confidence[0, 0] < 1
    np.testing.assert_allclose(a.location[0, 0], h_star, atol=1e-12)
    np.testing.assert_allclose(a.evidence.converging_rate[0, 0], r, atol=2e-3)


def test_pipelined_lyapunov_batches_match_one_batch():
    """Evidence of one batch is gathered while the next is simulated, in two alternating
    halves of the record buffer: two and five batches give what one batch per call gives
    (the random tangent frames are drawn in run order from one generator in each case)."""
    model = random_rnn(30, 3.0, seed=2)
    H0 = np.random.default_rng(7).standard_normal((40, 30))
    kw = dict(n_steps=200, n_transient=50, max_extensions=0)
    g = np.random.default_rng(3)
    halves = [ak.classify_attractors(model, None, initial_states=H0[k:k + 20], rng=g, **kw)
              for k in (0, 20)]  # 20 runs: one batch each, nothing overlaps
    two = ak.classify_attractors(model, None, initial_states=H0, rng=3, **kw)
    five = ak.classify_attractors(model, None, initial_states=H0, max_memory=16 * 200 * 30 * 8,
                                  rng=3, **kw)
    assert (two.label == "chaotic").sum() >= 32  # enough pending runs for 2 and 5 batches

    def whole(name):
        return np.concatenate([getattr(h, name) for h in halves], axis=1)

    for other in (two, five):
        np.testing.assert_array_equal(other.label, whole("label"))
        np.testing.assert_allclose(other.lyapunov, whole("lyapunov"), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(other.final_states, whole("final_states"), rtol=1e-9,
                                   atol=1e-12)
        # what the evidence read from the records: each run's own orbit
        np.testing.assert_allclose(other.location, whole("location"), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(other.evidence.corr_dim,
                                   np.concatenate([h.evidence.corr_dim for h in halves], 1),
                                   rtol=1e-6)
    np.testing.assert_array_equal(five.attractor_id, two.attractor_id)


def test_models_without_kernel_are_never_called_concurrently():
    """Simulation and evidence take turns for a model without a kernel: its step and
    jacobian may not be thread-safe."""
    import threading
    import time

    class Guarded:
        def __init__(self, m):
            self.m, self.n_state, self.n_input = m, m.n_state, m.n_input
            self.time, self.dt = m.time, m.dt
            self.lock, self.inside, self.most = threading.Lock(), 0, 0

        def _call(self, f, h, x):
            with self.lock:
                self.inside += 1
                self.most = max(self.most, self.inside)
            time.sleep(1e-5)  # widen the window a concurrent call would fall into
            try:
                return f(h, x)
            finally:
                with self.lock:
                    self.inside -= 1

        def step(self, h, x):
            return self._call(self.m.step, h, x)

        def jacobian(self, h, x):
            return self._call(self.m.jacobian, h, x)

        def input_jacobian(self, h, x):
            return self._call(self.m.input_jacobian, h, x)

    # a flow: its evidence calls step (the Poincare section's velocities) for every run
    model = Guarded(random_rnn(30, 3.0, seed=2, time="continuous", dt=0.1))
    a = ak.classify_attractors(model, None, n_init=40, n_steps=100, n_transient=20,
                               max_extensions=0, rng=3)
    assert np.isfinite(a.lyapunov[..., 0]).sum() >= 32  # enough runs for two batches
    assert model.most == 1
