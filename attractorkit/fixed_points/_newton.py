"""The one Newton / Levenberg-Marquardt solver of the package.

:func:`newton_solve` solves ``G(h) = 0`` per point, with ``G(h) = F(h) - h`` for a map and
``G(h) = F(h)`` for a flow, for any :class:`attractorkit.Model`: fixed points, period-p points
(on :class:`attractorkit.systems.Iterate`), continuation steps and the classifier's polish all
call it. Kernel models (and iterates of kernel models) run the same algorithm compiled
(:mod:`attractorkit._kernels.newton`, one ``prange`` over points); a model that offers its own
``newton_solve(H0, X, *, period, tol, max_iter, max_norm)`` (``JaxModel``: the algorithm in
one ``jit``-compiled loop over all points) runs it there; any other model runs it batched in
numpy through ``step`` and ``jacobian``. Every point has its own damping and its own stopping
rule:

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
from .._kernels.threads import single_blas_thread
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
    hook = getattr(base, "newton_solve", None) if spec is None else None
    if spec is not None:
        with single_blas_thread():   # the kernel's prange over points calls LAPACK
            _nk.newton_batch(*spec.args, np.ascontiguousarray(H0), np.ascontiguousarray(X),
                             int(period), base.time == "discrete", float(tol), int(max_iter),
                             float(max_norm), H, q, resid, iters, status)
    elif callable(hook):   # the model runs this algorithm in its own framework (JAX)
        H, q, resid, iters, status = _from_hook(hook, H0, X, B, n, period=int(period),
                                                tol=float(tol), max_iter=int(max_iter),
                                                max_norm=float(max_norm))
    else:
        chunk = max(1, _CHUNK_BYTES // (8 * n * n * max(2, period)))
        for s in range(0, B, chunk):
            sl = slice(s, s + chunk)
            H[sl], q[sl], resid[sl], iters[sl], status[sl] = _newton_numpy(
                model, H0[sl], X[sl], tol, max_iter, max_norm)
    return Solutions(points=H, q=q, residual=resid, iterations=iters, code=status)


def _from_hook(hook, H0, X, B, n, **kw):
    """The arrays of a model's own ``newton_solve(H0, X, *, period, tol, max_iter,
    max_norm)``, checked: (points, q, residual, iterations, status)."""
    out = hook(np.ascontiguousarray(H0), np.ascontiguousarray(X), **kw)
    want = ((B, n), (B,), (B,), (B,), (B,))
    arrays = [np.asarray(a) for a in out] if isinstance(out, (tuple, list)) else []
    if len(arrays) != 5 or any(a.shape != w for a, w in zip(arrays, want)):
        got = [a.shape for a in arrays] if arrays else type(out).__name__
        raise ValidationError(f"model.newton_solve: expected (points, q, residual, "
                              f"iterations, status) of shapes {list(want)}, received {got}")
    H, q, resid = (np.asarray(a, np.float64) for a in arrays[:3])
    iters, status = (np.asarray(a, np.int64) for a in arrays[3:])
    if np.any((status < 0) | (status >= len(STATUS_NAMES))):
        raise ValidationError("model.newton_solve: status codes must index STATUS_NAMES")
    return H, q, resid, iters, status


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
                ok[i] = False  # singular: reported to the caller, which damps or falls back
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
        Hn, Rn, Qn, acc = _backtrack(model, X[idx], h, d, ok, qi)
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


def _trials(model, X, h, steps, limit, strict):
    """Evaluate the candidate points ``h[:, None] + steps`` (B, T, n) in ONE step call and pick,
    per row, the first candidate whose q is at most (``strict``: below) ``limit`` (B, T).
    Returns (index of the chosen candidate, -1 for none; their points, residuals and q)."""
    B, T, n = steps.shape
    cand = (h[:, None] + steps).reshape(B * T, n)
    R, q = _residual(model, cand, np.repeat(X, T, axis=0))
    q = q.reshape(B, T)
    good = q < limit if strict else q <= limit
    first = np.where(good.any(axis=1), np.argmax(good, axis=1), -1)
    pick = np.arange(B) * T + np.maximum(first, 0)
    return first, cand[pick], R[pick], q.ravel()[pick]


def _backtrack(model, X, h, d, ok, q):
    """Armijo backtracking along the Newton steps d: ``t = 1`` for every row first, then
    ``t = 1/2 ... 1/2^7`` for the rows it failed, all in one step call (the kernel tries them
    one after the other; the first accepted t is the same). Returns (points, residuals, q,
    accepted)."""
    B = h.shape[0]
    Hn, Rn, Qn, acc = h.copy(), np.zeros_like(h), q.copy(), np.zeros(B, bool)
    ts = 0.5 ** np.arange(_nk._N_BACKTRACK)
    rows = np.flatnonzero(ok)
    for sl in (slice(0, 1), slice(1, None)):
        if rows.size == 0:
            break
        t = ts[sl]
        first, hp, rp, qp = _trials(model, X[rows], h[rows], t[None, :, None] * d[rows][:, None],
                                    (1.0 - 1e-4 * t)[None] * q[rows][:, None], False)
        got = first >= 0
        g = rows[got]
        Hn[g], Rn[g], Qn[g], acc[g] = hp[got], rp[got], qp[got], True
        rows = rows[~got]
    return Hn, Rn, Qn, acc


def _lm_steps(model, X, idx, lm, Jg, r, h, qi, mu, Hn, Rn, Qn, acc, n):
    """Levenberg-Marquardt trials for the rows ``lm`` whose Newton step was refused: dampings
    ``mu 4^j`` (j = 0, 1, 2 first, then 3..9 for the rows still refused, each batch of
    candidates evaluated in one step call); the first that lowers q is taken and that row's
    ``mu`` becomes ``mu 4^j / 3`` (``mu 4^10`` when none does), exactly the kernel's sequence.
    Accepted rows are written into Hn, Rn, Qn, acc."""
    JtJ = np.swapaxes(Jg[lm], 1, 2) @ Jg[lm]
    grad = np.einsum("bji,bj->bi", Jg[lm], r[lm])
    s = np.maximum(np.trace(JtJ, axis1=1, axis2=2) / n, 1e-300)
    eye = np.eye(n)
    todo = np.arange(lm.size)
    for T in (3, _nk._N_LM - 3):
        if todo.size == 0:
            break
        m = mu[idx[lm[todo]]][:, None] * 4.0 ** np.arange(T)[None]        # (b, T)
        D = np.empty((todo.size, T, n))
        for k in range(T):
            dk, okk = _batched_solve(JtJ[todo] + (m[:, k] * s[todo])[:, None, None] * eye,
                                     -grad[todo])
            D[:, k] = np.where(okk[:, None], dk, np.nan)
        first, hp, rp, qp = _trials(model, X[idx[lm[todo]]], h[lm[todo]], D,
                                    np.repeat(qi[lm[todo]][:, None], T, axis=1), True)
        got = first >= 0
        g = lm[todo[got]]
        Hn[g], Rn[g], Qn[g], acc[g] = hp[got], rp[got], qp[got], True
        mu[idx[g]] = np.maximum(m[got, first[got]] / 3.0, 1e-12)
        mu[idx[lm[todo[~got]]]] = m[~got, -1] * 4.0
        todo = todo[~got]
