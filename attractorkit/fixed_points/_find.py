"""Fixed points and slow points of maps and flows, with their linear stability.

:func:`find_fixed_points` is the one call: seeds, per-point Newton / Levenberg-Marquardt (or
q-minimisation), exact solutions per activation region for ReLU cells, KD-tree de-duplication
and linear stability, returned as one :class:`FixedPoints`.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import blas_single_threaded, one_blas_thread
from ..core._errors import AttractorKitError, ConvergenceWarning, ValidationError
from ..core._pca import pca
from ..core._prepare import as_conditions, check_model_arg
from ..core._results import Result
from ..core._validation import as_rng, check_choice, check_int, check_positive
from ._relu_exact import RegionCache, relu_drives, relu_exact_points, relu_spec
from ._relu_exact import consistent as _consistent
from ._search import deduplicate, explore_midpoints, explore_newton, solve_condition
from ._solve import (
    STATUS_NAMES,
    initial_states_for,
)
from ._stability import LABELS, Stability, stability_from_jacobians

__all__ = [
    "FixedPoints",
    "find_fixed_points",
    "relu_exact_points",
    "enumerate_relu_fixed_points",
    "deduplicate",
    "stability_at",
]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
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
            if f.name == "inputs":
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
        """Merge points closer than ``tol * max(1, max|h|)`` (max-norm, single linkage, per
        condition), keeping per cluster the exact, then converged, then lowest-q point."""
        check_positive("tol", tol)
        reps, counts = deduplicate(self.points, self.condition, self.exact, self.converged,
                                   self.q, tol)
        out = self.take(reps)
        return dataclasses.replace(out, n_seeds=counts)

    # -- presentation -----------------------------------------------------------------------
    def summary(self) -> str:
        kind = "flow" if self.time == "continuous" else "map"
        lines = [
            f"FixedPoints of a {kind} ({self.method}): {len(self)} point(s) under "
            f"{self.inputs.shape[0]} condition(s); {int(self.converged.sum())} converged "
            f"({int(self.exact.sum())} exact), {int(self.slow.sum())} slow, "
            f"{int(np.sum(self.status == 'max_iter'))} at the iteration cap; "
            f"{self.n_diverged} seed(s) diverged"
        ]
        for k in range(self.inputs.shape[0]):
            sel = self.condition == k
            if not sel.any():
                lines.append(f"  condition {k}: none")
                continue
            if self.stability is None:
                lines.append(f"  condition {k}: {int(sel.sum())} point(s); stability not "
                             "computed")
                continue
            lab = self.label[sel & self.converged]
            parts = [f"{int(np.sum(lab == name))} {name}" for name in LABELS
                     if np.any(lab == name)]
            lines.append(f"  condition {k}: {int(sel.sum())} point(s); " + ", ".join(parts))
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


# -- exact fixed points of ReLU cells ------------------------------------------------------------
def enumerate_relu_fixed_points(model, inputs=None) -> FixedPoints:
    """Every fixed point of a single-layer ReLU vanilla cell, by enumerating all ``2^n``
    activation patterns (ground truth for ``n_state <= 12``; isolated points only)."""
    check_model_arg(model)
    spec = relu_spec(model)
    if spec is None:
        raise ValidationError("model: expected a single-layer ReLU vanilla cell (a "
                              "VanillaRNN with activation='relu')")
    n = model.n_state
    if n > 12:
        raise ValidationError(f"model: enumeration needs n_state <= 12, received {n}")
    X = as_conditions(model, inputs)
    K = X.shape[0]
    pats = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.uint8)
    P = np.ascontiguousarray(np.tile(pats, (K, 1)))
    cond = np.repeat(np.arange(K), 2**n)
    C = relu_drives(spec, X)
    H, solved = np.empty((P.shape[0], n)), np.zeros(P.shape[0], bool)
    with one_blas_thread():
        _nk.relu_region_fixed_points(spec.Wh[0], C, P, cond, H, solved)
    good = solved & _consistent(spec, C, H, cond, P.astype(bool))[0]
    return _build(model, X, H[good], cond[good], exact=np.ones(int(good.sum()), bool),
                  iters=np.zeros(int(good.sum()), np.int64), tol=1e-10, method="enumerate",
                  tol_unique=1e-9, dedup=True, delta=1e-8, n_modes=3)


# -- assembling a result -------------------------------------------------------------------------
def stability_at(model, P, cond, X, *, delta=1e-8, n_modes=3) -> Stability:
    """Stability of ``model`` at points ``P`` under inputs ``X[cond]``, in memory-bounded
    chunks."""
    n, N = P.shape
    chunk = max(1, (32 * 2**20) // (8 * N * N))
    parts = []
    for s in range(0, max(n, 1), chunk):
        h, x = P[s:s + chunk], X[cond[s:s + chunk]]
        if h.shape[0]:
            J = np.asarray(model.jacobian(h, x), float)
            Jx = np.asarray(model.input_jacobian(h, x), float)
        else:
            J, Jx = np.zeros((0, N, N)), np.zeros((0, N, X.shape[1]))
        parts.append(stability_from_jacobians(J, Jx, model.time, delta=delta, n_modes=n_modes))
    if len(parts) == 1:
        return parts[0]
    kw = {f.name: getattr(parts[0], f.name) for f in dataclasses.fields(Stability)}
    for f in dataclasses.fields(Stability):
        if isinstance(kw[f.name], np.ndarray):
            kw[f.name] = np.concatenate([getattr(p, f.name) for p in parts])
    return Stability(**kw)


def _residuals(model, H, X, cond):
    G = np.asarray(model.step(H, X[cond]), float) if len(H) else np.zeros_like(H)
    if model.time == "discrete":
        G = G - H
    return 0.5 * np.sum(G * G, axis=1), np.max(np.abs(G), axis=1, initial=0.0)


def _build(model, X, H, cond, *, exact, iters, tol, method, tol_unique, dedup, delta,
           n_modes, status=None, n_diverged=0, tol_q=None, stability=True):
    """Residuals, convergence flags, de-duplication and stability -> FixedPoints."""
    q, resid = _residuals(model, H, X, cond)
    if tol_q is None:
        converged = resid <= tol * np.maximum(1.0, np.max(np.abs(H), axis=1, initial=0.0))
    else:
        converged = q < tol_q
    converged |= exact
    if status is None:
        status = np.where(converged, _nk.CONVERGED, _nk.MAX_ITER)
    status = np.where(converged, _nk.CONVERGED, status)
    names = np.asarray(STATUS_NAMES, dtype="U9")[status]
    n_seeds = np.ones(len(H), np.int64)
    if dedup:
        reps, n_seeds = deduplicate(H, cond, exact, converged, q, tol_unique)
        H, cond, q, resid, converged, exact, names, iters = (
            a[reps] for a in (H, cond, q, resid, converged, exact, names, iters))
    stab = stability_at(model, H, cond, X, delta=delta, n_modes=n_modes) if stability else None
    return FixedPoints(
        points=H, condition=cond.astype(np.int64), inputs=X, q=q, residual=resid,
        converged=converged, exact=exact, status=names, iterations=iters.astype(np.int64),
        n_seeds=n_seeds.astype(np.int64), stability=stab, time=model.time, method=method,
        tol=float(tol if tol_q is None else tol_q), n_diverged=int(n_diverged),
    )


# -- the one call ----------------------------------------------------------------------------------
@blas_single_threaded
def find_fixed_points(model, inputs=None, *, initial_states=None, n_init=256, noise=0.0,
                      method="newton", tol=1e-10, tol_q=1e-12, max_iter=None, exact="auto",
                      tol_unique=None, deduplicate=True, delta=1e-8, n_modes=3, lr=0.05,
                      polish=False, explore=True, n_steps=100, init_scale=1.0, max_norm=1e6,
                      stability=True, rng=None, progress=False) -> FixedPoints:
    """Find the fixed points (and slow points) of a map or a flow under constant inputs.

    Seeds are sampled from trajectories (the user's, or simulated under each input), then
    every seed is solved on its own: damped Newton with a Levenberg-Marquardt fallback
    (``method="newton"``), or Adam on ``q = |G|^2/2`` as in Sussillo & Barak (2013)
    (``method="q"``, finds slow points). For single-layer ReLU cells each activation region met
    by the seeds and the solutions is also solved exactly, and self-consistent solutions are
    marked ``exact``. Points are de-duplicated with a KD-tree and linearised.

    Parameters
    ----------
    model : Model
    inputs : array_like of shape (n_input,) or (n_conditions, n_input)
        Constant input(s); may be omitted when ``n_input == 0``.
    initial_states : array_like of shape (..., n_state), optional
        States to sample seeds from (e.g. trajectories of the trained task), or one pool per
        condition of shape (n_conditions, ..., n_state). Default: simulate ``n_steps`` under
        each input from ``N(0, init_scale^2)`` starts and sample from the trajectories.
    n_init : int, default 256
        Seeds per condition.
    noise : float, default 0
        SD of Gaussian noise added to the seeds.
    method : {"newton", "q"}
    tol : float, default 1e-10
        Newton converges when ``max|G| <= tol * max(1, max|h|)``.
    tol_q : float, default 1e-12
        q-minimisation converges when ``q < tol_q``.
    max_iter : int, optional
        Per-point cap (default 100 for Newton, 5000 for q).
    exact : {"auto", True, False}
        Exact ReLU-region solutions ("auto": for ReLU cells with ``method="newton"``).
    tol_unique : float, optional
        De-duplication radius relative to ``max(1, max|h|)`` (max-norm); default 1e-6, or
        1e-3 for unpolished ``method="q"`` (its points are only as accurate as ``tol_q``).
    deduplicate : bool, default True
        False keeps one row per seed (call :meth:`FixedPoints.unique` later).
    delta : float, default 1e-8
        Marginal band of the stability classification (see :func:`linear_stability`).
    n_modes : int, default 3
        Leading eigenvectors kept.
    lr : float, default 0.05
        Initial Adam learning rate (``method="q"``; adapted per point).
    polish : bool, default False
        ``method="q"`` only: finish each point with Newton.
    explore : bool, default True
        Also solve from midpoints between pairs of found points of the same condition (two
        rounds; finds saddles between attractors that no seed visited). ReLU cells: the
        midpoints' activation regions are solved exactly; other models (``method="newton"``
        or ``polish=True``): Newton from the midpoints of converged points.
    n_steps, init_scale : simulation of seeds when ``initial_states`` is None.
    max_norm : float, default 1e6
        A solve whose ``max|h|`` exceeds this is counted as diverged.
    stability : bool, default True
        Linearise every point (eigen-decomposition of its Jacobian). False returns the points
        alone, faster (``FixedPoints.stability`` is None; :meth:`FixedPoints.with_stability`
        adds it later), like FixedPointFinder without ``do_decompose_jacobians``.
    rng : None, int or numpy Generator
    progress : bool, default False
        Show a progress bar over conditions.

    Returns
    -------
    FixedPoints

    Warns
    -----
    ConvergenceWarning
        When seeds reach ``max_iter`` or diverge (counts in the message; the points are kept
        and flagged, diverged seeds are counted in ``n_diverged``).

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> m = VanillaRNN(np.zeros((3, 3)), b=[0.5, -1.0, 2.0])       # h* = tanh(b)
    >>> fp = ak.find_fixed_points(m, n_init=16, rng=0)
    >>> len(fp), bool(np.allclose(fp.points[0], np.tanh([0.5, -1.0, 2.0])))
    (1, True)
    """
    check_model_arg(model)
    X = as_conditions(model, inputs)
    n_init = check_int("n_init", n_init, minimum=1)
    noise = check_positive("noise", noise, strict=False)
    method = check_choice("method", method, ("newton", "q"))
    tol = check_positive("tol", tol)
    tol_q = check_positive("tol_q", tol_q)
    max_iter = (100 if method == "newton" else 5000) if max_iter is None else max_iter
    max_iter = check_int("max_iter", max_iter, minimum=0)
    if exact not in ("auto", True, False):
        raise ValidationError(f"exact: expected 'auto', True or False, received {exact!r}")
    if exact is True and relu_spec(model) is None:
        raise ValidationError(
            "exact: True needs a single-layer ReLU vanilla cell (VanillaRNN with "
            f"activation='relu'), received {type(model).__name__}"
        )
    use_exact = relu_spec(model) is not None and (
        exact is True or (exact == "auto" and method == "newton"))
    if tol_unique is None:
        tol_unique = 1e-3 if method == "q" and not polish else 1e-6
    check_positive("tol_unique", tol_unique)
    check_positive("lr", lr)
    check_positive("max_norm", max_norm)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    rng = as_rng(rng)
    seeds = initial_states_for(model, X, initial_states, n_init, noise, rng, n_steps=n_steps,
                               init_scale=check_positive("init_scale", init_scale),
                               max_norm=max_norm)
    K, n = X.shape[0], model.n_state
    conds = range(K)
    if progress:
        from tqdm.auto import tqdm

        conds = tqdm(conds, desc="fixed points", total=K)
    cond = np.repeat(np.arange(K), n_init)
    flat = seeds.reshape(-1, n)
    H, iters = flat.copy(), np.zeros(cond.size, np.int64)
    status = np.full(cond.size, _nk.MAX_ITER)
    exact_flag = np.zeros(cond.size, bool)
    regions = RegionCache()   # regions solved so far, shared by every exact step below
    if use_exact:   # SCYFI from every seed's region first: one solve per distinct region
        E, _, hit = relu_exact_points(model, X, flat, cond, cache=regions)
        done = hit >= 0
        H[done], exact_flag[done], status[done] = E[hit[done]], True, _nk.CONVERGED
    todo = np.flatnonzero(~exact_flag)
    for k in conds:
        rows = todo[cond[todo] == k]
        if rows.size:
            H[rows], iters[rows], status[rows] = solve_condition(
                model, X, k, flat[rows], method, tol, tol_q, max_iter, lr, polish, max_norm)
    diverged = (status == _nk.DIVERGED) | ~np.all(np.isfinite(H), axis=1)
    capped = (status == _nk.MAX_ITER) & ~diverged
    if diverged.any() or capped.any():
        warnings.warn(
            f"find_fixed_points: {int(capped.sum())} of {cond.size} seeds reached max_iter="
            f"{max_iter} before converging (kept, status 'max_iter') and {int(diverged.sum())} "
            "diverged (counted in n_diverged)", ConvergenceWarning, stacklevel=2)
    keep = ~diverged
    H, cond, iters, status = H[keep], cond[keep], iters[keep], status[keep]
    exact_flag = exact_flag[keep]
    if use_exact and todo.size:   # polish what Newton reached into exact region solutions
        E, _, hit = relu_exact_points(model, X, H, cond, cache=regions)
        done = (hit >= 0) & ~exact_flag
        H[done], exact_flag[done], status[done] = E[hit[done]], True, _nk.CONVERGED
    if use_exact and explore:
        E, ce = explore_midpoints(model, X, H[exact_flag], cond[exact_flag], rng,
                                   cache=regions)
        H, cond = np.concatenate([H, E]), np.concatenate([cond, ce])
        iters = np.concatenate([iters, np.zeros(len(E), np.int64)])
        status = np.concatenate([status, np.full(len(E), _nk.CONVERGED)])
        exact_flag = np.concatenate([exact_flag, np.ones(len(E), bool)])
    elif explore and (method == "newton" or polish):
        E, ce, ie = explore_newton(model, X, H, cond, status, tol, max_norm, rng)
        H, cond = np.concatenate([H, E]), np.concatenate([cond, ce])
        iters = np.concatenate([iters, ie])
        status = np.concatenate([status, np.full(len(E), _nk.CONVERGED)])
        exact_flag = np.concatenate([exact_flag, np.zeros(len(E), bool)])
    return _build(model, X, H, cond, exact=exact_flag, iters=iters, tol=tol,
                  method=method, tol_unique=tol_unique, dedup=deduplicate, delta=delta,
                  n_modes=n_modes, status=status, n_diverged=int(diverged.sum()),
                  tol_q=tol_q if method == "q" and not polish else None,
                  stability=bool(stability))
