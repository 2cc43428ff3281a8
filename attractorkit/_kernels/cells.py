"""Standard recurrent cells as numba kernels, behind one uniform signature.

Every cell is described by the tuple ``(cell, act, alpha, Wh, Wx, bh, bx)`` (see
:class:`attractorkit.KernelSpec`):

- ``cell``: the cell code, one of ``VANILLA``, ``VANILLA_FLOW`` (members of
  :class:`VanillaCell`), ``GRU``, ``LSTM`` (members of :class:`GatedCell`). They are integers,
  but of two enum types, and numba compiles per type: a kernel running a vanilla cell compiles
  only the vanilla code, one running a GRU or LSTM only the gated code (a plain int compiles
  both);
- ``act``: int activation code (vanilla cells only), one of ``TANH`` ... ``IDENTITY``
  (:mod:`.activations`);
- ``alpha``: leak of a vanilla map ``h' = (1-alpha) h + alpha phi(z)``; for a vanilla flow
  ``dh/dt = alpha (-h + phi(z))``, i.e. ``alpha = 1/tau``;
- ``Wh``: (L, G*H, H) recurrent weights per layer (G = 1, 3, 4 gates for vanilla, GRU, LSTM);
- ``Wx``: (L, G*H, I_max) input weights per layer, zero-padded to the widest layer input;
  layer l > 0 takes the new state of layer l-1 as input;
- ``bh``, ``bx``: (L, G*H) biases (vanilla uses their sum; GRU needs them apart).

The state is the layers' states concatenated (LSTM: all h layer by layer, then all c layer by
layer). Per-sample functions (:func:`cell_step`, :func:`cell_jacobian`, :func:`cell_jacobians`)
write into preallocated outputs, so that algorithm kernels (Newton, rollouts, Lyapunov QR) call
them per sample. The batched functions (:func:`step_batch`, :func:`jacobian_batch`,
:func:`input_jacobian_batch`) are plain Python: they pick the kernel for the cell at hand, so
that a call compiles only what it runs (a vanilla model never compiles the gated cells, a
single-layer vanilla model only its one-product kernels).
"""

from __future__ import annotations

import enum

import numpy as np
from numba import njit, types
from numba.extending import overload

from .activations import (  # noqa: F401 - the codes are part of this module's interface
    ACTIVATION_CODES,
    IDENTITY,
    RELU,
    SIGMOID,
    SOFTPLUS,
    TANH,
    activate,
    activate_derivative,
)
from .gated import gated_jacobians, gated_step
from .memory import kernel_array
from .parallel import block_bounds, n_blocks, run_blocks
from .vanilla import vanilla_jacobians, vanilla_step


class VanillaCell(enum.IntEnum):
    """Codes of the vanilla cells (a type of their own for numba)."""

    MAP = 0
    FLOW = 1


class GatedCell(enum.IntEnum):
    """Codes of the gated cells (a type of their own for numba)."""

    GRU = 2
    LSTM = 3


VANILLA = VanillaCell.MAP
VANILLA_FLOW = VanillaCell.FLOW
GRU = GatedCell.GRU
LSTM = GatedCell.LSTM

CELL_CODES = {"vanilla": VANILLA, "vanilla_flow": VANILLA_FLOW, "gru": GRU, "lstm": LSTM}

# Batches below this size run serially: a parallel hand-over for one or two rows costs more than
# the rows themselves, and far more when several Python threads (the classifier's evidence
# workers) hand over work on a busy machine at once.
PARALLEL_MIN_ROWS = 4


# -- one sample ----------------------------------------------------------------------------------
def _family(cell):
    """"vanilla", "gated" or None (a plain integer: decided at run time) from a numba type."""
    if isinstance(cell, types.IntEnumMember):
        return {VanillaCell: "vanilla", GatedCell: "gated"}.get(cell.instance_class)
    return None


def _family_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
    """``out = F(h, x)`` for the cell's family. In compiled code numba replaces this body by
    the implementation that :func:`_step_for` picks from the type of ``cell`` (so a kernel
    compiles one family only); this body serves plain-Python calls (``cell_step.py_func``, the
    numpy references of the kernel tests)."""
    c = int(cell)
    if c == VANILLA or c == VANILLA_FLOW:
        vanilla_step(c == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, h, x, out)
    else:
        gated_step(c, Wh, Wx, bh, bx, h, x, out)


