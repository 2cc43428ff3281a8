"""Training: configuration, determinism, checkpoints, PPO pieces, criterion and the CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from attractorkit.reference_models import cli
from attractorkit.reference_models.networks import ReLURNN
from attractorkit.reference_models.task import ContextDecisionMaking
from attractorkit.reference_models.train_rl import gae, ppo_loss, rollout
from attractorkit.reference_models.training import TrainConfig, load_checkpoint, train

from attractorkit import ValidationError

pytestmark = pytest.mark.study

TINY = dict(n_hidden=12, max_updates=6, eval_every=2, checkpoint_every=2, eval_trials=40,
            batch_trials=8, rollout_trials=12, minibatch_trials=6, criterion=0.999)


@pytest.mark.parametrize("paradigm", ["sl", "rl"])
def test_same_seed_gives_bitwise_identical_checkpoints(tmp_path, paradigm):
    cfg = TrainConfig(paradigm=paradigm, seed=5, **TINY)
    a = train(cfg, out=tmp_path / "a")
    b = train(cfg, out=tmp_path / "b")
    assert a.updates == 6 and len(a.checkpoints) == 4  # updates 0, 2, 4, 6
    for pa, pb in zip(a.checkpoints, b.checkpoints):
        assert Path(pa).read_bytes() == Path(pb).read_bytes()
        ja, jb = (Path(p).with_suffix(".json").read_text() for p in (pa, pb))
        assert ja == jb
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (
        tmp_path / "b" / "model.safetensors").read_bytes()
    np.testing.assert_array_equal(a.history["accuracy"], b.history["accuracy"])
    other = train(TrainConfig(paradigm=paradigm, seed=6, **TINY))
    assert not torch.equal(other.network.W, a.network.W)


def test_checkpoint_metadata_and_matched_initialisation(tmp_path):
    sl = train(TrainConfig(paradigm="sl", seed=2, **TINY), out=tmp_path / "sl")
    rl = train(TrainConfig(paradigm="rl", seed=2, **TINY), out=tmp_path / "rl")
    net_sl, meta = load_checkpoint(sl.checkpoints[0])
    net_rl, meta_rl = load_checkpoint(rl.checkpoints[0])
    assert meta["update"] == 0 and meta_rl["paradigm"] == "rl"
    for name in ("W", "U", "b", "readout_weight", "readout_bias"):
        assert torch.equal(getattr(net_sl, name), getattr(net_rl, name)), name
    final, meta = load_checkpoint(tmp_path / "sl" / "model.json")
    assert meta["accuracy"] == sl.accuracy and meta["seed"] == 2 and meta["update"] == 6
    assert TrainConfig.from_dict(meta["config"]) == sl.config
    assert torch.equal(final.W, sl.network.W)
    hist = json.loads((tmp_path / "sl" / "history.json").read_text())
    assert hist["update"] == [0, 2, 4, 6] and len(hist["accuracy"]) == 4
    assert "accuracy" in sl.summary()


@pytest.mark.parametrize("kw, match", [
    ({"delta": -0.1}, "delta"),
    ({"paradigm": "ga"}, "paradigm"),
    ({"checkpoint_every": 3, "eval_every": 2}, "checkpoint_every"),
    ({"minibatch_trials": 64, "rollout_trials": 32}, "minibatch_trials"),
    ({"gamma": 1.5}, "gamma"),
    ({"task": "nope"}, "task"),
    ({"criterion": 0.0}, "criterion"),
    ({"max_updates": 0}, "max_updates"),
    ({"lr": -1e-3}, "lr"),
    ({"device": "gpu9"}, "device"),
])
def test_invalid_train_config(kw, match):
    with pytest.raises(ValidationError, match=match):
        TrainConfig(**kw)
    with pytest.raises(ValidationError, match="name"):
        TrainConfig.preset("huge")


def test_gae_matches_a_per_trial_reference():
    rng = np.random.default_rng(0)
    B, T, g, lam = 5, 9, 0.9, 0.8
    lengths = rng.integers(3, T + 1, B)
    alive = np.arange(T)[None] < lengths[:, None]
    done = np.arange(T)[None] == lengths[:, None] - 1
    r = rng.normal(size=(B, T)) * alive
    v = rng.normal(size=(B, T)) * alive
    adv, ret = gae(*(torch.tensor(x) for x in (r, v, done, alive)), g, lam)
    for i in range(B):
        L, a = lengths[i], 0.0
        ref = np.zeros(L)
        for t in reversed(range(L)):
            nv = v[i, t + 1] if t + 1 < L else 0.0
            a = r[i, t] + g * nv - v[i, t] + g * lam * a
            ref[t] = a
        np.testing.assert_allclose(adv[i, :L].numpy(), ref, rtol=1e-12)
        assert np.all(adv[i, L:].numpy() == 0)
        np.testing.assert_allclose(ret[i, :L].numpy(), ref + v[i, :L], rtol=1e-12)


def test_rollout_samples_the_policy_and_ppo_loss_is_sane():
    task = ContextDecisionMaking("default")
    net = ReLURNN(task.n_input, 8, 3, critic=True, seed=0)
    with torch.no_grad():
        net.readout_weight.zero_()
        net.readout_bias.copy_(torch.log(torch.tensor([0.6, 0.3, 0.1])))
    data = rollout(net, task, 400, np.random.default_rng(0), torch.Generator().manual_seed(0),
                   "cpu")
    first = data["actions"][:, 0].numpy()  # step 0 is always alive
    freq = np.bincount(first, minlength=3) / 400
    np.testing.assert_allclose(freq, [0.6, 0.3, 0.1], atol=0.07)
    assert data["n_steps"] == int(data["alive"].sum())
    data["adv"], data["returns"] = gae(data["rewards"], data["values"], data["done"],
                                       data["alive"], 0.99, 0.95)
    loss, parts = ppo_loss(net, data, TrainConfig(paradigm="rl"))
    # at the rollout's own parameters the ratio is 1 and normalised advantages average to 0
    assert abs(parts["pg"]) < 1e-5 and parts["entropy"] == pytest.approx(
        -(0.6 * np.log(0.6) + 0.3 * np.log(0.3) + 0.1 * np.log(0.1)), rel=1e-4)
    loss.backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


def test_quick_sl_preset_reaches_criterion():
    result = train(TrainConfig.preset("quick", paradigm="sl", seed=1))
    assert result.reached_criterion and result.accuracy >= 0.95
    assert result.history["accuracy"][-1] == result.accuracy


@pytest.mark.slow
def test_quick_rl_preset_reaches_criterion():
    result = train(TrainConfig.preset("quick", paradigm="rl", seed=0))
    assert result.reached_criterion and result.accuracy >= 0.95


@pytest.mark.slow
@pytest.mark.parametrize("paradigm", ["sl", "rl"])
def test_paper_preset_reaches_criterion(paradigm):
    result = train(TrainConfig.preset("paper", paradigm=paradigm, delta=0.1, seed=1))
    assert result.reached_criterion


def test_cli_train_writes_metadata_with_accuracy(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--paradigm", "rl", "--delta", "0.2", "--seed", "3", "--preset",
                     "quick", "--out", str(out), "--no-progress", "--n-hidden", "8",
                     "--max-updates", "4", "--eval-every", "2", "--checkpoint-every", "2",
                     "--eval-trials", "20"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    meta = json.loads((out / "model.json").read_text())
    assert printed["accuracy"] == meta["accuracy"] and meta["delta"] == 0.2
    assert meta["config"]["n_hidden"] == 8 and meta["seed"] == 3
    assert len(list((out / "checkpoints").glob("*.safetensors"))) == 3
    assert cli.main(["train", "--paradigm", "sl", "--delta", "-1", "--no-progress"]) == 2
    assert "delta" in capsys.readouterr().err


def test_train_restores_torch_settings_and_accepts_a_task_config():
    from attractorkit.reference_models.task import TASK_PRESETS

    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    cfg = TrainConfig(paradigm="sl", task=TASK_PRESETS["choices3"], num_threads=1,
                      **{**TINY, "max_updates": 2})
    result = train(cfg)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det
    assert result.network.n_input == 9 and result.network.n_actions == 4
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    quick = TrainConfig.preset("quick", paradigm="rl", seed=4)
    assert quick.n_hidden == 128 and quick.paradigm == "rl" and quick.seed == 4
    assert TrainConfig.preset("quick", eval_every=30).checkpoint_every == 120
