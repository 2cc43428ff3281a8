"""check_model: passes correct models, fails each kind of broken model with a precise message."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import ModelCheckError
from attractorkit.adapters import VanillaRNN


class Linear:
    """h' = A h + B x, written directly against the protocol; attributes break it on demand."""

    time = "discrete"
    dt = None

    def __init__(self, n=3, m=2, seed=0, **breaks):
        rng = np.random.default_rng(seed)
        self.A = rng.normal(size=(n, n)) / 2
        self.B = rng.normal(size=(n, m))
        self.n_state, self.n_input = n, m
        self.breaks = breaks
        self.calls = 0

    def step(self, h, x):
        self.calls += 1
        out = h @ self.A.T + x @ self.B.T
        if self.breaks.get("random"):
            out = out + 1e-9 * np.random.default_rng(self.calls).normal(size=out.shape)
        if self.breaks.get("batch"):
            out = out + h.mean(axis=0)
        if self.breaks.get("mutate"):
            h += 1.0
        if self.breaks.get("float32"):
            out = out.astype(np.float32)
        if self.breaks.get("nan"):
            out[0, 0] = np.nan
        if self.breaks.get("shape"):
            out = out[:, :-1]
        return out

    def jacobian(self, h, x):
        J = np.broadcast_to(self.A, (len(h),) + self.A.shape).copy()
        if self.breaks.get("jac"):
            J[:, 0, 1] += 1e-3
        return J

    def input_jacobian(self, h, x):
        Jx = np.broadcast_to(self.B, (len(h),) + self.B.shape).copy()
        if self.breaks.get("ijac"):
            Jx = Jx.transpose(0, 2, 1)[:, : self.n_state, : self.n_input] \
                if self.n_state == self.n_input else Jx * 1.01
        return Jx


def test_passes_a_correct_model():
    assert ak.check_model(Linear(), rng=0) is None


@pytest.mark.parametrize("brk, pattern", [
    ("random", "not deterministic"),
    ("batch", "not batch independent"),
    ("mutate", "modified its arguments"),
    ("float32", "dtype float32, expected float64"),
    ("nan", "NaN/Inf"),
    ("shape", r"step\(h, x\) returned shape \(4, 2\), expected \(4, 3\)"),
    ("jac", r"jacobian disagrees .* dF\[0\]/dh\[1\]"),
    ("ijac", "input_jacobian disagrees"),
])
def test_detects_each_breach(brk, pattern):
    with pytest.raises(ModelCheckError, match=pattern):
        ak.check_model(Linear(**{brk: True}), rng=0)


def test_protocol_members_and_attributes():
    class NoJac:
        n_state, n_input, time, dt = 2, 0, "discrete", None

        def step(self, h, x):
            return h

    with pytest.raises(ModelCheckError, match="lacks the Model member.*jacobian"):
        ak.check_model(NoJac())
    m = Linear()
    m.time = "continuous"
    with pytest.raises(ModelCheckError, match="needs a finite dt > 0, found None"):
        ak.check_model(m)
    m = Linear()
    m.dt = 0.1
    with pytest.raises(ModelCheckError, match="must have dt None"):
        ak.check_model(m)
    m = Linear()
    m.n_state = 3.0
    with pytest.raises(ModelCheckError, match="n_state must be an int"):
        ak.check_model(m)


def test_kernel_must_agree_with_step():
    class WithKernel:
        def __init__(self, model, kernel):
            self.model, self.kernel = model, kernel
            self.n_state, self.n_input = model.n_state, model.n_input
            self.time, self.dt = model.time, model.dt
            self.step, self.jacobian = model.step, model.jacobian
            self.input_jacobian = model.input_jacobian

    good = VanillaRNN(np.eye(2) * 0.5, np.ones((2, 1)))
    other = VanillaRNN(np.eye(2) * 0.6, np.ones((2, 1)))
    ak.check_model(WithKernel(good, good.kernel))
    with pytest.raises(ModelCheckError, match="kernel's step differs"):
        ak.check_model(WithKernel(good, other.kernel))
    with pytest.raises(ModelCheckError, match="kernel must be a KernelSpec"):
        ak.check_model(WithKernel(good, "spec"))
    wide = VanillaRNN(np.eye(3) * 0.5, np.ones((3, 1)))
    with pytest.raises(ModelCheckError, match="kernel describes n_state=3"):
        ak.check_model(WithKernel(good, wide.kernel))


class Sawtooth:
    """A triangle wave with kinks every 2e-5: finite differences cross kinks at most points."""

    n_state, n_input, time, dt = 2, 0, "discrete", None

    def __init__(self, wrong=False):
        self.wrong = wrong

    def step(self, h, x):
        p = 4e-5
        return np.abs((h / p) % 1.0 - 0.5) * p * 10 + 0.5 * h

    def jacobian(self, h, x):
        p = 4e-5
        slope = np.where((h / p) % 1.0 < 0.5, -10.0, 10.0) + 0.5
        if self.wrong:
            slope = slope + 0.1
        return np.stack([np.diag(s) for s in slope])

    def input_jacobian(self, h, x):
        return np.zeros((len(h), 2, 0))


def test_kinks_are_resampled_not_reported():
    ak.check_model(Sawtooth(), rng=3)
    with pytest.raises(ModelCheckError, match="jacobian disagrees"):
        ak.check_model(Sawtooth(wrong=True), rng=3)


def test_relu_model_passes_even_with_zero_bias():
    rng = np.random.default_rng(1)
    model = VanillaRNN(rng.normal(size=(20, 20)) / 4, rng.normal(size=(20, 3)),
                       activation="relu")
    ak.check_model(model, rng=0)


def test_discontinuous_everywhere_is_reported():
    class Step:
        n_state, n_input, time, dt = 1, 0, "discrete", None

        def step(self, h, x):
            return 1e-3 * np.sin(h * 1e9)

        def jacobian(self, h, x):
            return np.zeros((len(h), 1, 1))

        def input_jacobian(self, h, x):
            return np.zeros((len(h), 1, 0))

    with pytest.raises(ModelCheckError, match="not differentiable"):
        ak.check_model(Step(), rng=0)


def test_options_are_validated():
    with pytest.raises(ak.ValidationError, match="n_points: expected an integer >= 1"):
        ak.check_model(Linear(), n_points=0)
    with pytest.raises(ak.ValidationError, match="atol: expected a finite number > 0"):
        ak.check_model(Linear(), atol=-1.0)
    with pytest.raises(ak.ValidationError, match="rng: expected None, an int seed"):
        ak.check_model(Linear(), rng="seed")
