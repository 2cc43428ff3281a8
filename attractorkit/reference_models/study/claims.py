"""The study's claims: estimates under both f_QP bounds, Holm's correction, verdicts, stability.

A claim's verdict comes from two one-sided tests of the same estimate (see :mod:`.stats`):

- **reproduced**: the test of "no effect in the paper's direction" rejects at ``alpha`` after
  Holm's correction across the claims of its family (the four main claims of
  :data:`MAIN_CLAIMS`, which the standard preset is sized for; the secondary claims form a
  second family), under *both* the lower and the upper bound of f_QP
  (an intersection-union test: its p-value is the larger of the two);
- **not reproduced**: the test of "an effect at least the smallest effect of interest" rejects
  the same way (Holm across the claims, both bounds): a meaningful effect in the paper's
  direction is ruled out. This takes precedence (an effect can be significant yet negligible);
- **inconclusive**: anything else, including too few networks, and any verdict that holds in
  at most half of the resamples of the networks (the verdict's *stability*).

The unit of replication is an independent initialisation, identified by (delta, complexity,
seed); the RL and SL networks of a unit are paired. Each claim is also evaluated on the
untrained (update-0) networks when the table has their columns, as a control.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from attractorkit.core._errors import ValidationError

from . import stats as st
from .aggregate import trained_networks, validate_table

__all__ = ["CLAIMS", "FQP_CLAIMS", "MAIN_CLAIMS", "claim_estimates", "evaluate_claims"]

# id -> (claim, the paper's statement, its source)
CLAIMS = {
    "hybrid_rl": (
        "RL networks have more quasi-periodic (QP) attractors than SL networks",
        "RL gives hybrid architectures of stable fixed points and QP attractors, SL converges "
        "almost exclusively to fixed-point-only solutions", "abstract"),
    "sl_fixed_points": (
        "SL networks are (almost) fixed-point-only: f_QP(SL) below the margin",
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
        "RL and SL reach similar accuracy on hard held-out trials",
        "despite achieving similar task performance", "alphaxiv summary"),
    "qp_accuracy": (
        "f_QP correlates positively with accuracy across RL networks (within cells)",
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
    "qp_trial_relevance": (
        "During the stimulus, most trial states of RL networks at the lowest coherence lie near "
        "the QP attractor of their condition",
        "quasi-periodic attractors for flexible evidence integration", "abstract"),
    "hybrid_rl_matched": (
        "Ablation: with the same optimiser steps and batches per trial (PPO's schedule for both) "
        "and no critic gradient in the recurrent weights, RL still has more QP than SL",
        "the hybrid architecture emerges through reinforcement learning", "abstract"),
}
#: claims that read f_QP (evaluated under both bounds)
FQP_CLAIMS = ("hybrid_rl", "sl_fixed_points", "qp_low_coherence", "qp_delta", "qp_accuracy",
              "qp_accuracy_complexity", "hybrid_rl_matched")
#: the four claims the standard preset is sized to decide (docs/study.md, power analysis)
MAIN_CLAIMS = ("hybrid_rl", "qp_delta", "qp_accuracy", "balance")

_MEASURES = {
    "hybrid_rl": ("mean paired difference f_QP(RL) - f_QP(SL) over initialisations",
                  "one-sided sign-flip test of the paired differences; interval inverts it"),
    "sl_fixed_points": ("mean f_QP of SL networks",
                        "one-sided bootstrap-t test of mean >= margin; bootstrap-t interval"),
    "qp_low_coherence": ("mean over RL networks with QP of share_QP(low |c_rel|) - "
                         "share_QP(high |c_rel|)", "one-sided sign-flip test; inverted interval"),
    "qp_delta": ("change of f_QP(RL) across the delta range (OLS slope within complexity "
                 "levels x range)", "permutation of f_QP within levels; inverted interval"),
    "similar_performance": ("mean paired difference accuracy(RL) - accuracy(SL), hard held-out "
                            "trials", "equivalence (two one-sided sign-flip tests)"),
    "qp_accuracy": ("rank correlation of f_QP and hard-trial accuracy within (delta, "
                    "complexity) cells, RL networks",
                    "permutation within cells; Fisher-z interval"),
    "qp_accuracy_complexity": ("within-cell rank correlation at the hardest minus the easiest "
                               "level, RL", "permutation of levels within delta; Zou interval"),
    "balance": ("mean paired difference balance(RL) - balance(SL)",
                "one-sided sign-flip test of the paired differences; inverted interval"),
    "balance_spread": ("mean absolute deviation of balance from its cell mean, SL minus RL "
                       "(paired per initialisation)",
                       "one-sided sign-flip test; inverted interval"),
    "qp_trial_relevance": ("mean over RL networks of the share of stimulus-epoch states, at "
                           "the lowest coherence and QP conditions, near that QP attractor",
                           "one-sided bootstrap-t test against the share 0.5"),
    "hybrid_rl_matched": ("mean paired difference f_QP(RL matched) - f_QP(SL matched)",
                          "one-sided sign-flip test; inverted interval"),
}


def _keys(t, rows):
    return [(float(t["delta"][i]), str(t["complexity"][i]), int(t["seed"][i])) for i in rows]


def _pairs(t: dict, column: str, a: str = "rl", b: str = "sl"):
    """Values of ``column`` for units that have both paradigms ``a`` and ``b`` (finite)."""
    ib = dict(zip(_keys(t, np.flatnonzero(t["paradigm"] == b)), np.flatnonzero(
        t["paradigm"] == b)))
    xa, xb, keys = [], [], []
    for k, i in zip(_keys(t, np.flatnonzero(t["paradigm"] == a)),
                    np.flatnonzero(t["paradigm"] == a)):
        j = ib.get(k)
        if j is not None and np.isfinite(t[column][i]) and np.isfinite(t[column][j]):
            xa.append(float(t[column][i]))
            xb.append(float(t[column][j]))
            keys.append(k)
    return np.array(xa), np.array(xb), keys


def _cells(keys) -> np.ndarray:
    return np.array([f"{d!r}|{c}" for d, c, _ in keys])


def _order(levels) -> list:
    seen = []
    for c in levels:
        if str(c) not in seen:
            seen.append(str(c))
    return seen


#: cells smaller than this leave the spread and the complexity-difference claims undecided: the
#: values of a cell are centred or ranked within it, which makes its units dependent, and at 3
#: per cell their tests were measurably liberal (docs/study.md §5)
MIN_CELL = 5


def _smallest_cell(cells) -> int:
    _, counts = np.unique(cells, return_counts=True)
    return int(counts.min()) if counts.size else 0


def claim_estimates(table, settings, *, bound: str = "lower", only=None, complexities=None,
                    seed: int | None = None) -> dict:
    """``{claim id: Estimate}`` with f_QP read from its ``bound`` ("lower" or "upper").

    ``table`` must already hold only the networks that count (see :func:`evaluate_claims`).
    """
    s = settings
    t = table
    kw = {"n_perm": s.n_perm, "confidence": s.confidence}
    base = s.seed if seed is None else seed
    f = f"fqp_{bound}"
    out = {}

    def want(cid):
        return only is None or cid in only

    def rng(cid):  # one stream per claim: adding a claim never shifts the others
        return np.random.default_rng([base, sum(map(ord, cid))])

    rl = t["paradigm"] == "rl"
    if want("hybrid_rl"):
        a, b, _ = _pairs(t, f)
        out["hybrid_rl"] = st.paired_mean(a - b, sesoi=s.sesoi_fqp, rng=rng("hybrid_rl"), **kw)
    if want("hybrid_rl_matched") and np.any(t["paradigm"] == "rl_matched"):
        a, b, _ = _pairs(t, f, "rl_matched", "sl_matched")
        out["hybrid_rl_matched"] = st.paired_mean(a - b, sesoi=s.sesoi_fqp,
                                                  rng=rng("hybrid_rl_matched"), **kw)
    if want("sl_fixed_points"):
        x = t[f][t["paradigm"] == "sl"].astype(float)
        out["sl_fixed_points"] = st.mean_below(x[np.isfinite(x)], margin=s.sl_zero_margin,
                                               n_boot=s.n_boot, rng=rng("sl_fixed_points"),
                                               confidence=s.confidence)
    if want("qp_low_coherence"):
        lo, hi = t[f"fqp_lowcoh_{bound}"], t[f"fqp_highcoh_{bound}"]
        m = rl & np.isfinite(lo) & np.isfinite(hi) & (t[f] > 0)
        out["qp_low_coherence"] = st.paired_mean(lo[m] - hi[m], sesoi=s.sesoi_fqp,
                                                 rng=rng("qp_low"), **kw)
    m = rl & np.isfinite(t[f])
    if want("qp_delta"):
        span = float(np.ptp(t["delta"][m])) if m.any() else 0.0
        out["qp_delta"] = st.trend(t["delta"][m], t[f][m], strata=t["complexity"][m],
                                   span=span, sesoi=s.sesoi_fqp, rng=rng("qp_delta"), **kw)
    if want("similar_performance"):
        a, b, _ = _pairs(t, "accuracy_hard")
        out["similar_performance"] = st.equivalence(
            a - b, margin=s.accuracy_margin, rng=rng("similar_performance"), **kw)
    m = m & np.isfinite(t["accuracy_hard"])
    cells = np.array([f"{d!r}|{c}" for d, c in zip(t["delta"], t["complexity"])])
    if want("qp_accuracy"):
        out["qp_accuracy"] = st.within_rank_correlation(
            t[f][m], t["accuracy_hard"][m], cells=cells[m], sesoi=s.sesoi_rho,
            rng=rng("qp_accuracy"), **kw)
    if want("qp_accuracy_complexity"):
        levels = [c for c in (_order(t["complexity"]) if complexities is None
                              else list(complexities)) if np.any(t["complexity"][m] == c)]
        g = m & np.isin(t["complexity"], [levels[0], levels[-1]]) if len(levels) >= 2 else m
        if len(levels) >= 2 and _smallest_cell(cells[g]) >= MIN_CELL:
            out["qp_accuracy_complexity"] = st.correlation_difference(
                t[f][g], t["accuracy_hard"][g], cells=cells[g],
                group=(t["complexity"][g] == levels[-1]).astype(int), strata=t["delta"][g],
                sesoi=s.sesoi_rho, rng=rng("qp_accuracy_complexity"), **kw)
        else:
            out["qp_accuracy_complexity"] = st.nan_estimate(int(m.sum()))
    if want("qp_trial_relevance") and "relevance_near_qp_low" in t:
        x = np.asarray(t["relevance_near_qp_low"], float)[rl]
        x = x[np.isfinite(x)]
        e = st.mean_below(-x, margin=-s.relevance_share, n_boot=s.n_boot,
                          rng=rng("qp_trial_relevance"), confidence=s.confidence)
        out["qp_trial_relevance"] = st.Estimate(-e.value, -e.high, -e.low, e.p_support,
                                                e.p_against, e.n)
    if want("balance") or want("balance_spread"):
        a, b, keys = _pairs(t, "balance")
        if want("balance"):
            out["balance"] = st.paired_mean(a - b, sesoi=s.sesoi_balance, rng=rng("balance"),
                                            **kw)
        if want("balance_spread") and _smallest_cell(_cells(keys)) < MIN_CELL:
            out["balance_spread"] = st.nan_estimate(len(keys))
        elif want("balance_spread"):
            out["balance_spread"] = st.spread_difference(
                a, b, cells=_cells(keys), sesoi=s.sesoi_spread, rng=rng("balance_spread"),
                **kw)
    return out


_MIN_N = {"balance_spread": 6, "qp_accuracy_complexity": 10, "qp_accuracy": 6}


def _combine(estimates: dict, cid: str) -> tuple:
    """Both bounds -> (reported Estimate per bound, p_support, p_against) by intersection-union."""
    per = {b: e[cid] for b, e in estimates.items() if cid in e}
    if cid not in FQP_CLAIMS:
        e = per["lower"]
        return {"both": e}, e.p_support, e.p_against
    ps = [e.p_support for e in per.values()]
    pa = [e.p_against for e in per.values()]
    worst = (max(ps) if all(np.isfinite(ps)) else np.nan,
             max(pa) if all(np.isfinite(pa)) else np.nan)
    return per, worst[0], worst[1]


def _verdicts(table, settings, complexities, seed) -> list[dict]:
    """Claims without stability: estimates, Holm-adjusted p-values and verdicts."""
    s = settings
    est = {b: claim_estimates(table, s, bound=b, complexities=complexities, seed=seed)
           for b in ("lower", "upper")}
    ids = [c for c in CLAIMS if c in est["lower"]]
    rows = []
    for cid in ids:
        per, ps, pa = _combine(est, cid)
        rows.append({"id": cid, "per": per, "p_support": ps, "p_against": pa})
    hs, ha = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for family in (True, False):   # the four main claims, then the secondary ones
        idx = [i for i, r in enumerate(rows) if (r["id"] in MAIN_CLAIMS) == family]
        hs[idx] = st.holm([rows[i]["p_support"] for i in idx])
        ha[idx] = st.holm([rows[i]["p_against"] for i in idx])
    for r, a, b in zip(rows, hs, ha):
        r["p_support_holm"], r["p_against_holm"] = float(a), float(b)
        n = min(e.n for e in r["per"].values())
        if n < _MIN_N.get(r["id"], 3) or not np.isfinite(a) or not np.isfinite(b):
            r["verdict"] = st.INCONCLUSIVE
            r["reason"] = (f"too few usable networks (n = {n}; the spread and complexity "
                           f"claims also need {MIN_CELL} per cell)")
        elif b < s.alpha:
            r["verdict"] = st.NOT_REPRODUCED
            r["reason"] = (f"an effect >= the smallest effect of interest is ruled out "
                           f"(Holm p = {b:.3g} < {s.alpha:g})")
        elif a < s.alpha:
            r["verdict"] = st.REPRODUCED
            r["reason"] = f"no-effect rejected (Holm p = {a:.3g} < {s.alpha:g})"
        else:
            r["verdict"] = st.INCONCLUSIVE
            r["reason"] = (f"neither no-effect (Holm p = {a:.3g}) nor a meaningful effect "
                           f"(Holm p = {b:.3g}) is rejected")
        if r["id"] in FQP_CLAIMS and r["verdict"] != st.INCONCLUSIVE:
            r["reason"] += " under both f_QP bounds"
    return rows


def _resample_units(t: dict, rng) -> dict:
    """The table of a resample of initialisations, drawn with replacement within each cell
    (a unit keeps all its networks); resampled units get fresh seed numbers."""
    keys = _keys(t, range(len(t["paradigm"])))
    by_unit: dict = {}
    for i, k in enumerate(keys):
        by_unit.setdefault(k, []).append(i)
    by_cell: dict = {}
    for k in by_unit:
        by_cell.setdefault(k[:2], []).append(k)
    rows, seeds = [], []
    for _cell, units in sorted(by_cell.items()):
        pick = rng.integers(0, len(units), len(units))
        for j, u in enumerate(pick):
            rows += by_unit[units[u]]
            seeds += [j] * len(by_unit[units[u]])
    out = {k: np.asarray(v)[rows] for k, v in t.items()}
    out["seed"] = np.array(seeds)
    return out


def evaluate_claims(table, settings, *, complexities=None, reruns=()) -> list[dict]:
    """Every claim: estimates (both f_QP bounds), tests, Holm-corrected verdicts, stability,
    and the same estimates on the untrained networks.

    ``reruns`` are the run tables of reruns of the same design with other seeds (independent
    initialisations: no (delta, complexity, seed) unit may appear in ``table`` and a rerun, or
    in two reruns). Each claim's ``rerun_stability`` is then the share of reruns whose verdict
    equals the verdict of ``table`` (None without reruns), and a verdict that holds in at most
    ``settings.stability_min`` of them is not called reproduced or not reproduced.

    ``complexities`` orders the complexity levels from easiest to hardest (default: their
    order of first appearance). Each entry holds ``id``, ``claim``, ``paper``, ``source``,
    ``measure``, ``test``, ``estimate`` (per bound: value, low, high, p_support, p_against,
    n), ``p_support``, ``p_against`` and their Holm adjustments, ``verdict``, ``reason``,
    ``stability`` (share of resamples of the networks giving the same verdict; None when not
    computed) and ``untrained`` (the estimates on the update-0 networks, where available).
    """
    s = settings
    t = trained_networks(validate_table(table), s)
    rows = _verdicts(t, s, complexities, None)
    stab = {r["id"]: None for r in rows}
    if s.stability_resamples > 0 and len(t["paradigm"]):
        rng = np.random.default_rng([s.seed, 99])
        light = dataclasses.replace(s, n_perm=min(s.n_perm, s.stability_perm),
                                    n_boot=min(s.n_boot, s.stability_perm))
        same = {r["id"]: 0 for r in rows}
        for k in range(s.stability_resamples):
            for r in _verdicts(_resample_units(t, rng), light, complexities, s.seed + 1 + k):
                if r["id"] in same:
                    same[r["id"]] += r["verdict"] == next(x["verdict"] for x in rows
                                                          if x["id"] == r["id"])
        stab = {k: v / s.stability_resamples for k, v in same.items()}
    again = _rerun_agreement(validate_table(table), rows, reruns, s, complexities)
    untrained = _untrained(t, s, complexities)
    out = []
    for r in rows:
        claim, paper, source = CLAIMS[r["id"]]
        verdict, reason = r["verdict"], r["reason"]
        share = stab[r["id"]]
        if share is not None and verdict != st.INCONCLUSIVE and share <= s.stability_min:
            reason = (f"{verdict} in the full data ({reason}) but in only {share:.0%} of "
                      f"{s.stability_resamples} resamples of the networks")
            verdict = st.INCONCLUSIVE
        held = again.get(r["id"])
        if held is not None and verdict != st.INCONCLUSIVE and held <= s.stability_min:
            reason = (f"{verdict} in this run ({reason}) but the same in only {held:.0%} of "
                      f"{len(reruns)} rerun(s) with other seeds")
            verdict = st.INCONCLUSIVE
        measure, test = _MEASURES[r["id"]]
        out.append({
            "id": r["id"], "claim": claim, "paper": paper, "source": source,
            "measure": measure, "test": test,
            "estimate": {b: e.to_dict() for b, e in r["per"].items()},
            "p_support": _num(r["p_support"]), "p_against": _num(r["p_against"]),
            "p_support_holm": _num(r["p_support_holm"]),
            "p_against_holm": _num(r["p_against_holm"]),
            "verdict": verdict, "reason": reason, "stability": share,
            "rerun_stability": held, "n_reruns": len(reruns),
            "untrained": untrained.get(r["id"]),
        })
    return out


def _units(t: dict) -> set:
    return set(_keys(t, range(len(t["paradigm"]))))


def _rerun_agreement(t: dict, rows: list[dict], reruns, s, complexities) -> dict:
    """Per claim id, the share of ``reruns`` (run tables with other seeds) whose verdict is the
    verdict of ``rows`` (the claims of the whole table ``t``); empty without reruns."""
    reruns = list(reruns)
    if not reruns:
        return {}
    seen = _units(t)
    same = {r["id"]: 0 for r in rows}
    verdict = {r["id"]: r["verdict"] for r in rows}
    for k, other in enumerate(reruns):
        full = validate_table(other)
        units = _units(full)
        shared = seen & units
        if shared:
            delta, complexity, seed = sorted(shared)[0][:3]
            raise ValidationError(
                f"reruns[{k}]: expected a rerun with other seeds (independent "
                f"initialisations), received {len(shared)} unit(s) already in the study or an "
                f"earlier rerun, e.g. delta={delta}, complexity={complexity!r}, seed={seed}")
        seen |= units
        for r in _verdicts(trained_networks(full, s), s, complexities, None):
            if r["id"] in same:
                same[r["id"]] += r["verdict"] == verdict[r["id"]]
    return {k: v / len(reruns) for k, v in same.items()}


def _num(v):
    return None if v is None or not np.isfinite(v) else float(v)


_UNTRAINED = ("fqp_lower", "fqp_upper", "fqp_lowcoh_lower", "fqp_lowcoh_upper",
              "fqp_highcoh_lower", "fqp_highcoh_upper", "balance")


def _untrained(t: dict, s, complexities) -> dict:
    """The claims' estimates with f_QP and balance of the update-0 networks (same units)."""
    cols = {c: c.replace("fqp", "fqp_untrained") if c != "balance" else "balance_untrained"
            for c in _UNTRAINED}
    if not all(v in t for v in cols.values()):
        return {}
    u = dict(t)
    for c, v in cols.items():
        u[c] = t[v]
    out = {}
    for b in ("lower", "upper"):
        for cid, e in claim_estimates(u, s, bound=b, complexities=complexities).items():
            if cid in ("similar_performance", "qp_trial_relevance"):
                continue   # not a function of the untrained networks' f_QP or balance
            out.setdefault(cid, {})[b if cid in FQP_CLAIMS else "both"] = e.to_dict()
    return out
