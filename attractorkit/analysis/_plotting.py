"""Figures of an :class:`~attractorkit.Analysis` (matplotlib, imported lazily).

Every function takes the analysis and an optional ``ax`` and returns the matplotlib Figure. A
figure whose analysis did not run is reported by a ValidationError naming the stage to switch on.
"""

from __future__ import annotations

import numpy as np

from ..core._errors import ValidationError

__all__ = ["plot_eigenvalues", "plot_state_space", "plot_poincare", "plot_census",
           "plot_qp_bounds", "plot_lyapunov", "plot_selectivity", "plot_connectivity",
           "all_figures"]

def _axes(ax, figsize=(5.0, 4.0)):
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _need(value, what, switch):
    if value is None:
        raise ValidationError(f"{what}: this analysis has none; run analyze with {switch}")
    return value


def plot_eigenvalues(analysis, ax=None, **kw):
    """Eigenvalues at the fixed points (stable points blue, others red), with the unit circle
    (maps) or the imaginary axis (flows); drawn by :meth:`FixedPoints.plot_eigenvalues`."""
    fp = _need(analysis.fixed_points, "fixed points", "fixed_points=True")
    fig, ax = _axes(ax, figsize=(4.8, 4.5))
    fp.plot_eigenvalues(ax=ax, **kw)
    n_st = int(np.sum(fp.stable))
    ax.set_title(f"Jacobian spectra at {len(fp)} fixed points ({n_st} stable)")
    return fig


def plot_state_space(analysis, ax=None, *, components=(0, 1)):
    """Sample trajectories and fixed points projected on two principal components."""
    ss = _need(analysis.state_space, "state space", "state_space=True")
    i, j = components
    k = ss.components.shape[0]
    if max(i, j) >= k:
        raise ValidationError(f"components: only {k} principal components were kept, "
                              f"received {components}")
    fig, ax = _axes(ax)
    cmap = _cmap("viridis")
    n = len(ss.condition)
    for t, (traj, c) in enumerate(zip(ss.trajectories, ss.condition)):
        color = cmap(t / max(n - 1, 1))
        ax.plot(traj[:, i], traj[:, j], lw=0.7, color=color, alpha=0.8,
                label=f"condition {int(c)}")
        ax.plot(traj[0, i], traj[0, j], "o", ms=3, color=color)
    fp = analysis.fixed_points
    if fp is not None and len(fp.stable):
        P = ss.project(fp.points)
        st = np.asarray(fp.stable, dtype=bool)
        ax.scatter(P[st, i], P[st, j], s=28, marker="o", facecolor="k", edgecolor="w",
                   zorder=3, label="stable fixed point")
        ax.scatter(P[~st, i], P[~st, j], s=28, marker="x", color="#c44e52", zorder=3,
                   label="unstable fixed point")
    ev = ss.explained
    ax.set_xlabel(f"PC{i + 1} ({100 * ev[i]:.0f}% var.)")
    ax.set_ylabel(f"PC{j + 1} ({100 * ev[j]:.0f}% var.)")
    ax.set_title("State space (principal components)")
    ax.legend(loc="best", fontsize=6, ncol=2)
    return fig


