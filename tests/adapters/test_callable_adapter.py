"""CallableModel: user Jacobians, finite differences with one warning, validation."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import FiniteDifferenceWarning, ModelTypeError, ValidationError
from attractorkit.adapters import CallableModel


def henon(h, x):
    return np.stack([1 - x[:, 0] * h[:, 0] ** 2 + h[:, 1], 0.3 * h[:, 0]], axis=1)


def henon_jac(h, x):
    B = len(h)
    J = np.zeros((B, 2, 2))
    J[:, 0, 0] = -2 * x[:, 0] * h[:, 0]
    J[:, 0, 1] = 1.0
    J[:, 1, 0] = 0.3
    return J


def henon_ijac(h, x):
    out = np.zeros((len(h), 2, 1))
    out[:, 0, 0] = -h[:, 0] ** 2
    return out


def test_analytic_jacobians_pass_check_model():
    model = CallableModel(henon, n_state=2, n_input=1, jacobian=henon_jac,
                          input_jacobian=henon_ijac)
    ak.check_model(model, rng=0)


def test_finite_differences_warn_once_and_are_accurate(rng):
    model = CallableModel(henon, n_state=2, n_input=1)
    H, X = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    with pytest.warns(FiniteDifferenceWarning, match="finite differences") as rec:
        J = model.jacobian(H, X)
        Jx = model.input_jacobian(H, X)
        ak.check_model(model, rng=0)
    assert len([w for w in rec if issubclass(w.category, FiniteDifferenceWarning)]) == 1
    np.testing.assert_allclose(J, henon_jac(H, X), atol=1e-9)
    np.testing.assert_allclose(Jx, henon_ijac(H, X), atol=1e-9)
    with pytest.warns(FiniteDifferenceWarning):     # a new instance warns again
        CallableModel(henon, n_state=2, n_input=1).jacobian(H, X)


def test_per_sample_callables(rng):
    def step(h, x):
        return np.tanh(np.array([[0.5, 1.0], [-1.0, 0.2]]) @ h + x)

    def jac(h, x):
        W = np.array([[0.5, 1.0], [-1.0, 0.2]])
        return (1 - np.tanh(W @ h + x) ** 2)[:, None] * W

    model = CallableModel(step, n_state=2, n_input=2, jacobian=jac, vectorized=False,
                          input_jacobian=lambda h, x: np.diag(1 - np.tanh(
                              np.array([[0.5, 1.0], [-1.0, 0.2]]) @ h + x) ** 2))
    ak.check_model(model, rng=0)


def test_flow_needs_dt_and_errors():
    with pytest.raises(ValidationError, match="dt: a flow"):
        CallableModel(henon, n_state=2, n_input=1, time="continuous")
    with pytest.raises(ModelTypeError, match="jacobian: expected a callable"):
        CallableModel(henon, n_state=2, n_input=1, jacobian=np.eye(2))
    model = CallableModel(lambda h, x: h[:, :1], n_state=2, n_input=0)
    with pytest.raises(ValidationError, match=r"step: returned shape \(3, 1\), expected \(3, 2\)"):
        model.step(np.zeros((3, 2)), None)
    model = CallableModel(lambda h, x: h.astype(complex), n_state=2, n_input=0)
    with pytest.raises(ValidationError, match="expected real float output"):
        model.step(np.zeros((3, 2)), None)
    flow = CallableModel(lambda h, x: -h, n_state=2, n_input=0, time="continuous", dt=0.1,
                         jacobian=lambda h, x: -np.broadcast_to(np.eye(2), (len(h), 2, 2)))
    ak.check_model(flow)
