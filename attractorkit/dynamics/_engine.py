"""The one dynamics engine: rollouts (maps iterated, flows by RK4) and Lyapunov QR for every
analysis, dispatched to the numba kernels (models with a KernelSpec) or to batched numpy (any
model, :mod:`._numpy_engine`).

:func:`advance` is the public lower layer (a batch of states, a few steps, optionally every
state recorded). :func:`rollout` and :func:`lyapunov` are the engine's internal entry points,
shared by :mod:`._simulate`, :mod:`._lyapunov` and the attractor classification.
"""

from __future__ import annotations

import numpy as np

from .._kernels import rollout as _rk
from .._kernels import tangent as _tk
from .._kernels.activations import ACTIVATION_CODES
from .._kernels.memory import kernel_array, workspace
from .._kernels.parallel import n_blocks, run_blocks
from .._kernels.threads import single_blas_thread
from ..core._errors import ValidationError
from ..core._prepare import check_model_arg, kernel_spec
from ..core._validation import as_float_array, as_input_batch, check_int, check_positive
from ._numpy_engine import numpy_lyapunov, numpy_rollout

__all__ = ["advance", "rollout", "lyapunov", "random_frames", "window_steps", "records",
           "DEFAULT_THRESHOLD"]

DEFAULT_THRESHOLD = 1e6
REGION_EVERY = 10    # steps between region tests of ReLU runs (see rollout)
REGION_TOL = 0.1     # pre-activation deviation / distance to the switching threshold
MIN_BLOCK_ROWS = 32  # rows per block of the batched vanilla kernels


def blas_path(spec) -> bool:
    """Single-layer vanilla map: the batched one-GEMM-per-step kernels apply."""
    return (spec is not None and spec.cell == "vanilla" and spec.time == "discrete"
            and spec.n_layers == 1)


def region_applies(spec, varying) -> bool:
    """ReLU map without leak under constant inputs: piecewise linear with h' = D (W h + c) in
    each activation region, so a run's region fixed point is one linear solve."""
    return (blas_path(spec) and not varying and spec.activation == "relu"
            and float(spec.alpha) == 1.0)


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
    return WhT, Wx, kernel_array(C)


def _cell_args(spec):
    """The KernelSpec's leading kernel arguments, in the one layout the kernels compile for."""
    cell, act, alpha, Wh, Wx, bh, bx = spec.args  # cell: an enum, typed by cell family
    return (cell, int(act), float(alpha), kernel_array(Wh), kernel_array(Wx),
            kernel_array(bh), kernel_array(bx))


def records(out, B, n_rec, n):
    """``out`` checked as a (B, n_rec, n) float64 C-contiguous workspace, or a new one."""
    if out is None:
        return workspace(B * n_rec * n).reshape(B, n_rec, n)
    if out.shape != (B, n_rec, n) or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out: expected a C-contiguous float64 array of shape {(B, n_rec, n)}, "
                         f"received {out.dtype} {out.shape}")
    return out


