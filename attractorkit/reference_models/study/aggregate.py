"""Aggregation: from one row per trained network to cell summaries and claim verdicts.

The input is a *run table*: a dict of equal-length 1-D numpy arrays, one row per run, with at
least the columns of :data:`REQUIRED_COLUMNS` (see :func:`collect_table` for reading it from a
sweep directory). Nothing here knows how the numbers were made, so the verdict logic can be
tested on synthetic tables with and without each effect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from attractorkit.core._errors import ValidationError

from . import stats as st
from .config import StatsSettings

__all__ = ["REQUIRED_COLUMNS", "CLAIMS", "collect_table", "cell_summaries", "evaluate_claims",
           "trained_networks", "validate_table"]

REQUIRED_COLUMNS = ("paradigm", "delta", "complexity", "seed", "accuracy", "f_qp",
                    "f_qp_low", "f_qp_high", "balance")

# optional per-run columns whose cell means are reported (MI, crystallisation, populations)
OPTIONAL_MEANS = ("mi_context", "mi_coh1", "mi_coh2", "mi_relevant_coh", "mi_choice",
                  "mi_epoch", "mi_choice_decision_units", "crystallisation_fraction",
                  "crystallisation_time", "frac_Gplus", "frac_Gminus", "frac_Ga", "frac_Gs",
                  "share_undetermined", "updates", "decision_bounded")

# id -> (claim, the paper's statement, its source)
CLAIMS = {
    "hybrid_rl": (
        "RL networks have more quasi-periodic (QP) attractors than SL networks",
        "RL gives hybrid architectures of stable fixed points and QP attractors, SL converges "
        "almost exclusively to fixed-point-only solutions",
        "abstract"),
    "sl_fixed_points": (
        "SL networks are (almost) fixed-point-only: f_QP(SL) ~ 0",
        "SL converges almost exclusively to simpler fixed-point-only solutions", "abstract"),
    "qp_low_coherence": (
        "In RL networks, QP attractors concentrate at low |relevant coherence|",
        "QP attractors appear particularly for ambiguous stimuli with low coherence",
        "alphaxiv summary, Fig. 2"),
    "qp_delta": (
        "f_QP of RL networks grows with the initialisation width delta",
        "the hybrid architecture is controllably modulated by weight initialization, further "
        "amplified by broader initial weight distributions", "abstract; alphaxiv"),
    "similar_performance": (
        "RL and SL reach similar accuracy",
        "despite achieving similar task performance", "alphaxiv summary"),
    "qp_accuracy": (
        "f_QP correlates positively with accuracy across RL networks",
        "QP prevalence correlates strongly with performance gains", "abstract"),
    "qp_accuracy_complexity": (
        "The f_QP-accuracy correlation is stronger at the highest complexity than the lowest",
        "... particularly as task complexity increases", "abstract"),
    "balance": (
        "RL populations G+/G- are more balanced than SL populations",
        "RL gives functionally balanced neural populations; SL more heterogeneous solutions",
        "abstract"),
    "balance_spread": (
        "The balance index varies less across RL networks than across SL networks",
        "SL produces heterogeneous, imbalanced population structures", "abstract; arxivlens"),
}


def validate_table(table: Mapping) -> dict:
    """Check a run table (columns, equal lengths) and return it as a dict of arrays."""
    if not isinstance(table, Mapping):
        raise ValidationError(f"table: expected a mapping of columns, received "
                              f"{type(table).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in table]
    if missing:
        raise ValidationError(f"table: missing column(s) {', '.join(missing)}")
    out = {k: np.asarray(v) for k, v in table.items()}
    lengths = {k: v.shape for k, v in out.items() if v.ndim != 1}
    if lengths:
        raise ValidationError(f"table: every column must be 1-D, received shapes {lengths}")
    n = {len(v) for v in out.values()}
    if len(n) > 1:
        raise ValidationError(f"table: columns differ in length: {sorted(n)}")
    return out


def collect_table(out_dir) -> dict:
    """Read the summary (``summary.json``) of every finished run under ``out_dir/runs``."""
    from .runner import finished_runs

    rows = [json.loads((d / "summary.json").read_text()) for d in finished_runs(out_dir)]
    if not rows:
        raise ValidationError(f"out_dir: no finished runs under {str(Path(out_dir))!r}")
    keys = sorted(set().union(*rows))
    table = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if all(isinstance(v, str) for v in vals):
            table[k] = np.array(vals)
        elif all(isinstance(v, (int, float, bool)) or v is None for v in vals):
            table[k] = np.array([np.nan if v is None else float(v) for v in vals])
    return table


# -- per-cell summaries ----------------------------------------------------------------------
def cell_summaries(table: Mapping, settings: StatsSettings) -> list[dict]:
    """Per (paradigm, delta, complexity): n, means with bootstrap intervals, balance spread."""
    t = validate_table(table)
    rng = np.random.default_rng(settings.seed)
    cells = []
    keys = sorted({(str(p), float(d), str(c)) for p, d, c in
                   zip(t["paradigm"], t["delta"], t["complexity"])})
    for p, d, c in keys:
        m = (t["paradigm"] == p) & (t["delta"] == d) & (t["complexity"] == c)
        cell = {"paradigm": p, "delta": d, "complexity": c, "n": int(m.sum())}
        for col in ("f_qp", "accuracy", "balance"):
            x = t[col][m].astype(float)
            x = x[np.isfinite(x)]
            cell[col] = float(x.mean()) if x.size else None
            lo, hi = (st.bootstrap_ci(np.mean, x, n_boot=settings.n_boot, rng=rng,
                                      confidence=settings.confidence)
                      if x.size >= 2 else (float("nan"), float("nan")))
            cell[f"{col}_low"], cell[f"{col}_high"] = _none(lo), _none(hi)
            cell[f"{col}_sd"] = float(x.std(ddof=1)) if x.size >= 2 else None
            cell[f"{col}_n"] = int(x.size)
        if "hit_cap" in t:
            cell["hit_cap"] = int(np.nansum(t["hit_cap"][m].astype(float)))
        for col in OPTIONAL_MEANS:
            if col in t and t[col].dtype.kind == "f":
                x = _finite(t[col][m])
                cell[col] = float(x.mean()) if x.size else None
        cells.append(cell)
    return cells


def _none(v):
    return None if v is None or not np.isfinite(v) else float(v)


# -- claims ----------------------------------------------------------------------------------
def _pairs(t: dict, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Matched (RL, SL) values of ``column``: same delta, complexity and seed; NaNs dropped."""
    sl = {}
    for i in np.flatnonzero(t["paradigm"] == "sl"):
        sl[(float(t["delta"][i]), str(t["complexity"][i]), int(t["seed"][i]))] = i
    rl_v, sl_v = [], []
    for i in np.flatnonzero(t["paradigm"] == "rl"):
        j = sl.get((float(t["delta"][i]), str(t["complexity"][i]), int(t["seed"][i])))
        if j is not None and np.isfinite(t[column][i]) and np.isfinite(t[column][j]):
            rl_v.append(float(t[column][i]))
            sl_v.append(float(t[column][j]))
    return np.array(rl_v), np.array(sl_v)


