"""Power of a study design for the four main claims, from the variability seen in a pilot.

:func:`design_power` takes a run table (a pilot, or a finished study) and a configuration,
and returns for each main claim the standard error its estimate would have under that
configuration, the power at the smallest effect of interest, and the smallest effect decided
with 80% power (the minimum detectable effect), all at Holm's first-step level alpha / 4 of
the main family (conservative) and by the normal approximation:

- ``hybrid_rl``: SD of the paired differences f_QP(RL) - f_QP(SL) (the larger over the two
  bounds) over sqrt(pairs);
- ``qp_delta``: pooled within-cell SD of f_QP(RL) times the delta range over
  sqrt(sum of squared within-level delta deviations), the OLS standard error of the change
  over the range;
- ``qp_accuracy``: Fisher's z with the rank correlation's variance 1.06 / (n_eff - 3), where
  n_eff = RL networks - cells + 1 (no pilot variability needed);
- ``balance``: SD of the paired balance differences over sqrt(pairs).

The share of units whose two networks both reach the criterion (in the pilot) discounts the
pairs. docs/study.md §5 gives the analysis for the standard preset; a slow test checks the
approximation against simulated studies.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from .aggregate import trained_networks, validate_table
from .claims import MAIN_CLAIMS, _pairs

__all__ = ["design_power"]


def _pooled_within_sd(values, cells) -> float:
    var, df = 0.0, 0
    for c in np.unique(cells):
        x = values[cells == c]
        x = x[np.isfinite(x)]
        if x.size >= 2:
            var += x.var(ddof=1) * (x.size - 1)
            df += x.size - 1
    return float(np.sqrt(var / df)) if df else float("nan")


def design_power(table, config, *, power: float = 0.8) -> dict:
    """``{claim: {"sd", "se", "power_at_sesoi", "mde", "n"}}`` for the main claims under
    ``config``, with variability taken from ``table`` (see the module docstring)."""
    s = config.stats
    t = trained_networks(validate_table(table), s)
    all_rows = validate_table(table)
    z_a = _st.norm.ppf(1 - s.alpha / len(MAIN_CLAIMS))
    z_b = _st.norm.ppf(power)
    cells = len(config.deltas) * len(config.complexities)
    seeds = len(config.seeds)
    # share of units with both networks at criterion, in the pilot
    units = {(d, c, k) for d, c, k in zip(all_rows["delta"], all_rows["complexity"],
                                          all_rows["seed"])}
    ok = len(_pairs(t, "fqp_lower")[2]) / max(len(units), 1)
    pairs = cells * seeds * ok
    out = {}

    def entry(sd, se, sesoi, n, scale="mean"):
        if scale == "z":
            return {"sd": sd, "se": se, "power_at_sesoi": float(_st.norm.cdf(
                np.arctanh(sesoi) / se - z_a)), "mde": float(np.tanh((z_a + z_b) * se)),
                "n": n}
        return {"sd": sd, "se": se, "power_at_sesoi": float(_st.norm.cdf(sesoi / se - z_a)),
                "mde": float((z_a + z_b) * se), "n": n}

    sd = max(np.std(a - b, ddof=1) for a, b in
             (_pairs(t, f"fqp_{bound}")[:2] for bound in ("lower", "upper")))
    out["hybrid_rl"] = entry(float(sd), float(sd / np.sqrt(pairs)), s.sesoi_fqp, pairs)
    rl = t["paradigm"] == "rl"
    cell_id = np.array([f"{d!r}|{c}" for d, c in zip(t["delta"], t["complexity"])])
    sigma = max(_pooled_within_sd(t[f"fqp_{b}"][rl], cell_id[rl]) for b in ("lower", "upper"))
    deltas = np.asarray(config.deltas, float)
    n_rl = seeds * (np.count_nonzero(rl) / max(len(units), 1)) * len(config.complexities)
    sxx = n_rl * np.sum((deltas - deltas.mean()) ** 2)      # per level, summed over levels
    span = float(np.ptp(deltas))
    out["qp_delta"] = entry(sigma, float(sigma * span / np.sqrt(sxx)) if sxx > 0 else np.nan,
                            s.sesoi_fqp, n_rl * len(deltas))
    n_eff = n_rl * len(deltas) - cells + 1
    out["qp_accuracy"] = entry(None, float(np.sqrt(1.06 / max(n_eff - 3, 1))), s.sesoi_rho,
                               n_rl * len(deltas), scale="z")
    a, b, _ = _pairs(t, "balance")
    sd = float(np.std(a - b, ddof=1)) if a.size > 1 else float("nan")
    out["balance"] = entry(sd, float(sd / np.sqrt(pairs)), s.sesoi_balance, pairs)
    return out