def plot_poincare(analysis, ax=None):
    """Asymptotic orbits of a map, or Poincaré sections of a flow, in principal coordinates.

    A map's orbit (second half of each sample trajectory) is its own section: a finite set for a
    cycle, a closed curve for a torus, a fractal for chaos. A flow's trajectories are cut by the
    plane through their mean normal to the first principal component (crossings located by
    linear interpolation) and shown on the next two components.
    """
    ss = _need(analysis.state_space, "state space", "state_space=True")
    fig, ax = _axes(ax)
    cmap = _cmap("viridis")
    n = len(ss.condition)
    k = ss.components.shape[0]
    for t, (traj, c) in enumerate(zip(ss.trajectories, ss.condition)):
        tail = traj[traj.shape[0] // 2:]
        tail = tail[np.all(np.isfinite(tail), axis=1)]
        if tail.shape[0] < 3:
            continue
        color = cmap(t / max(n - 1, 1))
        if analysis.time == "discrete" or k < 2:
            pts = tail[:, :2] if k >= 2 else np.c_[tail[:-1, 0], tail[1:, 0]]
        else:
            pts = section_crossings(tail)[:, 1:3] if k >= 3 else section_crossings(tail)
        if len(pts):
            ax.scatter(pts[:, 0], pts[:, 1], s=5, color=color, label=f"condition {int(c)}")
    if analysis.time == "discrete":
        ax.set_title("Asymptotic orbits (map: the orbit is its own section)")
        ax.set_xlabel("PC1" if k >= 2 else "h(t)")
        ax.set_ylabel("PC2" if k >= 2 else "h(t+1)")
    else:
        ax.set_title("Poincaré sections (plane PC1 = mean, upward crossings)")
        ax.set_xlabel("PC2")
        ax.set_ylabel("PC3" if k >= 3 else "PC2")
    if ax.collections:
        ax.legend(loc="best", fontsize=6)
    return fig


def section_crossings(tail: np.ndarray) -> np.ndarray:
    """Upward crossings of the plane (coordinate 0) = mean by a trajectory (steps, k)."""
    from .. import poincare_section

    sec = poincare_section(tail, plane=(np.eye(tail.shape[1])[0], float(tail[:, 0].mean())),
                           direction=1, kind="crossing")
    return np.asarray(sec.points)


def plot_census(analysis, ax=None, label=None):
    """The attractor census over the input grid: the dominant attractor type per grid point,
    or (``label=``) the share of one type; drawn by :meth:`Census.plot`. A single condition,
    or a grid with an axis of length 1, is drawn as stacked bars of the types' shares."""
    census = _need(analysis.census, "census", "census=True")
    fig, ax = _axes(ax, figsize=(5.8, 4.2))
    if all(s > 1 for s in census.grid_shape) and len(census.grid_shape) <= 2:
        census.plot(label, ax=ax)
        ax.set_title("Attractor census: " + ("dominant type" if label is None else
                                             f"share of {label}"))
        return fig
    x = np.arange(census.share.shape[0])
    bottom = np.zeros(x.size)
    for col, lab in enumerate(census.labels):
        if label is not None and lab != label:
            continue
        share = census.share[:, col]
        if share.any():
            ax.bar(x, share, bottom=bottom, label=lab, width=0.8)
            bottom += share
    ax.set_xticks(x)
    ax.set_xlabel("condition")
    ax.set_ylabel("share of initial states")
    ax.set_ylim(0, 1.05)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    ax.set_title("Attractor census: types reached per condition")
    return fig


def plot_qp_bounds(analysis, ax=None):
    """Bounds on the quasi-periodic share per condition (:attr:`Census.qp_lower`,
    :attr:`Census.qp_upper`): a band along a 1-D grid (or along the conditions), two heatmaps
    (lower, upper) over a 2-D grid. ``ax``: one Axes, or two for a 2-D grid."""
    census = _need(analysis.census, "census", "census=True")
    if getattr(census, "qp_lower", None) is None:
        raise ValidationError("census: this census has no bounds on the quasi-periodic share "
                              "(made by an older attractorkit); run analyze again")
    shape = tuple(census.grid_shape)
    dims = [k for k, size in enumerate(shape) if size > 1]
    if len(dims) == 2 and len(shape) == 2:
        return _qp_heatmaps(census, ax)
    fig, ax = _axes(ax)
    lo, hi = np.asarray(census.qp_lower), np.asarray(census.qp_upper)
    if len(dims) == 1 and len(shape) <= 2:
        x, name = np.asarray(census.axes[dims[0]], dtype=float), census.axis_names[dims[0]]
    else:
        x, name = np.arange(lo.size), "condition"
    ax.fill_between(x, lo, hi, color="#4c72b0", alpha=0.25, step="mid",
                    label="undetermined or low confidence")
    ax.plot(x, hi, "v-", ms=4, color="#4c72b0", lw=0.8, label="upper bound")
    ax.plot(x, lo, "^-", ms=4, color="#dd8452", lw=0.8, label="lower bound (confident)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(name)
    ax.set_ylabel("quasi-periodic share of initial states")
    ax.legend(loc="best", fontsize=7)
    ax.set_title("Quasi-periodic share: bounds per condition")
    return fig


def _qp_heatmaps(census, ax):
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8.4, 3.6), layout="constrained")
        axs = fig.subplots(1, 2, sharey=True)
    else:
        axs = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else []
        if len(axs) != 2:
            raise ValidationError("ax: a 2-D grid is drawn in two panels (lower, upper bound); "
                                  f"expected two Axes, received {type(ax).__name__}")
        fig = axs[0].figure
    ext = [*_edges(census.axes[1]), *_edges(census.axes[0])]
    for a, values, what in zip(axs, (census.qp_lower, census.qp_upper), ("lower", "upper")):
        im = a.imshow(np.asarray(values).reshape(census.grid_shape), origin="lower",
                      aspect="auto", extent=ext, interpolation="nearest", cmap="viridis",
                      vmin=0.0, vmax=1.0)
        a.set_xlabel(census.axis_names[1])
        a.set_title(f"quasi-periodic share: {what} bound")
    axs[0].set_ylabel(census.axis_names[0])
    fig.colorbar(im, ax=list(axs), label="share of initial states")
    return fig


