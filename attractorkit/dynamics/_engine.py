"""Shared machinery of the dynamics analyses: argument preparation and the rollout / Lyapunov
engines that dispatch to the numba kernels (kernel models) or to batched numpy (any model).

Nothing here is public; :mod:`._simulate`, :mod:`._lyapunov`, :mod:`._classify` and
:mod:`._census` validate through these helpers and run through these engines.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from .._kernels import cells as _cells
from .._kernels import dynamics as _dyn
from ..core._errors import ValidationError
from ..core._prepare import kernel_spec

DEFAULT_THRESHOLD = 1e6
REGION_EVERY = 10    # steps between region tests of ReLU runs (see rollout)
REGION_TOL = 0.1     # pre-activation deviation / distance to the switching threshold


def blas_path(spec) -> bool:
    """Single-layer vanilla map: the batched one-GEMM-per-step kernels apply."""
    return (spec is not None and spec.cell == "vanilla" and spec.time == "discrete"
            and spec.n_layers == 1)


def _blas_operands(spec, X, varying):
    """(WhT, Wx, C): C holds the bias (+ the input drive when the inputs are constant)."""
    WhT = np.ascontiguousarray(spec.Wh[0].T)
    m = spec.n_input
    Wx = np.ascontiguousarray(spec.Wx[0, :, :m])
    bias = spec.bh[0] + spec.bx[0]
    if varying:
        C = np.ascontiguousarray(np.broadcast_to(bias, (X.shape[0], bias.size)))
    else:
        C = np.ascontiguousarray(bias + X[:, 0, :] @ Wx.T)
    return WhT, Wx, C


def n_blocks(B, min_rows=32):
    """Row blocks for the batched kernels: one per numba thread, each >= min_rows rows."""
    import numba

    return int(max(1, min(numba.get_num_threads(), B // min_rows)))


def workspace(size):
    """An uninitialised float64 array of ``size`` elements for large record buffers, backed by
    anonymous memory with transparent huge pages declined where the platform allows.

    numpy asks for huge pages on large arrays; under the common ``madvise`` THP mode a first
    touch then zeroes (and may compact) 2 MB at a time, which on the 2-core test machine costs
    about 1.2-2 ms per MB against 0.4 ms per MB with ordinary pages: for the census' records
    (300 MB) that was 0.3 s of a 5 s run. Pages are only faulted in when written."""
    import mmap

    nbytes = max(int(size), 1) * 8
    advice = getattr(mmap, "MADV_NOHUGEPAGE", None)
    if advice is None or nbytes < 2**22:
        return np.empty(int(size))
    buf = mmap.mmap(-1, nbytes)
    try:
        buf.madvise(advice)
    except OSError:  # kernels without THP support: ordinary pages anyway
        pass
    return np.frombuffer(buf, dtype=np.float64, count=int(size))


def records(out, B, n_rec, n):
    """``out`` checked as a (B, n_rec, n) float64 C-contiguous workspace, or a new array."""
    if out is None:
        return np.empty((B, n_rec, n))
    if out.shape != (B, n_rec, n) or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out: expected a C-contiguous float64 array of shape {(B, n_rec, n)}, "
                         f"received {out.dtype} {out.shape}")
    return out


# -- rollout ------------------------------------------------------------------------------------
def region_applies(spec, varying) -> bool:
    """ReLU map without leak under constant inputs: piecewise linear with h' = D (W h + c) in
    each activation region, so a run's region fixed point is one linear solve."""
    return (blas_path(spec) and not varying and spec.activation == "relu"
            and float(spec.alpha) == 1.0)


