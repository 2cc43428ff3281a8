"""The leading unstable modes of points, and nothing else: what the search needs to follow the
saddles' unstable manifolds when the result's full linearisation is not asked for
(``stability=False``).

:func:`stability_at` eigen-decomposes every Jacobian completely and adds left modes; here a map
with many state variables gets only the dominant eigenpairs of the Jacobian's coupled block
(the rows of inactive ReLU units are decoupled: their eigenvalues are their diagonal entries,
their modes have no part in the active block), by orthogonal iteration with a Rayleigh-Ritz
step, checked by the residuals of the Ritz pairs; a block that does not converge is
eigen-decomposed densely. Flows and small maps are decomposed densely.
"""

from __future__ import annotations

import numpy as np

from ._eigen import decoupled_rows, map_chunks

__all__ = ["unstable_modes"]

_DENSE = 48          # below this size, dense eig is cheaper than any iteration
_GUARD = 5           # vectors beyond the k wanted, to separate them from the rest
_MAX_ITER = 90       # then dense eig
_CHECK = 6           # iterations between Ritz checks
_RESIDUAL = 1e-8     # Ritz pair accepted when |A v - theta v| <= this * max(1, max|A|)


def unstable_modes(model, P, cond, X, *, delta, k=3):
    """Up to ``k`` leading unstable modes at each point ``P`` (m, n_state) under
    ``X[cond]``: ``(modes, n_unstable)`` with modes (m, n_state, k) complex (unit norm,
    leading-first; zero columns beyond ``n_unstable``) and ``n_unstable`` (m,) the number of
    unstable modes found (at most k; an eigenvalue is unstable when its growth, ``|lambda| - 1``
    for maps and ``Re lambda`` for flows, exceeds ``delta``)."""
    m, n = P.shape
    modes, count = np.zeros((m, n, k), complex), np.zeros(m, np.int64)
    if m == 0 or k == 0:
        return modes, count
    J = np.asarray(model.jacobian(P, X[cond]), float)
    is_map = model.time == "discrete"

    def one(i):
        ev, V = _leading(J[i], is_map, delta, k, np.random.default_rng(i))
        growth = np.abs(ev) - 1.0 if is_map else ev.real
        keep = np.flatnonzero(growth > delta)[:k]
        modes[i, :, :keep.size] = V[:, keep] / np.linalg.norm(V[:, keep], axis=0)
        count[i] = keep.size

    if n < _DENSE:
        for i in range(m):
            one(i)
    else:
        map_chunks(one, list(range(m)))     # parallel over points
    return modes, count


def _leading(J, is_map, delta, k, rng):
    """Eigenpairs of J sorted leading-first: all of them, or (large maps) the dominant ones of
    the coupled block, among which every unstable one (to the Ritz tolerance)."""
    if not np.all(np.isfinite(J)):
        return np.zeros(0, complex), np.zeros((J.shape[0], 0), complex)
    n = J.shape[0]
    if not is_map or n < _DENSE:
        return _sorted(*np.linalg.eig(J), is_map)
    d = np.diag(J)
    dec = decoupled_rows(J)
    act = np.flatnonzero(~dec)
    if np.any(np.abs(d[dec]) - 1.0 > delta):   # an unstable decoupled row: no shortcut
        return _sorted(*np.linalg.eig(J), is_map)
    A = J[np.ix_(act, act)]
    ev, VA = _dominant(A, k, rng) if act.size >= _DENSE else _sorted(*np.linalg.eig(A), True)
    V = np.zeros((n, VA.shape[1]), complex)
    V[act] = VA   # [v; 0] is an eigenvector of J for each eigenpair (lambda, v) of the block
    return ev, V


def _sorted(ev, V, is_map):
    growth = np.abs(ev) if is_map else ev.real
    o = np.argsort(-growth, kind="stable")
    return ev[o], V[:, o]


def _dominant(A, k, rng):
    """The dominant eigenpairs of A (a map's block) by orthogonal iteration on ``k + _GUARD``
    vectors: returned once every Ritz pair with ``|theta| >= 1 - 1e-3`` has converged and the
    smallest Ritz value lies inside the unit circle; dense eig when that does not happen."""
    a = A.shape[0]
    p = min(a, k + _GUARD)
    Q = np.linalg.qr(rng.standard_normal((a, p)))[0]
    tol = _RESIDUAL * max(1.0, float(np.max(np.abs(A))))
    for it in range(1, _MAX_ITER + 1):
        Z = A @ Q
        if it >= 2 * _CHECK and it % _CHECK == 0:
            theta, Y = np.linalg.eig(Q.T @ Z)
            theta, Y = _sorted(theta, Y, True)
            V = Q @ Y
            res = np.max(np.abs(A @ V - V * theta), axis=0)
            # every Ritz pair that is not clearly stable converged, and the block reaches
            # below the unit circle (no unstable eigenvalue is left outside it)
            need = np.abs(theta) >= 1.0 - 1e-3
            if np.all(res[need] <= tol) and np.abs(theta[-1]) < 1.0 - 1e-3:
                return theta, V
        # re-orthonormalise every other step (the checks above see an orthonormal Q)
        Q = np.linalg.qr(Z)[0] if it % 2 else Z
    return _sorted(*np.linalg.eig(A), True)
