"""GRU and LSTM cells (PyTorch gate conventions) behind the uniform cell signature.

See :mod:`attractorkit._kernels.cells` for the layout of ``Wh, Wx, bh, bx``.

GRU (gate rows r, z, n)::

    r = sig(Wir u + bir + Whr h + bhr)        z = sig(Wiz u + biz + Whz h + bhz)
    s = Whn h + bhn                           n = tanh(Win u + bin + r * s)
    h' = (1 - z) * n + z * h

LSTM (gate rows i, f, g, o)::

    i, f, o = sig(.)   g = tanh(.)   c' = f * c + i * g   h' = o * tanh(c')

Layer l reads ``u = x`` (l = 0) or the NEW h of layer l-1. The flat state of a GRU is the layers'
h one after the other; of an LSTM all h layer by layer, then all c layer by layer. Jacobians of
layer l chain through the rows of layer l-1 already written (``J[l] += dF_l/du @ J[l-1]``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .activations import sigmoid as _sig

GRU = 2
LSTM = 3


@njit(cache=True)
def _preacts(l, Wh, Wx, bh, bx, h_l, u, gi, gh):
    """gi = Wx[l] u + bx[l], gh = Wh[l] h_l + bh[l] (u may be narrower than Wx's padding)."""
    GH = Wh.shape[1]
    H = Wh.shape[2]
    m = u.shape[0]
    for r in range(GH):
        s = bx[l, r]
        for k in range(m):
            s += Wx[l, r, k] * u[k]
        gi[r] = s
        t = bh[l, r]
        for k in range(H):
            t += Wh[l, r, k] * h_l[k]
        gh[r] = t


@njit(cache=True)
def _gru_layer(l, Wh, Wx, bh, bx, h_l, u, gi, gh, r, z, n, out_l):
    H = Wh.shape[2]
    _preacts(l, Wh, Wx, bh, bx, h_l, u, gi, gh)
    for i in range(H):
        r[i] = _sig(gi[i] + gh[i])
        z[i] = _sig(gi[H + i] + gh[H + i])
        n[i] = np.tanh(gi[2 * H + i] + r[i] * gh[2 * H + i])
        out_l[i] = (1.0 - z[i]) * n[i] + z[i] * h_l[i]


@njit(cache=True)
def _lstm_layer(l, Wh, Wx, bh, bx, h_l, c_l, u, gi, gh, ig, fg, gg, og, h_out, c_out):
    H = Wh.shape[2]
    _preacts(l, Wh, Wx, bh, bx, h_l, u, gi, gh)
    for i in range(H):
        ig[i] = _sig(gi[i] + gh[i])
        fg[i] = _sig(gi[H + i] + gh[H + i])
        gg[i] = np.tanh(gi[2 * H + i] + gh[2 * H + i])
        og[i] = _sig(gi[3 * H + i] + gh[3 * H + i])
        c_out[i] = fg[i] * c_l[i] + ig[i] * gg[i]
        h_out[i] = og[i] * np.tanh(c_out[i])


@njit(cache=True)
def gated_step(cell, Wh, Wx, bh, bx, h, x, out):
    """out = F(h, x) for a GRU or LSTM sample."""
    L = Wh.shape[0]
    GH = Wh.shape[1]
    H = Wh.shape[2]
    gi = np.empty(GH)
    gh = np.empty(GH)
    a = np.empty(H)
    b = np.empty(H)
    c = np.empty(H)
    d = np.empty(H)
    for l in range(L):
        u = x if l == 0 else out[(l - 1) * H:l * H]
        h_l = h[l * H:(l + 1) * H]
        if cell == GRU:
            _gru_layer(l, Wh, Wx, bh, bx, h_l, u, gi, gh, a, b, c, out[l * H:(l + 1) * H])
        else:
            c0 = L * H + l * H
            _lstm_layer(l, Wh, Wx, bh, bx, h_l, h[c0:c0 + H], u, gi, gh, a, b, c, d,
                        out[l * H:(l + 1) * H], out[c0:c0 + H])


@njit(cache=True)
def _chain(J, Jx, row, p0, w, want_input, first_layer, k):
    """Row ``row`` of J (and Jx) += w * d(new u_k)/d(state, x), u_k = row p0 + k of layer l-1."""
    if first_layer:
        if want_input:
            Jx[row, k] += w
        return
    n = J.shape[1]
    for j in range(n):
        J[row, j] += w * J[p0 + k, j]
    if want_input:
        for j in range(Jx.shape[1]):
            Jx[row, j] += w * Jx[p0 + k, j]


@njit(cache=True)
def _gru_jac_layer(l, Wh, Wx, h_l, gh, r, z, nn, width, J, Jx, want_input):
    H = Wh.shape[2]
    r0 = l * H
    p0 = (l - 1) * H
    for i in range(H):
        cz = (h_l[i] - nn[i]) * z[i] * (1.0 - z[i])
        cn = (1.0 - z[i]) * (1.0 - nn[i] * nn[i])
        cr = cn * gh[2 * H + i] * r[i] * (1.0 - r[i])
        crn = cn * r[i]
        for j in range(H):
            J[r0 + i, r0 + j] += cz * Wh[l, H + i, j] + crn * Wh[l, 2 * H + i, j] \
                + cr * Wh[l, i, j]
        J[r0 + i, r0 + i] += z[i]
        for k in range(width):
            w = cz * Wx[l, H + i, k] + cn * Wx[l, 2 * H + i, k] + cr * Wx[l, i, k]
            if w != 0.0:
                _chain(J, Jx, r0 + i, p0, w, want_input, l == 0, k)


@njit(cache=True)
def _lstm_jac_layer(l, L, Wh, Wx, c_l, c_new, ig, fg, gg, og, width, J, Jx, want_input):
    H = Wh.shape[2]
    hr = l * H
    cr = L * H + l * H
    p0 = (l - 1) * H
    for i in range(H):
        di = gg[i] * ig[i] * (1.0 - ig[i])     # dc'/d(pre_i)
        df = c_l[i] * fg[i] * (1.0 - fg[i])    # dc'/d(pre_f)
        dg = ig[i] * (1.0 - gg[i] * gg[i])     # dc'/d(pre_g)
        t = np.tanh(c_new[i])
        do = t * og[i] * (1.0 - og[i])         # dh'/d(pre_o)
        oc = og[i] * (1.0 - t * t)             # dh'/dc'
        for j in range(H):
            dc = di * Wh[l, i, j] + df * Wh[l, H + i, j] + dg * Wh[l, 2 * H + i, j]
            J[cr + i, hr + j] += dc
            J[hr + i, hr + j] += do * Wh[l, 3 * H + i, j] + oc * dc
        J[cr + i, cr + i] += fg[i]
        J[hr + i, cr + i] += oc * fg[i]
        for k in range(width):
            dc = di * Wx[l, i, k] + df * Wx[l, H + i, k] + dg * Wx[l, 2 * H + i, k]
            dh = do * Wx[l, 3 * H + i, k] + oc * dc
            if dc != 0.0:
                _chain(J, Jx, cr + i, p0, dc, want_input, l == 0, k)
            if dh != 0.0:
                _chain(J, Jx, hr + i, p0, dh, want_input, l == 0, k)


@njit(cache=True)
def gated_jacobians(cell, Wh, Wx, bh, bx, h, x, J, Jx):
    """Fill J = dF/dh and, unless ``Jx`` has no rows, Jx = dF/dx for a GRU or LSTM sample."""
    want_input = Jx.shape[0] > 0
    L = Wh.shape[0]
    GH = Wh.shape[1]
    H = Wh.shape[2]
    J[:, :] = 0.0
    if want_input:
        Jx[:, :] = 0.0
    gi = np.empty(GH)
    gh = np.empty(GH)
    a = np.empty(H)
    b = np.empty(H)
    c = np.empty(H)
    d = np.empty(H)
    new = np.empty(J.shape[0])
    for l in range(L):
        u = x if l == 0 else new[(l - 1) * H:l * H]
        width = u.shape[0]
        h_l = h[l * H:(l + 1) * H]
        if cell == GRU:
            _gru_layer(l, Wh, Wx, bh, bx, h_l, u, gi, gh, a, b, c, new[l * H:(l + 1) * H])
            _gru_jac_layer(l, Wh, Wx, h_l, gh, a, b, c, width, J, Jx, want_input)
        else:
            c0 = L * H + l * H
            c_l = h[c0:c0 + H]
            _lstm_layer(l, Wh, Wx, bh, bx, h_l, c_l, u, gi, gh, a, b, c, d,
                        new[l * H:(l + 1) * H], new[c0:c0 + H])
            _lstm_jac_layer(l, L, Wh, Wx, c_l, new[c0:c0 + H], a, b, c, d, width, J, Jx,
                            want_input)
