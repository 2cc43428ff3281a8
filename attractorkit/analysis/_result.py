"""The :class:`Analysis` result of :func:`attractorkit.analyze` and its state-space view."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from ..core._errors import MissingDependencyError
from ..core._pca import pca
from ..core._results import Result
from ._labels import LABEL_ORDER, attractor_labels

__all__ = ["Analysis", "StateSpace"]

@dataclasses.dataclass(frozen=True, eq=False)
class StateSpace(Result):
    """Sample trajectories in the coordinates of their leading principal components.

    Attributes
    ----------
    mean : ndarray of shape (n_state,)
    components : ndarray of shape (n_components, n_state)
        Orthonormal rows; ``project(h) = (h - mean) @ components.T``.
    explained : ndarray of shape (n_components,)
        Share of the trajectories' variance along each component.
    trajectories : ndarray of shape (n_traj, n_steps, n_components)
        NaN after a trajectory diverged.
    condition : ndarray of shape (n_traj,)
        Index of each trajectory's input condition.
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    trajectories: np.ndarray
    condition: np.ndarray

    @classmethod
    def fit(cls, states, condition, *, fixed_points=None, n_components=3,
            keep=None) -> StateSpace:
        """PCA of ``states`` (n_traj, n_steps, n_state), plus fixed points when given.

        ``keep`` (n_traj,) bool selects the trajectories the components are fitted on (e.g.
        the ones that did not diverge); all are projected.
        """
        n_state = states.shape[-1]
        fitted = states if keep is None or not np.any(keep) else states[np.asarray(keep)]
        flat = fitted.reshape(-1, n_state)
        flat = flat[np.all(np.isfinite(flat), axis=1)]
        if fixed_points is not None and len(fixed_points):
            fp = np.asarray(fixed_points, dtype=float)
            flat = np.concatenate([flat, fp[np.all(np.isfinite(fp), axis=1)]])
        k = int(min(n_components, n_state))
        if flat.shape[0] < 2:
            mean = np.zeros(n_state)
            comps = np.eye(n_state)[:k]
            explained = np.zeros(k)
        else:
            fit = pca(flat, k)
            mean = fit.mean
            comps = np.zeros((k, n_state))
            comps[: fit.axes.shape[0]] = fit.axes
            explained = np.zeros(k)
            explained[: fit.axes.shape[0]] = fit.explained_ratio
        proj = (states - mean) @ comps.T
        return cls(mean=mean, components=np.ascontiguousarray(comps), explained=explained,
                   trajectories=np.ascontiguousarray(proj),
                   condition=np.asarray(condition, dtype=np.int64))

    def project(self, states) -> np.ndarray:
        """States (..., n_state) -> principal coordinates (..., n_components)."""
        return (np.asarray(states, dtype=float) - self.mean) @ self.components.T

    def summary(self) -> str:
        ev = ", ".join(f"{100 * e:.1f}%" for e in self.explained)
        return (f"StateSpace: {self.trajectories.shape[0]} trajectories x "
                f"{self.trajectories.shape[1]} steps on {self.components.shape[0]} principal "
                f"components (variance explained {ev})")


