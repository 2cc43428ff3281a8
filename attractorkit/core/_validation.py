"""Validation at the public boundary: one place for clear messages.

Every helper names the argument, states the expectation and shows what was received.
"""

from __future__ import annotations

import warnings
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
    "check_bool",
    "check_model_outputs",
    "as_label_array",
    "as_shape",
    "as_names",
    "check_scale",
    "check_auto_bool",
    "as_float_arrays",
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
    allowed = None if ndim is None else (ndim,) if isinstance(ndim, int) else tuple(ndim)
    arr = np.asarray(raw, dtype=np.float64, order="C")
    if arr.ndim == 0 and (allowed is None or 0 not in allowed):
        arr = arr.reshape(1)  # a scalar is a one-element array unless 0-d is asked for
    if allowed is not None:
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
    """A real scalar > 0 (or >= 0 with ``strict=False``); strings and booleans are refused."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise ValidationError(f"{name}: expected a real number, received {_describe(value)}")
    v = float(value)
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
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(
            f"{name}: expected one of {', '.join(map(repr, choices))}, received {value!r}"
        )
    return value


def as_rng(rng) -> np.random.Generator:
    """``None | int | np.random.Generator`` -> Generator (scikit-learn's seed discipline)."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng < 0:
        raise ValidationError(f"rng: expected a seed >= 0, received {int(rng)}")
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


def check_bool(name: str, value) -> bool:
    """True or False (numpy booleans accepted; 0/1 and strings refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(f"{name}: expected True or False, received {_describe(value)}")
    return bool(value)


def as_label_array(name: str, values, *, n: int | None = None) -> np.ndarray:
    """Labels as a 1-D array that keeps every value whole.

    Strings become a unicode array sized to the longest label (never a fixed width that
    truncates); numbers and booleans keep their dtype. ``n`` checks the length.
    """
    if values is None:
        raise ValidationError(f"{name}: expected a sequence of labels, received None")
    if isinstance(values, (str, bytes)):
        raise ValidationError(f"{name}: expected a sequence of labels, received a single "
                              f"{type(values).__name__} {values!r}"[:200])
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{name}: expected a sequence of labels, received "
                              f"{type(values).__name__} ({exc})"[:300]) from None
    if arr.dtype.kind == "O":
        if not all(isinstance(v, str) for v in arr.ravel()):
            raise ValidationError(f"{name}: expected labels that are all strings or all "
                                  "numbers, received a mix")
        arr = np.array([str(v) for v in arr.ravel()], dtype=str).reshape(arr.shape)
    if arr.dtype.kind not in "biuUSf":
        raise ValidationError(f"{name}: expected string or integer labels, received dtype "
                              f"{arr.dtype}")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValidationError(f"{name}: expected a 1-D sequence of labels, received shape "
                              f"{arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name}: expected finite labels, received NaN/Inf")
    if n is not None and arr.shape[0] != n:
        raise ValidationError(f"{name}: expected shape ({n},) (one label each), received "
                              f"shape {arr.shape}")
    return arr


def check_model_outputs(model) -> None:
    """Call ``step``, ``jacobian`` and ``input_jacobian`` once on a batch of two states and
    check the sizes and the shapes they return, so that a malformed model is a ValidationError
    naming the method, not a raw numpy error deep inside an analysis.

    The models built by attractorkit's adapters check their own outputs, so only their sizes
    are checked here (and no finite-difference Jacobian is computed, nor warned about, for an
    analysis that does not need one). The full conformance check (finite differences,
    determinism, batch independence) is :func:`attractorkit.check_model`.
    """
    for attr, minimum in (("n_state", 1), ("n_input", 0)):
        value = getattr(model, attr)
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValidationError(f"model.{attr}: expected an integer >= {minimum}, received "
                                  f"{_describe(value)}")
    n, m = int(model.n_state), int(model.n_input)
    if type(model).__module__.split(".")[0] == "attractorkit":
        return
    # two ordinary states and inputs (not 0, where polar-type models are singular)
    h = np.stack([np.linspace(-0.3, 0.7, n), np.linspace(0.6, -0.2, n)])
    x = np.stack([np.linspace(0.2, -0.4, m), np.linspace(-0.1, 0.5, m)])
    for method, shape in (("step", (2, n)), ("jacobian", (2, n, n)),
                          ("input_jacobian", (2, n, m))):
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out = np.asarray(getattr(model, method)(h.copy(), x.copy()))
        except Exception as exc:  # noqa: BLE001 - the user's code failed: say where
            raise ValidationError(
                f"model.{method}: expected an array of shape {shape} for a batch of 2 states, "
                f"but the call raised {type(exc).__name__}: {exc}"[:400]
            ) from exc
        if out.shape != shape or out.dtype.kind not in "fiub":
            raise ValidationError(
                f"model.{method}: expected a real array of shape {shape} for a batch of 2 "
                f"states, received {_describe(out)} (attractorkit.check_model checks the "
                "whole contract)"
            )


def as_shape(name: str, value) -> tuple[int, ...]:
    """A shape: one integer or a sequence of integers, each >= 1."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValidationError(f"{name}: expected a sequence of sizes, received {_describe(value)}")
    shape = tuple(check_int(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(value))
    if not shape:
        raise ValidationError(f"{name}: expected at least one size, received {value!r}")
    return shape


def as_names(name: str, value, n: int | None = None) -> tuple[str, ...]:
    """Names: a sequence of strings (numbers are turned into text), ``n`` of them if given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValidationError(f"{name}: expected a sequence of names, received {_describe(value)}")
    names = []
    for i, v in enumerate(value):
        if not isinstance(v, (str, int, float, np.integer, np.floating, np.str_)) \
                or isinstance(v, bool):
            raise ValidationError(f"{name}[{i}]: expected a name (str), received {_describe(v)}")
        names.append(str(v))
    if n is not None and len(names) != n:
        raise ValidationError(f"{name}: expected {n} names, received {len(names)}")
    return tuple(names)


#: Largest magnitude accepted where an analysis multiplies values together (covariances,
#: distances): beyond it, squares overflow float64.
MAX_SCALE = 1e150


def check_scale(name: str, arr: np.ndarray, *, limit: float = MAX_SCALE) -> np.ndarray:
    """Refuse finite values so large that products of them overflow (|x| > ``limit``)."""
    big = np.abs(arr) > limit
    if big.any():
        raise ValidationError(
            f"{name}: expected values of magnitude <= {limit:g} (their products must not "
            f"overflow), received {int(big.sum())} larger (up to {float(np.abs(arr).max()):.3g})"
            "; rescale the data"
        )
    return arr


def check_auto_bool(name: str, value):
    """``"auto"``, True or False."""
    if isinstance(value, str) and value == "auto":
        return "auto"
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValidationError(f"{name}: expected 'auto', True or False, received {_describe(value)}")


def as_float_arrays(name: str, value, *, ndim: int | Sequence[int] | None = None
                    ) -> list[np.ndarray]:
    """A sequence of arrays (e.g. one coordinate array per grid axis), each checked by
    :func:`as_float_array` under the name ``name[k]``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        raise ValidationError(f"{name}: expected a sequence of arrays, received "
                              f"{_describe(value)}")
    return [as_float_array(f"{name}[{k}]", a, ndim=ndim) for k, a in enumerate(value)]