# -- rollout ------------------------------------------------------------------------------------
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
    cidx = kernel_array(cidx, np.int64)
    spec = kernel_spec(model)
    if spec is not None:
        Hk, Xk = kernel_array(H), kernel_array(X)
    if blas_path(spec):
        WhT, Wx, C = _blas_operands(spec, Xk, varying)
        act = ACTIVATION_CODES[spec.activation]
        region = REGION_EVERY if settle_tol > 0 and region_applies(spec, varying) else None
        flags = np.zeros(B, dtype=np.bool_)
        nb = n_blocks(B, min_rows=MIN_BLOCK_ROWS)
        # blocks of alternating conditions: runs that settle late cluster in neighbouring
        # conditions, and a block holding all of them would leave the other threads idle
        order = np.argsort(cidx % nb, kind="stable") if nb > 1 and settle_tol > 0 else \
            np.arange(B)
        with single_blas_thread():
            run_blocks(_rk.vanilla_rollout_rows, nb, act, float(spec.alpha), WhT, Wx, C, Xk,
                       cidx, Hk, order, int(n_transient), int(n_steps), int(stride),
                       float(threshold), out, div, float(settle_tol), int(check_every),
                       settled, region, REGION_TOL, flags)
        if by_region is not None:
            by_region[:] = flags
    elif spec is not None:
        run_blocks(_rk.rollout_rows, n_blocks(B), *_cell_args(spec), bool(flow),
                   float(dt or 0.0), Hk, Xk, cidx, int(n_transient), int(n_steps), int(stride),
                   float(threshold), out, div)
    else:
        numpy_rollout(model, H, X, cidx, n_transient, n_steps, stride, threshold, out, div,
                      flow, dt)
    if spec is not None and Hk is not H:
        H[...] = Hk
    for b in np.flatnonzero(div >= 0):  # records at or after the divergence: NaN
        k0 = max(0, -(-(int(div[b]) - n_transient) // stride) - 1)
        out[b, k0:] = np.nan
    return out, div, settled


def advance(model, states, inputs=None, n_steps=1, *, record=False,
            divergence_threshold=DEFAULT_THRESHOLD) -> np.ndarray:
    """Advance a batch of states: a map is iterated, a flow takes RK4 steps of ``model.dt``.

    The lower layer under :func:`simulate`, for loops that prepare their own batches (seeds of
    a fixed-point search, orbits of a candidate cycle): no conditions, no transient, one input
    row per state. Kernel models run in numba, other models batched through ``model.step``.

    Parameters
    ----------
    model : Model
    states : array_like of shape (n_state,) or (B, n_state)
        Rows with a non-finite entry are left out (their results are NaN).
    inputs : array_like of shape (n_input,) or (B, n_input), or None for models without inputs
        Constant over the steps; one row per state, or one for all.
    n_steps : int, default 1
    record : bool, default False
        Return every state, not only the last.
    divergence_threshold : float, default 1e6
        A row with a non-finite entry or an entry above this in absolute value is stopped; its
        states from then on are NaN.

    Returns
    -------
    ndarray of shape (B, n_state), or (B, n_steps + 1, n_state) with ``record=True``
        ``[:, k]`` is the state after k steps (``[:, 0]``: the given states).

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import VanillaRNN
    >>> from attractorkit.dynamics import advance
    >>> advance(VanillaRNN(0.5 * np.eye(2), activation="identity"), [[1.0, 2.0]], None, 3)
    array([[0.125, 0.25 ]])
    """
    flow, dt = check_model_arg(model, probe=False)
    n_steps = check_int("n_steps", n_steps, minimum=0)
    threshold = check_positive("divergence_threshold", divergence_threshold)
    H = as_float_array("states", states, ndim=(1, 2), finite=False)
    H = H[None] if H.ndim == 1 else H
    n = int(model.n_state)
    if H.shape[1] != n:
        raise ValidationError(f"states: expected width n_state={n}, received shape {H.shape}")
    B = H.shape[0]
    X = as_input_batch("inputs", inputs, int(model.n_input), B)
    ok = np.flatnonzero(np.isfinite(H).all(axis=1))
    Hk = np.array(H[ok])
    recs, div, _ = rollout(model, Hk, X[ok][:, None, :], np.arange(ok.size), 0, n_steps, 1,
                           threshold, n_steps if record else 0, flow=flow, dt=dt,
                           varying=False)
    Hk[div >= 0] = np.nan
    if not record:
        final = np.full((B, n), np.nan)
        final[ok] = Hk
        return final
    path = np.full((B, n_steps + 1, n), np.nan)
    path[ok, 0] = H[ok]
    path[ok, 1:] = recs
    return path


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
    cidx = kernel_array(cidx, np.int64)
    spec = kernel_spec(model)
    steps = (int(n_steps), int(n_skip), int(qr_every), int(n_windows), float(threshold))
    if blas_path(spec) and m <= 32:
        out = records(out, B, n_rec, n)  # every record is written, except after a divergence
        d0 = div.copy()
        if n_transient:
            d0 = rollout(model, H, X, cidx, n_transient, 0, 1, threshold, 0, flow=flow, dt=dt,
                         varying=varying)[1]
        Xs = kernel_array(X[:, n_transient:] if varying else X)
        WhT, Wx, C = _blas_operands(spec, Xs, varying)
        act = ACTIVATION_CODES[spec.activation]
        Qrows = np.ascontiguousarray(np.transpose(Q0, (0, 2, 1)))
        Hk = kernel_array(H)
        with single_blas_thread():
            run_blocks(_tk.vanilla_lyapunov_rows, n_blocks(B, min_rows=MIN_BLOCK_ROWS), act,
                       float(spec.alpha), WhT, Wx, C, Xs, cidx, Hk, Qrows, *steps, out, logsum,
                       wins, div)
        if Hk is not H:
            H[...] = Hk
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
    # per-run products are small: one BLAS thread each (the row blocks give the parallelism)
    with single_blas_thread():
        if spec is not None:
            Hk = kernel_array(H)
            run_blocks(_tk.lyapunov_rows, n_blocks(B), *_cell_args(spec), bool(flow),
                       float(dt or 0.0), Hk, kernel_array(X), cidx, kernel_array(Q0),
                       int(n_transient), *steps, logsum, wins, div)
            if Hk is not H:
                H[...] = Hk
        else:
            numpy_lyapunov(model, H, X, cidx, Q0.copy(), n_transient, n_steps, n_skip,
                           qr_every, n_windows, threshold, logsum, wins, div, flow, dt)
    return logsum, wins, div, out


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
