"""Simulated run tables with the study's structure: calibration, coverage and power.

:class:`DesignModel` describes how the numbers of one network arise (a parametric stand-in
for training and analysis), with the design's structure built in: cells delta x complexity,
``n_seeds`` independent initialisations per cell, RL and SL of an initialisation paired through
a shared random effect, f_QP a share of ``n_grid`` grid points (with an undetermined share
between its lower and upper bound), accuracy on the hard held-out trials, the balance index.
Every effect a claim tests is one field, so ``null_model(model, claim)`` switches exactly that
effect off (or puts it on the boundary of an equivalence claim).

Used by the calibration tests (the size of every test and the coverage of its interval at the
cell sizes of the presets), by :func:`power` (the share of simulated studies whose verdict is
"reproduced" under the smallest effects of interest) and by docs/study.md's power analysis.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit, logit

__all__ = ["DesignModel", "simulate_table", "null_model", "rejection_rates", "power",
           "true_values", "coverage",
           "DIRECTIONAL"]

#: the claims with a "no effect" null whose p_support is calibrated
DIRECTIONAL = ("hybrid_rl", "qp_low_coherence", "qp_delta", "qp_accuracy",
               "qp_accuracy_complexity", "balance", "balance_spread")


@dataclasses.dataclass(frozen=True)
class DesignModel:
    """A generative model of the run table (see the module docstring).

    Effects (each 0 under its claim's null): ``hybrid`` (mean f_QP of RL minus SL, at the
    centre of the delta range), ``delta_gain`` (change of mean f_QP(RL) over the delta range),
    ``lowcoh`` (share of QP at low minus high relevant coherence, RL), ``rho_acc`` (within-cell
    correlation of f_QP and accuracy, RL, at the easiest level) and ``rho_growth`` (its increase
    at the hardest level), ``balance`` (mean balance RL minus SL), ``spread`` (SD of SL balance
    minus SD of RL balance). ``acc_gap`` is the mean accuracy of RL minus SL, ``fqp_sl`` the
    mean f_QP of SL networks.
    """

    deltas: tuple = (0.05, 0.1, 0.15)
    complexities: tuple = ("default", "noisy")
    n_seeds: int = 10
    n_grid: int = 162
    fqp_rl: float = 0.15
    fqp_sl: float = 0.03
    sd_unit: float = 0.6
    """SD (logit scale) of the initialisation effect shared by RL and SL of a unit."""
    sd_net: float = 0.8
    """SD (logit scale) of each network's own deviation."""
    undetermined: float = 0.05
    hybrid: float = 0.12
    delta_gain: float = 0.1
    lowcoh: float = 0.1
    accuracy: float = 0.93
    sd_accuracy: float = 0.015
    acc_gap: float = 0.0
    rho_acc: float = 0.3
    rho_growth: float = 0.3
    balance_rl: float = 0.75
    balance: float = 0.1
    sd_balance_rl: float = 0.06
    spread: float = 0.06
    rho_balance: float = 0.3
    """Correlation of RL and SL balance within a unit."""
    fail_rate: float = 0.0
    """Share of networks that miss the training criterion (dropped with their pair)."""

    def cells(self):
        return [(d, c) for d in self.deltas for c in self.complexities]


def _probability(mean, z):
    """Per-network probabilities with the given population mean (on average) and logit noise."""
    return expit(logit(np.clip(mean, 1e-4, 1 - 1e-4)) + z)


