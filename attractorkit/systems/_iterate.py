"""The p-th iterate ``F^p`` of a map, and the one chain rule of composed maps."""

from __future__ import annotations

import numpy as np

from ..core._errors import ModelTypeError, ValidationError
from ..core._model import is_model
from ..core._validation import as_input_batch, as_state_batch, check_int

__all__ = ["Iterate", "chain_jacobians"]


def _times(J, M):
    """``J @ M`` per batch row, skipping the rows of ``J`` that vanish (silent ReLU units):
    their rows of the product are exact zeros, whatever ``M`` holds."""
    live = np.any(J != 0, axis=2)                     # (B, n)
    if live.all():
        return J @ M
    B = J.shape[0]
    if B <= 8 or live.mean() <= 0.5:                  # compact: the product of live rows only
        out = np.zeros(J.shape[:2] + M.shape[2:])
        for b in range(B):
            rows = np.flatnonzero(live[b])
            out[b, rows] = J[b, rows] @ M[b]
        return out
    out = J @ M
    out[~live] = 0.0
    return out


def chain_jacobians(jacobians, inputs=None):
    """The chain rule of a composition ``F_{p-1} o ... o F_0``: ``J_{p-1} ... J_0``.

    Parameters
    ----------
    jacobians : iterable of ndarray of shape (B, n, n)
        ``J_k``, the Jacobian of step k at the state reached after k steps, in time order
        (an iterator is consumed one matrix at a time, so that long compositions never hold
        every Jacobian at once).
    inputs : iterable of ndarray of shape (B, n, m), optional
        ``B_k = dF_k/dx`` per step; when given, ``d h_p / dx = sum_k J_{p-1} ... J_{k+1} B_k``
        is returned as well.

    Returns
    -------
    M : ndarray of shape (B, n, n)
    S : ndarray of shape (B, n, m)
        Only when ``inputs`` is given.

    Rows of a ``J_k`` that vanish (silent ReLU units) are skipped in the products: their rows
    of the result are exact zeros.
    """
    M = S = None
    ins = iter(inputs) if inputs is not None else None
    for J in jacobians:
        J = np.asarray(J, float)
        M = J.copy() if M is None else _times(J, M)
        if ins is not None:
            Bk = np.asarray(next(ins), float)
            S = Bk.copy() if S is None else _times(J, S) + Bk
    if M is None:
        raise ValidationError("jacobians: expected at least one Jacobian, received none")
    return (M, S) if ins is not None else M


class Iterate:
    """The p-th iterate of a map, ``h' = F^p(h, x)`` (the input held over the p steps).

    It satisfies :class:`attractorkit.Model`: its fixed points are the period-p points of the
    map, and its Jacobian at ``h`` is the monodromy matrix ``J_{p-1} ... J_0`` along the orbit
    (:func:`chain_jacobians`). Every fixed-point tool therefore finds cycles unchanged.

    Parameters
    ----------
    model : Model
        A map (``time="discrete"``).
    p : int
        ``p >= 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import VanillaRNN
    >>> from attractorkit.systems import Iterate
    >>> flip = VanillaRNN(np.array([[-2.0]]), activation="tanh")
    >>> F2 = Iterate(flip, 2)
    >>> h = np.array([[0.957504]])
    >>> bool(np.allclose(F2.step(h, np.zeros((1, 0))), h, atol=1e-6))
    True
    """

    dt = None
    time = "discrete"

    def __init__(self, model, p):
        if not is_model(model):
            raise ModelTypeError(f"model: expected an object implementing attractorkit.Model, "
                                 f"received {type(model).__name__}")
        if model.time != "discrete":
            raise ValidationError("model: Iterate needs a map (time='discrete'), received a flow")
        self.model = model
        self.p = check_int("p", p, minimum=1)
        self.n_state, self.n_input = int(model.n_state), int(model.n_input)

    def _args(self, h, x):
        H = as_state_batch("h", h, self.n_state)
        return H, as_input_batch("x", x, self.n_input, H.shape[0])

    def orbit(self, h, x) -> np.ndarray:
        """The states ``h, F(h), ..., F^p(h)``, shape (B, p + 1, n_state). Rows that stop
        being finite stay NaN from there on (a model need not accept NaN)."""
        H, X = self._args(h, x)
        out = np.full((H.shape[0], self.p + 1, self.n_state), np.nan)
        out[:, 0] = H
        ok = np.all(np.isfinite(H), axis=1)
        with np.errstate(all="ignore"):
            for k in range(self.p):
                if ok.any():
                    out[ok, k + 1] = np.asarray(self.model.step(out[ok, k], X[ok]), float)
                ok &= np.all(np.isfinite(out[:, k + 1]), axis=1)
        return out

    def step(self, h, x) -> np.ndarray:
        return self.orbit(h, x)[:, self.p]

    def jacobian(self, h, x) -> np.ndarray:
        return self.step_and_jacobian(h, x)[1]

    def step_and_jacobian(self, h, x):
        """``(F^p(h), dF^p/dh)`` from one orbit."""
        H, X = self._args(h, x)
        orb = self.orbit(H, X)
        J = chain_jacobians(self._jacobians(orb, X))
        return orb[:, self.p], J

    def input_jacobian(self, h, x) -> np.ndarray:
        H, X = self._args(h, x)
        orb = self.orbit(H, X)
        ins = (np.asarray(self.model.input_jacobian(orb[:, k], X), float)
               for k in range(self.p))
        return chain_jacobians(self._jacobians(orb, X), ins)[1]

    def _jacobians(self, orb, X):
        for k in range(self.p):
            ok = np.all(np.isfinite(orb[:, k]), axis=1)
            J = np.full((orb.shape[0], self.n_state, self.n_state), np.nan)
            if ok.any():
                J[ok] = np.asarray(self.model.jacobian(orb[ok, k], X[ok]), float)
            yield J

    def __repr__(self) -> str:
        return f"Iterate({type(self.model).__name__}, p={self.p}, n_state={self.n_state})"
