"""A self-contained HTML report of an :class:`~attractorkit.Analysis`.

One file, no external resources: figures are embedded as base64 PNG, the style sheet is
inline, there is no script. It opens in any browser, offline, and can be mailed as it is.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

import numpy as np

from ..core._files import check_name, output_dir, write_text
from ._labels import LABEL_ORDER, attractor_labels

__all__ = ["write_report", "render_html", "summary_rows"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:64em;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;
margin-top:1.6em}table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:.6em 1em .6em 0;vertical-align:top}
figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555;max-width:40em}pre{background:#f7f7f7;padding:.6em;
overflow-x:auto;font-size:.85em}.muted{color:#777}
"""

_CAPTIONS = {
    "eigenvalues": "Eigenvalues of the Jacobian at every fixed point found; a point is stable "
                   "when all its eigenvalues lie inside the unit circle (map) or left of the "
                   "imaginary axis (flow).",
    "state_space": "Sample trajectories (lines, dots at their start) and fixed points "
                   "(filled: stable, crosses: unstable) on the first two principal components.",
    "poincare": "Asymptotic behaviour of the sample trajectories: points for a cycle, closed "
                "curves for a torus, scattered sets for chaos.",
    "census": "Attractor type reached from the sampled initial states at each input condition.",
    "lyapunov": "Largest Lyapunov exponent (median over initial states): negative for fixed "
                "points, about zero for cycles and tori, positive for chaos.",
    "selectivity": "Mutual information between each unit's activity and each task variable.",
    "qp_bounds": "Share of initial states reaching a quasi-periodic attractor at each input "
                 "condition, as bounds: lower, the runs labelled quasi-periodic with confidence "
                 ">= 0.9; upper, the runs labelled quasi-periodic or undetermined.",
}


# -- the summary table (shared with Analysis.summary) ------------------------------------------
def summary_rows(a) -> list[tuple[str, str]]:
    """(label, text) rows describing an Analysis, in reading order."""
    rows = [("system", f"{'map' if a.time == 'discrete' else 'flow'} with n_state={a.n_state}, "
                       f"n_input={a.inputs.shape[1]}"),
            ("conditions", _conditions(a))]
    if a.fixed_points is not None:
        rows.append(("fixed points", _fixed_points(a.fixed_points)))
    for cyc in a.cycles or ():
        rows.append((f"cycles (period {_period(cyc)})", _first_line(cyc)))
    labels = attractor_labels(a.census)
    if labels is not None:
        parts = [f"{lab} {100 * np.mean(labels == lab):.0f}%" for lab in LABEL_ORDER
                 if np.any(labels == lab)]
        rows.append(("attractors", f"{labels.size} runs: " + ", ".join(parts)))
    elif a.census is not None:
        rows.append(("census", _first_line(a.census)))
    if getattr(a.census, "qp_bounds", None) is not None:
        rows.append(("quasi-periodic share", _qp_share(a.census)))
    if a.audit is not None:
        rows.append(("audit", _audit(a.audit)))
    if a.lyapunov is not None:
        rows.append(("lyapunov", _lyapunov(a)))
    if a.selectivity is not None:
        rows.append(("selectivity", _selectivity(a.selectivity)))
    if a.state_space is not None:
        ev = ", ".join(f"{100 * e:.0f}%" for e in a.state_space.explained)
        rows.append(("state space", f"{a.state_space.trajectories.shape[0]} sample trajectories;"
                                    f" variance on the leading components {ev}"))
    total = sum(float(v) for v in a.timings.values())
    rows.append(("time", f"{total:.1f} s (" + ", ".join(f"{k} {float(v):.1f} s" for k, v in
                                                       a.timings.items()) + ")"))
    if a.notes:
        rows.append(("warnings", f"{len(a.notes)} (see notes)"))
    return rows


def _conditions(a) -> str:
    n = a.n_conditions
    if n == 1:
        return "1 constant input " + np.array2string(a.inputs[0], precision=3, threshold=8)
    if len(a.grid_shape) > 1:
        grid = " x ".join(str(s) for s in a.grid_shape)
        return f"{n} ({grid} grid over {' x '.join(a.axis_names)})"
    if a.axis_names and a.axis_names[0] != "condition":
        lo, hi = a.axes[0][0], a.axes[0][-1]
        return f"{n} constant inputs along {a.axis_names[0]} ({lo:g} to {hi:g})"
    return f"{n} constant inputs"


def _fixed_points(fp) -> str:
    stable = np.asarray(fp.stable, dtype=bool)
    text = f"{stable.size} found, {int(stable.sum())} stable"
    conv = getattr(fp, "converged", None)
    if conv is not None and not np.all(conv):
        text += f", {int(np.sum(~np.asarray(conv, dtype=bool)))} slow points (not converged)"
    lab = getattr(fp, "label", None)
    if lab is not None and np.size(lab):
        kinds, counts = np.unique(np.asarray(lab), return_counts=True)
        text += " (" + ", ".join(f"{c} {k}" for k, c in zip(kinds, counts)) + ")"
    return text


