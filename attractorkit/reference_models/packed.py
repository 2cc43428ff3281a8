"""Trials of different lengths packed without padding, and the ReLU RNN's BPTT on them.

A batch of trials padded to its longest trial wastes about 40% of its steps on the default task
(lengths 14 to 40 steps, mean 19). :class:`PackedTrials` sorts the trials by decreasing length
and lays their steps out time-major, as torch's ``PackedSequence`` does: the rows of step ``t``
are the trials still running at ``t``, longest first. The trials running at ``t + 1`` are a
prefix of those running at ``t``, so each step of the recurrence is one matrix product on a
contiguous block of rows, whose previous hidden states are the first rows of the block before.

:func:`relu_rnn_packed` runs ``h_t = relu(W h_{t-1} + U x_t + b)`` (``h_0 = 0``) on packed rows
with a hand-written backward pass (back-propagation through time): per step one masked
product ``delta_t W``; then the weight gradients as single products over all steps
(``dW = sum_t delta_t h_{t-1}^T`` is one GEMM). It computes the same function and gradient as
autograd through ``torch.rnn_relu`` on the padded batch, restricted to the trials' own steps,
up to float32 rounding (sums are taken in another order). Its two halves, :func:`rnn_forward`
and :func:`rnn_backward`, are plain functions for callers that write out the rest of their
gradient too (the supervised trainer).
"""

from __future__ import annotations

import numpy as np
import torch

from attractorkit.core._errors import ValidationError

__all__ = ["PackedTrials", "relu_rnn_packed", "rnn_forward", "rnn_backward"]


class PackedTrials:
    """Time-major layout, without padding, of ``B`` trials of the given lengths.

    Parameters
    ----------
    lengths : array-like of int, shape (B,)
        Steps of each trial (>= 1).
    n_steps : int, optional
        Width ``T`` of the padded (B, T, ...) arrays that :meth:`pack` reads and :meth:`unpack`
        writes; default the longest trial.
    device : torch device, default "cpu"

    Attributes
    ----------
    lengths : ndarray (B,); n_trials : B; n_steps : T; n_rows : R, the total number of steps
    batch_sizes : tuple of int (longest length,), trials still running at each step
    offsets : tuple of int, first packed row of each step (and R at the end)
    index : LongTensor (R,), flat position ``b * T + t`` of each packed row in a padded array
    prev : LongTensor (R - B,), for each row of steps >= 1, the row of the same trial one
        step earlier
    """

    def __init__(self, lengths, n_steps: int | None = None, *, device="cpu"):
        lengths = np.asarray(lengths)
        if lengths.ndim != 1 or lengths.size == 0 or lengths.dtype.kind not in "iu" or (
                lengths.min() < 1):
            raise ValidationError(f"lengths: expected a non-empty 1-d array of integers >= 1, "
                                  f"received {lengths!r}")
        longest = int(lengths.max())
        T = longest if n_steps is None else int(n_steps)
        if T < longest:
            raise ValidationError(f"n_steps: expected >= the longest trial ({longest}), "
                                  f"received {n_steps!r}")
        order = np.argsort(-lengths, kind="stable")
        running = lengths[order] > np.arange(longest)[:, None]  # (step, sorted trial)
        step, rank = np.nonzero(running)  # row-major: time-major, longest trial first
        sizes = np.count_nonzero(running, axis=1)
        offsets = np.zeros(longest + 1, np.int64)
        np.cumsum(sizes, out=offsets[1:])
        later = step > 0
        self.lengths = lengths.astype(np.int64)
        self.n_trials, self.n_steps, self.n_rows = lengths.size, T, int(offsets[-1])
        self.batch_sizes = tuple(sizes.tolist())
        self.offsets = tuple(offsets.tolist())
        self._index = order[rank] * T + step
        self.index = torch.from_numpy(self._index)
        self.prev = torch.from_numpy(offsets[step[later] - 1] + rank[later])
        if torch.device(device).type != "cpu":
            self.index, self.prev = self.index.to(device), self.prev.to(device)

    def pack(self, x):
        """Rows (R, ...) of a padded tensor or array (B, T, ...), of the same kind."""
        if tuple(x.shape[:2]) != (self.n_trials, self.n_steps):
            raise ValidationError(f"x: expected leading shape ({self.n_trials}, {self.n_steps}),"
                                  f" received {tuple(x.shape)}")
        index = self._index if isinstance(x, np.ndarray) else self.index
        return x.reshape(self.n_trials * self.n_steps, *x.shape[2:])[index]

    def unpack(self, rows: torch.Tensor, fill=0) -> torch.Tensor:
        """A padded tensor (B, T, ...) holding ``rows`` (R, ...) and ``fill`` elsewhere."""
        if rows.shape[0] != self.n_rows:
            raise ValidationError(f"rows: expected {self.n_rows} rows, received {rows.shape[0]}")
        out = rows.new_full((self.n_trials * self.n_steps, *rows.shape[1:]), fill)
        out[self.index] = rows
        return out.reshape(self.n_trials, self.n_steps, *rows.shape[1:])


