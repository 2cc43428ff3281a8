"""Standard recurrent cells as numba kernels, behind one uniform signature.

Every cell is described by the tuple ``(cell, act, alpha, Wh, Wx, bh, bx)`` (see
:class:`attractorkit.KernelSpec`):

- ``cell``: int code, one of ``VANILLA``, ``VANILLA_FLOW``, ``GRU``, ``LSTM``;
- ``act``: int activation code (vanilla cells only), one of ``TANH`` ... ``IDENTITY``;
- ``alpha``: leak of a vanilla map ``h' = (1-alpha) h + alpha phi(z)``; for a vanilla flow
  ``dh/dt = alpha (-h + phi(z))``, i.e. ``alpha = 1/tau``;
- ``Wh``: (L, G*H, H) recurrent weights per layer (G = 1, 3, 4 gates for vanilla, GRU, LSTM);
- ``Wx``: (L, G*H, I_max) input weights per layer, zero-padded to the widest layer input;
  layer l > 0 takes the new state of layer l-1 as input;
- ``bh``, ``bx``: (L, G*H) biases (vanilla uses their sum; GRU needs them apart).

The state is the layers' states concatenated (LSTM: all h layer by layer, then all c layer by
layer). Per-sample functions (``cell_step``, ``cell_jacobian``, ``cell_input_jacobian``) write
into preallocated outputs, so that algorithm kernels (Newton, simulation, Lyapunov QR) call them
inside ``prange`` loops; batched functions cover the common whole-batch operations.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .gated import _gated_jacobians, _gated_step

VANILLA = 0
VANILLA_FLOW = 1
GRU = 2
LSTM = 3

TANH = 0
RELU = 1
SOFTPLUS = 2
SIGMOID = 3
IDENTITY = 4

CELL_CODES = {"vanilla": VANILLA, "vanilla_flow": VANILLA_FLOW, "gru": GRU, "lstm": LSTM}
ACTIVATION_CODES = {
    "tanh": TANH,
    "relu": RELU,
    "softplus": SOFTPLUS,
    "sigmoid": SIGMOID,
    "identity": IDENTITY,
}


# -- activations ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(cache=True)
def activate(act, z, out):
    """out[i] = phi(z[i]) (softplus follows PyTorch: beta 1, threshold 20)."""
    n = z.shape[0]
    if act == TANH:
        for i in range(n):
            out[i] = np.tanh(z[i])
    elif act == RELU:
        for i in range(n):
            out[i] = z[i] if z[i] > 0.0 else 0.0
    elif act == SOFTPLUS:
        for i in range(n):
            out[i] = z[i] if z[i] > 20.0 else np.log1p(np.exp(z[i]))
    elif act == SIGMOID:
        for i in range(n):
            out[i] = _sigmoid(z[i])
    else:
        for i in range(n):
            out[i] = z[i]


@njit(cache=True)
def activate_derivative(act, z, out):
    """out[i] = phi'(z[i]) (ReLU'(0) = 0, as PyTorch)."""
    n = z.shape[0]
    if act == TANH:
        for i in range(n):
            t = np.tanh(z[i])
            out[i] = 1.0 - t * t
    elif act == RELU:
        for i in range(n):
            out[i] = 1.0 if z[i] > 0.0 else 0.0
    elif act == SOFTPLUS:
        for i in range(n):
            out[i] = 1.0 if z[i] > 20.0 else _sigmoid(z[i])
    elif act == SIGMOID:
        for i in range(n):
            s = _sigmoid(z[i])
            out[i] = s * (1.0 - s)
    else:
        for i in range(n):
            out[i] = 1.0


# -- vanilla (map and flow) ------------------------------------------------------------------
@njit(cache=True)
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


@njit(cache=True)
def _vanilla_step(flow, act, alpha, Wh, Wx, bh, bx, h, x, out):
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


@njit(cache=True)
def _vanilla_jacobians(flow, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx, want_input):
    """Fill J = dF/dh (n_state, n_state) and optionally Jx = dF/dx (n_state, n_input).

    Multi-layer (maps only): layer l reads the new state of layer l-1, so its rows chain through
    the rows of layer l-1 already computed.
    """
    L = Wh.shape[0]
    H = Wh.shape[2]
    n = L * H
    z = np.empty(H)
    d = np.empty(H)
    new = np.empty(n)
    _vanilla_step(flow, act, alpha, Wh, Wx, bh, bx, h, x, new)
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


# -- dispatch ----------------------------------------------------------------------------------
@njit(cache=True)
def cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
    """One sample: out = F(h, x) (the next state for maps, dh/dt for flows)."""
    if cell == VANILLA:
        _vanilla_step(False, act, alpha, Wh, Wx, bh, bx, h, x, out)
    elif cell == VANILLA_FLOW:
        _vanilla_step(True, act, alpha, Wh, Wx, bh, bx, h, x, out)
    else:
        _gated_step(cell, Wh, Wx, bh, bx, h, x, out)


@njit(cache=True)
def cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, h, x, J):
    """One sample: J = dF/dh, shape (n_state, n_state)."""
    dummy = np.empty((0, 0))
    if cell == VANILLA or cell == VANILLA_FLOW:
        _vanilla_jacobians(cell == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, h, x, J, dummy, False)
    else:
        _gated_jacobians(cell, Wh, Wx, bh, bx, h, x, J, dummy, False)


@njit(cache=True)
def cell_jacobians(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
    """One sample: J = dF/dh (n_state, n_state) and Jx = dF/dx (n_state, n_input)."""
    if cell == VANILLA or cell == VANILLA_FLOW:
        _vanilla_jacobians(cell == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx, True)
    else:
        _gated_jacobians(cell, Wh, Wx, bh, bx, h, x, J, Jx, True)


# -- batched -----------------------------------------------------------------------------------
@njit(cache=True)
def _vanilla_step_dense(flow, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """Single-layer vanilla cell on a batch: one BLAS product into ``out``, then a fused pass.

    Deliberately serial: the product is the whole cost and BLAS threads it; a ``prange`` pass
    after it only adds thread hand-over (measured 3-7x slower at B=1024, N=250 on 2 cores).
    """
    B = H.shape[0]
    n = Wh.shape[1]
    m = X.shape[1]
    np.dot(H, Wh[0].T, out)
    # input term with the input index outermost, over a transposed copy of the (thin) input
    # weights, so the inner loop is contiguous and vectorises: the naive order cost as much as
    # the recurrent product itself at B=1024, N=250, m=7
    UT = np.ascontiguousarray(Wx[0, :, :m].T)
    bias = np.empty(n)
    for i in range(n):
        bias[i] = bh[0, i] + bx[0, i]
    for r in range(B):
        row = out[r]
        for k in range(m):
            xk = X[r, k]
            for i in range(n):
                row[i] += xk * UT[k, i]
        for i in range(n):
            row[i] += bias[i]
        activate(act, row, row)
        if flow:
            for i in range(n):
                row[i] = alpha * (row[i] - H[r, i])
        else:
            for i in range(n):
                row[i] = (1.0 - alpha) * H[r, i] + alpha * row[i]


# Batches below this size run serially: a parallel region for one or two rows costs more in
# thread hand-over than the rows themselves, and far more when several Python threads (the
# classifier's evidence workers) enter parallel regions on a busy machine at once.
PARALLEL_MIN_ROWS = 4


@njit(cache=True, parallel=True)
def _step_rows_parallel(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    for b in prange(H.shape[0]):
        cell_step(cell, act, alpha, Wh, Wx, bh, bx, H[b], X[b], out[b])


@njit(cache=True)
def _step_rows(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    if H.shape[0] >= PARALLEL_MIN_ROWS:
        _step_rows_parallel(cell, act, alpha, Wh, Wx, bh, bx, H, X, out)
        return
    for b in range(H.shape[0]):
        cell_step(cell, act, alpha, Wh, Wx, bh, bx, H[b], X[b], out[b])


@njit(cache=True)
def step_batch(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """out[b] = F(H[b], X[b]) for a batch (``out`` may be ``H`` itself).

    Single-layer vanilla cells use one BLAS product; other cells run ``prange`` over rows.
    """
    if (cell == VANILLA or cell == VANILLA_FLOW) and Wh.shape[0] == 1 \
            and H.ctypes.data != out.ctypes.data and H.shape[0] > 0:
        _vanilla_step_dense(cell == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, H, X, out)
    elif H.ctypes.data == out.ctypes.data:
        tmp = np.empty_like(out)
        _step_rows(cell, act, alpha, Wh, Wx, bh, bx, H, X, tmp)
        out[:, :] = tmp
    else:
        _step_rows(cell, act, alpha, Wh, Wx, bh, bx, H, X, out)


@njit(cache=True, parallel=True)
def _jacobian_rows_parallel(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    for b in prange(H.shape[0]):
        cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, H[b], X[b], out[b])


@njit(cache=True)
def _jacobian_rows(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    if H.shape[0] >= PARALLEL_MIN_ROWS:
        _jacobian_rows_parallel(cell, act, alpha, Wh, Wx, bh, bx, H, X, out)
        return
    for b in range(H.shape[0]):
        cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, H[b], X[b], out[b])


@njit(cache=True)
def _fill_jacobian(flow, alpha, W, d, J):
    """J = diag(alpha d) W + ((1 - alpha) or -alpha) I."""
    n = W.shape[0]
    diag = -alpha if flow else 1.0 - alpha
    for i in range(n):
        g = alpha * d[i]
        for j in range(n):
            J[i, j] = g * W[i, j]
        J[i, i] += diag


@njit(cache=True, parallel=True)
def _fill_jacobians_parallel(flow, alpha, W, D, out):
    for b in prange(D.shape[0]):
        _fill_jacobian(flow, alpha, W, D[b], out[b])


@njit(cache=True)
def _vanilla_fill_jacobians(flow, alpha, W, D, out):
    """out[b] = diag(alpha D[b]) W + ((1 - alpha) or -alpha) I."""
    if D.shape[0] >= PARALLEL_MIN_ROWS:
        _fill_jacobians_parallel(flow, alpha, W, D, out)
        return
    for b in range(D.shape[0]):
        _fill_jacobian(flow, alpha, W, D[b], out[b])


@njit(cache=True)
def jacobian_batch(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """out[b] = dF/dh at (H[b], X[b]).

    Single-layer vanilla cells get all pre-activations from one BLAS product, then fill the
    Jacobians in parallel; other cells run ``prange`` over rows.
    """
    if (cell == VANILLA or cell == VANILLA_FLOW) and Wh.shape[0] == 1 and H.shape[0] > 0:
        B = H.shape[0]
        n = Wh.shape[1]
        m = X.shape[1]
        Z = np.empty((B, n))
        np.dot(H, Wh[0].T, Z)
        D = np.empty((B, n))
        for r in range(B):
            row = Z[r]
            for i in range(n):
                z = row[i] + bh[0, i] + bx[0, i]
                for k in range(m):
                    z += X[r, k] * Wx[0, i, k]
                row[i] = z
            activate_derivative(act, row, D[r])
        _vanilla_fill_jacobians(cell == VANILLA_FLOW, alpha, Wh[0], D, out)
    else:
        _jacobian_rows(cell, act, alpha, Wh, Wx, bh, bx, H, X, out)


@njit(cache=True, parallel=True)
def input_jacobian_batch(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """out[b] = dF/dx at (H[b], X[b])."""
    n = out.shape[1]
    for b in prange(H.shape[0]):
        J = np.empty((n, n))
        cell_jacobians(cell, act, alpha, Wh, Wx, bh, bx, H[b], X[b], J, out[b])
