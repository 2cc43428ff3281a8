"""Exact fixed points of piecewise-linear (single-layer ReLU) vanilla cells, region by region.

Inside an activation region a ReLU cell is affine, so its fixed point there solves one linear
system; a solution whose own activation pattern is the assumed one is an exact fixed point. The
SCYFI iteration (Eisenmann et al., NeurIPS 2023) proposes the solution's region next when it is
not. The one home of the exact search: every pattern (:func:`relu_enumerate`, ground truth for
small networks), the regions met by states (:func:`relu_exact_points`) and, for period-p points,
sequences of regions along orbits (:func:`relu_exact_cycles`).
"""

from __future__ import annotations

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import single_blas_thread
from ..core._prepare import kernel_spec
from ..systems import Iterate

__all__ = ["relu_spec", "relu_drives", "consistent", "relu_enumerate", "relu_exact_points",
           "relu_exact_cycles", "RegionCache"]


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
            with single_blas_thread():   # prange over regions, LAPACK inside
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


def relu_enumerate(model, X):
    """Every fixed point of a single-layer ReLU vanilla cell under each row of X, from all
    ``2^n`` activation patterns. Returns (points, condition)."""
    spec = relu_spec(model)
    n, K = model.n_state, X.shape[0]
    pats = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)
    P = np.ascontiguousarray(np.tile(pats, (K, 1)))
    cond = np.repeat(np.arange(K), 2**n)
    C = relu_drives(spec, X)
    H, solved = np.empty((P.shape[0], n)), np.zeros(P.shape[0], bool)
    with single_blas_thread():
        _nk.relu_region_fixed_points(spec.Wh[0], C, P, cond, H, solved)
    good = solved & consistent(spec, C, H, cond, P.astype(bool))[0]
    return H[good], cond[good]


def relu_exact_cycles(model, X, H, cond, p, n_refine=10):
    """Exact period-p points for the sequences of activation regions met along the orbits of
    the states H (SCYFI); a solution whose orbit visits other regions proposes those next.
    Returns (points, condition)."""
    spec = relu_spec(model)
    C, W = relu_drives(spec, X), spec.Wh[0]
    F = Iterate(model, p)
    ok = np.all(np.isfinite(H), axis=1)
    H, cond = H[ok], cond[ok]
    orb = F.orbit(H, X[cond])[:, :p]
    P = np.einsum("bpj,ij->bpi", orb, W) + C[cond][:, None, :] > 0
    tried: set[bytes] = set()
    out_h, out_c = [], []
    for _ in range(n_refine + 1):
        keys = [cond[i].tobytes() + np.packbits(P[i]).tobytes() for i in range(P.shape[0])]
        new = [i for i, k in enumerate(keys) if k not in tried and not tried.add(k)]
        if not new:
            break
        Pn, cn = np.ascontiguousarray(P[new], dtype=np.uint8), np.ascontiguousarray(cond[new])
        Hs, solved = np.empty((len(new), W.shape[0])), np.zeros(len(new), bool)
        with single_blas_thread():   # prange over sequences, LAPACK inside
            _nk.relu_sequence_points(W, C, spec.alpha, Pn, cn, Hs, solved)
        Hs[~solved] = 0.0
        orb = F.orbit(Hs, X[cn])[:, :p]
        Z = np.einsum("bpj,ij->bpi", orb, W) + C[cn][:, None, :]
        eps = 1e-10 * np.maximum(1.0, np.max(np.abs(Z), axis=(1, 2)))[:, None, None]
        good = solved & np.all(np.where(Pn.astype(bool), Z >= -eps, Z <= eps), axis=(1, 2))
        out_h.append(Hs[good])
        out_c.append(cn[good])
        nxt = solved & ~good
        H, cond, P = Hs[nxt], cn[nxt], Z[nxt] > 0
    if not out_h:
        return np.zeros((0, W.shape[0])), np.zeros(0, np.int64)
    return np.concatenate(out_h), np.concatenate(out_c).astype(np.int64)
