"""``analyze``: every analysis of attractorkit in one call, collected in one :class:`Analysis`.

The stages, each optional and each with its own options dict:

1. fixed points and their linear stability (:func:`find_fixed_points`);
2. period-p cycles of maps (:func:`find_cycles`);
3. the attractor census over the input conditions (:func:`attractor_census`: attractor types,
   basins, Lyapunov exponents per initial condition);
4. Lyapunov spectra (:func:`lyapunov_spectrum`), unless the census already measured them;
5. sample trajectories projected on their principal components (for the plots);
6. selectivity (mutual information of each recorded unit with each task variable), when
   ``activity`` and ``variables`` are given.
"""

from __future__ import annotations

import importlib
import logging
import time as _time
import warnings

import numpy as np

from ..core._errors import ModelTypeError, ValidationError
from ..core._model import is_model
from ..core._validation import as_float_array, as_rng, check_int
from ._defaults import DEFAULTS
from ._result import Analysis, StateSpace
from ._stages import RUNNERS as _RUNNERS
from ._stages import Context as _Context

__all__ = ["analyze", "Analysis", "StateSpace", "DEFAULTS"]

log = logging.getLogger(__name__)

# the census runs first: the Lyapunov pass continues its runs and the cycle search starts
# where they ended
_STAGES = ("census", "lyapunov", "fixed points", "cycles", "state space", "selectivity",
           "connectivity")


def analyze(model, inputs, *, initial_states=None, activity=None, variables=None,
            fixed_points=True, cycles=None, census=True, lyapunov=True, information=None,
            state_space=True, n_init=None, n_steps=None, n_transient=None,
            n_fixed_point_init=None, n_exponents=None, n_lyapunov_steps=None, grid_shape=None,
            axis_names=None, axes=None, model_options=None, fixed_point_options=None,
            cycle_options=None, census_options=None, lyapunov_options=None,
            selectivity_options=None, connectivity_options=None, rng=None,
            progress=False) -> Analysis:
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
        Initial states of the census, the Lyapunov spectra and the sample trajectories (shared
        by every condition, or one set per condition), and the pool the fixed-point search
        samples its seeds from. Default: ``n_init`` standard-normal states for the dynamics;
        the fixed-point search then samples seeds from simulated trajectories.
    activity : array_like of shape (n_samples, n_units), optional
        Recorded activity (model states or neural data) for the information analyses.
    variables : dict of str to array_like of shape (n_samples,), optional
        Task variables aligned with ``activity``.
    fixed_points, census, lyapunov, state_space : bool
        Run the stage (default True). The census labels every (condition, initial state) run
        as a fixed point, a cycle, a torus, chaos or divergence; ``lyapunov`` computes the
        leading exponents of the same runs.
    cycles : None, False or sequence of int
        Periods of the cycles searched (maps only). None means (2,) for maps and none for flows.
    information : None or bool
        Run the selectivity and functional-connectivity analyses. None means "when
        ``activity`` and ``variables`` are given".
    n_init, n_steps, n_transient, n_fixed_point_init, n_exponents, n_lyapunov_steps : int
        Sizes of the work; see :data:`DEFAULTS`. The census records ``n_steps`` after
        ``n_transient`` transient steps; the Lyapunov pass then continues each run for
        ``n_lyapunov_steps`` (from the initial states after ``n_transient`` steps when the
        census is off); the cycle search starts from where the census runs ended.
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
    fixed_point_options, cycle_options, census_options, lyapunov_options, \
