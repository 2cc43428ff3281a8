"""The ReLU RNN: initialisation, matched seeds, forward pass, export and persistence."""

import numpy as np
import pytest
import torch
from attractorkit.reference_models.networks import ReLURNN, load_network, save_network

from attractorkit import ResultFileError, ValidationError

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
