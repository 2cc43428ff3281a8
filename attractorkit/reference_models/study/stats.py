"""Statistics of the study: tests, their inverted intervals, Holm's correction and verdicts.

Every test here is a permutation or sign-flip test whose null matches the design (independent
units; RL and SL of a unit paired), and every interval is the inversion of the same test where
that inversion has a closed form, so that a test and its interval never disagree:

- a paired mean (:func:`paired_mean`): the sign-flip test; the interval inverts it exactly (the
  statistic is linear in the shift, so each flip pattern gives one critical value, the mean of
  the flipped differences);
- a trend (:func:`trend`): the OLS slope within strata, permutation of the outcome within
  strata; the interval inverts the permutation test of the residuals the same way;
- a within-cell rank correlation (:func:`within_rank_correlation`): permutation within cells;
  Fisher-z interval (the rank correlation's variance 1.06 / (n - 3), Fieller et al. 1957);
- a difference of two such correlations (:func:`correlation_difference`): whole cells swapped
  between the two groups at equal strata; Zou's (2007) interval;
- a one-sample mean below a margin (:func:`mean_below`): the bootstrap-t;
- a dispersion difference of paired data (:func:`spread_difference`): the paired absolute
  deviations from the cell means, by sign flips with the inverted interval.

Each returns an :class:`Estimate` with two one-sided p-values: ``p_support`` (the null "no
effect in the paper's direction") and ``p_against`` (the null "an effect of at least the
smallest effect of interest"). Coverage of the intervals and the size of the tests are checked
by simulation of the design in ``tests/reference_models/test_study_calibration.py``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats as _st

__all__ = [
    "Estimate", "REPRODUCED", "NOT_REPRODUCED", "INCONCLUSIVE", "sign_patterns", "paired_mean",
    "trend", "within_rank_correlation", "correlation_difference", "mean_below",
    "spread_difference", "equivalence", "holm", "t_interval", "nan_estimate",
]

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
_NAN = float("nan")
_EXACT_MAX = 12  # up to 2**12 sign patterns are enumerated exactly


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate, its two-sided interval and two one-sided p-values.

    ``p_support`` tests "no effect in the claimed direction" (small: the claim is supported);
    ``p_against`` tests "an effect at least as large as the smallest effect of interest" (small:
    a meaningful effect is ruled out). NaN where not applicable.
    """

    value: float
    low: float
    high: float
    p_support: float
    p_against: float
    n: int

    def to_dict(self) -> dict:
        return {k: _clean(v) for k, v in dataclasses.asdict(self).items()}


def nan_estimate(n: int = 0) -> Estimate:
    return Estimate(_NAN, _NAN, _NAN, _NAN, _NAN, int(n))


def _clean(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _p(count, total) -> float:
    return float(count) / float(total)


# -- paired differences: the sign-flip test and its exact inversion -----------------------------
def sign_patterns(n: int, n_perm: int, rng: np.random.Generator) -> np.ndarray:
    """Sign patterns (K, n) in {-1, +1}: all 2**n of them when n <= 12 (exact test), else the
    identity plus ``n_perm`` random ones."""
    if n <= _EXACT_MAX and 2 ** n <= max(n_perm, 1) * 4:
        codes = np.arange(2 ** n)[:, None] >> np.arange(n)[None, :] & 1
        return np.where(codes == 1, -1.0, 1.0)
    s = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, n))
    return np.vstack([np.ones((1, n)), s])


