"""The study's report: claims with bounds, power and stability; the threshold-sensitivity table;
cells (failures included); figures; one self-contained HTML page.

``write_report(out_dir, config)`` reads every finished run under ``out_dir/runs`` and writes
``out_dir/report/``: ``index.html`` (figures embedded, opens offline), ``figures/*.png``,
``claims.md``, ``claims.json`` (claims, sensitivity, cells, the configuration hash) and
``networks.csv`` (the run table, one row per network). Every file goes through the safe writer
(:mod:`attractorkit.core._files`).
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import json
from pathlib import Path

import numpy as np
from scipy import stats as _st

from attractorkit.core._errors import ValidationError
from attractorkit.core._files import output_dir, write_bytes

from .aggregate import cell_summaries, collect_table, table_csv
from .claims import FQP_CLAIMS, evaluate_claims
from .config import StudyConfig
from .figures import FIGURES

__all__ = ["write_report", "claims_markdown", "load_maps", "claim_power", "sensitivity"]

VERDICT_COLORS = {"reproduced": "#d5f5e3", "not reproduced": "#fadbd8",
                  "inconclusive": "#fcf3cf"}


def load_maps(out_dir) -> list[dict]:
    """Per finished run: its summary and the arrays of ``analysis.npz``."""
    from .runner import finished_runs

    runs = []
    for d in finished_runs(out_dir):
        summary = json.loads((d / "summary.json").read_text())
        arrays = {}
        if (d / "analysis.npz").is_file():
            with np.load(d / "analysis.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        runs.append({"summary": summary, **arrays})
    return runs


# -- power and sensitivity -------------------------------------------------------------------
def claim_power(claim: dict, settings, m: int) -> float | None:
    """Approximate power of the claim's verdict "reproduced" at the smallest effect of interest
    (directional claims; equivalence claims: at no difference), from the standard error implied
    by the interval, at Holm's first-step level alpha / m for a family of m claims
    (conservative)."""
    s = settings
    ests = [e for e in claim["estimate"].values() if e["low"] is not None
            and e["high"] is not None]
    if not ests:
        return None
    q = _st.norm.ppf(1 - (1 - s.confidence) / 2)
    se = max((e["high"] - e["low"]) / (2 * q) for e in ests)
    if not se > 0:
        return None
    z = _st.norm.ppf(1 - s.alpha / max(m, 1))
    cid = claim["id"]
    if cid == "similar_performance":
        return float(max(0.0, 2 * _st.norm.cdf(s.accuracy_margin / se - z) - 1))
    if cid == "sl_fixed_points":
        return float(_st.norm.cdf(s.sl_zero_margin / se - z))
    effect = {"qp_accuracy": np.arctanh(s.sesoi_rho), "qp_accuracy_complexity": s.sesoi_rho,
              "balance": s.sesoi_balance, "balance_spread": s.sesoi_spread}.get(cid, s.sesoi_fqp)
    if cid == "qp_accuracy":   # the interval is a Fisher-z one: its SE on the z scale
        e = ests[0]
        se = (np.arctanh(min(e["high"], 0.999999)) - np.arctanh(max(e["low"], -0.999999))) / (
            2 * q)
    return float(_st.norm.cdf(effect / se - z))


def sensitivity(table: dict, config: StudyConfig) -> list[dict]:
    """Verdicts of the f_QP claims with the labels of each classifier threshold variant, on
    the networks that have every variant (``analysis.threshold_seeds``), default included."""
    rows = []
    s = dataclasses.replace(config.stats, stability_resamples=0)
    names = [v for v in config.analysis.threshold_variants if f"fqp_{v}_lower" in table]
    keep = np.ones(len(table["paradigm"]), bool)
    for v in names:
        keep &= np.isfinite(np.asarray(table[f"fqp_{v}_lower"], float))
    table = {k: np.asarray(v)[keep] for k, v in table.items()}
    variants = [("default", "fqp")] + [(v, f"fqp_{v}") for v in names]
    for name, prefix in variants:
        cols = [f"{prefix}{part}_{b}" for part in ("", "_lowcoh", "_highcoh")
                for b in ("lower", "upper")]
        if not all(c in table for c in cols):
            continue
        t = dict(table)
        for part in ("", "_lowcoh", "_highcoh"):
            for b in ("lower", "upper"):
                t[f"fqp{part}_{b}"] = table[f"{prefix}{part}_{b}"]
        for c in evaluate_claims(t, s, complexities=config.complexities):
            if c["id"] in FQP_CLAIMS:
                e = c["estimate"]
                rows.append({"variant": name, "id": c["id"], "verdict": c["verdict"],
                             "lower": e["lower"]["value"], "upper": e["upper"]["value"],
                             "networks": int(keep.sum())})
    return rows


# -- tables ----------------------------------------------------------------------------------
def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "n/a"
    return f"{v:.{digits}g}" if isinstance(v, float) else str(v)


def _number(c) -> str:
    parts = []
    for b, e in c["estimate"].items():
        tag = "" if b == "both" else f"{b}: "
        parts.append(f"{tag}{_fmt(e['value'])} [{_fmt(e['low'])}, {_fmt(e['high'])}]")
    return "; ".join(parts)


def _untrained_number(c) -> str:
    u = c.get("untrained")
    if not u:
        return "n/a"
    return "; ".join(f"{'' if b == 'both' else b + ': '}{_fmt(e['value'])} "
                     f"[{_fmt(e['low'])}, {_fmt(e['high'])}]" for b, e in u.items())


def claims_markdown(claims: list[dict]) -> str:
    lines = ["| claim | our number [95% CI] | untrained | n | Holm p (support / against) | "
             "power | stability | reruns | verdict |", "|---|---|---|---|---|---|---|---|---|"]
    for c in claims:
        n = min(e["n"] for e in c["estimate"].values())
        q = {k: str(c[k]).replace("|", "\\|") for k in ("claim", "reason")}
        lines.append(
            f"| {q['claim']} | {_number(c)} | {_untrained_number(c)} | {n} | "
            f"{_fmt(c['p_support_holm'], 3)} / {_fmt(c['p_against_holm'], 3)} | "
            f"{_fmt(c.get('power'), 2)} | {_fmt(c['stability'], 2)} | {_reruns(c)} | "
            f"**{c['verdict']}**: {q['reason']} |")
    return "\n".join(lines) + "\n"


def _reruns(c) -> str:
    """The share of reruns with other seeds giving the same verdict, and their number."""
    n = c.get("n_reruns") or 0
    return "none" if n == 0 else f"{_fmt(c['rerun_stability'], 2)} of {n}"


def _claims_html(claims):
    rows = []
    for c in claims:
        n = min(e["n"] for e in c["estimate"].values())
        rows.append(
            f"<tr style='background:{VERDICT_COLORS[c['verdict']]}'>"
            f"<td>{html.escape(c['claim'])}<br><small><i>{html.escape(c['paper'])}</i> "
            f"({html.escape(c['source'])})</small></td>"
            f"<td>{html.escape(c['measure'])}: <b>{html.escape(_number(c))}</b>, n = {n}</td>"
            f"<td>{html.escape(_untrained_number(c))}</td>"
            f"<td>{html.escape(c['test'])}; Holm p = {_fmt(c['p_support_holm'], 3)} "
            f"(support), {_fmt(c['p_against_holm'], 3)} (against)</td>"
            f"<td>{_fmt(c.get('power'), 2)}</td><td>{_fmt(c['stability'], 2)}</td>"
            f"<td>{html.escape(_reruns(c))}</td>"
            f"<td><b>{c['verdict']}</b><br><small>{html.escape(c['reason'])}</small></td></tr>")
    return ("<table><tr><th>claim (the paper)</th><th>our number [95% CI]</th>"
            "<th>untrained (update 0)</th><th>test</th><th>power at the SESOI</th>"
            "<th>stability (resampled networks)</th><th>reruns with other seeds</th>"
            "<th>verdict</th></tr>" + "".join(rows) + "</table>")


def _table_html(rows, cols):
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in cols)
                   + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


_SENS_COLS = ("variant", "id", "lower", "upper", "verdict", "networks")
_CELL_COLS = ("paradigm", "delta", "complexity", "n", "failed", "trials_to_criterion",
              "fqp_lower", "fqp_upper", "fqp_untrained_lower", "fqp_untrained_upper",
              "accuracy", "accuracy_hard", "balance", "balance_sd", "balance_untrained")
_EXTRA_COLS = ("mi_context", "mi_relevant_coh", "mi_choice", "mi_epoch",
               "mi_choice_decision_units", "frac_Gplus", "frac_Gminus", "frac_Ga", "frac_Gs",
               "crystallisation_fraction", "crystallisation_time", "share_undetermined",
               "relevance_near", "relevance_near_qp", "relevance_near_fp")

_CSS = ("body{font-family:sans-serif;max-width:1200px;margin:auto;padding:1em}"
        "table{border-collapse:collapse;font-size:12px;margin:1em 0}"
        "td,th{border:1px solid #bbb;padding:3px 6px;vertical-align:top}"
        "img{max-width:100%}h2{margin-top:1.6em}")


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight",
                metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def write_report(out_dir, config: StudyConfig, *, table: dict | None = None,
                 runs: list[dict] | None = None, reruns=()) -> Path:
    """Aggregate the finished runs of ``out_dir`` (or the given run ``table``, e.g. from a
    ``networks.csv``, with the ``runs`` of its ``runs.npz`` if there is one: figures that need
    the runs' arrays are otherwise left out) and write ``out_dir/report/``. ``reruns``: run
    tables of reruns with other seeds, whose verdicts give each claim's rerun stability
    (:func:`evaluate_claims`). Returns the path of ``index.html``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    out_dir = Path(out_dir)
    if table is None:
        runs = load_maps(out_dir)
    runs = list(runs or [])
    table = collect_table(out_dir) if table is None else dict(table)
    stats = config.stats
    cells = cell_summaries(table, stats)
    claims = evaluate_claims(table, stats, complexities=config.complexities, reruns=reruns)
    from .claims import MAIN_CLAIMS

    n_main = sum(c["id"] in MAIN_CLAIMS for c in claims)
    for c in claims:
        c["power"] = claim_power(c, stats, n_main if c["id"] in MAIN_CLAIMS
                                 else len(claims) - n_main)
    sens = sensitivity(table, config)
    levels = [c for c in config.complexities if c in set(map(str, table["complexity"]))]
    rep = output_dir(out_dir / "report")
    figs = output_dir(rep / "figures")
    blocks = []
    for k, (title, fn) in enumerate(FIGURES):
        fig = fn(runs, table, cells, levels) if (runs or fn.__name__ in _TABLE_FIGURES) else None
        if fig is None:
            continue
        data = _png(fig)
        write_bytes(figs, f"{k + 1:02d}_{fn.__name__}.png", data)
        blocks.append(f"<h3>{html.escape(title)}</h3><img alt='{html.escape(title)}' "
                      f"src='data:image/png;base64,{base64.b64encode(data).decode()}'>")
    counts = {v: sum(c["verdict"] == v for c in claims) for v in VERDICT_COLORS}
    n_fail = int(sum(c["failed"] for c in cells))
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>attractorkit study: "
        f"{html.escape(config.name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>RL vs SL: hybrid attractor dynamics (Kononov et al., arXiv 2510.11162)</h1>"
        f"<p>Study <b>{html.escape(config.name)}</b>: {len(table['paradigm'])} networks "
        f"(N = {config.n_hidden}; deltas {', '.join(f'{d:g}' for d in config.deltas)}; "
        f"complexities {', '.join(config.complexities)}; {len(config.seeds)} independent "
        f"initialisations per cell, RL and SL paired on each). {n_fail} networks did not reach "
        f"the training criterion"
        f"{'; the claims use only those that did' if stats.criterion_only else ''}. Verdicts "
        f"(Holm-corrected across claims, both f_QP bounds, stable in most resamples"
        f"{f' and in most of {len(reruns)} rerun(s) with other seeds' if reruns else ''}): "
        f"{counts['reproduced']} reproduced, {counts['not reproduced']} not reproduced, "
        f"{counts['inconclusive']} inconclusive. Config hash "
        f"<code>{config.config_hash()[:12]}</code>. Methods: docs/study.md.</p>"
        f"<h2>Claims</h2>{_claims_html(claims)}"
        f"<h2>Classifier threshold sensitivity</h2><p>Verdicts of the f_QP claims when the "
        f"census is rerun with stricter or looser quasi-periodicity thresholds (no stability "
        f"resampling).</p>{_table_html(sens, _SENS_COLS)}"
        f"<h2>Figures</h2>{''.join(blocks)}"
        f"<h2>Cells</h2><p>Means with t intervals over the networks that count; 'failed': "
        f"networks that missed the criterion.</p>{_table_html(cells, _CELL_COLS)}"
        f"<h2>Information, populations, crystallisation, relevance (cell means)</h2>"
        f"{_table_html(cells, ('paradigm', 'delta', 'complexity') + _EXTRA_COLS)}"
        f"</body></html>")
    write_bytes(rep, "index.html", page.encode())
    write_bytes(rep, "claims.md", claims_markdown(claims).encode())
    write_bytes(rep, "claims.json", json.dumps(claims_record(claims), indent=1,
                                               sort_keys=True, allow_nan=False).encode())
    write_bytes(rep, "study.json", json.dumps(
        {"study": config.name, "config_hash": config.config_hash(),
         "n_networks": len(table["paradigm"]), "sensitivity": sens, "cells": cells},
        indent=1, sort_keys=True, allow_nan=False).encode())
    write_bytes(rep, "networks.csv", table_csv(table).encode())
    if runs:
        write_bytes(rep, RUNS_FILE, pack_runs(runs))
    return rep / "index.html"


