"""Attractors at the ends of the saddles' unstable modes, and the unique converged points the
search works from (chosen as the result will choose them, so that their linearisations are
computed once)."""

from __future__ import annotations

import numpy as np

from .._kernels import newton as _nk
from ._modes import unstable_modes
from ._newton import solve
from ._region import EARLY_STOP, inside, run_until_settled
from ._relu_exact import relu_exact_points
from ._search import deduplicate

__all__ = ["descend", "residuals", "unique_converged"]


def residuals(model, H, X, cond):
    """``q = |G|^2 / 2`` and ``max|G|`` of each row of H under ``X[cond]``."""
    G = np.asarray(model.step(H, X[cond]), float) if len(H) else np.zeros_like(H)
    if model.time == "discrete":
        G = G - H
    return 0.5 * np.sum(G * G, axis=1), np.max(np.abs(G), axis=1, initial=0.0)


def unique_converged(model, X, H, cond, status, exact, opt, scale, region=None):
    """Indices of one row per distinct converged point inside the region, picked as
    :func:`find_fixed_points` picks its result's rows (exact first, then lowest q, at the
    result's de-duplication radius)."""
    ok = np.flatnonzero((status == _nk.CONVERGED) & inside(region, H))
    if ok.size == 0:
        return ok
    q, _ = residuals(model, H[ok], X, cond[ok])
    return ok[deduplicate(H[ok], cond[ok], exact[ok], np.ones(ok.size, bool), q,
                          opt.unique_radius, scale=scale)[0]]


def descend(model, X, H, cond, status, exact, opt, use_exact, regions, cache, scale,
            region=None, eps=1e-2):
    """Run the map (or flow) from each converged saddle displaced by ``+-eps`` (relative to
    ``max(1, max|h|)``) along its leading unstable modes (at most three); where the runs
    settle, polish with Newton (exact region solve for ReLU cells).

    With ``opt.stability`` the saddles' linearisations come from ``cache`` (a
    :class:`StabilityCache`), where the result's stability step finds them again; without it
    only their leading unstable modes are computed (:func:`unstable_modes`). The runs stop
    early once settled (:func:`run_until_settled`). Returns the new points, their conditions and
    the confirmed (settled-on) points.
    """
    n = H.shape[1]
    none = np.zeros((0, n)), np.zeros(0, np.int64), (np.zeros((0, n)), np.zeros(0, np.int64))
    reps = unique_converged(model, X, H, cond, status, exact, opt, scale, region)[:256]
    if reps.size == 0:
        return none
    modes, n_up = _modes(model, X, H[reps], cond[reps], opt, cache)
    starts, sc = [], []
    for i, r in enumerate(reps):
        for j in range(int(n_up[i])):
            v = np.real(modes[i, :, j])
            v = v / max(np.max(np.abs(v)), 1e-300)
            step = eps * max(1.0, float(np.max(np.abs(H[r]))))
            starts += [H[r] + step * v, H[r] - step * v]
            sc += [cond[r], cond[r]]
    if not starts:
        return none
    S, sc = np.array(starts), np.array(sc, np.int64)
    E, _ = run_until_settled(model, S, sc, X, opt.n_settle, opt.max_norm,
                             EARLY_STOP * opt.settle_tol)
    good = np.all(np.isfinite(E), axis=1)
    E, sc = E[good], sc[good]
    if use_exact:
        P, _, hit = relu_exact_points(model, X, E, sc, cache=regions)
        E, sc = P[hit[hit >= 0]], sc[hit >= 0]
    else:
        sol = solve(model, E, np.ascontiguousarray(X[sc]), tol=opt.tol, max_norm=opt.max_norm)
        E, sc = sol.points[sol.converged], sc[sol.converged]
    return E, sc, (E, sc)


def _modes(model, X, P, cond, opt, cache, k=3):
    """Up to k leading unstable modes of each point (m, n_state, k) and how many there are:
    from the full linearisations when the result will need them anyway (``opt.stability``),
    else only those modes."""
    if opt.stability:
        st = cache.get(P, cond, n_modes=k)
        return st.modes, np.minimum(st.unstable_dim, st.modes.shape[2])
    return unstable_modes(model, P, cond, X, delta=opt.delta, k=min(k, P.shape[1]))