def _finite(x):
    x = np.asarray(x, dtype=float)
    return x[np.isfinite(x)]


def trained_networks(t: dict, settings: StatsSettings) -> dict:
    """The rows of networks that reached the training criterion (all rows when
    ``settings.criterion_only`` is False or the table does not say)."""
    if not settings.criterion_only or "reached_criterion" not in t:
        return t
    keep = np.asarray(t["reached_criterion"], dtype=float) == 1.0
    return {k: np.asarray(v)[keep] for k, v in t.items()}


def evaluate_claims(table: Mapping, settings: StatsSettings, *, complexities=None
                    ) -> list[dict]:
    """Every claim of :data:`CLAIMS`: our estimate, its interval, the test and the verdict.

    ``complexities`` orders the complexity levels from easiest to hardest (default: their
    order of first appearance in the table).

    Each entry holds ``id``, ``claim``, ``paper``, ``source``, ``estimate`` (value, low, high,
    p_value, n), ``measure`` (what the estimate is), ``test``, ``effect_size`` (where one
    applies), ``verdict`` and ``reason`` (why that verdict, from the numbers).
    """
    t = trained_networks(validate_table(table), settings)
    s = settings
    kw = {"n_perm": s.n_perm, "n_boot": s.n_boot, "confidence": s.confidence}
    out = []

    def add(cid, est, measure, test, verdict, effect_size=None):
        claim, paper, source = CLAIMS[cid]
        out.append({"id": cid, "claim": claim, "paper": paper, "source": source,
                    "estimate": est.to_dict(), "measure": measure, "test": test,
                    "effect_size": effect_size, "verdict": verdict[0], "reason": verdict[1]})

    def rng(cid):  # one independent stream per claim: adding a claim never shifts the others
        return np.random.default_rng([s.seed, sum(map(ord, cid))])

    rl = t["paradigm"] == "rl"
    sl = t["paradigm"] == "sl"

    # 1. hybrid RL: paired f_QP(RL) - f_QP(SL)
    a, b = _pairs(t, "f_qp")
    est = st.paired_permutation(a - b, rng=rng("hybrid_rl"), **kw)
    add("hybrid_rl", est, "mean paired difference f_QP(RL) - f_QP(SL)",
        "one-sided sign-flip permutation test on matched (delta, complexity, seed) pairs",
        st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_fqp),
        {"cliffs_delta": _none(st.cliffs_delta(a, b)),
         "mann_whitney_p": _none(st.mann_whitney(a, b))})

    # 2. SL fixed-point-only
    x = _finite(t["f_qp"][sl])
    r = rng("sl_fixed_points")
    lo, hi = (st.bootstrap_ci(np.mean, x, n_boot=s.n_boot, rng=r, confidence=s.confidence)
              if x.size >= 2 else (float("nan"), float("nan")))
    est = st.Estimate(float(x.mean()) if x.size else float("nan"), lo, hi, float("nan"), x.size)
    add("sl_fixed_points", est, "mean f_QP of SL networks",
        f"bootstrap {s.confidence:.0%} interval against the margin {s.sl_zero_margin:g}",
        st.verdict_below(est, margin=s.sl_zero_margin))

    # 3. QP at low coherence (RL networks that have any QP attractor)
    m = rl & np.isfinite(t["f_qp_low"]) & np.isfinite(t["f_qp_high"]) & (t["f_qp"] > 0)
    est = st.paired_permutation(t["f_qp_low"][m] - t["f_qp_high"][m], rng=rng("qp_low"), **kw)
    add("qp_low_coherence", est,
        "mean over RL networks with QP of share_QP(low |c_rel|) - share_QP(high |c_rel|)",
        "one-sided sign-flip permutation test over networks",
        st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_fqp))

    # 4. f_QP grows with delta (RL), permutation within complexity levels
    m = rl & np.isfinite(t["f_qp"])
    if np.unique(t["delta"][m]).size >= 2:
        est = st.spearman_permutation(t["delta"][m], t["f_qp"][m], strata=t["complexity"][m],
                                      rng=rng("qp_delta"), **kw)
        verdict = st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_rho)
    else:
        est = st.Estimate(float("nan"), float("nan"), float("nan"), float("nan"), int(m.sum()))
        verdict = (st.INCONCLUSIVE, "needs at least two delta values")
    add("qp_delta", est, "Spearman rho(delta, f_QP) over RL networks",
        "one-sided permutation test, f_QP permuted within complexity levels", verdict)

    # 5. similar performance
    a, b = _pairs(t, "accuracy")
    est = st.paired_permutation(a - b, rng=rng("similar_performance"), **kw)
    est = st.Estimate(est.value, est.low, est.high,
                      _two_sided(est.p_value, a - b, rng("similar_performance_2"), s.n_perm),
                      est.n)
    add("similar_performance", est, "mean paired difference accuracy(RL) - accuracy(SL)",
        f"equivalence: bootstrap interval within +-{s.accuracy_margin:g} (p: two-sided "
        "sign-flip permutation test of a difference)",
        st.verdict_equivalence(est, margin=s.accuracy_margin))

    order = (list(complexities) if complexities is not None
             else _complexity_order(t["complexity"]))
    out += _accuracy_claims(t, s, rng, kw, order)

    # 8. balance RL > SL
    a, b = _pairs(t, "balance")
    est = st.paired_permutation(a - b, rng=rng("balance"), **kw)
    add("balance", est, "mean paired difference balance(RL) - balance(SL)",
        "one-sided sign-flip permutation test on matched pairs",
        st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_balance),
        {"cliffs_delta": _none(st.cliffs_delta(a, b)),
         "mann_whitney_p": _none(st.mann_whitney(a, b))})

    # 9. spread of balance: SD(SL) - SD(RL) > 0
    a, b = _finite(t["balance"][rl]), _finite(t["balance"][sl])
    est = st.sd_difference_permutation(a, b, rng=rng("balance_spread"), **kw)
    add("balance_spread", est, "SD of balance across SL networks - SD across RL networks",
        "one-sided permutation test (paradigm labels shuffled)",
        st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_balance / 2, min_n=6),
        {"sd_ratio_sl_over_rl": _none(float(b.std(ddof=1) / a.std(ddof=1)))
         if a.size > 1 and b.size > 1 and a.std() > 0 else None})
    ids = list(CLAIMS)
    return sorted(out, key=lambda c: ids.index(c["id"]))


