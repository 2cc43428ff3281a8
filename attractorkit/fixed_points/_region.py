"""Where fixed points are searched and kept: the search region, and the settled trajectories
whose end states are candidates (every stable point a trajectory reaches is found).

The region is a box per state coordinate: the bounds the model declares (an optional
``state_bounds`` attribute of shape (2, n_state) or a pair of scalars; for standard cells the
range of their fixed points: tanh, GRU and the h part of LSTM in [-1, 1], sigmoid in [0, 1],
ReLU and softplus >= 0) intersected with a margin around the visited states (the seeds' pool and
the trajectories).
"""

from __future__ import annotations

import numpy as np

from ..core._errors import ValidationError
from ..core._prepare import kernel_spec
from ..core._validation import as_float_array
from ..dynamics._simulate import simulate

__all__ = ["declared_bounds", "search_region", "settle", "inside", "run_until_settled",
           "EARLY_STOP"]

#: Runs are simulated in chunks of this many steps; after each chunk, the rows whose last
#: step fell below the early-stopping tolerance stop (their later steps change nothing
#: that the search uses: the end state is polished by Newton or solved exactly anyway).
_CHUNK = 25
#: Cycles of up to this period are recognised (and stopped) by :func:`run_until_settled`.
_PERIODS = 8
#: Early stop below this fraction of ``settle_tol`` (a thousand times stricter than the
#: settling test, so that a run passing slowly by a saddle is not stopped there).
EARLY_STOP = 1e-3

_ACTIVATION_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, np.inf),
                     "softplus": (0.0, np.inf)}


def declared_bounds(model):
    """(2, n_state) bounds of the model's fixed points, or None when it declares none."""
    n = model.n_state
    given = getattr(model, "state_bounds", None)
    if given is not None:
        b = as_float_array("model.state_bounds", given, finite=False)
        if b.shape not in ((2,), (2, n)) or np.any(np.isnan(b)):
            raise ValidationError(f"model.state_bounds: expected shape (2,) or (2, {n}) "
                                  f"without NaN, received shape {b.shape}")
        return np.ascontiguousarray(np.broadcast_to(b.reshape(2, -1), (2, n)))
    spec = kernel_spec(model)
    if spec is None:
        return None
    lo, hi = np.full(n, -np.inf), np.full(n, np.inf)
    if spec.cell == "vanilla":
        lo[:], hi[:] = _ACTIVATION_RANGE.get(spec.activation, (-np.inf, np.inf))
    else:                    # GRU: h* = n in [-1, 1]; LSTM: h = o tanh(c) (c unbounded)
        m = spec.n_layers * spec.n_hidden
        lo[:m], hi[:m] = -1.0, 1.0
    return np.stack([lo, hi])


def search_region(model, visited, option, margin):
    """The region for ``option`` ("auto", None or explicit bounds) and the visited states (a
    list of arrays whose last axis is n_state; non-finite rows ignored). Returns (2, n_state)
    or None."""
    n = model.n_state
    if option is None:
        return None
    if not (isinstance(option, str) and option == "auto"):
        b = as_float_array("region", option, finite=False)
        if b.shape not in ((2,), (2, n)) or np.any(np.isnan(b)) or np.any(b[0] > b[1]):
            raise ValidationError(f"region: expected 'auto', None or bounds of shape (2,) or "
                                  f"(2, {n}) with lower <= upper, received {option!r}"[:300])
        return np.ascontiguousarray(np.broadcast_to(b.reshape(2, -1), (2, n)))
    lo, hi = np.full(n, np.inf), np.full(n, -np.inf)
    for V in visited:
        V = V.reshape(-1, n)
        with np.errstate(invalid="ignore"):
            lo = np.fmin(lo, np.nanmin(np.where(np.isinf(V), np.nan, V), axis=0,
                                       initial=np.inf))
            hi = np.fmax(hi, np.nanmax(np.where(np.isinf(V), np.nan, V), axis=0,
                                       initial=-np.inf))
    box = np.stack([np.full(n, -np.inf), np.full(n, np.inf)])
    if np.all(lo <= hi):
        scale = max(float(np.max(hi - lo)), float(np.max(np.abs(np.r_[lo, hi]))), 1e-12)
        box = np.stack([lo - margin * scale, hi + margin * scale])
    dec = declared_bounds(model)
    if dec is not None:
        tiny = 1e-9 * np.maximum(1.0, np.abs(dec))     # rounding at the declared bound
        box = np.stack([np.maximum(box[0], dec[0] - tiny[0]),
                        np.minimum(box[1], dec[1] + tiny[1])])
    return box


