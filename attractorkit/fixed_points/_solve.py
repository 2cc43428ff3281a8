"""The solver layer under fixed points, cycles and continuation.

:func:`initial_states_for` (seeds from the user's states or from simulation),
:func:`solve_points` (per-point damped Newton / Levenberg-Marquardt for ``F^p(h) = h`` or
``F(h) = 0``: numba for kernel models, batched numpy otherwise) and :func:`minimize_q`
(Sussillo-Barak q-minimisation with Adam, per-point stopping). The one-call functions live in
``_fixed_points.py`` and ``_cycles.py``.
"""

from __future__ import annotations

import logging

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import one_blas_thread
from ..core._errors import ValidationError
from ..core._prepare import kernel_spec
from ..core._validation import as_float_array

__all__ = [
    "initial_states_for",
    "safe_step",
    "solve_points",
    "minimize_q",
    "STATUS_NAMES",
]

log = logging.getLogger(__name__)
STATUS_NAMES = ("converged", "max_iter", "slow", "diverged")
_CHUNK_BYTES = 64 * 2**20


# -- validation helpers ------------------------------------------------------------------------
def safe_step(model, H, X):
    """model.step on the finite rows of H only; NaN rows elsewhere (models may refuse NaN)."""
    ok = np.all(np.isfinite(H), axis=1)
    if ok.all():
        return np.asarray(model.step(H, X), float)
    out = np.full(H.shape, np.nan)
    if ok.any():
        out[ok] = model.step(H[ok], X[ok])
    return out


# -- initial states ----------------------------------------------------------------------------
def _advance(model, H, X, n_steps, max_norm):
    """Run a batch forward (maps: step; flows: RK4 with model.dt); returns (n_steps+1, B, n)."""
    out = np.empty((n_steps + 1,) + H.shape)
    out[0] = H
    h = H.copy()
    dt = model.dt
    with np.errstate(all="ignore"):
        for t in range(n_steps):
            if model.time == "discrete":
                h = safe_step(model, h, X)
            else:
                k1 = safe_step(model, h, X)
                k2 = safe_step(model, h + 0.5 * dt * k1, X)
                k3 = safe_step(model, h + 0.5 * dt * k2, X)
                k4 = safe_step(model, h + dt * k3, X)
                h = h + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
            bad = ~np.all(np.isfinite(h), axis=1) | (np.max(np.abs(h), axis=1) > max_norm)
            h[bad] = np.nan
            out[t + 1] = h
    return out


