"""``analyze``: every analysis of attractorkit in one call, collected in one :class:`Analysis`.

The stages, each optional and each with its own options dict:

1. fixed points and their linear stability (:func:`find_fixed_points`);
2. period-p cycles of maps (:func:`find_cycles`);
3. the attractor census over the input conditions (:func:`attractor_census`: attractor types,
   basins, Lyapunov exponents per initial condition);
4. Lyapunov spectra (:func:`lyapunov_spectrum`), unless the census already measured them;
5. sample trajectories projected on their principal components (for the plots);
6. selectivity (mutual information of each recorded unit with each task variable), when
   ``activity`` and ``variables`` are given;
7. the audit of the census (:meth:`Census.audit`): a few conditions re-run much longer, to
   count the labels that hold.
"""

from __future__ import annotations

import importlib
import logging
import time as _time
import warnings

import numpy as np

from ..core._budget import check_memory
from ..core._errors import ModelTypeError, ValidationError
from ..core._model import is_model
from ..core._validation import (
    as_float_array,
    as_float_arrays,
    as_names,
    as_rng,
    as_shape,
    check_bool,
    check_int,
)
from ..core._warnings import warn
from ._defaults import DEFAULTS, AnalysisOptions
from ._result import Analysis, StateSpace
from ._stages import RUNNERS as _RUNNERS
from ._stages import Context as _Context

__all__ = ["analyze", "Analysis", "AnalysisOptions", "StateSpace", "DEFAULTS"]

log = logging.getLogger(__name__)

# the census runs first: the Lyapunov pass continues its runs and the cycle search starts
# where they ended. The audit of the census runs last: it draws its seed after every other
# stage, so switching it on or off changes no other result of the same seed.
_STAGES = ("census", "lyapunov", "fixed points", "cycles", "state space", "selectivity",
           "connectivity", "audit")


