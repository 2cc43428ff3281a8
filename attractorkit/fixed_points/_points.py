"""The result of :func:`attractorkit.find_fixed_points`: :class:`FixedPoints`."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..core._errors import AttractorKitError, ValidationError
from ..core._pca import pca
from ..core._prepare import check_model_arg
from ..core._results import Result
from ..core._validation import check_int, check_positive
from ._manifolds import describe_sets
from ._search import deduplicate
from ._stability import LABELS, Stability, stability_at

__all__ = ["FixedPoints"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class FixedPoints(Result):
    """Fixed points (and slow points) found under one or several constant inputs.

    Attributes
    ----------
    points : ndarray of shape (n, n_state)
    condition : ndarray of shape (n,), int
        Row of ``inputs`` under which each point is fixed.
    inputs : ndarray of shape (n_conditions, n_input)
    q : ndarray of shape (n,)
        ``|G(h)|^2 / 2`` with ``G = F(h) - h`` (maps) or ``F(h)`` (flows).
    residual : ndarray of shape (n,)
        ``max |G(h)|``.
    converged, exact : ndarray of shape (n,), bool
        ``exact``: solved in closed form in its activation region (ReLU cells) and checked
        self-consistent.
    status : ndarray of shape (n,), str
        "converged", "slow" (a local minimum of q above tolerance), "max_iter" or "diverged".
    iterations, n_seeds : ndarray of shape (n,), int
        Solver iterations of the representative; number of seeds merged into the point.
    stability : Stability or None
        Spectra, leading modes, input Jacobians and labels (also reachable as
        ``.eigenvalues``, ``.stable``, ``.unstable_dim``, ``.label``); None when
        ``find_fixed_points(..., stability=False)`` skipped it (see :meth:`with_stability`).
    time, method : str
    tol : float
    n_diverged : int
        Seeds whose solve diverged (they are not points and are not listed).
    confirmed : ndarray of shape (n,), bool
        Points that a trajectory from the seeds settled on (its end state, polished by Newton,
        is the point): attractors reached by the dynamics themselves.
    n_outside : int
        Solutions outside the search ``region`` (dropped, not listed).
    region : ndarray of shape (2, n_state) or None
        Lower and upper bounds of the search region (None: unbounded).
    manifold : ndarray of shape (n,), int
        -1 for an isolated point, k for a point of the k-th non-isolated set (``manifolds[k]``).
    manifolds : tuple of Manifold
        The sets of non-isolated (or slow) points: dimension, extent, representatives.
    scale : ndarray of shape (n_conditions,) or None
        The state's size under each condition: two points are one when they are closer than
        ``tol_unique`` times it (max-norm). It is the median ``max|h|`` of the states the
        search started from, raised where needed so that ``tol_unique * scale`` stays at least
        a hundred times the solver's precision ``tol * max(1, size)``. None: ``max(1,
        max|h|)`` of the condition's points.
    """

    points: np.ndarray
    condition: np.ndarray
    inputs: np.ndarray
    q: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    exact: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    n_seeds: np.ndarray
    stability: Stability | None
    time: str
    method: str
    tol: float
    n_diverged: int = 0
    confirmed: np.ndarray | None = None
    n_outside: int = 0
    region: np.ndarray | None = None
    manifold: np.ndarray | None = None
    manifolds: tuple = ()
    scale: np.ndarray | None = None

    def __post_init__(self):
        n = self.points.shape[0]
        if self.confirmed is None:
            object.__setattr__(self, "confirmed", np.zeros(n, bool))
        if self.manifold is None:
            object.__setattr__(self, "manifold", np.full(n, -1, np.int64))
        object.__setattr__(self, "manifolds", tuple(self.manifolds))

    # -- views ------------------------------------------------------------------------------
    eigenvalues = property(lambda self: self._stab().eigenvalues,
                           doc="(n, n_state) complex, leading first")
    stable = property(lambda self: self._stab().stable, doc="(n,) bool")
    unstable_dim = property(lambda self: self._stab().unstable_dim, doc="(n,) int")
    label = property(lambda self: self._stab().label, doc="(n,) str, one of LABELS")
    slow = property(lambda self: self.status == "slow", doc="(n,) bool: slow points")

    def __len__(self) -> int:
        return self.points.shape[0]

    def _stab(self) -> Stability:
        if self.stability is None:
            raise AttractorKitError(
                "FixedPoints: linear stability was not computed (find_fixed_points(..., "
                "stability=False)); use fp.with_stability(model) to add it")
        return self.stability

    def with_stability(self, model, *, delta: float = 1e-8, n_modes: int = 3) -> FixedPoints:
        """The same points with their linear stability under ``model`` (the model they were
        found for), e.g. after ``find_fixed_points(..., stability=False)``."""
        check_model_arg(model)
        if model.n_state != self.points.shape[1]:
            raise ValidationError(f"model: expected n_state {self.points.shape[1]} (the "
                                  f"points' dimension), received {model.n_state}")
        stab = stability_at(model, self.points, self.condition, self.inputs,
                            delta=check_positive("delta", delta),
                            n_modes=check_int("n_modes", n_modes, minimum=0))
        return dataclasses.replace(self, stability=stab)

    def take(self, index) -> FixedPoints:
        """Rows ``index`` (integer array or boolean mask) as a new FixedPoints."""
        index = np.asarray(index)
        kw = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in ("inputs", "region", "scale"):
                kw[f.name] = v
            elif isinstance(v, np.ndarray):
                kw[f.name] = v[index]
            elif isinstance(v, Stability):
                kw[f.name] = v.take(index)
            else:
                kw[f.name] = v
        return FixedPoints(**kw)

    def for_condition(self, k: int) -> FixedPoints:
        """The points of condition ``k``."""
        return self.take(self.condition == k)

    def unique(self, tol: float = 1e-6) -> FixedPoints:
        """Merge points closer than ``tol`` times the state's size (``scale``, else
        ``max(1, max|h|)``; max-norm, single linkage, per condition), keeping per cluster the
        exact, then converged, then lowest-q point."""
        check_positive("tol", tol)
        reps, counts = deduplicate(self.points, self.condition, self.exact, self.converged,
                                   self.q, tol, scale=self.scale)
        out = self.take(reps)
        return dataclasses.replace(out, n_seeds=counts)

    # -- presentation -----------------------------------------------------------------------
    def summary(self) -> str:
        kind = "flow" if self.time == "continuous" else "map"
        K = self.inputs.shape[0]
        lines = [
            f"FixedPoints of a {kind} ({self.method}): {len(self)} point(s) under {K} "
            f"condition(s)",
            f"  {int(self.converged.sum())} converged ({int(self.exact.sum())} exact), "
            f"{int(self.slow.sum())} slow, {int(np.sum(self.status == 'max_iter'))} at the "
            f"iteration cap; {self.n_diverged} seed(s) diverged",
        ]
        if self.stability is None:
            lines.append("  stability not computed")
        else:
            lab = self.label[self.converged]
            parts = [f"{int(np.sum(lab == name))} {name}" for name in LABELS
                     if np.any(lab == name)]
            lines.append("  labels: " + (", ".join(parts) or "none"))
            n_st = int(np.sum(self.stable & self.converged))
            n_cf = int(np.sum(self.stable & self.converged & self.confirmed))
            lines.append(f"  {n_st} stable point(s), {n_cf} confirmed by settled trajectories")
        if self.n_outside or self.region is not None:
            lines.append(f"  {self.n_outside} solution(s) outside the search region dropped")
        if self.manifolds:
            lines.append("  sets: " + describe_sets(self.manifolds,
                                                    int(np.sum(self.manifold < 0))))
        if len(self):
            lines.append(f"  max|h| up to {float(np.max(np.abs(self.points))):.3g}; q up to "
                         f"{float(np.max(self.q)):.2g}")
        counts = np.bincount(self.condition, minlength=K)
        if 1 < K <= 4:
            lines += [f"  condition {k}: {counts[k]} point(s)" for k in range(K)]
        elif K > 4:
            lines.append(f"  per condition: {counts.min()} to {counts.max()} point(s)")
        return "\n".join(lines)

    def plot_eigenvalues(self, ax=None, *, index=None):
        """Eigenvalues in the complex plane, with the unit circle (maps) or the imaginary axis
        (flows). ``index`` selects points (default: all). Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4.5))
        sel = np.arange(len(self)) if index is None else np.atleast_1d(index)
        ev = self.eigenvalues[sel]
        for i, e in zip(sel, ev):
            ax.scatter(e.real, e.imag, s=12, label=f"#{i} {self.label[i]}" if sel.size <= 8
                       else None, color="C0" if self.stable[i] else "C3", alpha=0.7)
        if self.time == "discrete":
            t = np.linspace(0, 2 * np.pi, 400)
            ax.plot(np.cos(t), np.sin(t), color="k", lw=0.8)
            ax.set_aspect("equal", adjustable="datalim")
        else:
            ax.axvline(0.0, color="k", lw=0.8)
        ax.axhline(0.0, color="0.7", lw=0.5)
        ax.set_xlabel("Re λ")
        ax.set_ylabel("Im λ")
        if sel.size <= 8 and sel.size:
            ax.legend(fontsize=7)
        return ax

    def plot_points(self, ax=None, *, dims=None):
        """Points projected on two state coordinates ``dims`` (default: their first two
        principal components), stable filled, others hollow. Returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.5, 4.5))
        P = self.points
        if dims is None and P.shape[1] > 2 and len(self) > 1:
            Y, names = pca(P, 2).project(P), ("PC 1", "PC 2")
        else:
            d = (0, 1) if dims is None else tuple(dims)
            d = d if P.shape[1] > 1 else (0, 0)
            Y, names = P[:, list(d)], (f"h[{d[0]}]", f"h[{d[1]}]")
        st = self.stable
        ax.scatter(Y[st, 0], Y[st, 1], color="C0", label="stable")
        ax.scatter(Y[~st, 0], Y[~st, 1], facecolors="none", edgecolors="C3", label="unstable")
        ax.set_xlabel(names[0])
        ax.set_ylabel(names[1])
        ax.legend(fontsize=8)
        return ax