def _qp_share(census) -> str:
    lo, hi = census.qp_bounds
    sens = census.sensitivity
    level = getattr(sens, "level", 0.9)
    text = (f"[{lo:.1%}, {hi:.1%}] of runs (lower: confidence >= {level:g}; upper: any "
            "confidence or undetermined)")
    if sens is not None:
        slo, shi = sens.range()
        text += (f"; each of {len(sens.names)} thresholds halved/doubled: within "
                 f"[{slo:.1%}, {shi:.1%}]")
    return text


def _audit(audit) -> str:
    held = np.asarray(audit.held, dtype=bool)
    kept = int(held.all(axis=1).sum())
    text = (f"{kept} of {held.shape[0]} re-run conditions kept their labels (runs "
            f"{audit.factor:g}x longer); {int(held.sum())} of {held.size} runs held")
    changes = audit.transitions()
    if changes:
        text += "; changed: " + ", ".join(f"{a}->{b} {k}" for (a, b), k in
                                          sorted(changes.items()))
    return text


def _period(cyc):
    p = getattr(cyc, "requested_period", "?")
    return int(p) if isinstance(p, (int, np.integer)) else p


def _lyapunov(a) -> str:
    ex = np.asarray(a.lyapunov.exponents, dtype=float)
    if ex.size == 0 or not np.isfinite(ex[..., 0]).any():
        return "no finite exponents (all runs diverged)"
    lam = ex[..., 0][np.isfinite(ex[..., 0])]
    unit = "per step" if a.time == "discrete" else "per unit time"
    return (f"largest exponent over {lam.size} runs: median {np.median(lam):.3g}, "
            f"max {lam.max():.3g} ({unit}; {ex.shape[-1]} exponent(s) per run)")


def _selectivity(sel) -> str:
    mi = np.asarray(sel.mi, dtype=float)
    names = [str(v) for v in sel.variables]
    if mi.size == 0:
        return "no units"
    u, v = np.unravel_index(np.nanargmax(mi), mi.shape)
    text = (f"{mi.shape[0]} units x {mi.shape[1]} variables; strongest: unit {u} with "
            f"{names[v]} ({mi[u, v]:.3g})")
    p = getattr(sel, "p_value", None)
    if p is not None and np.isfinite(np.asarray(p, dtype=float)).any():
        text += f"; {int(np.sum(np.asarray(p, dtype=float) < 0.05))} pairs with p < 0.05"
    return text


def _first_line(result) -> str:
    return str(result.summary()).strip().splitlines()[0][:200]


# -- HTML ------------------------------------------------------------------------------------
def render_html(a, *, title=None, dpi=110) -> str:
    """The report as one HTML string."""
    esc = html.escape
    title = title or "attractorkit analysis"
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="muted">{esc(a.model)}<br>written {_dt.datetime.now():%Y-%m-%d %H:%M} by '
        f"attractorkit {esc(_version())}</p>",
        "<h2>Summary</h2>", _table(summary_rows(a), header=("what", "result")),
    ]
    figs = a.figures()
    if figs:
        parts.append("<h2>Figures</h2>")
        for name, fig in figs.items():
            parts.append(_figure(name, fig, dpi))
    parts.append("<h2>Per condition</h2>")
    parts.append(_condition_table(a))
    for label, res in (("Fixed points", a.fixed_points), ("Census", a.census),
                       ("Lyapunov spectra", a.lyapunov), ("Selectivity", a.selectivity)):
        if res is not None:
            parts.append(f"<h2>{label}</h2><pre>{esc(str(res.summary()))}</pre>")
    for cyc in a.cycles or ():
        parts.append(f"<h2>Cycles of period {esc(str(_period(cyc)))}</h2>"
                     f"<pre>{esc(str(cyc.summary()))}</pre>")
    if getattr(a.census, "qp_bounds", None) is not None or a.audit is not None:
        parts.append(_bounds_section(a))
    if a.notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in a.notes)
                     + "</ul>")
    parts.append("<h2>Settings</h2>")
    parts.append(_table(_flatten(a.settings), header=("setting", "value")))
    parts += ["</body>", "</html>"]
    return "\n".join(parts)


