"""The ReLU RNN: initialisation, matched seeds, forward pass, export and persistence."""

import numpy as np
import pytest
import torch

from attractorkit import ResultFileError, ValidationError
from attractorkit.reference_models.networks import ReLURNN, load_network, save_network
from attractorkit.reference_models.packed import PackedTrials, relu_rnn_packed

pytestmark = pytest.mark.study


def test_initialisation_ranges_and_matched_seeds():
    sl = ReLURNN(7, 40, 3, delta=0.05, critic=False, seed=3)
    rl = ReLURNN(7, 40, 3, delta=0.05, critic=True, seed=3)
    for name in ("W", "U", "b"):
        p = getattr(sl, name).detach()
        assert p.abs().max() <= 0.05 and p.abs().max() > 0.04  # fills U(-delta, delta)
        torch.testing.assert_close(p, getattr(rl, name).detach(), rtol=0, atol=0)
    torch.testing.assert_close(sl.readout_weight, rl.readout_weight, rtol=0, atol=0)
    assert rl.readout_weight.abs().max() <= 0.1 and rl.value_weight.abs().max() <= 0.1
    other = ReLURNN(7, 40, 3, delta=0.05, seed=4)
    assert not torch.equal(other.W, sl.W)
    state = torch.random.get_rng_state()
    ReLURNN(7, 40, 3, seed=1)
    assert torch.equal(state, torch.random.get_rng_state())  # global RNG untouched


def test_forward_is_the_recurrence_and_export_is_the_same_map():
    net = ReLURNN(5, 30, 4, delta=0.3, critic=True, seed=0)
    x = torch.rand(6, 9, 5)
    h, logits, value = net(x)
    assert h.shape == (6, 9, 30) and logits.shape == (6, 9, 4) and value.shape == (6, 9)
    ref = torch.zeros(6, 30)
    for t in range(9):
        ref = net.step(ref, x[:, t])
        torch.testing.assert_close(h[:, t], ref, rtol=1e-5, atol=1e-6)
    model = net.to_model()
    assert model.n_state == 30 and model.n_input == 5 and model.time == "discrete"
    np.testing.assert_array_equal(model.W, net.W.detach().double().numpy())
    np.testing.assert_array_equal(model.U, net.U.detach().double().numpy())
    h_np = np.zeros((6, 30))
    for t in range(9):
        h_np = model.step(h_np, x[:, t].double().numpy())
    np.testing.assert_allclose(h_np, h[:, -1].detach().double().numpy(), rtol=1e-4, atol=1e-5)
    w, b = net.readout_weights()
    assert w.shape == (4, 30) and b.dtype == np.float64


def test_save_load_round_trip(tmp_path):
    net = ReLURNN(7, 20, 3, delta=0.1, critic=True, seed=2)
    with torch.no_grad():
        net.W.mul_(1.5)
    path = save_network(net, tmp_path / "net", {"accuracy": 0.5})
    assert path.name == "net.safetensors" and (tmp_path / "net.json").is_file()
    for p in (path, tmp_path / "net.json", tmp_path / "net"):
        back, meta = load_network(p)
        assert meta["accuracy"] == 0.5 and meta["architecture"]["critic"] is True
        for k, v in net.state_dict().items():
            assert torch.equal(v, back.state_dict()[k]), k
    with pytest.raises(ResultFileError, match="does not exist"):
        load_network(tmp_path / "missing")
    (tmp_path / "bad.json").write_text("{}")
    save_network(net, tmp_path / "bad2")
    (tmp_path / "bad2.json").write_text('{"architecture": {}}')
    with pytest.raises(ResultFileError, match="not a readable"):
        load_network(tmp_path / "bad2")


@pytest.mark.parametrize("kw, match", [({"delta": -0.1}, "delta"), ({"delta": 0.0}, "delta"),
                                       ({"n_hidden": 0}, "n_hidden"), ({"seed": -1}, "seed")])
def test_invalid_network_arguments(kw, match):
    with pytest.raises(ValidationError, match=match):
        ReLURNN(7, **{"n_hidden": 10, **kw})


def _padded_reference(net, x, lengths):
    """Autograd through torch.rnn_relu on the padded batch, the packed steps' rows."""
    h, logits, value = net(x)
    valid = torch.arange(x.shape[1])[None] < torch.as_tensor(lengths)[:, None]
    return h, logits, value, valid


