"""A model held at one constant input: an autonomous system with ``n_input == 0``."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._errors import ModelTypeError, ValidationError
from ..core._model import is_model
from ..core._prepare import kernel_spec
from ..core._validation import as_float_array, as_state_batch

__all__ = ["FrozenInput"]


class FrozenInput:
    """``model`` at the constant input ``x``: ``h' = F(h, x)`` (or ``dh/dt = F(h, x)``) as a
    model without inputs.

    It satisfies :class:`attractorkit.Model` (``n_input`` is 0, ``time`` and ``dt`` are the
    model's). When ``model`` has a numba ``kernel`` (a standard cell), so does the frozen
    model: the input drive ``W_x x`` is folded into the input bias, which is exact for vanilla,
    GRU and LSTM cells (the input enters each gate additively), so analyses keep their compiled
    paths.

    Parameters
    ----------
    model : Model
    x : array_like of shape (n_input,)

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> from attractorkit.systems import FrozenInput
    >>> m = VanillaRNN(np.zeros((2, 2)), U=np.eye(2), activation="tanh")
    >>> f = FrozenInput(m, [0.5, -1.0])
    >>> f.n_input, np.round(f.step(np.zeros((1, 2)), np.zeros((1, 0))), 4)
    (0, array([[ 0.4621, -0.7616]]))
    """

    n_input = 0

    def __init__(self, model, x):
        if not is_model(model):
            raise ModelTypeError(f"model: expected an object implementing attractorkit.Model, "
                                 f"received {type(model).__name__}")
        x = as_float_array("x", x, ndim=1)
        if x.shape[0] != model.n_input:
            raise ValidationError(f"x: expected shape ({model.n_input},) (the model's n_input), "
                                  f"received {x.shape}")
        self.model, self.x = model, x
        self.n_state, self.time, self.dt = int(model.n_state), model.time, model.dt
        self.kernel = _folded(kernel_spec(model), x)
        if self.kernel is None and callable(getattr(model, "newton_solve", None)):
            self.newton_solve = self._newton_solve   # the model's own solver, at x

    def _args(self, h):
        H = as_state_batch("h", h, self.n_state)
        return H, np.ascontiguousarray(np.broadcast_to(self.x, (H.shape[0], self.x.size)))

    def step(self, h, x=None) -> np.ndarray:
        return np.asarray(self.model.step(*self._args(h)), float)

    def jacobian(self, h, x=None) -> np.ndarray:
        return np.asarray(self.model.jacobian(*self._args(h)), float)

    def input_jacobian(self, h, x=None) -> np.ndarray:
        return np.zeros((np.shape(h)[0] if np.ndim(h) == 2 else 1, self.n_state, 0))

    def _newton_solve(self, H0, X=None, **kw):
        H, Xm = self._args(H0)
        return self.model.newton_solve(H, Xm, **kw)

    def __repr__(self) -> str:
        return (f"FrozenInput({type(self.model).__name__}, n_state={self.n_state}, "
                f"x of width {self.x.size})")


def _folded(spec, x):
    """The KernelSpec of the frozen model: layer 0's input drive moved into its bias."""
    if spec is None:
        return None
    m = spec.n_input
    Wx = spec.Wx.copy()
    bx = spec.bx.copy()
    bx[0] += Wx[0, :, :m] @ x
    Wx[0, :, :m] = 0.0
    return dataclasses.replace(spec, Wx=Wx, bx=bx, n_input=0) if m else spec