def simulate_table(model: DesignModel, rng: np.random.Generator) -> dict:
    """One simulated run table (a dict of columns, one row per network)."""
    m = model
    rows = [(p, d, c, s) for (d, c) in m.cells() for s in range(m.n_seeds) for p in ("rl", "sl")]
    n_units = len(m.cells()) * m.n_seeds
    d_all = np.array([r[1] for r in rows])
    lo_d, hi_d = min(m.deltas), max(m.deltas)
    pos = (d_all - (lo_d + hi_d) / 2) / (hi_d - lo_d) if hi_d > lo_d else 0 * d_all
    level = np.array([m.complexities.index(r[2]) for r in rows], float)
    hard = level / max(len(m.complexities) - 1, 1)
    rl = np.array([r[0] == "rl" for r in rows])
    unit = np.repeat(rng.standard_normal(n_units), 2)
    z = m.sd_unit * unit + m.sd_net * rng.standard_normal(len(rows))
    mean_rl = m.fqp_sl + m.hybrid + m.delta_gain * pos
    p = np.where(rl, _probability(mean_rl, z), _probability(np.full(len(rows), m.fqp_sl), z))
    # the grid: half of the points at low |relevant coherence|, half at high
    g_low = m.n_grid // 2
    g_high = m.n_grid - g_low
    shift = np.where(rl, m.lowcoh / 2, 0.0)
    p_low, p_high = np.clip(p + shift, 0, 1), np.clip(p - shift, 0, 1)
    qp_low, qp_high = rng.binomial(g_low, p_low), rng.binomial(g_high, p_high)
    und_low = rng.binomial(g_low - qp_low, m.undetermined)
    und_high = rng.binomial(g_high - qp_high, m.undetermined)
    table = {"paradigm": np.array([r[0] for r in rows]), "delta": d_all,
             "complexity": np.array([r[2] for r in rows]),
             "seed": np.array([r[3] for r in rows])}
    for name, q, u, g in (("lowcoh", qp_low, und_low, g_low),
                          ("highcoh", qp_high, und_high, g_high),
                          (None, qp_low + qp_high, und_low + und_high, m.n_grid)):
        key = "fqp" if name is None else f"fqp_{name}"
        table[f"{key}_lower"] = q / g
        table[f"{key}_upper"] = (q + u) / g
    # accuracy: within-cell correlation with f_QP (RL), via a Gaussian copula of the logit noise
    rho = np.where(rl, m.rho_acc + m.rho_growth * hard, 0.0)
    rho = np.clip(rho, -0.99, 0.99)
    zs = (z - 0) / np.sqrt(m.sd_unit ** 2 + m.sd_net ** 2)
    e = rho * zs + np.sqrt(1 - rho ** 2) * rng.standard_normal(len(rows))
    table["accuracy_hard"] = m.accuracy - np.where(rl, 0.0, m.acc_gap) + m.sd_accuracy * e
    # balance: paired bivariate normal, clipped to [0, 1]
    sd_sl = max(m.sd_balance_rl + m.spread, 1e-6)
    b_unit = rng.standard_normal(n_units)
    b_own = rng.standard_normal(2 * n_units)
    shared = np.repeat(b_unit, 2)
    e_b = np.sqrt(m.rho_balance) * shared + np.sqrt(1 - m.rho_balance) * b_own
    bal = np.where(rl, m.balance_rl + m.sd_balance_rl * e_b,
                   m.balance_rl - m.balance + sd_sl * e_b)
    table["balance"] = np.clip(bal, 0.0, 1.0)
    if m.fail_rate > 0:
        table["reached_criterion"] = (rng.random(len(rows)) >= m.fail_rate).astype(float)
    return table


def null_model(model: DesignModel, claim: str) -> DesignModel:
    """The model with the effect of ``claim`` switched off (equivalence claims: on the margin)."""
    off = {"hybrid_rl": {"hybrid": 0.0, "delta_gain": 0.0, "lowcoh": 0.0},
           "qp_low_coherence": {"lowcoh": 0.0},
           "qp_delta": {"delta_gain": 0.0},
           "qp_accuracy": {"rho_acc": 0.0, "rho_growth": 0.0},
           "qp_accuracy_complexity": {"rho_growth": 0.0},
           "balance": {"balance": 0.0},
           "balance_spread": {"spread": 0.0}}
    if claim not in off:
        raise KeyError(f"claim: no null model for {claim!r}")
    return dataclasses.replace(model, **off[claim])


