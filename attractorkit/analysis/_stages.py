"""The stages of :func:`attractorkit.analyze`: each calls one public analysis with our defaults."""

from __future__ import annotations

import inspect

import numpy as np

from ..core._errors import ValidationError
from ..core._validation import as_float_array
from ._labels import showcase_conditions
from ._result import StateSpace

__all__ = ["Context", "RUNNERS", "call_with_options"]


class Context:
    """What every stage reads: the model, the inputs, shared initial states, sizes, rng."""

    def __init__(self, model, X, init, init_given, sizes, rng, progress, *,
                 fixed_point_states=None, options=None):
        self.model, self.X, self.init, self.init_given = model, X, init, init_given
        self.sizes, self.rng, self.progress = sizes, rng, progress
        self.fixed_point_states = fixed_point_states
        self.options = options
        self.grid: dict = {}
        self.recordings = (None, None)


def call_with_options(func, *args, defaults, options, forwards_to=None):
    """Call ``func`` with the ``defaults`` it takes, overridden by the user's ``options``.

    User options are always passed, and one the function does not take raises a
    ValidationError (never silently ignored); our own defaults are passed only where taken.
    ``forwards_to`` is the function that receives ``func``'s ``**kwargs``, if any.
    """
    params = dict(inspect.signature(func).parameters)
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    if takes_any and forwards_to is not None:
        params = {k: v for k, v in params.items() if v.kind is not v.VAR_KEYWORD}
        params.update(inspect.signature(forwards_to).parameters)
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    options = dict(options or {})
    unknown = [k for k in options if not (takes_any or k in params)]
    if unknown:
        raise ValidationError(
            f"options: {func.__name__} takes no option(s) {', '.join(map(repr, unknown))}; "
            f"it takes {', '.join(p for p in params if p not in ('model', 'self'))}"
        )
    kw = {k: v for k, v in defaults.items() if takes_any or k in params}
    kw.update(options)
    return func(*args, **kw)


def _api(name):
    import attractorkit

    return getattr(attractorkit, name)


def _seed(ctx) -> int:
    return int(ctx.rng.integers(2**31 - 1))


def _fixed_points(ctx, out, periods, options):
    return call_with_options(_api("find_fixed_points"), ctx.model, ctx.X, options=options,
                             defaults={
                                 "initial_states": ctx.fixed_point_states,
                                 "n_init": ctx.sizes["n_fixed_point_init"], "rng": _seed(ctx),
                                 "progress": ctx.progress})


def _census_final_states(out):
    census = out.get("census")
    if census is None:
        return None
    # divergent runs have no meaningful final state: then start over from the initial states
    if np.any(census.attractors.label == "divergent"):
        return None
    final = np.asarray(census.attractors.final_states, dtype=float)
    return final if np.all(np.isfinite(final)) else None


def _cycles(ctx, out, periods, options):
    """Period-p orbits, seeded from where the census runs ended (one seed per run) when the
    census ran, else from states sampled on trajectories."""
    final = _census_final_states(out)
    if final is not None:
        seeds, n_seeds = final, final.shape[1]
    else:
        seeds = ctx.fixed_point_states
        n_seeds = ctx.sizes["n_fixed_point_init"]
    return tuple(call_with_options(_api("find_cycles"), ctx.model, ctx.X, options=options,
                                   defaults={"period": p, "initial_states": seeds,
                                             "n_init": n_seeds, "rng": _seed(ctx)})
                 for p in periods)


def _census(ctx, out, periods, options):
    s = ctx.sizes
    return call_with_options(_api("attractor_census"), ctx.model, ctx.X, options=options,
                             forwards_to=_api("classify_attractors"), defaults={
                                 "initial_states": ctx.init, **ctx.grid, "n_init": s["n_init"],
                                 "n_steps": s["n_steps"], "n_transient": s["n_transient"],
                                 "n_exponents": min(s["n_exponents"], ctx.model.n_state),
                                 "rng": _seed(ctx), "progress": ctx.progress})


def _lyapunov(ctx, out, periods, options):
    """Exponents of the census's runs, continued from where the census stopped (its transient
    is not run twice); without a census, of runs from the initial states."""
    s = ctx.sizes
    final = _census_final_states(out)
    start, transient = (ctx.init, s["n_transient"]) if final is None else (final, 0)
    return call_with_options(_api("lyapunov_spectrum"), ctx.model, start, ctx.X,
                             options=options, defaults={
                                 "n_exponents": min(s["n_exponents"], ctx.model.n_state),
                                 "n_steps": s["n_lyapunov_steps"], "n_transient": transient,
                                 "rng": _seed(ctx), "progress": ctx.progress})


def _state_space(ctx, out, periods, options):
    """A few trajectories per showcase condition, projected on their principal components."""
    D = ctx.options
    model = ctx.model
    conds = showcase_conditions(ctx.X.shape[0], out.get("census"), D.n_showcase_conditions)
    init = ctx.init if ctx.init.ndim == 2 else ctx.init[conds]
    n_init = init.shape[-2]
    per = min(n_init, max(2, D.n_showcase // len(conds)))
    pick = np.sort(ctx.rng.choice(n_init, size=per, replace=False))
    init = init[..., pick, :]
    traj = _api("simulate")(model, init, ctx.X[conds], D.n_showcase_steps)
    states = traj.states.reshape(-1, traj.states.shape[2], model.n_state)
    fps = getattr(out.get("fixed points"), "points", None)
    return StateSpace.fit(states, np.repeat(conds, per), fixed_points=fps,
                          n_components=min(D.n_components, model.n_state),
                          keep=~np.asarray(traj.diverged).reshape(-1))


def _recordings(ctx):
    activity, variables = ctx.recordings
    A = as_float_array("activity", activity, ndim=2)
    if not isinstance(variables, dict) or not variables:
        raise ValidationError(f"variables: expected a non-empty dict {{name: (n_samples,) "
                              f"array}}, received {type(variables).__name__}")
    return A, variables


def _selectivity(ctx, out, periods, options):
    A, variables = _recordings(ctx)
    return call_with_options(_api("selectivity"), A, variables, options=options, defaults={
        "rng": _seed(ctx), "progress": ctx.progress})


def _connectivity(ctx, out, periods, options):
    A, _ = _recordings(ctx)
    return call_with_options(_api("functional_connectivity"), A, options=options, defaults={
        "rng": _seed(ctx)})


def _audit(ctx, out, periods, options):
    """A random sample of the census's conditions re-run ``audit_factor`` times longer."""
    D = ctx.options
    return out["census"].audit(ctx.model, n_conditions=D.audit_conditions,
                               factor=D.audit_factor, rng=_seed(ctx))


RUNNERS = {
    "fixed points": _fixed_points,
    "cycles": _cycles,
    "census": _census,
    "lyapunov": _lyapunov,
    "state space": _state_space,
    "selectivity": _selectivity,
    "connectivity": _connectivity,
    "audit": _audit,
}