def analyze(model, inputs, *, initial_states=None, fixed_point_states=None, activity=None,
            variables=None, options: AnalysisOptions | None = None, grid_shape=None,
            axis_names=None, axes=None, model_options=None, rng=None, progress=False,
            **shortcuts) -> Analysis:
    """Run the dynamical-systems (and, with recordings, information) analyses of a model.

    Parameters
    ----------
    model : Model or torch.nn.Module or JAX function or callable
        Anything :func:`attractorkit.adapters.wrap` accepts; a non-Model is wrapped with
        ``wrap(model, **model_options)`` (a plain callable needs
        ``model_options={"n_state": ..., "n_input": ...}``).
    inputs : array_like of shape (n_input,), (n_conditions, n_input) or (*grid_shape, n_input)
        Constant inputs, each analysed as an autonomous system. A multi-dimensional array is a
        grid: its leading axes give ``grid_shape``.
    initial_states : array_like of shape (n_init, n_state) or (n_conditions, n_init, n_state)
        Where the census runs, the Lyapunov pass and the sample trajectories start (shared by
        every condition, or one set per condition); their number replaces ``n_init``.
        Default: ``n_init`` standard-normal states.
    fixed_point_states : array_like of shape (n, n_state) or (n_conditions, n, n_state)
        States the fixed-point search samples its ``n_fixed_point_init`` seeds from (for
        example states visited during trials); they do not start census runs. Default: the
        search samples seeds from its own simulated trajectories.
    activity : array_like of shape (n_samples, n_units), optional
        Recorded activity (model states or neural data) for the information analyses.
    variables : dict of str to array_like of shape (n_samples,), optional
        Task variables aligned with ``activity``.
    options : AnalysisOptions, optional
        Which stages run and their sizes; defaults ``AnalysisOptions()``.
    grid_shape : tuple of int, optional
        Shape of the input grid when ``inputs`` is given flat; ``prod(grid_shape)`` must be
        ``n_conditions``.
    axis_names : sequence of str, optional
        One name per grid axis (for tables and plots).
    axes : sequence of 1-D arrays, optional
        Coordinates along each grid axis (default: found from the inputs of a product grid,
        else indices).
    model_options : dict, optional
        Keywords for :func:`attractorkit.adapters.wrap`.
    rng : None, int or numpy.random.Generator
    progress : bool
        Show progress bars (one over the stages, and each stage's own).
    **shortcuts
        Any field of :class:`AnalysisOptions` by keyword (``n_steps=500``, ``cycles=False``,
        ``census_options={...}``); they override ``options``. An unknown name raises a
        ValidationError that lists the options.

    Returns
    -------
    Analysis

    Raises
    ------
    ModelTypeError
        If ``model`` cannot be used as a model; the message says which adapter to use.
    ValidationError
        On inputs of the wrong width, inconsistent grid shapes, or bad options.

    Examples
    --------
    >>> import numpy as np, attractorkit as ak
    >>> from attractorkit import adapters
    >>> model = adapters.VanillaRNN(0.5 * np.eye(2), np.eye(2), activation="tanh")
    >>> result = ak.analyze(model, np.zeros(2), census=False, lyapunov=False, rng=0)
    >>> int(result.fixed_points.stable.sum())
    1
    """
    opts = _options(options, shortcuts)
    model = as_model(model, model_options)
    X, grid_shape, axis_names = _as_inputs(inputs, model.n_input, grid_shape, axis_names)
    axes = _grid_axes(X, grid_shape, axes)
    rng = as_rng(rng)
    init = _states("initial_states", initial_states, model, X.shape[0])
    fp_states = _states("fixed_point_states", fixed_point_states, model, X.shape[0])
    sizes = {k: getattr(opts, k) for k in DEFAULTS if k != "cycle_periods"}
    if init is not None:
        sizes["n_init"] = int(init.shape[-2])
    periods = opts.periods(model.time)
    run_info = _information_requested(opts.information, activity, variables)
    on = {"fixed points": opts.fixed_points, "cycles": bool(periods), "census": opts.census,
          "lyapunov": opts.lyapunov, "state space": opts.state_space, "selectivity": run_info,
          "connectivity": run_info, "audit": opts.census and opts.audit_conditions > 0}
    stages = [name for name in _STAGES if on[name]]
    user_options = {"fixed points": opts.fixed_point_options, "cycles": opts.cycle_options,
                    "census": opts.census_options, "lyapunov": opts.lyapunov_options,
                    "selectivity": opts.selectivity_options,
                    "connectivity": opts.connectivity_options}
    settings = {
        "sizes": sizes, "cycle_periods": list(periods), "stages": stages,
        "options": {k: _jsonable(dict(v)) for k, v in user_options.items() if v},
        "initial_states": "given" if init is not None else "sampled",
        "fixed_point_states": "given" if fp_states is not None else "sampled",
        "audit": {"conditions": opts.audit_conditions, "factor": opts.audit_factor},
    }
    check_memory((8, X.shape[0], sizes["n_init"], model.n_state, model.n_state + 8),
                 argument="n_init", what="the runs' states, tangent frames and Jacobians")
    progress = check_bool("progress", progress)
    if init is None:
        init = rng.standard_normal((sizes["n_init"], model.n_state))
    ctx = _Context(model, X, init, initial_states is not None, sizes, rng, progress,
                   fixed_point_states=fp_states, options=opts)
    ctx.grid = {"grid_shape": grid_shape or (X.shape[0],), "axis_names": list(axis_names) or
                ["condition"], "axes": axes}
    ctx.recordings = (activity, variables)
    out, timings, notes = {}, {}, []
    bar = _bar(len(stages), progress)
    for name in stages:
        if bar is not None:
            bar.set_description(f"analyze: {name}")
        t0 = _time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out[name] = _RUNNERS[name](ctx, out, periods, user_options.get(name))
        timings[name] = round(_time.perf_counter() - t0, 3)
        for w in caught:
            notes.append(f"{name}: {w.category.__name__}: {w.message}")
            warn(w.message, w.category)  # at the user's line, not the stage's
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return Analysis(
        inputs=X, grid_shape=grid_shape, axis_names=axis_names, axes=axes,
        time=str(model.time),
        n_state=int(model.n_state), model=_describe_model(model),
        fixed_points=out.get("fixed points"), cycles=out.get("cycles"),
        census=out.get("census"), lyapunov=out.get("lyapunov"),
        selectivity=out.get("selectivity"), connectivity=out.get("connectivity"),
        state_space=out.get("state space"), audit=out.get("audit"), settings=settings,
        timings=timings, notes=notes,
    )


# -- inputs and options ------------------------------------------------------------------------
def as_model(model, model_options=None):
    """``model`` as a Model: returned as is, or wrapped by :func:`attractorkit.adapters.wrap`."""
    if model_options is not None and not isinstance(model_options, dict):
        raise ValidationError("model_options: expected a dict of keywords for attractorkit."
                              f"adapters.wrap, received {type(model_options).__name__}")
    if is_model(model) and not model_options:
        return model
    try:
        adapters = importlib.import_module("attractorkit.adapters")
        wrap = adapters.wrap
    except (ImportError, AttributeError) as exc:
        raise ModelTypeError(
            f"model: a {type(model).__name__} is not an attractorkit Model and the adapters "
            f"that wrap it are unavailable ({exc}); build a Model with attractorkit.adapters "
            "(VanillaRNN, GRU, LSTM, TorchModel, JaxModel, CallableModel)"
        ) from None
    try:
        return wrap(model, **(model_options or {}))
    except (ModelTypeError, ValidationError, TypeError) as exc:
        raise (ModelTypeError if isinstance(exc, TypeError) else type(exc))(
            f"model: cannot analyse a {type(model).__name__} directly: {exc}. Wrap it first, "
            "e.g. attractorkit.adapters.wrap(obj, n_state=..., n_input=...), or pass "
            "model_options={'n_state': ..., 'n_input': ...}"
        ) from exc


