"""Preparing the arguments every analysis shares: the model, its inputs, its initial states.

One home for each: :func:`check_model_arg` (the model implements the protocol; map or flow),
:func:`prepare_inputs` / :func:`as_conditions` (constant or time-varying inputs per condition),
:func:`prepare_states` (initial states per condition) and :func:`kernel_spec` (the numba
description of a standard cell, if the model has one).
"""

from __future__ import annotations

import numpy as np

from ._errors import ModelTypeError, ValidationError
from ._model import KernelSpec, is_model
from ._validation import as_float_array, check_model_outputs

__all__ = ["check_model_arg", "prepare_inputs", "as_conditions", "prepare_states", "kernel_spec"]


def check_model_arg(model, *, probe: bool = True):
    """The model, after checking it implements the protocol; returns (is_flow, dt).

    ``probe`` also calls step / jacobian / input_jacobian once on two ordinary states to check the
    shapes they return (one-call analyses); the lower-layer functions that run in loops
    (:func:`attractorkit.dynamics.advance`, :func:`~attractorkit.dynamics.evaluate`) skip it
    and check each output as it comes.
    """
    if not is_model(model):
        raise ModelTypeError(
            "model: expected an object implementing attractorkit.Model (n_state, n_input, time, "
            f"dt, step, jacobian, input_jacobian), received {type(model).__name__}"
        )
    flow = model.time == "continuous"
    if model.time not in ("discrete", "continuous"):
        raise ValidationError(f"model.time: expected 'discrete' or 'continuous', received "
                              f"{model.time!r}")
    dt = None
    if flow:
        dt = model.dt
        if isinstance(dt, bool) or not isinstance(dt, (int, float, np.integer, np.floating)) \
                or not np.isfinite(float(dt)) or float(dt) <= 0:
            raise ValidationError(f"model.dt: a flow needs a finite step dt > 0, received {dt!r}")
        dt = float(dt)
    if probe:
        check_model_outputs(model)  # sizes >= 1 and the shapes step/jacobian return
    return flow, dt


def prepare_inputs(model, inputs, n_total: int | None, *, allow_varying: bool = True):
    """Inputs -> (X (n_conditions, Tx, n_input), n_conditions, varying).

    ``inputs``: None (models without inputs), (n_input,), (n_conditions, n_input) or, when
    allowed, (n_conditions, n_total, n_input) time-varying.
    """
    m = int(model.n_input)
    if inputs is None:
        if m:
            raise ValidationError(f"inputs: the model takes n_input={m} inputs, received None")
        return np.zeros((1, 1, 0)), 1, False
    arr = as_float_array("inputs", inputs, ndim=(1, 2, 3) if allow_varying else (1, 2))
    if arr.shape[-1] != m:
        raise ValidationError(
            f"inputs: expected the last axis to have width n_input={m}, received shape "
            f"{arr.shape}"
        )
    if arr.ndim == 1:
        return arr[None, None, :].copy(), 1, False
    if arr.ndim == 2:
        if arr.shape[0] == 0:
            raise ValidationError("inputs: expected at least one condition, received 0 rows")
        return np.ascontiguousarray(arr[:, None, :]), arr.shape[0], False
    if arr.shape[1] != n_total:
        raise ValidationError(
            f"inputs: time-varying inputs need one row per step, n_transient + n_steps = "
            f"{n_total}, received shape {arr.shape}"
        )
    return arr, arr.shape[0], True


def prepare_states(model, initial_states, n_cond: int, name: str = "initial_states"):
    """Initial states -> (n_conditions, n_init, n_state) float64 (a copy)."""
    n = int(model.n_state)
    arr = as_float_array(name, initial_states, ndim=(1, 2, 3))
    if arr.shape[-1] != n:
        raise ValidationError(
            f"{name}: expected the last axis to have width n_state={n}, received shape "
            f"{arr.shape}"
        )
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim == 2:
        if arr.shape[0] == 0:
            raise ValidationError(f"{name}: expected at least one state, received 0")
        return np.ascontiguousarray(np.broadcast_to(arr, (n_cond,) + arr.shape))
    if arr.shape[0] != n_cond:
        raise ValidationError(
            f"{name}: expected (n_conditions={n_cond}, n_init, n_state) or (n_init, n_state), "
            f"received shape {arr.shape}"
        )
    return arr.copy()


def as_conditions(model, inputs) -> np.ndarray:
    """Constant inputs (n_input,) or (n_conditions, n_input) -> (n_conditions, n_input);
    None for a model without inputs."""
    return prepare_inputs(model, inputs, None, allow_varying=False)[0][:, 0, :]


def kernel_spec(model):
    """The model's KernelSpec, or None when it has none."""
    spec = getattr(model, "kernel", None)
    return spec if isinstance(spec, KernelSpec) else None
