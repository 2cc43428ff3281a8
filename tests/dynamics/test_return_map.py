"""The Poincaré return map of a flow as a Model, against closed forms: the Hopf normal form
(whose radial equation integrates exactly) and a rigid rotation on an attracting 2-torus."""

import numpy as np
import pytest
from systems import TorusFlow

import attractorkit as ak
from attractorkit.adapters import CallableModel
from attractorkit.dynamics import ReturnMap
from attractorkit.systems import FrozenInput, Iterate

SECTION = ([0.0, 1.0], 0.0)   # y = 0, crossed upward on the half-line x > 0


def hopf(omega, dt):
    """r' = r (mu - r^2), theta' = omega; the input is mu (with its exact input Jacobian)."""

    def field(h, x):
        r2 = (h ** 2).sum(axis=1, keepdims=True)
        return (x[:, :1] - r2) * h + omega * np.c_[-h[:, 1], h[:, 0]]

    def jacobian(h, x):
        r2 = (h ** 2).sum(axis=1)[:, None, None]
        return ((x[:, :1, None] - r2) * np.eye(2) - 2 * h[:, :, None] * h[:, None, :]
                + omega * np.array([[0.0, -1.0], [1.0, 0.0]]))

    return CallableModel(field, n_state=2, n_input=1, jacobian=jacobian,
                         input_jacobian=lambda h, x: h[:, :, None], time="continuous", dt=dt)


def hopf_return(r0, mu, omega):
    """The exact return map of the Hopf normal form: r(t)^2 = mu / (1 + (mu/r0^2 - 1) e^{-2 mu t})
    after one period 2 pi / omega."""
    decay = np.exp(-4 * np.pi * mu / omega)
    return np.sqrt(mu / (1 + (mu / r0 ** 2 - 1) * decay))