def initial_states_for(model, X, initial_states, n_init, noise, rng, *, n_steps=100,
                       init_scale=1.0, max_norm=1e6):
    """Seeds (n_conditions, n_init, n_state) from the user's states or from simulation.

    User states (any array whose last axis is n_state, or one array per condition of shape
    (n_conditions, ..., n_state) when its first axis equals n_conditions and ndim >= 3) are
    sampled without replacement (with replacement when there are fewer than n_init). Without
    user states, ``max(8, n_init // 8)`` trajectories per condition start from
    ``N(0, init_scale^2)`` and run ``n_steps``; seeds are drawn from their finite states with
    weight ``1/(t+1)`` at step t, so that transients (where saddles are passed) are well
    represented. Gaussian noise of SD ``noise`` is added.
    """
    K, n = X.shape[0], model.n_state
    if initial_states is not None:
        S = as_float_array("initial_states", initial_states, finite=False)
        if S.ndim < 1 or S.shape[-1] != n:
            raise ValidationError(
                f"initial_states: expected an array whose last axis is n_state={n}, received "
                f"shape {S.shape}"
            )
        if not np.all(np.isfinite(S)):
            raise ValidationError(
                f"initial_states: expected finite values, received "
                f"{int(np.sum(~np.isfinite(S)))} NaN/Inf entries"
            )
        per_cond = S.ndim >= 3 and S.shape[0] == K and K > 1
        pools = [S[k].reshape(-1, n) for k in range(K)] if per_cond else [S.reshape(-1, n)] * K
        if any(p.shape[0] == 0 for p in pools):
            raise ValidationError("initial_states: expected at least one state, received none")
    else:
        n_traj = max(8, n_init // 8)
        H0 = rng.normal(0.0, init_scale, size=(K * n_traj, n))
        traj = _advance(model, H0, np.repeat(X, n_traj, axis=0), n_steps, max_norm)
        traj = traj.reshape(n_steps + 1, K, n_traj, n).transpose(1, 2, 0, 3)
        # weight 1/(t+1): transients (where saddles are passed) are not drowned by the many
        # late states sitting on attractors
        tw = np.broadcast_to(1.0 / np.arange(1, n_steps + 2), (n_traj, n_steps + 1)).ravel()
        pools, weights = [], []
        for k in range(K):
            pool = traj[k].reshape(-1, n)
            ok = np.all(np.isfinite(pool), axis=1)
            if not ok.any():
                log.info("condition %d: every simulated trajectory diverged; seeding from the "
                         "random starts", k)
                pools.append(H0[k * n_traj:(k + 1) * n_traj])
                weights.append(None)
            else:
                pools.append(pool[ok])
                weights.append(tw[ok] / tw[ok].sum())
    seeds = np.empty((K, n_init, n))
    for k, pool in enumerate(pools):
        w = weights[k] if initial_states is None else None
        idx = rng.choice(pool.shape[0], size=n_init, replace=pool.shape[0] < n_init, p=w)
        seeds[k] = pool[idx]
    if noise > 0:
        seeds += rng.normal(0.0, noise, size=seeds.shape)
    return seeds


# -- Newton / Levenberg-Marquardt ----------------------------------------------------------------
def solve_points(model, H0, X, *, period=1, tol=1e-10, max_iter=100, max_norm=1e6):
    """Per-point damped Newton / LM on ``G(h) = F^p(h) - h`` (maps) or ``F(h)`` (flows).

    Parameters
    ----------
    model : Model
    H0 : ndarray of shape (B, n_state)
    X : ndarray of shape (B, n_input)
    period : int
    tol, max_iter, max_norm : stopping rules (see :mod:`attractorkit._kernels.newton`)

    Returns
    -------
    H (B, n_state), q (B,), residual max|G| (B,), iterations (B,), status (B,) int
    """
    B, n = H0.shape
    is_map = model.time == "discrete"
    H = np.empty((B, n))
    q, resid = np.empty(B), np.empty(B)
    iters, status = np.zeros(B, np.int64), np.zeros(B, np.int64)
    spec = kernel_spec(model)
    if spec is not None:
        with one_blas_thread():   # the kernel's prange over points calls LAPACK
            _nk.newton_batch(*spec.args, np.ascontiguousarray(H0), np.ascontiguousarray(X),
                             int(period), is_map, float(tol), int(max_iter), float(max_norm),
                             H, q, resid, iters, status)
        return H, q, resid, iters, status
    chunk = max(1, _CHUNK_BYTES // (8 * n * n * max(2, period)))
    for s in range(0, B, chunk):
        sl = slice(s, s + chunk)
        H[sl], q[sl], resid[sl], iters[sl], status[sl] = _newton_numpy(
            model, H0[sl], X[sl], period, is_map, tol, max_iter, max_norm)
    return H, q, resid, iters, status


def _residual_np(model, H, X, period, is_map):
    """G(H) and the orbit (B, period, n) (states at steps 0..period-1)."""
    orbit = np.empty((H.shape[0], period, H.shape[1]))
    with np.errstate(all="ignore"):
        if not is_map:
            orbit[:, 0] = H
            R = safe_step(model, H, X)
        else:
            h = H
            for k in range(period):
                orbit[:, k] = h
                h = safe_step(model, h, X)
            R = h - H
        q = 0.5 * np.sum(R * R, axis=1)
    q[~np.isfinite(q)] = np.inf
    return R, orbit, q


def _residual_jacobian_np(model, orbit, X, period, is_map):
    Jg = np.asarray(model.jacobian(orbit[:, 0], X), float)
    for k in range(1, period if is_map else 1):
        Jg = np.asarray(model.jacobian(orbit[:, k], X), float) @ Jg
    if is_map:
        Jg = Jg - np.eye(Jg.shape[1])
    return Jg


def _batched_solve(A, b):
    """Solve each A[i] d = b[i]; (d, ok) with ok False where singular or not finite."""
    d = np.zeros_like(b)
    ok = np.zeros(b.shape[0], bool)
    if b.shape[0] == 0:
        return d, ok
    finite = np.all(np.isfinite(A.reshape(A.shape[0], -1)), axis=1)
    try:
        d[finite] = np.linalg.solve(A[finite], b[finite][..., None])[..., 0]
        ok[finite] = True
    except np.linalg.LinAlgError:
        for i in np.flatnonzero(finite):
            try:
                d[i] = np.linalg.solve(A[i], b[i])
                ok[i] = True
            except np.linalg.LinAlgError:
                pass
    ok &= np.all(np.isfinite(d), axis=1)
    return d, ok


def _absmax(A):
    return np.max(np.abs(A), axis=1) if A.shape[1] else np.zeros(A.shape[0])


def _newton_numpy(model, H0, X, period, is_map, tol, max_iter, max_norm):
    """The kernel's algorithm, batched in numpy through model.step / model.jacobian."""
    B, n = H0.shape
    H = H0.copy()
    R, orbit, q = _residual_np(model, H, X, period, is_map)
    status = np.full(B, _nk.MAX_ITER)
    iters = np.zeros(B, np.int64)
    mu = np.full(B, 1e-3)
    active = np.isfinite(q)
    status[~active] = _nk.DIVERGED
    q_check = q.copy()
    for it in range(max_iter + 1):
        conv = active & (_absmax(R) <= tol * np.maximum(1.0, _absmax(H)))
        status[conv] = _nk.CONVERGED
        active &= ~conv
        if it == max_iter or not active.any():
            break
        idx = np.flatnonzero(active)
        iters[idx] += 1
        Jg = _residual_jacobian_np(model, orbit[idx], X[idx], period, is_map)
        r, h, qi = R[idx], H[idx], q[idx]
        d, ok = _batched_solve(Jg, -r)
        acc = np.zeros(idx.size, bool)
        Hn, Rn, On, Qn = h.copy(), r.copy(), orbit[idx].copy(), qi.copy()
        t = 1.0
        for _ in range(_nk._N_BACKTRACK):
            tr = np.flatnonzero(ok & ~acc)
            if tr.size == 0:
                break
            ht = h[tr] + t * d[tr]
            rt, ot, qt = _residual_np(model, ht, X[idx[tr]], period, is_map)
            good = qt <= (1.0 - 1e-4 * t) * qi[tr]
            g = tr[good]
            Hn[g], Rn[g], On[g], Qn[g], acc[g] = ht[good], rt[good], ot[good], qt[good], True
            t *= 0.5
        lm = np.flatnonzero(~acc)
        if lm.size:
            JtJ = np.swapaxes(Jg[lm], 1, 2) @ Jg[lm]
            grad = np.einsum("bji,bj->bi", Jg[lm], r[lm])
            s = np.maximum(np.trace(JtJ, axis1=1, axis2=2) / n, 1e-300)
            eye = np.eye(n)
            todo = np.ones(lm.size, bool)
            for _ in range(_nk._N_LM):
                tr = np.flatnonzero(todo)
                if tr.size == 0:
                    break
                m = mu[idx[lm[tr]]]
                dl, okl = _batched_solve(JtJ[tr] + (m * s[tr])[:, None, None] * eye, -grad[tr])
                ht = h[lm[tr]] + dl
                rt, ot, qt = _residual_np(model, ht, X[idx[lm[tr]]], period, is_map)
                good = okl & (qt < qi[lm[tr]])
                g = lm[tr[good]]
                Hn[g], Rn[g], On[g], Qn[g], acc[g] = ht[good], rt[good], ot[good], qt[good], True
                mu[idx[g]] = np.maximum(mu[idx[g]] / 3.0, 1e-12)
                mu[idx[lm[tr[~good]]]] *= 4.0
                todo[tr[good]] = False
        stalled = idx[~acc]
        status[stalled] = _nk.STALLED
        active[stalled] = False
        a = idx[acc]
        step = _absmax(Hn[acc] - h[acc])
        H[a], R[a], orbit[a], q[a] = Hn[acc], Rn[acc], On[acc], Qn[acc]
        big = _absmax(H[a]) > max_norm
        status[a[big]] = _nk.DIVERGED
        tiny = (step <= 1e-15 * (1 + _absmax(H[a]))) & (
            _absmax(R[a]) > tol * np.maximum(1.0, _absmax(H[a])))
        status[a[tiny & ~big]] = _nk.STALLED
        active[a[big | tiny]] = False
        if (it + 1) % _nk._STALL_WINDOW == 0:
            a = np.flatnonzero(active)
            slow = (q[a] > (1 - _nk._STALL_DECREASE) * q_check[a]) & (
                _absmax(R[a]) > tol * np.maximum(1.0, _absmax(H[a])))
            status[a[slow]] = _nk.STALLED
            active[a[slow]] = False
            q_check[a] = q[a]
    return H, q, np.where(np.isfinite(q), _absmax(R), np.inf), iters, status


# -- q-minimisation (Sussillo & Barak 2013) ------------------------------------------------------
def _q_and_grad(model, H, X, is_map):
    """q = |G|^2/2 and its gradient J_G^T G per row, without forming Jacobians where the
    model is a single-layer vanilla cell."""
    spec = kernel_spec(model)
    if spec is not None and spec.cell == "vanilla" and spec.n_layers == 1:
        W, a = spec.Wh[0], spec.alpha
        Z = H @ W.T + X @ spec.Wx[0, :, : X.shape[1]].T + spec.bh[0] + spec.bx[0]
        phi, D = _activation_and_derivative(spec.activation, Z)
        G = a * (phi - H)      # the map's F(h) - h and the flow's dh/dt are the same here
        back = (D * G) @ W
        grad = a * (back - G)  # J_G = a (D W - I)
        return 0.5 * np.sum(G * G, axis=1), grad
    G = safe_step(model, H, X)
    if is_map:
        G = G - H
    q = 0.5 * np.sum(G * G, axis=1)
    grad = np.empty_like(H)
    chunk = max(1, _CHUNK_BYTES // (8 * H.shape[1] ** 2))
    for s in range(0, H.shape[0], chunk):
        J = np.asarray(model.jacobian(H[s:s + chunk], X[s:s + chunk]), float)
        grad[s:s + chunk] = np.einsum("bji,bj->bi", J, G[s:s + chunk])
        if is_map:
            grad[s:s + chunk] -= G[s:s + chunk]
    return q, grad


def _activation_and_derivative(name, Z):
    """phi(Z) and phi'(Z) in numpy, as the cell kernels define them."""
    if name == "tanh":
        t = np.tanh(Z)
        return t, 1.0 - t * t
    if name == "relu":
        return np.maximum(Z, 0.0), (Z > 0).astype(float)
    if name == "sigmoid":
        s = 0.5 * (1 + np.tanh(0.5 * Z))
        return s, s * (1 - s)
    if name == "softplus":
        s = 0.5 * (1 + np.tanh(0.5 * np.minimum(Z, 20)))
        return np.where(Z > 20, Z, np.logaddexp(0.0, np.minimum(Z, 20))), np.where(Z > 20, 1.0, s)
    return Z, np.ones_like(Z)


def minimize_q(model, H0, X, *, tol_q=1e-12, max_iter=5000, lr=0.05, max_norm=1e6):
    """Adam on ``q = |G|^2 / 2`` for every row, each with its own learning rate (halved when
    its q rises, grown 5% when it falls) and its own stop at ``q < tol_q``.

    Returns H, q, iterations, status (as :func:`solve_points`; a point whose learning rate has
    collapsed below 1e-14 is ``STALLED``, i.e. a slow point).
    """
    is_map = model.time == "discrete"
    H = H0.copy()
    B = H.shape[0]
    m1, m2 = np.zeros_like(H), np.zeros_like(H)
    rate = np.full(B, float(lr))
    q_prev = np.full(B, np.inf)
    q_out = np.full(B, np.inf)
    iters = np.zeros(B, np.int64)
    status = np.full(B, _nk.MAX_ITER)
    active = np.arange(B)
    b1, b2, eps = 0.9, 0.999, 1e-8
    for it in range(1, max_iter + 2):
        with np.errstate(all="ignore"):
            q, g = _q_and_grad(model, H[active], X[active], is_map)
        q_out[active] = q
        bad = ~np.isfinite(q) | (_absmax(H[active]) > max_norm)
        done = (q < tol_q) | bad | (rate[active] < 1e-14)
        status[active[q < tol_q]] = _nk.CONVERGED
        status[active[bad]] = _nk.DIVERGED
        status[active[(rate[active] < 1e-14) & ~bad & ~(q < tol_q)]] = _nk.STALLED
        if it == max_iter + 1:
            break
        keep = ~done
        active, q, g = active[keep], q[keep], g[keep]
        if active.size == 0:
            break
        up = q > q_prev[active]
        rate[active] = np.where(up, rate[active] * 0.5, rate[active] * 1.05)
        q_prev[active] = q
        m1[active] = b1 * m1[active] + (1 - b1) * g
        m2[active] = b2 * m2[active] + (1 - b2) * g * g
        mh = m1[active] / (1 - b1 ** it)
        vh = m2[active] / (1 - b2 ** it)
        H[active] -= rate[active, None] * mh / (np.sqrt(vh) + eps)
        iters[active] = it
    return H, q_out, iters, status
