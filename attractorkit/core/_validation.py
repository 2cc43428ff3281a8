"""Validation at the public boundary: one place for clear messages.

Every helper names the argument, states the expectation and shows what was received.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._errors import ValidationError

__all__ = [
    "as_float_array",
    "as_state_batch",
    "as_input_batch",
    "check_finite",
    "check_positive",
    "check_int",
    "check_choice",
    "as_rng",
    "check_time_and_dt",
]


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"ndarray of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} {x!r}"[:200]


def as_float_array(name: str, x, *, ndim: int | Sequence[int] | None = None,
                   shape: tuple | None = None, finite: bool = True) -> np.ndarray:
    """Return ``x`` as a C-contiguous float64 array, or raise a ValidationError.

    Integer and boolean inputs are converted; complex, object and string inputs are refused.
    ``shape`` may hold ``None`` for free axes.
    """
    if x is None:
        raise ValidationError(f"{name}: expected an array of real numbers, received None")
    try:
        raw = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValidationError(
            f"{name}: expected an array of real numbers, received {_describe(x)} ({exc})"
        ) from None
    if raw.dtype.kind == "c":
        raise ValidationError(
            f"{name}: expected real numbers, received complex dtype {raw.dtype}; "
            "pass the real part explicitly if that is what you mean"
        )
    if raw.dtype.kind not in "fiub":
        raise ValidationError(
            f"{name}: expected an array of real numbers, received dtype {raw.dtype}"
        )
    arr = np.ascontiguousarray(raw, dtype=np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValidationError(
                f"{name}: expected {want} dimension(s), received shape {arr.shape}"
            )
    if shape is not None:
        ok = arr.ndim == len(shape) and all(
            s is None or s == a for s, a in zip(shape, arr.shape)
        )
        if not ok:
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValidationError(f"{name}: expected shape {want}, received shape {arr.shape}")
    if finite:
        check_finite(name, arr)
    return arr


def check_finite(name: str, arr: np.ndarray) -> None:
    """Raise if ``arr`` holds NaN or Inf, saying how many and where the first one is."""
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValidationError(
            f"{name}: expected finite values, received {int(bad.sum())} NaN/Inf "
            f"entries (first at index {first})"
        )


def as_state_batch(name: str, h, n_state: int) -> np.ndarray:
    """States as (B, n_state) float64; a single state (n_state,) becomes a batch of one.

    Integer and boolean states are refused: a state of a recurrent model is real-valued, and an
    integer array here is almost always a mistake (``np.zeros(n, int)``).
    """
    kind = getattr(np.asarray(h) if h is not None else None, "dtype", np.dtype(float)).kind
    if kind in "iub":
        raise ValidationError(
            f"{name}: expected real (floating-point) states, received integer dtype "
            f"{np.asarray(h).dtype}; convert with .astype(float) if that is what you mean"
        )
    arr = as_float_array(name, h, ndim=(1, 2))
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.shape[1] != n_state:
        raise ValidationError(
            f"{name}: expected states of width n_state={n_state}, received shape {arr.shape}"
        )
    return arr


def as_input_batch(name: str, x, n_input: int, batch: int) -> np.ndarray:
    """Inputs as (batch, n_input) float64; one input (n_input,) is broadcast to the batch."""
    if x is None and n_input == 0:
        return np.zeros((batch, 0))
    arr = as_float_array(name, x, ndim=(1, 2))
    if arr.ndim == 1:
        if arr.shape[0] != n_input:
            raise ValidationError(
                f"{name}: expected an input of width n_input={n_input}, "
                f"received shape {arr.shape}"
            )
        return np.ascontiguousarray(np.broadcast_to(arr, (batch, n_input)))
    if arr.shape[1] != n_input:
        raise ValidationError(
            f"{name}: expected inputs of width n_input={n_input}, received shape {arr.shape}"
        )
    if arr.shape[0] == 1 and batch != 1:
        return np.ascontiguousarray(np.broadcast_to(arr, (batch, n_input)))
    if arr.shape[0] != batch:
        raise ValidationError(
            f"{name}: expected {batch} rows (one per state) or 1, received shape {arr.shape}"
        )
    return arr


def check_positive(name: str, value, *, strict: bool = True) -> float:
    """A real scalar > 0 (or >= 0 with ``strict=False``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{name}: expected a real number, received {_describe(value)}"
        ) from None
    if not np.isfinite(v) or (v <= 0 if strict else v < 0):
        rel = "> 0" if strict else ">= 0"
        raise ValidationError(f"{name}: expected a finite number {rel}, received {value!r}")
    return v


def check_int(name: str, value, *, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """An integer within optional bounds (bools are refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{name}: expected an integer, received {_describe(value)}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise ValidationError(f"{name}: expected an integer >= {minimum}, received {v}")
    if maximum is not None and v > maximum:
        raise ValidationError(f"{name}: expected an integer <= {maximum}, received {v}")
    return v


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """One of a fixed set of strings."""
    if value not in choices:
        raise ValidationError(
            f"{name}: expected one of {', '.join(map(repr, choices))}, received {value!r}"
        )
    return value


def as_rng(rng) -> np.random.Generator:
    """``None | int | np.random.Generator`` -> Generator (scikit-learn's seed discipline)."""
    if rng is None or isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ValidationError(
        f"rng: expected None, an int seed or a numpy Generator, received {_describe(rng)}"
    )


def check_time_and_dt(time, dt) -> tuple[str, float | None]:
    """``time`` in {"discrete", "continuous"}; a flow needs a positive ``dt``, a map takes none."""
    check_choice("time", time, ("discrete", "continuous"))
    if time == "continuous":
        if dt is None:
            raise ValidationError("dt: a flow (time='continuous') needs an integration step")
        return time, check_positive("dt", dt)
    if dt is not None:
        raise ValidationError(f"dt: maps take no integration step, received dt={dt!r}")
    return time, None
