"""The study's report: figures of the main panels, a claims table, one self-contained HTML.

``write_report(out_dir, config)`` reads every finished run under ``out_dir/runs`` and writes
``out_dir/report/``: ``index.html`` (figures embedded, opens offline), ``claims.md``,
``claims.json`` (claims, cell summaries, the configuration hash) and ``runs.csv``.
"""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import numpy as np

from attractorkit.core._results import atomic_path

from .aggregate import cell_summaries, collect_table, evaluate_claims
from .config import StudyConfig

__all__ = ["write_report", "claims_markdown", "load_maps"]

COLORS = {"rl": "#c0392b", "sl": "#2471a3"}
VERDICT_COLORS = {"reproduced": "#d5f5e3", "not reproduced": "#fadbd8",
                  "inconclusive": "#fcf3cf"}


def _atomic_write(path: Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def load_maps(out_dir) -> list[dict]:
    """Per finished run: its summary and the arrays of ``analysis.npz``."""
    from .runner import finished_runs

    runs = []
    for d in finished_runs(out_dir):
        summary = json.loads((d / "summary.json").read_text())
        with np.load(d / "analysis.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        runs.append({"summary": summary, **arrays})
    return runs


# -- figures ---------------------------------------------------------------------------------
def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def fig_attractor_maps(runs):
    """Share of networks whose onset-state attractor is QP, per grid point: RL vs SL."""
    import matplotlib.pyplot as plt

    contexts = runs[0]["contexts"]
    axis = runs[0]["coherence_axis"]
    fig, axes = plt.subplots(2, len(contexts), figsize=(3.6 * len(contexts) + 1, 6.4),
                             squeeze=False, layout="constrained")
    half = (axis[1] - axis[0]) / 2 if axis.size > 1 else 1.0
    extent = [axis[0] - half, axis[-1] + half, axis[0] - half, axis[-1] + half]
    for r, paradigm in enumerate(("rl", "sl")):
        sel = [x["labels"][..., 0] == "quasi_periodic" for x in runs
               if x["summary"]["paradigm"] == paradigm and x["labels"].shape[1] == axis.size]
        share = np.mean(sel, axis=0) if sel else np.full((len(contexts), axis.size,
                                                          axis.size), np.nan)
        for i, k in enumerate(contexts):
            ax = axes[r, i]
            im = ax.imshow(share[i].T, origin="lower", vmin=0, vmax=1, cmap="magma",
                           extent=extent, aspect="auto")
            ax.set_title(f"{paradigm.upper()} (n={len(sel)}), context {k}", fontsize=9)
            ax.set_xlabel("signed coherence c1 (%)")
            ax.set_ylabel("signed coherence c2 (%)")
    fig.colorbar(im, ax=axes, shrink=0.8, label="share of networks with a QP attractor")
    return fig


def fig_fqp_delta(cells, complexities):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(complexities), figsize=(3.6 * len(complexities), 3.2),
                             squeeze=False, sharey=True)
    for ax, c in zip(axes[0], complexities):
        for p in ("rl", "sl"):
            rows = sorted((x for x in cells if x["paradigm"] == p and x["complexity"] == c),
                          key=lambda x: x["delta"])
            if not rows:
                continue
            d = np.array([x["delta"] for x in rows])
            m = np.array([np.nan if x["f_qp"] is None else x["f_qp"] for x in rows])
            lo = np.array([np.nan if x["f_qp_low"] is None else x["f_qp_low"] for x in rows])
            hi = np.array([np.nan if x["f_qp_high"] is None else x["f_qp_high"] for x in rows])
            ax.errorbar(d, m, yerr=[np.nan_to_num(m - lo), np.nan_to_num(hi - m)], marker="o",
                        color=COLORS[p], label=p.upper(), capsize=3)
        ax.set_title(f"complexity: {c}", fontsize=9)
        ax.set_xlabel("initialisation width delta")
    axes[0, 0].set_ylabel("f_QP (mean, 95% CI)")
    axes[0, 0].legend()
    return fig


def _strip(ax, groups, labels, colors, rng):
    for i, (vals, col) in enumerate(zip(groups, colors)):
        vals = np.asarray(vals, float)
        vals = vals[np.isfinite(vals)]
        ax.scatter(i + rng.uniform(-0.15, 0.15, vals.size), vals, s=12, color=col, alpha=0.6)
        if vals.size:
            ax.hlines(vals.mean(), i - 0.25, i + 0.25, color="k")
    ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)


def fig_balance(table, deltas):
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * 2 * len(deltas), 3.2))
    groups, labels, colors = [], [], []
    for d in deltas:
        for p in ("rl", "sl"):
            m = (table["paradigm"] == p) & (table["delta"] == d)
            groups.append(table["balance"][m])
            labels.append(f"{p.upper()} d={d:g}")
            colors.append(COLORS[p])
    _strip(ax, groups, labels, colors, rng)
    ax.set_ylabel("balance index B (per network)")
    ax.set_ylim(-0.05, 1.05)
    return fig


