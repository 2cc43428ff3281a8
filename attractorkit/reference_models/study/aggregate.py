"""Aggregation: from one row per network to the run table and its cell summaries.

The input of the claims (:mod:`.claims`) is a *run table*: a dict of equal-length 1-D numpy
arrays, one row per network, with at least the columns of :data:`REQUIRED_COLUMNS`
(:func:`collect_table` reads it from a sweep directory, :func:`read_csv` from a ``networks.csv``
written by the report). Nothing here knows how the numbers were made, so the verdict logic is
tested on synthetic tables with and without each effect.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from attractorkit.core._errors import ValidationError

from . import stats as st

__all__ = ["REQUIRED_COLUMNS", "collect_table", "cell_summaries", "trained_networks",
           "validate_table", "table_csv", "read_csv"]

#: the columns every run table needs (docs/study.md describes each one)
REQUIRED_COLUMNS = ("paradigm", "delta", "complexity", "seed", "fqp_lower", "fqp_upper",
                    "fqp_lowcoh_lower", "fqp_lowcoh_upper", "fqp_highcoh_lower",
                    "fqp_highcoh_upper", "accuracy_hard", "balance")

#: columns of the cell table: mean, t interval and SD per (paradigm, delta, complexity)
CELL_COLUMNS = ("fqp_lower", "fqp_upper", "fqp_untrained_lower", "fqp_untrained_upper",
                "accuracy", "accuracy_hard", "balance", "balance_untrained",
                "trials_to_criterion")

# optional per-run columns whose cell means are reported (MI, crystallisation, populations)
OPTIONAL_MEANS = ("mi_context", "mi_coh1", "mi_coh2", "mi_relevant_coh", "mi_choice",
                  "mi_epoch", "mi_choice_decision_units", "crystallisation_fraction",
                  "crystallisation_time", "frac_Gplus", "frac_Gminus", "frac_Ga", "frac_Gs",
                  "share_undetermined", "updates", "decision_bounded", "relevance_near",
                  "relevance_near_qp", "relevance_near_fp")


def validate_table(table: Mapping) -> dict:
    """Check a run table (columns, equal lengths) and return it as a dict of arrays."""
    if not isinstance(table, Mapping):
        raise ValidationError(f"table: expected a mapping of columns, received "
                              f"{type(table).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in table]
    if missing:
        raise ValidationError(f"table: missing column(s) {', '.join(missing)}")
    out = {k: np.asarray(v) for k, v in table.items()}
    shapes = {k: v.shape for k, v in out.items() if v.ndim != 1}
    if shapes:
        raise ValidationError(f"table: every column must be 1-D, received shapes {shapes}")
    n = {len(v) for v in out.values()}
    if len(n) > 1:
        raise ValidationError(f"table: columns differ in length: {sorted(n)}")
    for k in ("paradigm", "complexity"):
        out[k] = out[k].astype(str)
    for k in REQUIRED_COLUMNS[4:] + ("delta",):
        try:
            out[k] = out[k].astype(float)
        except ValueError:
            raise ValidationError(f"table: column {k} must hold numbers") from None
    return out


def _row_values(rows, keys) -> dict:
    table = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        if all(isinstance(v, str) for v in vals):
            table[k] = np.array(vals)
        elif all(isinstance(v, (int, float, bool)) or v is None for v in vals):
            table[k] = np.array([np.nan if v is None else float(v) for v in vals])
    return table


def collect_table(out_dir) -> dict:
    """Read the summary (``summary.json``) of every finished run under ``out_dir/runs``."""
    from .runner import finished_runs

    rows = [json.loads((d / "summary.json").read_text()) for d in finished_runs(out_dir)]
    if not rows:
        raise ValidationError(f"out_dir: no finished runs under {str(Path(out_dir))!r}")
    return _row_values(rows, sorted(set().union(*rows)))


def table_csv(table: Mapping) -> str:
    """The run table as CSV (columns sorted; numbers in their shortest exact form, so that the
    table read back gives the same claims bit for bit; empty: NaN)."""
    keys = sorted(table)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    cols = [np.asarray(table[k]) for k in keys]
    for i in range(len(cols[0]) if cols else 0):
        w.writerow([_cell(c[i], c.dtype.kind) for c in cols])
    return buf.getvalue()


def _cell(v, kind) -> str:
    if kind == "f":
        return "" if not np.isfinite(v) else repr(float(v))
    return str(v)


def read_csv(text: str) -> dict:
    """A run table from :func:`table_csv` output (numeric columns as float, others as str)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ValidationError("table: empty CSV")
    head, body = rows[0], rows[1:]
    out = {}
    for j, k in enumerate(head):
        vals = [r[j] for r in body]
        try:
            out[k] = np.array([np.nan if v == "" else float(v) for v in vals])
        except ValueError:
            out[k] = np.array(vals)
    return out


def trained_networks(t: dict, settings) -> dict:
    """The rows of networks that reached the training criterion (all rows when
    ``settings.criterion_only`` is False or the table does not say)."""
    if not settings.criterion_only or "reached_criterion" not in t:
        return t
    keep = np.asarray(t["reached_criterion"], dtype=float) == 1.0
    return {k: np.asarray(v)[keep] for k, v in t.items()}


def cell_summaries(table: Mapping, settings) -> list[dict]:
    """Per (paradigm, delta, complexity): networks, failures, and per column of
    :data:`CELL_COLUMNS` the mean with its t interval and SD over the networks that reached the
    criterion (all networks when ``criterion_only`` is off)."""
    t = validate_table(table)
    keys = sorted({(str(p), float(d), str(c)) for p, d, c in
                   zip(t["paradigm"], t["delta"], t["complexity"])})
    reached = (np.asarray(t["reached_criterion"], float) == 1.0 if "reached_criterion" in t
               else np.ones(len(t["paradigm"]), bool))
    counted = reached if settings.criterion_only else np.ones_like(reached)
    cells = []
    for p, d, c in keys:
        m = (t["paradigm"] == p) & (t["delta"] == d) & (t["complexity"] == c)
        cell = {"paradigm": p, "delta": d, "complexity": c, "n": int(m.sum()),
                "failed": int((m & ~reached).sum())}
        for col in CELL_COLUMNS:
            if col not in t or t[col].dtype.kind != "f":
                continue
            x = t[col][m & counted]
            x = x[np.isfinite(x)]
            cell[col] = float(x.mean()) if x.size else None
            lo, hi = st.t_interval(x, settings.confidence)
            cell[f"{col}_low"], cell[f"{col}_high"] = _none(lo), _none(hi)
            cell[f"{col}_sd"] = float(x.std(ddof=1)) if x.size >= 2 else None
            cell[f"{col}_n"] = int(x.size)
        for col in OPTIONAL_MEANS:
            if col in t and t[col].dtype.kind == "f":
                x = t[col][m & counted]
                x = x[np.isfinite(x)]
                cell[col] = float(x.mean()) if x.size else None
        cells.append(cell)
    return cells


def _none(v):
    return None if v is None or not np.isfinite(v) else float(v)
