"""numpy-weight adapters for standard cells; each lowers to a numba kernel.

Weights must be floating point: integer or boolean weight arrays are refused with a message that
says how to convert them (they are usually a mistake), complex weights and NaN/Inf are refused.
"""

from __future__ import annotations

import numpy as np

from attractorkit._kernels.cells import ACTIVATION_CODES
from attractorkit.core import KernelModel, KernelSpec, ValidationError, check_choice

from ._layers import as_weight, flatten_state, layered_spec, unflatten_state

__all__ = ["VanillaRNN", "GRU", "LSTM"]


class VanillaRNN(KernelModel):
    """A vanilla (Elman) RNN from numpy weights.

    Map (``time="discrete"``): ``h' = (1 - alpha) h + alpha * phi(W h + U x + b)``;
    ``alpha=None`` means 1 (no leak); with ``alpha = dt / tau`` this is the Euler map of the
    flow below. Flow (``time="continuous"``): ``tau dh/dt = -h + phi(W h + U x + b)`` with
    ``tau = 1 / alpha`` (``alpha=None`` means 1), integrated by the analyses with RK4 of step
    ``dt`` (default ``tau / 10``).

    Parameters
    ----------
    W : array_like of shape (n_hidden, n_hidden)
    U : array_like of shape (n_hidden, n_input) or None (no input)
    b : array_like of shape (n_hidden,) or None (zeros)
    activation : {"tanh", "relu", "softplus", "sigmoid", "identity"}
    alpha : float or None
    time : {"discrete", "continuous"}
    dt : float or None
        Integration step of a flow; must be None for a map.

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import VanillaRNN
    >>> model = VanillaRNN(0.5 * np.eye(2), activation="relu")
    >>> model.step(np.ones((1, 2)), np.zeros((1, 0)))
    array([[0.5, 0.5]])
    """

    def __init__(self, W, U=None, b=None, *, activation="tanh", alpha=None,
                 time="discrete", dt=None):
        check_choice("activation", activation, tuple(ACTIVATION_CODES))
        check_choice("time", time, ("discrete", "continuous"))
        W = as_weight("W", W, ndim=2)
        n = W.shape[0]
        if W.shape != (n, n):
            raise ValidationError(f"W: expected shape (n_hidden, n_hidden), received {W.shape}")
        U = np.zeros((n, 0)) if U is None else as_weight("U", U, ndim=2)
        if U.shape[0] != n:
            raise ValidationError(f"U: expected shape ({n}, n_input), received {U.shape}")
        b = np.zeros(n) if b is None else as_weight("b", b, shape=(n,))
        spec = KernelSpec(
            cell="vanilla",
            activation=activation,
            time=time,
            alpha=1.0 if alpha is None else alpha,
            Wh=W[None],
            Wx=U[None],
            bh=b[None],
            bx=np.zeros((1, n)),
            n_input=U.shape[1],
        )
        super().__init__(spec, dt=dt)

    @property
    def W(self) -> np.ndarray:
        return self.kernel.Wh[0]

    @property
    def U(self) -> np.ndarray:
        return self.kernel.Wx[0]

    @property
    def b(self) -> np.ndarray:
        return self.kernel.bh[0]


class _Gated(KernelModel):
    _cell = ""

    def __init__(self, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
        super().__init__(layered_spec(self._cell, weight_ih, weight_hh, bias_ih, bias_hh))

    @property
    def n_layers(self) -> int:
        return self.kernel.n_layers

    @property
    def n_hidden(self) -> int:
        return self.kernel.n_hidden

    def flatten_state(self, state) -> np.ndarray:
        """PyTorch-layout state -> flat (B, n_state).

        ``state`` is ``h`` of shape (n_layers, B, n_hidden) or (n_layers, n_hidden) for a GRU,
        the pair ``(h, c)`` of such arrays for an LSTM.
        """
        return flatten_state(self._cell, state, self.n_layers, self.n_hidden)

    def unflatten_state(self, flat):
        """Flat (B, n_state) or (n_state,) -> ``h`` (n_layers, B, n_hidden), or ``(h, c)``."""
        return unflatten_state(self._cell, flat, self.n_layers, self.n_hidden)


class GRU(_Gated):
    """A (stacked) GRU from numpy weights in PyTorch's layout and gate conventions.

    ``r = sig(W_ir x + b_ir + W_hr h + b_hr)``, ``z = sig(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
    Layer l > 0 reads the new state of layer l-1; the flat state is the layers' h one after the
    other.

    Parameters
    ----------
    weight_ih : array_like of shape (3 * n_hidden, n_input), or a list with one per layer
        Layers above the first have shape (3 * n_hidden, n_hidden). Rows are r, z, n.
    weight_hh : array_like of shape (3 * n_hidden, n_hidden), or a list with one per layer
    bias_ih, bias_hh : array_like of shape (3 * n_hidden,), a list per layer, or None (zeros)
    """

    _cell = "gru"


class LSTM(_Gated):
    """A (stacked) LSTM from numpy weights in PyTorch's layout and gate conventions.

    Gate rows i, f, g, o: ``c' = f * c + i * g``, ``h' = o * tanh(c')``. The flat state is all
    h layer by layer, then all c layer by layer (size ``2 * n_layers * n_hidden``); use
    :meth:`flatten_state` and :meth:`unflatten_state` to convert ``(h, c)`` pairs.

    Parameters
    ----------
    weight_ih : array_like of shape (4 * n_hidden, n_input), or a list with one per layer
        Layers above the first have shape (4 * n_hidden, n_hidden).
    weight_hh : array_like of shape (4 * n_hidden, n_hidden), or a list with one per layer
    bias_ih, bias_hh : array_like of shape (4 * n_hidden,), a list per layer, or None (zeros)
    """

    _cell = "lstm"
