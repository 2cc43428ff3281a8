"""Plain-numpy reference cells (PyTorch conventions) and finite differences for tests."""

from __future__ import annotations

import numpy as np


def sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def gru_layer(Wih, Whh, bih, bhh, h, u):
    H = Whh.shape[1]
    gi = Wih @ u + bih
    gh = Whh @ h + bhh
    r = sig(gi[:H] + gh[:H])
    z = sig(gi[H:2 * H] + gh[H:2 * H])
    n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
    return (1 - z) * n + z * h


def lstm_layer(Wih, Whh, bih, bhh, h, c, u):
    H = Whh.shape[1]
    g = Wih @ u + bih + Whh @ h + bhh
    i, f, gg, o = sig(g[:H]), sig(g[H:2 * H]), np.tanh(g[2 * H:3 * H]), sig(g[3 * H:])
    c2 = f * c + i * gg
    return o * np.tanh(c2), c2


def stacked_step(cell, layers, h, x):
    """layers: list of (Wih, Whh, bih, bhh); h flat (n_state,) in attractorkit's layout."""
    L = len(layers)
    H = layers[0][1].shape[1]
    u = x
    hs, cs = [], []
    for l, (Wih, Whh, bih, bhh) in enumerate(layers):
        h_l = h[l * H:(l + 1) * H]
        if cell == "gru":
            u = gru_layer(Wih, Whh, bih, bhh, h_l, u)
            hs.append(u)
        else:
            c_l = h[L * H + l * H:L * H + (l + 1) * H]
            u, c2 = lstm_layer(Wih, Whh, bih, bhh, h_l, c_l, u)
            hs.append(u)
            cs.append(c2)
    return np.concatenate(hs + cs)


def random_layers(rng, cell, n_layers, n_input, n_hidden, scale=0.7):
    G = {"vanilla": 1, "gru": 3, "lstm": 4}[cell]
    out = []
    for l in range(n_layers):
        width = n_input if l == 0 else n_hidden
        out.append((scale * rng.standard_normal((G * n_hidden, width)),
                    scale * rng.standard_normal((G * n_hidden, n_hidden)),
                    scale * rng.standard_normal(G * n_hidden),
                    scale * rng.standard_normal(G * n_hidden)))
    return out


def fd_jacobian(f, v, eps=1e-6):
    """Central differences of a one-sample function f(v) -> (n,)."""
    cols = []
    for j in range(v.shape[0]):
        e = np.zeros_like(v)
        e[j] = eps
        cols.append((f(v + e) - f(v - e)) / (2 * eps))
    return np.stack(cols, axis=-1)
