"""Supervised training: Adam on a per-step cross-entropy over batches of whole trials.

Targets are NeuroGym-style labels: fixate (0) before the decision period, the correct choice
during it. Decision steps weigh ``decision_weight`` times more than the others, because they
are few (one per trial) yet carry the whole task. The trials of a batch are packed without
padding (:class:`~.packed.PackedTrials`): the loss only ever reads the trials' own steps, so
padding would be work thrown away. The gradient is written out (:func:`loss_and_gradients`),
without an autograd graph: at N = 250 the graph's bookkeeping cost about 5% of an update. Read
top to bottom; the shared machinery (seeding, evaluation, checkpoints, stopping) lives in
:mod:`.training`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch.nn import functional as F

from .packed import PackedTrials, rnn_backward, rnn_forward
from .task import DECISION, PADDING, TrialBatch
from .training import clip_grad_norm

__all__ = ["run", "batches", "update", "loss_and_gradients", "sl_loss", "step_weights"]


def step_weights(period: np.ndarray, decision_weight: float) -> np.ndarray:
    """Loss weight of every step (float32, the shape of ``period``): ``decision_weight`` in the
    decision period, 1 before it, 0 on padding."""
    w = np.where(period == DECISION, np.float32(decision_weight), np.float32(1.0))
    w[period == PADDING] = 0.0
    return w


def sl_loss(logits: torch.Tensor, targets: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean cross-entropy over the steps: ``sum_s w_s CE_s / sum_s w_s``.

    ``logits`` (..., n_actions) with ``targets`` (padding: -1) and ``weights`` (see
    :func:`step_weights`) of the leading shape: a padded batch (B, T) or packed rows (R,).
    """
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                         ignore_index=-1, reduction="none")
    w = weights.reshape(-1)
    return torch.dot(ce, w) / w.sum()


def batches(task, n_trials: int, rng, *, per_call: int = 8):
    """Endless batches of ``n_trials`` fresh trials (TrialBatch), sampled ``per_call`` batches
    at a time: one vectorised call instead of eight amortises numpy's per-call cost (about 7%
    of an update at N = 250). Each batch is still ``n_trials`` fresh i.i.d. trials; only the
    order of the random draws differs from sampling batch by batch. A batch is padded to its
    chunk's longest trial, which packing ignores."""
    names = [f.name for f in dataclasses.fields(TrialBatch)]
    while True:
        chunk = task.sample(n_trials * per_call, rng)
        for i in range(0, chunk.n_trials, n_trials):
            yield TrialBatch(**{k: getattr(chunk, k)[i:i + n_trials] for k in names})


def loss_and_gradients(net, obs, targets, weights, packing) -> torch.Tensor:
    """:func:`sl_loss` of packed steps, with its gradient written out (no autograd graph) and
    stored in each parameter's ``.grad``; returns the loss.

    ``obs`` (R, n_input), ``targets`` (R,) and ``weights`` (R,) are packed by ``packing``. With
    ``p = softmax(logits)`` and ``w`` the normalised weights, ``dL/dlogits = w (p - onehot)``,
    then the readout's and the recurrence's gradients (:func:`.packed.rnn_backward`). The tests
    check it against autograd through the padded batch.
    """
    with torch.no_grad():
        H = rnn_forward(obs, net.U, net.W, net.b, packing)
        logp = F.log_softmax(torch.addmm(net.readout_bias, H, net.readout_weight.T), -1)
        w = weights / weights.sum()
        loss = -torch.dot(logp.gather(1, targets[:, None])[:, 0], w)
        dlogits = logp.exp_().mul_(w[:, None]).scatter_add_(1, targets[:, None], -w[:, None])
        _, dU, dW, db = rnn_backward(dlogits @ net.readout_weight, obs, net.U, net.W, H,
                                     packing, scratch=True)
        grads = {"W": dW, "U": dU, "b": db, "readout_weight": dlogits.T @ H,
                 "readout_bias": dlogits.sum(0)}
    for name, grad in grads.items():
        getattr(net, name).grad = grad
    return loss


def update(net, optimizer, batch, config, device="cpu") -> float:
    """One Adam step on the weighted cross-entropy of ``batch`` (a TrialBatch); the loss."""
    packing = PackedTrials(batch.lengths, batch.observations.shape[1], device=device)
    weights = step_weights(packing.pack(batch.period), config.decision_weight)
    obs, targets, weights = (torch.from_numpy(a).to(device) for a in (
        packing.pack(batch.observations), packing.pack(batch.targets), weights))
    loss = loss_and_gradients(net, obs, targets, weights, packing)
    clip_grad_norm(net.parameters(), config.grad_clip)
    optimizer.step()
    return loss.item()


def run(config, session) -> None:
    """The SL loop: fresh whole trials, one Adam step on the weighted cross-entropy.

    With ``sl_schedule="ppo"`` an update takes PPO's schedule instead: ``rollout_trials``
    fresh trials, then ``ppo_epochs`` passes over minibatches of ``minibatch_trials`` trials in
    a random order, one Adam step each (the study's ablation: the same optimiser steps and
    batches per trial as RL).
    """
    if config.sl_schedule == "ppo":
        return _run_ppo_schedule(config, session)
    trials = batches(session.task, config.batch_trials, session.rng_train)
    for _ in session.updates():
        batch = next(trials)
        loss = update(session.net, session.optimizer, batch, config, session.device)
        session.record(loss, batch.n_trials, batch.n_steps)


def _run_ppo_schedule(config, session) -> None:
    names = [f.name for f in dataclasses.fields(TrialBatch)]
    trials = batches(session.task, config.rollout_trials, session.rng_train)
    for _ in session.updates():
        batch = next(trials)
        losses = []
        for _epoch in range(config.ppo_epochs):
            order = torch.randperm(config.rollout_trials, generator=session.torch_gen).numpy()
            for start in range(0, config.rollout_trials, config.minibatch_trials):
                idx = order[start:start + config.minibatch_trials]
                mb = TrialBatch(**{k: getattr(batch, k)[idx] for k in names})
                losses.append(update(session.net, session.optimizer, mb, config,
                                     session.device))
        session.record(float(np.mean(losses)), batch.n_trials, batch.n_steps)
