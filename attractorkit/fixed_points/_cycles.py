"""Period-p cycles of maps: the fixed points of the p-th iterate ``F^p``
(:class:`attractorkit.systems.Iterate`) with the one Newton solver, Floquet multipliers (the
iterate's Jacobian), minimal periods, and exact solutions for sequences of ReLU activation
regions (SCYFI)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from .._kernels import newton as _nk
from .._kernels.threads import single_blas_thread
from ..core._budget import check_memory
from ..core._errors import ConvergenceWarning, ValidationError
from ..core._prepare import as_conditions, check_model_arg
from ..core._results import Result
from ..core._validation import as_rng, check_auto_bool, check_bool, check_int, check_positive
from ..systems import Iterate
from ._newton import STATUS_NAMES, solve
from ._relu_exact import relu_exact_cycles, relu_spec
from ._search import deduplicate
from ._seeds import sample_seeds
from ._stability import LABELS, classify_spectra

__all__ = ["Cycles", "find_cycles"]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Cycles(Result):
    """Periodic orbits of a map.

    Attributes
    ----------
    points : ndarray of shape (n, period, n_state)
        Each orbit ``h_0, F(h_0), ..., F^{p-1}(h_0)``, starting at its point of smallest first
        coordinate.
    condition : ndarray of shape (n,), int
    inputs : ndarray of shape (n_conditions, n_input)
    period : ndarray of shape (n,), int
        Minimal period of each orbit (equal to the requested period unless
        ``include_lower=True``).
    q, residual : ndarray of shape (n,)
        ``|F^p(h_0) - h_0|^2 / 2`` and its max-norm.
    converged, exact : ndarray of shape (n,), bool
    status : ndarray of shape (n,), str
    iterations, n_seeds : ndarray of shape (n,), int
    multipliers : ndarray of shape (n, n_state), complex
        Floquet multipliers (eigenvalues of the monodromy ``J_{p-1} ... J_0``), leading first.
    stable, unstable_dim, label : ndarrays of shape (n,)
        Classification of the orbit as a fixed point of ``F^p``.
    requested_period : int
    n_lower_period : int
        Converged solutions dropped because their minimal period divides but is below the
        requested one (e.g. fixed points in a period-2 search).
    n_diverged, n_unconverged : int
        Seeds whose solve diverged, or stopped without converging (slow points of ``F^p``,
        iteration caps); they are not listed as orbits.
    """

    points: np.ndarray
    condition: np.ndarray
    inputs: np.ndarray
    period: np.ndarray
    q: np.ndarray
    residual: np.ndarray
    converged: np.ndarray
    exact: np.ndarray
    status: np.ndarray
    iterations: np.ndarray
    n_seeds: np.ndarray
    multipliers: np.ndarray
    stable: np.ndarray
    unstable_dim: np.ndarray
    label: np.ndarray
    requested_period: int
    tol: float
    n_lower_period: int = 0
    n_diverged: int = 0
    n_unconverged: int = 0

    def __len__(self) -> int:
        return self.points.shape[0]

    def summary(self) -> str:
        lines = [
            f"Cycles of period {self.requested_period}: {len(self)} orbit(s) under "
            f"{self.inputs.shape[0]} condition(s); {int(self.converged.sum())} converged "
            f"({int(self.exact.sum())} exact), {int(self.stable.sum())} stable; "
            f"{self.n_lower_period} lower-period solution(s) dropped; {self.n_unconverged} "
            f"seed(s) did not converge and {self.n_diverged} diverged"
        ]
        for name in LABELS:
            c = int(np.sum(self.label[self.converged] == name))
            if c:
                lines.append(f"  {c} {name}")
        return "\n".join(lines)


def _minimal_period(orbit, p, tol):
    """Smallest divisor d of p with max|h_d - h_0| <= tol * max(1, max|h_0|)."""
    B = orbit.shape[0]
    per = np.full(B, p)
    scale = tol * np.maximum(1.0, np.max(np.abs(orbit[:, 0]), axis=1, initial=0.0))
    for d in sorted((d for d in range(1, p) if p % d == 0), reverse=True):
        close = np.max(np.abs(orbit[:, d] - orbit[:, 0]), axis=1, initial=0.0) <= scale
        per[close] = d
    return per


def _monodromy_spectra(F, orbits, X):
    """Floquet multipliers: eigenvalues of the iterate's Jacobian along each orbit."""
    B, p, N = orbits.shape
    ev = np.full((B, N), np.nan + 0j)
    ok = np.all(np.isfinite(orbits.reshape(B, p * N)), axis=1)
    if not ok.any():
        return ev
    M = F.jacobian(orbits[ok, 0], X[ok])
    finite = np.all(np.isfinite(M.reshape(M.shape[0], N * N)), axis=1)
    e = np.linalg.eigvals(np.where(finite[:, None, None], M, 0.0))
    ev[ok] = np.where(finite[:, None], e, np.nan + 0j)
    return ev


