"""The package's Newton / Levenberg-Marquardt solver written in JAX, for :class:`JaxModel`.

The algorithm, its stopping rules and status codes are those of
:func:`attractorkit.fixed_points.newton_solve` (numba kernel :mod:`attractorkit._kernels.newton`),
run on all points at once inside one ``jax.jit``-compiled ``lax.while_loop``: every point has
its own damping ``mu``, its own step and its own stopping rule, and leaves the loop's work when
it stops. Per iteration and point:

1. Newton step ``J_G d = -G``; the first of the steps ``t d``, ``t = 1, 1/2, ..., 1/128``, with
   ``q(h + t d) <= (1 - 1e-4 t) q(h)`` is taken (Armijo);
2. when none is, the Levenberg-Marquardt steps ``(J_G^T J_G + mu s I) d = -J_G^T G`` (solved
   by Cholesky: the matrix is symmetric positive definite), ``mu`` multiplied by 4 after each
   rejected step (at most 10): the first that lowers ``q`` is taken and ``mu`` is divided by 3;
3. the point stops when converged, stalled (no step lowers q, a negligible step, or q fell by
   less than 1% over 10 iterations), diverged (``max|h| > max_norm`` or not finite) or at
   ``max_iter``.

Trial steps are evaluated for all points together, and a round of trials ends as soon as
every point that needs one has its step. Points run in batches of one fixed size, ten
iterations per call, and the points still running are packed into new batches after each
call: the solver compiles once per model and period (about a second of XLA compilation),
never per batch shape, and finished points cost nothing.
"""

from __future__ import annotations

import numpy as np

from attractorkit._kernels import newton as _nk

__all__ = ["JaxNewton"]

_ACTIVE = -1
_ROUND = 10       # iterations per compiled call; then the running rows are gathered


def _batches(rows, size):
    """(rows of the batch, the batch's rows padded to ``size`` with its first row) for
    consecutive batches of ``rows``."""
    for s in range(0, rows.size, size):
        sl = rows[s:s + size]
        yield sl, np.r_[sl, np.full(size - sl.size, sl[0])]


