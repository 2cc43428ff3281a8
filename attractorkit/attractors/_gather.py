"""Gathering the evidence of one recorded orbit: a flat row of numbers (``EVIDENCE_FIELDS``)
from which :func:`attractorkit.attractors.decide` reads the label."""

from __future__ import annotations

import numpy as np

from ..dynamics._poincare import poincare_section
from . import _features as F
from ._thresholds import ClassifierThresholds

__all__ = ["EVIDENCE_FIELDS", "empty_evidence", "empty_row", "gather", "zero_band"]

CURVE_POINTS = 4000  # the curve test reads at most the last this many points

EVIDENCE_FIELDS = (
    "step_size", "recurrence_error", "n_zero", "zero_band", "ring_cv", "shift_spread",
    "gap_ratio", "rotation", "rational_distance", "corr_dim", "line_fraction", "frequency",
    "spread_ratio", "mean_shift", "crossing_rate", "n_section_points", "converging_rate",
    "record_points", "return_ratio", "averaging_time", "curve_connected",
)


def empty_evidence(B) -> dict:
    """Evidence columns of B runs, all unknown (NaN; section kind "none")."""
    ev = {k: np.full(B, np.nan) for k in EVIDENCE_FIELDS}
    ev["section_kind"] = np.full(B, "none", dtype="U6")
    return ev


def empty_row() -> dict:
    """The evidence of one run, all unknown."""
    row = dict.fromkeys(EVIDENCE_FIELDS, np.nan)
    row["section_kind"] = "none"
    return row


def zero_band(lam, se, T, thresholds: ClassifierThresholds):
    """Per exponent: ``max(zero_c / T, 4 stderr, zero_abs)``."""
    return np.maximum(np.maximum(thresholds.zero_c / T,
                                 4.0 * np.nan_to_num(se, nan=np.inf)), thresholds.zero_abs)


def is_curve(connected, ring_cv, shift_spread, gap_ratio, thresholds) -> bool:
    """The curve test's numbers say "rotation on one closed curve"."""
    st = thresholds
    return bool(connected and ring_cv < st.ring_cv and shift_spread < st.shift_spread
                and gap_ratio < st.gap_ratio)


def orbit_sequence(model, X, x, *, flow, dt, thresholds: ClassifierThresholds):
    """Points analysed as 'the section': a map's orbit, or a flow's Poincaré section (plane
    normal to PC2, or PC1 / PC3 when the crossing rate disagrees with the dominant
    frequency). Returns (points, times, crossing-rate ratio, spectral lines of the record's
    first principal component (flows; None for maps))."""
    if not flow:
        return X, np.arange(X.shape[0], dtype=float), np.nan, None
    V = np.asarray(model.step(X, np.broadcast_to(x, (X.shape[0], x.size))), dtype=float)
    lines = F.spectral_lines(F.pc1_series(X))
    f = lines.frequency
    T = X.shape[0] * dt
    best = None
    for pc in (1, 0, 2):
        if pc >= X.shape[1]:
            continue
        try:
            sec = poincare_section(X, pc=pc, dt=dt, velocities=V)
        except ValueError:
            continue
        rate = sec.n_points / T / (f / dt) if f > 0 else np.nan
        if best is None:
            best = (sec, rate)
        if np.isfinite(rate) and abs(rate - 1.0) <= thresholds.rate_tol:
            best = (sec, rate)
            break
    if best is None:
        return np.zeros((0, X.shape[1])), np.zeros(0), np.nan, lines
    return best[0].points, best[0].times, best[1], lines


def gather(model, X, x, lam, se, *, averaging_time, flow, dt,
           thresholds: ClassifierThresholds) -> dict:
    """The evidence row (a dict of ``EVIDENCE_FIELDS`` and ``section_kind``) of the record X
    (n_steps, n) of one run under the constant input x, with its exponents ``lam`` and their
    standard errors ``se`` (None when not computed) averaged over ``averaging_time``.

    The analysed points are a map's orbit, or a flow's Poincaré section (the orbit of its
    first-return map): ``record_points`` of them. Exact recurrences are searched up to half
    their number; whether a period fits often enough is left to the rules."""
    st = thresholds
    row = empty_row()
    row["averaging_time"] = averaging_time
    scale = F.scale_of(X)
    row["step_size"] = np.max(np.abs(X[-1] - X[-2])) / scale
    row["spread_ratio"], row["mean_shift"], spread_x = F.stationarity(X)
    if lam is not None:
        band = zero_band(lam, se, averaging_time, st)
        row["zero_band"] = band[0]
        row["n_zero"] = int(np.sum(np.abs(lam) <= band))
    if not flow:  # coordinates constant over the record (e.g. silent ReLU units) carry no
        # geometry: the distances and principal axes below are the same without them
        moving = np.ptp(X, axis=0) > 0
        if moving.sum() >= 2 and not moving.all():
            X = X[:, moving]
    P, times, rate, lines = orbit_sequence(model, X, x, flow=flow, dt=dt, thresholds=st)
    N = P.shape[0]
    row["crossing_rate"] = rate
    row["n_section_points"] = row["record_points"] = N
    # maps: P is X without its constant coordinates, whose spread is the same
    spread = (spread_x if not flow else F.spread_of(P)) if N else 0.0
    if flow:  # a flow creeping onto a fixed point: its steps shrink
        row["return_ratio"] = F.return_ratio(P, N // 3) if N >= 12 else F.return_ratio(X, 1)
    if N < 3:
        return row
    tol = (st.period_tol if not flow else st.section_tol) * scale
    if spread <= tol and not flow:
        row["section_kind"] = "point"
        return row
    k, err = F.exact_period(P, N // 2, tol)
    row["recurrence_error"] = err / scale
    if spread <= tol:
        k = 1
    if k:
        row["section_kind"] = "points"
        row["n_section_points"] = k
        if flow:
            row["frequency"] = 1.0 / np.mean(times[k:] - times[:-k])
        return row
    if not flow:
        row["return_ratio"] = F.return_ratio(P, N // 3)
    # maps: the orbit is the analysed point set; one principal-axes decomposition of all of it
    # serves the curve test, the spectrum and the correlation dimension
    axes = None if flow else F.pca_axes(P - P.mean(0), 20, solver="full")
    ct = F.curve_test(P, n_max=CURVE_POINTS, axes=axes)
    row["ring_cv"], row["shift_spread"] = ct.ring_cv, ct.shift_spread
    row["gap_ratio"], row["rotation"] = ct.gap_ratio, ct.rotation
    row["curve_connected"] = float(ct.connected)
    if np.isfinite(ct.rotation):
        row["rational_distance"] = F.rational_distance(ct.rotation, st.q_max).distance
    row["section_kind"] = "curve" if is_curve(ct.connected, ct.ring_cv, ct.shift_spread,
                                              ct.gap_ratio, st) else "other"
    # the spectrum of the longer sequence: a map's orbit, a flow's record (section sequences
    # are too short to resolve the lines of a torus of dimension 3)
    row["line_fraction"], row["frequency"] = lines if flow else F.spectral_lines(
        F.pc1_series(P, axes))
    row["corr_dim"] = F.correlation_dimension(X[:: max(1, X.shape[0] // 4000)], axes=axes)
    return row
