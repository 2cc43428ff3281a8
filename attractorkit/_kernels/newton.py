"""Per-point damped Newton / Levenberg-Marquardt for fixed points and period-p points.

Solves ``G(h) = 0`` with ``G(h) = F^p(h) - h`` for maps (``p = 1``: fixed points) and
``G(h) = F(h)`` for flows, one independent solve per point; the points are split in row blocks
run in threads (:func:`.parallel.run_blocks`, no ``prange``: one plain kernel compiles in a
fraction of a parallel one's time). Every point has its own damping and its own stopping rule:

1. Newton step ``J_G d = -G`` with Armijo backtracking on ``q = |G|^2 / 2``;
2. if that fails (singular ``J_G`` or no decrease), Levenberg-Marquardt steps
   ``(J_G^T J_G + mu s I) d = -J_G^T G`` with a per-point ``mu`` that grows on rejection and
   shrinks on acceptance;
3. stop when ``max|G| <= tol * max(1, max|h|)`` (converged), when no step decreases ``q``, the
   steps become negligible or ``q`` fell by less than 1% over 10 iterations (stalled: near a
   local minimum of ``q`` or a kink of a piecewise-linear ``G``, i.e. a slow point), when
   ``max|h| > max_norm`` or values are not finite (diverged), or at ``max_iter``.

Status codes: ``CONVERGED``, ``MAX_ITER``, ``STALLED``, ``DIVERGED``. Also the exact solver of
piecewise-linear (ReLU) vanilla cells per activation region.

The batched entry points (:func:`newton_batch`, :func:`relu_region_fixed_points`,
:func:`relu_sequence_points`) are Python functions: they pass every array through
:func:`.memory.kernel_array`, so each ``*_rows`` kernel compiles one specialisation only (a
read-only or broadcast argument would compile it again), and write the results into the
caller's output arrays.

First-use compilation (issue 20: 11.5 -> about 4 s for a vanilla cell): the kernels copy arrays
in loops rather than by slice assignment, and solve through LAPACK's ``gesv`` directly rather
than ``np.linalg.solve`` (both pull in numba's formatting of shape-error messages, seconds of
compilation each), and :func:`newton_one` and :func:`residual_jacobian` are inlined into their
one caller (a separately compiled function is optimised and emitted again in each caller).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types

from .cells import cell_jacobian, cell_step
from .memory import kernel_array
from .parallel import block_bounds, n_blocks, run_blocks

CONVERGED = 0
MAX_ITER = 1
STALLED = 2
DIVERGED = 3

_N_BACKTRACK = 8
_N_LM = 10
_STALL_WINDOW = 10  # stalled when q fell by less than _STALL_DECREASE over this many steps
_STALL_DECREASE = 1e-2

try:   # numba's own entry to LAPACK's dgesv (private API: fall back to np.linalg.solve)
    from numba.np.linalg import _LAPACK, ensure_lapack
    from numba.np.linalg import F_INT_nptype as _F_INT

    ensure_lapack()
    _xgesv = _LAPACK().numba_xgesv(types.float64)
    _KIND = ord("d")
    HAVE_GESV = True
except Exception:  # noqa: BLE001 - any change of numba's internals
    HAVE_GESV = False


@njit(cache=True)
def _solve_numpy(A, r, out):
    """out = A^-1 r through ``np.linalg.solve`` (the fallback of :func:`safe_solve`)."""
    try:
        x = np.linalg.solve(A, r)
    except Exception:  # noqa: BLE001 - numba raises LinAlgError on exact singularity
        return False
    for i in range(x.shape[0]):
        if not np.isfinite(x[i]):
            return False
    for i in range(x.shape[0]):
        out[i] = x[i]
    return True


@njit(cache=True)
def _solve_gesv(A, r, out):
    """out = A^-1 r, by LAPACK's ``gesv`` as ``np.linalg.solve`` calls it (same bits); False
    (out untouched) when A or r is not finite, LAPACK reports A singular or the result is not
    finite. Calling ``gesv`` directly skips ``np.linalg.solve``'s argument copies, whose shape
    checks format error messages: about 3 s of compilation for every kernel using it."""
    n = A.shape[0]
    if n == 0:
        return True
    a = np.empty((n, n))   # A in Fortran order: the transpose, C-contiguous
    b = np.empty(n)
    for i in range(n):
        if not np.isfinite(r[i]):
            return False
        b[i] = r[i]
        for j in range(n):
            if not np.isfinite(A[i, j]):
                return False
            a[j, i] = A[i, j]
    ipiv = np.empty(n, _F_INT)
    info = _xgesv(_KIND, n, 1, a.ctypes, n, ipiv.ctypes, b.ctypes, n)
    if info != 0 or ipiv.shape[0] != a.shape[0]:   # the use keeps a, ipiv alive past the call
        return False
    for i in range(n):
        if not np.isfinite(b[i]):
            return False
    for i in range(n):
        out[i] = b[i]
    return True


safe_solve = _solve_gesv if HAVE_GESV else _solve_numpy


@njit(cache=True)
def residual(cell, act, alpha, Wh, Wx, bh, bx, h, x, period, is_map, orbit, r):
    """r = G(h); orbit[k] = F^k(h) for k = 0..period. Returns q = |r|^2 / 2 (inf if not
    finite)."""
    n = h.shape[0]
    for i in range(n):
        orbit[0, i] = h[i]
    if is_map:
        for k in range(period):
            cell_step(cell, act, alpha, Wh, Wx, bh, bx, orbit[k], x, orbit[k + 1])
        for i in range(n):
            r[i] = orbit[period, i] - h[i]
    else:
        cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, r)
    q = 0.0
    for i in range(n):
        q += r[i] * r[i]
    if not np.isfinite(q):
        return np.inf
    return 0.5 * q


@njit(cache=True, inline="always")
def residual_jacobian(cell, act, alpha, Wh, Wx, bh, bx, x, period, is_map, orbit, Jg):
    """Jg = dG/dh from an orbit filled by :func:`residual` (chain rule over the period)."""
    n = Jg.shape[0]
    cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, orbit[0], x, Jg)
    if is_map and period > 1:
        Jk = np.empty((n, n))
        P = np.empty((n, n))
        for k in range(1, period):
            cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, orbit[k], x, Jk)
            np.dot(Jk, Jg, P)   # what Jk @ Jg computes, without a slice assignment
            _copy(P, Jg)
    if is_map:
        for i in range(n):
            Jg[i, i] -= 1.0


@njit(cache=True, inline="always")
def _copy(src, dst):
    """dst = src for 2-D arrays of one shape (a slice assignment compiles a shape check that
    formats its error message: seconds of compilation)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@njit(cache=True)
