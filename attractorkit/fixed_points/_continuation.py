"""Continuation of fixed points along an ordered axis of constant inputs.

Each condition warm-starts Newton from the previous condition's points (branch tracking) and
adds fresh seeds (to catch points that appear). Events report where a branch appears, vanishes
or changes stability, and how its spectrum crossed the boundary.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import single_blas_thread
from ..core._errors import ValidationError
from ..core._prepare import as_conditions, check_model_arg
from ..core._results import Result
from ..core._validation import as_rng, check_int, check_positive
from ._find import find_fixed_points
from ._newton import solve
from ._stability import crossing_kind, stability_at

__all__ = ["FixedPointBranches", "continue_fixed_points"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class FixedPointBranches(Result):
    """Fixed points followed along an ordered input axis.

    Attributes
    ----------
    points : ndarray of shape (n, n_state)
        Every (branch, condition) point, ordered by condition.
    condition, branch : ndarray of shape (n,), int
    inputs : ndarray of shape (n_conditions, n_input)
    q : ndarray of shape (n,)
    eigenvalues : ndarray of shape (n, n_state), complex
    stable, unstable_dim, label : ndarrays of shape (n,)
    event_condition : ndarray of shape (n_events,), int
        First condition at which the change is seen (``k``: between ``k-1`` and ``k``).
    event_branch : ndarray of shape (n_events,), int
    event_kind : ndarray of shape (n_events,), str
        "appear", "vanish" or "stability".
    event_crossing : ndarray of shape (n_events,), str
        How the spectrum met the boundary: maps "real +1" (fold, transcritical, pitchfork),
        "real -1" (flip) or "complex pair" (Neimark-Sacker); flows "real 0" or "hopf pair".
        For appear/vanish it is read from the eigenvalue closest to the boundary at the last
        (first) condition of the branch.
    event_detail : ndarray of shape (n_events,), str
    time : str
    """

    points: np.ndarray
    condition: np.ndarray
    branch: np.ndarray
    inputs: np.ndarray
    q: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    unstable_dim: np.ndarray
    label: np.ndarray
    event_condition: np.ndarray
    event_branch: np.ndarray
    event_kind: np.ndarray
    event_crossing: np.ndarray
    event_detail: np.ndarray
    time: str

    @property
    def n_branches(self) -> int:
        return int(self.branch.max()) + 1 if self.branch.size else 0

    def summary(self) -> str:
        lines = [
            f"FixedPointBranches: {self.n_branches} branch(es) over "
            f"{self.inputs.shape[0]} conditions, {self.event_kind.size} event(s)"
        ]
        shown = 6
        for k, b, kind, cr, det in list(zip(self.event_condition, self.event_branch,
                                             self.event_kind, self.event_crossing,
                                             self.event_detail))[:shown]:
            lines.append(f"  condition {k}: branch {b} {kind} ({cr}) {det}")
        if self.event_kind.size > shown:
            lines.append(f"  ... and {self.event_kind.size - shown} more event(s) "
                         "(event_condition, event_kind, ...)")
        return "\n".join(lines)

    def plot(self, ax=None, *, coord=0, axis=None):
        """Each branch: state coordinate ``coord`` against the condition (or ``axis``, one
        value per condition), solid where stable, dashed where not. Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        xs = np.arange(self.inputs.shape[0]) if axis is None else np.asarray(axis, float)
        for b in range(self.n_branches):
            sel = np.flatnonzero(self.branch == b)
            x, y, st = xs[self.condition[sel]], self.points[sel, coord], self.stable[sel]
            ax.plot(x, np.where(st, y, np.nan), "-", color=f"C{b % 10}")
            ax.plot(x, np.where(st, np.nan, y), "--", color=f"C{b % 10}")
        ax.set_xlabel("condition" if axis is None else "input")
        ax.set_ylabel(f"h[{coord}]")
        return ax


@single_blas_thread
def continue_fixed_points(model, inputs, *, initial_states=None, n_init=64, n_fresh=None,
                          tol=1e-10, max_iter=100, tol_unique=1e-6, max_jump=None,
                          delta=1e-8, rng=None, **find_kw) -> FixedPointBranches:
    """Follow fixed points along an ordered sequence of constant inputs.

    Parameters
    ----------
    model : Model
    inputs : array_like of shape (n_conditions, n_input)
        Ordered conditions (e.g. a grid along one input direction), at least 2.
    initial_states, n_init
        Seeds of the first condition (as in :func:`find_fixed_points`).
    n_fresh : int, optional
        Fresh seeds at every later condition, to discover points that appear (default
        ``max(8, n_init // 4)``).
    tol, max_iter, tol_unique, delta
        As in :func:`find_fixed_points`.
    max_jump : float, optional
        A continued point that moved more than this (max-norm) is taken to have jumped to
        another branch, and its own branch ends (default ``0.25 * max(1, max|h|)``).
    rng : None, int or Generator
    **find_kw
        Passed on to :func:`find_fixed_points` (e.g. ``n_steps``, ``noise``).

    Returns
    -------
    FixedPointBranches
    """
    check_model_arg(model)
    X = as_conditions(model, inputs)
    K = X.shape[0]
    if K < 2:
        raise ValidationError(f"inputs: expected at least 2 ordered conditions, received {K}")
    n_init = check_int("n_init", n_init, minimum=1)
    n_fresh = max(8, n_init // 4) if n_fresh is None else check_int("n_fresh", n_fresh,
                                                                      minimum=0)
    if max_jump is not None:
        max_jump = check_positive("max_jump", max_jump)
    tol_unique = check_positive("tol_unique", tol_unique)
    rng = as_rng(rng)
    kw = dict(tol=tol, max_iter=max_iter, tol_unique=tol_unique, delta=delta, **find_kw)
    fp = find_fixed_points(model, X[0], initial_states=initial_states, n_init=n_init, rng=rng,
                           **kw)
    fp = fp.take(fp.converged)
    rows = []  # (condition, branch, point)
    cur_pts, cur_ids = fp.points, np.arange(len(fp))
    n_br = len(fp)
    rows += [(0, b, p) for b, p in zip(cur_ids, cur_pts)]
    for k in range(1, K):
        nxt_pts, nxt_ids = _continue_step(model, X[k], cur_pts, cur_ids, tol, max_iter,
                                                 tol_unique, max_jump)
        if n_fresh:
            fresh = find_fixed_points(model, X[k], n_init=n_fresh, rng=rng, **kw)
            fresh = fresh.take(fresh.converged).points
            new = _not_near(fresh, nxt_pts, tol_unique)
            nxt_pts = np.concatenate([nxt_pts, new])
            nxt_ids = np.concatenate([nxt_ids, n_br + np.arange(len(new))])
            n_br += len(new)
        rows += [(k, b, p) for b, p in zip(nxt_ids, nxt_pts)]
        cur_pts, cur_ids = nxt_pts, nxt_ids
    return _assemble(model, X, rows, delta)


