"""The report's figures (matplotlib; each function returns a Figure).

``runs`` are the per-run dicts of :func:`.report.load_maps` (summary + arrays of
``analysis.npz``); ``table`` is the run table; ``cells`` the cell summaries.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FIGURES"]

COLORS = {"rl": "#c0392b", "sl": "#2471a3", "rl_matched": "#e67e22", "sl_matched": "#17a589"}
LABEL_COLORS = {"fixed_point": "#d5dbdb", "periodic": "#82e0aa", "quasi_periodic": "#c0392b",
                "chaotic": "#7d3c98", "divergent": "#17202a", "undetermined": "#f5b041"}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def attractor_maps(runs, table, cells, levels):
    """Share of networks whose onset-state attractor is QP (lower bound) and QP or undetermined
    (upper bound) at each grid point, per context: RL vs SL, trained and untrained."""
    plt = _plt()
    good = [x for x in runs if "labels" in x]
    if not good:
        return None
    contexts = good[0]["contexts"]
    axis = good[0]["coherence_axis"]
    rows = [("rl", "labels"), ("sl", "labels"), ("rl", "labels_untrained")]
    fig, axes = plt.subplots(len(rows), 2 * len(contexts),
                             figsize=(2.6 * 2 * len(contexts) + 1, 2.5 * len(rows)),
                             squeeze=False, layout="constrained")
    half = (axis[1] - axis[0]) / 2 if axis.size > 1 else 1.0
    extent = [axis[0] - half, axis[-1] + half, axis[0] - half, axis[-1] + half]
    im = None
    for r, (paradigm, key) in enumerate(rows):
        sel = [x[key][..., 0] for x in good if x["summary"]["paradigm"] == paradigm
               and key in x and x[key].shape[1] == axis.size]
        for i, k in enumerate(contexts):
            for j, (name, labs) in enumerate((("lower", ("quasi_periodic",)),
                                              ("upper", ("quasi_periodic", "undetermined")))):
                ax = axes[r, 2 * i + j]
                share = (np.mean([np.isin(s[i], labs) for s in sel], axis=0) if sel
                         else np.full((axis.size, axis.size), np.nan))
                im = ax.imshow(share.T, origin="lower", vmin=0, vmax=1, cmap="magma",
                               extent=extent, aspect="auto")
                title = "untrained" if key.endswith("untrained") else "trained"
                ax.set_title(f"{paradigm.upper()} {title} (n={len(sel)}), ctx {k}, {name}",
                             fontsize=7)
                ax.set_xlabel("c1 (%)", fontsize=7)
                ax.set_ylabel("c2 (%)", fontsize=7)
    fig.colorbar(im, ax=axes, shrink=0.7, label="share of networks with a QP attractor")
    return fig


def fqp_delta(runs, table, cells, levels):
    """Mean f_QP bounds (t intervals) against delta, trained (solid) and untrained (dashed)."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(levels), figsize=(4.0 * len(levels), 3.3), squeeze=False,
                             sharey=True)
    for ax, c in zip(axes[0], levels):
        for p in ("rl", "sl"):
            rows = sorted((x for x in cells if x["paradigm"] == p and x["complexity"] == c),
                          key=lambda x: x["delta"])
            if not rows:
                continue
            d = np.array([x["delta"] for x in rows])
            for stem, ls in (("fqp", "-"), ("fqp_untrained", "--")):
                lo = np.array([_f(x.get(f"{stem}_lower")) for x in rows])
                hi = np.array([_f(x.get(f"{stem}_upper")) for x in rows])
                if np.all(np.isnan(lo)):
                    continue
                lo_ci = np.array([_f(x.get(f"{stem}_lower_low")) for x in rows])
                hi_ci = np.array([_f(x.get(f"{stem}_upper_high")) for x in rows])
                ax.fill_between(d, np.where(np.isnan(lo_ci), lo, lo_ci),
                                np.where(np.isnan(hi_ci), hi, hi_ci), color=COLORS[p],
                                alpha=0.12 if ls == "-" else 0.05)
                ax.plot(d, lo, ls, marker="o", color=COLORS[p], ms=4,
                        label=f"{p.upper()} {'trained' if ls == '-' else 'untrained'}")
                ax.plot(d, hi, ls, marker="^", color=COLORS[p], ms=4)
        ax.set_title(f"complexity: {c}", fontsize=9)
        ax.set_xlabel("initialisation width delta")
    axes[0, 0].set_ylabel("f_QP: lower (o) and upper (^) bound; band: 95% CIs")
    _legend(axes[0, 0], fontsize=7)
    return fig


