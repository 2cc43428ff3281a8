"""The search behind :func:`find_fixed_points`: de-duplication of solutions, exploration from
midpoints between found points (exact region solves for ReLU cells, Newton otherwise), and the
per-condition solve of the seeds."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .._kernels import newton as _nk
from ._newton import solve
from ._qmin import minimize_q
from ._relu_exact import relu_exact_points

__all__ = ["deduplicate", "explore_midpoints", "explore_newton", "input_rows",
           "solve_condition", "state_scale"]


# -- de-duplication ------------------------------------------------------------------------------
def state_scale(states):
    """The size of the states of each condition: the median over the states (n_conditions,
    ..., n_state) of ``max|h|`` (finite states only; 1 where there are none or all are 0)."""
    S = np.asarray(states, float)
    S = S.reshape(S.shape[0], -1, S.shape[-1])
    with np.errstate(invalid="ignore"):
        m = np.max(np.abs(S), axis=2, initial=0.0)
        m = np.where(np.isfinite(m), m, np.nan)
        out = np.array([np.nanmedian(r) if np.any(np.isfinite(r)) else np.nan for r in m])
    return np.where(np.isfinite(out) & (out > 0), out, 1.0)


def deduplicate(points, condition, exact, converged, q, tol, weights=None, scale=None):
    """Single-linkage clusters at max-norm distance ``tol * scale[k]`` within each condition k
    (KD-tree pairs + connected components, O(n log n)): the one de-duplication of fixed points
    and of cycles. The radius follows the size of the state: ``scale`` is the state's size per
    condition (:func:`find_fixed_points` uses the states the search started from), by default
    ``max(1, max|h|)`` over the condition's points.

    Parameters
    ----------
    points : ndarray of shape (n, n_state) or (n, p, n_state)
        Points, or orbits of p points (two orbits sharing any point within the radius are one
        cycle).
    condition : ndarray of shape (n,), int
    exact, converged : ndarray of shape (n,), bool
    q : ndarray of shape (n,)
    tol : float
    weights : ndarray of shape (n,), optional
        What each row counts for in ``counts`` (default 1).
    scale : float or ndarray of shape (n_conditions,), optional
        The state's size per condition (indexed by ``condition``).

    Returns
    -------
    reps : ndarray of int
        The representative of each cluster (exact first, then converged, then lowest q),
        ordered by condition then by the (first) point's coordinates.
    counts : ndarray of int
        Each cluster's size (sum of its rows' ``weights``).
    """
    points = np.asarray(points, float)
    n = points.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    p = points.shape[1] if points.ndim == 3 else 1
    flat = points.reshape(n * p, points.shape[-1])
    fcond = np.repeat(np.asarray(condition, np.int64), p)
    owner = np.repeat(np.arange(n), p)
    # identical rows (e.g. seeds that reached the same exact solution) are one cluster
    # already: link each to its first copy, and build the tree over distinct rows only
    first = _first_copies(flat, fcond)
    same = first != np.arange(n * p)
    distinct = np.flatnonzero(~same)
    rows, cols = [owner[same], owner], [owner[first[same]], owner]
    for k in np.unique(fcond[distinct]):
        idx = distinct[fcond[distinct] == k]
        if scale is None:
            with np.errstate(invalid="ignore"):
                size = max(1.0, float(np.nanmax(np.abs(flat[fcond == k]), initial=0.0)))
        else:
            size = float(np.asarray(scale).ravel()[k]) if np.ndim(scale) else float(scale)
        r = tol * size
        pairs = _linked_pairs(flat[idx], r)
        rows.append(owner[idx[pairs[:, 0]]])
        cols.append(owner[idx[pairs[:, 1]]])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    _, lab = connected_components(graph, directed=False)
    order = np.lexsort((q, ~np.asarray(converged, bool), ~np.asarray(exact, bool)))
    _, first = np.unique(lab[order], return_index=True)
    reps = order[first]
    counts = np.bincount(lab, weights=weights)[lab[reps]].astype(np.int64)
    lead = points[reps] if points.ndim == 2 else points[reps, 0]
    keys = [lead[:, j] for j in range(lead.shape[1] - 1, -1, -1)]
    o = np.lexsort(keys + [np.asarray(condition)[reps]])
    return reps[o], counts[o]


def _tree_pairs(P, r):
    """Every pair (i < j) of rows of P within max-norm distance r."""
    return cKDTree(P).query_pairs(r, p=np.inf, output_type="ndarray")


def _linked_pairs(P, r):
    """Pairs (m, 2) of rows of P whose graph has the components of the graph of all pairs
    within max-norm distance ``r``, without listing every pair of a tight cluster (n points
    converged to one fixed point make n^2/2 pairs): rows in one grid cell of side ``r/2`` are
    within ``r`` of each other and are linked to the cell's first row; two cells are linked when
    their closest rows are within ``r`` (candidates from the cells' bounding boxes, each checked
    exactly). Grids that hardly group the rows fall back to all pairs."""
    if not (np.isfinite(r) and r > 0) or len(P) < 64:
        return _tree_pairs(P, r)
    with np.errstate(all="ignore"):
        cells = np.floor(P / (0.5 * r))
    if not np.all(np.isfinite(cells)):
        return _tree_pairs(P, r)
    _, first, inv = np.unique(cells, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    m = first.size
    if m > len(P) // 2:
        return _tree_pairs(P, r)
    star = np.flatnonzero(first[inv] != np.arange(len(P)))
    edges = [np.stack([first[inv[star]], star], axis=1)]
    order = np.argsort(inv, kind="stable")          # rows grouped by cell
    starts = np.searchsorted(inv[order], np.arange(m + 1))
    lo = np.minimum.reduceat(P[order], starts[:-1], axis=0)
    hi = np.maximum.reduceat(P[order], starts[:-1], axis=0)
    w = 0.5 * float(np.max(hi - lo))
    cand = _tree_pairs(0.5 * (lo + hi), (r + 2.0 * w) * (1.0 + 1e-9))
    if len(cand):
        members = [order[starts[c]:starts[c + 1]] for c in range(m)]
        close = [np.min(cKDTree(P[members[b]]).query(P[members[a]], p=np.inf)[0]) <= r
                 for a, b in cand]
        linked = cand[np.asarray(close, bool)]
        edges.append(first[linked])
    return np.concatenate(edges).astype(np.int64).reshape(-1, 2)


def _first_copies(points, condition):
    """For each row, the index of the first row with the same condition and identical
    coordinates (bitwise, with -0.0 == 0.0)."""
    P = np.ascontiguousarray(points + 0.0)   # + 0.0 turns -0.0 into 0.0
    keys = np.concatenate([np.asarray(condition, np.int64)[:, None].view(np.float64), P],
                          axis=1)
    row = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1] * 8))).ravel()
    _, first, inverse = np.unique(row, return_index=True, return_inverse=True)
    return first[inverse.ravel()]


def explore_midpoints(model, X, P, cond, rng, *, rounds=2, max_pairs=4096, cache=None):
    """Exact solutions from the regions of midpoints between pairs of exact fixed points of
    the same condition (saddles between attractors often switch on the union of their active
    units); new points feed the next round, which tries only the pairs they form."""
    known = [P[cond == k] for k in range(X.shape[0])]
    known = [K[deduplicate(K, np.zeros(len(K), np.int64), np.ones(len(K), bool),
                           np.ones(len(K), bool), np.zeros(len(K)), 1e-9)[0]]
             if len(K) else K for K in known]
    n_old = [0] * len(known)   # pairs among the first n_old points were tried already
    out_h, out_c = [], []
    for _ in range(rounds):
        mids, mc = [], []
        for k, K in enumerate(known):
            i, j = np.triu_indices(len(K), 1)
            fresh = j >= n_old[k]
            i, j = i[fresh], j[fresh]
            if i.size > max_pairs:
                pick = rng.choice(i.size, max_pairs, replace=False)
                i, j = i[pick], j[pick]
            mids.append(0.5 * (K[i] + K[j]))
            mc.append(np.full(i.size, k))
            n_old[k] = len(K)
        M = np.concatenate(mids) if mids else np.zeros((0, P.shape[1]))
        if len(M) == 0:
            break
        E, ce, hit = relu_exact_points(model, X, M, np.concatenate(mc).astype(np.int64),
                                       cache=cache)
        reached = np.unique(hit[hit >= 0])
        E, ce = E[reached], ce[reached]
        new_any = False
        for k in range(len(known)):
            Ek = E[ce == k]
            if len(Ek) == 0:
                continue
            if len(known[k]):
                d = np.max(np.abs(Ek[:, None] - known[k][None]), axis=2).min(1)
                Ek = Ek[d > 1e-9 * max(1.0, float(np.abs(known[k]).max()))]
            if len(Ek):
                new_any = True
                known[k] = np.concatenate([known[k], Ek])
                out_h.append(Ek)
                out_c.append(np.full(len(Ek), k))
        if not new_any:
            break
    if not out_h:
        return np.zeros((0, P.shape[1])), np.zeros(0, np.int64)
    return np.concatenate(out_h), np.concatenate(out_c).astype(np.int64)


def explore_newton(model, X, H, cond, tol, max_norm, rng, *, rounds=2, max_pairs=4096,
                   marginal_tol=1e-3, eigenvalues=None, radius=None):
    """Newton from the midpoints between pairs of the distinct converged points ``H`` (with
    their conditions) of the same condition (smooth cells: a saddle between two attractors
    lies near their midpoint, a higher saddle near the midpoint of two saddles); new converged
    points feed the next round. A point with a Jacobian eigenvalue at the stability boundary
    (within ``marginal_tol``) lies on a continuum (a line attractor): it makes no midpoints,
    and a midpoint that is such a point already is not a new point.

    ``eigenvalues(P, c)`` gives the Jacobian spectra at points P of condition c (default:
    ``np.linalg.eigvals`` of the model's Jacobians; :func:`find_fixed_points` passes its
    cache of linearisations). ``radius`` (n_conditions,): distance below which two points are
    one (default ``1e-6 * max(1, max|h|)``). Returns the new points, their conditions and
    iteration counts.
    """
    n = H.shape[1]
    eigenvalues = eigenvalues or (lambda P, c: _eigvals(model, P, X[c]))
    known = []
    for k in range(X.shape[0]):
        Kp = H[cond == k]
        if len(Kp):
            Kp = Kp[~_on_continuum(model, eigenvalues(Kp, k), marginal_tol)]   # sets
        known.append(Kp)
    out_h, out_c, out_i = [], [], []
    for _ in range(rounds):
        new_any = False
        for k, Kp in enumerate(known):
            i, j = np.triu_indices(len(Kp), 1)
            if i.size == 0:
                continue
            if i.size > max_pairs:
                pick = rng.choice(i.size, max_pairs, replace=False)
                i, j = i[pick], j[pick]
            M = np.ascontiguousarray(0.5 * (Kp[i] + Kp[j]))
            Xb = input_rows(X[k], len(M))
            sol = solve(model, M, Xb, tol=tol, max_norm=max_norm)
            good = sol.converged & np.all(np.isfinite(sol.points), axis=1)
            E, it = sol.points[good], sol.iterations[good]
            if len(E) == 0:
                continue
            z = np.zeros(len(E), np.int64)
            r = 1e-6 * max(1.0, float(np.abs(np.r_[E.ravel(), Kp.ravel()]).max())) \
                if radius is None else float(radius[k])
            reps = deduplicate(E, z, z.astype(bool), ~z.astype(bool), z.astype(float), 1.0,
                               scale=r)[0]
            E, it = E[reps], it[reps]
            if len(Kp):
                d = cKDTree(Kp).query(E, p=np.inf)[0]
                E, it = E[d > r], it[d > r]
            still = np.flatnonzero(it == 0)
            if still.size:
                on = _on_continuum(model, eigenvalues(E[still], k), marginal_tol)
                keep = np.ones(len(E), bool)
                keep[still[on]] = False
                E, it = E[keep], it[keep]
            if len(E):
                new_any = True
                known[k] = np.concatenate([Kp, E])
                out_h.append(E)
                out_c.append(np.full(len(E), k))
                out_i.append(it)
        if not new_any:
            break
    if not out_h:
        return np.zeros((0, n)), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate(out_h), np.concatenate(out_c).astype(np.int64),
            np.concatenate(out_i).astype(np.int64))


def _eigvals(model, P, x):
    if len(P) == 0:
        return np.zeros((0, P.shape[1]), complex)
    J = np.asarray(model.jacobian(P, np.broadcast_to(x, (len(P), x.size))), float)
    with np.errstate(all="ignore"):
        return np.linalg.eigvals(np.where(np.isfinite(J), J, 0.0))


def _on_continuum(model, ev, tol):
    """(m,) bool: spectra ``ev`` (m, n_state) with an eigenvalue within ``tol`` of the
    stability boundary (maps ``| |lambda| - 1 |``, flows ``|Re lambda| dt``)."""
    g = np.abs(ev) - 1.0 if model.time == "discrete" else ev.real * float(model.dt)
    return np.any(np.abs(g) <= tol, axis=1)


def input_rows(x, n_rows):
    """``n_rows`` copies of the input ``x`` as a new writable (n_rows, n_input) array.

    Not ``np.ascontiguousarray(np.broadcast_to(...))``: for one row the broadcast view already
    counts as contiguous and is returned as it is, read-only, and a read-only array is another
    argument type for the kernels (one more compilation of the Newton kernel)."""
    return np.repeat(np.asarray(x, float)[None, :], int(n_rows), axis=0)


def solve_condition(model, X, k, seeds, method, tol, tol_q, max_iter, lr, polish, max_norm):
    Xb = input_rows(X[k], seeds.shape[0])
    if method == "newton":
        sol = solve(model, seeds, Xb, tol=tol, max_iter=max_iter, max_norm=max_norm)
        return sol.points, sol.iterations, sol.code
    H, _, iters, status = minimize_q(model, seeds, Xb, tol_q=tol_q, max_iter=max_iter,
                                     lr=lr, max_norm=max_norm)
    if polish:
        ok = status != _nk.DIVERGED
        sol = solve(model, H[ok], Xb[ok], tol=tol, max_iter=100, max_norm=max_norm)
        H[ok], status[ok] = sol.points, sol.code
        iters[ok] += sol.iterations
    return H, iters, status
