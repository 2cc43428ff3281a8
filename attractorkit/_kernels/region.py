"""Numba kernels for piecewise-linear (ReLU) maps: the fixed point of one activation region and
the region test that lets a batched rollout stop a run early (:func:`dynamics._rollout_block`).

For h' = relu(W h + c) the map is affine inside each activation region (h' = D (W h + c), D the
0/1 pattern of the pre-activations), so a run whose pattern stays fixed converges to the
region's fixed point when that point lies in the region and the region's linear part contracts.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .newton import _relu_region_fixed_point


@njit(cache=True)
def relu_step(Z, C, cc, na, H, P, changed, prevdev, t, alive, dv, threshold):
    """One step h <- relu(z), z = W h + c (Z holds W h, left unchanged) of the first na
    compacted runs (``dynamics._vanilla_update`` for ReLU, alpha = 1 and constant inputs), fused
    with the tracking of each run's activation pattern P (the sign of z): ``changed[r]`` is the
    step at which it last changed (and the deviation memory ``prevdev`` of the region test is
    reset). A run whose state leaves the bounds is marked dead (``alive``, ``dv = t + 1``, state
    zeroed)."""
    n = Z.shape[1]
    for r in range(na):
        if not alive[r]:
            continue
        c = cc[r]
        diff = False
        bad = False
        for i in range(n):  # branch-free, so that the loop vectorises
            z = Z[r, i] + C[c, i]
            p = z > 0.0
            diff |= p != P[r, i]
            P[r, i] = p
            v = z if p else 0.0
            H[r, i] = v
            bad |= not (abs(v) <= threshold)
        if diff:
            changed[r] = t + 1
            prevdev[r] = np.inf
        if bad:
            alive[r] = False
            dv[r] = t + 1
            H[r, :] = 0.0


@njit(cache=True)
def _active(pat):
    a = 0
    for i in range(pat.size):
        if pat[i]:
            a += 1
    idx = np.empty(a, dtype=np.int64)
    k = 0
    for i in range(pat.size):
        if pat[i]:
            idx[k] = i
            k += 1
    return idx


@njit(cache=True)
def _block(WhT, idx):
    """W_AA (rows and columns of the active units) from WhT = W.T."""
    a = idx.size
    M = np.empty((a, a))
    for q in range(a):
        for p in range(a):
            M[p, q] = WhT[idx[q], idx[p]]  # W[i, j] = WhT[j, i]
    return M


@njit(cache=True)
def region_candidate(WhT, c, pat, h_out, z_out):
    """The fixed point of h = D (W h + c) for the pattern ``pat`` (``h_out``, solved by
    :func:`newton._relu_region_fixed_point`; its pre-activations in ``z_out``): True if it lies
    strictly inside the pattern's region."""
    n = pat.size
    if not _relu_region_fixed_point(WhT.T, c, pat, h_out):
        return False
    idx = _active(pat)
    for i in range(n):
        z = c[i]
        for p in range(idx.size):
            z += h_out[idx[p]] * WhT[idx[p], i]
        if not (z > 0.0 if pat[i] else z < 0.0):
            return False
        z_out[i] = z
    return True


@njit(cache=True)
def region_contracting(WhT, pat):
    """True if the region's linear part W_AA is certified to have spectral radius < 1:
    ||W_AA^(2^k)||_F < 1 for some k <= 12 (repeated squaring)."""
    idx = _active(pat)
    a = idx.size
    if a == 0:
        return True
    Pw = _block(WhT, idx)
    for _ in range(13):
        s = 0.0
        for p in range(a):
            for q in range(a):
                s += Pw[p, q] * Pw[p, q]
        if not np.isfinite(s):
            return False
        if s < 1.0:
            return True
        Pw = Pw @ Pw
    return False


@njit(cache=True)
def region_settled(WhT, C, cc, Z, P, changed, prevdev, r, t, region_every, region_tol,
                    cache_state, cache_pat, cache_h, cache_z, cache_next):
    """Region test of compacted run r at step t (see :func:`dynamics._rollout_block`). The tested
    regions are cached per condition in a few slots (state 2 candidate inside its region,
    1 also certified contracting, -1 rejected).
    Returns the cache slot of the run's certified fixed point, or -1."""
    if changed[r] > t + 1 - region_every:
        return -1
    c = cc[r]
    n = Z.shape[1]
    K = cache_state.shape[1]
    slot = -1
    for k in range(K):
        if cache_state[c, k] == 0:
            continue
        same = True
        for i in range(n):
            if cache_pat[c, k, i] != P[r, i]:
                same = False
                break
        if same:
            slot = k
            break
    if slot < 0:
        slot = cache_next[c]
        cache_next[c] = (slot + 1) % K
        cache_pat[c, slot, :] = P[r]
        ok = region_candidate(WhT, C[c], P[r], cache_h[c, slot], cache_z[c, slot])
        cache_state[c, slot] = 2 if ok else -1
    if cache_state[c, slot] < 1:
        return -1
    dev = 0.0
    for i in range(n):
        zs = cache_z[c, slot, i]
        dev = max(dev, abs(Z[r, i] + C[c, i] - zs) / abs(zs))
    settle = dev <= region_tol and dev < prevdev[r]
    prevdev[r] = dev
    if settle and cache_state[c, slot] == 2:  # certify the region only when a run needs it
        cache_state[c, slot] = 1 if region_contracting(WhT, P[r]) else -1
    return slot if settle and cache_state[c, slot] == 1 else -1