def _family_jacobians(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
    """``J = dF/dh``, ``Jx = dF/dx`` for the cell's family; compiled code uses the
    implementation :func:`_jacobians_for` picks, as for :func:`_family_step`."""
    c = int(cell)
    if c == VANILLA or c == VANILLA_FLOW:
        vanilla_jacobians(c == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx)
    else:
        gated_jacobians(c, Wh, Wx, bh, bx, h, x, J, Jx)


@overload(_family_step)
def _step_for(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
    family = _family(cell)
    if family == "vanilla":
        def impl(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
            vanilla_step(cell == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, h, x, out)
    elif family == "gated":
        def impl(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
            gated_step(cell.value, Wh, Wx, bh, bx, h, x, out)
    else:
        def impl(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
            if cell == 0 or cell == 1:
                vanilla_step(cell == 1, act, alpha, Wh, Wx, bh, bx, h, x, out)
            else:
                gated_step(cell, Wh, Wx, bh, bx, h, x, out)
    return impl


@overload(_family_jacobians)
def _jacobians_for(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
    family = _family(cell)
    if family == "vanilla":
        def impl(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
            vanilla_jacobians(cell == VANILLA_FLOW, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx)
    elif family == "gated":
        def impl(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
            gated_jacobians(cell.value, Wh, Wx, bh, bx, h, x, J, Jx)
    else:
        def impl(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
            if cell == 0 or cell == 1:
                vanilla_jacobians(cell == 1, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx)
            else:
                gated_jacobians(cell, Wh, Wx, bh, bx, h, x, J, Jx)
    return impl


# cell_step, cell_jacobians and cell_jacobian are inlined into their callers: the callers call
# the family's implementation (an overload, compiled once per family) directly.
@njit(cache=True, inline="always")
def cell_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, out):
    """One sample: out = F(h, x) (the next state for maps, dh/dt for flows)."""
    _family_step(cell, act, alpha, Wh, Wx, bh, bx, h, x, out)


@njit(cache=True, inline="always")
def cell_jacobians(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx):
    """One sample: J = dF/dh (n_state, n_state) and Jx = dF/dx (n_state, n_input); an ``Jx``
    without rows is skipped."""
    _family_jacobians(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, Jx)


@njit(cache=True, inline="always")  # like cell_step and cell_jacobians: no compilation of its own
def cell_jacobian(cell, act, alpha, Wh, Wx, bh, bx, h, x, J):
    """One sample: J = dF/dh, shape (n_state, n_state)."""
    cell_jacobians(cell, act, alpha, Wh, Wx, bh, bx, h, x, J, np.empty((0, 0)))


# -- single-layer vanilla cells: one BLAS product for the batch -------------------------------
@njit(cache=True)
def _vanilla_preacts_dense(Wh, Wx, bh, bx, H, X, Z):
    """Z = H Wh^T + X Wx^T + bh + bx for a single-layer cell: one BLAS product, then the input
    term with the input index outermost over a transposed copy of the (thin) input weights, so
    the inner loop is contiguous and vectorises (the naive order cost as much as the recurrent
    product itself at B=1024, N=250, m=7)."""
    B = H.shape[0]
    n = Wh.shape[1]
    m = X.shape[1]
    np.dot(H, Wh[0].T, Z)
    UT = np.empty((m, n))   # a loop, not np.ascontiguousarray: less to compile
    for k in range(m):
        for i in range(n):
            UT[k, i] = Wx[0, i, k]
    bias = np.empty(n)
    for i in range(n):
        bias[i] = bh[0, i] + bx[0, i]
    for r in range(B):
        row = Z[r]
        for k in range(m):
            xk = X[r, k]
            for i in range(n):
                row[i] += xk * UT[k, i]
        for i in range(n):
            row[i] += bias[i]


@njit(cache=True)
def _vanilla_step_dense(flow, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """Single-layer vanilla cell on a batch (``out`` must not overlap ``H``). Deliberately
    serial: the product is the whole cost and BLAS threads it; a parallel pass after it only
    adds thread hand-over (measured 3-7x slower at B=1024, N=250 on 2 cores)."""
    _vanilla_preacts_dense(Wh, Wx, bh, bx, H, X, out)
    n = out.shape[1]
    for r in range(H.shape[0]):
        row = out[r]
        activate(act, row, row)
        if flow:
            for i in range(n):
                row[i] = alpha * (row[i] - H[r, i])
        else:
            for i in range(n):
                row[i] = (1.0 - alpha) * H[r, i] + alpha * row[i]


@njit(cache=True)
def _vanilla_derivatives_dense(act, Wh, Wx, bh, bx, H, X, D):
    """D[b] = phi'(z_b) for a single-layer cell (one BLAS product for the batch)."""
    _vanilla_preacts_dense(Wh, Wx, bh, bx, H, X, D)
    for r in range(H.shape[0]):
        activate_derivative(act, D[r], D[r])


@njit(cache=True, nogil=True)
def _fill_jacobian_rows(k, nb, flow, alpha, W, D, out):
    """out[b] = diag(alpha D[b]) W + ((1 - alpha) or -alpha) I for the rows of block k."""
    r0, r1 = block_bounds(k, nb, D.shape[0])
    n = W.shape[0]
    diag = -alpha if flow else 1.0 - alpha
    for b in range(r0, r1):
        for i in range(n):
            g = alpha * D[b, i]
            for j in range(n):
                out[b, i, j] = g * W[i, j]
            out[b, i, i] += diag


# -- any cell, row by row (row blocks in parallel) ---------------------------------------------
@njit(cache=True, nogil=True)
def _vanilla_step_rows(k, nb, flow, act, alpha, Wh, Wx, bh, bx, H, X, out):
    r0, r1 = block_bounds(k, nb, H.shape[0])
    for b in range(r0, r1):
        vanilla_step(flow, act, alpha, Wh, Wx, bh, bx, H[b], X[b], out[b])


@njit(cache=True, nogil=True)
def _gated_step_rows(k, nb, cell, Wh, Wx, bh, bx, H, X, out):
    r0, r1 = block_bounds(k, nb, H.shape[0])
    for b in range(r0, r1):
        gated_step(cell, Wh, Wx, bh, bx, H[b], X[b], out[b])


@njit(cache=True, nogil=True)
def _vanilla_jacobian_rows(k, nb, flow, act, alpha, Wh, Wx, bh, bx, H, X, J, Jx):
    """J[b] (unless J has no rows) and Jx[b] (unless Jx has no rows) for the rows of block k."""
    r0, r1 = block_bounds(k, nb, H.shape[0])
    n = H.shape[1]
    scratch = np.empty((n, n))
    none = np.empty((0, 0))
    for b in range(r0, r1):
        vanilla_jacobians(flow, act, alpha, Wh, Wx, bh, bx, H[b], X[b],
                          J[b] if J.shape[0] > 0 else scratch, Jx[b] if Jx.shape[0] > 0 else none)


@njit(cache=True, nogil=True)
def _gated_jacobian_rows(k, nb, cell, Wh, Wx, bh, bx, H, X, J, Jx):
    r0, r1 = block_bounds(k, nb, H.shape[0])
    n = H.shape[1]
    scratch = np.empty((n, n))
    none = np.empty((0, 0))
    for b in range(r0, r1):
        gated_jacobians(cell, Wh, Wx, bh, bx, H[b], X[b],
                        J[b] if J.shape[0] > 0 else scratch, Jx[b] if Jx.shape[0] > 0 else none)


# -- batched entry points (Python: they choose the kernel) ---------------------------------------
def _arrays(Wh, Wx, bh, bx, H, X):
    return tuple(kernel_array(a) for a in (Wh, Wx, bh, bx, H, X))


def _row_blocks(B):
    return n_blocks(B, min_rows=2) if B >= PARALLEL_MIN_ROWS else 1


def _dense(cell, Wh):
    return (cell == VANILLA or cell == VANILLA_FLOW) and Wh.shape[0] == 1


def step_batch(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """out[b] = F(H[b], X[b]) for a batch (``out`` may be ``H`` itself).

    Single-layer vanilla cells use one BLAS product; other cells run row blocks in parallel.
    """
    Wh, Wx, bh, bx, H, X = _arrays(Wh, Wx, bh, bx, H, X)
    B = H.shape[0]
    if B == 0:
        return
    target = np.empty_like(out) if np.may_share_memory(H, out) else out
    flow = cell == VANILLA_FLOW
    if _dense(cell, Wh):
        _vanilla_step_dense(flow, int(act), float(alpha), Wh, Wx, bh, bx, H, X, target)
    elif cell == VANILLA or cell == VANILLA_FLOW:
        run_blocks(_vanilla_step_rows, _row_blocks(B), flow, int(act), float(alpha), Wh, Wx,
                   bh, bx, H, X, target)
    else:
        run_blocks(_gated_step_rows, _row_blocks(B), int(cell), Wh, Wx, bh, bx, H, X, target)
    if target is not out:
        out[...] = target


def _jacobians(cell, act, alpha, Wh, Wx, bh, bx, H, X, J, Jx):
    """J = dF/dh and Jx = dF/dx per row (either may have no rows: not wanted)."""
    Wh, Wx, bh, bx, H, X = _arrays(Wh, Wx, bh, bx, H, X)
    B, n = H.shape
    if B == 0:
        return
    flow = cell == VANILLA_FLOW
    if _dense(cell, Wh):
        D = np.empty((B, n))
        _vanilla_derivatives_dense(int(act), Wh, Wx, bh, bx, H, X, D)
        if J.shape[0]:
            run_blocks(_fill_jacobian_rows, _row_blocks(B), flow, float(alpha), Wh[0], D, J)
        if Jx.shape[0]:
            np.multiply((float(alpha) * D)[:, :, None], Wx[0, :, :X.shape[1]][None], out=Jx)
    elif cell == VANILLA or cell == VANILLA_FLOW:
        run_blocks(_vanilla_jacobian_rows, _row_blocks(B), flow, int(act), float(alpha), Wh,
                   Wx, bh, bx, H, X, J, Jx)
    else:
        run_blocks(_gated_jacobian_rows, _row_blocks(B), int(cell), Wh, Wx, bh, bx, H, X, J,
                   Jx)


def jacobian_batch(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """out[b] = dF/dh at (H[b], X[b]).

    Single-layer vanilla cells get all pre-activations from one BLAS product, then fill the
    Jacobians in row blocks; other cells run row blocks of per-sample Jacobians.
    """
    _jacobians(cell, act, alpha, Wh, Wx, bh, bx, H, X, out, np.empty((0, 0, 0)))


def input_jacobian_batch(cell, act, alpha, Wh, Wx, bh, bx, H, X, out):
    """out[b] = dF/dx at (H[b], X[b])."""
    _jacobians(cell, act, alpha, Wh, Wx, bh, bx, H, X, np.empty((0, 0, 0)), out)
