"""Samples for the MI estimators: checking and shaping x, y, z, discrete labels, scaling.

Shared by :mod:`._mi` (one pair), :mod:`._batch` (many columns), selectivity and the shuffle
tests, so that every entry point refuses the same hostile input with the same message.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma

from .._kernels import sorting as _sorting
from ..core._errors import ValidationError
from ..core._validation import as_float_array, check_int

__all__ = ["DISCRETE_MAX_LEVELS", "check_labels", "looks_discrete", "encode_labels",
           "continuous", "scale_and_jitter", "psi_table", "sort_columns"]

DISCRETE_MAX_LEVELS = 32


def _raw(name, a):
    """Samples as an array of numbers, booleans or strings, (n_samples,) or (n_samples, d)."""
    if a is None:
        raise ValidationError(f"{name}: expected an array of samples, received None")
    try:
        arr = np.asarray(a)
    except (ValueError, TypeError) as exc:  # ragged nesting and the like
        raise ValidationError(f"{name}: expected an array of samples, received "
                              f"{type(a).__name__} ({exc})"[:300]) from None
    if arr.dtype.kind == "O":
        if arr.size and all(isinstance(v, str) for v in arr.ravel()):
            arr = arr.astype(str)
        else:
            arr = as_float_array(name, arr, finite=False)
    if arr.dtype.kind not in "biufUS":
        raise ValidationError(f"{name}: expected real numbers, booleans or string labels, "
                              f"received dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValidationError(
            f"{name}: expected shape (n_samples,) or (n_samples, n_features), "
            f"received shape {arr.shape}"
        )
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValidationError(f"{name}: expected at least one feature, received shape {arr.shape}")
    if arr.shape[0] < 2:
        raise ValidationError(f"{name}: expected at least 2 samples, received shape {arr.shape}")
    return arr


def check_labels(name: str, arr, hint: str) -> None:
    """Refuse a variable declared discrete whose values are mostly unique.

    Estimators of MI with a discrete variable use the samples that share their label with
    others; when most samples are alone in their class (1,000 distinct floats, say) the
    estimate would be an arbitrary 0 or log(n). ``hint`` says what to do instead.
    """
    flat = np.asarray(arr).reshape(-1)
    if flat.dtype.kind == "f" and not np.all(np.isfinite(flat)):
        raise ValidationError(f"{name}: expected finite labels, received NaN/Inf")
    _, counts = np.unique(flat, return_counts=True)
    alone = int(np.sum(counts == 1))
    if 2 * alone > flat.size:
        raise ValidationError(
            f"{name}: treated as discrete labels, but {alone} of its {flat.size} samples have a "
            f"value no other sample shares ({counts.size} distinct values), so no estimator can "
            f"use them; {hint}"
        )


def looks_discrete(arr) -> bool:
    """Auto rule: a 1-D variable (or one column) of labels (bool, string) or with at most
    ``DISCRETE_MAX_LEVELS`` distinct values and at least 5 samples per value on average."""
    arr = np.asarray(arr)
    if arr.ndim == 2 and arr.shape[1] != 1:
        return False
    arr = arr.reshape(-1)
    if arr.dtype.kind in "bUSO":
        return True
    if arr.dtype.kind not in "iuf":
        return False
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        return False
    n_levels = np.unique(arr).size
    return n_levels <= DISCRETE_MAX_LEVELS and 5 * n_levels <= arr.size


def encode_labels(name, arr) -> tuple[np.ndarray, int]:
    """Labels -> integer codes 0..C-1 (int64) and C."""
    arr = np.asarray(arr).reshape(-1)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValidationError(f"{name}: expected finite labels, received NaN/Inf")
    levels, codes = np.unique(arr, return_inverse=True)
    return np.ascontiguousarray(codes, dtype=np.int64), int(levels.size)


def continuous(name, arr) -> np.ndarray:
    """(n_samples, d) float64, finite, no constant column."""
    x = as_float_array(name, arr, ndim=(1, 2))
    if x.ndim == 1:
        x = x[:, None]
    span = np.ptp(x, axis=0)
    if np.any(span == 0):
        col = int(np.flatnonzero(span == 0)[0])
        raise ValidationError(
            f"{name}: column {col} is constant; its mutual information with anything is 0 "
            "and k-NN estimators are undefined on it - drop it before calling"
        )
    return x


def scale_and_jitter(x, jitter, rng) -> np.ndarray:
    """Divide each column by its std (no centring, as scikit-learn) and add Gaussian jitter of
    sd ``jitter * max(1, mean|x|)`` per column (ties -> distinct points)."""
    x = x / x.std(axis=0)
    if jitter > 0:
        sd = jitter * np.maximum(1.0, np.mean(np.abs(x), axis=0))
        x = x + sd * rng.standard_normal(x.shape)
    return np.ascontiguousarray(x)


def psi_table(n: int) -> np.ndarray:
    """digamma(0..n+1), with the (infinite) value at 0 replaced by 0 (never used)."""
    table = digamma(np.arange(n + 2, dtype=np.float64))
    table[0] = 0.0
    return table


def sort_columns(x) -> tuple[np.ndarray, np.ndarray]:
    """Per-column sorted values (d, n) and the stable argsort (d, n), both C-contiguous.

    A numba radix sort, columns in parallel; equal to ``np.argsort(x, axis=0,
    kind="stable")`` exactly (see ``attractorkit._kernels.sorting``).
    """
    xt = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)
    return _sorting.sort_rows(xt)


def _check_k(k, n):
    k = check_int("k", k, minimum=1)
    if k >= n:
        raise ValidationError(f"k: expected k < n_samples = {n}, received k={k}")
    return k


def _lengths(x, y, z=None, names=("x", "y", "z")):
    n = x.shape[0]
    for name, a in ((names[1], y), (names[2], z)):
        if a is not None and a.shape[0] != n:
            raise ValidationError(
                f"{name}: expected {n} samples (as {names[0]}), received shape {a.shape}"
            )
    return n



def _kind(name, arr, flag, *, option=None, hint=None):
    """Whether ``arr`` is treated as discrete: ``flag`` (None: decide automatically). An
    explicit True is checked: a 1-D variable whose labels are mostly shared."""
    option = f"discrete_{name}" if option is None else option
    if flag is None:
        return looks_discrete(arr)
    if not isinstance(flag, (bool, np.bool_)):
        raise ValidationError(f"{option}: expected None, True or False, received {flag!r}")
    if flag and np.asarray(arr).ndim == 2 and np.asarray(arr).shape[1] != 1:
        raise ValidationError(f"{option}: only a 1-D variable can be discrete, "
                              f"received shape {np.asarray(arr).shape}")
    if flag:
        check_labels(name, arr, hint or f"pass {option}=False (or None) to treat {name} as "
                                        "continuous, or bin it first")
    return bool(flag)
