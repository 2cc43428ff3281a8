"""Result types of :func:`attractorkit.classify_attractors`: the per-run labels
(``Attractors``) and the evidence behind them (``Evidence``)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._results import Result
from . import _decide as D

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
    contraction per step of a slow approach confirmed by Newton (NaN if none).
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
        Share of the label's supporting checks passed at their strict thresholds (0 for
        undetermined).
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

    def counts(self) -> dict:
        """Number of runs per label."""
        return {lab: int(np.sum(self.label == lab)) for lab in D.LABELS}

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
        qp = self.label == D.QP
        if qp.any():
            dims = sorted(set(self.torus_dim[qp].tolist()))
            lines.append(f"  quasi-periodic torus dimension(s): {dims}")
        per = self.label == D.PERIODIC
        if per.any():
            lines.append(f"  periods: {sorted(set(np.round(self.period[per], 4).tolist()))[:10]}")
        lines.append(f"  attractors per condition: mean {self.n_attractors().mean():.2f}")
        und = self.label == D.UNDETERMINED
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
        for lab in D.LABELS:
            sel = self.label == lab
            if sel.any():
                ax.scatter(self.evidence.corr_dim[sel], lam1[sel], s=10, label=lab)
        ax.axhline(0.0, color="k", lw=0.5)
        ax.set_xlabel("correlation dimension")
        ax.set_ylabel("λ1")
        ax.legend(fontsize="small")
        return ax


def assemble(r, X, n_cond, n_init, time):
    """Attractors from the per-run results ``r`` (a ``_runs.RunResults``) of a classification."""
    def cat(a):
        return a.reshape((n_cond, n_init) + a.shape[1:])

    ev = Evidence(**{f.name: cat(r.ev[f.name]) for f in dataclasses.fields(Evidence)})
    return Attractors(
        label=cat(r.label), period=cat(r.period), torus_dim=cat(r.tdim), lyapunov=cat(r.lam),
        lyapunov_stderr=cat(r.se), attractor_id=cat(r.ids), confidence=cat(r.conf),
        reason=cat(r.reason), location=cat(r.loc), final_states=cat(r.final), evidence=ev,
        inputs=np.ascontiguousarray(X[:, 0, :]), steps=cat(r.steps), time=time)