def _flip_values(d: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """Critical values of the sign-flip test of the mean: for each pattern that flips at least
    one sign, the mean of the flipped differences (the shift at which that pattern's mean equals
    the observed one). The pattern that flips nothing is the identity (always counted)."""
    flipped = signs < 0
    k = flipped.sum(axis=1)
    keep = k > 0
    return (flipped[keep] @ d) / k[keep], int(np.count_nonzero(~keep))


def paired_mean(d, *, sesoi: float, n_perm: int, rng: np.random.Generator,
                confidence: float = 0.95) -> Estimate:
    """Mean of paired differences ``d``; sign-flip tests and the interval that inverts them.

    ``p_support``: one-sided p of "mean <= 0"; ``p_against``: of "mean >= sesoi". Exact when
    the differences are symmetric about their mean (all patterns enumerated up to n = 12).
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    if n < 2:
        return nan_estimate(n)
    signs = sign_patterns(n, n_perm, rng)
    c, n_id = _flip_values(d, signs)
    K = c.size + n_id
    tail = (1.0 - confidence) / 2.0
    lo, hi = _inverted_bounds(c, n_id, tail)
    p_support = _p(np.count_nonzero(c <= 0.0 + 1e-12) + n_id, K)
    p_against = _p(np.count_nonzero(c >= sesoi - 1e-12) + n_id, K)
    return Estimate(float(d.mean()), lo, hi, p_support, p_against, n)


def _inverted_bounds(c: np.ndarray, n_id: int, tail: float) -> tuple[float, float]:
    """Bounds {mu: both one-sided p-values > tail} of a test whose p at shift mu is
    (n_id + #{c <= mu}) / K (lower side) and (n_id + #{c >= mu}) / K (upper side)."""
    K = c.size + n_id
    need = int(np.floor(tail * K - n_id)) + 1  # smallest count with (n_id + count) / K > tail
    s = np.sort(c)
    if need <= 0:
        return -np.inf, np.inf
    if need > s.size:
        return _NAN, _NAN
    return float(s[need - 1]), float(s[-need])


def equivalence(d, *, margin: float, n_perm: int, rng: np.random.Generator,
                confidence: float = 0.95) -> Estimate:
    """Paired equivalence (TOST) of the mean of ``d`` within +-margin, by sign flips.

    ``p_support``: the larger of the two one-sided p-values of "mean >= margin" and "mean <=
    -margin" (small: equivalent); ``p_against``: twice the smaller p of "mean <= margin" and
    "mean >= -margin" (small: the difference lies outside the margin).
    """
    d = np.asarray(d, dtype=float)
    n = d.size
    if n < 2:
        return nan_estimate(n)
    signs = sign_patterns(n, n_perm, rng)
    c, n_id = _flip_values(d, signs)
    K = c.size + n_id
    lo, hi = _inverted_bounds(c, n_id, (1.0 - confidence) / 2.0)
    p_below_hi = _p(np.count_nonzero(c >= margin - 1e-12) + n_id, K)   # H0: mean >= margin
    p_above_lo = _p(np.count_nonzero(c <= -margin + 1e-12) + n_id, K)  # H0: mean <= -margin
    p_out_hi = _p(np.count_nonzero(c <= margin + 1e-12) + n_id, K)     # H0: mean <= margin
    p_out_lo = _p(np.count_nonzero(c >= -margin - 1e-12) + n_id, K)    # H0: mean >= -margin
    return Estimate(float(d.mean()), lo, hi, max(p_below_hi, p_above_lo),
                    min(1.0, 2 * min(p_out_hi, p_out_lo)), n)


# -- trends within strata -------------------------------------------------------------------
def _centre(x: np.ndarray, strata: np.ndarray) -> np.ndarray:
    out = np.array(x, dtype=float)
    for s in np.unique(strata):
        m = strata == s
        out[m] -= out[m].mean()
    return out


def _within_permutations(strata: np.ndarray, n_perm: int, rng) -> np.ndarray:
    """(n_perm + 1, n) index arrays permuting within strata; row 0 is the identity."""
    n = strata.size
    idx = np.tile(np.arange(n), (n_perm + 1, 1))
    for s in np.unique(strata):
        g = np.flatnonzero(strata == s)
        idx[1:, g] = g[rng.permuted(np.tile(np.arange(g.size), (n_perm, 1)), axis=1)]
    return idx


def trend(x, y, *, strata, span: float, sesoi: float, n_perm: int, rng: np.random.Generator,
          confidence: float = 0.95) -> Estimate:
    """Change of ``y`` over the range ``span`` of ``x``: the OLS slope within strata times span.

    The test permutes y within strata (exact under no effect when units are independent); the
    interval inverts the permutation test of the residuals ``y - beta x`` (exact when the
    residuals are exchangeable within strata).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    strata = np.asarray(strata)
    n = x.size
    xc = _centre(x, strata)
    sxx = float(xc @ xc)
    if n < 3 or sxx <= 0 or span <= 0:
        return nan_estimate(n)
    idx = _within_permutations(strata, n_perm, rng)
    A = y[idx] @ xc        # statistic of each permutation, linear in beta: A - beta * C
    C = x[idx] @ xc
    A0, C0 = A[0], C[0]
    beta = A0 / C0
    same = np.isclose(C[1:], C0, rtol=0, atol=1e-12 * abs(C0))
    c = (A0 - A[1:][~same]) / (C0 - C[1:][~same])       # critical slopes
    n_id = 1 + int(np.count_nonzero(same & (A[1:] >= A0 - 1e-12)))
    lo, hi = _inverted_bounds(c, n_id, (1.0 - confidence) / 2.0)
    K = c.size + n_id
    p_support = _p(np.count_nonzero(c <= 1e-15) + n_id, K)
    p_against = _p(np.count_nonzero(c >= sesoi / span - 1e-15) + n_id, K)
    return Estimate(float(beta * span), lo * span, hi * span, p_support, p_against, n)


# -- correlations -----------------------------------------------------------------------------
def _within_ranks(v: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Ranks within each cell, centred on the cell's mean rank (shape of v, last axis units)."""
    out = np.empty(v.shape, dtype=float)
    for s in np.unique(cells):
        g = np.flatnonzero(cells == s)
        r = _st.rankdata(v[..., g], axis=-1)
        out[..., g] = r - r.mean(axis=-1, keepdims=True)
    return out


def _corr_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    num = (a * b).sum(axis=-1)
    den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def _n_eff(n: int, n_cells: int) -> int:
    """Residual degrees of freedom of a correlation within cells (a cell mean per cell)."""
    return n - n_cells + 1


def _fisher(r: float, n_eff: int, tail: float) -> tuple[float, float, float]:
    se = np.sqrt(1.06 / max(n_eff - 3, 1))
    z = np.arctanh(np.clip(r, -0.999999, 0.999999))
    q = _st.norm.ppf(1 - tail)
    return float(np.tanh(z - q * se)), float(np.tanh(z + q * se)), float(se)


def within_rank_correlation(x, y, *, cells, sesoi: float, n_perm: int,
                            rng: np.random.Generator, confidence: float = 0.95) -> Estimate:
    """Rank correlation of x and y within cells (ranks centred per cell, then pooled).

    A cell (here: delta x complexity) cannot create the association: the test permutes y
    within cells, which is exact under independence within cells. ``p_against`` and the
    interval use Fisher's z with the rank correlation's variance 1.06 / (n_eff - 3).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    cells = np.asarray(cells)
    n, n_cells = x.size, np.unique(cells).size
    if _n_eff(n, n_cells) < 5:
        return nan_estimate(n)
    rx = _within_ranks(x, cells)
    idx = _within_permutations(cells, n_perm, rng)
    ry = _within_ranks(y, cells)[idx]   # a permutation within cells permutes the ranks
    r = _corr_rows(rx[None, :], ry)
    r0 = float(r[0])
    p_support = _p(np.count_nonzero(r >= r0 - 1e-12), r.size)
    lo, hi, se = _fisher(r0, _n_eff(n, n_cells), (1.0 - confidence) / 2.0)
    z = (np.arctanh(np.clip(r0, -0.999999, 0.999999)) - np.arctanh(sesoi)) / se
    return Estimate(r0, lo, hi, p_support, float(_st.norm.cdf(z)), n)


def correlation_difference(x, y, *, cells, group, strata, sesoi: float, n_perm: int,
                           rng: np.random.Generator, confidence: float = 0.95) -> Estimate:
    """Within-cell rank correlation in group 1 minus group 0 (``group`` in {0, 1}).

    Ranks are taken within cells and centred; the test then permutes the group labels of the
    units' (rank x, rank y) pairs within strata (here: between the hardest and the easiest
    complexity level at the same delta), valid when the within-cell dependence is the same in
    both groups. Interval: Zou's (2007) method from the two Fisher-z intervals.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    cells, group, strata = np.asarray(cells), np.asarray(group), np.asarray(strata)
    g1, g0 = group == 1, group == 0
    n1, n0 = int(g1.sum()), int(g0.sum())
    c1, c0 = np.unique(cells[g1]).size, np.unique(cells[g0]).size
    if min(_n_eff(n1, c1), _n_eff(n0, c0)) < 5:
        return nan_estimate(n1 + n0)
    rx, ry = _within_ranks(x, cells), _within_ranks(y, cells)
    prod, sxx, syy = rx * ry, rx * rx, ry * ry
    idx = _within_permutations(strata, n_perm, rng)
    m1 = g1.astype(float)[idx]        # (P, n): units counted in group 1 under each relabelling
    m0 = g0.astype(float)[idx]

    def corr_of(mask):
        with np.errstate(invalid="ignore", divide="ignore"):
            return (mask @ prod) / np.sqrt((mask @ sxx) * (mask @ syy))

    diff = np.nan_to_num(corr_of(m1) - corr_of(m0))
    d0 = float(diff[0])
    p_support = _p(np.count_nonzero(diff >= d0 - 1e-12), diff.size)
    tail = (1.0 - confidence) / 2.0
    r1, r0 = float(_corr_rows(rx[g1], ry[g1])), float(_corr_rows(rx[g0], ry[g0]))
    l1, u1, _ = _fisher(r1, _n_eff(n1, c1), tail)
    l0, u0, _ = _fisher(r0, _n_eff(n0, c0), tail)
    lo = d0 - np.sqrt((r1 - l1) ** 2 + (u0 - r0) ** 2)
    hi = d0 + np.sqrt((u1 - r1) ** 2 + (r0 - l0) ** 2)
    # p_against: the normal approximation whose upper bound is Zou's
    half = (hi - d0) / _st.norm.ppf(1 - tail)
    p_against = float(_st.norm.cdf((d0 - sesoi) / half)) if half > 0 else _NAN
    return Estimate(d0, float(lo), float(hi), p_support, p_against, n1 + n0)


# -- one-sample bound and dispersion ----------------------------------------------------------
def t_interval(x, confidence: float = 0.95) -> tuple[float, float]:
    """Student's t interval of a mean (NaN for fewer than two values)."""
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return _NAN, _NAN
    se = x.std(ddof=1) / np.sqrt(x.size)
    q = _st.t.ppf(1 - (1 - confidence) / 2, x.size - 1)
    return float(x.mean() - q * se), float(x.mean() + q * se)


def mean_below(x, *, margin: float, n_boot: int, rng: np.random.Generator,
               confidence: float = 0.95) -> Estimate:
    """Mean of shares x >= 0 against a margin, by the studentised (bootstrap-t) bootstrap.

    ``p_support`` tests "mean >= margin" (small: the mean lies below the margin),
    ``p_against`` tests "mean <= margin". Shares of QP grid points are zero-inflated and
    skewed to the right, where Student's t bounds fall short (docs/study.md, coverage); the
    bootstrap-t follows the skew.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 3:
        return nan_estimate(n)
    mean = float(x.mean())
    se = x.std(ddof=1) / np.sqrt(n)
    if se == 0:   # identical values: no sampling variation to go on
        below = float(mean < margin)
        return Estimate(mean, mean, mean, 1.0 - below, below, n)
    b = x[rng.integers(0, n, (n_boot, n))]
    # a resample of identical values has no scale of its own: it gets a tenth of the sample's
    # (without a floor its t would be infinite and the interval unbounded)
    se_star = np.maximum(b.std(axis=1, ddof=1) / np.sqrt(n), 0.1 * se)
    t_star = (b.mean(axis=1) - mean) / se_star
    tail = (1.0 - confidence) / 2.0
    q_lo, q_hi = np.quantile(t_star, [tail, 1 - tail])
    t_obs = (mean - margin) / se
    p_support = (1 + np.count_nonzero(t_star <= t_obs)) / (n_boot + 1)
    p_against = (1 + np.count_nonzero(t_star >= t_obs)) / (n_boot + 1)
    return Estimate(mean, float(mean - q_hi * se), float(mean - q_lo * se), float(p_support),
                    float(p_against), n)


def spread_difference(a, b, *, cells, sesoi: float, n_perm: int, rng: np.random.Generator,
                      confidence: float = 0.95) -> Estimate:
    """Dispersion of b minus that of a, for paired (a, b) per unit, within cells.

    Each unit contributes ``e = c_k (|b - mean_b| - |a - mean_a|)``, its absolute deviations
    from its cell's means (a Levene-type contrast, paired), scaled by ``c_k = sqrt(k / (k - 1))``
    for a cell of k units so that the estimate does not shrink with the cell size; the
    estimate is the mean of e (for normal data, sqrt(2 / pi) times the SD difference), tested
    by sign flips with the inverted interval (:func:`paired_mean`). Swapping a and b within a
    unit flips its e, so the test is valid when the centred pairs are exchangeable.
    """
    a, b, cells = np.asarray(a, float), np.asarray(b, float), np.asarray(cells)
    e = np.full(a.size, np.nan)
    for s in np.unique(cells):
        g = cells == s
        k = np.count_nonzero(g)
        if k >= 2:
            e[g] = np.sqrt(k / (k - 1)) * (np.abs(b[g] - b[g].mean())
                                           - np.abs(a[g] - a[g].mean()))
    e = e[np.isfinite(e)]
    if e.size < 6:
        return nan_estimate(e.size)
    return paired_mean(e, sesoi=sesoi, n_perm=n_perm, rng=rng, confidence=confidence)


# -- multiplicity ---------------------------------------------------------------------------
def holm(p) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN entries stay NaN and are not counted)."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out
