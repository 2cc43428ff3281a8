"""Fixed points and slow points of maps and flows, with their linear stability.

:func:`find_fixed_points` is the one call: seeds and settled trajectories, per-point Newton /
Levenberg-Marquardt (or q-minimisation), exact solutions per activation region for ReLU cells,
midpoint exploration, the search region, KD-tree de-duplication, linear stability and the
grouping of non-isolated points into sets, returned as one :class:`FixedPoints`.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.spatial import cKDTree

from .._kernels import newton as _nk
from .._kernels.compiling import compile_progress
from .._kernels.threads import single_blas_thread
from ..core._budget import check_memory
from ..core._errors import ConvergenceWarning, ValidationError
from ..core._prepare import as_conditions, check_model_arg
from ..core._validation import as_rng, check_bool
from ..core._warnings import warn
from ._cache import StabilityCache
from ._descend import descend, residuals, unique_converged
from ._manifolds import group_manifolds
from ._newton import STATUS_NAMES, solve
from ._options import FixedPointOptions, resolve
from ._points import FixedPoints
from ._region import EARLY_STOP, inside, search_region, settle
from ._relu_exact import RegionCache, relu_enumerate, relu_exact_points, relu_spec
from ._search import deduplicate, explore_midpoints, explore_newton, solve_condition, state_scale
from ._seeds import sample_seeds, state_pools

__all__ = ["find_fixed_points", "enumerate_relu_fixed_points"]

log = logging.getLogger(__name__)

#: Exploration skips points with an eigenvalue this close to the stability boundary (they lie
#: on a continuum of fixed points, whose midpoints are fixed too); an isolated point whose
#: slowest mode is merely slow (|lambda| = 0.999) still makes midpoints.
_ON_SET = 1e-6

#: A solve stops (as diverged, counted in ``n_outside`` when finite) once max|h| exceeds this
#: many times the largest finite bound of the search region (at least 1).
_OUTSIDE = 2.0


@single_blas_thread
def find_fixed_points(model, inputs=None, *, initial_states=None, n_init=None, options=None,
                      rng=None, progress=False, **overrides) -> FixedPoints:
    """Find the fixed points (and slow points) of a map or a flow under constant inputs.

    Seeds are sampled from trajectories (the user's states, or simulated under each input);
    trajectories are also run until they settle, and their end states are candidates (every
    stable point they reach is found and counted as confirmed). Every seed is solved on its
    own: damped Newton with a Levenberg-Marquardt fallback (``method="newton"``), or Adam on
    ``q = |G|^2/2`` as in Sussillo & Barak (2013) (``method="q"``, finds slow points). For
    single-layer ReLU cells each activation region met by the seeds, the settled states and
    the solutions is also solved exactly (``exact``). Solutions outside the search region are
    dropped and counted; the rest are de-duplicated, linearised, and non-isolated points
    (line, plane, ring attractors, slow manifolds) are grouped into sets.

    Parameters
    ----------
    model : Model
    inputs : array_like of shape (n_input,) or (n_conditions, n_input)
        Constant input(s); may be omitted when ``n_input == 0``.
    initial_states : array_like of shape (..., n_state), optional
        States to sample seeds from (e.g. trajectories of the trained task), or one pool per
        condition of shape (n_conditions, ..., n_state). Default: simulate ``n_steps`` under
        each input from ``N(0, init_scale^2)`` starts and sample from the trajectories.
    n_init : int, optional
        Seeds per condition (a shortcut for ``options.n_init``, default 256).
    options : FixedPointOptions, optional
        Every option of the search, with its default and meaning (:class:`FixedPointOptions`).
    rng : None, int or numpy Generator
    progress : bool, default False
        Show a progress bar over conditions (and one over the kernels compiled on first use).
    **overrides
        Any field of :class:`FixedPointOptions` (``tol``, ``method``, ``exact``, ``noise``,
        ``region``, ...), overriding ``options``.

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
    if n_init is not None:
        overrides["n_init"] = n_init
    opt = resolve(options, overrides)
    if opt.exact is True and relu_spec(model) is None:
        raise ValidationError(
            "exact: True needs a single-layer ReLU vanilla cell (VanillaRNN with "
            f"activation='relu'), received {type(model).__name__}")
    use_exact = relu_spec(model) is not None and (
        opt.exact is True or (opt.exact == "auto" and opt.method == "newton"))
    rng = as_rng(rng)
    check_memory((8, X.shape[0], opt.n_init, model.n_state, model.n_state + opt.n_steps),
                 argument="n_init", what="the seeds' trajectories and Jacobians")
    progress = check_bool("progress", progress)
    with compile_progress(progress):   # a bar over first-use compilations too
        return _search(model, X, initial_states, opt, use_exact, rng, progress)


def _search(model, X, initial_states, opt, use_exact, rng, progress):
    """The search of :func:`find_fixed_points` on validated arguments."""
    K, n = X.shape[0], model.n_state
    seeds, traj = sample_seeds(model, X, initial_states, opt.n_init, opt.noise, rng,
                               n_steps=opt.n_steps, init_scale=opt.init_scale,
                               max_norm=opt.max_norm)
    visited = [seeds, traj] if traj is not None else [seeds] + state_pools(model, K,
                                                                           initial_states)
    ends = np.zeros((0, n)), np.zeros(0, np.int64), np.zeros(0)
    if opt.settle:
        if traj is None:
            pools = state_pools(model, K, initial_states)
            m = min(max(16, opt.n_init // 8), min(len(p) for p in pools))
            starts = np.stack([p[rng.choice(len(p), m, replace=False)] for p in pools])
        else:    # the seeds' trajectories go on from where they stopped, none recorded
            starts = traj[:, :, -1]
        end, ce, move = settle(model, X, starts, opt.n_settle, opt.max_norm,
                               stop_tol=EARLY_STOP * opt.settle_tol)
        visited.append(end)
        ok = move <= opt.settle_tol
        ends = end[ok], ce[ok], move[ok]
    region = search_region(model, visited, opt.region, opt.region_margin)
    scale = _unique_scale(state_scale(seeds), opt)
    cache = StabilityCache(model, X, delta=opt.delta, n_modes=opt.n_modes)
    if region is not None:   # solves that run far outside the region stop there
        bound = np.abs(region[np.isfinite(region)])
        limit = _OUTSIDE * max(1.0, float(bound.max(initial=0.0)))
        opt = opt.replace(max_norm=min(opt.max_norm, limit))
    H, cond, iters, status, exact, confirm, seed = _solve_all(
        model, X, seeds, ends, opt, use_exact, rng, progress, region, cache, scale)
    div = status == _nk.DIVERGED
    away = div & np.all(np.isfinite(H), axis=1) & ~inside(region, H)
    n_div = int(np.sum(div & ~away))
    n_away = len(deduplicate(H[away], cond[away], exact[away], ~away[away],
                             np.zeros(int(away.sum())), 1e-3)[0]) if away.any() else 0
    keep = ~div
    H, cond, iters, status, exact, seed = (a[keep] for a in (H, cond, iters, status, exact,
                                                            seed))
    return _build(model, X, H, cond, exact=exact, iters=iters, status=status, opt=opt,
                  weights=seed,
                  method=opt.method, region=region, confirm=confirm, n_diverged=n_div,
                  tol_q=opt.tol_q if opt.method == "q" and not opt.polish else None,
                  n_away=n_away, cache=cache, scale=scale)


def _unique_scale(size, opt):
    """Per condition, the scale that ``tol_unique`` multiplies: the state's size, but never so
    small that the radius falls below a hundred times the solver's precision
    (``tol * max(1, size)``)."""
    return np.maximum(size, 100.0 * opt.tol / opt.unique_radius * np.maximum(1.0, size))


def _solve_all(model, X, seeds, ends, opt, use_exact, rng, progress, region, cache, scale):
    """Solve the seeds and the settled end states; returns the rows (diverged included) and
    the confirmed stable candidates (points, conditions)."""
    K, n = X.shape[0], model.n_state
    E_end, c_end, move = ends
    flat = np.concatenate([seeds.reshape(-1, n), E_end])
    cond = np.concatenate([np.repeat(np.arange(K), opt.n_init), c_end]).astype(np.int64)
    is_end = np.arange(cond.size) >= seeds.shape[0] * seeds.shape[1]
    H, iters = flat.copy(), np.zeros(cond.size, np.int64)
    status = np.full(cond.size, _nk.MAX_ITER)
    exact = np.zeros(cond.size, bool)
    regions = RegionCache()   # regions solved so far, shared by every exact step below
    if use_exact:   # SCYFI from every seed's region first: one solve per distinct region
        E, _, hit = relu_exact_points(model, X, flat, cond, cache=regions)
        done = hit >= 0
        H[done], exact[done], status[done] = E[hit[done]], True, _nk.CONVERGED
    conds = range(K)
    if progress:
        from tqdm.auto import tqdm

        conds = tqdm(conds, desc="fixed points", total=K)
    for k in conds:
        rows = np.flatnonzero(~exact & (cond == k) & ~is_end)
        if rows.size:
            H[rows], iters[rows], status[rows] = solve_condition(
                model, X, k, flat[rows], opt.method, opt.tol, opt.tol_q, opt.iteration_cap,
                opt.lr, opt.polish, opt.max_norm)
    rows = np.flatnonzero(~exact & is_end)   # settled states: Newton polish
    if rows.size:
        sol = solve(model, flat[rows], np.ascontiguousarray(X[cond[rows]]), tol=opt.tol,
                    max_norm=opt.max_norm)
        H[rows], iters[rows], status[rows] = sol.points, sol.iterations, sol.code
    bad = ~np.all(np.isfinite(H), axis=1)
    status[bad] = _nk.DIVERGED
    lost = is_end & (status != _nk.CONVERGED)   # a settled state Newton cannot pin down
    status[lost] = _nk.DIVERGED                # is dropped, not counted as a seed
    left = np.all(np.isfinite(H), axis=1) & ~inside(region, H)   # counted in n_outside
    capped = (status == _nk.MAX_ITER) & ~is_end & ~left
    diverged = (status == _nk.DIVERGED) & ~is_end & ~left
    if diverged.any() or capped.any():
        warn(
            f"find_fixed_points: {int(capped.sum())} of {int((~is_end).sum())} seeds reached "
            f"max_iter={opt.iteration_cap} before converging (kept, status 'max_iter') and "
            f"{int(diverged.sum())} diverged (counted in n_diverged)", ConvergenceWarning)
    status[lost] = -1
    near = np.max(np.abs(H - flat), axis=1) <= 1e-3 * np.maximum(
        1.0, np.max(np.abs(H), axis=1)) + 1e3 * np.concatenate(
        [np.zeros(int((~is_end).sum())), move])
    confirm = (H[is_end & (status == _nk.CONVERGED) & near],
               cond[is_end & (status == _nk.CONVERGED) & near])
    keep = status >= 0
    H, cond, iters, status, exact = H[keep], cond[keep], iters[keep], status[keep], exact[keep]
    weight = (~is_end[keep]).astype(float)   # what a row counts for in n_seeds
    live = status != _nk.DIVERGED
    if use_exact and live.any():   # polish what Newton reached into exact region solutions
        E, _, hit = relu_exact_points(model, X, H[live], cond[live], cache=regions)
        idx = np.flatnonzero(live)
        done = (hit >= 0) & ~exact[idx]
        H[idx[done]], exact[idx[done]], status[idx[done]] = E[hit[done]], True, _nk.CONVERGED
    if opt.settle and opt.explore:   # attractors at the ends of the saddles' unstable modes
        D, cd, cf = descend(model, X, H, cond, status, exact, opt, use_exact, regions, cache,
                            scale, region)
        H, cond = np.concatenate([H, D]), np.concatenate([cond, cd])
        iters = np.concatenate([iters, np.zeros(len(D), np.int64)])
        status = np.concatenate([status, np.full(len(D), _nk.CONVERGED)])
        exact = np.concatenate([exact, np.full(len(D), use_exact)])
        confirm = (np.concatenate([confirm[0], cf[0]]), np.concatenate([confirm[1], cf[1]]))
        weight = np.concatenate([weight, np.zeros(len(D))])
        live = status != _nk.DIVERGED
    extra = None
    if use_exact and opt.explore:
        E, ce = explore_midpoints(model, X, H[exact], cond[exact], rng, cache=regions)
        extra = E, ce, np.zeros(len(E), np.int64), True
    elif opt.explore and (opt.method == "newton" or opt.polish):
        reps = unique_converged(model, X, H, cond, status, exact, opt, scale, region)
        E, ce, ie = explore_newton(model, X, H[reps], cond[reps], opt.tol, opt.max_norm, rng,
                                   marginal_tol=min(opt.manifold_tol, _ON_SET),
                                   eigenvalues=lambda P, c: cache.get(
                                       P, np.full(len(P), c, np.int64)).eigenvalues,
                                   radius=opt.unique_radius * scale)
        extra = E, ce, ie, False
    if extra is not None:
        E, ce, ie, ex = extra
        H, cond = np.concatenate([H, E]), np.concatenate([cond, ce])
        iters = np.concatenate([iters, ie])
        status = np.concatenate([status, np.full(len(E), _nk.CONVERGED)])
        exact = np.concatenate([exact, np.full(len(E), ex)])
    weight = np.concatenate([weight, np.ones(len(H) - len(weight))])
    return H, cond, iters, status, exact, confirm, weight


def _build(model, X, H, cond, *, exact, iters, status, opt, method, region=None,
           confirm=None, n_diverged=0, tol_q=None, weights=None, n_away=0, cache=None,
           scale=None):
    """Residuals, convergence flags, the region, de-duplication, stability and sets ->
    FixedPoints."""
    q, resid = residuals(model, H, X, cond)
    if tol_q is None:
        converged = resid <= opt.tol * np.maximum(1.0, np.max(np.abs(H), axis=1, initial=0.0))
    else:
        converged = q < tol_q
    converged |= exact
    status = np.where(converged, _nk.CONVERGED, status)
    names = np.asarray(STATUS_NAMES, dtype="U9")[status]
    w = np.ones(len(H)) if weights is None else weights
    rows = (H, cond, q, resid, converged, exact, names, iters, w)
    out = ~inside(region, H)
    n_outside = n_away
    if out.any():
        n_outside += len(deduplicate(H[out], cond[out], exact[out], converged[out], q[out],
                                    opt.unique_radius, scale=scale)[0])
        rows = tuple(a[~out] for a in rows)
    n_seeds = rows[-1].astype(np.int64)
    if opt.deduplicate:
        reps, n_seeds = deduplicate(*rows[:2], rows[5], rows[4], rows[2], opt.unique_radius,
                                    weights=rows[-1], scale=scale)
        rows = tuple(a[reps] for a in rows)
    H, cond, q, resid, converged, exact, names, iters, _ = rows
    if cache is None:
        cache = StabilityCache(model, X, delta=opt.delta, n_modes=opt.n_modes)
    stab = cache.get(H, cond, n_modes=opt.n_modes) if opt.stability else None
    manifold, manifolds = None, ()
    if stab is not None and opt.manifolds and opt.deduplicate and len(H):
        keep, manifold, manifolds = group_manifolds(
            model, H, cond, X, q, converged, names == "slow", stab,
            manifold_tol=opt.manifold_tol, delta=opt.delta, region=region,
            n_represent=opt.n_represent)
        H, cond, q, resid, converged, exact, names, iters, n_seeds = (
            a[keep] for a in (H, cond, q, resid, converged, exact, names, iters, n_seeds))
        stab = stab.take(keep)
    confirmed = np.zeros(len(H), bool)
    if confirm is not None and len(confirm[0]):
        for k in np.unique(confirm[1]):
            sel = np.flatnonzero(cond == k)
            if sel.size:
                r = 1e-6 * max(1.0, float(np.max(np.abs(H[sel]))))
                d, _ = cKDTree(confirm[0][confirm[1] == k]).query(H[sel], p=np.inf)
                confirmed[sel] = d <= r
        confirmed &= converged
    return FixedPoints(
        points=H, condition=cond.astype(np.int64), inputs=X, q=q, residual=resid,
        converged=converged, exact=exact, status=names, iterations=iters.astype(np.int64),
        n_seeds=n_seeds.astype(np.int64), stability=stab, time=model.time, method=method,
        tol=float(opt.tol if tol_q is None else tol_q), n_diverged=int(n_diverged),
        confirmed=confirmed, n_outside=int(n_outside), region=region,
        manifold=manifold, manifolds=tuple(manifolds), scale=scale,
    )


def enumerate_relu_fixed_points(model, inputs=None) -> FixedPoints:
    """Every fixed point of a single-layer ReLU vanilla cell, by enumerating all ``2^n``
    activation patterns (ground truth for ``n_state <= 12``; isolated points only).

    Examples
    --------
    >>> import numpy as np
    >>> from attractorkit.adapters import VanillaRNN
    >>> from attractorkit.fixed_points import enumerate_relu_fixed_points
    >>> m = VanillaRNN(np.array([[0.5, -1.0], [-1.0, 0.5]]), b=np.ones(2), activation="relu")
    >>> len(enumerate_relu_fixed_points(m))
    3
    """
    check_model_arg(model)
    if relu_spec(model) is None:
        raise ValidationError("model: expected a single-layer ReLU vanilla cell (a "
                              "VanillaRNN with activation='relu')")
    n = model.n_state
    if n > 12:
        raise ValidationError(f"model: enumeration needs n_state <= 12, received {n}")
    X = as_conditions(model, inputs)
    H, cond = relu_enumerate(model, X)
    m = len(H)
    opt = FixedPointOptions(tol_unique=1e-9, region=None, manifolds=False)
    return _build(model, X, H, cond, exact=np.ones(m, bool), iters=np.zeros(m, np.int64),
                  status=np.full(m, _nk.CONVERGED), opt=opt, method="enumerate")
