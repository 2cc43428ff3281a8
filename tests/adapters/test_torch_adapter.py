"""TorchModel against torch's own forward and autograd, in float64."""

import sys

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import MissingDependencyError, ModelTypeError, ValidationError
from attractorkit.adapters import TorchModel

torch = pytest.importorskip("torch")
nn = torch.nn
F64 = torch.float64

STACKED = [
    ("rnn-tanh-1", lambda: nn.RNN(3, 5, nonlinearity="tanh", dtype=F64)),
    ("rnn-relu-2", lambda: nn.RNN(3, 5, num_layers=2, nonlinearity="relu", dtype=F64)),
    ("rnn-nobias-bf", lambda: nn.RNN(3, 4, num_layers=2, bias=False, batch_first=True,
                                     dtype=F64)),
    ("gru-1", lambda: nn.GRU(3, 4, dtype=F64)),
    ("gru-3", lambda: nn.GRU(3, 4, num_layers=3, dtype=F64)),
    ("gru-wide-input", lambda: nn.GRU(7, 2, num_layers=2, dtype=F64)),
    ("lstm-1", lambda: nn.LSTM(3, 4, dtype=F64)),
    ("lstm-2-bf", lambda: nn.LSTM(3, 4, num_layers=2, batch_first=True, dtype=F64)),
    ("lstm-nobias", lambda: nn.LSTM(2, 3, num_layers=2, bias=False, dtype=F64)),
]
CELLS = [
    ("rnncell-tanh", lambda: nn.RNNCell(3, 5, dtype=F64)),
    ("rnncell-relu", lambda: nn.RNNCell(3, 5, nonlinearity="relu", dtype=F64)),
    ("grucell", lambda: nn.GRUCell(3, 4, dtype=F64)),
    ("lstmcell", lambda: nn.LSTMCell(3, 4, dtype=F64)),
    ("lstmcell-nobias", lambda: nn.LSTMCell(3, 4, bias=False, dtype=F64)),
]


def torch_step(module, model, flat, x):
    """One step through the module's own forward, in model's flat layout (numpy in/out)."""
    state = model.unflatten_state(flat)
    xt = torch.from_numpy(x)
    with torch.no_grad():
        if isinstance(module, (nn.RNNCell, nn.GRUCell, nn.LSTMCell)):
            new = module(xt, state)
        else:
            seq = xt[:, None, :] if module.batch_first else xt[None]
            new = module(seq, state)[1]
    return model.flatten_state(new)


def flat_fn(module, model):
    """A one-sample torch function flat h, x -> flat h' built on the module's own forward."""
    is_cell = isinstance(module, (nn.RNNCell, nn.GRUCell, nn.LSTMCell))
    lstm = isinstance(module, (nn.LSTM, nn.LSTMCell))
    L = 1 if is_cell else module.num_layers
    H = module.hidden_size
    shape = (1, H) if is_cell else (L, 1, H)

    def f(h, x):
        if lstm:
            st = (h[:L * H].reshape(shape), h[L * H:].reshape(shape))
        else:
            st = h.reshape(shape)
        if is_cell:
            new = module(x[None], st)
        else:
            new = module(x.reshape(1, 1, -1), st)[1]
        if lstm:
            return torch.cat([new[0].reshape(-1), new[1].reshape(-1)])
        return new.reshape(-1)
    return f