def _bounds_section(a, max_rows=400) -> str:
    """The quasi-periodic share as bounds per condition, their sensitivity to the thresholds
    of the decision rules, and the audit of the labels by longer runs."""
    c = a.census
    parts = ['<h2 id="qp-bounds">Quasi-periodic share: bounds, sensitivity, audit</h2>']
    if getattr(c, "qp_bounds", None) is not None:
        drawn = " The figure qp_bounds above draws them." if a.n_conditions > 1 else ""
        parts.append(f"<p>All runs: {html.escape(_qp_share(c))}. Per condition:{drawn}</p>")
        coords = _coordinates(c)
        n = c.qp_lower.shape[0]
        rows = [[i, *(col[i] for col in coords.values()), float(c.qp_lower[i]),
                 float(c.qp_upper[i])] for i in range(min(n, max_rows))]
        parts.append(_table(rows, header=["condition", *coords, "qp share lower",
                                          "qp share upper"]))
        if n > max_rows:
            parts.append(f'<p class="muted">first {max_rows} of {n} conditions shown</p>')
    sens = getattr(c, "sensitivity", None)
    if sens is not None:
        parts.append("<h3>Sensitivity to the thresholds of the decision rules</h3>"
                     "<p>The bounds (all runs) with each threshold halved and doubled, the runs "
                     "re-decided on their stored evidence.</p>")
        rows = [["(as run)", *([_bounds(sens.base)] + [""] * (len(sens.factors) - 1))]]
        rows += [[name, *(_bounds((sens.lower[k, j], sens.upper[k, j]))
                          for j in range(len(sens.factors)))]
                 for k, name in enumerate(sens.names)]
        parts.append(_table(rows, header=["threshold", *(f"x{f:g}" for f in sens.factors)]))
    if a.audit is not None:
        parts.append(_audit_table(a.audit, c, max_rows))
    return "\n".join(parts)


def _audit_table(audit, census, max_rows) -> str:
    coords = _coordinates(census) if census is not None else {}
    held = np.asarray(audit.held, dtype=bool)
    rows = []
    for r, cond in enumerate(np.asarray(audit.conditions)[:max_rows]):
        rows.append([int(cond), *(col[cond] for col in coords.values()),
                     _label_counts(audit.original[r]), _label_counts(audit.audited[r]),
                     f"{int(held[r].sum())} of {held.shape[1]}"])
    return (f"<h3>Audit: labels re-checked by runs {audit.factor:g}x longer</h3>"
            f"<pre>{html.escape(str(audit.summary()))}</pre>"
            + _table(rows, header=["condition", *coords, "census labels", "audit labels",
                                   "runs held"]))


def _coordinates(census) -> dict[str, np.ndarray]:
    """Each grid axis's coordinate per condition (grids of one condition have none)."""
    shape = tuple(census.grid_shape)
    n = int(np.prod(shape))
    if n <= 1:
        return {}
    idx = np.unravel_index(np.arange(n), shape)
    return {str(name): np.asarray(axis, dtype=float)[i]
            for name, axis, i in zip(census.axis_names, census.axes, idx)}


def _label_counts(labels) -> str:
    kinds, counts = np.unique(np.asarray(labels), return_counts=True)
    return ", ".join(f"{k} {c}" for k, c in zip(kinds, counts))


def _bounds(pair) -> str:
    return f"[{pair[0]:.1%}, {pair[1]:.1%}]"


def write_report(a, path, *, title=None) -> Path:
    """Write the HTML report to ``path`` (``.html`` appended if missing) with the safe writer:
    atomically, and replacing a link at ``path`` rather than writing through it."""
    path = Path(path)
    if path.suffix.lower() not in (".html", ".htm"):
        path = path.with_name(path.name + ".html")
    name = check_name(path.name, what="path")
    directory = output_dir(path.parent, argument="path")
    return write_text(directory, name, render_html(a, title=title))


def _figure(name, fig, dpi) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    caption = _CAPTIONS.get(name, "")
    alt = html.escape(f"{name.replace('_', ' ')} figure")
    return (f'<figure id="fig-{name}"><img alt="{alt}" src="data:image/png;base64,{data}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _table(rows, header=None) -> str:
    esc = html.escape
    out = ["<table>"]
    if header:
        out.append("<tr>" + "".join(f"<th>{esc(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(_cell(v) for v in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _cell(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f'<td class="num">{v:.4g}</td>'
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f'<td class="num">{int(v)}</td>'
    return f"<td>{html.escape(str(v))}</td>"


def _condition_table(a, max_rows=400) -> str:
    cols = a.condition_table()
    names = list(cols)
    n = a.n_conditions
    rows = [[i] + [cols[c][i].item() if hasattr(cols[c][i], "item") else cols[c][i]
                   for c in names] for i in range(min(n, max_rows))]
    text = _table(rows, header=["condition"] + names)
    if n > max_rows:
        text += f'<p class="muted">first {max_rows} of {n} conditions shown</p>'
    return text


def _flatten(d, prefix="") -> list[tuple[str, str]]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict) and v:
            rows += _flatten(v, f"{prefix}{k}.")
        else:
            rows.append((f"{prefix}{k}", str(v)))
    return rows


def _version() -> str:
    import attractorkit

    return attractorkit.__version__
