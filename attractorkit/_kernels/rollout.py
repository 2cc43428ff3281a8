"""Numba kernels of the rollout: advancing batches of states of a kernel model.

Two families, both row-block kernels run by :func:`.parallel.run_blocks` (first arguments
``k, n_blocks``):

- :func:`rollout_rows` for any standard cell: each trajectory on its own, through
  :func:`cells.cell_step`; flows are integrated with fixed-step RK4 (:func:`advance_state`, the
  one RK4 of the kernels);
- :func:`vanilla_rollout_rows` for single-layer vanilla maps: one BLAS product per step for
  the whole block, the elementwise part fused in one loop. This is the census hot path.

Conventions: ``X`` is (n_xc, Tx, n_input) and ``cidx[b]`` picks the input row of trajectory b;
``Tx == 1`` means a constant input, otherwise ``X[c, t]`` drives step t (t counts from 0 at the
first step of the call, transient included). A trajectory diverges at step t (``diverged_at[b] =
t + 1``) when any state entry is non-finite or exceeds ``threshold`` in absolute value; it is then
stopped and its remaining records stay as the caller initialised them.

The ReLU region kernels of :mod:`.region` are compiled into :func:`vanilla_rollout_rows`;
numba's cache does not notice edits of region.py, so touch this file (or clear the cache) with
them.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .activations import RELU, dphi, phi
from .cells import cell_step
from .parallel import block_bounds
from .region import region_settled, relu_step


@njit(cache=True)
def bad_state(h, threshold):
    """True if an entry of h is non-finite or above ``threshold`` in absolute value."""
    for i in range(h.shape[0]):
        if not (abs(h[i]) <= threshold):  # also catches NaN
            return True
    return False


@njit(cache=True)
def advance_state(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, h, x, k1, k2, k3, k4, tmp):
    """h <- one map step, or one RK4 step of the flow (in place); k1..k4, tmp: work vectors."""
    n = h.shape[0]
    cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, k1)
    if not flow:
        for i in range(n):
            h[i] = k1[i]
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


@njit(cache=True, nogil=True)
def rollout_rows(k, nb, cell, act, alpha, Wh, Wx, bh, bx, flow, dt, H, X, cidx, n_transient,
                 n_steps, stride, threshold, out, diverged_at):
    """Advance the rows of block k of H (in place) by n_transient + n_steps steps.

    ``out[b, j] = h_{n_transient + (j + 1) stride}`` for j < out.shape[1].
    """
    r0, r1 = block_bounds(k, nb, H.shape[0])
    n = H.shape[1]
    n_rec = out.shape[1]
    Tx = X.shape[1]
    total = n_transient + n_steps
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    tmp = np.empty(n)
    for b in range(r0, r1):
        h = H[b]
        diverged_at[b] = -1
        for t in range(total):
            x = X[cidx[b], t if Tx > 1 else 0]
            advance_state(cell, act, alpha, Wh, Wx, bh, bx, flow, dt, h, x, k1, k2, k3, k4, tmp)
            if bad_state(h, threshold):
                diverged_at[b] = t + 1
                break
            s = t + 1 - n_transient
            if s > 0 and s % stride == 0:
                j = s // stride - 1
                if j < n_rec:
                    for i in range(n):
                        out[b, j, i] = h[i]


# -- batched single-layer vanilla maps ----------------------------------------------------------
# Each block runs its whole time loop with single-threaded BLAS (the caller limits BLAS to one
# thread). There is no barrier per step: under oversubscription per-step synchronisation
# (threaded BLAS or a parallel loop per step) is 5-10x slower than this, and on an idle machine
# it is no faster.
@njit(cache=True)
def _relu_update(Z, C, cidx, t, H, alive, threshold, diverged_at, n_tan, Y):
    """:func:`vanilla_update` for ReLU, alpha = 1 and constant inputs, in branch-free loops
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
def vanilla_update(act, alpha, Z, C, Wx, X, cidx, t, H, alive, threshold, diverged_at, Y):
    """Elementwise part of one step: H <- (1-a) H + a phi(Z + C + Wx x_t); tangents likewise.

    Z is (B * (1 + n_tan), n): rows [0, B) are W h, rows [B (1 + j), B (2 + j)) are W q_j
    (n_tan = 0 for a plain rollout). Y (same layout) holds the tangent vectors, updated in place.
    """
    B, n = H.shape
    n_tan = Z.shape[0] // B - 1
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
                g = alpha * dphi(act, z)
                for j in range(n_tan):
                    r = B * (1 + j) + b
                    Y[r, i] = (1.0 - alpha) * Y[r, i] + g * Z[r, i]
            v = (1.0 - alpha) * H[b, i] + alpha * phi(act, z)
            H[b, i] = v
            if not (abs(v) <= threshold):
                ok = False
        if not ok:
            _stop(b, t, H, alive, diverged_at, n_tan, Y)