def _as_inputs(inputs, n_input, grid_shape, axis_names):
    arr = as_float_array("inputs", inputs)
    if arr.ndim == 0 or arr.shape[-1] != n_input:
        raise ValidationError(
            f"inputs: expected the last axis to have width n_input={n_input}, received shape "
            f"{arr.shape}"
        )
    if arr.ndim == 1:
        arr, shape = arr[None, :], ()
    elif arr.ndim == 2:
        shape = (arr.shape[0],)
    else:
        shape = arr.shape[:-1]
        arr = arr.reshape(-1, n_input)
    if grid_shape is not None:
        grid_shape = as_shape("grid_shape", grid_shape)
        if arr.ndim and len(shape) > 1 and tuple(grid_shape) != shape:
            raise ValidationError(f"grid_shape: {tuple(grid_shape)} disagrees with the shape of "
                                  f"inputs {shape}")
        gs = tuple(check_int("grid_shape", int(g) if isinstance(g, np.integer) else g,
                             minimum=1) for g in grid_shape)
        if int(np.prod(gs)) != arr.shape[0]:
            raise ValidationError(f"grid_shape: {gs} holds {int(np.prod(gs))} conditions, "
                                  f"inputs has {arr.shape[0]}")
        shape = gs
    if axis_names is None and arr.ndim == 2 and len(shape) == 1 and grid_shape is None:
        names = ("condition",)
    elif axis_names is None:
        names = tuple(f"axis {i}" for i in range(len(shape)))
    else:
        names = as_names("axis_names", axis_names)
        if len(names) != len(shape):
            raise ValidationError(f"axis_names: expected {len(shape)} name(s) (one per grid "
                                  f"axis of shape {shape}), received {len(names)}")
    return np.ascontiguousarray(arr), tuple(int(s) for s in shape), names


def _options(options, shortcuts) -> AnalysisOptions:
    if options is None:
        options = AnalysisOptions()
    elif not isinstance(options, AnalysisOptions):
        raise ValidationError(f"options: expected an attractorkit.AnalysisOptions, received "
                              f"{type(options).__name__}")
    return options.replace(**shortcuts) if shortcuts else options


def _states(name, states, model, n_conditions):
    if states is None:
        return None
    arr = as_float_array(name, states, ndim=(2, 3))
    count = "n_init" if name == "initial_states" else "n"
    if arr.shape[-1] != model.n_state or (arr.ndim == 3 and arr.shape[0] != n_conditions):
        raise ValidationError(
            f"{name}: expected shape ({count}, n_state={model.n_state}) or "
            f"(n_conditions={n_conditions}, {count}, {model.n_state}), received {arr.shape}")
    if arr.shape[-2] == 0:
        raise ValidationError(f"{name}: expected at least one state, received shape "
                              f"{arr.shape}")
    return arr


def _information_requested(information, activity, variables) -> bool:
    have = activity is not None and variables is not None
    if information is None:
        if (activity is None) != (variables is None):
            raise ValidationError("activity, variables: give both (recorded activity and the "
                                  "task variables) for the information analyses, or neither")
        return have
    if information and not have:
        raise ValidationError("information: the information analyses need activity= "
                              "(n_samples, n_units) and variables={name: (n_samples,)}")
    return bool(information)


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def _grid_axes(X, grid_shape, axes):
    """Coordinates along each grid axis: given, found from a product grid, or indices."""
    shape = grid_shape or (X.shape[0],)
    if axes is not None:
        axes = as_float_arrays("axes", axes, ndim=1)
        if [a.size for a in axes] != list(shape):
            raise ValidationError(f"axes: expected lengths {list(shape)}, received "
                                  f"{[a.size for a in axes]}")
        return axes
    if X.shape[1] == 0:
        return [np.arange(size, dtype=float) for size in shape]
    found = []
    G = X.reshape(*shape, X.shape[1])
    for k, size in enumerate(shape):
        moved = np.moveaxis(G, k, 0).reshape(size, -1, X.shape[1])
        varying = [j for j in range(X.shape[1])
                   if size > 1 and np.allclose(moved[:, :, j], moved[:, :1, j])
                   and np.ptp(moved[:, 0, j]) > 0]
        if len(varying) == 1 and np.all(np.diff(moved[:, 0, varying[0]]) > 0):
            found.append(np.ascontiguousarray(moved[:, 0, varying[0]]))
        else:
            found.append(np.arange(size, dtype=float))
    return found


def _describe_model(model) -> str:
    text = repr(model)
    if text.startswith("<") or len(text) > 300:
        text = (f"{type(model).__name__}(n_state={model.n_state}, n_input={model.n_input}, "
                f"time={model.time!r})")
    return text


def _bar(total, progress):
    if not progress or total == 0:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="analyze", unit="stage")
