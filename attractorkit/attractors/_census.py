"""Attractor census over a grid of constant inputs: types, basin shares, regime boundaries."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

from ..core._errors import ValidationError
from ..core._results import Result
from ..core._validation import as_float_array, as_float_arrays, as_names, as_shape
from ._bounds import CONFIDENT, ThresholdSensitivity, qp_share_bounds, threshold_sensitivity
from ._classify import Attractors, classify_attractors
from ._decide import LABELS
from ._thresholds import as_thresholds

__all__ = ["attractor_census", "Census"]


@dataclasses.dataclass(frozen=True, eq=False)
class Census(Result):
    """Attractor types over a grid of constant inputs.

    Attributes
    ----------
    attractors : Attractors
        The per-run classification (conditions = grid points, in ``input_grid`` order).
    labels : tuple of str
        Column order of ``share``.
    share : ndarray of shape (n_conditions, n_labels)
        Share of initial states reaching each attractor type per grid point.
    overall : dict
        Share of each type over all runs.
    dominant : ndarray of str, shape (n_conditions,)
        Most frequent type per grid point (ties broken in ``labels`` order).
    n_attractors : ndarray of int, shape (n_conditions,)
        Distinct attractors per grid point.
    basin_shares : ndarray of shape (n_conditions, max_attractors)
        Shares of initial states per attractor, largest first (NaN padded).
    grid_shape : tuple of int
    axes : list of ndarray
        Coordinates along each grid axis.
    axis_names : list of str
    boundary_points : ndarray of shape (n_boundaries, n_input)
        Inputs midway between neighbouring grid points (along one axis) whose dominant types
        differ.
    boundary_axis : ndarray of int, shape (n_boundaries,)
    boundary_from, boundary_to : ndarray of str, shape (n_boundaries,)
        Dominant type on the lower and the upper side.
    qp_lower, qp_upper : ndarray of shape (n_conditions,)
        Bounds on the quasi-periodic share per grid point: the share of initial states
        labelled quasi-periodic with confidence >= 0.9, and the share labelled
        quasi-periodic or undetermined (an undetermined run may be quasi-periodic).
    qp_bounds : tuple of float
        The same bounds over all runs: (lower, upper).
    sensitivity : ThresholdSensitivity
        ``qp_bounds`` with each threshold of the decision rules halved and doubled (runs
        re-decided on their stored evidence); ``sensitivity.table()`` prints it.
    options : dict
        The classification options used (``audit`` re-runs with them).

    Methods
    -------
    audit(model, n_conditions=10, factor=10, rng=None)
        Re-run a random sample of conditions ``factor`` times longer: a
        :class:`CensusAudit` of how many labels hold.
    """

    attractors: Attractors
    labels: tuple
    share: np.ndarray
    overall: dict
    dominant: np.ndarray
    n_attractors: np.ndarray
    basin_shares: np.ndarray
    grid_shape: tuple
    axes: list
    axis_names: list
    boundary_points: np.ndarray
    boundary_axis: np.ndarray
    boundary_from: np.ndarray
    boundary_to: np.ndarray
    qp_lower: np.ndarray | None = None
    qp_upper: np.ndarray | None = None
    qp_bounds: tuple | None = None
    sensitivity: ThresholdSensitivity | None = None
    options: dict | None = None

    def audit(self, model, *, n_conditions=10, factor=10, rng=None):
        """Re-run a random sample of ``n_conditions`` conditions ``factor`` times longer and
        count the labels that hold (:func:`attractorkit.attractors.audit_census`)."""
        from ._audit import audit_census

        return audit_census(model, self, n_conditions=n_conditions, factor=factor, rng=rng)

    def share_of(self, label) -> np.ndarray:
        """Share of ``label`` per grid point, shaped like the grid."""
        if label not in self.labels:
            raise ValidationError(f"label: expected one of {self.labels}, received {label!r}")
        return self.share[:, self.labels.index(label)].reshape(self.grid_shape)

    def summary(self) -> str:
        n = self.share.shape[0]
        parts = ", ".join(f"{k} {v:.1%}" for k, v in self.overall.items() if v > 0)
        lines = [
            f"Census: {n} grid points {self.grid_shape} x {self.attractors.label.shape[1]} "
            f"initial states: {parts}",
            f"  attractors per grid point: mean {self.n_attractors.mean():.2f}, max "
            f"{self.n_attractors.max()}; multistable points: {int((self.n_attractors > 1).sum())}",
        ]
        for k, name in enumerate(self.axis_names):
            sel = self.boundary_axis == k
            if sel.any():
                trans = sorted({f"{a}->{b}" for a, b in zip(self.boundary_from[sel],
                                                             self.boundary_to[sel])})
                lines.append(f"  boundaries along {name}: {int(sel.sum())} ({', '.join(trans)})")
        if self.qp_bounds is not None:
            line = (f"  quasi-periodic share: [{self.qp_bounds[0]:.1%}, {self.qp_bounds[1]:.1%}]"
                    f" (confidence >= {CONFIDENT:g}; + undetermined)")
            if self.sensitivity is not None:
                lo, hi = self.sensitivity.range()
                line += f"; thresholds halved/doubled: within [{lo:.1%}, {hi:.1%}]"
            lines.append(line)
        return "\n".join(lines)

    def plot(self, label=None, *, ax=None):
        """Heatmap of the dominant type (``label=None``) or of one type's share over a 1-D or 2-D
        grid. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt
        from matplotlib.colors import ListedColormap

        if ax is None:
            _, ax = plt.subplots()
        if label is None:
            codes = np.array([self.labels.index(d) for d in self.dominant], dtype=float)
            Z = codes.reshape(self.grid_shape)
            cmap = ListedColormap(["#2b83ba", "#abdda4", "#d7191c", "#fdae61", "#555555",
                                   "#dddddd"])
            kw = {"cmap": cmap, "vmin": -0.5, "vmax": len(self.labels) - 0.5}
        else:
            Z = self.share_of(label)
            kw = {"cmap": "viridis", "vmin": 0.0, "vmax": 1.0}
        if Z.ndim == 1:
            Z = Z[None, :]
        elif Z.ndim != 2:
            raise ValidationError(f"plot: needs a 1-D or 2-D grid, this one is {self.grid_shape}")
        ext = None
        if len(self.axes) == 2:
            ext = [*_cell_edges(self.axes[1]), *_cell_edges(self.axes[0])]
        elif len(self.axes) == 1:
            ext = [*_cell_edges(self.axes[0]), 0, 1]
        im = ax.imshow(Z, origin="lower", aspect="auto", extent=ext, interpolation="nearest",
                       **kw)
        cb = ax.figure.colorbar(im, ax=ax)
        if label is None:
            cb.set_ticks(range(len(self.labels)))
            cb.set_ticklabels(self.labels)
        else:
            cb.set_label(f"share {label}")
        names = self.axis_names
        ax.set_xlabel(names[-1])
        if len(names) == 2:
            ax.set_ylabel(names[0])
        return ax


