"""Vanilla cells (maps and flows, one or more layers) for one sample, behind the uniform cell
signature of :mod:`attractorkit._kernels.cells`.

Map ``h' = (1 - alpha) h + alpha phi(z)``, flow ``dh/dt = alpha (-h + phi(z))``, with
``z = Wh h + Wx u + bh + bx``; layer l > 0 reads the new state of layer l-1 as its input u.

The functions are inlined into their callers (``inline="always"``: no compilation of their
own, and one level less of numba's per-function optimisation and code generation, which
dominated the first-use compilation of the Newton kernel). numba's cache does not notice edits
of this file in the callers' cached code: clear the cache (or touch cells.py) with them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .activations import activate, activate_derivative


@njit(cache=True, inline="always")
def _vanilla_preact(l, Wh, Wx, bh, bx, h_l, u_l, z):
    """z = Wh[l] h_l + Wx[l] u_l + bh[l] + bx[l] (u_l may be shorter than Wx's padded width)."""
    H = Wh.shape[1]
    m = u_l.shape[0]
    for i in range(H):
        s = bh[l, i] + bx[l, i]
        for j in range(H):
            s += Wh[l, i, j] * h_l[j]
        for j in range(m):
            s += Wx[l, i, j] * u_l[j]
        z[i] = s


@njit(cache=True, inline="always")
def vanilla_step(flow, act, alpha, Wh, Wx, bh, bx, h, x, out):
    """out = F(h, x): the next state of the map, or dh/dt of the flow."""
    L = Wh.shape[0]
    H = Wh.shape[2]
    z = np.empty(H)
    a = np.empty(H)
    for l in range(L):
        h_l = h[l * H:(l + 1) * H]
        u_l = x if l == 0 else out[(l - 1) * H:l * H]
        _vanilla_preact(l, Wh, Wx, bh, bx, h_l, u_l, z)
        activate(act, z, a)
        for i in range(H):
            if flow:
                out[l * H + i] = alpha * (a[i] - h_l[i])
            else:
                out[l * H + i] = (1.0 - alpha) * h_l[i] + alpha * a[i]


@njit(cache=True, inline="always")
def vanilla_jacobians(flow, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
    """Fill J = dF/dh (n_state, n_state) and, unless ``Jx`` has no rows, Jx = dF/dx
    (n_state, n_input).

    Multi-layer (maps only): layer l reads the new state of layer l-1, so its rows chain through
    the rows of layer l-1 already computed.
    """
    want_input = Jx.shape[0] > 0
    L = Wh.shape[0]
    H = Wh.shape[2]
    n = L * H
    z = np.empty(H)
    d = np.empty(H)
    new = np.empty(n)
    vanilla_step(flow, act, alpha, Wh, Wx, bh, bx, h, x, new)
    J[:, :] = 0.0
    if want_input:
        Jx[:, :] = 0.0
    m = x.shape[0]
    for l in range(L):
        h_l = h[l * H:(l + 1) * H]
        u_l = x if l == 0 else new[(l - 1) * H:l * H]
        _vanilla_preact(l, Wh, Wx, bh, bx, h_l, u_l, z)
        activate_derivative(act, z, d)
        r0 = l * H
        for i in range(H):
            g = alpha * d[i]
            for j in range(H):
                J[r0 + i, r0 + j] = g * Wh[l, i, j]
            J[r0 + i, r0 + i] += -alpha if flow else (1.0 - alpha)
            if l == 0:
                if want_input:
                    for j in range(m):
                        Jx[i, j] = g * Wx[0, i, j]
            else:
                p0 = (l - 1) * H
                for k in range(H):
                    w = g * Wx[l, i, k]
                    if w != 0.0:
                        for j in range(n):
                            J[r0 + i, j] += w * J[p0 + k, j]
                        if want_input:
                            for j in range(m):
                                Jx[r0 + i, j] += w * Jx[p0 + k, j]