def inside(region, H):
    """(B,) bool: rows of H within the region (all True without one)."""
    if region is None:
        return np.ones(H.shape[0], bool)
    return np.all((H >= region[0]) & (H <= region[1]), axis=1)


def settle(model, X, starts, n_settle, max_norm, *, stop_tol=0.0):
    """Run the starts (K, m, n_state) for ``n_settle`` steps under the conditions' inputs;
    runs whose last step falls below ``stop_tol`` stop early (:func:`run_until_settled`).

    Returns the end states (K * m, n_state), their conditions and the size of their last step
    relative to ``max(1, max|h|)`` (inf when diverged; starts that are not finite, such as the
    ends of diverged trajectories, are not run)."""
    K, m, n = starts.shape
    cond = np.repeat(np.arange(K), m)
    S = np.ascontiguousarray(starts, dtype=float).reshape(K * m, n)
    end, move = S.copy(), np.full(K * m, np.inf)   # diverged starts (NaN) stay diverged
    ok = np.all(np.isfinite(S), axis=1)
    if ok.any():
        end[ok], move[ok] = run_until_settled(model, S[ok], cond[ok], X, n_settle, max_norm,
                                              stop_tol)
    return end, cond, move


def _moves(end, before):
    """Size of the last step ``max|end - before|`` relative to ``max(1, max|end|)``; inf where
    not finite."""
    with np.errstate(all="ignore"):
        move = np.max(np.abs(end - before), axis=1, initial=0.0) / np.maximum(
            1.0, np.max(np.abs(end), axis=1, initial=0.0))
    move[~np.isfinite(move)] = np.inf
    return move


def run_until_settled(model, S, cond, X, n_steps, max_norm, stop_tol, *, chunk=_CHUNK):
    """Run the rows ``S`` (B, n_state) under ``X[cond]`` for ``n_steps`` steps, in chunks of
    ``chunk`` steps; a row stops after a chunk when its last step (relative to
    ``max(1, max|h|)``) is at most ``stop_tol``, when it came back within ``stop_tol`` to where
    it was 2 to ``_PERIODS`` steps before (a cycle, which never settles) or when it diverged
    (``max_norm``).

    Returns the end states (B, n_state) and the relative size of each row's last step
    (inf when diverged)."""
    S = np.asarray(S, float)
    end, move = S.copy(), np.full(S.shape[0], np.inf)
    for k in np.unique(cond):
        rows = np.flatnonzero(cond == k)
        h, left = S[rows], int(n_steps)
        while rows.size and left > 0:
            c = min(int(chunk), left)
            m = min(_PERIODS + 1, c)
            states = simulate(model, h, X[k], m, n_transient=c - m,
                              divergence_threshold=max_norm).states[0]
            if c == m:      # the chunk's first state too
                states = np.concatenate([h[:, None], states], axis=1)
            last = states[:, -1]
            end[rows], move[rows] = last, _moves(last, states[:, -2])
            left -= c
            go = np.isfinite(move[rows]) & (move[rows] > stop_tol)
            for p in range(2, states.shape[1]):
                go &= _moves(last, states[:, -1 - p]) > stop_tol
            rows, h = rows[go], last[go]
    return end, move
