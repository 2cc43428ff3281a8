"""The de-duplication radius follows the state's size, and every reported point's Jacobian is
linearised once per call (the saddle step and the result share the eigen-decomposition)."""

import numpy as np
import pytest
import scipy.optimize
from fp_systems import NoKernel

import attractorkit as ak
from attractorkit.adapters import VanillaRNN

_XI = np.sign(np.random.default_rng(0).normal(size=20))
_MSTAR = scipy.optimize.brentq(lambda m: np.tanh(2 * m) - m, 0.5, 1.5)   # m* = tanh(2 m*)


class ScaledHopfield:
    """h' = s tanh(W h / s), W = 2 xi xi^T / 20: the Hopfield network (fixed points 0 and
    +-m* xi) with its states scaled by s (fixed points s * {0, +-m* xi}, closed form)."""

    n_state, n_input, time, dt = 20, 0, "discrete", None

    def __init__(self, s):
        self.s, self.W = s, 2.0 * np.outer(_XI, _XI) / 20

    def step(self, h, x):
        return self.s * np.tanh(h @ self.W.T / self.s)

    def jacobian(self, h, x):
        return (1 - np.tanh(h @ self.W.T / self.s) ** 2)[:, :, None] * self.W[None]

    def input_jacobian(self, h, x):
        return np.zeros((len(h), 20, 0))


@pytest.mark.parametrize("s", [1e-7, 1.0, 1e4])
def test_three_points_at_every_state_size(s):
    """At s = 1e-7 the three points are 1e-7 apart: a radius of 1e-6 (absolute, as
    ``max(1, max|h|)`` made it) merged them into one; relative to the state's size they stay
    three, at every scale."""
    fp = ak.find_fixed_points(ScaledHopfield(s), n_init=64, rng=0)
    truth = s * np.array([-_MSTAR * _XI, 0 * _XI, _MSTAR * _XI])
    assert len(fp) == 3
    order = np.argsort(fp.points[:, 0] * _XI[0])
    np.testing.assert_allclose(fp.points[order], truth, rtol=0, atol=1e-9 * s)
    assert fp.scale.shape == (1,) and np.all(fp.scale > 0)
    # merging at a radius of twice the points' distance (relative to the state's size)
    assert len(fp.unique(2.0 * _MSTAR * s / fp.scale[0])) == 1


class Recording(NoKernel):
    """A model that records every state its Jacobian is evaluated at."""

    def __init__(self, model):
        super().__init__(model)
        self.seen = []

    def jacobian(self, h, x):
        self.seen.extend(np.ascontiguousarray(h).tobytes(order="C")[i * h.shape[1] * 8:
                                                                     (i + 1) * h.shape[1] * 8]
                         for i in range(len(h)))
        return super().jacobian(h, x)


def test_each_reported_point_is_linearised_once():
    """A Hopfield network with two patterns (stable points and saddles between them): the
    saddle step needs the linearisation of the unique points before the result does; each
    reported point's Jacobian is evaluated (and eigen-decomposed) once in the whole call."""
    rng = np.random.default_rng(1)
    xis = rng.choice([-1.0, 1.0], (2, 12))
    model = Recording(VanillaRNN(2.5 * xis.T @ xis / 12, activation="tanh"))
    fp = ak.find_fixed_points(model, n_init=64, rng=0)
    assert (fp.label == "saddle").any() and fp.stable.any()
    seen = {}
    for key in model.seen:
        seen[key] = seen.get(key, 0) + 1
    counts = [seen.get(np.ascontiguousarray(p).tobytes(), 0) for p in fp.points]
    assert counts == [1] * len(fp)
    # the same linearisation as a separate call computes
    st = ak.linear_stability(model, fp.points, np.zeros((len(fp), 0)))
    np.testing.assert_array_equal(st.eigenvalues, fp.eigenvalues)
    np.testing.assert_array_equal(st.modes, fp.stability.modes)
