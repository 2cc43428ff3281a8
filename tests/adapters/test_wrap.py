"""adapters.wrap dispatches every kind of object to its adapter."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import KernelModel, ModelTypeError, ValidationError, adapters
from attractorkit.adapters import CallableModel, JaxModel, TorchModel, VanillaRNN


def test_dispatch():
    torch = pytest.importorskip("torch")
    jax = pytest.importorskip("jax")
    rnn = VanillaRNN(np.eye(2) * 0.5)
    assert adapters.wrap(rnn) is rnn
    assert isinstance(adapters.wrap(rnn.kernel), KernelModel)
    assert isinstance(adapters.wrap(torch.nn.GRU(2, 3)), TorchModel)
    jitted = jax.jit(lambda h, x: 0.5 * h)
    model = adapters.wrap(jitted, n_state=2, n_input=0)
    assert isinstance(model, JaxModel)
    ak.check_model(model)
    forced = adapters.wrap(lambda h, x: 0.5 * h, framework="jax", n_state=2, n_input=0)
    assert isinstance(forced, JaxModel)
    tfn = adapters.wrap(lambda h, x: 0.5 * h, framework="torch", n_state=2, n_input=0)
    assert isinstance(tfn, TorchModel)
    ak.check_model(tfn)
    jac = lambda h, x: np.broadcast_to(0.5 * np.eye(2), (len(h), 2, 2))  # noqa: E731
    plain = adapters.wrap(lambda h, x: 0.5 * h, n_state=2, n_input=0, jacobian=jac)
    assert isinstance(plain, CallableModel)


def test_errors():
    with pytest.raises(ModelTypeError, match="cannot use a str as a model; supported"):
        adapters.wrap("rnn.pt")
    with pytest.raises(ValidationError, match="already a Model"):
        adapters.wrap(VanillaRNN(np.eye(2)), n_state=2)
    with pytest.raises(ValidationError, match="framework: expected one of"):
        adapters.wrap(lambda h, x: h, framework="flax")


def test_public_names():
    for name in ("VanillaRNN", "GRU", "LSTM", "TorchModel", "JaxModel", "CallableModel",
                 "wrap"):
        assert name in adapters.__all__ and getattr(adapters, name) is not None