def balance(runs, table, cells, levels):
    """Balance index per network, by paradigm and delta (trained; untrained in grey)."""
    plt = _plt()
    rng = np.random.default_rng(0)
    deltas = sorted(set(float(d) for d in table["delta"]))
    fig, ax = plt.subplots(figsize=(1.5 + 1.2 * 2 * len(deltas), 3.3))
    k = 0
    ticks = []
    for d in deltas:
        for p in ("rl", "sl"):
            m = (table["paradigm"] == p) & (table["delta"] == d)
            for col, color in (("balance", COLORS[p]), ("balance_untrained", "0.6")):
                if col not in table:
                    continue
                v = np.asarray(table[col][m], float)
                v = v[np.isfinite(v)]
                ax.scatter(k + rng.uniform(-0.15, 0.15, v.size), v, s=12, color=color,
                           alpha=0.6)
                if v.size:
                    ax.hlines(v.mean(), k - 0.25, k + 0.25, color="k")
                ticks.append((k, f"{p.upper()} d={d:g}" + (" init" if "untrained" in col
                                                           else "")))
                k += 1
    ax.set_xticks([t[0] for t in ticks], [t[1] for t in ticks], rotation=40, fontsize=7)
    ax.set_ylabel("balance index B (per network)")
    ax.set_ylim(-0.05, 1.05)
    return fig


def fqp_accuracy(runs, table, cells, levels):
    """f_QP (lower bound) against hard-trial accuracy per complexity level."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(levels), figsize=(3.6 * len(levels), 3.2), squeeze=False,
                             sharey=True)
    for ax, c in zip(axes[0], levels):
        for p in ("rl", "sl"):
            m = (table["paradigm"] == p) & (table["complexity"] == c)
            ax.scatter(table["fqp_lower"][m], table["accuracy_hard"][m], s=14, color=COLORS[p],
                       alpha=0.7, label=p.upper())
        if "ideal_observer_hard" in table:
            io = np.nanmean(table["ideal_observer_hard"][table["complexity"] == c])
            ax.axhline(io, color="k", ls=":", lw=0.8, label="ideal observer")
        ax.set_title(f"complexity: {c}", fontsize=9)
        ax.set_xlabel("f_QP (lower bound)")
        _legend(ax, fontsize=7)
    axes[0, 0].set_ylabel("accuracy on hard held-out trials")
    return fig


def examples(runs, table, cells, levels):
    """Orbit, Poincare section and fixed points of the RL and the SL network with the highest
    f_QP."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    shown = {x["summary"]["paradigm"]: x for x in example_runs(runs)}
    for ax, p in zip(axes, ("rl", "sl")):
        if p not in shown:
            ax.set_axis_off()
            continue
        x = shown[p]
        s = x["summary"]
        orbit, sec = x["example_orbit"], x["example_section"]
        fps, stable = x["example_fixed_points"], x["example_fp_stable"].astype(bool)
        if orbit.size:
            ax.plot(orbit[:, 0], orbit[:, 1], ".", ms=2, color="0.5", label="orbit (map)")
        if sec.size:
            ax.scatter(sec[:, 0], sec[:, 1], s=8, color=COLORS[p], label="Poincare section")
        if fps.size:
            ax.scatter(fps[stable, 0], fps[stable, 1], marker="o", color="k", s=30,
                       label="stable FP")
            ax.scatter(fps[~stable, 0], fps[~stable, 1], marker="o", facecolors="none",
                       edgecolors="k", s=30, label="unstable FP")
        ax.set_title(f"{s['run_id']}: {s.get('example_label')}", fontsize=8)
        ax.set_xlabel("PC 1")
        ax.set_ylabel("PC 2")
        _legend(ax, fontsize=6, loc="best", framealpha=0.6)
    return fig


def example_runs(runs) -> list[dict]:
    """The runs the example figure shows: per paradigm (RL, SL), the one with the highest
    f_QP lower bound among those that recorded an example orbit."""
    out = []
    for p in ("rl", "sl"):
        cand = [x for x in runs if x["summary"]["paradigm"] == p and "example_orbit" in x]
        if cand:
            out.append(max(cand, key=lambda r: (r["summary"].get("fqp_lower") or 0.0)))
    return out