def _cell_edges(values) -> tuple[float, float]:
    """Outer edges of a heatmap whose cells are centred on ``values`` (a size-1 axis gets a
    unit-wide cell, so the extent is never singular)."""
    a = np.asarray(values, dtype=float)
    half = 0.5 if a.size < 2 or a[-1] == a[0] else 0.5 * (a[-1] - a[0]) / (a.size - 1)
    return float(a[0] - half), float(a[-1] + half)


def attractor_census(model, input_grid, *, initial_states=None, grid_shape=None, axes=None,
                     axis_names=None, **classify_options) -> Census:
    """Classify the attractors reached from many initial states at every point of an input grid.

    Parameters
    ----------
    model : Model
    input_grid : array_like of shape (n_conditions, n_input)
        Constant inputs, one grid point per row (row-major over ``grid_shape``).
    initial_states : array_like, optional
        (n_init, n_state) shared or (n_conditions, n_init, n_state); see
        :func:`classify_attractors`.
    grid_shape : tuple of int, optional
        Shape of the grid (product = n_conditions); default (n_conditions,).
    axes : sequence of 1-D arrays, optional
        Coordinates along each grid axis (default: indices).
    axis_names : sequence of str, optional
    **classify_options
        Passed to :func:`classify_attractors` (``n_init``, ``n_steps``, ``n_transient``,
        ``thresholds`` (a :class:`ClassifierThresholds` or a dict), ``rng``, ``progress``, ...).

    Returns
    -------
    Census

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> model = VanillaRNN(np.array([[0.5]]), np.array([[1.0]]), activation="tanh")
    >>> c = ak.attractor_census(model, np.linspace(-1, 1, 3)[:, None], n_init=2, rng=0)
    >>> c.dominant.tolist()
    ['fixed_point', 'fixed_point', 'fixed_point']
    """
    grid = as_float_array("input_grid", input_grid, ndim=2)
    n_cond = grid.shape[0]
    shape = (n_cond,) if grid_shape is None else as_shape("grid_shape", grid_shape)
    if int(np.prod(shape)) != n_cond or any(s < 1 for s in shape):
        raise ValidationError(
            f"grid_shape: expected positive sizes whose product is n_conditions={n_cond}, "
            f"received {grid_shape!r}"
        )
    if axes is None:
        axes = [np.arange(s, dtype=float) for s in shape]
    else:
        axes = as_float_arrays("axes", axes, ndim=1)
        if [a.size for a in axes] != list(shape):
            raise ValidationError(f"axes: expected lengths {list(shape)}, received "
                                  f"{[a.size for a in axes]}")
    names = [f"axis {k}" for k in range(len(shape))] if axis_names is None else \
        list(as_names("axis_names", axis_names))
    if len(names) != len(shape):
        raise ValidationError(f"axis_names: expected {len(shape)} names, received {len(names)}")
    att = classify_attractors(model, grid, initial_states=initial_states, **classify_options)
    options = _options(classify_options)
    share = np.stack([(att.label == lab).mean(axis=1) for lab in LABELS], axis=1)
    dominant = np.array(LABELS, dtype="U14")[np.argmax(share, axis=1)]
    ids = att.attractor_id
    k_max = max(1, int(ids.max()) + 1)
    basin = np.full((n_cond, k_max), np.nan)
    for c in range(n_cond):
        valid = ids[c][ids[c] >= 0]
        if valid.size:
            counts = np.sort(np.bincount(valid, minlength=k_max))[::-1]
            basin[c, :counts.size] = counts / ids.shape[1]
            basin[c, counts == 0] = np.nan
    bp, ba, bf, bt = _boundaries(grid, dominant, shape)
    lower, upper = qp_share_bounds(att.label, att.confidence)
    return Census(
        attractors=att, labels=LABELS, share=share,
        overall={lab: float((att.label == lab).mean()) for lab in LABELS},
        dominant=dominant, n_attractors=att.n_attractors(), basin_shares=basin,
        grid_shape=shape, axes=axes, axis_names=names, boundary_points=bp,
        boundary_axis=ba, boundary_from=bf, boundary_to=bt, qp_lower=lower, qp_upper=upper,
        qp_bounds=(float(lower.mean()), float(upper.mean())),
        sensitivity=threshold_sensitivity(att, thresholds=options["thresholds"]),
        options=options)