def _absmax(v):
    m = 0.0
    for i in range(v.shape[0]):
        a = abs(v[i])
        if not a <= m:  # also catches NaN
            m = a
    return m


@njit(cache=True, inline="always")
def newton_one(cell, act, alpha, Wh, Wx, bh, bx, h0, x, period, is_map, tol, max_iter,
               max_norm, h):
    """Solve from h0 into h; returns (status, iterations, q, max|G|)."""
    n = h0.shape[0]
    orbit = np.empty((period + 1, n))
    trial_orbit = np.empty((period + 1, n))
    r = np.empty(n)
    rn = np.empty(n)
    d = np.empty(n)
    hn = np.empty(n)
    Jg = np.empty((n, n))
    JtJ = np.empty((n, n))
    A = np.empty((n, n))
    g = np.empty(n)
    neg = np.empty(n)
    for i in range(n):
        h[i] = h0[i]
    q = residual(cell, act, alpha, Wh, Wx, bh, bx, h, x, period, is_map, orbit, r)
    if not np.isfinite(q):
        return DIVERGED, 0, q, np.inf
    mu = 1e-3
    status = MAX_ITER
    it = 0
    q_check = q
    while True:
        if _absmax(r) <= tol * max(1.0, _absmax(h)):
            status = CONVERGED
            break
        if it >= max_iter:
            break
        it += 1
        residual_jacobian(cell, act, alpha, Wh, Wx, bh, bx, x, period, is_map, orbit, Jg)
        accepted = False
        qn = np.inf
        for i in range(n):
            neg[i] = -r[i]
        if safe_solve(Jg, neg, d):
            t = 1.0
            for _ in range(_N_BACKTRACK):
                for i in range(n):
                    hn[i] = h[i] + t * d[i]
                qn = residual(cell, act, alpha, Wh, Wx, bh, bx, hn, x, period, is_map,
                              trial_orbit, rn)
                if qn <= (1.0 - 1e-4 * t) * q:
                    accepted = True
                    break
                t *= 0.5
        if not accepted:
            np.dot(Jg.T, Jg, JtJ)   # = Jg.T @ Jg
            np.dot(Jg.T, r, g)      # = Jg.T @ r
            s = 0.0
            for i in range(n):
                s += JtJ[i, i]
            s = max(s / n, 1e-300)
            for _ in range(_N_LM):
                _copy(JtJ, A)
                for i in range(n):
                    A[i, i] += mu * s
                for i in range(n):
                    neg[i] = -g[i]
                if safe_solve(A, neg, d):
                    for i in range(n):
                        hn[i] = h[i] + d[i]
                    qn = residual(cell, act, alpha, Wh, Wx, bh, bx, hn, x, period, is_map,
                                  trial_orbit, rn)
                    if qn < q:
                        accepted = True
                        mu = max(mu / 3.0, 1e-12)
                        break
                mu *= 4.0
        if not accepted:
            status = STALLED
            break
        step = 0.0
        for i in range(n):
            step = max(step, abs(hn[i] - h[i]))
            h[i] = hn[i]
            r[i] = rn[i]
        _copy(trial_orbit, orbit)
        q = qn
        if _absmax(h) > max_norm:
            status = DIVERGED
            break
        if step <= 1e-15 * (1.0 + _absmax(h)) and _absmax(r) > tol * max(1.0, _absmax(h)):
            status = STALLED
            break
        if it % _STALL_WINDOW == 0:
            if q > (1.0 - _STALL_DECREASE) * q_check and _absmax(r) > tol * max(1.0, _absmax(h)):
                status = STALLED
                break
            q_check = q
    return status, it, q, _absmax(r)


