"""Evidence gathering and the decision rules of :func:`attractorkit.classify_attractors`.

For every trajectory the evidence is a flat record of numbers (see ``EVIDENCE_FIELDS``); the
label follows from it by fixed rules (``decide``). The rules are written out in
``docs/dynamics.md`` and in the docstring of ``classify_attractors``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._errors import ValidationError
from ..dynamics._engine import numpy_advance
from ..dynamics._poincare import poincare_section
from . import _features as F

FIXED, PERIODIC, QP, CHAOTIC, DIVERGENT, UNDETERMINED = (
    "fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent", "undetermined")
LABELS = (FIXED, PERIODIC, QP, CHAOTIC, DIVERGENT, UNDETERMINED)


@dataclasses.dataclass
class Settings:
    """Thresholds of the decision rules (all relative to the orbit's scale or spread)."""

    fp_tol: float = 1e-9          # step |h_{t+1} - h_t|_inf / scale below this: fixed point
    period_tol: float = 1e-8      # recurrence |h_{t+p} - h_t|_inf / scale: periodic
    section_tol: float = 1e-4     # flows: section points within this (relative) form clusters
    p_max: int = 100              # longest period tested
    zero_c: float = 5.0           # zero band |lambda| <= max(zero_c / T, 4 stderr, zero_abs)
    zero_abs: float = 1e-4
    ring_cv: float = 0.25         # closed curve: eigenmap radius spread below this
    shift_spread: float = 0.02    # closed curve: circular std of rank shifts below this
    gap_ratio: float = 30.0       # closed curve: largest / median angular gap below this
    q_max: int = 20               # rotation numbers within rational_tol of p/q, q <= q_max,
    rational_tol: float = 2e-5    # are treated as resonant (not quasi-periodic)
    line_fraction: float = 0.9    # line spectrum: share of power in the top 5% bins
    dim_tol: float = 0.35         # correlation dimension within this of the torus dimension
    stationary_tol: float = 0.1   # |log spread ratio| and mean shift / spread of the halves
    rate_tol: float = 0.15        # flows: crossings per time vs dominant frequency


def settings(thresholds) -> Settings:
    """Settings with the overrides of ``thresholds`` (a dict of field names) applied."""
    st = Settings()
    if thresholds is None:
        return st
    if not isinstance(thresholds, dict):
        raise ValidationError(f"thresholds: expected a dict, received {type(thresholds).__name__}")
    names = {f.name for f in dataclasses.fields(st)}
    for k, v in thresholds.items():
        if k not in names:
            raise ValidationError(f"thresholds: unknown name {k!r}; known: {sorted(names)}")
        setattr(st, k, type(getattr(st, k))(v))
    return st


EVIDENCE_FIELDS = (
    "step_size", "recurrence_error", "n_zero", "zero_band", "ring_cv", "shift_spread",
    "gap_ratio", "rotation", "rational_distance", "corr_dim", "line_fraction", "frequency",
    "spread_ratio", "mean_shift", "crossing_rate", "n_section_points", "converging_rate",
)


def empty_evidence(B):
    ev = {k: np.full(B, np.nan) for k in EVIDENCE_FIELDS}
    ev["section_kind"] = np.full(B, "none", dtype="U6")
    return ev


def zero_band(lam, se, T, st: Settings):
    return np.maximum(np.maximum(st.zero_c / T, 4.0 * np.nan_to_num(se, nan=np.inf)),
                      st.zero_abs)


def orbit_sequence(model, X, flow, dt, st: Settings, cidx_x):
    """Points analysed as 'the section': a map's orbit, or a flow's Poincaré section (plane
    normal to PC2, or PC1 / PC3 when the crossing rate disagrees with the dominant
    frequency). Returns (points, times, crossing-rate ratio)."""
    if not flow:
        return X, np.arange(X.shape[0], dtype=float), np.nan
    V = np.asarray(model.step(X, np.broadcast_to(cidx_x, (X.shape[0], cidx_x.size))),
                   dtype=float)
    frac, f = F.spectral_lines(F.pc1_series(X))
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
        if np.isfinite(rate) and abs(rate - 1.0) <= st.rate_tol:
            best = (sec, rate)
            break
    if best is None:
        return np.zeros((0, X.shape[1])), np.zeros(0), np.nan
    return best[0].points, best[0].times, best[1]


def gather(model, X, x, lam, se, T, flow, dt, st: Settings, ev, i):
    """Fill evidence row i from the record X (n_steps, n) of one trajectory."""
    scale = F.scale_of(X)
    ev["step_size"][i] = np.max(np.abs(X[-1] - X[-2])) / scale
    if not flow:
        p, err = F.exact_period(X, st.p_max, st.period_tol * scale)
        ev["recurrence_error"][i] = err / scale
    ev["spread_ratio"][i], ev["mean_shift"][i], spread_x = F.stationarity(X, with_spread=True)
    if lam is not None:
        band = zero_band(lam, se, T, st)
        ev["zero_band"][i] = band[0]
        ev["n_zero"][i] = int(np.sum(np.abs(lam) <= band))
    if not flow:  # coordinates constant over the record (e.g. silent ReLU units) carry no
        # geometry: the distances and principal axes below are the same without them
        moving = np.ptp(X, axis=0) > 0
        if moving.sum() >= 2 and not moving.all():
            X = X[:, moving]
    P, times, rate = orbit_sequence(model, X, flow, dt, st, x)
    ev["crossing_rate"][i] = rate
    ev["n_section_points"][i] = P.shape[0]
    # maps: P is X without its constant coordinates, whose spread is the same
    spread = (spread_x if not flow else F.spread_of(P)) if P.shape[0] else 0.0
    if P.shape[0] < 3:
        ev["section_kind"][i] = "none"
        return
    tol = (st.period_tol if not flow else st.section_tol) * scale
    if spread <= tol and not flow:
        ev["section_kind"][i] = "point"
        return
    k, _ = F.exact_period(P, min(st.p_max, P.shape[0] // 3), tol)
    if spread <= tol:
        k = 1
    if k:
        ev["section_kind"][i] = "points"
        ev["n_section_points"][i] = k
        if flow:
            ev["frequency"][i] = 1.0 / np.mean(times[k:] - times[:-k])
        return
    # maps: the orbit is the analysed point set; one principal-axes decomposition of all of it
    # serves the curve test, the spectrum and the correlation dimension
    axes = None if flow else F.pca_axes(P - P.mean(0), 20, solver="full")
    ct = F.curve_test(P, axes=axes)
    ev["ring_cv"][i], ev["shift_spread"][i] = ct["ring_cv"], ct["shift_spread"]
    ev["gap_ratio"][i], ev["rotation"][i] = ct["gap_ratio"], ct["rotation"]
    if np.isfinite(ct["rotation"]):
        ev["rational_distance"][i] = F.rational_distance(ct["rotation"], st.q_max)[0]
    curve = (ct["connected"] and ct["ring_cv"] < st.ring_cv
             and ct["shift_spread"] < st.shift_spread and ct["gap_ratio"] < st.gap_ratio)
    ev["section_kind"][i] = "curve" if curve else "other"
    ev["line_fraction"][i], fr = F.spectral_lines(F.pc1_series(P, axes))
    ev["frequency"][i] = fr
    ev["corr_dim"][i] = F.correlation_dimension(X[:: max(1, X.shape[0] // 4000)], axes=axes)


def polish(model, h, x, p, flow, n_iter=8):
    """Newton on F^p(h) - h (maps) or F(h) (flows) from h; returns (h*, residual, stable)."""
    n = h.size
    x2 = x[None, :]
    h = h.copy()[None, :]
    res = np.inf
    with np.errstate(all="ignore"):
        for k in range(n_iter):
            g, M = _compose(model, h, x2, p, flow)
            new = float(np.max(np.abs(g)))
            if not np.isfinite(new) or new > 10 * res:
                return h[0], np.inf, False
            if k == 0:
                first = new
            elif k >= 3 and new > 0.5 * first:  # not converging quadratically: give up
                return h[0], new, False
            res = new
            A = M if flow else M - np.eye(n)
            try:
                dh = np.linalg.solve(A, g[0])
            except np.linalg.LinAlgError:
                dh = np.linalg.lstsq(A, g[0], rcond=None)[0]
            h = h - dh[None, :]
            if np.max(np.abs(dh)) <= 1e-13 * (1.0 + np.max(np.abs(h))):
                break
        g, M = _compose(model, h, x2, p, flow)
        res = float(np.max(np.abs(g)))
        if flow:
            stable = bool(np.max(np.linalg.eigvals(M).real) < 0)
        else:  # rows of M that vanish (silent ReLU units) only add eigenvalues 0
            keep = np.flatnonzero(np.any(M != 0, axis=1))
            stable = keep.size == 0 or bool(
                np.max(np.abs(np.linalg.eigvals(M[np.ix_(keep, keep)]))) < 1)
    return h[0], res, stable


def _compose(model, h, x, p, flow):
    """(F^p(h) - h, d F^p / dh) for maps, (F(h), dF/dh) for flows. Jacobian rows that vanish
    (silent ReLU units) are skipped in the products."""
    if flow:
        return np.asarray(model.step(h, x)), np.asarray(model.jacobian(h, x))[0]
    M = None
    y = h
    for _ in range(p):
        J = np.asarray(model.jacobian(y, x), dtype=float)[0]
        if M is None:
            M = J
        else:
            rows = np.flatnonzero(np.any(J != 0, axis=1))
            P = np.zeros_like(M)
            P[rows] = J[rows] @ M
            M = P
        y = numpy_advance(model, y, x, False, None)
    return y - h, M


def approaching(X, flow, st: Settings) -> bool:
    """Does the record still approach a fixed point or a cycle? The return distances
    |h_{t+p} - h_t|_inf, at p = 1 and (maps) the two periods p <= 30 with the closest last
    returns, shrink along the record: their quarter medians strictly decrease and the last is
    below 0.7 of the first. On an attractor they are stationary instead (a quasi-periodic
    orbit's near-returns, a cycle above the candidate periods)."""
    spread = F.spread_of(X)
    cands = {1}
    if not flow:
        e = F.last_returns(X, min(st.p_max, 30))
        cands |= {int(j) + 1 for j in np.argsort(e)[:2] if e[j] <= 0.2 * max(spread, 1e-300)}
    for p in sorted(cands):
        if X.shape[0] < p + 8:
            continue
        d = np.max(np.abs(X[p:] - X[:-p]), axis=1)
        q = d.size // 4
        quarters = [np.median(d[k * q:(k + 1) * q]) for k in range(4)]
        if quarters[-1] < 0.7 * quarters[0] and \
                all(a > b for a, b in zip(quarters[:-1], quarters[1:])):
            return True
    return False


def converging(model, X, x, flow, st: Settings):
    """Slow approach to a fixed point or periodic orbit: Newton-polish a candidate near the end
    of the record and check it is attracting and approached. Returns (p, h*, rate) or None."""
    scale = F.scale_of(X)
    spread = F.spread_of(X)
    if flow:
        cands = [1]
    else:
        # Newton on F^p costs p n^3 per iteration: candidate periods up to 30
        e = F.last_returns(X, min(st.p_max, 30))
        order = np.argsort(e)[:2]
        cands = [int(j) + 1 for j in order if e[j] <= 0.2 * max(spread, 1e-300)]
        if 1 not in cands:
            cands.append(1)
    for p in sorted(set(cands)):
        hs, res, stable = polish(model, X[-1], x, p, flow)
        if not (res <= 1e-9 * scale and stable):
            continue
        # phase-matched distances from the record to h* must shrink
        d = np.max(np.abs(X[::-1][::p] - hs), axis=1)[::-1]
        if d.size < 8 or not np.all(np.isfinite(d)):
            continue
        q = d.size // 4
        quarters = [np.median(d[k * q:(k + 1) * q]) for k in range(4)]
        first, last = quarters[0], quarters[-1]
        if last < 0.7 * first and all(a > b for a, b in zip(quarters[:-1], quarters[1:])):
            steps = (d.size - q) * p
            rate = float(np.exp(np.log(max(last, 1e-300) / first) / steps)) if first > 0 else 0.0
            return p, hs, rate
    return None


def decide(ev, i, lam, flow, st: Settings, slow):
    """(label, period-or-NaN, torus_dim, confidence, reason) for evidence row i."""
    kind = ev["section_kind"][i]
    lam1 = lam[0] if lam is not None and lam.size else np.nan
    band = ev["zero_band"][i]
    has_lam = np.isfinite(lam1)
    single = kind == "points" and not flow and ev["n_section_points"][i] == 1
    if ev["step_size"][i] <= st.fp_tol or kind == "point" or single:
        if has_lam and lam1 > band:
            return UNDETERMINED, np.nan, 0, 0.0, "settled to a point but lambda1 > 0"
        return FIXED, np.nan, 0, 1.0, "step below tolerance"
    # an exact recurrence needs a period that holds over a whole window of the orbit
    # ("points"); a single close return (recurrence_error <= period_tol with no period found,
    # e.g. a slow spiral near its fixed point) is not one
    if not flow and kind == "points" and np.isfinite(ev["recurrence_error"][i]) and \
            ev["recurrence_error"][i] <= st.period_tol:
        p = int(ev["n_section_points"][i])
        if has_lam and lam1 > band:
            return UNDETERMINED, np.nan, 0, 0.0, "exact recurrence but lambda1 > 0"
        return PERIODIC, float(p), 0, 1.0, f"exact recurrence with period {p}"
    if kind == "points" and flow:
        lam2 = lam[1] if lam is not None and lam.size > 1 else -np.inf
        if has_lam and abs(lam1) > band:
            return UNDETERMINED, np.nan, 0, 0.0, "section clusters but lambda1 is not ~ 0"
        conf = 1.0 if lam2 < -band else 0.75  # lambda2 ~ 0: a resonant torus of cycles
        return (PERIODIC, 1.0 / ev["frequency"][i], 0, conf,
                f"{int(ev['n_section_points'][i])} section cluster(s)")
    if slow is not None:
        p, _, rate = slow
        if has_lam and lam1 > band:
            return UNDETERMINED, np.nan, 0, 0.0, "converging orbit but lambda1 > 0"
        conf = 0.8 if (not has_lam or lam1 < 0) else 0.6
        if p == 1:
            return FIXED, np.nan, 0, conf, f"slow convergence (rate {rate:.4g}/step)"
        return PERIODIC, float(p), 0, conf, f"slow convergence to period {p}"
    if not has_lam:
        return UNDETERMINED, np.nan, 0, 0.0, "no exponents"
    if lam1 > band:
        return _chaos(ev, i, lam1, band, st)
    if lam1 >= -band:
        return _quasi_periodic(ev, i, flow, st)
    return UNDETERMINED, np.nan, 0, 0.0, "contracting (lambda1 < 0) but not settled"


def _chaos(ev, i, lam1, band, st):
    kind = ev["section_kind"][i]
    if kind in ("curve", "points", "point"):
        return UNDETERMINED, np.nan, 0, 0.0, f"lambda1 > 0 but the section is a {kind}"
    lf = ev["line_fraction"][i]
    if np.isfinite(lf) and lf >= st.line_fraction:
        return UNDETERMINED, np.nan, 0, 0.0, "lambda1 > 0 but a line spectrum"
    checks = [lam1 > 3 * band, not np.isfinite(lf) or lf < 0.7, kind == "other"]
    return CHAOTIC, np.nan, 0, float(np.mean(checks)), "lambda1 > 0, broadband, no curve"


def _quasi_periodic(ev, i, flow, st):
    d = int(ev["n_zero"][i])
    fails = []
    if d < (2 if flow else 1):
        fails.append(f"{d} zero exponent(s)")
    if d > (3 if flow else 2):
        fails.append(f"{d} zero exponents (tori above dimension {3 if flow else 2} are not "
                     "confirmed geometrically)")
    if abs(np.log(max(ev["spread_ratio"][i], 1e-300))) > st.stationary_tol or \
            ev["mean_shift"][i] > st.stationary_tol:
        fails.append("non-stationary")
    D = ev["corr_dim"][i]
    if not (np.isfinite(D) and abs(D - d) <= st.dim_tol):
        fails.append(f"correlation dimension {D:.2f} vs {d}")
    lf = ev["line_fraction"][i]
    if not (np.isfinite(lf) and lf >= st.line_fraction):
        fails.append("no line spectrum")
    if d == (2 if flow else 1):
        if ev["section_kind"][i] != "curve":
            fails.append(f"section is {ev['section_kind'][i]}, not a closed curve")
        elif not ev["rational_distance"][i] > st.rational_tol:
            fails.append("rotation number near a low-order rational")
    if flow and not abs(ev["crossing_rate"][i] - 1.0) <= st.rate_tol:
        fails.append("crossing rate disagrees with the dominant frequency")
    if fails:
        return UNDETERMINED, np.nan, 0, 0.0, "lambda1 ~ 0 but " + "; ".join(fails)
    conf = float(np.mean([ev["shift_spread"][i] < st.shift_spread / 4 if d == (2 if flow else 1)
                          else True, abs(D - d) < st.dim_tol / 2, lf > 0.97]))
    what = "invariant curve" if d == (2 if flow else 1) else f"dimension {D:.2f}"
    return QP, np.nan, d, 0.5 + 0.5 * conf, f"{d} zero exponent(s), {what}"