@njit(cache=True, nogil=True)
def vanilla_rollout_rows(k, nb, act, alpha, WhT, Wx, C, X, cidx, H, order, n_transient,
                         n_steps, stride, threshold, out, diverged_at, settle_tol, check_every,
                         settled_at, region_every, region_tol, by_region):
    """Batched rollout of h' = (1-a) h + a phi(W h + C[c] + Wx x_t), block k: the rows
    ``order[k B / nb : (k + 1) B / nb]`` of H (and of out, diverged_at, settled_at, by_region),
    one GEMM per step. Same record convention as :func:`rollout_rows`; H is advanced in place
    (rows of diverged trajectories are zeroed). Runs still moving are kept compacted at the front
    of the work arrays, so the GEMM only covers them: diverged runs leave at once and, when
    settle_tol > 0, runs whose largest step over one step is <= settle_tol (1 + |h|_inf) at a
    check (every check_every steps) leave as settled (``settled_at[b]``; their remaining records
    repeat the settled state).

    ``region_every`` is None, or (ReLU maps, alpha = 1, constant inputs) the steps between
    region tests: a run then also leaves as settled (``by_region[b] = True``, H[b] = the exact
    fixed point) when its activation pattern has not changed for region_every steps, the
    pattern's region holds a certified attracting fixed point (:func:`region.region_settled`,
    cached per condition) and, at two consecutive tests, the largest deviation of the run's
    pre-activations from the fixed point's, relative to their distance from the switching
    threshold, is <= region_tol and decreasing. With None the region code is not compiled.
    """
    r0, r1 = block_bounds(k, nb, order.shape[0])
    ids = order[r0:r1]
    B = ids.size
    n = H.shape[1]
    n_rec = out.shape[1]
    rows = ids.copy()
    Hc = np.empty((B, n))
    cc = np.empty(B, dtype=np.int64)
    for r in range(B):
        for i in range(n):
            Hc[r, i] = H[ids[r], i]
        cc[r] = cidx[ids[r]]
    Z = np.empty((B, n))
    Hp = np.empty((B, n))
    alive = np.ones(B, dtype=np.bool_)
    dv = np.full(B, -1, dtype=np.int64)
    leave = np.zeros(B, dtype=np.bool_)
    if region_every is not None:
        P = np.zeros((B, n), dtype=np.bool_)
        changed = np.zeros(B, dtype=np.int64)
        prevdev = np.full(B, np.inf)
        K = 4  # cached regions per condition
        cache_state = np.zeros((C.shape[0], K), dtype=np.int8)
        cache_pat = np.zeros((C.shape[0], K, n), dtype=np.bool_)
        cache_h = np.zeros((C.shape[0], K, n))
        cache_z = np.zeros((C.shape[0], K, n))
        cache_next = np.zeros(C.shape[0], dtype=np.int64)
    for b in ids:
        diverged_at[b] = -1
        settled_at[b] = -1
        by_region[b] = False
    na = B
    for t in range(n_transient + n_steps):
        if na == 0:
            break
        check = settle_tol > 0.0 and (t + 1) % check_every == 0
        if check:
            for r in range(na):
                for i in range(n):
                    Hp[r, i] = Hc[r, i]
        np.dot(Hc[:na], WhT, Z[:na])
        if region_every is not None:
            relu_step(Z, C, cc, na, Hc, P, changed, prevdev, t, alive, dv, threshold)
        else:
            vanilla_update(act, alpha, Z[:na], C, Wx, X, cc[:na], t, Hc[:na], alive[:na],
                           threshold, dv[:na], Z[:na])
        s = t + 1 - n_transient
        if s > 0 and s % stride == 0 and s // stride - 1 < n_rec:
            j = s // stride - 1
            for r in range(na):
                if alive[r]:
                    for i in range(n):
                        out[rows[r], j, i] = Hc[r, i]
        dead = 0
        for r in range(na):
            if not alive[r]:
                dead += 1
        gone = 0
        if region_every is not None:
            if (t + 1) % region_every == 0:
                for r in range(na):
                    leave[r] = False
                    if not alive[r]:
                        continue
                    slot = region_settled(WhT, C, cc, Z, P, changed, prevdev, r, t,
                                          region_every, region_tol, cache_state, cache_pat,
                                          cache_h, cache_z, cache_next)
                    if slot >= 0:  # copy now: a later run of the condition may refill the slot
                        for i in range(n):
                            H[rows[r], i] = cache_h[cc[r], slot, i]
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
                    for i in range(n):
                        H[b, i] = Hc[r, i]
                    continue
            rows[w] = b
            cc[w] = cc[r]
            if w != r:
                for i in range(n):
                    Hc[w, i] = Hc[r, i]
                if region_every is not None:
                    for i in range(n):
                        P[w, i] = P[r, i]
                    changed[w] = changed[r]
                    prevdev[w] = prevdev[r]
            alive[w] = True
            dv[w] = -1
            w += 1
        na = w
    for r in range(na):
        for i in range(n):
            H[rows[r], i] = Hc[r, i]
    for b in ids:
        if settled_at[b] > 0:
            for j in range(n_rec):
                if n_transient + (j + 1) * stride > settled_at[b]:
                    for i in range(n):
                        out[b, j, i] = H[b, i]
