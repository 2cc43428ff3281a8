"""Numba kernels of the asymptotic-dynamics analyses: rollouts and Lyapunov QR.

Two families:

- per-sample kernels (``rollout``, ``lyapunov_qr``) for any standard cell: ``prange`` over
  trajectories, each calling :func:`cells.cell_step` / :func:`cells.cell_jacobian`; flows are
  integrated with fixed-step RK4 (tangent vectors with the same RK4 stages);
- batched kernels for single-layer vanilla maps (``vanilla_rollout``, ``vanilla_lyapunov``): one
  BLAS product per step for the whole batch (states and tangent vectors stacked), the
  elementwise part fused in a ``prange`` loop. This is the census hot path.

Conventions: ``X`` is (n_xc, Tx, n_input) and ``cidx[b]`` picks the input row of trajectory b;
``Tx == 1`` means a constant input, otherwise ``X[c, t]`` drives step t (t counts from 0 at the
first step of the call, transient included). A trajectory diverges at step t (``diverged_at[b] =
t + 1``) when any state entry is non-finite or exceeds ``threshold`` in absolute value; it is then
stopped and its remaining records stay as the caller initialised them (NaN).

The ReLU region kernels of :mod:`.region` are compiled into ``_rollout_block``; numba's cache
does not notice edits of region.py, so touch this file (or clear the cache) with them.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .cells import RELU, SIGMOID, SOFTPLUS, TANH, cell_jacobian, cell_step
from .region import region_settled, relu_step


@njit(cache=True, inline="always")
def _act(act, z):
    if act == TANH:
        return np.tanh(z)
    if act == RELU:
        return z if z > 0.0 else 0.0
    if act == SOFTPLUS:
        return z if z > 20.0 else np.log1p(np.exp(z))
    if act == SIGMOID:
        return 1.0 / (1.0 + np.exp(-z)) if z >= 0.0 else np.exp(z) / (1.0 + np.exp(z))
    return z


@njit(cache=True, inline="always")
def _dact(act, z):
    if act == TANH:
        t = np.tanh(z)
        return 1.0 - t * t
    if act == RELU:
        return 1.0 if z > 0.0 else 0.0
    if act == SOFTPLUS:
        return 1.0 if z > 20.0 else 1.0 / (1.0 + np.exp(-z))
    if act == SIGMOID:
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    return 1.0


@njit(cache=True)
def _bad(h, threshold):
    for i in range(h.shape[0]):
        if not (abs(h[i]) <= threshold):  # also catches NaN
            return True
    return False


@njit(cache=True)
def _advance(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, h, x, k1, k2, k3, k4, tmp):
    """h <- one map step or one RK4 step of the flow (in place)."""
    n = h.shape[0]
    cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, k1)
    if not flow:
        h[:] = k1
        return
    for i in range(n):
        tmp[i] = h[i] + 0.5 * dt * k1[i]
    cell_step(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, k2)
    for i in range(n):
        tmp[i] = h[i] + 0.5 * dt * k2[i]
    cell_step(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, k3)
    for i in range(n):
        tmp[i] = h[i] + dt * k3[i]
    cell_step(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, k4)
    for i in range(n):
        h[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@njit(cache=True, parallel=True, nogil=True)
def rollout(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, H, X, cidx, n_transient, n_steps,
            stride, threshold, out, diverged_at):
    """Advance every row of H (in place) by n_transient + n_steps steps.

    ``out[b, k] = h_{n_transient + (k + 1) stride}`` for k < out.shape[1].
    """
    B, n = H.shape
    n_rec = out.shape[1]
    Tx = X.shape[1]
    total = n_transient + n_steps
    for b in prange(B):
        h = H[b]
        k1 = np.empty(n)
        k2 = np.empty(n)
        k3 = np.empty(n)
        k4 = np.empty(n)
        tmp = np.empty(n)
        diverged_at[b] = -1
        for t in range(total):
            x = X[cidx[b], t if Tx > 1 else 0]
            _advance(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, h, x, k1, k2, k3, k4, tmp)
            if _bad(h, threshold):
                diverged_at[b] = t + 1
                break
            s = t + 1 - n_transient
            if s > 0 and s % stride == 0:
                k = s // stride - 1
                if k < n_rec:
                    out[b, k, :] = h


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
    m = Q.shape[1]
    for j in range(m):
        d = r[j, j]
        if d < 0.0:
            d = -d
            for i in range(Q.shape[0]):
                q[i, j] = -q[i, j]
        R[j] = d
    Q[:, :] = q


@njit(cache=True)
def _tangent_rk4(cell, act, alpha, Wh, Wx, bh, bx, dt, h, x, Q, J, k, tmp, K, Qs, acc):
    """One RK4 step of (h, Q) for dh/dt = F(h), dQ/dt = J(h) Q (in place)."""
    n = h.shape[0]
    acc[:, :] = 0.0
    hnew = h.copy()
    coef = (0.5 * dt, 0.5 * dt, dt, 0.0)
    wts = (1.0, 2.0, 2.0, 1.0)
    tmp[:] = h
    Qs[:, :] = Q
    for s in range(4):
        cell_step(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, k)
        cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, tmp, x, J)
        K[:, :] = J @ Qs
        for i in range(n):
            hnew[i] += dt / 6.0 * wts[s] * k[i]
        acc += (dt / 6.0 * wts[s]) * K
        if s < 3:
            for i in range(n):
                tmp[i] = h[i] + coef[s] * k[i]
            Qs[:, :] = Q + coef[s] * K
    h[:] = hnew
    Q += acc


@njit(cache=True, parallel=True, nogil=True)
def lyapunov_qr(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, H, X, cidx, Q0, n_transient,
                n_steps, n_skip, qr_every, n_windows, threshold, logsum, wins, diverged_at):
    """Benettin QR over streamed Jacobians, one trajectory per prange iteration.

    H (B, n) is advanced in place by n_transient state-only steps, then n_steps steps with the
    tangent vectors Q (start Q0[b], (n, m)). QR every ``qr_every`` steps and at the last step;
    log R_jj of segments starting at or after step ``n_skip`` are added to ``logsum[b, j]`` and to
    ``wins[b, w, j]`` with w = (start - n_skip) * n_windows // (n_steps - n_skip).
    """
    B, n = H.shape
    m = Q0.shape[2]
    Tx = X.shape[1]
    use_lapack = m > 8
    for b in prange(B):
        h = H[b]
        k1 = np.empty(n)
        k2 = np.empty(n)
        k3 = np.empty(n)
        k4 = np.empty(n)
        tmp = np.empty(n)
        J = np.empty((n, n))
        Q = Q0[b].copy()
        K = np.empty((n, m))
        Qs = np.empty((n, m))
        acc = np.empty((n, m))
        R = np.empty(m)
        diverged_at[b] = -1
        seg_start = 0
        for t in range(n_transient + n_steps):
            x = X[cidx[b], t if Tx > 1 else 0]
            s = t - n_transient
            if s < 0:
                _advance(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, h, x, k1, k2, k3, k4, tmp)
            elif flow:
                _tangent_rk4(cell, act, alpha, Wh, Wx, bh, bx, dt, h, x, Q, J, k1, tmp, K, Qs,
                             acc)
            else:
                cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, h, x, J)
                K[:, :] = J @ Q
                Q[:, :] = K
                cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, k1)
                h[:] = k1
            if _bad(h, threshold):
                diverged_at[b] = t + 1
                break
            if s >= 0 and ((s + 1) % qr_every == 0 or s == n_steps - 1):
                _qr_step(Q, R, use_lapack)
                if seg_start >= n_skip:
                    w = (seg_start - n_skip) * n_windows // (n_steps - n_skip)
                    for j in range(m):
                        lr = np.log(R[j]) if R[j] > 0.0 else -np.inf
                        logsum[b, j] += lr
                        wins[b, w, j] += lr
                seg_start = s + 1


# -- batched single-layer vanilla maps ----------------------------------------------------------
# The batch is cut into row blocks, one per thread; each block runs its whole time loop with
# single-threaded BLAS (the caller limits BLAS to one thread). There is no barrier per step:
# under oversubscription per-step synchronisation (threaded BLAS or a prange per step) is
# 5-10x slower than this, and on an idle machine it is no faster.
@njit(cache=True)
def _relu_update(Z, C, cidx, t, H, alive, threshold, diverged_at, n_tan, Y):
    """:func:`_vanilla_update` for ReLU, alpha = 1 and constant inputs, in branch-free loops
    that vectorise: h <- relu(z), each tangent row q_j <- D (W q_j), D = diag(z > 0)."""
    B, n = H.shape
    g = np.empty(n)
    for b in range(B):
        if not alive[b]:
            continue
        c = cidx[b]
        bad = False
        for i in range(n):
            z = Z[b, i] + C[c, i]
            p = z > 0.0
            g[i] = 1.0 if p else 0.0
            v = z if p else 0.0
            H[b, i] = v
            bad |= not (abs(v) <= threshold)
        for j in range(n_tan):
            r = B * (1 + j) + b
            for i in range(n):
                Y[r, i] = g[i] * Z[r, i]
        if bad:
            _stop(b, t, H, alive, diverged_at, n_tan, Y)


@njit(cache=True)
def _stop(b, t, H, alive, diverged_at, n_tan, Y):
    """Run b left the bounds at step t: stopped, its state and tangent rows zeroed."""
    B = H.shape[0]
    alive[b] = False
    diverged_at[b] = t + 1
    H[b, :] = 0.0
    for j in range(n_tan):
        Y[B * (1 + j) + b, :] = 0.0


@njit(cache=True)
def _vanilla_update(act, alpha, Z, C, Wx, X, cidx, t, H, alive, threshold, diverged_at,
                    n_tan, Y):
    """Elementwise part of one step: H <- (1-a) H + a phi(Z + C + Wx x_t); tangents likewise.

    Z is (B * (1 + n_tan), n): rows [0, B) are W h, rows [B (1 + j), B (2 + j)) are W q_j.
    Y (same layout) holds the tangent vectors, updated in place.
    """
    B, n = H.shape
    m_in = X.shape[2]
    Tx = X.shape[1]
    if act == RELU and alpha == 1.0 and Tx == 1:
        _relu_update(Z, C, cidx, t, H, alive, threshold, diverged_at, n_tan, Y)
        return
    for b in range(B):
        if not alive[b]:
            continue
        c = cidx[b]
        ok = True
        for i in range(n):
            z = Z[b, i] + C[c, i]
            if Tx > 1:
                for j in range(m_in):
                    z += Wx[i, j] * X[c, t, j]
            if n_tan > 0:
                g = alpha * _dact(act, z)
                for j in range(n_tan):
                    r = B * (1 + j) + b
                    Y[r, i] = (1.0 - alpha) * Y[r, i] + g * Z[r, i]
            v = (1.0 - alpha) * H[b, i] + alpha * _act(act, z)
            H[b, i] = v
            if not (abs(v) <= threshold):
                ok = False
        if not ok:
            _stop(b, t, H, alive, diverged_at, n_tan, Y)


@njit(cache=True)
def _rollout_block(act, alpha, WhT, Wx, C, X, cidx, H, ids, n_transient, n_steps, stride,
                   threshold, out, diverged_at, settle_tol, check_every, settled_at,
                   region_every, region_tol, by_region):
    """One block's rollout: the rows ``ids`` of H (and of out, diverged_at, settled_at,
    by_region). Runs still moving are kept compacted at the front of the work
    arrays, so the GEMM only covers them: diverged runs leave at once and, when settle_tol > 0,
    runs whose largest step over one step is <= settle_tol (1 + |h|_inf) at a check (every
    check_every steps) leave as settled (their remaining records repeat the settled state).

    With region_every > 0 (ReLU maps, alpha = 1, constant inputs) a run also leaves as settled
    (``by_region[b] = True``, H[b] = the exact fixed point) at a region test (every
    region_every steps) when its activation pattern has not changed for region_every steps,
    the pattern's region holds a certified attracting fixed point
    (:func:`region.region_candidate` and :func:`region.region_contracting`, cached per
    condition) and, at two consecutive tests,
    the largest deviation of the run's pre-activations from the fixed point's, relative to
    their distance from the switching threshold, is <= region_tol and decreasing."""
    B = ids.size
    n = H.shape[1]
    n_rec = out.shape[1]
    total = n_transient + n_steps
    rows = ids.copy()
    Hc = np.empty((B, n))
    cc = np.empty(B, dtype=np.int64)
    for r in range(B):
        Hc[r] = H[ids[r]]
        cc[r] = cidx[ids[r]]
    Z = np.empty((B, n))
    Hp = np.empty((B, n))
    alive = np.ones(B, dtype=np.bool_)
    dv = np.full(B, -1, dtype=np.int64)
    region = region_every > 0
    nr = B if region else 0
    ncond = C.shape[0] if region else 0
    P = np.zeros((nr, n), dtype=np.bool_)
    changed = np.zeros(nr, dtype=np.int64)
    prevdev = np.full(nr, np.inf)
    leave = np.zeros(nr, dtype=np.bool_)
    K = 4  # cached regions per condition
    cache_state = np.zeros((ncond, K), dtype=np.int8)
    cache_pat = np.zeros((ncond, K, n), dtype=np.bool_)
    cache_h = np.zeros((ncond, K, n))
    cache_z = np.zeros((ncond, K, n))
    cache_next = np.zeros(ncond, dtype=np.int64)
    for b in ids:
        diverged_at[b] = -1
        settled_at[b] = -1
        by_region[b] = False
    na = B
    for t in range(total):
        if na == 0:
            break
        check = settle_tol > 0.0 and (t + 1) % check_every == 0
        if check:
            Hp[:na] = Hc[:na]
        np.dot(Hc[:na], WhT, Z[:na])
        if region:  # ReLU, alpha = 1, constant inputs
            relu_step(Z, C, cc, na, Hc, P, changed, prevdev, t, alive, dv, threshold)
        else:
            _vanilla_update(act, alpha, Z[:na], C, Wx, X, cc[:na], t, Hc[:na], alive[:na],
                            threshold, dv[:na], 0, Z[:na])
        s = t + 1 - n_transient
        if s > 0 and s % stride == 0 and s // stride - 1 < n_rec:
            k = s // stride - 1
            for r in range(na):
                if alive[r]:
                    out[rows[r], k, :] = Hc[r]
        dead = 0
        for r in range(na):
            if not alive[r]:
                dead += 1
        gone = 0
        if region and (t + 1) % region_every == 0:
            for r in range(na):
                leave[r] = False
                if not alive[r]:
                    continue
                slot = region_settled(WhT, C, cc, Z, P, changed, prevdev, r, t, region_every,
                                      region_tol, cache_state, cache_pat, cache_h, cache_z,
                                       cache_next)
                if slot >= 0:  # copy now: a later run of the condition may refill the slot
                    H[rows[r], :] = cache_h[cc[r], slot]
                    leave[r] = True
                    gone += 1
        if not check and dead == 0 and gone == 0:
            continue
        w = 0
        for r in range(na):
            b = rows[r]
            if not alive[r]:
                diverged_at[b] = dv[r]
                H[b, :] = 0.0
                continue
            if gone and leave[r]:
                leave[r] = False
                settled_at[b] = t + 1
                by_region[b] = True
                continue
            if check:
                d = 0.0
                sc = 1.0
                for i in range(n):
                    d = max(d, abs(Hc[r, i] - Hp[r, i]))
                    sc = max(sc, 1.0 + abs(Hc[r, i]))
                if d <= settle_tol * sc:
                    settled_at[b] = t + 1
                    H[b, :] = Hc[r]
                    continue
            rows[w] = b
            cc[w] = cc[r]
            if w != r:
                Hc[w, :] = Hc[r]
                if region:
                    P[w, :] = P[r]
                    changed[w] = changed[r]
                    prevdev[w] = prevdev[r]
            alive[w] = True
            dv[w] = -1
            w += 1
        na = w
    for r in range(na):
        H[rows[r], :] = Hc[r]
    for b in ids:
        if settled_at[b] > 0:
            for k in range(n_rec):
                if n_transient + (k + 1) * stride > settled_at[b]:
                    out[b, k, :] = H[b]


@njit(cache=True, parallel=True, nogil=True)
def vanilla_rollout(act, alpha, WhT, Wx, C, X, cidx, H, order, n_transient, n_steps, stride,
                    threshold, out, diverged_at, n_blocks, settle_tol, check_every, settled_at,
                    region_every, region_tol, by_region):
    """Batched rollout of h' = (1-a) h + a phi(W h + C[c] + Wx x_t): one GEMM per step and block.

    Same record convention as :func:`rollout`; H (B, n) is advanced in place (rows of diverged
    trajectories are zeroed). ``n_blocks`` row blocks run in parallel. With settle_tol > 0,
    runs that have settled on a fixed point stop early (``settled_at[b]``, -1 if not); with
    region_every > 0 (ReLU, alpha = 1, constant inputs) also runs certified to converge to the
    attracting fixed point of their linear region (``by_region[b]``, H[b] = that point).
    Block k takes the rows ``order[k B / n_blocks : (k + 1) B / n_blocks]`` (a permutation of
    the rows, so that slow runs can be spread over the blocks without copying the arrays).
    """
    B = H.shape[0]
    for k in prange(n_blocks):
        r0 = k * B // n_blocks
        r1 = (k + 1) * B // n_blocks
        _rollout_block(act, alpha, WhT, Wx, C, X, cidx, H, order[r0:r1], n_transient, n_steps,
                       stride, threshold, out, diverged_at, settle_tol, check_every, settled_at,
                       region_every, region_tol, by_region)


@njit(cache=True)
def _orthonormalise_batch(S, B, m, R, alive):
    """Gram-Schmidt (twice) on the tangent rows of S (layout of :func:`_vanilla_update`): run b's
    tangent vectors are the rows ``B * (1 + j) + b``, a strided view handed to
    :func:`_orthonormalise` as the columns of an (n, m) matrix."""
    for b in range(B):
        if alive[b]:
            _orthonormalise(S[B + b:B * (1 + m):B].T, R[b])


@njit(cache=True)
def _lyapunov_block(act, alpha, WhT, Wx, C, X, cidx, H, Q0, n_steps, n_skip, qr_every,
                    n_windows, threshold, out, logsum, wins, diverged_at):
    B, n = H.shape
    m = Q0.shape[1]
    n_rec = out.shape[1]
    S = np.empty((B * (1 + m), n))
    S[:B] = H
    for j in range(m):
        S[B * (1 + j):B * (2 + j)] = Q0[:, j, :]
    Z = np.empty_like(S)
    R = np.empty((B, m))
    alive = np.ones(B, dtype=np.bool_)
    for b in range(B):
        diverged_at[b] = -1
    seg_start = 0
    Hv = S[:B]
    for t in range(n_steps):
        np.dot(S, WhT, Z)
        _vanilla_update(act, alpha, Z, C, Wx, X, cidx, t, Hv, alive, threshold, diverged_at,
                        m, S)
        if t < n_rec:
            for b in range(B):
                if alive[b]:
                    out[b, t, :] = Hv[b]
        if (t + 1) % qr_every == 0 or t == n_steps - 1:
            _orthonormalise_batch(S, B, m, R, alive)
            if seg_start >= n_skip:
                w = (seg_start - n_skip) * n_windows // (n_steps - n_skip)
                for b in range(B):
                    if alive[b]:
                        for j in range(m):
                            lr = np.log(R[b, j]) if R[b, j] > 0.0 else -np.inf
                            logsum[b, j] += lr
                            wins[b, w, j] += lr
            seg_start = t + 1
    H[:, :] = Hv


@njit(cache=True, parallel=True, nogil=True)
def vanilla_lyapunov(act, alpha, WhT, Wx, C, X, cidx, H, Q0, n_steps, n_skip, qr_every,
                     n_windows, threshold, out, logsum, wins, diverged_at, n_blocks):
    """Batched Benettin QR fused with recording, for single-layer vanilla maps.

    States and the m tangent vectors of every trajectory of a block are stacked in one
    (B_block (1 + m), n) matrix, so each step is one GEMM per block. ``Q0`` is (B, m, n)
    (tangent vectors as rows). Records ``out[b, k] = h_{k + 1}`` for k < out.shape[1];
    accumulation as in :func:`lyapunov_qr`.
    """
    B = H.shape[0]
    for k in prange(n_blocks):
        r0 = k * B // n_blocks
        r1 = (k + 1) * B // n_blocks
        _lyapunov_block(act, alpha, WhT, Wx, C, X, cidx[r0:r1], H[r0:r1], Q0[r0:r1], n_steps,
                        n_skip, qr_every, n_windows, threshold, out[r0:r1], logsum[r0:r1],
                        wins[r0:r1], diverged_at[r0:r1])
