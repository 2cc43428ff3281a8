"""Exact fixed points of piecewise-linear (single-layer ReLU) vanilla cells, region by region.

Inside an activation region a ReLU cell is affine, so its fixed point there solves one linear
system; a solution whose own activation pattern is the assumed one is an exact fixed point. The
SCYFI iteration (Eisenmann et al., NeurIPS 2023) proposes the solution's region next when it is
not.
"""

from __future__ import annotations

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import one_blas_thread
from ..core._prepare import kernel_spec

__all__ = ["relu_spec", "relu_drives", "consistent", "relu_exact_points", "RegionCache"]


def relu_spec(model):
    """The KernelSpec of a single-layer ReLU vanilla map or flow, else None."""
    spec = kernel_spec(model)
    if spec is not None and spec.cell == "vanilla" and spec.activation == "relu" \
            and spec.n_layers == 1:
        return spec
    return None


def relu_drives(spec, X):
    """Constant drive c = U x + b per condition, (n_conditions, n_state)."""
    m = X.shape[1]
    return np.ascontiguousarray(X @ spec.Wx[0, :, :m].T + spec.bh[0] + spec.bx[0])


def consistent(spec, C, H, cond, P):
    """Pattern of W h + c equals P (ties z = 0 allowed either way, to rounding)."""
    Z = H @ spec.Wh[0].T + C[cond]
    eps = 1e-10 * np.maximum(1.0, np.max(np.abs(Z), axis=1, initial=0.0))[:, None]
    return np.all(np.where(P, Z >= -eps, Z <= eps), axis=1), Z > 0


class RegionCache:
    """Regions already solved, shared by the calls of one search: key (condition, packed
    pattern) -> (index of the exact point found there or -1, index of the next pattern or -1),
    with the points found so far (indices stay valid across calls)."""

    def __init__(self):
        self.regions: dict[bytes, tuple[int, int]] = {}
        self.found_h: list[np.ndarray] = []
        self.found_c: list[int] = []
        self.nexts: list[np.ndarray] = []

    def __contains__(self, key):
        return key in self.regions


def region_keys(P, cond, rows):
    """One hashable key per row: its condition and packed activation pattern."""
    packed = np.packbits(P[rows], axis=1)
    c = cond[rows].astype(np.int64)
    return [c[j].tobytes() + packed[j].tobytes() for j in range(rows.size)]


def relu_exact_points(model, X, H, cond, *, n_refine=10, cache=None):
    """Exact fixed points reached from the activation regions of the states ``H``.

    Each row's region is solved exactly (one linear solve per distinct (condition, region),
    shared by all rows in it, and by earlier calls given the same ``cache``); a
    self-consistent solution is a fixed point; otherwise the solution's own region is tried
    next, up to ``n_refine`` times (the SCYFI iteration).

    Returns
    -------
    points (n_found, n_state), condition (n_found,), reached (B,)
        Every point found so far (with a shared ``cache``, by earlier calls too) and
        ``reached[i]``: index of the point row i's chain ended at, or -1 (the chain cycled,
        hit a singular region or ran out of rounds).
    """
    spec = relu_spec(model)
    C, W = relu_drives(spec, X), spec.Wh[0]
    B = H.shape[0]
    reached = np.full(B, -1, np.int64)
    alive = np.all(np.isfinite(H), axis=1)
    P = np.zeros(H.shape, bool)
    P[alive] = (H[alive] @ W.T + C[cond[alive]]) > 0
    rc = RegionCache() if cache is None else cache
    cache, found_h, found_c, nexts = rc.regions, rc.found_h, rc.found_c, rc.nexts
    for _ in range(n_refine + 1):
        rows = np.flatnonzero(alive)
        if rows.size == 0:
            break
        keys = region_keys(P, cond, rows)
        new = {}
        for i, k in zip(rows, keys):
            if k not in cache and k not in new:
                new[k] = i
        if new:
            idx = np.fromiter(new.values(), np.int64, len(new))
            Pn = np.ascontiguousarray(P[idx], dtype=np.uint8)
            cn = np.ascontiguousarray(cond[idx])
            Hs, solved = np.empty((idx.size, W.shape[0])), np.zeros(idx.size, bool)
            with one_blas_thread():   # prange over regions, LAPACK inside
                _nk.relu_region_fixed_points(W, C, Pn, cn, Hs, solved)
            good, actual = consistent(spec, C, Hs, cn, Pn.astype(bool))
            for j, k in enumerate(new):
                if solved[j] and good[j]:
                    cache[k] = (len(found_h), -1)
                    found_h.append(Hs[j])
                    found_c.append(cn[j])
                elif solved[j]:
                    cache[k] = (-1, len(nexts))
                    nexts.append(actual[j])
                else:
                    cache[k] = (-1, -1)
        for i, k in zip(rows, keys):
            f, nx = cache[k]
            if f >= 0:
                reached[i], alive[i] = f, False
            elif nx < 0 or np.array_equal(nexts[nx], P[i]):
                alive[i] = False
            else:
                P[i] = nexts[nx]
    N = W.shape[0]
    pts = np.array(found_h).reshape(-1, N)
    return pts, np.array(found_c, np.int64).reshape(-1), reached