@pytest.mark.parametrize("mu, omega", [(0.25, 2.0), (1.0, 3.0)])
def test_hopf_return_map_is_the_closed_form(mu, omega):
    P = ReturnMap(hopf(omega, 0.01), SECTION)
    assert (P.n_state, P.n_input, P.time, P.dt) == (1, 1, "discrete", None)
    r0 = np.linspace(0.2, 1.6, 8)[:, None]
    np.testing.assert_allclose(P.step(r0, [mu])[:, 0], hopf_return(r0[:, 0], mu, omega),
                               rtol=1e-7)   # the RK4 error at dt = 0.01
    np.testing.assert_allclose(P.return_time(r0, [mu]), 2 * np.pi / omega, rtol=1e-8)
    # the Jacobians by the variational equations against derivatives of the closed form
    eps, r = 1e-6, r0[:, 0]
    dr = (hopf_return(r + eps, mu, omega) - hopf_return(r - eps, mu, omega)) / 2 / eps
    np.testing.assert_allclose(P.jacobian(r0, [mu])[:, 0, 0], dr, rtol=1e-6)
    dmu = (hopf_return(r, mu + eps, omega) - hopf_return(r, mu - eps, omega)) / 2 / eps
    np.testing.assert_allclose(P.input_jacobian(r0, [mu])[:, 0, 0], dmu, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("mu, omega", [(0.25, 2.0), (0.64, 4.0)])
def test_find_fixed_points_on_the_return_map_finds_the_limit_cycle(mu, omega):
    P = ReturnMap(hopf(omega, 0.01), SECTION)
    fps = ak.find_fixed_points(P, [mu], initial_states=np.linspace(0.1, 1.5, 12)[:, None],
                               n_init=12, settle=False, rng=0)
    assert fps.converged.all()
    cycle = np.abs(fps.points[:, 0]) > 1e-12
    assert cycle.sum() == 1
    np.testing.assert_allclose(fps.points[cycle, 0], np.sqrt(mu), rtol=1e-7)  # RK4 at dt=0.01
    np.testing.assert_allclose(fps.eigenvalues[cycle, 0].real, np.exp(-4 * np.pi * mu / omega),
                               rtol=1e-6)
    assert fps.stable[cycle].all()
    # Any other point is the flow's equilibrium r = 0, the limit of the returns as r -> 0
    # (tolerances are absolute there): from r > 0 the map is r e^{2 pi mu / omega}; from
    # r < 0 (x < 0, half a turn to the upward crossing at x > 0) it is -r e^{pi mu / omega}.
    y0 = fps.points[~cycle, 0]
    np.testing.assert_allclose(fps.eigenvalues[~cycle, 0].real,
                               np.where(y0 > 0, np.exp(2 * np.pi * mu / omega),
                                        -np.exp(np.pi * mu / omega)), rtol=1e-6)
    assert not fps.stable[~cycle].any()
    fps = fps.take(np.flatnonzero(cycle))
    # the same cycle through the state space of the flow
    np.testing.assert_allclose(P.lift(fps.points), [[np.sqrt(mu), 0.0]], rtol=1e-7, atol=1e-14)


def test_torus_return_map_is_a_rigid_rotation_with_the_rotation_number():
    """theta1' = w1, theta2' = w2 on the attracting torus of two Hopf oscillators: on
    theta1 = 0 the return map rotates (x2, y2) by 2 pi w2 / w1 and keeps the radii."""
    w1, w2 = 2.0, 2.0 * 2.0 ** 0.5
    flow = TorusFlow(omega1=w1, omega2=w2, mu1=1.0, mu2=0.25, seed=None, dt=0.02)
    P = ReturnMap(flow, ([0, 1, 0, 0], 0.0))
    np.testing.assert_array_equal(P.basis, np.eye(4)[:, [0, 2, 3]])   # y = (x1, x2, y2)
    phi = np.linspace(0, 2 * np.pi, 7, endpoint=False)
    y = np.c_[np.ones(7), 0.5 * np.cos(phi), 0.5 * np.sin(phi)]        # on the torus
    y1 = P.step(y, None)                                               # RK4 at dt = 0.02:
    np.testing.assert_allclose(y1[:, 0], 1.0, rtol=1e-8)                # errors below 1e-6
    np.testing.assert_allclose(np.hypot(y1[:, 1], y1[:, 2]), 0.5, rtol=1e-6)
    turn = np.angle(np.exp(1j * (np.arctan2(y1[:, 2], y1[:, 1]) - phi)))
    np.testing.assert_allclose(turn, np.angle(np.exp(2j * np.pi * w2 / w1)), atol=2e-6)
    np.testing.assert_allclose(P.return_time(y, None), 2 * np.pi / w1, rtol=1e-7)
    # rotation number over many returns (unwrapped angle / returns)
    orbit = ak.simulate(P, y[:1], None, 20).states[0, 0]
    angles = np.unwrap(np.arctan2(orbit[:, 2], orbit[:, 1]))
    assert abs((angles[-1] - angles[0]) / (len(angles) - 1) / (2 * np.pi)
               - (w2 / w1 - 1)) < 1e-6   # w2 / w1 mod 1


def test_lyapunov_spectrum_of_the_torus_return_map():
    """Exponents per return: 0 along the rotation, -2 mu_i T across the two radii
    (T = 2 pi / w1 the return time)."""
    w1, w2, mu1, mu2 = 2.0, 2.0 * 2.0 ** 0.5, 1.0, 0.25
    flow = TorusFlow(omega1=w1, omega2=w2, mu1=mu1, mu2=mu2, seed=None, dt=0.02)
    P = ReturnMap(flow, ([0, 1, 0, 0], 0.0))
    T = 2 * np.pi / w1
    spec = ak.lyapunov_spectrum(P, [1.0, 0.5, 0.0], None, n_steps=60, n_transient=0,
                                n_windows=3, rng=1)
    np.testing.assert_allclose(spec.exponents[0, 0], [0.0, -2 * mu2 * T, -2 * mu1 * T],
                               atol=2e-6)   # the RK4 error at dt = 0.02


def test_rotated_torus_and_a_general_plane():
    """A random rotation of the torus and the plane through its theta1 = 0 half-space:
    the same rotation in the oscillators' own coordinates."""
    w1, w2 = 1.0, 0.5 * (5 ** 0.5 - 1)
    flow = TorusFlow(omega1=w1, omega2=w2, mu1=1.0, mu2=0.25, seed=3, dt=0.01)
    P = ReturnMap(flow, (3.0 * flow.M[:, 1], 0.0))          # any scale of the normal
    np.testing.assert_allclose(P.basis.T @ P.basis, np.eye(3), atol=1e-14)
    np.testing.assert_allclose(P.basis.T @ P.normal, 0.0, atol=1e-14)
    u0 = np.array([[1.0, 0.0, 0.5, 0.0], [1.0, 0.0, 0.0, -0.5]])
    y0 = P.project(u0 @ flow.M.T)
    np.testing.assert_allclose(P.lift(y0), u0 @ flow.M.T, atol=1e-14)
    u1 = P.lift(P.step(y0, None)) @ flow.M
    np.testing.assert_allclose(u1[:, :2], [[1.0, 0.0]] * 2, atol=1e-9)
    turn = np.angle((u1[:, 2] + 1j * u1[:, 3]) / (u0[:, 2] + 1j * u0[:, 3]))
    np.testing.assert_allclose(turn, np.angle(np.exp(2j * np.pi * w2 / w1)), atol=1e-7)
    # the Jacobian in plane coordinates against central differences of the map
    J = P.jacobian(y0, None)
    eps = 1e-6
    fd = np.stack([(P.step(y0 + eps * e, None) - P.step(y0 - eps * e, None)) / (2 * eps)
                   for e in np.eye(3)], axis=2)
    np.testing.assert_allclose(J, fd, atol=1e-7)


def test_composition_with_systems_and_cycles():
    """Derived systems compose: the frozen flow's return map, and its second iterate."""
    flow = hopf(2.0, 0.02)
    P = ReturnMap(FrozenInput(flow, [0.25]), SECTION)
    assert P.n_input == 0
    y = np.array([[0.3], [0.9]])
    np.testing.assert_allclose(Iterate(P, 2).step(y, None)[:, 0],
                               hopf_return(hopf_return(y[:, 0], 0.25, 2.0), 0.25, 2.0),
                               rtol=1e-7)
    M = Iterate(P, 2).jacobian(y, None)
    np.testing.assert_allclose(M, P.jacobian(P.step(y, None), None) @ P.jacobian(y, None),
                               rtol=1e-10)


def test_points_without_a_return_map_to_nan():
    P = ReturnMap(hopf(2.0, 0.05), SECTION, max_time=20.0)
    y = np.array([[0.0], [0.5], [np.nan]])           # the origin is a fixed point of the flow
    out = P.step(y, [0.25])
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all() and np.isnan(out[2]).all()
    assert np.isnan(P.jacobian(y, [0.25])[[0, 2]]).all()
    assert np.isnan(P.return_time(y, [0.25])[[0, 2]]).all()
    # direction -1: the crossings on the half-line x < 0
    down = ReturnMap(hopf(2.0, 0.05), SECTION, direction=-1)
    np.testing.assert_allclose(down.step([[-0.5]], [0.25]), [[-hopf_return(0.5, 0.25, 2.0)]],
                               rtol=2e-6)   # the RK4 error at dt = 0.05


def test_validation_and_repr():
    with pytest.raises(ak.ValidationError, match="needs a flow"):
        ReturnMap(CallableModel(lambda h, x: h, n_state=2, n_input=0,
                                jacobian=lambda h, x: np.repeat(np.eye(2)[None], len(h), 0)),
                  SECTION)
    with pytest.raises(ak.ValidationError, match="direction"):
        ReturnMap(hopf(1.0, 0.1), SECTION, direction=2)
    with pytest.raises(ak.ValidationError, match="normal vector is zero"):
        ReturnMap(hopf(1.0, 0.1), ([0.0, 0.0], 0.0))
    with pytest.raises(ak.ValidationError, match="plane"):
        ReturnMap(hopf(1.0, 0.1), [0.0, 1.0, 0.0])
    P = ReturnMap(hopf(1.0, 0.1), SECTION)
    with pytest.raises(ak.ValidationError, match="width n_state=1"):
        P.step([[0.1, 0.2]], [0.5])
    assert ak.is_model(P) and ak.ReturnMap is ReturnMap
    assert repr(P).startswith("ReturnMap(CallableModel, n_state=1, crossings +")


def test_kernel_flow_agrees_with_its_recorded_section():
    """A tanh flow with a limit cycle (a kernel model: the crossings are searched in numba):
    the return map's fixed point is the section of a long simulated trajectory, and its
    Jacobian matches central differences of the map."""
    from attractorkit.adapters import VanillaRNN

    g, a = 2.0, 0.6
    W = g * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    flow = VanillaRNN(W, U=np.array([[0.3], [-0.2]]), activation="tanh", time="continuous",
                      dt=0.02)
    tr = ak.simulate(flow, [[0.5, 0.0]], [0.1], 4000, n_transient=4000)
    X = tr.states[0, 0]
    sec = ak.poincare_section(X, plane=([0.0, 1.0], 0.0), dt=0.02,
                              velocities=flow.step(X, np.full((len(X), 1), 0.1)))
    P = ReturnMap(flow, SECTION)
    fps = ak.find_fixed_points(P, [0.1], initial_states=sec.points[:, :1], n_init=4,
                               settle=False, rng=0)
    cycle = np.abs(fps.points[:, 0]) > 1e-9
    assert sec.n_points > 5 and cycle.sum() == 1 and fps.stable[cycle].all()
    np.testing.assert_allclose(fps.points[cycle, 0], sec.points[-1, 0], rtol=1e-6)
    np.testing.assert_allclose(P.return_time(fps.points[cycle], [0.1]),
                               sec.return_times()[-1], rtol=1e-6)
    y = np.array([[0.4], [0.9]])
    fd = (P.step(y + 1e-6, [0.1]) - P.step(y - 1e-6, [0.1])) / 2e-6
    np.testing.assert_allclose(P.jacobian(y, [0.1])[:, :, 0], fd, rtol=1e-6)
    fdx = (P.step(y, [0.1 + 1e-6]) - P.step(y, [0.1 - 1e-6])) / 2e-6
    np.testing.assert_allclose(P.input_jacobian(y, [0.1])[:, :, 0], fdx, rtol=1e-5)
