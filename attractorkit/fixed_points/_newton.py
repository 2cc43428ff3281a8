"""The one Newton / Levenberg-Marquardt solver of the package.

:func:`newton_solve` solves ``G(h) = 0`` per point, with ``G(h) = F(h) - h`` for a map and
``G(h) = F(h)`` for a flow, for any :class:`attractorkit.Model`: fixed points, period-p points
(on :class:`attractorkit.systems.Iterate`), continuation steps and the classifier's polish all
call it. Kernel models (and iterates of kernel models) run the same algorithm compiled
(:mod:`attractorkit._kernels.newton`, one ``prange`` over points); any other model runs it
batched in numpy through ``step`` and ``jacobian``. Every point has its own damping and its own
stopping rule:

1. Newton step ``J_G d = -G`` with Armijo backtracking on ``q = |G|^2 / 2``;
2. if that fails (singular ``J_G`` or no decrease), Levenberg-Marquardt steps
   ``(J_G^T J_G + mu s I) d = -J_G^T G`` with a per-point ``mu``;
3. stop when ``max|G| <= tol * max(1, max|h|)`` ("converged"), when no step lowers ``q``, the
   steps become negligible or ``q`` fell by less than 1% in 10 iterations ("slow": a local
   minimum of ``q``), when ``max|h| > max_norm`` or values are not finite ("diverged"), or at
   ``max_iter`` ("max_iter").
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import one_blas_thread
from ..core._errors import ValidationError
from ..core._prepare import check_model_arg, kernel_spec
from ..core._results import Result
from ..core._validation import as_float_array, as_input_batch, check_int, check_positive
from ..systems import Iterate

__all__ = ["Solutions", "newton_solve", "safe_step", "STATUS_NAMES"]

STATUS_NAMES = ("converged", "max_iter", "slow", "diverged")
_CHUNK_BYTES = 64 * 2**20


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Solutions(Result):
    """Per-point results of :func:`newton_solve`.

    Attributes
    ----------
    points : ndarray of shape (B, n_state)
    q : ndarray of shape (B,)
        ``|G|^2 / 2`` at the point (inf when not finite).
    residual : ndarray of shape (B,)
        ``max |G|``.
    iterations : ndarray of shape (B,), int
    code : ndarray of shape (B,), int
        Index into ``STATUS_NAMES`` (``status`` gives the names).
    """

    points: np.ndarray
    q: np.ndarray
    residual: np.ndarray
    iterations: np.ndarray
    code: np.ndarray

    @property
    def status(self) -> np.ndarray:
        """(B,) str: "converged", "max_iter", "slow" or "diverged"."""
        return np.asarray(STATUS_NAMES, dtype="U9")[self.code]

    @property
    def converged(self) -> np.ndarray:
        return self.code == _nk.CONVERGED

    def __len__(self) -> int:
        return self.points.shape[0]

    def summary(self) -> str:
        counts = ", ".join(f"{int(np.sum(self.code == k))} {name}"
                           for k, name in enumerate(STATUS_NAMES) if np.any(self.code == k))
        return f"Solutions: {len(self)} point(s); {counts or 'none'}"


def newton_solve(model, initial_states, inputs=None, *, tol=1e-10, max_iter=100,
                 max_norm=1e6) -> Solutions:
    """Per-point damped Newton / Levenberg-Marquardt on ``G(h) = F(h) - h`` (maps) or
    ``F(h)`` (flows), one independent solve per row.

    Parameters
    ----------
    model : Model
        Any model; ``Iterate(model, p)`` gives the period-p points of a map.
    initial_states : array_like of shape (B, n_state)
    inputs : array_like of shape (n_input,) or (B, n_input), optional
        Constant input of each row (omit when ``n_input == 0``).
    tol : float, default 1e-10
        Converged when ``max|G| <= tol * max(1, max|h|)``.
    max_iter : int, default 100
    max_norm : float, default 1e6
        A solve whose ``max|h|`` exceeds this has diverged.

    Returns
    -------
    Solutions

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import VanillaRNN
    >>> from attractorkit.fixed_points import newton_solve
    >>> m = VanillaRNN(np.zeros((2, 2)), b=[0.5, -1.0])
    >>> s = newton_solve(m, np.zeros((3, 2)))
    >>> bool(np.allclose(s.points, np.tanh([0.5, -1.0]))), s.status.tolist()
    (True, ['converged', 'converged', 'converged'])
    """
    check_model_arg(model)
    H0 = as_float_array("initial_states", initial_states, ndim=2, finite=False)
    if H0.shape[1] != model.n_state:
        raise ValidationError(f"initial_states: expected width n_state={model.n_state}, "
                              f"received shape {H0.shape}")
    X = as_input_batch("inputs", inputs, model.n_input, H0.shape[0])
    return solve(model, H0, X, tol=check_positive("tol", tol),
                 max_iter=check_int("max_iter", max_iter, minimum=0),
                 max_norm=check_positive("max_norm", max_norm))


def solve(model, H0, X, *, tol=1e-10, max_iter=100, max_norm=1e6) -> Solutions:
    """:func:`newton_solve` without validation (for callers that prepared their arrays)."""
    B, n = H0.shape
    base, period = (model.model, model.p) if isinstance(model, Iterate) else (model, 1)
    spec = kernel_spec(base)
    H, q, resid = np.empty((B, n)), np.empty(B), np.empty(B)
    iters, status = np.zeros(B, np.int64), np.zeros(B, np.int64)
    if spec is not None:
        with one_blas_thread():   # the kernel's prange over points calls LAPACK
            _nk.newton_batch(*spec.args, np.ascontiguousarray(H0), np.ascontiguousarray(X),
                             int(period), base.time == "discrete", float(tol), int(max_iter),
                             float(max_norm), H, q, resid, iters, status)
    else:
        chunk = max(1, _CHUNK_BYTES // (8 * n * n * max(2, period)))
        for s in range(0, B, chunk):
            sl = slice(s, s + chunk)
            H[sl], q[sl], resid[sl], iters[sl], status[sl] = _newton_numpy(
                model, H0[sl], X[sl], tol, max_iter, max_norm)
    return Solutions(points=H, q=q, residual=resid, iterations=iters, code=status)


def safe_step(model, H, X):
    """model.step on the finite rows of H only; NaN rows elsewhere (models may refuse NaN)."""
    ok = np.all(np.isfinite(H), axis=1)
    if ok.all():
        return np.asarray(model.step(H, X), float)
    out = np.full(H.shape, np.nan)
    if ok.any():
        out[ok] = model.step(H[ok], X[ok])
    return out


def _residual(model, H, X):
    """G(H) and q = |G|^2/2 (inf where not finite)."""
    with np.errstate(all="ignore"):
        R = safe_step(model, H, X)
        if model.time == "discrete":
            R = R - H
        q = 0.5 * np.sum(R * R, axis=1)
    q[~np.isfinite(q)] = np.inf
    return R, q


def _residual_jacobian(model, H, X):
    with np.errstate(all="ignore"):
        J = np.asarray(model.jacobian(H, X), float)
    if model.time == "discrete":
        J = J - np.eye(J.shape[1])
    return J


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


def _newton_numpy(model, H0, X, tol, max_iter, max_norm):
    """The kernel's algorithm, batched in numpy through model.step / model.jacobian."""
    B, n = H0.shape
    H = H0.copy()
    R, q = _residual(model, H, X)
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
        Jg = _residual_jacobian(model, H[idx], X[idx])
        r, h, qi = R[idx], H[idx], q[idx]
        d, ok = _batched_solve(Jg, -r)
        acc = np.zeros(idx.size, bool)
        Hn, Rn, Qn = h.copy(), r.copy(), qi.copy()
        t = 1.0
        for _ in range(_nk._N_BACKTRACK):
            tr = np.flatnonzero(ok & ~acc)
            if tr.size == 0:
                break
            ht = h[tr] + t * d[tr]
            rt, qt = _residual(model, ht, X[idx[tr]])
            good = qt <= (1.0 - 1e-4 * t) * qi[tr]
            g = tr[good]
            Hn[g], Rn[g], Qn[g], acc[g] = ht[good], rt[good], qt[good], True
            t *= 0.5
        lm = np.flatnonzero(~acc)
        if lm.size:
            _lm_steps(model, X, idx, lm, Jg, r, h, qi, mu, Hn, Rn, Qn, acc, n)
        stalled = idx[~acc]
        status[stalled] = _nk.STALLED
        active[stalled] = False
        a = idx[acc]
        step = _absmax(Hn[acc] - h[acc])
        H[a], R[a], q[a] = Hn[acc], Rn[acc], Qn[acc]
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


def _lm_steps(model, X, idx, lm, Jg, r, h, qi, mu, Hn, Rn, Qn, acc, n):
    """Levenberg-Marquardt trials for the rows ``lm`` whose Newton step was refused; accepted
    rows are written into Hn, Rn, Qn, acc and each row's damping ``mu`` is adapted."""
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
        rt, qt = _residual(model, ht, X[idx[lm[tr]]])
        good = okl & (qt < qi[lm[tr]])
        g = lm[tr[good]]
        Hn[g], Rn[g], Qn[g], acc[g] = ht[good], rt[good], qt[good], True
        mu[idx[g]] = np.maximum(mu[idx[g]] / 3.0, 1e-12)
        mu[idx[lm[tr[~good]]]] *= 4.0
        todo[tr[good]] = False