def claims_record(claims: list[dict]) -> list[dict]:
    """The claims as ``claims.json`` stores them: one object per claim with its ``claim``,
    ``verdict``, ``effect``, ``ci_low``, ``ci_high``, ``power``, ``n`` and ``test`` on top
    (for an f_QP claim, the lower bound's estimate; the upper bound's follows as
    ``effect_upper``, ``ci_low_upper``, ``ci_high_upper``), then every detail of the claim."""
    out = []
    for c in claims:
        est = c["estimate"]
        first = est["lower"] if "lower" in est else next(iter(est.values()))
        top = {"claim": c["claim"], "verdict": c["verdict"], "effect": first["value"],
               "ci_low": first["low"], "ci_high": first["high"], "power": c.get("power"),
               "n": min(e["n"] for e in est.values()), "test": c["test"]}
        if "upper" in est:
            top.update(effect_upper=est["upper"]["value"], ci_low_upper=est["upper"]["low"],
                       ci_high_upper=est["upper"]["high"])
        out.append({**c, **top})
    return out


#: the per-run arrays the figures draw (beside ``networks.csv`` as ``runs.npz``, so that a
#: report regenerated from the committed table alone has every figure)
RUNS_FILE = "runs.npz"
_RUN_ARRAYS = ("labels", "labels_untrained", "coherence_axis", "contexts", "history_trials",
               "history_accuracy", "ckpt_updates", "ckpt_similarity")