def _two_sided(p_one, diff, rng, n_perm):
    diff = np.asarray(diff, dtype=float)
    if diff.size == 0:
        return float("nan")
    signs = rng.choice(np.array([-1.0, 1.0]), size=(n_perm, diff.size))
    null = np.abs((signs * diff).mean(axis=1))
    return float((1 + np.count_nonzero(null >= abs(diff.mean()) - 1e-12)) / (n_perm + 1))


def _accuracy_claims(t, s, rng, kw, order) -> list[dict]:
    """Claims 6 and 7: corr(f_QP, accuracy) over RL networks, overall and across complexity."""
    out = []
    rl = (t["paradigm"] == "rl") & np.isfinite(t["f_qp"]) & np.isfinite(t["accuracy"])
    est = st.spearman_permutation(t["f_qp"][rl], t["accuracy"][rl], strata=t["complexity"][rl],
                                  rng=rng("qp_accuracy"), **kw)
    per_level = {}
    present = set(map(str, t["complexity"][rl]))
    levels = [c for c in order if c in present]
    for c in levels:
        m = rl & (t["complexity"] == c)
        e = st.spearman_permutation(t["f_qp"][m], t["accuracy"][m], rng=rng(f"qp_acc_{c}"), **kw)
        per_level[c] = e.to_dict()
    claim, paper, source = CLAIMS["qp_accuracy"]
    v = st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_rho)
    out.append({"id": "qp_accuracy", "claim": claim, "paper": paper, "source": source,
                "estimate": est.to_dict(), "measure": "Spearman rho(f_QP, accuracy), RL networks",
                "test": "one-sided permutation test, accuracy permuted within complexity levels",
                "effect_size": {"per_complexity": per_level}, "verdict": v[0], "reason": v[1]})
    claim, paper, source = CLAIMS["qp_accuracy_complexity"]
    if len(levels) >= 2:
        lo_m = rl & (t["complexity"] == levels[0])
        hi_m = rl & (t["complexity"] == levels[-1])
        est = st.correlation_difference_permutation(
            t["f_qp"][lo_m], t["accuracy"][lo_m], t["f_qp"][hi_m], t["accuracy"][hi_m],
            rng=rng("qp_accuracy_complexity"), **kw)
        v = st.verdict_directional(est, alpha=s.alpha, sesoi=s.sesoi_rho, min_n=6)
    else:
        est = st.Estimate(float("nan"), float("nan"), float("nan"), float("nan"), int(rl.sum()))
        v = (st.INCONCLUSIVE, "needs at least two complexity levels")
    out.append({"id": "qp_accuracy_complexity", "claim": claim, "paper": paper,
                "source": source, "estimate": est.to_dict(),
                "measure": (f"rho at {levels[-1]!r} - rho at {levels[0]!r}" if len(levels) >= 2
                            else "rho(highest) - rho(lowest complexity)"),
                "test": "one-sided permutation test (complexity labels of networks shuffled)",
                "effect_size": None, "verdict": v[0], "reason": v[1]})
    return out


def _complexity_order(levels) -> list[str]:
    """Levels in the order of first appearance (the config lists them from easy to hard)."""
    seen = []
    for c in levels:
        if str(c) not in seen:
            seen.append(str(c))
    return seen