def fig_fqp_accuracy(table, complexities):
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    fig, axes = plt.subplots(1, len(complexities), figsize=(3.4 * len(complexities), 3.1),
                             squeeze=False, sharey=True)
    for ax, c in zip(axes[0], complexities):
        for p in ("rl", "sl"):
            m = (table["paradigm"] == p) & (table["complexity"] == c)
            x, y = table["f_qp"][m], table["accuracy"][m]
            ok = np.isfinite(x) & np.isfinite(y)
            rho = (spearmanr(x[ok], y[ok]).statistic if ok.sum() > 2 and np.ptp(x[ok]) > 0
                   and np.ptp(y[ok]) > 0 else np.nan)
            ax.scatter(x, y, s=14, color=COLORS[p], alpha=0.7,
                       label=f"{p.upper()} rho={rho:.2f}")
        ax.set_title(f"complexity: {c}", fontsize=9)
        ax.set_xlabel("f_QP")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("accuracy (fresh trials)")
    return fig


def fig_example(runs):
    """Orbit, Poincare section and fixed points of the RL network with the highest f_QP."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4))
    for ax, p in zip(axes, ("rl", "sl")):
        cand = [x for x in runs if x["summary"]["paradigm"] == p]
        if not cand:
            ax.set_axis_off()
            continue
        x = max(cand, key=lambda r: (r["summary"].get("f_qp") or 0.0))
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
        ax.legend(fontsize=6, loc="best", framealpha=0.6)
    return fig


def fig_crystallisation(runs):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 3.1))
    for x in runs:
        u, sim = x["ckpt_updates"], x["ckpt_similarity"]
        if u.size > 1:
            ax.plot(u / max(u[-1], 1), sim, color=COLORS[x["summary"]["paradigm"]], alpha=0.4,
                    lw=0.8)
    ax.axhline(0.9, color="k", ls=":", lw=0.8)
    ax.set_xlabel("training progress (update / final update)")
    ax.set_ylabel("Jaccard similarity of G+/G- to final")
    ax.set_title("population crystallisation (RL red, SL blue)", fontsize=9)
    return fig


# -- tables ----------------------------------------------------------------------------------
def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def claims_markdown(claims: list[dict]) -> str:
    lines = ["| claim | paper | our number [95% CI] | n | test (p) | verdict |",
             "|---|---|---|---|---|---|"]
    for c in claims:
        e = c["estimate"]
        q = {k: str(c[k]).replace("|", "\\|") for k in ("claim", "paper", "source", "measure",
                                                         "test", "reason")}
        num = f"{q['measure']}: {_fmt(e['value'])} [{_fmt(e['low'])}, {_fmt(e['high'])}]"
        lines.append(f"| {q['claim']} | \"{q['paper']}\" ({q['source']}) | {num} | {e['n']} | "
                     f"{q['test']} (p = {_fmt(e['p_value'], 4)}) | **{c['verdict']}**: "
                     f"{q['reason']} |")
    return "\n".join(lines) + "\n"


def _claims_html(claims):
    rows = []
    for c in claims:
        e = c["estimate"]
        rows.append(
            f"<tr style='background:{VERDICT_COLORS[c['verdict']]}'>"
            f"<td>{html.escape(c['claim'])}</td><td><i>{html.escape(c['paper'])}</i> "
            f"({html.escape(c['source'])})</td><td>{html.escape(c['measure'])}: "
            f"<b>{_fmt(e['value'])}</b> [{_fmt(e['low'])}, {_fmt(e['high'])}], n = {e['n']}"
            f"</td><td>{html.escape(c['test'])}; p = {_fmt(e['p_value'], 4)}</td>"
            f"<td><b>{c['verdict']}</b><br><small>{html.escape(c['reason'])}</small></td></tr>")
    return ("<table><tr><th>claim</th><th>the paper</th><th>our number [95% CI]</th>"
            "<th>test</th><th>verdict</th></tr>" + "".join(rows) + "</table>")


def _cells_html(cells):
    cols = ("paradigm", "delta", "complexity", "n", "f_qp", "f_qp_low", "f_qp_high",
            "accuracy", "balance", "balance_sd", "hit_cap")
    head = "".join(f"<th>{c}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c.get(k))}</td>" for k in cols) + "</tr>"
                   for c in cells)
    return f"<table><tr>{head}</tr>{body}</table>"


def _extra_html(cells):
    cols = [c for c in ("mi_context", "mi_relevant_coh", "mi_coh1", "mi_coh2", "mi_choice",
                        "mi_epoch", "mi_choice_decision_units", "frac_Gplus", "frac_Gminus",
                        "frac_Ga", "frac_Gs", "crystallisation_fraction", "crystallisation_time",
                        "share_undetermined", "updates") if any(c in x for x in cells)]
    if not cols:
        return ""
    keys = ("paradigm", "delta", "complexity")
    head = "".join(f"<th>{c}</th>" for c in keys + tuple(cols))
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c.get(k))}</td>" for k in keys + tuple(cols))
                   + "</tr>" for c in cells)
    return ("<h2>Information, populations and crystallisation (cell means)</h2><p>MI in nats "
            "(mean over units); population fractions of N; crystallisation fraction = "
            "checkpoint update after which G+/G- stay within Jaccard 0.9 of the final ones, "
            "over the final update; crystallisation time = steps after stimulus onset until the "
            "choice decoder stays at 90% of its final accuracy above chance.</p>"
            f"<table><tr>{head}</tr>{body}</table>")


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;font-size:12px;margin:1em 0}"
        "td,th{border:1px solid #bbb;padding:3px 6px;vertical-align:top}"
        "img{max-width:100%}h2{margin-top:1.6em}")


def write_report(out_dir, config: StudyConfig) -> Path:
    """Aggregate the finished runs of ``out_dir`` and write ``out_dir/report/``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    out_dir = Path(out_dir)
    table = collect_table(out_dir)
    if "reached_criterion" in table:
        table["hit_cap"] = 1.0 - table["reached_criterion"]
    stats = config.stats
    cells = cell_summaries(table, stats)
    claims = evaluate_claims(table, stats, complexities=config.complexities)
    runs = load_maps(out_dir)
    levels = [c for c in config.complexities if c in set(table["complexity"])]
    deltas = sorted(set(float(d) for d in table["delta"]))
    figures = [
        ("Attractor maps over coherence space, RL vs SL", fig_attractor_maps(runs)),
        ("f_QP against the initialisation width", fig_fqp_delta(cells, levels)),
        ("Population balance", fig_balance(table, deltas)),
        ("f_QP against accuracy, per complexity", fig_fqp_accuracy(table, levels)),
        ("Example attractors: Poincare sections and fixed points", fig_example(runs)),
        ("Crystallisation of populations across training", fig_crystallisation(runs)),
    ]
    figs_html = "".join(f"<h3>{html.escape(t)}</h3><img alt='{html.escape(t)}' "
                        f"src='data:image/png;base64,{_png(f)}'>" for t, f in figures)
    counts = {v: sum(c["verdict"] == v for c in claims) for v in VERDICT_COLORS}
    n_cap = int(np.nansum(table.get("hit_cap", np.zeros(1))))
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>attractorkit study: "
        f"{html.escape(config.name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>RL vs SL: hybrid attractor dynamics (Kononov et al., arXiv 2510.11162)</h1>"
        f"<p>Study <b>{html.escape(config.name)}</b>: {len(table['paradigm'])} networks "
        f"(N = {config.n_hidden}; deltas {', '.join(f'{d:g}' for d in config.deltas)}; "
        f"complexities {', '.join(config.complexities)}; {len(config.seeds)} seeds). "
        f"{n_cap} networks stopped at the training cap without reaching the criterion"
        f"{'; the claims use only the networks that reached it' if stats.criterion_only else ''}. "
        f"Verdicts: {counts['reproduced']} reproduced, {counts['not reproduced']} not "
        f"reproduced, {counts['inconclusive']} inconclusive. Config hash "
        f"<code>{config.config_hash()[:12]}</code>. Methods: docs/study.md.</p>"
        f"<h2>Claims</h2>{_claims_html(claims)}<h2>Figures</h2>{figs_html}"
        f"<h2>Cells</h2>{_cells_html(cells)}{_extra_html(cells)}</body></html>")
    rep = out_dir / "report"
    _atomic_write(rep / "index.html", page.encode())
    _atomic_write(rep / "claims.md", claims_markdown(claims).encode())
    _atomic_write(rep / "claims.json", json.dumps(
        {"study": config.name, "config_hash": config.config_hash(), "n_runs": len(
            table["paradigm"]), "claims": claims, "cells": cells}, indent=1).encode())
    _atomic_write(rep / "runs.csv", _csv(table).encode())
    return rep / "index.html"


def _csv(table) -> str:
    keys = sorted(table)
    n = len(table[keys[0]])
    lines = [",".join(keys)]
    for i in range(n):
        lines.append(",".join(_fmt(table[k][i].item(), 6) if table[k].dtype.kind == "f"
                              else str(table[k][i]) for k in keys))
    return "\n".join(lines) + "\n"
