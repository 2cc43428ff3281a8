"""Result types of :func:`attractorkit.classify_attractors`: the per-run labels
(``Attractors``) and the evidence behind them (``Evidence``)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._results import Result
from ._decide import LABELS, PERIODIC, QP, UNDETERMINED

__all__ = ["Attractors", "Evidence"]


@dataclasses.dataclass(frozen=True, eq=False)
class Evidence(Result):
    """Per-run evidence behind each label; every field has shape (n_conditions, n_init).

    ``step_size`` last step / scale; ``recurrence_error`` best exact-recurrence error / scale
    (maps); ``n_zero`` number of exponents within ``zero_band`` of 0; ``section_kind`` one of
    "none", "point", "points", "curve", "other" (for maps the orbit, for flows the Poincaré
    section); ``ring_cv``, ``shift_spread``, ``gap_ratio``, ``rotation`` from the closed-curve
    test; ``rational_distance`` of the rotation number to the nearest p/q (q <= q_max);
    ``corr_dim`` correlation dimension of the recorded states; ``line_fraction`` share of power
    in spectral lines and ``frequency`` the dominant one (cycles per step of the analysed
    sequence; for periodic flows, 1 / period); ``spread_ratio`` and ``mean_shift`` compare the two
    halves of the record; ``crossing_rate`` section crossings per time over the dominant
    frequency (flows); ``n_section_points`` (clusters when finite); ``converging_rate``
    contraction per step of a slow approach confirmed by Newton (NaN if none);
    ``record_points`` the number of points analysed (a map's recorded steps, a flow's section
    crossings) in the run's last record; ``return_ratio`` how much the near-returns shrank
    along it (below 0.7: still approaching a point or cycle); ``averaging_time`` of the
    exponents of that record (the zero band follows from it and the standard errors);
    ``curve_connected`` 1 when the curve test's neighbour graph was connected.
    """

    step_size: np.ndarray
    recurrence_error: np.ndarray
    n_zero: np.ndarray
    zero_band: np.ndarray
    section_kind: np.ndarray
    ring_cv: np.ndarray
    shift_spread: np.ndarray
    gap_ratio: np.ndarray
    rotation: np.ndarray
    rational_distance: np.ndarray
    corr_dim: np.ndarray
    line_fraction: np.ndarray
    frequency: np.ndarray
    spread_ratio: np.ndarray
    mean_shift: np.ndarray
    crossing_rate: np.ndarray
    n_section_points: np.ndarray
    converging_rate: np.ndarray
    record_points: np.ndarray = None
    return_ratio: np.ndarray = None
    averaging_time: np.ndarray = None
    curve_connected: np.ndarray = None

    def row(self, condition, run) -> dict:
        """The evidence of one run as a dict of scalars (what
        :func:`attractorkit.attractors.decide` reads)."""
        out = {}
        for f in dataclasses.fields(self):
            if getattr(self, f.name) is None:  # a field a file of an older version lacks
                continue
            v = getattr(self, f.name)[condition, run]
            out[f.name] = str(v) if f.name == "section_kind" else float(v)
        return out

    def summary(self) -> str:
        c, i = self.section_kind.shape
        kinds = {k: int(np.sum(self.section_kind == k)) for k in np.unique(self.section_kind)}
        return f"Evidence: {c} condition(s) x {i} run(s); section kinds {kinds}"


@dataclasses.dataclass(frozen=True, eq=False)
class Attractors(Result):
    """Labels of the attractors reached from each (condition, initial state).

    Attributes
    ----------
    label : ndarray of str, shape (n_conditions, n_init)
        "fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent" or "undetermined".
    period : ndarray of shape (n_conditions, n_init)
        Steps (maps) or model time (flows) of periodic orbits; NaN otherwise.
    torus_dim : ndarray of int
        Dimension of the invariant torus of quasi-periodic runs (number of zero exponents,
        the flow direction included); 0 otherwise.
    lyapunov : ndarray of shape (n_conditions, n_init, n_exponents)
        Leading exponents (NaN where not computed: runs settled on a fixed point or an exact
        cycle before the Lyapunov pass, unless ``lyapunov="all"``).
    lyapunov_stderr : same shape
    attractor_id : ndarray of int
        Runs of one condition with the same id reached the same attractor (-1: divergent).
    confidence : ndarray of shape (n_conditions, n_init)
        How sure the label is, in [0, 1] (0 for undetermined): 1 for divergence, settled
        fixed points and exact recurrences that fit the record at least ``min_repeats``
        times; 0.95 for chaos with lambda1 above 3 x the zero band and for quasi-periodic
        orbits whose checks all pass with a margin and whose record excludes cycles up to
        ``qp_period``; at most 0.85 otherwise. Calibrated on the planted benchmark: among
        labels with confidence >= 0.9, at least 99% were right on its held-out half
        (``docs/dynamics.md``).
    reason : ndarray of str
        One line on why the label was given or refused.
    location : ndarray of shape (n_conditions, n_init, n_state)
        Fixed point, or the mean of the recorded orbit.
    final_states : ndarray of shape (n_conditions, n_init, n_state)
    evidence : Evidence
    inputs : ndarray of shape (n_conditions, n_input)
    steps : ndarray of int
        Steps simulated per run.
    time : str
    initial_states : ndarray of shape (n_conditions, n_init, n_state)
        Where the runs started (None in files of older versions).
    """

    label: np.ndarray
    period: np.ndarray
    torus_dim: np.ndarray
    lyapunov: np.ndarray
    lyapunov_stderr: np.ndarray
    attractor_id: np.ndarray
    confidence: np.ndarray
    reason: np.ndarray
    location: np.ndarray
    final_states: np.ndarray
    evidence: Evidence
    inputs: np.ndarray
    steps: np.ndarray
    time: str
    initial_states: np.ndarray = None

    def counts(self) -> dict:
        """Number of runs per label."""
        return {lab: int(np.sum(self.label == lab)) for lab in LABELS}

    def n_attractors(self) -> np.ndarray:
        """Distinct attractors found per condition (divergent runs excluded)."""
        return np.array([len(set(r[r >= 0].tolist())) for r in self.attractor_id])

    def basins(self, condition=0) -> dict:
        """{attractor id: (label, share of initial states)} for one condition."""
        ids, lab = self.attractor_id[condition], self.label[condition]
        out = {}
        for a in sorted(set(ids.tolist())):
            sel = ids == a
            out[int(a)] = (str(lab[sel][0]), float(sel.mean()))
        return out

    def summary(self) -> str:
        c, i = self.label.shape
        parts = ", ".join(f"{k} {v}" for k, v in self.counts().items() if v)
        lines = [f"Attractors: {c} condition(s) x {i} initial state(s): {parts}"]
        qp = self.label == QP
        if qp.any():
            dims = sorted(set(self.torus_dim[qp].tolist()))
            lines.append(f"  quasi-periodic torus dimension(s): {dims}")
        per = self.label == PERIODIC
        if per.any():
            lines.append(f"  periods: {sorted(set(np.round(self.period[per], 4).tolist()))[:10]}")
        lines.append(f"  attractors per condition: mean {self.n_attractors().mean():.2f}")
        sure = (self.confidence >= 0.9) & (self.label != UNDETERMINED)
        lines.append(f"  labels with confidence >= 0.9: {int(sure.sum())} of {self.label.size}")
        und = self.label == UNDETERMINED
        if und.any():
            lines.append(f"  undetermined, e.g.: {self.reason[und][0]}")
        return "\n".join(lines)

    def plot_evidence(self, *, ax=None):
        """Scatter of lambda1 against the correlation dimension, coloured by label."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        lam1 = self.lyapunov[..., 0] if self.lyapunov.shape[-1] else np.full(self.label.shape,
                                                                              np.nan)
        for lab in LABELS:
            sel = self.label == lab
            if sel.any():
                ax.scatter(self.evidence.corr_dim[sel], lam1[sel], s=10, label=lab)
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel("correlation dimension")
        ax.set_ylabel("λ1")
        ax.legend(fontsize="small")
        return ax


def assemble(r, X, H0, time):
    """Attractors from the per-run results ``r`` (a ``_matching.RunResults``) of a
    classification."""
    n_cond, n_init = H0.shape[:2]

    def cat(a):
        return a.reshape((n_cond, n_init) + a.shape[1:])

    ev = Evidence(**{f.name: cat(r.ev[f.name]) for f in dataclasses.fields(Evidence)})
    return Attractors(
        label=cat(r.label), period=cat(r.period), torus_dim=cat(r.tdim), lyapunov=cat(r.lam),
        lyapunov_stderr=cat(r.se), attractor_id=cat(r.ids), confidence=cat(r.conf),
        reason=cat(r.reason), location=cat(r.loc), final_states=cat(r.final), evidence=ev,
        inputs=np.ascontiguousarray(X[:, 0, :]), steps=cat(r.steps), time=time,
        initial_states=np.array(H0, dtype=float))
