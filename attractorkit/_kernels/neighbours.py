"""Neighbour queries with shortcuts: shares of a point set within a radius of another (bounding
boxes and candidate neighbours before any KD-tree), typical nearest-neighbour spacings (a cheap
upper bound first), and the normalised Laplacian of a k-nearest-neighbour graph with its lowest
eigenpairs (sparse shift-invert, no dense matrix).

Every shortcut returns what the plain construction would (the KD-tree query, the dense
Laplacian, ARPACK's default shift-invert path), or a number on the same side of the threshold the
caller compares with; ``tests/kernels`` checks them against those references.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh
from scipy.spatial import cKDTree

__all__ = ["PointSet", "share_within", "overlap", "match_radius", "tree_overlap",
           "knn_laplacian", "laplacian_low", "n_components"]

_MARGIN = 1e-9  # relative: cheap bounds decide only when rounding cannot matter


class PointSet:
    """Facts about a point set P (n, d) for neighbour queries, each computed when first needed.

    ``keep``: a boolean mask of the coordinates to measure distances on (None: all). Facts:
    ``scale`` (1 + mean max-abs entry of P), ``Y`` (P on the kept coordinates), ``spread``
    (RMS distance of Y from its mean), ``tree`` (KD-tree of Y), ``nn`` (median distance to the
    nearest other point), ``nn_bound`` (a cheap upper bound of it), ``box()`` (bounding box of
    Y) and ``sorted`` (Y ordered along its widest coordinate).
    """

    def __init__(self, P, keep=None):
        self.P = P
        self.n = P.shape[0]
        self.keep = keep
        self._cache = {}

    def _get(self, name, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    @property
    def built_tree(self) -> bool:
        """Was the KD-tree built (the shortcuts did not decide)?"""
        return "tree" in self._cache

    @property
    def scale(self):
        return self._get("scale", lambda: 1.0 + float(
            np.max(np.abs(self.P[0])) if self.n == 1 else np.mean(np.max(np.abs(self.P),
                                                                         axis=1))))

    @property
    def hi(self):
        return self._get("hi", lambda: self.P.max(axis=0))

    @property
    def lo(self):
        return self._get("lo", lambda: self.P.min(axis=0))

    @property
    def Y(self):
        return self._get("Y", lambda: self.P if self.keep is None or self.n == 1 else
                         np.ascontiguousarray(self.P[:, self.keep]))

    @property
    def spread(self):
        def make():
            Y = self.Y
            return float(np.sqrt(np.mean(np.sum((Y - Y.mean(0)) ** 2, axis=1))))
        return self._get("spread", make)

    @property
    def tree(self):
        return self._get("tree", lambda: cKDTree(self.Y))

    @property
    def nn(self):
        """Median distance of a point to its nearest other point (KD-tree), None for one."""
        return self._get("nn", lambda: float(np.median(self.tree.query(self.Y, k=2)[0][:, 1]))
                         if self.n >= 2 else None)

    @property
    def nn_bound(self):
        """An upper bound of ``nn``: the median over points of the distance to the closest of
        the 2 points on either side in the order along the widest coordinate."""
        def make():
            Ys = self.sorted[2]
            d = np.full(self.n, np.inf)
            for s in range(1, min(3, self.n)):
                e = Ys[s:] - Ys[:-s]
                e = np.sqrt(np.einsum("ij,ij->i", e, e))
                np.minimum(d[s:], e, out=d[s:])
                np.minimum(d[:-s], e, out=d[:-s])
            return float(np.median(d))
        return self._get("nn_bound", make)

    @property
    def sorted(self):
        """(widest coordinate j, Y[:, j] sorted, Y in that order)."""
        def make():
            Y = self.Y
            lo, hi = self.box()
            j = int(np.argmax(hi - lo))
            order = np.argsort(Y[:, j], kind="stable")
            Ys = Y[order]
            return j, np.ascontiguousarray(Ys[:, j]), Ys
        return self._get("sorted", make)

    def box(self):
        return (self.lo, self.hi) if self.keep is None else (self.lo[self.keep],
                                                            self.hi[self.keep])


def share_within(a: PointSet, b: PointSet, eps) -> float:
    """The share of a's points with a point of b within eps — as the KD-tree query gives it —
    or, when a cheap test already decides ``share >= 0.8``, a number on the same side of 0.8:
    0.0 if the bounding boxes are more than eps apart; the share of points with a candidate
    neighbour (the 2, then 4, nearest along b's widest coordinate) clearly within eps if that
    alone reaches 0.8 (the true share is at least as large)."""
    (la, ha), (lb, hb) = a.box(), b.box()
    gap = np.maximum(np.maximum(lb - ha, la - hb), 0.0)
    if float(np.sqrt(gap @ gap)) > eps * (1 + _MARGIN):
        return 0.0
    A = a.Y
    j, s, Bs = b.sorted
    pos = np.searchsorted(s, A[:, j])
    d2 = np.full(a.n, np.inf)
    thr = eps * eps * (1 - _MARGIN)
    rows = slice(None)
    for ks in ((-1, 0), (-2, 1)):  # the 2 nearest along j, then 2 more for the points left
        for k in ks:
            diff = Bs[np.clip(pos[rows] + k, 0, b.n - 1)] - A[rows]
            d2[rows] = np.minimum(d2[rows], np.einsum("ij,ij->i", diff, diff))
        sure = float(np.mean(d2 < thr))
        if sure >= 0.8:
            return sure
        rows = np.flatnonzero(d2 >= thr)
    return float(np.mean(b.tree.query(A, k=1, distance_upper_bound=eps)[0] <= eps))


def overlap(a: PointSet, b: PointSet, eps) -> float:
    """The smaller of the two shares within eps (a in b, b in a): exact whenever the result is
    below 0.8, else a value >= 0.8 (see :func:`share_within`)."""
    ha = share_within(a, b, eps)
    if ha < 0.8:
        return ha
    return min(ha, share_within(b, a, eps))


def match_radius(a: PointSet, b: PointSet, floor) -> float:
    """max(3 x the larger median nearest-neighbour distance, 0.1 x the larger spread, floor);
    the KD-tree distances are computed only when their upper bounds could decide."""
    other = max(0.1 * max(a.spread, b.spread), floor)
    if 3.0 * max(a.nn_bound, b.nn_bound) * (1 + _MARGIN) <= other:
        return other
    return max(3.0 * max(a.nn, b.nn), other)


def tree_overlap(A, B, eps) -> float:
    """Fraction of A's points with a point of B within eps, and vice versa (the smaller), by
    KD-tree queries on all coordinates."""
    ta, tb = cKDTree(A), cKDTree(B)
    fa = np.mean(tb.query(A, k=1, distance_upper_bound=eps)[0] <= eps)
    fb = np.mean(ta.query(B, k=1, distance_upper_bound=eps)[0] <= eps)
    return float(min(fa, fb))


# -- the k-NN graph Laplacian ------------------------------------------------------------------
def knn_laplacian(nb):
    """Normalised Laplacian ``L = I - Dm A Dm`` (CSC) of the symmetrised k-NN graph, and
    ``Dm = 1 / sqrt(degree)``.

    ``nb`` (N, k+1) are each point's neighbour indices, nearest first; column 0 (the point
    itself) is skipped. A is the 0/1 matrix with A[i, j] = 1 when j is among i's k neighbours
    or i among j's. L is built from the edge list (no dense N x N matrix) with the entries,
    order and index type the dense construction ``I - Dm[:, None] * A * Dm[None, :]`` converted
    to CSC would have: the eigensolvers see the same matrix."""
    import scipy.sparse as sp

    N, kk = nb.shape
    src = np.repeat(np.arange(N, dtype=np.int64), kk - 1)
    dst = nb[:, 1:].astype(np.int64).ravel()
    # CSC order is column-major: key = column * N + row; both directions, duplicates merged
    key = np.unique(np.concatenate([dst * N + src, src * N + dst]))
    col, row = np.divmod(key, N)
    deg = np.bincount(col, minlength=N).astype(float)  # A symmetric: row sums = column sums
    Dm = 1.0 / np.sqrt(deg)
    m = Dm[row] * Dm[col]  # (Dm_i * A_ij) * Dm_j with A_ij = 1
    off = row != col  # a self-loop (duplicate points) sits on the diagonal: 1 - m there
    diag = np.arange(N, dtype=np.int64)
    dval = np.ones(N)
    dval[row[~off]] -= m[~off]
    key = np.concatenate([key[off], diag * N + diag])
    val = np.concatenate([-m[off], dval])
    order = np.argsort(key, kind="stable")
    key, val = key[order], val[order]
    indptr = np.searchsorted(key, np.arange(N + 1, dtype=np.int64) * N).astype(np.int32)
    L = sp.csc_matrix((val, (key % N).astype(np.int32), indptr), shape=(N, N))
    L.has_sorted_indices = True
    return L, Dm


class _ShiftInvert:
    """``x -> (L - sigma I)^-1 x`` by a sparse LU, as ARPACK's shift-invert mode would build it
    (the same CSC matrix, the same factorisation), without the generic operator layers."""

    def __init__(self, L, sigma):
        from scipy.sparse.linalg import splu

        M = L.copy()  # canonical CSC with every diagonal entry stored (knn_laplacian)
        col = np.repeat(np.arange(L.shape[0]), np.diff(L.indptr))
        diag = L.indices == col
        M.data[diag] = L.data[diag] - sigma  # what L - sigma * eye(N) stores
        self.lu = splu(M)
        self.shape, self.dtype = L.shape, L.dtype

    def matvec(self, x):
        return self.lu.solve(x)


def laplacian_low(L, *, dense=False, maxiter=None, dense_max=None):
    """The 3 smallest eigenpairs (ascending) of a normalised Laplacian from
    :func:`knn_laplacian`: sparse shift-invert Lanczos (ARPACK, started from a fixed vector;
    the graph has about k N non-zeros, 3-4x faster than a dense solver at N = 400), the dense
    solver when ``dense`` or if ARPACK does not converge within ``maxiter`` iterations (None:
    ARPACK's default). With more than ``dense_max`` points the dense solver is not tried:
    None instead."""
    from scipy.sparse.linalg import ArpackNoConvergence, eigsh

    N = L.shape[0]
    if not dense:
        v0 = np.random.default_rng(0).standard_normal(N)  # fixed start: reproducible
        try:
            w, V = eigsh(L, k=3, sigma=-1e-3, which="LM", v0=v0, maxiter=maxiter,
                         OPinv=_ShiftInvert(L, -1e-3))
            order = np.argsort(w)
            return w[order], V[:, order]
        except (ArpackNoConvergence, RuntimeError):
            if dense_max is not None and N > dense_max:
                return None
    return eigh(L.toarray(), subset_by_index=[0, 2])


def n_components(nb) -> int:
    """Connected components of the symmetrised k-NN graph of neighbour lists ``nb`` (see
    :func:`knn_laplacian`)."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    N, kk = nb.shape
    A = sp.csr_matrix((np.ones(N * (kk - 1)), (np.repeat(np.arange(N), kk - 1),
                                               nb[:, 1:].ravel())), shape=(N, N))
    return int(connected_components(A, directed=True, connection="weak")[0])
