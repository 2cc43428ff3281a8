"""Supervised training: Adam on a per-step cross-entropy over batches of whole trials.

Targets are NeuroGym-style labels: fixate (0) before the decision period, the correct choice
during it. Decision steps weigh ``decision_weight`` times more than the others, because they
are few (one per trial) yet carry the whole task. Read top to bottom; the shared machinery
(seeding, evaluation, checkpoints, stopping) lives in :mod:`.training`.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from .task import DECISION

__all__ = ["run", "sl_loss"]


def sl_loss(logits: torch.Tensor, targets: torch.Tensor, period: torch.Tensor,
            decision_weight: float) -> torch.Tensor:
    """Weighted mean cross-entropy over the steps of the trials (padding has target -1)."""
    valid = targets >= 0
    ce = F.cross_entropy(logits[valid], targets[valid], reduction="none")
    w = torch.where(period[valid] == DECISION, decision_weight, 1.0)
    return (ce * w).sum() / w.sum()


def run(config, session) -> None:
    """The SL loop: sample whole trials, one Adam step on the weighted cross-entropy."""
    net, task, opt, dev = session.net, session.task, session.optimizer, session.device
    for _ in session.updates():
        batch = task.sample(config.batch_trials, session.rng_train)
        obs = torch.from_numpy(batch.observations).to(dev)
        targets = torch.from_numpy(batch.targets).to(dev)
        period = torch.from_numpy(batch.period).to(dev)
        _, logits, _ = net(obs)
        loss = sl_loss(logits, targets, period, config.decision_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
        opt.step()
        session.record(loss.item(), batch.n_trials, batch.n_steps)