class JaxNewton:
    """Compiled batched solvers of ``G(h) = 0`` for one step function (one per period).

    Parameters
    ----------
    jax : module
    step_fn : callable
        One sample: ``step_fn(h, x) -> h'`` (or ``dh/dt`` for a flow).
    is_map : bool
    """

    def __init__(self, jax, step_fn, is_map):
        self.jax, self.f, self.is_map = jax, step_fn, bool(is_map)
        self._compiled = {}

    def _functions(self, period):
        fns = self._compiled.get(period)
        if fns is None:
            start, run = self._build(int(period))
            fns = self._compiled[period] = (self.jax.jit(start), self.jax.jit(run))
        return fns

    def solve(self, H, X, *, period, tol, max_iter, max_norm, rows):
        """Solve from every row of H (with input X[b]); returns (points, q, residual,
        iterations, status) as numpy arrays. Call inside 64-bit mode.

        The rows run in batches of ``rows`` (the last one padded), ``_ROUND`` iterations per
        compiled call; after each round the rows still running are packed into new batches,
        so that finished rows cost nothing and the solver compiles once, for one batch size.
        """
        start, run = self._functions(period)
        B, n = H.shape
        state = None
        for sl, pad in _batches(np.arange(B), rows):
            carry = start(H[pad], X[pad], np.arange(rows) < sl.size, tol, max_iter)
            carry = [np.asarray(c) for c in carry]
            if state is None:
                state = [np.empty((B,) + c.shape[1:], c.dtype) for c in carry]
            for dst, src in zip(state, carry):
                dst[sl] = src[:sl.size]
        pending = np.flatnonzero(state[5] == _ACTIVE)
        while pending.size:
            for sl, pad in _batches(pending, rows):
                carry = [c[pad] for c in state]
                carry[5] = np.where(np.arange(rows) < sl.size, carry[5], _nk.CONVERGED)
                carry = run(tuple(carry), X[pad], tol, max_iter, max_norm, _ROUND)
                for dst, src in zip(state, carry):
                    dst[sl] = np.asarray(src)[:sl.size]
            pending = pending[state[5][pending] == _ACTIVE]
        h, r, q, _, it, st, _ = state
        resid = np.where(np.isfinite(q), np.max(np.abs(r), axis=1, initial=0.0), np.inf)
        return h, q, resid, it.astype(np.int64), st.astype(np.int64)

    def _build(self, period):   # noqa: C901 - one loop body, read top to bottom
        jax, f, is_map = self.jax, self.f, self.is_map
        jnp, lax = jax.numpy, jax.lax
        CONV, MAXI, STALL, DIV = _nk.CONVERGED, _nk.MAX_ITER, _nk.STALLED, _nk.DIVERGED

        def G(h, x):
            if not is_map:
                return f(h, x)
            y = h
            for _ in range(period):
                y = f(y, x)
            return y - h

        def amax(v):
            return jnp.max(jnp.abs(v), axis=-1)

        def qof(r):
            q = 0.5 * jnp.sum(r * r, axis=-1)
            return jnp.where(jnp.isfinite(q), q, jnp.inf)

        vG = jax.vmap(G)
        vJ = jax.vmap(jax.jacfwd(G))
        solve, spd_solve = _solver(jax), _spd_solver(jax)

        def settle_status(st, h, r, it, tol, max_iter):
            conv = amax(r) <= tol * jnp.maximum(1.0, amax(h))
            st = jnp.where((st == _ACTIVE) & conv, CONV, st)
            return jnp.where((st == _ACTIVE) & (it >= max_iter), MAXI, st)

        def start(H0, X, live, tol, max_iter):
            """The loop's state (h, G, q, mu, iterations, status, q at the last check)."""
            B = H0.shape[0]
            R0 = vG(H0, X)
            q0 = qof(R0)
            st0 = jnp.where(live, _ACTIVE, CONV)
            st0 = jnp.where(live & ~jnp.isfinite(q0), DIV, st0)
            it0 = jnp.zeros(B, jnp.int64)
            st0 = settle_status(st0, H0, R0, it0, tol, max_iter)
            return (H0, R0, q0, jnp.full(B, 1e-3, H0.dtype), it0, st0, q0)

        def run(carry0, X, tol, max_iter, max_norm, rounds):
            """At most ``rounds`` iterations of every running row."""
            B, n = carry0[0].shape

            def body(c):
                (h, r, q, mu, it, st, q_check), k = c
                act = st == _ACTIVE
                it = it + act
                J = vJ(h, X)
                JtJ = jnp.einsum("bji,bjk->bik", J, J)
                g = jnp.einsum("bji,bj->bi", J, r)
                sc = jnp.maximum(jnp.trace(JtJ, axis1=1, axis2=2) / n, 1e-300)
                eye = jnp.eye(n)

                # 1. Newton with Armijo backtracking, t = 1, 1/2, ..., all points together;
                #    stops as soon as every active point has its step
                d, ok_n = solve(J, -r)

                def vtrial(need, step, accept):
                    """Evaluate h + step; the points that ``need`` it and ``accept`` it."""
                    ht = h + step
                    rt = vG(ht, X)
                    qt = qof(rt)
                    return need & accept(qt), ht, rt, qt

                def bt_cond(s):
                    return (s[0] < _nk._N_BACKTRACK) & jnp.any(act & ok_n & ~s[1])

                def bt_body(s):
                    j, acc, hn, rn, qn = s
                    t = 0.5 ** j
                    need = act & ok_n & ~acc
                    good, ht, rt, qt = vtrial(need, t * d,
                                              lambda qt: qt <= (1.0 - 1e-4 * t) * q)
                    return (j + 1, acc | good, jnp.where(good[:, None], ht, hn),
                            jnp.where(good[:, None], rt, rn), jnp.where(good, qt, qn))

                _, acc, hn, rn, qn = lax.while_loop(
                    bt_cond, bt_body, (0, jnp.zeros(B, bool), h, r, q))

                # 2. Levenberg-Marquardt for the points whose Newton step failed; each point's
                #    damping grows 4x per rejected step and shrinks 3x on success
                lm_need = act & ~acc

                def lm_cond(s):
                    return (s[0] < _nk._N_LM) & jnp.any(lm_need & ~s[1])

                def lm_body(s):
                    j, accl, hn, rn, qn, mu = s
                    need = lm_need & ~accl
                    dl, okl = spd_solve(JtJ + (mu * sc)[:, None, None] * eye, -g)
                    good, ht, rt, qt = vtrial(need & okl, dl, lambda qt: qt < q)
                    mu = jnp.where(good, jnp.maximum(mu / 3.0, 1e-12),
                                   jnp.where(need, mu * 4.0, mu))
                    return (j + 1, accl | good, jnp.where(good[:, None], ht, hn),
                            jnp.where(good[:, None], rt, rn), jnp.where(good, qt, qn), mu)

                _, accl, hn, rn, qn, mu = lax.while_loop(
                    lm_cond, lm_body, (0, jnp.zeros(B, bool), hn, rn, qn, mu))
                moved = act & (acc | accl)
                st = jnp.where(act & ~moved, STALL, st)
                step = amax(hn - h)
                h = jnp.where(moved[:, None], hn, h)
                r = jnp.where(moved[:, None], rn, r)
                q = jnp.where(moved, qn, q)
                big = moved & ((amax(h) > max_norm) | ~jnp.isfinite(q))
                st = jnp.where(big, DIV, st)
                conv = amax(r) <= tol * jnp.maximum(1.0, amax(h))
                tiny = moved & ~big & (step <= 1e-15 * (1.0 + amax(h))) & ~conv
                st = jnp.where(tiny, STALL, st)
                window = moved & (it % _nk._STALL_WINDOW == 0) & (st == _ACTIVE)
                slow = window & (q > (1.0 - _nk._STALL_DECREASE) * q_check) & ~conv
                st = jnp.where(slow, STALL, st)
                q_check = jnp.where(window, q, q_check)
                st = settle_status(st, h, r, it, tol, max_iter)
                return (h, r, q, mu, it, st, q_check), k + 1

            carry, _ = lax.while_loop(
                lambda c: jnp.any(c[0][5] == _ACTIVE) & (c[1] < rounds), body, (carry0, 0))
            return carry

        return start, run


def _solver(jax):
    """Batched ``solve(A (B, n, n), b (B, n)) -> (x, ok)``, ``ok`` False where x is not finite
    (A singular)."""
    jnp = jax.numpy

    def solve(A, b):
        x = jnp.linalg.solve(A, b[..., None])[..., 0]
        ok = jnp.all(jnp.isfinite(x), axis=1)
        return jnp.where(ok[:, None], x, 0.0), ok

    return solve


def _spd_solver(jax):
    """Batched ``solve`` for symmetric positive definite A (the damped normal equations of the
    Levenberg-Marquardt steps) by Cholesky: about half the cost of an LU solve in XLA."""
    jnp = jax.numpy
    cho_solve = jax.scipy.linalg.cho_solve

    def solve(A, b):
        L = jnp.linalg.cholesky(A)
        x = cho_solve((L, True), b[..., None])[..., 0]
        ok = jnp.all(jnp.isfinite(x), axis=1)
        return jnp.where(ok[:, None], x, 0.0), ok

    return solve
