"""numpy-weight adapters for standard cells; each lowers to a numba kernel."""

from __future__ import annotations

import numpy as np

from attractorkit._model import KernelModel, KernelSpec
from attractorkit._validation import as_float_array, check_choice

__all__ = ["VanillaRNN"]


class VanillaRNN(KernelModel):
    """A vanilla (Elman) RNN from numpy weights.

    Map (``time="discrete"``): ``h' = (1 - alpha) h + alpha * phi(W h + U x + b)``;
    ``alpha=None`` means 1 (no leak). Flow (``time="continuous"``):
    ``tau dh/dt = -h + phi(W h + U x + b)`` with ``tau = 1 / alpha`` (``alpha=None`` means 1),
    integrated with RK4 of step ``dt`` (default ``tau / 10``).

    Parameters
    ----------
    W : array_like of shape (n_hidden, n_hidden)
    U : array_like of shape (n_hidden, n_input) or None (no input)
    b : array_like of shape (n_hidden,) or None (zeros)
    activation : {"tanh", "relu", "softplus", "sigmoid", "identity"}
    """

    def __init__(self, W, U=None, b=None, *, activation="tanh", alpha=None,
                 time="discrete", dt=None):
        W = as_float_array("W", W, ndim=2)
        n = W.shape[0]
        if W.shape != (n, n):
            raise_shape("W", "(n_hidden, n_hidden)", W.shape)
        U = np.zeros((n, 0)) if U is None else as_float_array("U", U, ndim=2)
        if U.shape[0] != n:
            raise_shape("U", f"({n}, n_input)", U.shape)
        b = np.zeros(n) if b is None else as_float_array("b", b, shape=(n,))
        check_choice("time", time, ("discrete", "continuous"))
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


def raise_shape(name, want, got):
    from attractorkit._errors import ValidationError

    raise ValidationError(f"{name}: expected shape {want}, received {got}")