@dataclasses.dataclass(frozen=True, eq=False)
class Analysis(Result):
    """Everything :func:`attractorkit.analyze` found about one model.

    Attributes
    ----------
    inputs : ndarray of shape (n_conditions, n_input)
        The constant input of each condition.
    grid_shape : tuple of int
        Shape of the input grid (``()`` for a single input); ``prod(grid_shape) ==
        n_conditions``.
    axis_names : tuple of str
        One name per grid axis.
    axes : list of ndarray
        Coordinates along each grid axis (input values of a product grid, else indices).
    time : {"discrete", "continuous"}
        Whether the model is a map or a flow (stability and exponents follow it).
    n_state : int
    model : str
        A description of the model analysed.
    fixed_points : FixedPoints or None
    cycles : tuple of Cycles or None
        One per period searched.
    census : Census or None
        Attractor types per condition and initial state; ``attractors`` is its per-run
        :class:`Attractors`.
    lyapunov : LyapunovSpectrum or None
        Leading exponents of the census's runs (same initial states and inputs).
    selectivity : Selectivity or None
        Mutual information of each recorded unit with each task variable.
    connectivity : Connectivity or None
        Functional connectivity graph of the recorded units.
    state_space : StateSpace or None
        Sample trajectories in principal coordinates (for plots).
    audit : CensusAudit or None
        The census's labels checked against runs ``audit_factor`` times longer on a random
        sample of ``audit_conditions`` conditions (None when the census or the audit is off).
    settings : dict
        Every size and option used, for the record.
    timings : dict
        Seconds spent per stage.
    notes : list of str
        Warnings raised during the analysis (they are also re-emitted as warnings).
    """

    inputs: np.ndarray
    grid_shape: tuple
    axis_names: tuple
    axes: list
    time: str
    n_state: int
    model: str
    fixed_points: Any = None
    cycles: Any = None
    census: Any = None
    lyapunov: Any = None
    selectivity: Any = None
    connectivity: Any = None
    state_space: Any = None
    audit: Any = None
    settings: dict = dataclasses.field(default_factory=dict)
    timings: dict = dataclasses.field(default_factory=dict)
    notes: list = dataclasses.field(default_factory=list)

    # -- views ---------------------------------------------------------------------------------
    @property
    def n_conditions(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def attractors(self):
        """The census's :class:`Attractors` (labels per condition and initial state), or None."""
        return None if self.census is None else self.census.attractors

    def attractor_shares(self) -> dict[str, np.ndarray]:
        """Per condition, the share of initial states reaching each attractor type."""
        labels = attractor_labels(self.census)
        if labels is None:
            return {}
        return {lab: (labels == lab).mean(axis=1) for lab in LABEL_ORDER
                if np.any(labels == lab)}

    def condition_table(self) -> dict[str, np.ndarray]:
        """One row per condition: inputs, fixed-point counts, attractor shares, exponents."""
        n = self.n_conditions
        cols: dict[str, np.ndarray] = {}
        for j in range(self.inputs.shape[1]):
            cols[f"input {j}"] = self.inputs[:, j]
        if len(self.grid_shape) > 1:
            idx = np.unravel_index(np.arange(n), self.grid_shape)
            for name, i in zip(self.axis_names, idx):
                cols[f"{name} index"] = np.asarray(i)
        fp = self.fixed_points
        if fp is not None:
            cond = np.asarray(fp.condition)
            cols["fixed points"] = np.bincount(cond, minlength=n)
            cols["stable fixed points"] = np.bincount(cond, weights=np.asarray(
                fp.stable, dtype=float), minlength=n).astype(np.int64)
        for lab, share in self.attractor_shares().items():
            cols[f"share {lab}"] = share
        lyap = self.lyapunov
        if lyap is not None:
            ex = np.asarray(lyap.exponents, dtype=float)
            if ex.ndim == 3 and ex.shape[0] == n and ex.shape[2] > 0:
                with np.errstate(all="ignore"), _quiet():
                    cols["max lyapunov (median)"] = np.nanmedian(ex[:, :, 0], axis=1)
        return cols

    def to_frame(self):
        """The per-condition table (:meth:`condition_table`) as a pandas DataFrame."""
        try:
            import pandas as pd
        except ImportError:
            raise MissingDependencyError(
                "to_frame needs pandas: pip install pandas (or use condition_table(), which "
                "returns plain numpy columns)"
            ) from None
        frame = pd.DataFrame(self.condition_table())
        frame.index.name = "condition"
        return frame

    # -- presentation --------------------------------------------------------------------------
    def summary_rows(self) -> list[tuple[str, str]]:
        """The summary as (label, text) rows in reading order (the report's first table)."""
        from ._report import summary_rows

        return summary_rows(self)

    def summary(self) -> str:
        rows = self.summary_rows()
        width = max(len(k) for k, _ in rows)
        lines = [f"Analysis of {self.model}"]
        lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
        return "\n".join(lines)

    def report(self, path, *, title=None):
        """Write a self-contained HTML report (figures embedded) to ``path``; return the path."""
        from ._report import write_report

        return write_report(self, path, title=title)

    def figures(self) -> dict:
        """Every available figure, by name (matplotlib Figures)."""
        from ._plotting import all_figures

        return all_figures(self)

    def plot_eigenvalues(self, ax=None, **kw):
        """Eigenvalues at the fixed points, with the unit circle (maps) or imaginary axis."""
        from ._plotting import plot_eigenvalues

        return plot_eigenvalues(self, ax=ax, **kw)

    def plot_state_space(self, ax=None, **kw):
        """Fixed points and sample trajectories on the first two principal components."""
        from ._plotting import plot_state_space

        return plot_state_space(self, ax=ax, **kw)

    def plot_poincare(self, ax=None, **kw):
        """Poincaré sections of the sample trajectories (in principal coordinates)."""
        from ._plotting import plot_poincare

        return plot_poincare(self, ax=ax, **kw)

    def plot_census(self, ax=None, **kw):
        """The attractor census: dominant attractor type (or shares) over the input grid."""
        from ._plotting import plot_census

        return plot_census(self, ax=ax, **kw)

    def plot_qp_bounds(self, ax=None, **kw):
        """Bounds on the quasi-periodic share per condition (band, or heatmaps on 2-D grids)."""
        from ._plotting import plot_qp_bounds

        return plot_qp_bounds(self, ax=ax, **kw)

    def plot_lyapunov(self, ax=None, **kw):
        """The largest Lyapunov exponent over the input conditions."""
        from ._plotting import plot_lyapunov

        return plot_lyapunov(self, ax=ax, **kw)

    def plot_connectivity(self, ax=None, **kw):
        """The functional connectivity matrix of the recorded units."""
        from ._plotting import plot_connectivity

        return plot_connectivity(self, ax=ax, **kw)

    def plot_selectivity(self, ax=None, **kw):
        """Mutual information of each unit with each task variable (heatmap)."""
        from ._plotting import plot_selectivity

        return plot_selectivity(self, ax=ax, **kw)


class _quiet:
    """Silence numpy's all-NaN RuntimeWarnings inside a block."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)