def _edges(values) -> list[float]:
    a = np.asarray(values, dtype=float)
    half = 0.5 * (a[-1] - a[0]) / (a.size - 1) if a.size > 1 and a[-1] != a[0] else 0.5
    return [float(a[0] - half), float(a[-1] + half)]


def plot_lyapunov(analysis, ax=None):
    """Median largest Lyapunov exponent per condition (heatmap on 2-D grids)."""
    lyap = _need(analysis.lyapunov, "lyapunov", "lyapunov=True")
    ex = np.asarray(lyap.exponents, dtype=float)
    lam = np.full(ex.shape[0], np.nan)
    ok = np.isfinite(ex[:, :, 0]).any(axis=1)
    lam[ok] = np.nanmedian(ex[ok, :, 0], axis=1)
    unit = "per step" if analysis.time == "discrete" else "per unit time"
    fig, ax = _axes(ax)
    if analysis.n_conditions == 1:
        lyap.plot(ax=ax)
        ax.set_title("Lyapunov spectra (one line per initial state)")
        return fig
    if len(analysis.grid_shape) == 2:
        lim = max(float(np.nanmax(np.abs(lam))) if ok.any() else 1.0, 1e-12)
        im = ax.imshow(lam.reshape(analysis.grid_shape), origin="lower", cmap="RdBu_r",
                       vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest",
                       extent=_extent(analysis.axes))
        fig.colorbar(im, ax=ax, label=f"λ1 ({unit})")
        ax.set_xlabel(analysis.axis_names[1])
        ax.set_ylabel(analysis.axis_names[0])
    else:
        x = np.asarray(analysis.axes[0]) if len(analysis.axes) == 1 else np.arange(len(lam))
        lo = np.full_like(lam, np.nan)
        hi = np.full_like(lam, np.nan)
        lo[ok], hi[ok] = np.nanmin(ex[ok, :, 0], axis=1), np.nanmax(ex[ok, :, 0], axis=1)
        ax.fill_between(x, lo, hi, color="#4c72b0", alpha=0.25, label="range over initial states")
        ax.plot(x, lam, "o-", ms=3, color="#4c72b0", label="median")
        ax.axhline(0.0, color="0.3", lw=0.8)
        ax.set_xlabel(analysis.axis_names[0] if analysis.axis_names else "condition")
        ax.set_ylabel(f"λ1 ({unit})")
        ax.legend(loc="best", fontsize=7)
    ax.set_title("Largest Lyapunov exponent")
    return fig


def plot_selectivity(analysis, ax=None, **kw):
    """MI of each unit with each variable (dots: significant); :meth:`Selectivity.plot`."""
    sel = _need(analysis.selectivity, "selectivity", "activity= and variables=")
    fig, ax = _axes(ax, figsize=(1.8 + 0.6 * len(sel.variables), 4.5))
    sel.plot(ax=ax, **kw)
    ax.set_title("Selectivity: mutual information")
    return fig


def plot_connectivity(analysis, ax=None, **kw):
    """The unit-unit functional connectivity matrix; drawn by :meth:`Connectivity.plot`."""
    conn = _need(analysis.connectivity, "connectivity", "activity= and variables=")
    fig, ax = _axes(ax, figsize=(5.0, 4.2))
    conn.plot(ax=ax, **kw)
    ax.set_title(f"Functional connectivity ({conn.measure})")
    return fig


def all_figures(analysis) -> dict:
    """Every figure whose analysis ran, by name."""
    figs = {}
    if analysis.fixed_points is not None and len(analysis.fixed_points.stable):
        figs["eigenvalues"] = plot_eigenvalues(analysis)
    if analysis.state_space is not None:
        figs["state_space"] = plot_state_space(analysis) if \
            analysis.state_space.components.shape[0] >= 2 else None
        figs["poincare"] = plot_poincare(analysis)
    if analysis.census is not None and len(analysis.grid_shape) <= 2:
        figs["census"] = plot_census(analysis)
    if getattr(analysis.census, "qp_lower", None) is not None and analysis.n_conditions > 1:
        figs["qp_bounds"] = plot_qp_bounds(analysis)
    if analysis.lyapunov is not None and np.asarray(analysis.lyapunov.exponents).size:
        figs["lyapunov"] = plot_lyapunov(analysis)
    if analysis.selectivity is not None:
        figs["selectivity"] = plot_selectivity(analysis)
    if analysis.connectivity is not None:
        figs["connectivity"] = plot_connectivity(analysis)
    return {k: v for k, v in figs.items() if v is not None}


def _extent(axes):
    """imshow extent [x0, x1, y0, y1] for a 2-D grid (x: axis 1, y: axis 0), cell-centred."""
    return [*_edges(axes[1]), *_edges(axes[0])]


def _cmap(name):
    import matplotlib

    return matplotlib.colormaps[name]