@njit(cache=True, nogil=True)
def newton_rows(k, nb, cell, act, alpha, Wh, Wx, bh, bx, H0, X, period, is_map, tol, max_iter,
                max_norm, H, q, resid, iters, status):
    """:func:`newton_one` for the rows of block k of H0 (with input X[b]); outputs per row."""
    r0, r1 = block_bounds(k, nb, H0.shape[0])
    for b in range(r0, r1):
        s, it, qb, rb = newton_one(cell, act, alpha, Wh, Wx, bh, bx, H0[b], X[b], period,
                                   is_map, tol, max_iter, max_norm, H[b])
        status[b] = s
        iters[b] = it
        q[b] = qb
        resid[b] = rb


def newton_batch(cell, act, alpha, Wh, Wx, bh, bx, H0, X, period, is_map, tol, max_iter,
                 max_norm, H, q, resid, iters, status):
    """:func:`newton_one` for every row of H0 (with input X[b]), in row blocks run in threads;
    the solutions go to H, q, resid, iters and status (one entry or row per point).

    ``cell`` stays the enum member of ``KernelSpec.args`` (:class:`.cells.VanillaCell` or
    :class:`.cells.GatedCell`): numba then compiles only that family's cell code; a plain int
    would compile both."""
    B = int(np.shape(H0)[0])
    if B == 0:
        return
    outs = [kernel_array(a) for a in (H, q, resid)] + [kernel_array(a, np.int64)
                                                       for a in (iters, status)]
    run_blocks(newton_rows, n_blocks(B), cell, int(act), float(alpha),   # cell: its enum type
               *(kernel_array(a) for a in (Wh, Wx, bh, bx, H0, X)), int(period),
               bool(is_map), float(tol), int(max_iter), float(max_norm), *outs)
    _copy_back((H, q, resid, iters, status), outs)


def _copy_back(targets, computed):
    """Results computed in copies (an output that was not a kernel array) go to the caller's."""
    for target, value in zip(targets, computed):
        if value is not target:
            target[...] = value


