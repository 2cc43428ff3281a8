"""The vanilla discrete-time ReLU RNN of the study, in PyTorch.

``h_t = relu(W h_{t-1} + U x_t + b)`` with ``h_0 = 0``; a linear readout over actions (the SL
readout, or the RL actor) and, for RL, a linear critic, both reading the same hidden state.
``W``, ``U`` and ``b`` are drawn from U(-delta, delta), the heads from U(-0.1, 0.1).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from attractorkit.core._errors import ResultFileError, ValidationError
from attractorkit.core._files import atomic_path, output_dir
from attractorkit.core._validation import check_int, check_positive

from .packed import relu_rnn_packed

__all__ = ["ReLURNN", "READOUT_SCALE", "save_network", "load_network"]

#: half-width of the uniform initialisation of the readout (and critic) weights and biases
READOUT_SCALE = 0.1


class ReLURNN(nn.Module):
    """Vanilla ReLU RNN with an action readout and an optional critic.

    Parameters
    ----------
    n_input : int
    n_hidden : int, default 250
    n_actions : int, default 3
    delta : float, default 0.1
        Half-width of the uniform initialisation of ``W``, ``U`` and ``b``.
    critic : bool, default False
        Add a value head (RL).
    seed : int, default 0
        Seed of the initialisation. Parameters are drawn in a fixed order from one generator,
        ``W``, ``U``, ``b``, readout weight and bias, then the critic, so that an RL network
        (critic=True) and an SL network (critic=False) with the same ``(delta, seed)`` and
        shapes start from identical recurrent weights and readout.

    Attributes
    ----------
    W : Parameter (n_hidden, n_hidden); U : Parameter (n_hidden, n_input); b : Parameter
        (n_hidden,); readout_weight (n_actions, n_hidden), readout_bias (n_actions,);
        value_weight (1, n_hidden) and value_bias (1,) when ``critic``
    """

    def __init__(self, n_input: int, n_hidden: int = 250, n_actions: int = 3, *,
                 delta: float = 0.1, critic: bool = False, seed: int = 0):
        super().__init__()
        self.n_input = check_int("n_input", n_input, minimum=1)
        self.n_hidden = check_int("n_hidden", n_hidden, minimum=1)
        self.n_actions = check_int("n_actions", n_actions, minimum=2)
        self.delta = check_positive("delta", delta)
        self.seed = check_int("seed", seed, minimum=0)
        self.critic = bool(critic)
        g = torch.Generator().manual_seed(self.seed)

        def uniform(shape, half):
            return nn.Parameter((torch.rand(shape, generator=g) * 2 - 1) * half)

        n, r = self.n_hidden, READOUT_SCALE
        self.W = uniform((n, n), self.delta)
        self.U = uniform((n, self.n_input), self.delta)
        self.b = uniform((n,), self.delta)
        self.readout_weight = uniform((self.n_actions, n), r)
        self.readout_bias = uniform((self.n_actions,), r)
        if self.critic:
            self.value_weight = uniform((1, n), r)
            self.value_bias = uniform((1,), r)
        self.register_buffer("_no_bias", torch.zeros(n), persistent=False)

    @property
    def architecture(self) -> dict:
        return {"n_input": self.n_input, "n_hidden": self.n_hidden, "n_actions": self.n_actions,
                "delta": self.delta, "critic": self.critic, "seed": self.seed}

    def recurrent(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states (B, T, n_hidden) for inputs ``x`` (B, T, n_input) from ``h0`` (B, n)."""
        B = x.shape[0]
        h = x.new_zeros(1, B, self.n_hidden) if h0 is None else h0[None]
        out, _ = torch.rnn_relu(x, h, [self.U, self.W, self.b, self._no_bias],
                                True, 1, 0.0, self.training, False, True)
        return out

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        """Return ``(hidden (B, T, n), logits (B, T, n_actions), value (B, T) or None)``."""
        h = self.recurrent(x, h0)
        return (h, *self.heads(h))

    def forward_packed(self, x: torch.Tensor, packing):
        """:meth:`forward` on the steps of trials of different lengths, without padding.

        ``x`` (R, n_input) are the packed inputs and ``packing`` their
        :class:`~attractorkit.reference_models.packed.PackedTrials` layout; returns packed
        ``(hidden (R, n), logits (R, n_actions), value (R,) or None)``. The recurrence runs
        through :func:`~attractorkit.reference_models.packed.relu_rnn_packed` (hand-written
        BPTT, about twice as fast as autograd through the padded batch).
        """
        h = relu_rnn_packed(x, self.U, self.W, self.b, packing)
        return (h, *self.heads(h))

    def heads(self, h: torch.Tensor):
        """``(logits (..., n_actions), value (...) or None)`` read from hidden states ``h``."""
        logits = torch.nn.functional.linear(h, self.readout_weight, self.readout_bias)
        value = None
        if self.critic:
            value = torch.nn.functional.linear(h, self.value_weight, self.value_bias)[..., 0]
        return logits, value

    def step(self, h: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """One step of the recurrence: (B, n), (B, n_input) -> (B, n)."""
        return torch.relu(h @ self.W.T + x @ self.U.T + self.b)

    def to_model(self):
        """The recurrent map as an :class:`attractorkit.adapters.VanillaRNN` (float64 copies of
        the same weights, ReLU, discrete time), ready for every attractorkit analysis."""
        from attractorkit.adapters import VanillaRNN

        W, U, b = (p.detach().cpu().double().numpy().copy() for p in (self.W, self.U, self.b))
        return VanillaRNN(W, U, b, activation="relu")

    def readout_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Readout ``(weight (n_actions, n_hidden), bias (n_actions,))`` as float64 arrays."""
        return (self.readout_weight.detach().cpu().double().numpy().copy(),
                self.readout_bias.detach().cpu().double().numpy().copy())


def _atomic_write(path: Path, write) -> None:
    with atomic_path(path.parent, path.name) as tmp:
        write(str(tmp))


def _paths(path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_name(p.name + ".safetensors"), p.with_name(p.name + ".json")


def save_network(net: ReLURNN, path, metadata: dict | None = None) -> Path:
    """Save ``net`` as ``<path>.safetensors`` (weights) and ``<path>.json`` (architecture and
    ``metadata``), each written atomically. Returns the ``.safetensors`` path."""
    from safetensors.torch import save_file

    st, js = _paths(path)
    output_dir(st.parent)
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    meta = {"format": "attractorkit-relurnn", "version": 1,
            "architecture": net.architecture, **(metadata or {})}
    text = json.dumps(meta, indent=1, sort_keys=True)
    _atomic_write(st, lambda tmp: save_file(tensors, tmp))

    def write_json(tmp):
        with open(tmp, "w") as f:
            f.write(text)

    _atomic_write(js, write_json)
    return st


def load_network(path, *, device="cpu") -> tuple[ReLURNN, dict]:
    """Load a network saved by :func:`save_network`; returns ``(network, metadata)``.

    ``path`` may name the ``.safetensors`` file, the ``.json`` file or their common stem.
    """
    from safetensors.torch import load_file

    st, js = _paths(path)
    for p in (st, js):
        if not p.is_file():
            raise ResultFileError(f"path: expected a checkpoint file {p}, which does not exist")
    try:
        meta = json.loads(js.read_text())
        arch = meta["architecture"]
        net = ReLURNN(arch["n_input"], arch["n_hidden"], arch["n_actions"],
                      delta=arch["delta"], critic=arch["critic"], seed=arch["seed"])
        net.load_state_dict(load_file(str(st)))
    except (KeyError, TypeError, ValueError, RuntimeError, ValidationError) as exc:
        raise ResultFileError(f"path: {st} is not a readable ReLURNN checkpoint ({exc})") from exc
    return net.to(device), meta