def rejection_rates(model: DesignModel, settings, *, n_sim: int, rng: np.random.Generator,
                    claims=DIRECTIONAL, bound: str = "lower") -> dict:
    """Share of simulated tables in which each claim's p_support is below alpha (unadjusted),
    computed with the estimates of the given f_QP ``bound``."""
    from .claims import claim_estimates

    hits = {c: 0 for c in claims}
    for _ in range(n_sim):
        table = simulate_table(model, rng)
        est = claim_estimates(table, settings, bound=bound, only=claims,
                              complexities=model.complexities,
                              seed=int(rng.integers(2 ** 31)))
        for c in claims:
            p = est[c].p_support
            hits[c] += bool(np.isfinite(p) and p < settings.alpha)
    return {c: hits[c] / n_sim for c in claims}


def power(model: DesignModel, settings, *, n_sim: int, rng: np.random.Generator) -> dict:
    """Share of simulated studies in which each claim's verdict (Holm-corrected, both f_QP
    bounds) is "reproduced", and in which it is "not reproduced"."""
    from .claims import evaluate_claims

    out = {}
    for _ in range(n_sim):
        table = simulate_table(model, rng)
        s = dataclasses.replace(settings, seed=int(rng.integers(2 ** 31)),
                                stability_resamples=0)
        for c in evaluate_claims(table, s, complexities=model.complexities):
            r = out.setdefault(c["id"], {"reproduced": 0, "not reproduced": 0})
            if c["verdict"] in r:
                r[c["verdict"]] += 1
    return {k: {v: n / n_sim for v, n in r.items()} for k, r in out.items()}


#: estimands whose target is the population value (estimated from one very large table)
_POPULATION = ("hybrid_rl", "sl_fixed_points", "qp_low_coherence", "qp_delta",
               "similar_performance", "balance", "balance_spread")


def true_values(model: DesignModel, settings, *, rng: np.random.Generator,
                n_seeds: int = 2000, n_tables: int = 200) -> dict:
    """Targets of the intervals under ``model``: population values (one table of ``n_seeds``
    initialisations per cell) for means, trends and spreads; for the within-cell rank
    correlations, whose target depends on the cell size, the mean estimate over ``n_tables``
    tables of the design itself."""
    from .claims import claim_estimates

    light = dataclasses.replace(settings, n_perm=100, n_boot=100)
    big = simulate_table(dataclasses.replace(model, n_seeds=n_seeds), rng)
    est = claim_estimates(big, light, bound="lower", only=_POPULATION,
                          complexities=model.complexities)
    out = {c: e.value for c, e in est.items()}
    acc = {"qp_accuracy": [], "qp_accuracy_complexity": []}
    for _ in range(n_tables):
        e = claim_estimates(simulate_table(model, rng), light, bound="lower", only=tuple(acc),
                            complexities=model.complexities)
        for c in acc:
            acc[c].append(e[c].value)
    for c, v in acc.items():   # not estimable at this design (claims.MIN_CELL): no target
        z = np.arctanh(np.clip(np.asarray(v, float), -0.999, 0.999))
        if np.isfinite(z).any():
            out[c] = float(np.tanh(np.nanmean(z)))
    return {c: v for c, v in out.items() if np.isfinite(v)}


def coverage(model: DesignModel, settings, *, truth: dict, n_sim: int,
             rng: np.random.Generator) -> dict:
    """Share of simulated tables whose interval (``settings.confidence``) contains ``truth``."""
    from .claims import claim_estimates

    hits = {c: 0 for c in truth}
    for _ in range(n_sim):
        e = claim_estimates(simulate_table(model, rng), settings, bound="lower",
                            only=tuple(truth), complexities=model.complexities,
                            seed=int(rng.integers(2 ** 31)))
        for c, v in truth.items():
            hits[c] += bool(e[c].low <= v <= e[c].high)
    return {c: h / n_sim for c, h in hits.items()}