_EXAMPLE_ARRAYS = ("example_orbit", "example_section", "example_fixed_points",
                   "example_fp_stable")


def pack_runs(runs: list[dict]) -> bytes:
    """The arrays of ``runs`` the figures need, as a compressed ``.npz`` (no pickles): labels
    as indices into one name list; the example orbits only of the runs the figure shows."""
    from .figures import example_runs

    names = sorted({str(v) for x in runs for k in ("labels", "labels_untrained") if k in x
                    for v in np.unique(x[k])})
    shown = {x["summary"]["run_id"] for x in example_runs(runs)}
    arrays = {"run_id": np.array([str(x["summary"]["run_id"]) for x in runs]),
              "label_names": np.array(names if names else [""])}
    for i, x in enumerate(runs):
        keep = _RUN_ARRAYS + (_EXAMPLE_ARRAYS if x["summary"]["run_id"] in shown else ())
        for k in keep:
            if k not in x:
                continue
            v = np.asarray(x[k])
            if k.startswith("labels"):
                v = np.searchsorted(arrays["label_names"], v).astype(np.int8)
            arrays[f"{i}/{k}"] = v
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def unpack_runs(path, table: dict) -> list[dict]:
    """The runs of a ``runs.npz`` written by :func:`pack_runs`, each with its summary taken
    from the matching row of ``table`` (read bounded, never with pickles)."""
    from attractorkit.core._archive import load_npz

    z = load_npz(path, argument="runs")
    if "run_id" not in z or "label_names" not in z:
        raise ValidationError(f"runs: {str(path)!r} is not a runs file of the study report "
                              f"(keys found: {', '.join(sorted(z)[:8])})")
    ids = [str(v) for v in table["run_id"]]
    rows = {r: i for i, r in enumerate(ids)}
    runs = []
    for i, rid in enumerate(str(v) for v in z["run_id"]):
        if rid not in rows:
            raise ValidationError(f"runs: run {rid!r} of {str(path)!r} is not in the table")
        j = rows[rid]
        summary = {k: _cell(table[k][j]) for k in table}
        x = {"summary": summary}
        for key, v in z.items():
            head, _, name = key.partition("/")
            if head == str(i):
                x[name] = z["label_names"][v] if name.startswith("labels") else v
        runs.append(x)
    return runs


def _cell(v):
    if isinstance(v, (str, np.str_)):
        return str(v)
    v = float(v)
    return None if not np.isfinite(v) else (int(v) if v.is_integer() else v)


#: figures drawn from the run table alone (available in a report from networks.csv)
_TABLE_FIGURES = ("fqp_delta", "balance", "fqp_accuracy", "populations", "relevance")
