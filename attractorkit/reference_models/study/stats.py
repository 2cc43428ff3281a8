"""Statistics of the study: permutation tests, bootstrap intervals, effect sizes and verdicts.

Every function is deterministic given its ``rng`` (a seeded Generator), takes plain 1-D
arrays and drops nothing silently: callers remove NaNs and report how many they removed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats as _st

__all__ = [
    "Estimate",
    "bootstrap_ci",
    "paired_permutation",
    "spearman_permutation",
    "sd_difference_permutation",
    "cliffs_delta",
    "correlation_difference_permutation",
    "mann_whitney",
    "verdict_directional",
    "verdict_equivalence",
    "verdict_below",
]

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"


@dataclasses.dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval and a test's p-value (NaN where not applicable)."""

    value: float
    low: float
    high: float
    p_value: float
    n: int

    def to_dict(self) -> dict:
        return {k: _clean(v) for k, v in dataclasses.asdict(self).items()}


def _clean(v):
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def bootstrap_ci(statistic, *samples, n_boot: int, rng: np.random.Generator,
                 confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(*samples)``.

    Each sample is resampled with replacement independently (stratified by sample); samples
    of equal length that must stay aligned (pairs) should be passed as one 2-D array whose
    rows are resampled together.
    """
    stats = np.empty(n_boot)
    for b in range(n_boot):
        res = [s[rng.integers(0, len(s), len(s))] for s in samples]
        stats[b] = statistic(*res)
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2.0
    return float(np.quantile(stats, tail)), float(np.quantile(stats, 1.0 - tail))


def paired_permutation(diff: np.ndarray, *, n_perm: int, rng: np.random.Generator,
                       n_boot: int, confidence: float) -> Estimate:
    """Mean of paired differences; one-sided sign-flip permutation p for mean > 0."""
    diff = np.asarray(diff, dtype=float)
    n = diff.size
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), 0)
    observed = diff.mean()
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, n))
    null = (signs * diff).mean(axis=1)
    p = (1 + np.count_nonzero(null >= observed - 1e-12)) / (n_perm + 1)
    lo, hi = bootstrap_ci(np.mean, diff, n_boot=n_boot, rng=rng, confidence=confidence)
    return Estimate(float(observed), lo, hi, float(p), n)


def _rowwise_spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho of each row pair of (B, n) arrays; a constant row gives 0."""
    rx = _st.rankdata(x, axis=-1)
    ry = _st.rankdata(y, axis=-1)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=-1) * (ry * ry).sum(axis=-1))
    num = (rx * ry).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def spearman_permutation(x, y, *, strata=None, n_perm: int, rng: np.random.Generator,
                         n_boot: int, confidence: float) -> Estimate:
    """Spearman rho of (x, y); one-sided permutation p for rho > 0.

    With ``strata``, y is permuted within each stratum only (so a nuisance factor such as the
    complexity level cannot create the correlation). The interval is a percentile bootstrap
    over pairs. A constant variable gives rho = 0 (no evidence of association).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n = x.size
    if n < 3:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), n)
    observed = float(_rowwise_spearman(x, y))
    strata = np.zeros(n) if strata is None else np.asarray(strata)
    perm_idx = np.tile(np.arange(n), (n_perm, 1))
    for s in np.unique(strata):
        g = np.flatnonzero(strata == s)
        perm_idx[:, g] = g[rng.permuted(np.tile(np.arange(g.size), (n_perm, 1)), axis=1)]
    null = _rowwise_spearman(np.broadcast_to(x, (n_perm, n)), y[perm_idx])
    p = (1 + np.count_nonzero(null >= observed - 1e-12)) / (n_perm + 1)
    idx = rng.integers(0, n, (n_boot, n))
    boot = _rowwise_spearman(x[idx], y[idx])
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [tail, 1.0 - tail])
    return Estimate(observed, float(lo), float(hi), float(p), n)


def sd_difference_permutation(a, b, *, n_perm: int, rng: np.random.Generator, n_boot: int,
                              confidence: float) -> Estimate:
    """SD(b) - SD(a); one-sided permutation p for SD(b) > SD(a) (group labels shuffled)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size < 2 or b.size < 2:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"),
                        a.size + b.size)
    observed = b.std(ddof=1) - a.std(ddof=1)
    pooled = np.concatenate([a, b])
    count = 0
    for _ in range(n_perm):
        perm = rng.permutation(pooled)
        count += perm[a.size:].std(ddof=1) - perm[:a.size].std(ddof=1) >= observed - 1e-12
    p = (1 + count) / (n_perm + 1)
    lo, hi = bootstrap_ci(lambda u, v: v.std(ddof=1) - u.std(ddof=1), a, b, n_boot=n_boot,
                          rng=rng, confidence=confidence)
    return Estimate(float(observed), lo, hi, float(p), a.size + b.size)


def cliffs_delta(a, b) -> float:
    """P(a > b) - P(a < b) (= the rank-biserial correlation of Mann-Whitney's U)."""
    a = np.asarray(a, dtype=float)[:, None]
    b = np.asarray(b, dtype=float)[None, :]
    if a.size == 0 or b.size == 0:
        return float("nan")
    return float(np.mean(a > b) - np.mean(a < b))