def learning_curves(runs, table, cells, levels):
    """Evaluation accuracy against trials seen, per network, per complexity level."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(levels), figsize=(4.0 * len(levels), 3.2), squeeze=False,
                             sharey=True)
    for ax, c in zip(axes[0], levels):
        for x in runs:
            s = x["summary"]
            if s["complexity"] != c or "history_trials" not in x:
                continue
            ax.plot(x["history_trials"], x["history_accuracy"], lw=0.7, alpha=0.5,
                    color=COLORS.get(s["paradigm"], "k"))
            if s.get("criterion") is not None:
                ax.axhline(s["criterion"], color="k", ls=":", lw=0.6)
        ax.set_xscale("symlog", linthresh=1000)
        ax.set_xlim(left=0)
        ax.set_title(f"{c} (RL red, SL blue; ablation: RL orange, SL green)", fontsize=8)
        ax.set_xlabel("trials seen")
    axes[0, 0].set_ylabel("greedy accuracy (fresh trials)")
    return fig


def populations(runs, table, cells, levels):
    """Mean population fractions G+, G-, Ga, Gs of N per paradigm and delta."""
    plt = _plt()
    cols = [c for c in ("frac_Gplus", "frac_Gminus", "frac_Ga", "frac_Gs") if c in table]
    if not cols:
        return None
    deltas = sorted(set(float(d) for d in table["delta"]))
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * 2 * len(deltas), 3.2))
    names, bottoms = [], None
    groups = [(p, d) for d in deltas for p in ("rl", "sl")]
    colors = ["#c0392b", "#2471a3", "#8e44ad", "#bdc3c7"]
    bottoms = np.zeros(len(groups))
    for col, color in zip(cols, colors):
        vals = np.array([np.nanmean(table[col][(table["paradigm"] == p)
                                               & (table["delta"] == d)])
                         if np.any((table["paradigm"] == p) & (table["delta"] == d)) else 0.0
                         for p, d in groups])
        vals = np.nan_to_num(vals)
        ax.bar(range(len(groups)), vals, bottom=bottoms, color=color,
               label=col.replace("frac_", "").replace("plus", "+").replace("minus", "-"))
        bottoms += vals
        names = [f"{p.upper()} d={d:g}" for p, d in groups]
    ax.set_xticks(range(len(groups)), names, rotation=30, fontsize=7)
    ax.set_ylabel("fraction of units")
    _legend(ax, fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return fig


def relevance(runs, table, cells, levels):
    """Share of trial-time states near the frozen-input attractor of their condition."""
    plt = _plt()
    cols = [("relevance_near_qp_low", "stim, QP, lowest coh"),
            ("relevance_near_qp_high", "stim, QP, other coh"),
            ("relevance_near_fp_low", "stim, FP, lowest coh"),
            ("relevance_near_fp_high", "stim, FP, other coh"),
            ("relevance_delay_near", "delay, decision attr.")]
    cols = [(c, n) for c, n in cols if c in table]
    if not cols:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    rng = np.random.default_rng(1)
    for j, (col, _) in enumerate(cols):
        for k, p in enumerate(("rl", "sl")):
            v = np.asarray(table[col][table["paradigm"] == p], float)
            v = v[np.isfinite(v)]
            x = j + (k - 0.5) * 0.35
            ax.scatter(x + rng.uniform(-0.08, 0.08, v.size), v, s=10, color=COLORS[p],
                       alpha=0.6, label=p.upper() if j == 0 else None)
            if v.size:
                ax.hlines(v.mean(), x - 0.12, x + 0.12, color="k")
    ax.set_xticks(range(len(cols)), [n for _, n in cols], rotation=20, fontsize=7)
    ax.set_ylabel("share of states near the attractor")
    ax.set_ylim(-0.05, 1.05)
    _legend(ax, fontsize=7)
    return fig


def crystallisation(runs, table, cells, levels):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.2, 3.1))
    for x in runs:
        u, sim = x.get("ckpt_updates", np.zeros(0)), x.get("ckpt_similarity", np.zeros(0))
        if u.size > 1:
            ax.plot(u / max(u[-1], 1), sim, color=COLORS.get(x["summary"]["paradigm"], "k"),
                    alpha=0.4, lw=0.8)
    ax.axhline(0.9, color="k", ls=":", lw=0.8)
    ax.set_xlabel("training progress (update / final update)")
    ax.set_ylabel("Jaccard similarity of G+/G- to final")
    ax.set_title("population crystallisation (RL red, SL blue)", fontsize=9)
    return fig


def _legend(ax, **kw):
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _f(v):
    return np.nan if v is None else float(v)


#: (title, function): the report's figures, in order
FIGURES = (
    ("Attractor maps over signed coherence per context (share of networks; lower and upper "
     "bound)", attractor_maps),
    ("f_QP against the initialisation width, trained and untrained", fqp_delta),
    ("Balance distributions", balance),
    ("f_QP against hard-trial accuracy, per complexity", fqp_accuracy),
    ("Example attractors: Poincare sections and fixed points", examples),
    ("Learning curves", learning_curves),
    ("Populations", populations),
    ("Trial relevance: trial-time states near the frozen-input attractors", relevance),
    ("Crystallisation of populations across training", crystallisation),
)
