"""The decision rules of :func:`attractorkit.classify_attractors` — from the evidence of one run
to a :class:`Decision` — and the Newton checks that tell a slow transient from an attractor.

The rules are written out in ``docs/dynamics.md`` and in the docstring of
``classify_attractors``; their thresholds are :class:`ClassifierThresholds`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import _features as F
from ._gather import is_curve, zero_band
from ._thresholds import as_thresholds

__all__ = ["Decision", "SlowApproach", "decide", "approaching", "converging", "LABELS",
           "FIXED", "PERIODIC", "QP", "CHAOTIC", "DIVERGENT", "UNDETERMINED"]

FIXED, PERIODIC, QP, CHAOTIC, DIVERGENT, UNDETERMINED = (
    "fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent", "undetermined")
LABELS = (FIXED, PERIODIC, QP, CHAOTIC, DIVERGENT, UNDETERMINED)


@dataclasses.dataclass(frozen=True)
class Decision:
    """The label of one run and why.

    Attributes
    ----------
    label : str
        One of ``LABELS``.
    period : float
        Steps (maps) or model time (flows) of a periodic orbit; NaN otherwise.
    torus_dim : int
        Dimension of the torus of a quasi-periodic orbit; 0 otherwise.
    confidence : float
        In [0, 1]; 0 for ``undetermined``.
    reason : str
        One line on why the label was given or refused.
    """

    label: str
    period: float = np.nan
    torus_dim: int = 0
    confidence: float = 0.0
    reason: str = ""


def _undetermined(reason) -> Decision:
    return Decision(UNDETERMINED, reason=reason)


@dataclasses.dataclass(frozen=True)
class SlowApproach:
    """A slow approach confirmed by Newton: the period (1: a fixed point), the polished point
    and the contraction per step of the distances to it."""

    period: int
    point: np.ndarray
    rate: float


def polish(model, h, x, p, flow, n_iter=8):
    """Newton on F^p(h) - h (maps) or F(h) (flows) from h, with the package's one Newton /
    Levenberg-Marquardt solver on the p-th iterate; returns (h*, residual, stable)."""
    from ..fixed_points._newton import solve
    from ..systems import Iterate

    x2 = np.ascontiguousarray(x[None, :], dtype=float)
    F = model if flow or p == 1 else Iterate(model, p)
    with np.errstate(all="ignore"):
        sol = solve(F, np.array(h, float)[None, :], x2, tol=1e-13, max_iter=n_iter)
        hs = sol.points[0]
        if not np.all(np.isfinite(hs)) or sol.status[0] == "diverged":
            return h.copy(), np.inf, False
        g, M = _compose(model, hs[None, :], x2, p, flow)
        res = float(np.max(np.abs(g)))
        if not np.isfinite(res) or not np.all(np.isfinite(M)):
            return hs, np.inf, False
        if flow:
            stable = bool(np.max(np.linalg.eigvals(M).real) < 0)
        else:  # rows of M that vanish (silent ReLU units) only add eigenvalues 0
            keep = np.flatnonzero(np.any(M != 0, axis=1))
            stable = keep.size == 0 or bool(
                np.max(np.abs(np.linalg.eigvals(M[np.ix_(keep, keep)]))) < 1)
    return hs, res, stable


def _compose(model, h, x, p, flow):
    """(F^p(h) - h, d F^p / dh) for maps, (F(h), dF/dh) for flows: the p-th iterate and its
    chain-rule Jacobian (:class:`attractorkit.systems.Iterate`, which skips the Jacobian rows
    that vanish, as of silent ReLU units)."""
    from ..systems import Iterate

    if flow:
        return np.asarray(model.step(h, x)), np.asarray(model.jacobian(h, x))[0]
    y, M = Iterate(model, p).step_and_jacobian(h, x)
    return y - h, M[0]


def approaching(X, *, flow=False) -> bool:
    """Does the record X (n_steps, n) still approach a fixed point or a cycle? The return
    distances |h_{t+p} - h_t|_inf, at p = 1 and (maps) the three periods p <= n_steps / 3 with
    the closest last returns, shrink along the record: their quarter medians strictly decrease
    and the last is below 0.7 of the first (:func:`return_ratio`). On an attractor they are
    stationary instead (a quasi-periodic orbit's near-returns, a cycle longer than the
    candidates)."""
    return F.return_ratio(X, 1 if flow else X.shape[0] // 3) < 0.7


def converging(model, X, x, *, flow):
    """Slow approach to a fixed point or periodic orbit: Newton-polish a candidate near the end
    of the record X under the constant input x and check it is attracting and approached.
    Returns a :class:`SlowApproach` or None."""
    scale = F.scale_of(X)
    spread = F.spread_of(X)
    if flow:
        cands = [1]
    else:
        # Newton on F^p costs p n^3 per iteration: candidate periods up to 30
        e = F.last_returns(X, 30)
        order = np.argsort(e)[:2]
        cands = [int(j) + 1 for j in order if e[j] <= 0.2 * max(spread, 1e-300)]
        if 1 not in cands:
            cands.append(1)
    for p in sorted(set(cands)):
        if F.shrink_ratio(X, p) >= 0.7:  # its returns do not shrink: Newton would be wasted
            continue
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
            return SlowApproach(p, hs, rate)
    return None


def decide(evidence, lyapunov=None, *, stderr=None, flow=False, thresholds=None,
           slow: SlowApproach | None = None) -> Decision:
    """The label of one run from its evidence, by the rules of
    :func:`attractorkit.classify_attractors` (rules 2-7; divergence is decided by the
    simulation).

    Parameters
    ----------
    evidence : mapping
        The run's evidence: the fields of :class:`attractorkit.attractors.Evidence` (scalars;
        e.g. ``Attractors.evidence.row(c, i)``); missing numbers count as unknown (NaN).
    lyapunov : array_like, optional
        The run's leading exponents, sorted descending (None: not computed).
    stderr : array_like, optional
        Their standard errors: with the evidence's ``averaging_time``, the zero band and the
        number of zero exponents are recomputed under ``thresholds`` (else the evidence's are
        used).
    flow : bool
        A flow: the evidence is that of its Poincaré section (the orbit of the first-return
        map), and its exponents hold the flow direction's zero exponent.
    thresholds : ClassifierThresholds or dict, optional
    slow : SlowApproach, optional
        A slow approach confirmed by Newton (:func:`converging`).

    Returns
    -------
    Decision
    """
    st = as_thresholds(thresholds)
    lam = None if lyapunov is None else np.asarray(lyapunov, dtype=float)
    ev = _Row(evidence, lam, stderr, st)
    kind = ev["section_kind"]
    lam1 = lam[0] if lam is not None and lam.size else np.nan
    band = ev["zero_band"]
    has_lam = np.isfinite(lam1)
    single = kind == "points" and not flow and ev["n_section_points"] == 1
    if ev["step_size"] <= st.fp_tol or kind == "point" or single:
        if has_lam and lam1 > band:
            return _undetermined("settled to a point but lambda1 > 0")
        return Decision(FIXED, confidence=1.0, reason="step below tolerance")
    if kind == "points":
        return _recurrence(ev, lam, flow, st)
    if slow is not None:
        if has_lam and lam1 > band:
            return _undetermined("converging orbit but lambda1 > 0")
        conf = 0.8 if (not has_lam or lam1 < 0) else 0.6
        if slow.period == 1:
            return Decision(FIXED, confidence=conf,
                            reason=f"slow convergence (rate {slow.rate:.4g}/step)")
        return Decision(PERIODIC, float(slow.period), confidence=conf,
                        reason=f"slow convergence to period {slow.period}")
    if not has_lam:
        return _undetermined("no exponents")
    n_pts = ev["record_points"]
    few = flow and not n_pts >= st.min_section_points
    if lam1 > band and not (few and lam1 <= 3 * band):
        return _chaos(ev, lam1, band, st)
    if few:
        return _undetermined(f"{_count(n_pts)} section points (fewer than "
                             f"{st.min_section_points})")
    if lam1 >= -band:
        return _quasi_periodic(ev, flow, st)
    return _undetermined("contracting (lambda1 < 0) but not settled")


def _count(x):
    return int(x) if np.isfinite(x) else 0


def _recurrence(ev, lam, flow, st):
    """An exact recurrence: a map's orbit (or a flow's section) repeats with period k."""
    k = int(ev["n_section_points"])
    n_pts = ev["record_points"]
    lam1 = lam[0] if lam is not None and lam.size else np.nan
    band = ev["zero_band"]
    if not flow and not ev["recurrence_error"] <= st.period_tol:
        return _undetermined("close return without an exact period")
    if np.isfinite(lam1) and (abs(lam1) > band if flow else lam1 > band):
        return _undetermined("section clusters but lambda1 is not ~ 0" if flow else
                             "exact recurrence but lambda1 > 0")
    what = "section point(s)" if flow else "steps"
    if np.isfinite(n_pts) and n_pts < st.min_repeats * k:
        return _undetermined(f"recurrence with period {k} fits {n_pts / k:.1f} times in "
                             f"{int(n_pts)} {what} (fewer than {st.min_repeats})")
    if flow:
        lam2 = lam[1] if lam is not None and lam.size > 1 else -np.inf
        conf = 1.0 if lam2 < -band else 0.95  # lambda2 ~ 0: a resonant torus of cycles
        return Decision(PERIODIC, 1.0 / ev["frequency"], confidence=conf,
                        reason=f"{k} section cluster(s), repeated {n_pts / k:.0f} times")
    return Decision(PERIODIC, float(k), confidence=1.0,
                    reason=f"exact recurrence with period {k}")


class _Row:
    """Read access to one run's evidence: unknown numbers are NaN, the kind "none". The parts
    that follow from stored numbers by a threshold are derived under ``thresholds``: the zero
    band and the zero exponents (given the exponents' standard errors), whether the section
    is a closed curve, the rotation number's distance to p/q with q <= q_max."""

    def __init__(self, evidence, lam, stderr, thresholds):
        self.ev = evidence
        self.derived = {}
        st = thresholds
        T = self._get("averaging_time")
        if lam is not None and lam.size and stderr is not None and np.isfinite(T):
            band = zero_band(lam, np.asarray(stderr, dtype=float), T, st)
            self.derived["zero_band"] = float(band[0])
            self.derived["n_zero"] = float(np.sum(np.abs(lam) <= band))
        if self._kind() in ("curve", "other") and np.isfinite(self._get("ring_cv")):
            self.derived["section_kind"] = "curve" if is_curve(
                self._get("curve_connected") > 0.5, self._get("ring_cv"),
                self._get("shift_spread"), self._get("gap_ratio"), st) else "other"
        rho = self._get("rotation")
        if np.isfinite(rho):
            self.derived["rational_distance"] = F.rational_distance(rho, st.q_max).distance

    def _raw(self, key):
        return self.ev.get(key) if hasattr(self.ev, "get") else self.ev[key]

    def _get(self, key):
        v = self._raw(key)
        return np.nan if v is None else float(v)

    def _kind(self):
        v = self._raw("section_kind")
        return "none" if v is None else str(v)

    def __getitem__(self, key):
        if key in self.derived:
            return self.derived[key]
        return self._kind() if key == "section_kind" else self._get(key)


def _stationary(ev, tol) -> bool:
    """The record's halves agree: |log spread ratio| and mean shift / spread <= tol."""
    return abs(np.log(max(ev["spread_ratio"], 1e-300))) <= tol and ev["mean_shift"] <= tol


def _chaos(ev, lam1, band, st):
    kind = ev["section_kind"]
    if kind in ("curve", "points", "point"):
        return _undetermined(f"lambda1 > 0 but the section is a {kind}")
    # a chaotic orbit's halves differ more than a torus' (slow switching between lobes); a
    # chaotic transient that ends in the record changes its spread by far more than this
    if not _stationary(ev, 3 * st.stationary_tol):
        return _undetermined("lambda1 > 0 but the record is not stationary")
    strong = lam1 > 3 * band
    return Decision(CHAOTIC, confidence=0.95 if strong else 0.7,
                    reason=f"lambda1 = {lam1:.3g} > {'3 x ' if strong else ''}zero band "
                    f"{band:.2g}, no curve, no recurrence")


def _quasi_periodic(ev, flow, st):
    d = int(ev["n_zero"])
    n_pts = ev["record_points"]
    curve_dim = 2 if flow else 1  # the torus whose section is a closed curve
    fails = []
    if d < curve_dim:
        fails.append(f"{d} zero exponent(s)")
    if d > curve_dim + 2:
        fails.append(f"{d} zero exponents (tori above dimension {curve_dim + 2} are not "
                     "confirmed geometrically)")
    if not _stationary(ev, st.stationary_tol):
        fails.append("non-stationary")
    if ev["return_ratio"] < 0.7:
        fails.append("near-returns shrink (approaching a cycle)")
    D = ev["corr_dim"]
    dim_tol = st.dim_tol * max(1, d - curve_dim + 1)
    if not (np.isfinite(D) and abs(D - d) <= dim_tol):
        fails.append(f"correlation dimension {D:.2f} vs {d}")
    lf = ev["line_fraction"]
    if not (np.isfinite(lf) and lf >= st.line_fraction):
        fails.append("no line spectrum")
    if d == curve_dim:
        if ev["section_kind"] != "curve":
            fails.append(f"section is {ev['section_kind']}, not a closed curve")
        elif not ev["rational_distance"] > st.rational_tol:
            fails.append("rotation number near a low-order rational")
    if flow and not abs(ev["crossing_rate"] - 1.0) <= st.rate_tol:
        fails.append("crossing rate disagrees with the dominant frequency")
    if fails:
        return _undetermined("lambda1 ~ 0 but " + "; ".join(fails))
    # confidence: the share of checks passed with a margin, capped while the record does not
    # exclude cycles up to ``qp_period`` (a longer cycle would look the same)
    margin = float(np.mean([ev["shift_spread"] < st.shift_spread / 4 if d == curve_dim
                            else True, abs(D - d) < dim_tol / 2, lf > 0.97]))
    excluded = int(n_pts) // 2 if np.isfinite(n_pts) else 0
    conf = 0.5 + 0.45 * margin
    if excluded < st.qp_period:
        conf = min(conf, 0.85)
    what = "invariant curve" if d == curve_dim else f"dimension {D:.2f}"
    unit = "returns" if flow else "steps"
    return Decision(QP, torus_dim=d, confidence=conf,
                    reason=f"{d} zero exponent(s), {what}; no period <= {excluded} {unit}")