def _options(given) -> dict:
    """The classification options in effect (given or default), as plain values: what an
    audit needs to re-run a census (not the initial states, the generator or progress)."""
    params = inspect.signature(classify_attractors).parameters
    out = {}
    for name, p in params.items():
        if p.kind is not p.KEYWORD_ONLY or name in ("initial_states", "rng", "progress"):
            continue
        out[name] = given.get(name, p.default)
    out["thresholds"] = dataclasses.asdict(as_thresholds(out["thresholds"]))
    return out


def _boundaries(grid, dominant, shape):
    dom = dominant.reshape(shape)
    G = grid.reshape(shape + (grid.shape[1],))
    pts, axs, frm, to = [], [], [], []
    for k in range(len(shape)):
        a = np.moveaxis(dom, k, 0)
        g = np.moveaxis(G, k, 0)
        diff = a[1:] != a[:-1]
        for idx in zip(*np.nonzero(diff)):
            lo = (idx[0],) + idx[1:]
            hi = (idx[0] + 1,) + idx[1:]
            pts.append(0.5 * (g[lo] + g[hi]))
            axs.append(k)
            frm.append(a[lo])
            to.append(a[hi])
    m = grid.shape[1]
    P = np.zeros((len(pts), m))
    for j, p in enumerate(pts):
        P[j] = p
    return (P, np.array(axs, dtype=np.int64),
            np.array(frm, dtype="U14"), np.array(to, dtype="U14"))
