"""Batched simulation of a model under constant or time-varying inputs."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from .._kernels.compiling import compile_progress
from ..core._budget import check_memory
from ..core._pca import pca
from ..core._prepare import check_model_arg, prepare_inputs, prepare_states
from ..core._results import Result
from ..core._validation import check_bool, check_int, check_positive
from . import _engine as eng

__all__ = ["simulate", "Trajectories"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
class Trajectories(Result):
    """Recorded trajectories, batch first.

    Attributes
    ----------
    states : ndarray of shape (n_conditions, n_init, n_recorded, n_state)
        ``states[c, i, k]`` is the state at step ``n_transient + (k + 1) * stride`` (NaN after a
        divergence).
    initial : ndarray of shape (n_conditions, n_init, n_state)
        The state at step ``n_transient`` (the start of the recording).
    diverged : ndarray of bool, shape (n_conditions, n_init)
    diverged_at : ndarray of int, shape (n_conditions, n_init)
        Step at which the state left the bounds (-1 if never).
    times : ndarray of shape (n_recorded,)
        Steps (maps) or model time (flows) of the records.
    inputs : ndarray
        The inputs as given, shaped (n_conditions, 1 or n_total, n_input).
    time : str
        ``"discrete"`` or ``"continuous"``.
    dt, n_transient, stride, divergence_threshold
    """

    states: np.ndarray
    initial: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    times: np.ndarray
    inputs: np.ndarray
    time: str
    dt: float | None
    n_transient: int
    stride: int
    divergence_threshold: float

    @property
    def n_conditions(self) -> int:
        return self.states.shape[0]

    @property
    def n_init(self) -> int:
        return self.states.shape[1]

    def summary(self) -> str:
        c, i, k, n = self.states.shape
        kind = "map" if self.time == "discrete" else f"flow (dt={self.dt})"
        return (
            f"Trajectories: {c} condition(s) x {i} initial state(s), {k} records of {n} states "
            f"({kind}, transient {self.n_transient}, stride {self.stride}); "
            f"{int(self.diverged.sum())} diverged"
        )

    def plot(self, *, condition=0, dims=(0, 1), ax=None):
        """Plot the recorded trajectories of one condition in two state coordinates (or PCs when
        ``dims="pca"``). Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        X = self.states[condition]
        if dims == "pca":
            flat = X[np.isfinite(X).all(-1)]
            P = pca(flat, 2).project(X)
            labels = ("PC1", "PC2")
        else:
            P = X[..., list(dims)]
            labels = tuple(f"h[{d}]" for d in dims)
        for traj in P:
            ax.plot(traj[:, 0], traj[:, 1], lw=0.6)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        return ax


