"""Reinforcement training: recurrent PPO over a vectorised batch of whole trials.

Each update: (1) roll out ``rollout_trials`` parallel trials with the current policy (actions
sampled from the softmax at every step; the network never sees its actions, so the whole
trial runs in one forward pass, and the task scores the actions afterwards); (2) GAE(gamma,
lambda) advantages from the critic, cut at each trial's end; (3) ``ppo_epochs`` passes over
minibatches of whole trials (full BPTT from h0 = 0) with the clipped surrogate, a value loss
and an entropy bonus, Adam with gradient-norm clipping. With ``critic_detached`` the value
loss reaches the critic head only, not the recurrent weights. The network only ever runs on the
trials' own steps, packed without padding (:class:`~.packed.PackedTrials`). Read top to
bottom; seeding, evaluation, checkpoints and stopping live in :mod:`.training`.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .packed import PackedTrials
from .training import clip_grad_norm

__all__ = ["run", "rollout", "gae", "ppo_loss"]


def rollout(net, task, n_trials, rng, gen, device) -> dict:
    """Act in ``n_trials`` fresh trials; returns tensors (B, T) for the PPO update.

    The network runs on the trials' own steps only, packed without padding (``"packing"``, a
    :class:`~.packed.PackedTrials`); on padding, actions, log-probabilities and values are 0.
    """
    batch = task.sample(n_trials, rng)
    B, T = batch.mask.shape
    packing = PackedTrials(batch.lengths, T, device=device)
    with torch.no_grad():
        _, logits, values = net.forward_packed(
            torch.from_numpy(packing.pack(batch.observations)).to(device), packing)
        logp_all = F.log_softmax(logits, -1)
        # inverse-CDF sampling from a seeded generator: reproducible on CPU; one draw per
        # padded step, as (B, T), so that the draws do not depend on the packing
        u = packing.pack(torch.rand((B, T), generator=gen).to(device))
        cdf = logp_all.exp().cumsum(-1)
        actions = (cdf < u[:, None]).sum(-1).clamp(max=logits.shape[-1] - 1)
        logp = logp_all.gather(-1, actions[:, None])[:, 0]
        actions, logp, values = (packing.unpack(v) for v in (actions, logp, values))
    out = task.score(batch, actions.cpu().numpy())
    alive = torch.from_numpy(out.alive).to(device)
    return {"obs": torch.from_numpy(batch.observations).to(device), "actions": actions,
            "logp": logp, "values": values * alive,
            "rewards": torch.from_numpy(out.rewards).to(device),
            "done": torch.from_numpy(out.done).to(device), "alive": alive,
            "length": alive.sum(1), "n_steps": int(out.alive.sum()), "packing": packing}


def gae(rewards, values, done, alive, gamma: float, lam: float):
    """Generalised advantage estimates and returns (B, T); zero after each trial's end."""
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[:, 0])
    next_value = torch.zeros_like(rewards[:, 0])
    for t in range(rewards.shape[1] - 1, -1, -1):
        cont = 1.0 - done[:, t].to(rewards.dtype)
        delta = rewards[:, t] + gamma * next_value * cont - values[:, t]
        last = delta + gamma * lam * cont * last
        adv[:, t] = last
        next_value = values[:, t]
    adv = adv * alive
    return adv, (adv + values) * alive


def ppo_loss(net, mb: dict, config) -> tuple[torch.Tensor, dict]:
    """Clipped-surrogate PPO loss on a minibatch of whole trials (their alive steps only,
    packed without padding)."""
    obs = mb["obs"]
    packing = PackedTrials(mb["length"].cpu().numpy(), obs.shape[1], device=obs.device)
    h, logits, values = net.forward_packed(packing.pack(obs), packing)
    if config.critic_detached:  # the value loss trains the critic head only
        values = F.linear(h.detach(), net.value_weight, net.value_bias)[..., 0]
    logp_all = F.log_softmax(logits, -1)
    logp = logp_all.gather(-1, packing.pack(mb["actions"])[:, None])[:, 0]
    adv = packing.pack(mb["adv"])
    mean = adv.mean()
    std = ((adv - mean) ** 2).mean().sqrt()
    adv = (adv - mean) / (std + 1e-8)
    ratio = (logp - packing.pack(mb["logp"])).exp()
    clipped = ratio.clamp(1 - config.clip_coef, 1 + config.clip_coef)
    pg = -torch.minimum(ratio * adv, clipped * adv).mean()
    v_loss = 0.5 * ((values - packing.pack(mb["returns"])) ** 2).mean()
    entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
    loss = pg + config.vf_coef * v_loss - config.ent_coef * entropy
    return loss, {"pg": pg.item(), "value": v_loss.item(), "entropy": entropy.item()}


def run(config, session) -> None:
    """The PPO loop: one rollout of parallel trials, then epochs over minibatches of trials."""
    net, task, opt, dev = session.net, session.task, session.optimizer, session.device
    gen = session.torch_gen
    for _ in session.updates():
        data = rollout(net, task, config.rollout_trials, session.rng_train, gen, dev)
        data["adv"], data["returns"] = gae(data["rewards"], data["values"], data["done"],
                                           data["alive"], config.gamma, config.gae_lambda)
        losses = []
        for _epoch in range(config.ppo_epochs):
            order = torch.randperm(config.rollout_trials, generator=gen).to(dev)
            for start in range(0, config.rollout_trials, config.minibatch_trials):
                idx = order[start:start + config.minibatch_trials]
                mb = {k: data[k][idx] for k in ("obs", "actions", "logp", "adv", "returns",
                                                "alive", "length")}
                loss, _ = ppo_loss(net, mb, config)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                clip_grad_norm(net.parameters(), config.grad_clip)
                opt.step()
                losses.append(loss.item())
        session.record(sum(losses) / len(losses), config.rollout_trials, data["n_steps"])
