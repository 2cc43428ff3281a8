"""Sussillo-Barak q-minimisation: Adam on ``q = |G|^2 / 2`` with a per-point learning rate
and a per-point stop (``find_fixed_points(..., method="q")``; finds slow points)."""

from __future__ import annotations

import numpy as np

from .._kernels import newton as _nk
from ..core._prepare import kernel_spec
from ._newton import _absmax, safe_step

__all__ = ["minimize_q"]

_CHUNK_BYTES = 64 * 2**20


# -- q-minimisation (Sussillo & Barak 2013) ------------------------------------------------------
def _q_and_grad(model, H, X, is_map):
    """q = |G|^2/2 and its gradient J_G^T G per row, without forming Jacobians where the
    model is a single-layer vanilla cell."""
    spec = kernel_spec(model)
    if spec is not None and spec.cell == "vanilla" and spec.n_layers == 1:
        W, a = spec.Wh[0], spec.alpha
        Z = H @ W.T + X @ spec.Wx[0, :, : X.shape[1]].T + spec.bh[0] + spec.bx[0]
        phi, D = _activation_and_derivative(spec.activation, Z)
        G = a * (phi - H)      # the map's F(h) - h and the flow's dh/dt are the same here
        back = (D * G) @ W
        grad = a * (back - G)  # J_G = a (D W - I)
        return 0.5 * np.sum(G * G, axis=1), grad
    G = safe_step(model, H, X)
    if is_map:
        G = G - H
    q = 0.5 * np.sum(G * G, axis=1)
    grad = np.empty_like(H)
    chunk = max(1, _CHUNK_BYTES // (8 * H.shape[1] ** 2))
    for s in range(0, H.shape[0], chunk):
        J = np.asarray(model.jacobian(H[s:s + chunk], X[s:s + chunk]), float)
        grad[s:s + chunk] = np.einsum("bji,bj->bi", J, G[s:s + chunk])
        if is_map:
            grad[s:s + chunk] -= G[s:s + chunk]
    return q, grad


def _activation_and_derivative(name, Z):
    """phi(Z) and phi'(Z) in numpy, as the cell kernels define them."""
    if name == "tanh":
        t = np.tanh(Z)
        return t, 1.0 - t * t
    if name == "relu":
        return np.maximum(Z, 0.0), (Z > 0).astype(float)
    if name == "sigmoid":
        s = 0.5 * (1 + np.tanh(0.5 * Z))
        return s, s * (1 - s)
    if name == "softplus":
        s = 0.5 * (1 + np.tanh(0.5 * np.minimum(Z, 20)))
        return np.where(Z > 20, Z, np.logaddexp(0.0, np.minimum(Z, 20))), np.where(Z > 20, 1.0, s)
    return Z, np.ones_like(Z)


def minimize_q(model, H0, X, *, tol_q=1e-12, max_iter=5000, lr=0.05, max_norm=1e6):
    """Adam on ``q = |G|^2 / 2`` for every row, each with its own learning rate (halved when
    its q rises, grown 5% when it falls) and its own stop at ``q < tol_q``.

    Returns H, q, iterations, status codes (as :func:`newton_solve`; a point whose learning rate has
    collapsed below 1e-14 is ``STALLED``, i.e. a slow point).
    """
    is_map = model.time == "discrete"
    H = H0.copy()
    B = H.shape[0]
    m1, m2 = np.zeros_like(H), np.zeros_like(H)
    rate = np.full(B, float(lr))
    q_prev = np.full(B, np.inf)
    q_out = np.full(B, np.inf)
    iters = np.zeros(B, np.int64)
    status = np.full(B, _nk.MAX_ITER)
    active = np.arange(B)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for it in range(1, max_iter + 2):
        with np.errstate(all="ignore"):
            q, g = _q_and_grad(model, H[active], X[active], is_map)
        q_out[active] = q
        bad = ~np.isfinite(q) | (_absmax(H[active]) > max_norm)
        done = (q < tol_q) | bad | (rate[active] < 1e-14)
        status[active[q < tol_q]] = _nk.CONVERGED
        status[active[bad]] = _nk.DIVERGED
        status[active[(rate[active] < 1e-14) & ~bad & ~(q < tol_q)]] = _nk.STALLED
        if it == max_iter + 1:
            break
        keep = ~done
        active, q, g = active[keep], q[keep], g[keep]
        if active.size == 0:
            break
        up = q > q_prev[active]
        rate[active] = np.where(up, rate[active] * 0.5, rate[active] * 1.05)
        q_prev[active] = q
        m1[active] = b1 * m1[active] + (1 - b1) * g
        m2[active] = b2 * m2[active] + (1 - b2) * g * g
        mh = m1[active] / (1 - b1 ** it)
        vh = m2[active] / (1 - b2 ** it)
        H[active] -= rate[active, None] * mh / (np.sqrt(vh) + eps)
        iters[active] = it
    return H, q_out, iters, status