def _continue_step(model, x, pts, ids, tol, max_iter, tol_unique, max_jump):
    if len(pts) == 0:
        return pts, ids
    Xb = np.ascontiguousarray(np.broadcast_to(x, (len(pts), x.size)))
    sol = solve(model, pts, Xb, tol=tol, max_iter=max_iter)
    H, st = sol.points, sol.code
    jump = np.where(np.all(np.isfinite(H), axis=1), np.max(np.abs(np.nan_to_num(H) - pts),
                                                           axis=1), np.inf)
    limit = 0.25 * max(1.0, float(np.max(np.abs(pts)))) if max_jump is None else max_jump
    ok = (st == _nk.CONVERGED) & (jump <= limit)
    # collisions: two branches landing on one point keep the one that moved least
    order = np.argsort(jump)
    r = tol_unique * max(1.0, float(np.max(np.abs(pts))))
    kept = []
    for i in order:
        if ok[i] and all(np.max(np.abs(H[i] - H[j])) > r for j in kept):
            kept.append(i)
    kept = np.sort(np.asarray(kept, np.int64))
    return H[kept], ids[kept]


def _not_near(A, B, tol):
    if len(A) == 0 or len(B) == 0:
        return A
    r = tol * max(1.0, float(np.max(np.abs(B))))
    d = np.max(np.abs(A[:, None, :] - B[None, :, :]), axis=2)
    return A[np.all(d > r, axis=1)]


def _assemble(model, X, rows, delta):
    cond = np.array([r[0] for r in rows], np.int64)
    br = np.array([r[1] for r in rows], np.int64)
    P = np.array([r[2] for r in rows], float).reshape(len(rows), model.n_state)
    st = stability_at(model, P, cond, X, delta=delta, n_modes=1)
    G = np.asarray(model.step(P, X[cond]), float) - (P if model.time == "discrete" else 0.0) \
        if len(P) else np.zeros_like(P)
    ev_c, ev_b, ev_k, ev_x, ev_d = [], [], [], [], []
    K = X.shape[0]
    for b in np.unique(br):
        sel = np.flatnonzero(br == b)
        ks = cond[sel]
        if ks[0] > 0:
            ev_c.append(ks[0]), ev_b.append(b), ev_k.append("appear")
            ev_x.append(crossing_kind(None, st.eigenvalues[sel[0]], model.time, delta))
            ev_d.append(f"as {st.label[sel[0]]}")
        for a, c in zip(sel[:-1], sel[1:]):
            if st.unstable_dim[a] != st.unstable_dim[c] or st.stable[a] != st.stable[c]:
                ev_c.append(cond[c]), ev_b.append(b), ev_k.append("stability")
                ev_x.append(crossing_kind(st.eigenvalues[a], st.eigenvalues[c], model.time,
                                          delta))
                ev_d.append(f"{st.label[a]} -> {st.label[c]}")
        if ks[-1] < K - 1:
            ev_c.append(ks[-1] + 1), ev_b.append(b), ev_k.append("vanish")
            ev_x.append(crossing_kind(st.eigenvalues[sel[-1]], None, model.time, delta))
            ev_d.append(f"last seen as {st.label[sel[-1]]}")
    o = np.lexsort((np.asarray(ev_b, np.int64), np.asarray(ev_c, np.int64)))
    return FixedPointBranches(
        points=P, condition=cond, branch=br, inputs=X, q=0.5 * np.sum(G * G, axis=1),
        eigenvalues=st.eigenvalues, stable=st.stable, unstable_dim=st.unstable_dim,
        label=st.label, event_condition=np.asarray(ev_c, np.int64)[o],
        event_branch=np.asarray(ev_b, np.int64)[o],
        event_kind=np.asarray(ev_k, "U9")[o], event_crossing=np.asarray(ev_x, "U12")[o],
        event_detail=np.asarray(ev_d, "U48")[o], time=model.time,
    )