def mann_whitney(a, b) -> float:
    """One-sided Mann-Whitney U p-value for a > b (NaN when a sample is empty)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return float("nan")
    if np.ptp(np.concatenate([a, b])) == 0:
        return 1.0
    return float(_st.mannwhitneyu(a, b, alternative="greater").pvalue)


def verdict_directional(est: Estimate, *, alpha: float, sesoi: float, min_n: int = 3
                        ) -> tuple[str, str]:
    """Verdict for a claim "effect > 0", with the effect oriented in the paper's direction.

    - not reproduced: the interval's upper end is below the smallest effect of interest, so an
      effect of meaningful size in the claimed direction is ruled out (this includes effects
      in the opposite direction and real but negligible ones);
    - reproduced: the test rejects "no effect" at ``alpha`` and the interval lies above zero;
    - inconclusive: anything else (too few networks, or an interval too wide to decide).
    """
    if est.n < min_n or not np.isfinite(est.value) or not np.isfinite(est.high):
        return INCONCLUSIVE, f"too few usable networks (n = {est.n})"
    if est.high < sesoi:
        return NOT_REPRODUCED, (f"upper end of the interval {est.high:.3g} < smallest effect "
                                f"of interest {sesoi:.3g}")
    if est.p_value < alpha and est.low > 0:
        return REPRODUCED, f"p = {est.p_value:.4g} < {alpha:g} and interval above 0"
    return INCONCLUSIVE, (f"p = {est.p_value:.4g}, interval [{est.low:.3g}, {est.high:.3g}] "
                          "neither rules the effect in nor out")


def verdict_equivalence(est: Estimate, *, margin: float, min_n: int = 3) -> tuple[str, str]:
    """Verdict for a claim "effect ~ 0": interval inside (-margin, margin) vs wholly outside."""
    if est.n < min_n or not np.isfinite(est.low):
        return INCONCLUSIVE, f"too few usable networks (n = {est.n})"
    if -margin < est.low and est.high < margin:
        return REPRODUCED, f"interval [{est.low:.3g}, {est.high:.3g}] within +-{margin:g}"
    if est.low >= margin or est.high <= -margin:
        return NOT_REPRODUCED, f"interval [{est.low:.3g}, {est.high:.3g}] outside +-{margin:g}"
    return INCONCLUSIVE, f"interval [{est.low:.3g}, {est.high:.3g}] overlaps the margin"


def verdict_below(est: Estimate, *, margin: float, min_n: int = 3) -> tuple[str, str]:
    """Verdict for a claim "quantity ~ 0" for a quantity >= 0: interval below vs above margin."""
    if est.n < min_n or not np.isfinite(est.high):
        return INCONCLUSIVE, f"too few usable networks (n = {est.n})"
    if est.high < margin:
        return REPRODUCED, f"upper end {est.high:.3g} < margin {margin:g}"
    if est.low >= margin:
        return NOT_REPRODUCED, f"lower end {est.low:.3g} >= margin {margin:g}"
    return INCONCLUSIVE, f"interval [{est.low:.3g}, {est.high:.3g}] contains the margin"


def correlation_difference_permutation(x_low, y_low, x_high, y_high, *, n_perm: int,
                                       rng: np.random.Generator, n_boot: int,
                                       confidence: float) -> Estimate:
    """rho(high) - rho(low) (Spearman); one-sided permutation p for a larger rho in "high".

    The null shuffles the group labels of the (x, y) pairs; the interval is a bootstrap that
    resamples pairs within each group.
    """
    lo_xy = np.column_stack([x_low, y_low]).astype(float)
    hi_xy = np.column_stack([x_high, y_high]).astype(float)
    n1, n2 = len(lo_xy), len(hi_xy)
    if n1 < 3 or n2 < 3:
        return Estimate(float("nan"), float("nan"), float("nan"), float("nan"), n1 + n2)

    def diff(a, b):
        return float(_rowwise_spearman(b[:, 0], b[:, 1]) - _rowwise_spearman(a[:, 0], a[:, 1]))

    observed = diff(lo_xy, hi_xy)
    pooled = np.concatenate([lo_xy, hi_xy])
    idx = rng.permuted(np.tile(np.arange(n1 + n2), (n_perm, 1)), axis=1)
    perm = pooled[idx]
    null = (_rowwise_spearman(perm[:, n1:, 0], perm[:, n1:, 1])
            - _rowwise_spearman(perm[:, :n1, 0], perm[:, :n1, 1]))
    p = (1 + np.count_nonzero(null >= observed - 1e-12)) / (n_perm + 1)
    b1 = lo_xy[rng.integers(0, n1, (n_boot, n1))]
    b2 = hi_xy[rng.integers(0, n2, (n_boot, n2))]
    boot = (_rowwise_spearman(b2[..., 0], b2[..., 1]) - _rowwise_spearman(b1[..., 0], b1[..., 1]))
    tail = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(boot, [tail, 1.0 - tail])
    return Estimate(observed, float(lo), float(hi), float(p), n1 + n2)
