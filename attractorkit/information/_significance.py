"""Shuffle significance for mutual information, and multiple-comparison corrections.

Two null models break the pairing of x and y while keeping each marginal:

- ``"permutation"``: y is permuted at random (samples exchangeable: independent trials);
- ``"circular"``: y is rotated in time by a random shift of at least ``min_shift`` samples
  (keeps each series' autocorrelation, the right null for time series such as RNN states).

p-values are ``(1 + #{null >= observed}) / (1 + n_shuffles)`` (never 0; Phipson & Smyth
2010). :func:`holm` and :func:`fdr_bh` adjust a family of p-values.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .._kernels.sorting import sort_rows
from ..core._budget import check_memory
from ..core._errors import ValidationError
from ..core._results import Result
from ..core._validation import as_float_array, as_rng, check_choice, check_int
from ._mi import _options, mutual_information
from ._samples import _kind, _raw, looks_discrete

__all__ = ["shuffle_indices", "empirical_p_value", "holm", "fdr_bh", "shuffle_test",
           "ShuffleTest"]

SHUFFLES = ("permutation", "circular")


def shuffle_indices(n_samples: int, n_shuffles: int, *, shuffle: str = "permutation",
                    min_shift: int | None = None, rng=None) -> np.ndarray:
    """Index arrays of shape (n_shuffles, n_samples) for the chosen null model.

    Row s maps sample i to its shuffled partner ``y[idx[s, i]]``. Circular shifts are drawn
    uniformly from ``[min_shift, n_samples - min_shift]`` (default ``min_shift``:
    ``max(1, n_samples // 20)``).
    """
    n = check_int("n_samples", n_samples, minimum=2)
    s = check_int("n_shuffles", n_shuffles, minimum=0)
    check_choice("shuffle", shuffle, SHUFFLES)
    check_memory((16, s, n), argument="n_shuffles", what="the shuffles' index arrays")
    gen = as_rng(rng)
    if shuffle == "permutation":
        keys = gen.random((s, n))
        vals, idx = sort_rows(keys)  # parallel radix sort: numpy's argsort unless ties
        ties = np.flatnonzero(np.any(vals[:, 1:] == vals[:, :-1], axis=1))
        if ties.size:
            idx[ties] = np.argsort(keys[ties], axis=1)
        return idx
    lo = max(1, n // 20) if min_shift is None else check_int("min_shift", min_shift, minimum=1)
    if 2 * lo > n:
        raise ValidationError(f"min_shift: expected <= n_samples / 2 = {n // 2}, received {lo}")
    shifts = gen.integers(lo, n - lo + 1, size=s)
    return np.ascontiguousarray((np.arange(n)[None, :] + shifts[:, None]) % n, dtype=np.int64)


def empirical_p_value(observed, null) -> np.ndarray:
    """``(1 + #{null >= observed}) / (1 + n_null)`` along the last axis of ``null``.

    Parameters
    ----------
    observed : array_like of shape (...)
    null : array_like of shape (..., n_null)

    Returns
    -------
    ndarray of shape (...); NaN where ``n_null == 0`` or the observed value is NaN.
    """
    obs = as_float_array("observed", observed, finite=False).reshape(np.shape(observed))
    nul = as_float_array("null", null, finite=False).reshape(np.shape(null))
    if nul.ndim == 0 or nul.shape[:-1] != obs.shape:
        raise ValidationError(f"null: expected shape {obs.shape + ('n_null',)}, "
                              f"received {nul.shape}")
    if nul.shape[-1] == 0:
        return np.full(obs.shape, np.nan)
    p = (1.0 + np.sum(nul >= obs[..., None], axis=-1)) / (1.0 + nul.shape[-1])
    return np.where(np.isnan(obs), np.nan, p)


def _flat_p(p):
    arr = as_float_array("p", p, finite=False)
    ok = ~np.isnan(arr)
    if np.any((arr[ok] < 0) | (arr[ok] > 1)):
        raise ValidationError("p: expected p-values in [0, 1] (NaN allowed)")
    return arr, ok


def holm(p) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (family-wise error control).

    Parameters
    ----------
    p : array_like of any shape; NaN entries are not tests and stay NaN.

    Returns
    -------
    ndarray of the same shape; reject where ``adjusted <= alpha``.
    """
    arr, ok = _flat_p(p)
    vals = arr[ok]
    m = vals.size
    order = np.argsort(vals, kind="stable")
    adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * vals[order]))
    out = np.full(arr.shape, np.nan)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def fdr_bh(p) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (false-discovery-rate control).

    Parameters
    ----------
    p : array_like of any shape; NaN entries are not tests and stay NaN.

    Returns
    -------
    ndarray of the same shape; reject where ``adjusted <= q``.
    """
    arr, ok = _flat_p(p)
    vals = arr[ok]
    m = vals.size
    order = np.argsort(vals, kind="stable")
    scaled = vals[order] * m / np.arange(1, m + 1)
    adj = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    out = np.full(arr.shape, np.nan)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


CORRECTIONS = {"holm": holm, "fdr_bh": fdr_bh}


def adjust(p, correction):
    """Apply ``correction`` ("holm", "fdr_bh" or None) to an array of p-values."""
    if correction is None:
        return np.asarray(p, dtype=np.float64).copy()
    check_choice("correction", correction, tuple(CORRECTIONS))
    return CORRECTIONS[correction](p)


@dataclasses.dataclass(frozen=True, eq=False)
class ShuffleTest(Result):
    """Observed MI, its shuffle null and the p-value."""

    array_shapes = {"null": ("n_shuffles",)}

    observed: float
    null: np.ndarray          # (n_shuffles,)
    p_value: float
    method: str
    shuffle: str
    units: str

    def summary(self) -> str:
        q = np.percentile(self.null, [50, 95]) if self.null.size else (np.nan, np.nan)
        return (f"ShuffleTest ({self.method}, {self.shuffle}, {self.null.size} shuffles): "
                f"I = {self.observed:.4g} {self.units}, null median {q[0]:.3g}, "
                f"95th pct {q[1]:.3g}, p = {self.p_value:.3g}")

    def plot(self, ax=None):
        """Histogram of the null with the observed value marked."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        ax.hist(self.null, bins=30, color="0.6")
        ax.axvline(self.observed, color="C3", label=f"observed (p = {self.p_value:.3g})")
        ax.set_xlabel(f"MI ({self.units})")
        ax.legend()
        return ax


def shuffle_test(x, y, *, method: str = "ksg1", k: int = 3, n_shuffles: int = 200,
                 shuffle: str = "permutation", min_shift: int | None = None,
                 units: str = "nats", jitter: float = 1e-10,
                 discrete_y: bool | None = None, rng=None) -> ShuffleTest:
    """Test I(x; y) > 0 against a shuffle null.

    Parameters
    ----------
    x, y : array_like of shape (n_samples,) or (n_samples, n_features)
    method, k, units, jitter, discrete_y
        As in :func:`attractorkit.mutual_information`.
    n_shuffles : int
        Size of the null sample (the smallest reachable p-value is 1 / (1 + n_shuffles)).
    shuffle : {"permutation", "circular"}
    min_shift : int, optional
        Smallest circular shift (default ``n_samples // 20``).
    rng : None, int or numpy Generator

    Returns
    -------
    ShuffleTest
    """
    scale = _options(method, units, jitter, k)
    n_shuffles = check_int("n_shuffles", n_shuffles, minimum=1)
    gen = as_rng(rng)
    xr, yr = _raw("x", x), _raw("y", y)
    if xr.shape[0] != yr.shape[0]:
        raise ValidationError(f"y: expected {xr.shape[0]} samples (as x), received "
                              f"shape {yr.shape}")
    observed = mutual_information(xr, yr, method=method, k=k, jitter=jitter,
                                  discrete_y=discrete_y, rng=gen)
    perms = shuffle_indices(xr.shape[0], n_shuffles, shuffle=shuffle, min_shift=min_shift,
                            rng=gen)
    one_d = (xr.ndim == 1 or xr.shape[1] == 1) and (yr.ndim == 1 or yr.shape[1] == 1)
    if one_d and not looks_discrete(xr):
        from ._batch import mi_columns

        dy = _kind("y", yr, discrete_y)
        xcol = as_float_array("x", xr).reshape(-1, 1)
        yv = yr.reshape(-1) if dy else as_float_array("y", yr).reshape(-1)
        null = mi_columns(xcol, yv, perms, method=method, k=k, discrete=dy or method == "mixed",
                          jitter=jitter, rng=gen)[0]
    else:
        null = np.array([
            mutual_information(xr, yr[idx], method=method, k=k, jitter=jitter,
                               discrete_y=discrete_y, rng=gen)
            for idx in perms
        ])
    null = null * scale
    p = float(empirical_p_value(np.float64(observed), null))
    return ShuffleTest(observed=float(observed), null=null, p_value=p, method=method,
                       shuffle=shuffle, units=units)
