"""Training: configuration, determinism, checkpoints, PPO pieces, criterion and the CLI."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from attractorkit import ValidationError
from attractorkit.reference_models import cli
from attractorkit.reference_models.networks import ReLURNN
from attractorkit.reference_models.task import ContextDecisionMaking, TaskConfig
from attractorkit.reference_models.train_rl import gae, ppo_loss, rollout
from attractorkit.reference_models.train_sl import batches, sl_loss, step_weights, update
from attractorkit.reference_models.training import (
    TrainConfig,
    clip_grad_norm,
    load_checkpoint,
    train,
)

pytestmark = pytest.mark.study

#: a task whose decision period lasts 5 steps: a trial ends at the agent's first choice in it
TASK_CHOOSE_EARLY = TaskConfig(decision=500.0)
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


def _ppo_grads(critic_detached, vf_coef):
    task = ContextDecisionMaking("default")
    net = ReLURNN(task.n_input, 8, 3, critic=True, seed=0)
    data = rollout(net, task, 64, np.random.default_rng(0), torch.Generator().manual_seed(0),
                   "cpu")
    data["adv"], data["returns"] = gae(data["rewards"], data["values"], data["done"],
                                       data["alive"], 0.99, 0.95)
    cfg = TrainConfig(paradigm="rl", critic_detached=critic_detached, vf_coef=vf_coef)
    loss, _ = ppo_loss(net, data, cfg)
    loss.backward()
    return {k: p.grad.clone() for k, p in net.named_parameters()}


def test_detached_critic_leaves_the_recurrent_weights_to_the_policy_gradient():
    """With critic_detached the value loss changes the critic's gradient only: W, U, b get the
    same gradient whatever the value coefficient; with a shared trunk they do not."""
    on, off = _ppo_grads(True, 0.5), _ppo_grads(True, 0.0)
    for k in ("W", "U", "b", "readout_weight"):
        torch.testing.assert_close(on[k], off[k], rtol=0, atol=0)
    assert not torch.equal(on["value_weight"], off["value_weight"])
    shared, alone = _ppo_grads(False, 0.5), _ppo_grads(False, 0.0)
    assert not torch.equal(shared["W"], alone["W"])


def test_sl_with_ppo_schedule_takes_ppo_steps_per_update(monkeypatch):
    from attractorkit.reference_models import train_sl

    sizes = []
    real = train_sl.update

    def counting(net, optimizer, batch, config, device="cpu"):
        sizes.append(batch.n_trials)
        return real(net, optimizer, batch, config, device)

    monkeypatch.setattr(train_sl, "update", counting)
    cfg = TrainConfig(paradigm="sl", n_hidden=8, sl_schedule="ppo", rollout_trials=64,
                      minibatch_trials=16, ppo_epochs=3, max_updates=2, eval_every=2,
                      eval_trials=20, criterion=1.0)
    assert cfg.trials_per_update == 64
    result = train(cfg)
    assert sizes == [16] * (2 * 3 * 4) and result.history["trials"][-1] == 128
    with pytest.raises(ValidationError, match="sl_schedule"):
        TrainConfig(sl_schedule="twice")


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


class _RecordingOptimizer:
    """Stands in for Adam: keeps the gradients that update() hands to the optimiser."""

    def __init__(self, params):
        self.params = list(params)

    def zero_grad(self, set_to_none=True):
        for p in self.params:
            p.grad = None

    def step(self):
        self.grads = [p.grad.clone() for p in self.params]


def test_sl_update_gradient_equals_autograd_on_the_padded_batch():
    task = ContextDecisionMaking("default")
    net = ReLURNN(task.n_input, 32, 3, delta=0.3, seed=0)
    batch = task.sample(9, np.random.default_rng(1))
    assert len(set(batch.lengths.tolist())) > 3  # trials of different lengths
    cfg = TrainConfig(grad_clip=1e9, decision_weight=3.0)
    opt = _RecordingOptimizer(net.parameters())
    loss = update(net, opt, batch, cfg)
    _, logits, _ = net(torch.from_numpy(batch.observations))  # padded, autograd
    weights = step_weights(batch.period, 3.0)
    assert np.all(weights[~batch.mask] == 0) and set(np.unique(weights)) == {0.0, 1.0, 3.0}
    ref = sl_loss(logits, torch.from_numpy(batch.targets), torch.from_numpy(weights))
    # the pre-packing formula: boolean indexing of the valid steps
    valid = torch.from_numpy(batch.targets) >= 0
    ce = torch.nn.functional.cross_entropy(logits[valid], torch.from_numpy(batch.targets)[valid],
                                           reduction="none")
    w = torch.where(torch.from_numpy(batch.period)[valid] == 3, 3.0, 1.0)
    torch.testing.assert_close(ref, (ce * w).sum() / w.sum())
    assert loss == pytest.approx(ref.item(), rel=1e-6)
    refs = torch.autograd.grad(ref, list(net.parameters()))
    for (name, _), a, b in zip(net.named_parameters(), opt.grads, refs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def _ppo_loss_padded(net, mb, config):
    """The PPO loss as written before packing: padded forward, masked means."""
    T = int(mb["length"].max())
    alive = mb["alive"][:, :T]
    n = alive.sum()
    _, logits, values = net(mb["obs"][:, :T])
    logp_all = torch.nn.functional.log_softmax(logits, -1)
    logp = logp_all.gather(-1, mb["actions"][:, :T, None])[..., 0]
    adv = mb["adv"][:, :T]
    mean = (adv * alive).sum() / n
    std = (((adv - mean) * alive) ** 2).sum().div(n).sqrt()
    adv = (adv - mean) / (std + 1e-8)
    ratio = (logp - mb["logp"][:, :T]).exp()
    clipped = ratio.clamp(1 - config.clip_coef, 1 + config.clip_coef)
    pg = -(torch.minimum(ratio * adv, clipped * adv) * alive).sum() / n
    v_loss = 0.5 * (((values - mb["returns"][:, :T]) ** 2) * alive).sum() / n
    entropy = (-(logp_all.exp() * logp_all).sum(-1) * alive).sum() / n
    return pg + config.vf_coef * v_loss - config.ent_coef * entropy


def test_packed_rollout_draws_and_ppo_loss_match_the_padded_computation():
    task = ContextDecisionMaking(TASK_CHOOSE_EARLY)
    net = ReLURNN(task.n_input, 24, 3, delta=0.3, critic=True, seed=1)
    data = rollout(net, task, 40, np.random.default_rng(2), torch.Generator().manual_seed(3),
                   "cpu")
    alive, mask = data["alive"], data["packing"].unpack(
        torch.ones(data["packing"].n_rows, dtype=torch.bool))
    assert (alive.sum(1) < mask.sum(1)).any()  # some trials end early, by their choice
    assert torch.all(data["actions"][~mask] == 0) and torch.all(data["logp"][~mask] == 0)
    assert torch.all(data["values"][~alive] == 0)
    # the same draws as acting on the padded batch: one uniform per padded step
    batch = task.sample(40, np.random.default_rng(2))
    u = torch.rand(batch.mask.shape, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        _, logits, values = net(torch.from_numpy(batch.observations))
    logp_all = torch.nn.functional.log_softmax(logits, -1)
    cdf = logp_all.exp().cumsum(-1)
    actions = (cdf < u[..., None]).sum(-1).clamp(max=2)
    near_tie = ((cdf - u[..., None]).abs() < 1e-5).any(-1)
    assert torch.equal(data["actions"][mask & ~near_tie], actions[mask & ~near_tie])
    torch.testing.assert_close(data["logp"][mask], logp_all.gather(
        -1, data["actions"][..., None])[..., 0][mask], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(data["values"][alive], values[alive], rtol=1e-5, atol=1e-6)
    # the packed PPO loss is the padded masked one, value and gradient
    data["adv"], data["returns"] = gae(data["rewards"], data["values"], data["done"],
                                       data["alive"], 0.99, 0.95)
    cfg = TrainConfig(paradigm="rl")
    with torch.no_grad():
        net.W.mul_(1.1)  # away from the rollout's parameters: ratios differ from 1
    idx = torch.arange(5, 25)
    mb = {k: data[k][idx] for k in ("obs", "actions", "logp", "adv", "returns", "alive",
                                    "length")}
    loss, _ = ppo_loss(net, mb, cfg)
    ref = _ppo_loss_padded(net, mb, cfg)
    torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)
    grads = torch.autograd.grad(loss, list(net.parameters()))
    refs = torch.autograd.grad(ref, list(net.parameters()))
    for (name, _), a, b in zip(net.named_parameters(), grads, refs):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_sl_batches_are_slices_of_one_vectorised_sample():
    task = ContextDecisionMaking("default")
    source = batches(task, 5, np.random.default_rng(4), per_call=3)
    got = [next(source) for _ in range(4)]  # the 4th comes from a second chunk
    rng = np.random.default_rng(4)
    chunks = [task.sample(15, rng), task.sample(15, rng)]
    for i, b in enumerate(got):
        ref = chunks[i // 3]
        sl = slice(5 * (i % 3), 5 * (i % 3) + 5)
        assert b.n_trials == 5 and b.n_steps == int(ref.mask[sl].sum())
        for name in ("observations", "targets", "period", "mask", "lengths", "ground_truth",
                     "context", "direction", "coherence"):
            np.testing.assert_array_equal(getattr(b, name), getattr(ref, name)[sl], name)


@pytest.mark.parametrize("max_norm", [1e-3, 1e6])
def test_clip_grad_norm_is_torch_clip_grad_norm(max_norm):
    g = torch.Generator().manual_seed(0)
    a = [torch.nn.Parameter(torch.zeros(s)) for s in ((30, 30), (30, 4), (30,))]
    b = [torch.nn.Parameter(torch.zeros(s)) for s in ((30, 30), (30, 4), (30,))]
    for p, q in zip(a, b):
        p.grad = torch.randn(p.shape, generator=g)
        q.grad = p.grad.clone()
    b.append(torch.nn.Parameter(torch.zeros(2)))  # no gradient: skipped by both
    a.append(torch.nn.Parameter(torch.zeros(2)))
    norm = clip_grad_norm(a, max_norm)
    ref = torch.nn.utils.clip_grad_norm_(b, max_norm)
    assert torch.equal(norm, ref)
    for p, q in zip(a[:3], b[:3]):
        assert torch.equal(p.grad, q.grad)
    assert (norm > max_norm) == (max_norm == 1e-3)