def simulate(model, initial_states, inputs, n_steps, *, n_transient=0, stride=1,
             divergence_threshold=eng.DEFAULT_THRESHOLD, progress=False) -> Trajectories:
    """Simulate a model from many initial states under many inputs.

    Maps are iterated; flows are integrated with fixed-step RK4 of step ``model.dt``. Kernel
    models run in numba (single-layer vanilla maps with one BLAS product per step for the whole
    batch); other models run batched in numpy through ``model.step``.

    Parameters
    ----------
    model : Model
    initial_states : array_like of shape (n_state,), (n_init, n_state) or
        (n_conditions, n_init, n_state)
        Shared by every condition unless given per condition.
    inputs : array_like of shape (n_input,), (n_conditions, n_input) or
        (n_conditions, n_transient + n_steps, n_input), or None for models without inputs
        Constant inputs, or one input per step (``inputs[:, t]`` drives step t).
    n_steps : int
        Steps recorded after the transient.
    n_transient : int, default 0
        Steps run before the recording starts.
    stride : int, default 1
        Keep every ``stride``-th state of the recorded part.
    divergence_threshold : float, default 1e6
        A trajectory whose state has a non-finite entry or an entry with absolute value above
        this is stopped and marked diverged; the others go on.
    progress : bool, default False
        Show a progress bar over time segments.

    Returns
    -------
    Trajectories

    Raises
    ------
    ValidationError
        For NaN initial states, inputs of the wrong width, non-positive ``n_steps`` etc.

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> model = VanillaRNN(0.5 * np.eye(3))
    >>> traj = ak.simulate(model, np.ones((2, 3)), None, 10)
    >>> traj.states.shape
    (1, 2, 10, 3)
    """
    flow, dt = check_model_arg(model)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    n_transient = check_int("n_transient", n_transient, minimum=0)
    stride = check_int("stride", stride, minimum=1, maximum=n_steps)
    threshold = check_positive("divergence_threshold", divergence_threshold)
    progress = check_bool("progress", progress)
    total = n_transient + n_steps
    X, n_cond, varying = prepare_inputs(model, inputs, total)
    H0 = prepare_states(model, initial_states, n_cond)
    check_memory((8, n_cond, H0.shape[1], n_steps // stride, model.n_state), argument="n_steps",
                 what="the recorded states (n_conditions x n_init x n_steps/stride x n_state)")
    n_init = H0.shape[1]
    n = model.n_state
    H = H0.reshape(n_cond * n_init, n).copy()
    cidx = np.repeat(np.arange(n_cond), n_init)
    n_rec = n_steps // stride
    states = np.full((H.shape[0], n_rec, n), np.nan)
    div = np.full(H.shape[0], -1, dtype=np.int64)
    initial = H.copy()
    for t0, t1, r0, r1 in _segments(n_transient, n_steps, stride, progress):
        Xs = np.ascontiguousarray(X[:, t0:t1]) if varying else X
        live = np.flatnonzero(div < 0)
        if live.size == 0:
            break
        Hl = np.ascontiguousarray(H[live])
        n_tr = max(0, min(t1, n_transient) - t0)
        with compile_progress(progress):  # a bar for the kernels' first-use compilation
            out, d, _ = eng.rollout(model, Hl, Xs, cidx[live], n_tr, t1 - t0 - n_tr, stride,
                                    threshold, r1 - r0, flow=flow, dt=dt, varying=varying)
        H[live] = Hl
        states[live, r0:r1] = out
        hit = d >= 0
        div[live[hit]] = d[hit] + t0
        H[live[hit]] = np.nan
        if t1 == n_transient:
            initial = H.copy()
    times = (n_transient + stride * np.arange(1, n_rec + 1)) * (dt if flow else 1)
    log.debug("simulate: %d trajectories, %d steps, %d diverged", H.shape[0], total,
              int((div >= 0).sum()))
    return Trajectories(
        states=states.reshape(n_cond, n_init, n_rec, n),
        initial=initial.reshape(n_cond, n_init, n),
        diverged=(div >= 0).reshape(n_cond, n_init),
        diverged_at=div.reshape(n_cond, n_init),
        times=np.asarray(times, dtype=float),
        inputs=X,
        time=model.time,
        dt=dt,
        n_transient=n_transient,
        stride=stride,
        divergence_threshold=threshold,
    )


def _segments(n_transient, n_steps, stride, progress):
    """Time segments (t0, t1, r0, r1): the transient in one piece, the record in pieces aligned
    on the stride (several pieces only when a progress bar is shown)."""
    pieces = 20 if progress else 1
    bounds = []
    if n_transient:
        bounds.append((0, n_transient, 0, 0))
    n_rec = n_steps // stride
    cuts = np.unique(np.linspace(0, n_rec, pieces + 1).astype(int))
    for a, b in zip(cuts[:-1], cuts[1:]):
        t0 = n_transient + a * stride
        t1 = n_transient + b * stride if b < n_rec else n_transient + n_steps
        bounds.append((t0, t1, a, b))
    if progress:
        from tqdm.auto import tqdm

        return tqdm(bounds, desc="simulate", unit="segment")
    return bounds
