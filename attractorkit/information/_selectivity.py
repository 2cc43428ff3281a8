"""Selectivity: the mutual information of every unit with every task variable.

Works on any activity matrix (n_samples, n_units): RNN hidden states or recorded neurons.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from ..core._budget import check_memory
from ..core._errors import ValidationError
from ..core._results import Result
from ..core._validation import (
    as_float_array,
    as_label_array,
    as_rng,
    check_bool,
    check_choice,
    check_int,
    check_positive,
)
from ._batch import mi_columns
from ._mi import METHODS, UNITS
from ._samples import _kind, _raw, encode_labels
from ._significance import SHUFFLES, adjust, empirical_p_value, shuffle_indices

__all__ = ["selectivity", "Selectivity"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, eq=False)
class Selectivity(Result):
    """Unit-by-variable mutual information with shuffle p-values.

    Attributes
    ----------
    mi : ndarray (n_units, n_variables)
        MI over all samples (``units``).
    p_value, p_adjusted : ndarray (n_units, n_variables)
        Raw shuffle p-values and the corrected ones (family: all units x variables); NaN
        without shuffles.
    significant : ndarray of bool (n_units, n_variables)
        ``p_adjusted <= alpha`` (all False without shuffles).
    variables : tuple of str
    discrete : ndarray of bool (n_variables,)
        Whether each variable was treated as discrete.
    bins : ndarray (n_bins,) or None
        Labels of the time bins / epochs when ``time_bins`` was given.
    mi_by_bin, p_value_by_bin, p_adjusted_by_bin : ndarray (n_bins, n_units, n_variables)
        The same per bin (None without bins).
    """

    array_shapes = {name: ("n_units", "n_variables")
                    for name in ("mi", "p_value", "p_adjusted", "significant")}
    array_shapes.update({"discrete": ("n_variables",), "bins": ("n_bins",)})
    array_shapes.update({name: ("n_bins", "n_units", "n_variables")
                         for name in ("mi_by_bin", "p_value_by_bin", "p_adjusted_by_bin")})

    mi: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray
    significant: np.ndarray
    variables: tuple
    discrete: np.ndarray
    method: str
    k: int
    units: str
    n_shuffles: int
    shuffle: str
    correction: str | None
    alpha: float
    bins: np.ndarray | None = None
    mi_by_bin: np.ndarray | None = None
    p_value_by_bin: np.ndarray | None = None
    p_adjusted_by_bin: np.ndarray | None = None

    @property
    def n_units(self) -> int:
        return self.mi.shape[0]

    def summary(self) -> str:
        lines = [f"Selectivity: {self.n_units} units x {len(self.variables)} variables "
                 f"({self.method}, k={self.k}, {self.units}; {self.n_shuffles} "
                 f"{self.shuffle} shuffles, correction {self.correction})"]
        for j, name in enumerate(self.variables):
            col = self.mi[:, j]
            sig = (f", {int(self.significant[:, j].sum())} significant at {self.alpha}"
                   if self.n_shuffles else "")
            kind = "discrete" if self.discrete[j] else "continuous"
            lines.append(f"  {name} ({kind}): median {np.median(col):.3g}, "
                         f"max {col.max():.3g}{sig}")
        if self.bins is not None:
            lines.append(f"  per bin: {len(self.bins)} bins")
        return "\n".join(lines)

    def top_units(self, variable, n: int = 10) -> np.ndarray:
        """Indices of the ``n`` units with the highest MI with ``variable`` (name or index)."""
        j = self.variables.index(variable) if isinstance(variable, str) else int(variable)
        return np.argsort(-self.mi[:, j], kind="stable")[:n]

    def plot(self, ax=None, *, sort_by=None, cmap="viridis"):
        """Heatmap of MI (units x variables); significant cells are dotted.

        ``sort_by``: a variable name/index whose MI orders the units (default: unsorted).
        """
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        order = np.arange(self.n_units) if sort_by is None else self.top_units(sort_by,
                                                                                self.n_units)
        im = ax.imshow(self.mi[order], aspect="auto", interpolation="nearest", cmap=cmap)
        rows, cols = np.nonzero(self.significant[order])
        ax.scatter(cols, rows, s=4, c="w", marker=".")
        ax.set_xticks(range(len(self.variables)), self.variables, rotation=45, ha="right")
        ax.set_ylabel("unit")
        ax.figure.colorbar(im, ax=ax, label=f"MI ({self.units})")
        return ax

    def plot_bins(self, variable, ax=None, *, n_top: int = 10):
        """MI over time bins for the ``n_top`` most selective units of ``variable``."""
        import matplotlib.pyplot as plt

        if self.bins is None:
            raise ValidationError("plot_bins: this result has no time bins "
                                  "(call selectivity(..., time_bins=...))")
        ax = plt.gca() if ax is None else ax
        j = self.variables.index(variable) if isinstance(variable, str) else int(variable)
        x = np.arange(len(self.bins))
        for u in self.top_units(j, n_top):
            ax.plot(x, self.mi_by_bin[:, u, j], lw=1)
        ax.set_xticks(x, [str(b) for b in self.bins])
        ax.set_xlabel("time bin")
        ax.set_ylabel(f"MI with {self.variables[j]} ({self.units})")
        return ax


def _variables(variables, n):
    if not isinstance(variables, dict) or not variables:
        raise ValidationError("variables: expected a non-empty dict {name: (n_samples,) array},"
                              f" received {type(variables).__name__}")
    out = {}
    for name, v in variables.items():
        if not isinstance(name, str):
            raise ValidationError(f"variables: expected names that are strings, received "
                                  f"{type(name).__name__} {name!r}"[:200])
        arr = _raw(f"variables[{name!r}]", v)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValidationError(f"variables[{name!r}]: expected shape ({n},) like activity's "
                                  f"samples, received shape {arr.shape}")
        if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
            raise ValidationError(f"variables[{name!r}]: expected finite values, "
                                  "received NaN/Inf")
        out[str(name)] = arr
    return out


def _one_pass(act, values, kinds, *, method, k, n_shuffles, shuffle, min_shift, jitter, gen,
              scale):
    """MI (n_units, n_var) and p-values for one set of samples."""
    n = act.shape[0]
    n_var = len(values)
    mi = np.zeros((act.shape[1], n_var))
    p = np.full((act.shape[1], n_var), np.nan)
    kk = min(k, n - 1)
    for j, (v, disc) in enumerate(zip(values, kinds)):
        perms = np.arange(n, dtype=np.int64)[None, :]
        if n_shuffles:
            null_idx = shuffle_indices(n, n_shuffles, shuffle=shuffle,
                                       min_shift=min_shift if min_shift is None
                                       else min(min_shift, n // 2), rng=gen)
            perms = np.vstack([perms, null_idx])
        res = scale * mi_columns(act, v, perms, method=method, k=kk, discrete=disc,
                                 jitter=jitter, rng=gen)
        mi[:, j] = res[:, 0]
        if n_shuffles:
            p[:, j] = empirical_p_value(res[:, 0], res[:, 1:])
    return mi, p


def selectivity(activity, variables, *, method: str = "ksg1", k: int = 3,
                n_shuffles: int = 0, shuffle: str = "permutation",
                min_shift: int | None = None, time_bins=None, epochs=None,
                correction: str | None = "holm", alpha: float = 0.01, units: str = "nats",
                jitter: float = 1e-10, discrete: dict | None = None, rng=None,
                progress: bool = False) -> Selectivity:
    """Mutual information of every unit with every variable, with shuffle significance.

    Parameters
    ----------
    activity : array_like of shape (n_samples, n_units)
        Activity of each unit (RNN states or recorded neurons), samples on rows; trials are
        concatenated along the samples.
    variables : dict {name: array_like of shape (n_samples,)}
        Task variables aligned with the samples (labels or continuous values).
    method : {"ksg1", "ksg2", "gcmi", "mixed"}
        Continuous variables use KSG (or GCMI); discrete ones Ross' estimator for the k-NN
        methods and Ince's Gaussian model for "gcmi". "mixed" treats every variable as
        discrete.
    k : int
    n_shuffles : int
        Shuffles per variable for the p-values (0: no test). The same shuffles serve every unit.
    shuffle : {"permutation", "circular"}
        Permutation assumes exchangeable samples; circular shifts keep autocorrelation.
    min_shift : int, optional
        Smallest circular shift (default n_samples // 20).
    time_bins : array_like of shape (n_samples,), optional
        A label per sample (time step within the trial, or trial epoch); MI and p-values are
        then also computed within each bin (``mi_by_bin``).
    epochs : array_like of shape (n_samples,), optional
        The same as ``time_bins`` under the name used for trial epochs (give one of the two).
    correction : {"holm", "fdr_bh", None}
        Multiple-comparison correction over all units x variables (per bin).
    alpha : float
        Level for ``significant``.
    units : {"nats", "bits"}
    jitter : float
        Tie-breaking noise (see :func:`attractorkit.mutual_information`).
    discrete : dict {name: bool}, optional
        Overrides the automatic discrete/continuous decision per variable.
    rng : None, int or numpy Generator
    progress : bool
        Show a progress bar over bins.

    Returns
    -------
    Selectivity

    Notes
    -----
    Constant units (e.g. silent ReLU units) and variables constant within a bin get MI 0 and
    p-value 1. Cost: one sort per unit, then O(n_samples * (k + log n)) per unit and shuffle
    in a numba ``prange``.
    """
    act = as_float_array("activity", activity, ndim=2)
    n = act.shape[0]
    if epochs is not None:
        if time_bins is not None:
            raise ValidationError("epochs: give time_bins or epochs, not both")
        time_bins = epochs
    check_choice("method", method, METHODS)
    check_choice("units", units, UNITS)
    check_choice("shuffle", shuffle, SHUFFLES)
    if correction is not None:
        check_choice("correction", correction, ("holm", "fdr_bh"))
    n_shuffles = check_int("n_shuffles", n_shuffles, minimum=0)
    k = check_int("k", k, minimum=1)
    if k >= n:
        raise ValidationError(f"k: expected k < n_samples = {n}, received k={k}")
    if not 0 < check_positive("alpha", alpha) <= 1:
        raise ValidationError(f"alpha: expected a level in (0, 1], received {alpha!r}")
    check_positive("jitter", jitter, strict=False)
    progress = check_bool("progress", progress)
    vars_ = _variables(variables, n)
    if discrete is not None and not isinstance(discrete, dict):
        raise ValidationError(f"discrete: expected a dict {{name: bool}}, received "
                              f"{type(discrete).__name__}")
    check_memory((8, n + act.shape[1], 2 * act.shape[1] + n_shuffles + 1),
                 argument="n_shuffles" if n_shuffles + 1 > 2 * act.shape[1] else "activity",
                 what="the sorted columns and the shuffles")
    discrete = {} if discrete is None else dict(discrete)
    unknown = set(discrete) - set(vars_)
    if unknown:
        raise ValidationError(f"discrete: unknown variable(s) {sorted(unknown)}; "
                              f"variables are {sorted(vars_)}")
    names = tuple(vars_)
    if method == "mixed" and not all(discrete.get(name, True) for name in names):
        raise ValidationError("discrete: method='mixed' treats every variable as discrete; "
                              "use 'ksg1' to mix discrete and continuous variables")
    kinds = [_kind(f"variables[{name!r}]", vars_[name],
                   True if method == "mixed" else discrete.get(name),
                   option=f"discrete[{name!r}]",
                   hint=("use method='ksg1' to treat it as continuous" if method == "mixed" else
                         f"pass discrete={{{name!r}: False}} to treat it as continuous, or bin "
                         "it first"))
             for name in names]
    values = [encode_labels(name, vars_[name])[0] if d else
              as_float_array(f"variables[{name!r}]", vars_[name]) for name, d in zip(names, kinds)]
    gen = as_rng(rng)
    scale = 1.0 if units == "nats" else 1.0 / np.log(2.0)
    opts = dict(method=method, k=k, n_shuffles=n_shuffles, shuffle=shuffle,
                min_shift=min_shift, jitter=float(jitter), gen=gen, scale=scale)
    mi, p = _one_pass(act, values, kinds, **opts)
    p_adj = adjust(p, correction) if n_shuffles else p.copy()
    extra = {}
    if time_bins is not None:
        extra = _per_bin(act, values, kinds, time_bins, correction, alpha, progress, opts)
    return Selectivity(
        mi=mi, p_value=p, p_adjusted=p_adj, significant=np.nan_to_num(p_adj, nan=1.0) <= alpha,
        variables=names, discrete=np.array(kinds, dtype=bool), method=method, k=k,
        units=units, n_shuffles=n_shuffles, shuffle=shuffle, correction=correction,
        alpha=float(alpha), **extra)


def _per_bin(act, values, kinds, time_bins, correction, alpha, progress, opts):
    bins_arr = as_label_array("time_bins", time_bins, n=act.shape[0])
    labels, codes = np.unique(bins_arr, return_inverse=True)
    small = [str(b) for b, c in zip(labels, np.bincount(codes)) if c < 3]
    if small:
        raise ValidationError(f"time_bins: every bin needs at least 3 samples; too few in "
                              f"{small[:5]}")
    if labels.dtype.kind == "O":
        labels = labels.astype(str)
    iterator = range(labels.size)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="selectivity bins")
    mis, ps = [], []
    for b in iterator:
        sel = codes == b
        logger.debug("selectivity: bin %s with %d samples", labels[b], int(sel.sum()))
        mi_b, p_b = _one_pass(np.ascontiguousarray(act[sel]), [v[sel] for v in values], kinds,
                              **opts)
        mis.append(mi_b)
        ps.append(p_b)
    p_by = np.stack(ps)
    p_adj = np.stack([adjust(pb, correction) for pb in ps]) if opts["n_shuffles"] else p_by
    return dict(bins=labels, mi_by_bin=np.stack(mis), p_value_by_bin=p_by,
                p_adjusted_by_bin=p_adj)
