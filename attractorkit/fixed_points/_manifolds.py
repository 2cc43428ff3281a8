"""Non-isolated fixed points as sets: line, plane and ring attractors, and slow manifolds.

A point is a candidate when its Jacobian has eigenvalues near the stability boundary (maps:
``| |lambda| - 1 | <= manifold_tol``; flows: ``|Re lambda| dt <= manifold_tol``). Two
candidates of one condition belong to the same set when the dynamics barely move along the
chord between them: at its quarter points ``max|G| <= manifold_tol * |a - b|`` (max-norms;
``G = F(h) - h``, or ``F(h) dt`` for flows). On a line attractor G vanishes on the chord; near a
curved attractor (a ring) it grows with the square of the chord, so neighbours link and
the set follows the curve; between two distinct points G grows with the chord itself. Each
connected set is reported once, by its dimension (the median number of near-boundary
eigenvalues), its extent along its principal axes and a few representative points. A set of
dimension 1 whose points go round its centre without a gap (a ring attractor) is ``closed``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree
from scipy.spatial import cKDTree

from ..core._results import Result
from ._newton import safe_step, solve

__all__ = ["Manifold", "group_manifolds", "describe_sets", "closed_curve"]

_NEIGHBOURS = 8
_CHORD = (0.25, 0.5, 0.75)


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Manifold(Result):
    """A connected set of non-isolated (or slow) fixed points under one condition.

    Attributes
    ----------
    condition : int
    dimension : int
        Number of Jacobian eigenvalues at the stability boundary (within ``manifold_tol``).
    n_points : int
        Distinct solutions found on the set (before it was thinned to ``representatives``).
    center : ndarray of shape (n_state,)
    axes : ndarray of shape (n_state, dimension)
        Principal directions of the set (of its points; for a set of one point, the
        near-boundary eigenvectors).
    extent : ndarray of shape (dimension,)
        Span of the set along each axis (for one point: how far the dynamics stay slow).
    representatives : ndarray of shape (m, n_state)
        A few points spread over the set.
    q_max : float
        Largest ``q = |G|^2/2`` over the set's points.
    stable : bool
        No direction is unstable beyond the boundary band.
    slow : bool
        Approximate: at most of its points the eigenvalues are near, not at, the boundary or
        q is above tolerance (a slow manifold rather than a continuum of fixed points).
    closed : bool
        A closed curve (dimension 1): its points, seen from their centre in the plane of their
        two principal axes, go all the way round, no gap between neighbours wider than
        ``min(0.2, 3 ln(m) / m)`` of the curve's length (m points, at least 8), and the
        centre is off the curve. A ring attractor rather than a line attractor.
    """

    condition: int
    dimension: int
    n_points: int
    center: np.ndarray
    axes: np.ndarray
    extent: np.ndarray
    representatives: np.ndarray
    q_max: float
    stable: bool
    slow: bool
    closed: bool = False

    @property
    def kind(self) -> str:
        d = self.dimension
        if self.slow:
            return "slow manifold"
        if not self.stable:
            return "saddle ring" if self.closed else "saddle set"
        if self.closed:
            return "ring attractor"
        return {1: "line attractor", 2: "plane attractor"}.get(d, "continuous attractor")

    def summary(self) -> str:
        q = f", q up to {self.q_max:.2g}" if self.slow else ""
        return (f"{self.kind} (dimension {self.dimension}{q}) under condition {self.condition}: "
                f"{self.n_points} point(s), extent {np.array2string(self.extent, precision=3)}")


def describe_sets(manifolds, n_isolated) -> str:
    """'1 line attractor (dimension 1), 2 isolated point(s)'."""
    kinds: dict[str, int] = {}
    for m in manifolds:
        key = f"{m.kind} (dimension {m.dimension})"
        kinds[key] = kinds.get(key, 0) + 1
    parts = [f"{c} {k}" for k, c in kinds.items()]
    return ", ".join(parts + [f"{n_isolated} isolated point(s)"])


def _growth(ev, time, dt):
    return np.abs(ev) - 1.0 if time == "discrete" else ev.real * dt


def _velocity(model, H, Xc, dt):
    G = safe_step(model, H, Xc)
    return G - H if model.time == "discrete" else G * dt


def group_manifolds(model, H, cond, X, q, converged, slow, stab, *, manifold_tol, delta,
                    region, n_represent=8):
    """Group the candidates among the points H into sets.

    Returns (keep, manifold, manifolds): the rows to keep (isolated points and each set's
    representatives), the set index of each kept row (-1: isolated) and the Manifold list.
    """
    n = H.shape[0]
    dt = float(model.dt) if model.time == "continuous" else 1.0
    g = _growth(stab.eigenvalues, model.time, dt)
    near = np.abs(g) <= manifold_tol
    n_near = near.sum(axis=1)
    cand = np.flatnonzero((n_near > 0) & (converged | slow) & np.all(np.isfinite(H), axis=1))
    label = np.full(n, -1, np.int64)
    if cand.size == 0:
        return np.arange(n), label, []
    comp = np.full(n, -1, np.int64)
    for k in np.unique(cond[cand]):
        idx = cand[cond[cand] == k]
        lab = _link(model, H[idx], X[k], manifold_tol, dt)
        comp[idx] = lab + comp.max() + 1
    keep = np.ones(n, bool)
    keep[cand] = False
    manifolds = []
    for c in np.unique(comp[cand]):
        members = cand[comp[cand] == c]
        reps = _representatives(H[members], q[members], n_represent)
        m = _describe(model, H, X, cond, members, near, g, q, converged, dt, manifold_tol,
                      delta, region)
        keep[members[reps]] = True
        label[members[reps]] = len(manifolds)
        manifolds.append(dataclasses.replace(m, representatives=H[members[reps]]))
    kept = np.flatnonzero(keep)
    return kept, label[kept], manifolds


def _link(model, P, x, tol, dt):
    """Component label of each of the points P (one condition): points within a small radius
    are one node; nodes are linked along their k nearest neighbours and the edges of their
    minimum spanning tree when the dynamics barely move on the chord between them."""
    m = P.shape[0]
    span = float(np.max(np.ptp(P, axis=0))) if m > 1 else 0.0
    if span == 0.0:
        return np.zeros(m, np.int64)
    tree = cKDTree(P)
    node = np.full(m, -1, np.int64)
    reps = []
    for i in np.argsort(-np.max(np.abs(P), axis=1), kind="stable"):   # greedy thinning
        if node[i] >= 0:
            continue
        near = tree.query_ball_point(P[i], 1e-3 * span, p=np.inf)
        free = [j for j in near if node[j] < 0]
        node[free] = len(reps)
        reps.append(i)
    T = P[np.asarray(reps)]
    t = T.shape[0]
    if t == 1:
        return np.zeros(m, np.int64)
    kk = min(_NEIGHBOURS, t - 1)
    _, nb = cKDTree(T).query(T, k=kk + 1, p=np.inf)
    a, b = np.repeat(np.arange(t), kk), nb[:, 1:].ravel()
    if t <= 2000:
        D = np.max(np.abs(T[:, None] - T[None]), axis=2)
        mst = minimum_spanning_tree(D).tocoo()
        a, b = np.concatenate([a, mst.row]), np.concatenate([b, mst.col])
    pair = np.unique(np.sort(np.stack([a, b], 1), axis=1), axis=0)
    A, B = pair[:, 0], pair[:, 1]
    xs = np.ascontiguousarray(np.broadcast_to(x, (A.size, x.size)))
    with np.errstate(all="ignore"):
        vt = np.max(np.abs(_velocity(model, T, np.broadcast_to(x, (t, x.size)), dt)), axis=1)
        chord = np.max(np.abs(T[A] - T[B]), axis=1)
        ok = np.ones(A.size, bool)
        for s in _CHORD:
            v = np.max(np.abs(_velocity(model, (1 - s) * T[A] + s * T[B], xs, dt)), axis=1)
            ok &= v <= np.maximum(vt[A], vt[B]) + tol * chord
        # a curved continuum (a ring): Newton from the chord's midpoint lands on the set near
        # the midpoint (within a quarter of the chord), on a point at the boundary too
        rest = np.flatnonzero(~ok)
        if rest.size:
            mid = 0.5 * (T[A[rest]] + T[B[rest]])
            sol = solve(model, mid, xs[rest], max_iter=20)
            d = np.max(np.abs(sol.points - mid), axis=1)
            hit = sol.converged & (d <= 0.25 * chord[rest])
            if hit.any():
                hit[hit] = _near_boundary(model, sol.points[hit], xs[rest][hit], tol, dt)
            ok[rest[hit]] = True
    _, lab = connected_components(coo_matrix((np.ones(int(ok.sum())), (A[ok], B[ok])),
                                             shape=(t, t)), directed=False)
    return lab[node]


def _near_boundary(model, P, X, tol, dt):
    J = np.asarray(model.jacobian(P, X), float)
    with np.errstate(all="ignore"):
        ev = np.linalg.eigvals(np.where(np.isfinite(J), J, 0.0))
    return np.any(np.abs(_growth(ev, model.time, dt)) <= tol, axis=1)


def _representatives(P, q, m):
    """Farthest-point sampling from the lowest-q point: up to m rows spread over the set."""
    chosen = [int(np.argmin(q))]
    d = np.max(np.abs(P - P[chosen[0]]), axis=1)
    while len(chosen) < min(m, P.shape[0]) and d.max() > 0:
        j = int(np.argmax(d))
        chosen.append(j)
        d = np.minimum(d, np.max(np.abs(P - P[j]), axis=1))
    return np.sort(np.asarray(chosen, np.int64))


def _describe(model, H, X, cond, members, near, g, q, converged, dt, tol, delta, region):
    P = H[members]
    k = int(cond[members[0]])
    dim = int(max(1, round(float(np.median(near[members].sum(axis=1))))))
    center = P.mean(axis=0)
    gm = np.where(near[members], np.abs(g[members]), np.inf)
    off = np.sort(gm, axis=1)[:, :dim]
    # approximate when most of the set is: one end of a line that attracts the flow beside
    # it (eigenvalue 1 - 1e-5 there) does not make the line slow
    slow = bool(np.mean(np.any(off > delta, axis=1)) > 0.5
                or np.mean(converged[members]) < 0.5)
    stable = bool(np.all(np.sum(g[members] > tol, axis=1) == 0))
    U, extent = np.zeros((H.shape[1], dim)), np.zeros(dim)
    if len(members) > dim:
        U = np.linalg.svd(P - center, full_matrices=False)[2][:dim].T
        extent = np.ptp((P - center) @ U, axis=0)
    if not np.all(extent > 0):        # one point, or all on top of each other: probe
        i = members[int(np.argmin(q[members]))]
        U, extent, q_end = _probe(model, H[i], X[k], dim, tol, dt, region)
        center = H[i]
    else:
        q_end = 0.0
    return Manifold(condition=k, dimension=dim, n_points=int(members.size), center=center,
                    axes=U, extent=extent, representatives=P[:0],
                    q_max=max(float(np.max(q[members])), q_end), stable=stable, slow=slow,
                    closed=dim == 1 and closed_curve(P))


def closed_curve(P) -> bool:
    """True when the points P (m, n_state) of a one-dimensional set lie on a closed curve:
    in the plane of their two principal axes, seen from their centre, the polar angles go all
    the way round with no gap between neighbours wider than ``min(0.2, 3 ln(m) / m)`` of the
    curve's length (the length of the polygon through the points in angular order; for m
    points spread at random on a closed curve the widest gap is about ``ln(m) / m``), and no
    point is near the centre (closer than a quarter of the median distance). Needs m >= 8."""
    m = P.shape[0]
    if m < 8 or P.shape[1] < 2:
        return False
    C = P - P.mean(axis=0)
    U = np.linalg.svd(C, full_matrices=False)[2][:2].T
    Y = C @ U
    rho = np.hypot(Y[:, 0], Y[:, 1])
    if not np.all(rho > 0.25 * np.median(rho)):
        return False
    order = np.argsort(np.arctan2(Y[:, 1], Y[:, 0]))
    Q = P[order]
    gaps = np.sqrt(np.sum((np.roll(Q, -1, axis=0) - Q) ** 2, axis=1))
    length = float(gaps.sum())
    return length > 0 and float(gaps.max()) <= min(0.2, 3.0 * np.log(m) / m) * length


def _probe(model, h, x, dim, tol, dt, region):
    """The near-boundary eigenvectors at h and how far along each the dynamics stay slow
    (``max|G| <= tol * s`` at distance s, inside the region), as (axes, extent)."""
    J = np.asarray(model.jacobian(h[None], x[None]), float)[0]
    ev, V = np.linalg.eig(J)
    g = _growth(ev, model.time, dt)
    order = np.argsort(np.abs(g))[:dim]
    U = np.linalg.qr(np.real(V[:, order]))[0]
    scale = max(1.0, float(np.max(np.abs(h))))
    if region is not None:
        scale = max(scale, float(np.max(np.abs(region[np.isfinite(region)]), initial=0.0)))
    ladder = scale * 2.0 ** -np.arange(0, 30)[::-1]
    extent = np.zeros(dim)
    with np.errstate(all="ignore"):
        v0 = float(np.max(np.abs(_velocity(model, h[None], x[None], dt))))
    q_end = 0.0
    for a in range(dim):
        for sign in (1.0, -1.0):
            P = h + sign * ladder[:, None] * U[:, a]
            inside = np.ones(len(P), bool) if region is None else \
                np.all((P >= region[0]) & (P <= region[1]), axis=1)
            with np.errstate(all="ignore"):
                v = np.max(np.abs(_velocity(model, P, np.broadcast_to(x, (len(P), x.size)),
                                            dt)), axis=1)
            ok = inside & (v <= v0 + tol * ladder)
            bad = np.flatnonzero(~ok)
            last = (bad[0] - 1) if bad.size else len(ladder) - 1
            if last >= 0:
                extent[a] += ladder[last]
                G = _velocity(model, P[last][None], x[None], dt) / dt
                q_end = max(q_end, 0.5 * float(np.sum(G * G)))
    return U, extent, q_end