@single_blas_thread
def find_cycles(model, inputs=None, *, period, initial_states=None, n_init=256, noise=0.0,
                tol=1e-10, max_iter=100, exact="auto", tol_unique=1e-6, include_lower=False,
                delta=1e-8, n_steps=100, init_scale=1.0, max_norm=1e6, rng=None) -> Cycles:
    """Find period-``period`` orbits of a map under constant inputs.

    Newton / Levenberg-Marquardt on ``G(h) = F^p(h) - h`` with the chain-rule Jacobian
    ``J_{p-1} ... J_0 - I``, per seed (the machinery of :func:`find_fixed_points`). For a
    single-layer ReLU cell, each sequence of activation regions met along the seeds' orbits is
    also solved exactly and refined as in SCYFI (Eisenmann et al., NeurIPS 2023). Solutions
    whose minimal period is a proper divisor of ``period`` (fixed points in a period-2 search)
    are dropped unless ``include_lower``; the count is kept in ``n_lower_period``.

    Parameters
    ----------
    model : Model
        A map (``time="discrete"``). For a flow, look for limit cycles with
        :func:`attractorkit.classify_attractors` or on a Poincare map.
    inputs : array_like of shape (n_input,) or (n_conditions, n_input)
    period : int
        ``p >= 1``.
    initial_states, n_init, noise, tol, max_iter, exact, tol_unique, delta, n_steps,
    init_scale, max_norm, rng
        As in :func:`find_fixed_points`.
    include_lower : bool, default False

    Returns
    -------
    Cycles

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit.adapters import VanillaRNN
    >>> flip = VanillaRNN(np.array([[-2.0]]), activation="tanh")     # h' = tanh(-2 h)
    >>> c = ak.find_cycles(flip, period=2, n_init=32, rng=0)
    >>> np.round(c.points[0, :, 0], 6), int(c.period[0]), bool(c.stable[0])
    (array([-0.957504,  0.957504]), 2, True)
    """
    check_model_arg(model)
    if model.time != "discrete":
        raise ValidationError(
            "model: find_cycles works on maps (time='discrete'), received a flow; for limit "
            "cycles of flows use classify_attractors or a Poincare map")
    X = as_conditions(model, inputs)
    p = check_int("period", period, minimum=1)
    n_init = check_int("n_init", n_init, minimum=1)
    noise = check_positive("noise", noise, strict=False)
    tol = check_positive("tol", tol)
    max_iter = check_int("max_iter", max_iter, minimum=0)
    check_positive("tol_unique", tol_unique)
    exact = check_auto_bool("exact", exact)
    include_lower = check_bool("include_lower", include_lower)
    delta = check_positive("delta", delta, strict=False)
    check_memory((8, X.shape[0], n_init, model.n_state,
                  model.n_state + check_int("n_steps", n_steps, minimum=1) + p),
                 argument="period" if p > n_steps else "n_init",
                 what="the seeds' trajectories, Jacobians and orbits")
    if exact is True and relu_spec(model) is None:
        raise ValidationError("exact: True needs a single-layer ReLU vanilla cell")
    rng = as_rng(rng)
    K, N = X.shape[0], model.n_state
    seeds = sample_seeds(model, X, initial_states, n_init, noise, rng,
                         n_steps=check_int("n_steps", n_steps, minimum=1),
                         init_scale=check_positive("init_scale", init_scale),
                         max_norm=check_positive("max_norm", max_norm))[0].reshape(-1, N)
    cond = np.repeat(np.arange(K), n_init)
    F = Iterate(model, p)
    sol = solve(F, seeds, np.ascontiguousarray(X[cond]), tol=tol, max_iter=max_iter,
                max_norm=max_norm)
    H, iters, status = sol.points, sol.iterations, sol.code
    bad = (status == _nk.DIVERGED) | ~np.all(np.isfinite(H), axis=1)
    capped = (status == _nk.MAX_ITER) & ~bad
    if bad.any() or capped.any():
        warnings.warn(f"find_cycles: {int(capped.sum())} of {cond.size} seeds reached "
                      f"max_iter={max_iter} (counted in n_unconverged) and {int(bad.sum())} "
                      "diverged", ConvergenceWarning, stacklevel=2)
    H, cond, iters, status = H[~bad], cond[~bad], iters[~bad], status[~bad]
    ex = np.zeros(H.shape[0], bool)
    if relu_spec(model) is not None and exact in ("auto", True):
        E, ce = relu_exact_cycles(model, X, np.concatenate([seeds, H]),
                                  np.concatenate([np.repeat(np.arange(K), n_init), cond]), p)
        H, cond = np.concatenate([H, E]), np.concatenate([cond, ce])
        iters = np.concatenate([iters, np.zeros(len(E), np.int64)])
        status = np.concatenate([status, np.full(len(E), _nk.CONVERGED)])
        ex = np.concatenate([ex, np.ones(len(E), bool)])
    return _assemble(model, X, H, cond, iters, status, ex, p, tol, tol_unique, include_lower,
                     delta, int(bad.sum()))


