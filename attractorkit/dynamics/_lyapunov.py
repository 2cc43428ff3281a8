"""Lyapunov spectra by QR re-orthonormalisation of streamed tangent vectors (Benettin et al.)."""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np

from .._kernels.compiling import compile_progress
from ..core._budget import check_memory
from ..core._errors import ConvergenceWarning, ValidationError
from ..core._prepare import check_model_arg, prepare_inputs, prepare_states
from ..core._results import Result
from ..core._validation import as_rng, check_bool, check_int, check_positive
from . import _engine as eng

__all__ = ["lyapunov_spectrum", "LyapunovSpectrum"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
class LyapunovSpectrum(Result):
    """Lyapunov exponents per condition and initial state.

    Attributes
    ----------
    exponents : ndarray of shape (n_conditions, n_init, n_exponents)
        Sorted descending; per step for maps, per unit time for flows; NaN if diverged.
    windows : ndarray of shape (n_conditions, n_init, n_windows, n_exponents)
        The exponents averaged over consecutive windows of the run (a running picture of
        convergence).
    stderr : ndarray of shape (n_conditions, n_init, n_exponents)
        Standard error of the mean from the window estimates (std / sqrt(n_windows - 1)).
    diverged : ndarray of bool, shape (n_conditions, n_init)
    final_states : ndarray of shape (n_conditions, n_init, n_state)
    averaging_time : float
        Steps (maps) or model time (flows) over which the exponents are averaged.
    time, n_steps, n_transient, qr_every
    """

    exponents: np.ndarray
    windows: np.ndarray
    stderr: np.ndarray
    diverged: np.ndarray
    final_states: np.ndarray
    averaging_time: float
    time: str
    n_steps: int
    n_transient: int
    qr_every: int

    @property
    def kaplan_yorke(self) -> np.ndarray:
        """Kaplan-Yorke dimension per run (from the computed exponents only)."""
        lam = self.exponents
        cs = np.cumsum(lam, axis=-1)
        out = np.full(lam.shape[:2], np.nan)
        for idx in np.ndindex(*lam.shape[:2]):
            c = cs[idx]
            if not np.isfinite(c).all():
                continue
            j = int(np.sum(c >= 0))
            if j == 0:
                out[idx] = 0.0
            elif j >= c.size:
                out[idx] = float(c.size)
            else:
                out[idx] = j + c[j - 1] / abs(lam[idx][j])
        return out

    def summary(self) -> str:
        c, i, m = self.exponents.shape
        unit = "per step" if self.time == "discrete" else "per unit time"
        lines = [
            f"LyapunovSpectrum: {c} condition(s) x {i} initial state(s), {m} exponent(s) {unit}, "
            f"averaged over {self.averaging_time:g}; {int(self.diverged.sum())} diverged"
        ]
        ok = ~self.diverged
        if ok.any():
            mean = np.nanmean(self.exponents[ok], axis=0)
            se = np.nanmax(self.stderr[ok], axis=0)
            shown = ", ".join(f"{v:.4g}±{s:.1g}" for v, s in zip(mean[:6], se[:6]))
            lines.append(f"  mean spectrum: {shown}{' ...' if m > 6 else ''}")
        return "\n".join(lines)

    def plot(self, *, condition=None, ax=None):
        """Exponent spectrum (index vs value; one line per run, or the given condition only).
        Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        lam = self.exponents if condition is None else self.exponents[[condition]]
        idx = np.arange(1, lam.shape[-1] + 1)
        for run in lam.reshape(-1, lam.shape[-1]):
            ax.plot(idx, run, "o-", ms=3, lw=0.8, alpha=0.7)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xlabel("index i")
        ax.set_ylabel("λ_i " + ("(per step)" if self.time == "discrete" else "(per unit time)"))
        return ax


def lyapunov_spectrum(model, initial_states, inputs, *, n_exponents=None, n_steps=10_000,
                      n_transient=1_000, qr_every=1, n_windows=10, align_fraction=0.1,
                      divergence_threshold=eng.DEFAULT_THRESHOLD, rng=None,
                      progress=False) -> LyapunovSpectrum:
    """Lyapunov exponents by QR (Benettin / Shimada-Nagashima) over streamed Jacobians.

    After ``n_transient`` state-only steps, ``n_exponents`` tangent vectors (a random
    orthonormal frame) are propagated with the Jacobian of each step (flows: the variational
    equation integrated by the same RK4 stages as the state) and re-orthonormalised every
    ``qr_every`` steps; log |R_ii| is averaged after discarding the first ``align_fraction`` of
    the run, while the vectors align. Jacobians are never stored. Kernel models run in numba
    (``prange`` over runs; single-layer vanilla maps with one BLAS product per step for all
    states and tangent vectors), others batched in numpy through ``model.jacobian``.

    Parameters
    ----------
    model : Model
    initial_states : array_like of shape (n_state,), (n_init, n_state) or
        (n_conditions, n_init, n_state)
    inputs : array_like of shape (n_input,) or (n_conditions, n_input), or None
        Constant inputs (one condition per row).
    n_exponents : int, optional
        How many leading exponents (default: all ``n_state``). Cost is O(n_state^2 m) per step.
    n_steps : int, default 10000
        Steps with tangent vectors (flows: the averaging time is ``n_steps * dt``).
    n_transient : int, default 1000
        State-only steps first.
    qr_every : int, default 1
        Steps between re-orthonormalisations (raise it for flows with small dt).
    n_windows : int, default 10
        Windows for the running estimates and the standard error.
    align_fraction : float, default 0.1
        Fraction of ``n_steps`` discarded while the tangent frame aligns.
    rng : None, int or Generator
        Seeds the random initial frame.
    progress : bool, default False
        Log the size of the run at INFO level before it starts (the run is one kernel call,
        so there is no per-step bar).

    Returns
    -------
    LyapunovSpectrum

    Warns
    -----
    ConvergenceWarning
        When some runs diverged (their exponents are NaN), with the count.

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> spec = ak.lyapunov_spectrum(VanillaRNN(np.diag([0.5, 0.25]), activation="identity"),
    ...                             np.ones(2), None, n_steps=200, n_transient=0)
    >>> np.round(np.exp(spec.exponents[0, 0]), 6)
    array([0.5 , 0.25])
    """
    flow, dt = check_model_arg(model)
    n = int(model.n_state)
    m = n if n_exponents is None else check_int("n_exponents", n_exponents, minimum=1,
                                                maximum=n)
    n_steps = check_int("n_steps", n_steps, minimum=2)
    n_transient = check_int("n_transient", n_transient, minimum=0)
    qr_every = check_int("qr_every", qr_every, minimum=1, maximum=n_steps)
    n_windows = check_int("n_windows", n_windows, minimum=1)
    frac = check_positive("align_fraction", align_fraction, strict=False)
    if not 0.0 <= frac < 1.0:
        raise ValidationError(f"align_fraction: expected a number in [0, 1), received "
                              f"{align_fraction!r}")
    threshold = check_positive("divergence_threshold", divergence_threshold)
    n_skip = -(-int(frac * n_steps) // qr_every) * qr_every
    if n_steps - n_skip < n_windows * qr_every:
        raise ValidationError(
            f"n_steps: {n_steps} steps leave {n_steps - n_skip} after alignment, fewer than "
            f"n_windows * qr_every = {n_windows * qr_every}; raise n_steps"
        )
    X, n_cond, varying = prepare_inputs(model, inputs, None, allow_varying=False)
    H0 = prepare_states(model, initial_states, n_cond)
    check_memory((8, n_cond, H0.shape[1], n, n + m + n_windows), argument="initial_states",
                 what="the tangent frames and Jacobians (n_conditions x n_init x n_state^2)")
    n_init = H0.shape[1]
    H = H0.reshape(-1, n).copy()
    cidx = np.repeat(np.arange(n_cond), n_init)
    Q0 = eng.random_frames(H.shape[0], n, m, as_rng(rng))
    progress = check_bool("progress", progress)
    if progress:
        log.info("lyapunov_spectrum: %d runs x %d steps", H.shape[0], n_transient + n_steps)
    with compile_progress(progress):  # a bar for the kernels' first-use compilation
        logsum, wins, div, _ = eng.lyapunov(model, H, X, cidx, Q0, n_transient, n_steps, n_skip,
                                            qr_every, n_windows, threshold, 0, flow=flow, dt=dt,
                                            varying=varying)
    return package(logsum, wins, div, H, n_cond, n_init, n_steps, n_skip, qr_every, n_windows,
                   flow, dt, model.time, n_transient)


def package(logsum, wins, div, H, n_cond, n_init, n_steps, n_skip, qr_every, n_windows, flow,
            dt, time, n_transient, warn=True) -> LyapunovSpectrum:
    """Normalise the accumulated logs into a :class:`LyapunovSpectrum` (shared with classify)."""
    unit = dt if flow else 1.0
    steps = eng.window_steps(n_steps, n_skip, qr_every, n_windows)
    total = steps.sum()
    diverged = (div >= 0) | np.isnan(logsum).any(axis=1)  # a NaN Jacobian fails the run too
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = logsum / (total * unit)
        w = wins / (np.where(steps > 0, steps, np.nan)[None, :, None] * unit)
    lam[diverged] = np.nan
    w[diverged] = np.nan
    order = np.argsort(-np.nan_to_num(lam, nan=-np.inf), axis=1, kind="stable")
    lam = np.take_along_axis(lam, order, axis=1)
    w = np.take_along_axis(w, order[:, None, :], axis=2)
    valid = np.isfinite(w).all(axis=2).sum(axis=1)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        se = np.nanstd(w, axis=1) / np.sqrt(np.maximum(valid - 1, 1))[:, None]
    m = lam.shape[1]
    if warn and diverged.any():
        warnings.warn(
            f"lyapunov_spectrum: {int(diverged.sum())} of {diverged.size} runs diverged; their "
            "exponents are NaN",
            ConvergenceWarning,
            stacklevel=3,
        )
    Hf = H.copy()
    Hf[diverged] = np.nan
    return LyapunovSpectrum(
        exponents=lam.reshape(n_cond, n_init, m),
        windows=w.reshape(n_cond, n_init, n_windows, m),
        stderr=se.reshape(n_cond, n_init, m),
        diverged=diverged.reshape(n_cond, n_init),
        final_states=Hf.reshape(n_cond, n_init, -1),
        averaging_time=float(total * unit),
        time=time,
        n_steps=int(n_steps),
        n_transient=int(n_transient),
        qr_every=int(qr_every),
    )
