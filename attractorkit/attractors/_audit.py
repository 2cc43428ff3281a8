"""Auditing a census: re-run a random sample of its conditions with much longer records and
count the labels that hold."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._errors import ValidationError
from ..core._results import Result
from ..core._validation import as_rng, check_int
from ._classify import Attractors, classify_attractors
from ._decide import LABELS, PERIODIC, QP

__all__ = ["CensusAudit", "audit_census"]


@dataclasses.dataclass(frozen=True, eq=False)
class CensusAudit(Result):
    """Labels of a census checked against re-runs ``factor`` times longer (:func:`audit_census`).

    Attributes
    ----------
    conditions : ndarray of int, shape (n_sampled,)
        The census conditions re-run (indices into the census' grid).
    original, audited : ndarray of str, shape (n_sampled, n_init)
        The census' labels and the labels of the longer runs.
    held : ndarray of bool, shape (n_sampled, n_init)
        The label held: the same label (periodic: the same period within 1e-3; quasi-periodic:
        the same torus dimension).
    factor : float
        How much longer the re-runs were (transient and records).
    share_held : float
        Share of the audited runs whose label held.
    attractors : Attractors
        The classification of the re-runs.
    """

    conditions: np.ndarray
    original: np.ndarray
    audited: np.ndarray
    held: np.ndarray
    factor: float
    share_held: float
    attractors: Attractors

    def transitions(self) -> dict:
        """{(original label, audited label): number of runs}, changes only."""
        out = {}
        for a, b in zip(self.original.ravel(), self.audited.ravel()):
            if a != b:
                out[(str(a), str(b))] = out.get((str(a), str(b)), 0) + 1
        return out

    def summary(self) -> str:
        n = self.held.size
        lines = [f"Audit: {self.conditions.size} condition(s) x {self.held.shape[1]} run(s) "
                 f"re-run {self.factor:g}x longer: {int(self.held.sum())}/{n} labels held "
                 f"({self.share_held:.1%})"]
        per = []
        for lab in LABELS:
            sel = self.original == lab
            if sel.any():
                per.append(f"{lab} {int(self.held[sel].sum())}/{int(sel.sum())}")
        lines.append("  held by label: " + ", ".join(per))
        changes = self.transitions()
        if changes:
            lines.append("  changed: " + ", ".join(f"{a}->{b} {k}" for (a, b), k in
                                                  sorted(changes.items())))
        return "\n".join(lines)


def audit_census(model, census, *, n_conditions=10, factor=10, rng=None) -> CensusAudit:
    """Re-run a random sample of a census' conditions ``factor`` times longer and count how many
    labels hold.

    The sampled conditions are classified again from the census' own initial states with its
    options, the transient and the recorded steps (``n_transient``, ``n_steps``) multiplied by
    ``factor``. A label holds when the longer run gives the same label (periodic: the same
    period within 1e-3; quasi-periodic: the same torus dimension); an ``undetermined`` label
    holds only when the longer run is undetermined too.

    Parameters
    ----------
    model : Model
        The model the census classified.
    census : Census
        From :func:`attractor_census` (its ``options`` and ``attractors.initial_states``).
    n_conditions : int, default 10
        Conditions sampled (all when the census has fewer).
    factor : int, default 10
    rng : None, int or Generator
        Chooses the sample, and seeds the re-runs.

    Returns
    -------
    CensusAudit
    """
    att = census.attractors
    if att.initial_states is None or census.options is None:
        raise ValidationError("census: expected a census that records its initial states and "
                              "options (made by this version of attractor_census), received "
                              "one without")
    n_conditions = check_int("n_conditions", n_conditions, minimum=1)
    factor = check_int("factor", factor, minimum=1)
    rng = as_rng(rng)
    n_cond = att.label.shape[0]
    pick = np.sort(rng.choice(n_cond, size=min(n_conditions, n_cond), replace=False))
    opts = dict(census.options)
    opts["n_steps"] = opts.get("n_steps", 2000) * factor
    opts["n_transient"] = opts.get("n_transient", 2000) * factor
    longer = classify_attractors(model, att.inputs[pick], initial_states=att.initial_states[pick],
                                 rng=rng, **opts)
    orig, new = att.label[pick], longer.label
    held = orig == new
    per = held & (orig == PERIODIC)
    held[per] = np.isclose(att.period[pick][per], longer.period[per], rtol=1e-3)
    tor = held & (orig == QP)
    held[tor] = att.torus_dim[pick][tor] == longer.torus_dim[tor]
    return CensusAudit(conditions=pick, original=orig.copy(), audited=new.copy(), held=held,
                       factor=float(factor), share_held=float(held.mean()), attractors=longer)
