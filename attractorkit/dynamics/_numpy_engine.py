"""The engine for models without a numba kernel: batched numpy through ``model.step`` and
``model.jacobian``, the same algorithms as the kernels (:mod:`attractorkit._kernels.rollout`,
:mod:`attractorkit._kernels.tangent`) and the same conventions.

:func:`evaluate` (F on the finite rows of a batch) is public; the rest is called by
:mod:`._engine` only.
"""

from __future__ import annotations

import numpy as np

from ..core._errors import ValidationError
from ..core._prepare import check_model_arg
from ..core._validation import as_float_array, as_input_batch

__all__ = ["evaluate", "finite_step", "numpy_advance", "numpy_tangent", "numpy_rollout",
           "numpy_lyapunov"]


def _field(model, h, x):
    out = np.asarray(model.step(h, x), dtype=float)
    if out.shape != h.shape:
        raise ValidationError(
            f"model.step: expected output of shape {h.shape}, received {out.shape}"
        )
    return out


def evaluate(model, states, inputs=None) -> np.ndarray:
    """F(h, x) for a batch: the next state of a map, dh/dt of a flow.

    ``model.step`` with two guarantees the analyses rely on: rows with a non-finite entry are
    never passed to the model (models may refuse NaN; their output rows are NaN), and the
    output is checked to have the shape of the states.

    Parameters
    ----------
    model : Model
    states : array_like of shape (n_state,) or (B, n_state)
        May contain NaN rows (diverged runs).
    inputs : array_like of shape (n_input,) or (B, n_input), or None for models without inputs

    Returns
    -------
    ndarray of shape (B, n_state)

    See Also
    --------
    advance : several steps (RK4 for flows), with records.

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import VanillaRNN
    >>> from attractorkit.dynamics import evaluate
    >>> model = VanillaRNN(0.5 * np.eye(2), activation="identity")
    >>> evaluate(model, [[1.0, 2.0], [np.nan, 0.0]])
    array([[0.5, 1. ],
           [nan, nan]])
    """
    check_model_arg(model, probe=False)
    H = as_float_array("states", states, ndim=(1, 2), finite=False)
    H = H[None] if H.ndim == 1 else H
    if H.shape[1] != model.n_state:
        raise ValidationError(f"states: expected width n_state={model.n_state}, received shape "
                              f"{H.shape}")
    X = as_input_batch("inputs", inputs, int(model.n_input), H.shape[0])
    return finite_step(model, H, X)


def finite_step(model, H, X):
    """:func:`evaluate` on prepared arrays H (B, n), X (B, m)."""
    ok = np.isfinite(H).all(axis=1)
    if ok.all():
        return _field(model, H, X)
    out = np.full(H.shape, np.nan)
    if ok.any():
        out[ok] = _field(model, H[ok], X[ok])
    return out


def _per_row(dt, ndim):
    """A step ``dt`` (a number, or one per row of shape (B,)) shaped to broadcast against
    arrays of ``ndim`` dimensions whose first axis is the batch."""
    return dt if np.ndim(dt) == 0 else np.reshape(dt, (-1,) + (1,) * (ndim - 1))


def numpy_advance(model, h, x, flow, dt):
    """One map step, or one RK4 step of step dt of the flow, for a batch (the numpy RK4).
    ``dt`` may be one step per row, shape (B,) (the partial steps of a return map)."""
    if not flow:
        return _field(model, h, x)
    dt = _per_row(dt, 2)
    k1 = _field(model, h, x)
    k2 = _field(model, h + 0.5 * dt * k1, x)
    k3 = _field(model, h + 0.5 * dt * k2, x)
    k4 = _field(model, h + dt * k3, x)
    return h + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def numpy_rollout(model, H, X, cidx, n_transient, n_steps, stride, threshold, out, div, flow,
                  dt):
    """:func:`attractorkit._kernels.rollout.rollout_rows` in numpy: H advanced in place."""
    active = np.arange(H.shape[0])
    varying = X.shape[1] > 1
    with np.errstate(all="ignore"):
        for t in range(n_transient + n_steps):
            if active.size == 0:
                break
            x = X[cidx[active], t if varying else 0]
            h = numpy_advance(model, H[active], x, flow, dt)
            bad = ~(np.abs(h) <= threshold).all(axis=1)
            if bad.any():
                div[active[bad]] = t + 1
                h = h[~bad]
                active = active[~bad]
            H[active] = h
            s = t + 1 - n_transient
            if s > 0 and s % stride == 0 and s // stride - 1 < out.shape[1]:
                out[active, s // stride - 1] = h


def _jac(model, h, x):
    J = np.asarray(model.jacobian(h, x), dtype=float)
    if J.shape != (h.shape[0], h.shape[1], h.shape[1]):
        raise ValidationError(
            f"model.jacobian: expected shape {(h.shape[0], h.shape[1], h.shape[1])}, received "
            f"{J.shape}"
        )
    return J


def numpy_tangent(model, h, Q, x, flow, dt):
    """One step of the state and of tangent vectors Q (B, n, k): a map step with its
    Jacobian, or one RK4 step of the flow with the variational equation integrated by the same
    stages (the exact derivative of the RK4 step). ``dt`` may be one step per row, shape (B,)."""
    if not flow:
        return _field(model, h, x), _jac(model, h, x) @ Q
    dh, dQ = _per_row(dt, 2), _per_row(dt, 3)
    hs, Qs = h, Q
    acc_h = h.copy()
    acc_Q = Q.copy()
    for c, w in ((0.5, 1.0), (0.5, 2.0), (1.0, 2.0), (0.0, 1.0)):
        k = _field(model, hs, x)
        K = _jac(model, hs, x) @ Qs
        acc_h += dh / 6.0 * w * k
        acc_Q += dQ / 6.0 * w * K
        hs = h + c * dh * k
        Qs = Q + c * dQ * K
    return acc_h, acc_Q


def numpy_lyapunov(model, H, X, cidx, Q, n_transient, n_steps, n_skip, qr_every, n_windows,
                   threshold, logsum, wins, div, flow, dt):
    """:func:`attractorkit._kernels.tangent.lyapunov_rows` in numpy: H and Q advanced in
    place."""
    active = np.arange(H.shape[0])
    varying = X.shape[1] > 1
    seg_start = 0
    with np.errstate(all="ignore"):
        for t in range(n_transient + n_steps):
            if active.size == 0:
                break
            x = X[cidx[active], t if varying else 0]
            s = t - n_transient
            if s < 0:
                h = numpy_advance(model, H[active], x, flow, dt)
            else:
                h, Q[active] = numpy_tangent(model, H[active], Q[active], x, flow, dt)
            bad = ~(np.abs(h) <= threshold).all(axis=1)
            if bad.any():
                div[active[bad]] = t + 1
                h, active = h[~bad], active[~bad]
            H[active] = h
            if s >= 0 and ((s + 1) % qr_every == 0 or s == n_steps - 1):
                q, r = np.linalg.qr(Q[active])
                d = np.diagonal(r, axis1=1, axis2=2)
                Q[active] = q * np.sign(np.where(d == 0, 1.0, d))[:, None, :]
                if seg_start >= n_skip:
                    w = (seg_start - n_skip) * n_windows // (n_steps - n_skip)
                    lr = np.log(np.abs(d))
                    logsum[active] += lr
                    wins[active, w] += lr
                seg_start = s + 1