def _assemble(model, X, H, cond, iters, status, ex, p, tol, tol_unique, include_lower, delta,
              n_diverged):
    F = Iterate(model, p)
    orb = F.orbit(H, X[cond]) if len(H) else np.zeros((0, p + 1, H.shape[1]))
    G = orb[:, p] - orb[:, 0]
    q = 0.5 * np.sum(G * G, axis=1)
    resid = np.max(np.abs(G), axis=1, initial=0.0)
    converged = ex | (resid <= tol * np.maximum(1.0, np.max(np.abs(H), axis=1, initial=0.0)))
    per = _minimal_period(orb, p, max(1e-8, 1e3 * tol))
    lower = converged & (per < p)
    keep = converged & (include_lower | ~lower)
    orb, cond, q, resid, converged, ex, per, iters, status = (
        a[keep] for a in (orb[:, :p], cond, q, resid, converged, ex, per, iters, status))
    reps, counts = deduplicate(orb, cond, ex, converged, q, tol_unique)
    orb, cond, q, resid, converged, ex, per, iters, status = (
        a[reps] for a in (orb, cond, q, resid, converged, ex, per, iters, status))
    start = np.argmin(orb[:, :, 0], axis=1)
    orb = np.stack([np.roll(o, -s, axis=0) for o, s in zip(orb, start)]) if len(orb) else orb
    o = np.lexsort((orb[:, 0, 0], cond))
    orb, cond, q, resid, converged, ex, per, iters, status, counts = (
        a[o] for a in (orb, cond, q, resid, converged, ex, per, iters, status, counts))
    ev = _monodromy_spectra(F, orb, X[cond])
    order, stable, n_unst, _, label = classify_spectra(ev, "discrete", delta)
    status = np.where(converged, _nk.CONVERGED, status)
    return Cycles(
        points=orb, condition=cond.astype(np.int64), inputs=X, period=per.astype(np.int64),
        q=q, residual=resid, converged=converged, exact=ex,
        status=np.asarray(STATUS_NAMES, dtype="U9")[status],
        iterations=iters.astype(np.int64), n_seeds=counts.astype(np.int64),
        multipliers=np.take_along_axis(ev, order, axis=1), stable=stable,
        unstable_dim=n_unst, label=label, requested_period=p, tol=float(tol),
        n_lower_period=int(lower.sum()), n_diverged=n_diverged,
        n_unconverged=int(np.sum(~converged)),
    )
