"""Numba kernels of the Lyapunov spectra: Benettin QR over tangent vectors streamed with the
state, never storing a Jacobian.

Row-block kernels run by :func:`.parallel.run_blocks` (first arguments ``k, n_blocks``):

- :func:`lyapunov_rows` for any standard cell: each trajectory on its own through
  :func:`cells.cell_jacobian`; for flows the variational equation is integrated by the same
  RK4 stages as the state (:func:`_tangent_rk4`);
- :func:`vanilla_lyapunov_rows` for single-layer vanilla maps: states and tangent vectors of a
  block stacked in one matrix, one BLAS product per step (fused with recording).

Accumulation: QR every ``qr_every`` steps and at the last step; log R_jj of segments starting at
or after step ``n_skip`` are added to ``logsum[b, j]`` and to ``wins[b, w, j]`` with
w = (start - n_skip) * n_windows // (n_steps - n_skip).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .cells import cell_jacobian, cell_step
from .parallel import block_bounds
from .rollout import advance_state, bad_state, vanilla_update


@njit(cache=True)
def _orthonormalise(Q, R):
    """Q (n, m) <- its orthonormal factor (columns by twice-applied Gram-Schmidt), R_jj >= 0."""
    n, m = Q.shape
    for j in range(m):
        for _ in range(2):
            for k in range(j):
                s = 0.0
                for i in range(n):
                    s += Q[i, k] * Q[i, j]
                for i in range(n):
                    Q[i, j] -= s * Q[i, k]
        s = 0.0
        for i in range(n):
            s += Q[i, j] * Q[i, j]
        s = np.sqrt(s)
        R[j] = s
        if s > 0.0:
            for i in range(n):
                Q[i, j] /= s


@njit(cache=True)
def _qr_step(Q, R, use_lapack):
    """Re-orthonormalise Q in place; R receives the diagonal of the triangular factor (>= 0)."""
    if not use_lapack:
        _orthonormalise(Q, R)
        return
    q, r = np.linalg.qr(Q)
    n, m = Q.shape
    for j in range(m):
        d = r[j, j]
        sign = 1.0
        if d < 0.0:
            d = -d
            sign = -1.0
        R[j] = d
        for i in range(n):
            Q[i, j] = sign * q[i, j]


@njit(cache=True)
def _tangent_rk4(cell, act, alpha, Wh, Wx, bh, bx, dt, h, x, Q, J, k, tmp, K, Qs, acc):
    """One RK4 step of (h, Q) for dh/dt = F(h), dQ/dt = J(h) Q (in place). Plain loops, no
    array expressions: they compile to far more code (broadcasting, temporaries)."""
    n, m = Q.shape
    hnew = h.copy()
    for i in range(n):
        tmp[i] = h[i]
        for j in range(m):
            Qs[i, j] = Q[i, j]
            acc[i, j] = 0.0
    for s in range(4):
        w = dt / 6.0 * (1.0 if s == 0 or s == 3 else 2.0)
        c = dt if s == 2 else 0.5 * dt  # the next stage's offset (unused after the last)
        cell_step(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, k)
        cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, J)
        np.dot(J, Qs, K)
        for i in range(n):
            hnew[i] += w * k[i]
            for j in range(m):
                acc[i, j] += w * K[i, j]
        if s < 3:
            for i in range(n):
                tmp[i] = h[i] + c * k[i]
                for j in range(m):
                    Qs[i, j] = Q[i, j] + c * K[i, j]
    for i in range(n):
        h[i] = hnew[i]
        for j in range(m):
            Q[i, j] += acc[i, j]


@njit(cache=True)
def _accumulate(R, seg_start, n_skip, n_steps, n_windows, logsum, wins, b):
    if seg_start >= n_skip:
        w = (seg_start - n_skip) * n_windows // (n_steps - n_skip)
        for j in range(R.shape[0]):
            lr = np.log(R[j]) if R[j] > 0.0 else -np.inf
            logsum[b, j] += lr
            wins[b, w, j] += lr


@njit(cache=True, nogil=True)
def lyapunov_rows(k, nb, cell, act, alpha, Wh, Wx, bh, bx, flow, dt, H, X, cidx, Q0, n_transient,
                  n_steps, n_skip, qr_every, n_windows, threshold, logsum, wins, diverged_at):
    """Benettin QR for the rows of block k, one trajectory at a time.

    H (B, n) is advanced in place by n_transient state-only steps, then n_steps steps with the
    tangent vectors Q (start Q0[b], (n, m)).
    """
    r0, r1 = block_bounds(k, nb, H.shape[0])
    n = H.shape[1]
    m = Q0.shape[2]
    Tx = X.shape[1]
    use_lapack = m > 8
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    tmp = np.empty(n)
    J = np.empty((n, n))
    K = np.empty((n, m))
    Qs = np.empty((n, m))
    acc = np.empty((n, m))
    R = np.empty(m)
    for b in range(r0, r1):
        h = H[b]
        Q = Q0[b].copy()
        diverged_at[b] = -1
        seg_start = np.int64(0)   # not a literal 0: _accumulate would compile for that too
        for t in range(n_transient + n_steps):
            x = X[cidx[b], t if Tx > 1 else 0]
            s = t - n_transient
            if s < 0:
                advance_state(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, h, x, k1, k2, k3, k4,
                              tmp)
            elif flow:
                _tangent_rk4(cell, act, alpha, Wh, Wx, bh, bx, dt, h, x, Q, J, k1, tmp, K, Qs,
                             acc)
            else:
                cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, h, x, J)
                np.dot(J, Q, K)
                cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, k1)
                for i in range(n):
                    h[i] = k1[i]
                    for j in range(m):
                        Q[i, j] = K[i, j]
            if bad_state(h, threshold):
                diverged_at[b] = t + 1
                break
            if s >= 0 and ((s + 1) % qr_every == 0 or s == n_steps - 1):
                _qr_step(Q, R, use_lapack)
                _accumulate(R, seg_start, n_skip, n_steps, n_windows, logsum, wins, b)
                seg_start = s + 1


# -- batched single-layer vanilla maps ----------------------------------------------------------
@njit(cache=True)
def _orthonormalise_batch(S, B, m, R, alive):
    """Gram-Schmidt (twice) on the tangent rows of S (layout of :func:`rollout.vanilla_update`):
    run b's tangent vectors are the rows ``B * (1 + j) + b``, a strided view handed to
    :func:`_orthonormalise` as the columns of an (n, m) matrix."""
    for b in range(B):
        if alive[b]:
            _orthonormalise(S[B + b:B * (1 + m):B].T, R[b])


@njit(cache=True, nogil=True)
def vanilla_lyapunov_rows(k, nb, act, alpha, WhT, Wx, C, X, cidx_all, H_all, Q0_all, n_steps,
                          n_skip, qr_every, n_windows, threshold, out_all, logsum_all, wins_all,
                          diverged_all):
    """Batched Benettin QR fused with recording for the rows of block k, single-layer vanilla
    maps. States and the m tangent vectors of every trajectory of the block are stacked in one
    (B_block (1 + m), n) matrix, so each step is one GEMM. ``Q0`` is (B, m, n) (tangent vectors
    as rows). Records ``out[b, j] = h_{j + 1}`` for j < out.shape[1]."""
    r0, r1 = block_bounds(k, nb, H_all.shape[0])
    cidx = cidx_all[r0:r1]
    H = H_all[r0:r1]
    out = out_all[r0:r1]
    logsum = logsum_all[r0:r1]
    wins = wins_all[r0:r1]
    diverged_at = diverged_all[r0:r1]
    B, n = H.shape
    m = Q0_all.shape[1]
    n_rec = out.shape[1]
    S = np.empty((B * (1 + m), n))
    for b in range(B):
        for i in range(n):
            S[b, i] = H[b, i]
        for j in range(m):
            for i in range(n):
                S[B * (1 + j) + b, i] = Q0_all[r0 + b, j, i]
    Z = np.empty_like(S)
    R = np.empty((B, m))
    alive = np.ones(B, dtype=np.bool_)
    for b in range(B):
        diverged_at[b] = -1
    seg_start = np.int64(0)   # not a literal 0: _accumulate would compile for that too
    Hv = S[:B]
    for t in range(n_steps):
        np.dot(S, WhT, Z)
        vanilla_update(act, alpha, Z, C, Wx, X, cidx, t, Hv, alive, threshold, diverged_at, S)
        if t < n_rec:
            for b in range(B):
                if alive[b]:
                    for i in range(n):
                        out[b, t, i] = Hv[b, i]
        if (t + 1) % qr_every == 0 or t == n_steps - 1:
            _orthonormalise_batch(S, B, m, R, alive)
            for b in range(B):
                if alive[b]:
                    _accumulate(R[b], seg_start, n_skip, n_steps, n_windows, logsum, wins, b)
            seg_start = t + 1
    for b in range(B):
        for i in range(n):
            H[b, i] = Hv[b, i]