def rnn_forward(x, U, W, b, packing) -> torch.Tensor:
    """Hidden states (R, n) of the recurrence on packed rows, computed in place step by step:
    call it under ``torch.no_grad()`` (with gradients, use :func:`relu_rnn_packed`)."""
    H = torch.addmm(b, x, U.T)  # the input drive of every step in one product
    Wt = W.T.contiguous()  # row-major right operand: ~10% faster small products
    blocks = H.split(packing.batch_sizes)  # views: the rows of each step
    prev = blocks[0].relu_()
    for block in blocks[1:]:
        block.addmm_(prev[:block.shape[0]], Wt)
        prev = block.relu_()
    return H


def rnn_backward(dH, x, U, W, H, packing, needs=(False, True, True, True), *, scratch=False):
    """Gradients ``(dx, dU, dW, db)`` (None where ``needs`` is False) of a loss with gradient
    ``dH`` (R, n) with respect to the hidden states that :func:`rnn_forward` returned.
    ``scratch=True``: ``dH`` is contiguous and the caller's own, and may be overwritten."""
    G = dH if scratch else dH.clone(memory_format=torch.contiguous_format)  # becomes delta
    g_blocks, h_blocks = G.split(packing.batch_sizes), H.split(packing.batch_sizes)
    relu_grad = torch.ops.aten.threshold_backward.grad_input
    for t in range(len(g_blocks) - 1, -1, -1):
        delta = g_blocks[t]
        relu_grad(delta, h_blocks[t], 0, grad_input=delta)  # delta_t, in place
        if t:  # into dL/dh_{t-1} of the trials still running at t
            g_blocks[t - 1][:delta.shape[0]].addmm_(delta, W)
    dx = dU = dW = db = None
    if needs[2]:  # sum over all steps in one product
        dW = G[packing.batch_sizes[0]:].T @ H[packing.prev]
    if needs[1]:
        dU = (x.T @ G).T.contiguous()  # (250 x R) @ (R x 7) is ~5x slower in this order
    if needs[3]:
        db = G.sum(0)
    if needs[0]:
        dx = G @ U
    return dx, dU, dW, db


class _PackedReLURNN(torch.autograd.Function):
    """h_t = relu(W h_{t-1} + U x_t + b) on packed rows, with BPTT written out."""

    @staticmethod
    def forward(ctx, x, U, W, b, packing):
        H = rnn_forward(x, U, W, b, packing)
        ctx.save_for_backward(x, U, W, H)
        ctx.packing = packing
        return H

    @staticmethod
    def backward(ctx, dH):
        x, U, W, H = ctx.saved_tensors
        return (*rnn_backward(dH, x, U, W, H, ctx.packing, ctx.needs_input_grad[:4]), None)


def relu_rnn_packed(x: torch.Tensor, U: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                    packing: PackedTrials) -> torch.Tensor:
    """Hidden states (R, n) of ``h_t = relu(W h_{t-1} + U x_t + b)``, ``h_0 = 0``, for packed
    inputs ``x`` (R, n_input) laid out by ``packing``; differentiable in all four tensors."""
    if x.shape[0] != packing.n_rows:
        raise ValidationError(f"x: expected {packing.n_rows} packed rows, "
                              f"received {x.shape[0]}")
    return _PackedReLURNN.apply(x, U, W, b, packing)