@pytest.mark.parametrize("lengths, T", [([5, 1, 9, 9, 3, 7], 9), ([4], 6), ([2, 2, 2], 2)])
def test_packed_trials_layout_and_round_trip(lengths, T):
    p = PackedTrials(lengths, T)
    assert p.n_rows == sum(lengths) and p.n_trials == len(lengths) and p.n_steps == T
    assert p.batch_sizes == tuple(sum(L > t for L in lengths) for t in range(max(lengths)))
    x = torch.randn(len(lengths), T, 3)
    rows = p.pack(x)
    np.testing.assert_array_equal(p.pack(x.numpy()), rows.numpy())  # numpy and torch agree
    back = p.unpack(rows, fill=-7.0)
    valid = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    assert torch.equal(back[valid], x[valid]) and torch.all(back[~valid] == -7.0)
    # time-major: each step's rows hold its running trials, longest first (stable)
    order = np.argsort(-np.asarray(lengths), kind="stable")
    flat = p.index.numpy()
    for t, (o, n) in enumerate(zip(p.offsets, p.batch_sizes)):
        np.testing.assert_array_equal(flat[o:o + n], order[:n] * T + t)
    # prev: the row one step earlier of the same trial
    later = flat[p.batch_sizes[0]:]
    np.testing.assert_array_equal(flat[p.prev.numpy()], later - 1)


def test_packed_trials_validation():
    for bad in ([], [3, 0], [[1, 2]], [1.5]):
        with pytest.raises(ValidationError, match="lengths"):
            PackedTrials(bad)
    with pytest.raises(ValidationError, match="n_steps"):
        PackedTrials([3, 5], 4)
    p = PackedTrials([3, 5])
    with pytest.raises(ValidationError, match="x"):
        p.pack(torch.zeros(2, 4, 1))
    with pytest.raises(ValidationError, match="rows"):
        p.unpack(torch.zeros(7))
    with pytest.raises(ValidationError, match="packed rows"):
        relu_rnn_packed(torch.zeros(7, 2), torch.zeros(3, 2), torch.zeros(3, 3), torch.zeros(3),
                        p)


@pytest.mark.parametrize("seed", [0, 1])
def test_packed_forward_and_gradient_equal_autograd_on_the_padded_batch(seed):
    g = torch.Generator().manual_seed(seed)
    net = ReLURNN(5, 40, 3, delta=0.4, critic=True, seed=seed)
    lengths = [12, 3, 7, 12, 1, 9, 5]
    x = torch.rand(len(lengths), 14, 5, generator=g)
    p = PackedTrials(lengths, 14)
    h, logits, value = net.forward_packed(p.pack(x), p)
    H, L, V, valid = _padded_reference(net, x, lengths)
    assert 0.2 < (h > 0).float().mean() < 0.8  # the ReLU mask matters in this test
    torch.testing.assert_close(p.unpack(h)[valid], H[valid], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(p.unpack(logits)[valid], L[valid], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(p.unpack(value)[valid], V[valid], rtol=1e-5, atol=1e-6)
    # a loss reading every kind of output on the trials' own steps
    wh = torch.randn(h.shape, generator=g)
    wl = torch.randn(logits.shape, generator=g)
    wv = torch.randn(value.shape, generator=g)
    grads = torch.autograd.grad((h * wh).sum() + (logits * wl).sum() + (value * wv).sum(),
                                list(net.parameters()))
    loss_ref = ((H * p.unpack(wh))[valid].sum() + (L * p.unpack(wl))[valid].sum()
                + (V * p.unpack(wv))[valid].sum())
    refs = torch.autograd.grad(loss_ref, list(net.parameters()))
    for (name, _), a, b in zip(net.named_parameters(), grads, refs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)
        assert b.abs().max() > 0, name
    # the input gradient too
    xp = p.pack(x).requires_grad_()
    hx = relu_rnn_packed(xp, net.U, net.W, net.b, p)
    (gx,) = torch.autograd.grad((hx * wh).sum(), xp)
    xr = x.clone().requires_grad_()
    (gr,) = torch.autograd.grad((net.recurrent(xr) * p.unpack(wh)).sum(), xr)
    torch.testing.assert_close(gx, p.pack(gr), rtol=1e-4, atol=1e-6)


def test_packed_backward_passes_torch_gradcheck():
    g = torch.Generator().manual_seed(3)
    lengths = [4, 2, 4, 1]
    p = PackedTrials(lengths)
    args = [torch.rand(sum(lengths), 3, generator=g, dtype=torch.float64) - 0.3,
            torch.rand(6, 3, generator=g, dtype=torch.float64) - 0.5,
            torch.rand(6, 6, generator=g, dtype=torch.float64) - 0.5,
            torch.rand(6, generator=g, dtype=torch.float64) - 0.3]
    args = [a.requires_grad_() for a in args]
    assert torch.autograd.gradcheck(lambda *a: relu_rnn_packed(*a, p), args)