@pytest.mark.parametrize("name, make", STACKED + CELLS, ids=[n for n, _ in STACKED + CELLS])
def test_standard_modules_match_torch(rng, name, make):
    torch.manual_seed(0)
    module = make()
    model = TorchModel(module)
    assert model.kernel is not None
    ak.check_model(model, rng=0)
    B = 4
    H = rng.normal(size=(B, model.n_state))
    X = rng.normal(size=(B, model.n_input))
    np.testing.assert_allclose(model.step(H, X), torch_step(module, model, H, X),
                               rtol=1e-12, atol=1e-12)
    f = flat_fn(module, model)
    Ht, Xt = torch.from_numpy(H), torch.from_numpy(X)
    J = np.stack([torch.func.jacrev(f, argnums=0)(Ht[b], Xt[b]).detach().numpy()
                  for b in range(B)])
    Jx = np.stack([torch.func.jacrev(f, argnums=1)(Ht[b], Xt[b]).detach().numpy()
                   for b in range(B)])
    np.testing.assert_allclose(model.jacobian(H, X), J, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(model.input_jacobian(H, X), Jx, rtol=1e-10, atol=1e-10)


class GRUStep(nn.Module):
    """A generic one-step module around a GRUCell: the torch.func path."""

    def __init__(self, cell):
        super().__init__()
        self.cell = cell

    def forward(self, h, x):
        return self.cell(x[None], h[None])[0]


def test_kernel_path_equals_autograd_path(rng):
    torch.manual_seed(1)
    cell = nn.GRUCell(3, 6)                                   # float32 on purpose
    kern = TorchModel(cell)
    func = TorchModel(GRUStep(cell), n_state=6, n_input=3)
    assert kern.kernel is not None and func.kernel is None
    ak.check_model(func, rng=0)
    H, X = rng.normal(size=(5, 6)), rng.normal(size=(5, 3))
    np.testing.assert_allclose(func.step(H, X), kern.step(H, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(func.jacobian(H, X), kern.jacobian(H, X), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(func.input_jacobian(H, X), kern.input_jacobian(H, X),
                               rtol=1e-10, atol=1e-10)


class LSTMStep(nn.Module):
    """A generic one-step module around a stacked nn.LSTM, in attractorkit's flat layout."""

    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, h, x):
        L, H = self.lstm.num_layers, self.lstm.hidden_size
        state = (h[:L * H].reshape(L, 1, H), h[L * H:].reshape(L, 1, H))
        hn, cn = self.lstm(x.reshape(1, 1, -1), state)[1]
        return torch.cat([hn.reshape(-1), cn.reshape(-1)])


def test_stacked_lstm_kernel_equals_autograd_path(rng):
    torch.manual_seed(3)
    lstm = nn.LSTM(2, 3, num_layers=2)
    kern = TorchModel(lstm)
    func = TorchModel(LSTMStep(lstm), n_state=12, n_input=2)
    ak.check_model(func, rng=0, n_points=2)
    assert not func._fn.use_vmap            # nn.LSTM has no vmap rule: per-sample fallback
    H, X = rng.normal(size=(3, 12)), rng.normal(size=(3, 2))
    np.testing.assert_allclose(func.step(H, X), kern.step(H, X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(func.jacobian(H, X), kern.jacobian(H, X), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(func.input_jacobian(H, X), kern.input_jacobian(H, X),
                               rtol=1e-10, atol=1e-10)


def _snapshot(module):
    return ({k: v.detach().clone() for k, v in module.state_dict().items()},
            {k: (p.requires_grad, p.dtype, p.device) for k, p in module.named_parameters()},
            [m.training for m in module.modules()])


def _assert_same(module, snap):
    values, flags, modes = snap
    for k, v in module.state_dict().items():
        assert v.dtype == values[k].dtype and torch.equal(v, values[k])
    assert {k: (p.requires_grad, p.dtype, p.device)
            for k, p in module.named_parameters()} == flags
    assert [m.training for m in module.modules()] == modes
    assert all(p.grad is None for p in module.parameters())


class Dropped(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.inp = nn.Linear(2, 4, bias=False)
        self.drop = nn.Dropout(0.5)
        self.norm = nn.LayerNorm(4)

    def forward(self, h, x):
        return torch.tanh(self.norm(self.drop(self.lin(h)) + self.inp(x)))


@pytest.mark.parametrize("make, kw", [
    (lambda: nn.LSTM(3, 4, num_layers=2, dropout=0.3), {}),
    (Dropped, {"n_state": 4, "n_input": 2}),
])
def test_callers_module_is_unchanged(rng, make, kw):
    torch.manual_seed(2)
    module = make().train()
    first = next(module.parameters())
    first.requires_grad_(False)
    snap = _snapshot(module)
    model = TorchModel(module, **kw)
    ak.check_model(model, rng=0)             # deterministic although the module is in training
    model.jacobian(rng.normal(size=(2, model.n_state)), rng.normal(size=(2, model.n_input)))
    _assert_same(module, snap)


def test_flatten_state_layouts(rng):
    lstm = nn.LSTM(2, 3, num_layers=2)
    model = TorchModel(lstm)
    h, c = torch.randn(2, 5, 3), torch.randn(2, 5, 3)
    flat = model.flatten_state((h, c))
    assert flat.shape == (5, 12) and flat.dtype == np.float64
    np.testing.assert_allclose(flat[2, 3:6], h[1, 2].numpy(), rtol=1e-7)
    np.testing.assert_allclose(flat[2, 6:9], c[0, 2].numpy(), rtol=1e-7)
    h2, c2 = model.unflatten_state(flat)
    assert h2.dtype == torch.float32 and h2.shape == (2, 5, 3)
    assert torch.equal(h2, h) and torch.equal(c2, c)
    cell = TorchModel(nn.GRUCell(2, 3))
    flat = cell.flatten_state(torch.ones(4, 3))
    assert flat.shape == (4, 3) and cell.unflatten_state(flat).shape == (4, 3)
    assert cell.flatten_state(torch.ones(3)).shape == (1, 3)


def test_plain_function_path(rng):
    W = torch.from_numpy(rng.normal(size=(3, 3)))

    def step(h, x):
        return torch.sin(W @ h) + x

    model = TorchModel(step, n_state=3, n_input=3, time="continuous", dt=0.05)
    ak.check_model(model, rng=0)
    h = rng.normal(size=(2, 3))
    J = model.jacobian(h, np.zeros((2, 3)))
    np.testing.assert_allclose(J[0], np.cos(W.numpy() @ h[0])[:, None] * W.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(model.input_jacobian(h, np.zeros((2, 3)))[1], np.eye(3))


def test_errors():
    with pytest.raises(ModelTypeError, match="bidirectional"):
        TorchModel(nn.GRU(2, 3, bidirectional=True))
    with pytest.raises(ModelTypeError, match="proj_size=2 is not supported"):
        TorchModel(nn.LSTM(2, 3, proj_size=2))
    with pytest.raises(ModelTypeError, match=r"supported: nn.RNN.*pass n_state= and n_input="):
        TorchModel(nn.Linear(3, 3))
    with pytest.raises(ModelTypeError, match="cannot build a TorchModel from int"):
        TorchModel(3)
    with pytest.raises(ValidationError, match="n_state, n_input: required"):
        TorchModel(lambda h, x: h)
    with pytest.raises(ValidationError, match="n_state: GRU has n_state=3, received 4"):
        TorchModel(nn.GRU(2, 3), n_state=4)
    with pytest.raises(ValidationError, match="discrete-time map"):
        TorchModel(nn.GRU(2, 3), time="continuous", dt=0.1)
    rnn = nn.RNN(2, 3)
    with torch.no_grad():
        rnn.weight_hh_l0[0, 0] = float("nan")
    with pytest.raises(ValidationError, match="module.weight_hh: expected finite values"):
        TorchModel(rnn)
    bad = TorchModel(lambda h, x: h[:2], n_state=3, n_input=0)
    with pytest.raises(ValidationError, match=r"shape \(3,\) per sample, received \(2, 2\)"):
        bad.step(np.zeros((2, 3)), None)
    broken = TorchModel(lambda h, x: h.item() * h, n_state=3, n_input=0)
    with pytest.raises(ModelTypeError, match="ONE sample"):
        broken.step(np.zeros((2, 3)), None)


def test_missing_torch_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'attractorkit\[torch\]'"):
        TorchModel(object())


def test_numpy_adapters_accept_torch_tensors(rng):
    from attractorkit.adapters import GRU

    cell = nn.GRUCell(2, 3)                         # parameters require grad
    model = GRU(cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    H, X = rng.normal(size=(2, 3)), rng.normal(size=(2, 2))
    np.testing.assert_allclose(model.step(H, X), TorchModel(cell).step(H, X), rtol=1e-12)