# -- piecewise-linear (ReLU) vanilla cells ---------------------------------------------------
@njit(cache=True)
def _relu_region_fixed_point(W, c, active, h):
    """Fixed point of the linear system of one activation region (single-layer vanilla map or
    flow): h_S = (I - W_SS)^-1 c_S, h elsewhere 0. False if that system is singular."""
    n = W.shape[0]
    idx = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        if active[i]:
            idx[m] = i
            m += 1
    h[:] = 0.0
    if m == 0:
        return True
    A = np.empty((m, m))
    rhs = np.empty(m)
    for a in range(m):
        for b in range(m):
            A[a, b] = -W[idx[a], idx[b]]
        A[a, a] += 1.0
        rhs[a] = c[idx[a]]
    sol = np.empty(m)
    if not safe_solve(A, rhs, sol):
        return False
    for a in range(m):
        h[idx[a]] = sol[a]
    return True


@njit(cache=True, nogil=True)
def relu_region_rows(k, nb, W, C, patterns, cond, H, solved):
    """:func:`_relu_region_fixed_point` for the patterns of block k (see
    :func:`relu_region_fixed_points`)."""
    r0, r1 = block_bounds(k, nb, patterns.shape[0])
    for j in range(r0, r1):
        solved[j] = _relu_region_fixed_point(W, C[cond[j]], patterns[j], H[j])


def relu_region_fixed_points(W, C, patterns, cond, H, solved):
    """For each activation pattern k (row of ``patterns``, 1 = unit active) under the constant
    drive ``C[cond[k]]`` (``c = U x + b``), solve the region's linear fixed-point system into
    ``H[k]``; ``solved[k]`` is False where that system is singular.

    Self-consistency (the pattern of ``W h + c`` equals the assumed one) is checked by the
    caller, which also verifies the residual through the model.
    """
    K = int(np.shape(patterns)[0])
    if K == 0:
        return
    outs = [kernel_array(H), kernel_array(solved, np.bool_)]
    run_blocks(relu_region_rows, n_blocks(K), kernel_array(W), kernel_array(C),
               kernel_array(patterns, np.uint8), kernel_array(cond, np.int64), *outs)
    _copy_back((H, solved), outs)


@njit(cache=True, nogil=True)
def relu_sequence_rows(k, nb, W, C, alpha, patterns, cond, H, solved):
    """The period-p points of the region sequences of block k (see
    :func:`relu_sequence_points`)."""
    r0, r1 = block_bounds(k, nb, patterns.shape[0])
    n = patterns.shape[2]
    p = patterns.shape[1]
    A = np.empty((n, n))
    for j in range(r0, r1):
        c = C[cond[j]]
        M = np.eye(n)
        v = np.zeros(n)
        for s in range(p):
            for a in range(n):
                dj = alpha if patterns[j, s, a] else 0.0
                for b in range(n):
                    A[a, b] = dj * W[a, b]
                A[a, a] += 1.0 - alpha
            M = A @ M
            v = A @ v
            for a in range(n):
                if patterns[j, s, a]:
                    v[a] += alpha * c[a]
        for a in range(n):
            for b in range(n):
                M[a, b] = -M[a, b]
            M[a, a] += 1.0
        solved[j] = safe_solve(M, v, H[j])


def relu_sequence_points(W, C, alpha, patterns, cond, H, solved):
    """Period-p points of a single-layer ReLU vanilla map for sequences of regions.

    ``patterns`` (K, p, n): region k of the orbit step j. In region D the map is affine,
    ``h' = A h + beta`` with ``A = (1-alpha) I + alpha D W`` and ``beta = alpha D c``; the
    composition over the sequence gives ``h_p = M h_0 + v`` and the candidate is the solution
    of ``(I - M) h_0 = v`` (the SCYFI construction of Eisenmann et al., NeurIPS 2023), written
    to ``H[k]`` (``solved[k]`` False where ``I - M`` is singular).
    """
    K = int(np.shape(patterns)[0])
    if K == 0:
        return
    outs = [kernel_array(H), kernel_array(solved, np.bool_)]
    run_blocks(relu_sequence_rows, n_blocks(K), kernel_array(W), kernel_array(C),
               float(alpha), kernel_array(patterns, np.uint8), kernel_array(cond, np.int64),
               *outs)
    _copy_back((H, solved), outs)