def rollout(model, H, X, cidx, n_transient, n_steps, stride, threshold, n_rec, *, flow, dt,
            varying, settle_tol=0.0, check_every=50, by_region=None, out=None):
    """Advance H (B, n) in place.

    Returns (records (B, n_rec, n) NaN-filled, diverged_at (B,), settled_at (B,)). With
    ``settle_tol > 0`` the batched vanilla kernel stops runs that settled on a fixed point
    (``settled_at >= 0``, their later records repeat the fixed point); other paths run to the end.
    For ReLU maps (:func:`region_applies`) runs also stop once certified to converge to the
    attracting fixed point of their activation region (H holds that exact point; flagged in the
    optional bool array ``by_region``). ``out`` may be a preallocated (B, n_rec, n) array for the
    records (a workspace reused across calls: fresh memory costs page faults).
    """
    B, n = H.shape
    out = records(out, B, n_rec, n)  # every record is written, except after a divergence
    div = np.full(B, -1, dtype=np.int64)
    settled = np.full(B, -1, dtype=np.int64)
    cidx = np.ascontiguousarray(cidx, dtype=np.int64)
    spec = kernel_spec(model)
    if blas_path(spec):
        WhT, Wx, C = _blas_operands(spec, X, varying)
        act = _cells.ACTIVATION_CODES[spec.activation]
        every = REGION_EVERY if settle_tol > 0 and region_applies(spec, varying) else 0
        flags = np.zeros(B, dtype=np.bool_)
        nb = n_blocks(B)
        # blocks of alternating conditions: runs that settle late cluster in neighbouring
        # conditions, and a block holding all of them would leave the other threads idle
        order = np.argsort(cidx % nb, kind="stable") if nb > 1 and settle_tol > 0 else \
            np.arange(B)
        with threadpool_limits(1, user_api="blas"):
            _dyn.vanilla_rollout(act, spec.alpha, WhT, Wx, C, X, cidx, H, order, n_transient,
                                 n_steps, stride, threshold, out, div, nb, float(settle_tol),
                                 int(check_every), settled, every, REGION_TOL, flags)
        if by_region is not None:
            by_region[:] = flags
    elif spec is not None:
        _dyn.rollout(*spec.args, flow, dt or 0.0, H, X, cidx, n_transient, n_steps, stride,
                     threshold, out, div)
    else:
        _numpy_rollout(model, H, X, cidx, n_transient, n_steps, stride, threshold, out, div,
                       flow, dt)
    for b in np.flatnonzero(div >= 0):  # records at or after the divergence: NaN
        k0 = max(0, -(-(int(div[b]) - n_transient) // stride) - 1)
        out[b, k0:] = np.nan
    return out, div, settled


def _field(model, h, x):
    out = np.asarray(model.step(h, x), dtype=float)
    if out.shape != h.shape:
        raise ValidationError(
            f"model.step: expected output of shape {h.shape}, received {out.shape}"
        )
    return out


def numpy_advance(model, h, x, flow, dt):
    if not flow:
        return _field(model, h, x)
    k1 = _field(model, h, x)
    k2 = _field(model, h + 0.5 * dt * k1, x)
    k3 = _field(model, h + 0.5 * dt * k2, x)
    k4 = _field(model, h + dt * k3, x)
    return h + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def _numpy_rollout(model, H, X, cidx, n_transient, n_steps, stride, threshold, out, div, flow,
                   dt):
    active = np.arange(H.shape[0])
    varying = X.shape[1] > 1
    with np.errstate(all="ignore"):
        for t in range(n_transient + n_steps):
            if active.size == 0:
                break
            x = X[cidx[active], t if varying else 0]
            h = numpy_advance(model, H[active], x, flow, dt)
            bad = ~(np.abs(h) <= threshold).all(axis=1)
            if bad.any():
                div[active[bad]] = t + 1
                h = h[~bad]
                active = active[~bad]
            H[active] = h
            s = t + 1 - n_transient
            if s > 0 and s % stride == 0 and s // stride - 1 < out.shape[1]:
                out[active, s // stride - 1] = h


# -- Lyapunov -------------------------------------------------------------------------------------
def random_frames(B, n, m, rng):
    """B random orthonormal n x m frames (QR of Gaussian matrices), shape (B, n, m)."""
    G = rng.standard_normal((B, n, m))
    Q, R = np.linalg.qr(G)
    return np.ascontiguousarray(Q * np.sign(np.diagonal(R, axis1=1, axis2=2))[:, None, :])


def lyapunov(model, H, X, cidx, Q0, n_transient, n_steps, n_skip, qr_every, n_windows,
             threshold, n_rec, *, flow, dt, varying, out=None):
    """Benettin QR; H (B, n) advanced in place.

    Returns (logsum (B, m), wins (B, n_windows, m), diverged_at (B,), records (B, n_rec, n)).
    Records (the states after each of the n_steps tangent steps) are produced on request, in
    ``out`` if given (see :func:`rollout`).
    """
    B, n = H.shape
    m = Q0.shape[2]
    logsum = np.zeros((B, m))
    wins = np.zeros((B, n_windows, m))
    div = np.full(B, -1, dtype=np.int64)
    cidx = np.ascontiguousarray(cidx, dtype=np.int64)
    spec = kernel_spec(model)
    if blas_path(spec) and m <= 32:
        out = records(out, B, n_rec, n)  # every record is written, except after a divergence
        if n_transient:
            d0 = rollout(model, H, X, cidx, n_transient, 0, 1, threshold, 0, flow=flow, dt=dt,
                         varying=varying)[1]
        else:
            d0 = div.copy()
        WhT, Wx, C = _blas_operands(spec, X[:, n_transient:] if varying else X, varying)
        Xs = np.ascontiguousarray(X[:, n_transient:]) if varying else X
        act = _cells.ACTIVATION_CODES[spec.activation]
        Qrows = np.ascontiguousarray(np.transpose(Q0, (0, 2, 1)))
        with threadpool_limits(1, user_api="blas"):
            _dyn.vanilla_lyapunov(act, spec.alpha, WhT, Wx, C, Xs, cidx, H, Qrows, n_steps,
                                  n_skip, qr_every, n_windows, threshold, out, logsum, wins,
                                  div, n_blocks(B))
        for b in np.flatnonzero(div >= 0):  # records from the divergence on: NaN
            out[b, int(div[b]) - 1:] = np.nan
        out[d0 >= 0] = np.nan
        div = np.where(d0 >= 0, d0, np.where(div >= 0, div + n_transient, -1))
        return logsum, wins, div, out
    if n_rec:
        Hc = H.copy()
        out = rollout(model, Hc, X, cidx, n_transient, n_rec, 1, threshold, n_rec, flow=flow,
                      dt=dt, varying=varying, out=out)[0]
    else:
        out = records(out, B, 0, n)
    # per-run products are small: one BLAS thread each (prange / the batch give the parallelism)
    with threadpool_limits(1, user_api="blas"):
        if spec is not None:
            _dyn.lyapunov_qr(*spec.args, flow, dt or 0.0, H, X, cidx, np.ascontiguousarray(Q0),
                             n_transient, n_steps, n_skip, qr_every, n_windows, threshold,
                             logsum, wins, div)
        else:
            _numpy_lyapunov(model, H, X, cidx, Q0.copy(), n_transient, n_steps, n_skip,
                            qr_every, n_windows, threshold, logsum, wins, div, flow, dt)
    return logsum, wins, div, out


def _jac(model, h, x):
    J = np.asarray(model.jacobian(h, x), dtype=float)
    if J.shape != (h.shape[0], h.shape[1], h.shape[1]):
        raise ValidationError(
            f"model.jacobian: expected shape {(h.shape[0], h.shape[1], h.shape[1])}, received "
            f"{J.shape}"
        )
    return J


def _numpy_tangent(model, h, Q, x, flow, dt):
    if not flow:
        return _field(model, h, x), _jac(model, h, x) @ Q
    hs, Qs = h, Q
    acc_h = h.copy()
    acc_Q = Q.copy()
    for c, w in ((0.5, 1.0), (0.5, 2.0), (1.0, 2.0), (0.0, 1.0)):
        k = _field(model, hs, x)
        K = _jac(model, hs, x) @ Qs
        acc_h += dt / 6.0 * w * k
        acc_Q += dt / 6.0 * w * K
        hs = h + c * dt * k
        Qs = Q + c * dt * K
    return acc_h, acc_Q


def _numpy_lyapunov(model, H, X, cidx, Q, n_transient, n_steps, n_skip, qr_every, n_windows,
                    threshold, logsum, wins, div, flow, dt):
    active = np.arange(H.shape[0])
    varying = X.shape[1] > 1
    seg_start = 0
    with np.errstate(all="ignore"):
        for t in range(n_transient + n_steps):
            if active.size == 0:
                break
            x = X[cidx[active], t if varying else 0]
            s = t - n_transient
            if s < 0:
                h = numpy_advance(model, H[active], x, flow, dt)
            else:
                h, Q[active] = _numpy_tangent(model, H[active], Q[active], x, flow, dt)
            bad = ~(np.abs(h) <= threshold).all(axis=1)
            if bad.any():
                div[active[bad]] = t + 1
                h, active = h[~bad], active[~bad]
            H[active] = h
            if s >= 0 and ((s + 1) % qr_every == 0 or s == n_steps - 1):
                q, r = np.linalg.qr(Q[active])
                d = np.diagonal(r, axis1=1, axis2=2)
                Q[active] = q * np.sign(np.where(d == 0, 1.0, d))[:, None, :]
                if seg_start >= n_skip:
                    w = (seg_start - n_skip) * n_windows // (n_steps - n_skip)
                    lr = np.log(np.abs(d))
                    logsum[active] += lr
                    wins[active, w] += lr
                seg_start = s + 1


def window_steps(n_steps, n_skip, qr_every, n_windows):
    """Steps accumulated in each window (same schedule as the kernels)."""
    steps = np.zeros(n_windows)
    seg_start = 0
    for s in range(n_steps):
        if (s + 1) % qr_every == 0 or s == n_steps - 1:
            if seg_start >= n_skip:
                steps[(seg_start - n_skip) * n_windows // (n_steps - n_skip)] += s + 1 - seg_start
            seg_start = s + 1
    return steps