selectivity_options, connectivity_options : dict, optional
        Extra keywords of :func:`find_fixed_points`, :func:`find_cycles`,
        :func:`attractor_census`, :func:`lyapunov_spectrum`, :func:`selectivity` and
        :func:`functional_connectivity`; they override the defaults above. An option the
        function does not take raises a ValidationError.
    rng : None, int or numpy.random.Generator
    progress : bool
        Show progress bars (one over the stages, and each stage's own).

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
    model = as_model(model, model_options)
    X, grid_shape, axis_names = _as_inputs(inputs, model.n_input, grid_shape, axis_names)
    axes = _grid_axes(X, grid_shape, axes)
    rng = as_rng(rng)
    sizes = _sizes(n_init, n_steps, n_transient, n_fixed_point_init, n_exponents,
                   n_lyapunov_steps)
    init = _initial_states(initial_states, model, X.shape[0])
    periods = _periods(cycles, model.time)
    run_info = _information_requested(information, activity, variables)
    on = {"fixed points": fixed_points, "cycles": bool(periods), "census": census,
          "lyapunov": lyapunov, "state space": state_space, "selectivity": run_info,
          "connectivity": run_info}
    stages = [name for name in _STAGES if on[name]]
    user_options = {"fixed points": fixed_point_options, "cycles": cycle_options,
                    "census": census_options, "lyapunov": lyapunov_options,
                    "selectivity": selectivity_options, "connectivity": connectivity_options}
    settings = {
        "sizes": sizes, "cycle_periods": list(periods), "stages": stages,
        "options": {k: _jsonable(v) for k, v in user_options.items() if v},
        "initial_states": "given" if init is not None else "sampled",
    }
    if init is None:
        init = rng.standard_normal((sizes["n_init"], model.n_state))
    ctx = _Context(model, X, init, initial_states is not None, sizes, rng, progress)
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
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
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
        state_space=out.get("state space"), settings=settings, timings=timings, notes=notes,
    )


# -- inputs and options ------------------------------------------------------------------------
def as_model(model, model_options=None):
    """``model`` as a Model: returned as is, or wrapped by :func:`attractorkit.adapters.wrap`."""
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
        raise type(exc)(
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
        names = tuple(str(a) for a in axis_names)
        if len(names) != len(shape):
            raise ValidationError(f"axis_names: expected {len(shape)} name(s) (one per grid "
                                  f"axis of shape {shape}), received {len(names)}")
    return np.ascontiguousarray(arr), tuple(int(s) for s in shape), names


def _sizes(n_init, n_steps, n_transient, n_fp, n_exp, n_lyap):
    given = {"n_init": n_init, "n_steps": n_steps, "n_transient": n_transient,
             "n_fixed_point_init": n_fp, "n_exponents": n_exp, "n_lyapunov_steps": n_lyap}
    sizes = {k: int(DEFAULTS[k]) for k in given}
    for k, v in given.items():
        if v is not None:
            sizes[k] = check_int(k, v, minimum=0 if k == "n_transient" else 1)
    return sizes


def _periods(cycles, time):
    if cycles is None:
        return tuple(DEFAULTS["cycle_periods"]) if time == "discrete" else ()
    if cycles is False:
        return ()
    if cycles is True:
        cycles = DEFAULTS["cycle_periods"]
    if isinstance(cycles, (int, np.integer)):
        cycles = (cycles,)
    periods = tuple(check_int("cycles", int(p) if isinstance(p, np.integer) else p, minimum=2)
                    for p in cycles)
    if periods and time != "discrete":
        raise ValidationError("cycles: period-p cycles are searched in maps only; for a flow "
                              "the census finds limit cycles (pass cycles=False)")
    return periods


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


def _initial_states(initial_states, model, n_conditions):
    if initial_states is None:
        return None
    init = as_float_array("initial_states", initial_states, ndim=(2, 3))
    if init.shape[-1] != model.n_state or (init.ndim == 3 and init.shape[0] != n_conditions):
        raise ValidationError(
            f"initial_states: expected shape (n_init, n_state={model.n_state}) or "
            f"(n_conditions={n_conditions}, n_init, {model.n_state}), received {init.shape}")
    return init


def _grid_axes(X, grid_shape, axes):
    """Coordinates along each grid axis: given, found from a product grid, or indices."""
    shape = grid_shape or (X.shape[0],)
    if axes is not None:
        axes = [as_float_array(f"axes[{k}]", a, ndim=1) for k, a in enumerate(axes)]
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
