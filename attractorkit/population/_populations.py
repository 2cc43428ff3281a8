"""Population structure: PCA trajectories, dimensionality, attractor-defined populations,
balance, and decision crystallisation.

Everything takes plain arrays, so it serves recorded neural data as well as RNN states.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from ..core._errors import ValidationError
from ..core._pca import pca
from ..core._results import Result
from ..core._validation import (
    as_float_array,
    as_label_array,
    check_choice,
    check_int,
    check_positive,
    check_scale,
)

__all__ = ["participation_ratio", "pca_trajectories", "PCATrajectories", "populations",
           "Populations", "balance_index", "balance_summary", "BalanceSummary",
           "crystallization_time", "Crystallization", "POPULATION_NAMES"]

POPULATION_NAMES = ("G_+", "G_-", "G_a", "G_s")


# -- dimensionality ------------------------------------------------------------------------------
def participation_ratio(activity) -> float:
    """Participation ratio PR = (sum lambda)^2 / sum lambda^2 of the covariance eigenvalues.

    Parameters
    ----------
    activity : array_like of shape (n_samples, n_units)

    Returns
    -------
    float between 1 (one dimension) and n_units (isotropic). NaN for constant activity.
    """
    act = check_scale("activity", as_float_array("activity", activity, ndim=2))
    if act.shape[0] < 2 or act.shape[1] < 1:
        raise ValidationError(f"activity: expected >= 2 samples of >= 1 unit, received shape "
                              f"{act.shape}")
    lam = np.clip(np.linalg.eigvalsh(np.cov(act, rowvar=False).reshape(act.shape[1], -1)), 0,
                  None)
    total = lam.sum()
    return float(total**2 / np.sum(lam**2)) if total > 0 else float("nan")


@dataclasses.dataclass(frozen=True, eq=False)
class PCATrajectories(Result):
    """Condition-averaged trajectories projected on their principal components.

    projections (n_conditions, n_steps, n_components); components (n_components, n_units);
    explained_variance_ratio (n_components,); mean (n_units,); participation_ratio (float);
    conditions (n_conditions,) labels of the averaged conditions.
    """

    array_shapes = {"projections": ("n_conditions", "n_steps", "n_components"),
                    "components": ("n_components", "n_units"),
                    "explained_variance_ratio": ("n_components",), "mean": ("n_units",),
                    "conditions": ("n_conditions",)}

    projections: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray
    participation_ratio: float
    conditions: np.ndarray

    def summary(self) -> str:
        ev = ", ".join(f"{v:.2f}" for v in self.explained_variance_ratio)
        return (f"PCATrajectories: {self.projections.shape[0]} conditions x "
                f"{self.projections.shape[1]} steps; variance explained by PCs: {ev}; "
                f"participation ratio {self.participation_ratio:.2f}")

    def plot(self, ax=None, *, dims=(0, 1)):
        """Trajectories in the plane of two PCs, one line per condition (start dotted)."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        a, b = dims
        for c, traj in enumerate(self.projections):
            line, = ax.plot(traj[:, a], traj[:, b], lw=1, label=str(self.conditions[c]))
            ax.plot(traj[0, a], traj[0, b], "o", ms=3, color=line.get_color())
        ax.set_xlabel(f"PC{a + 1}")
        ax.set_ylabel(f"PC{b + 1}")
        return ax


def pca_trajectories(activity, conditions=None, *, n_components: int = 3) -> PCATrajectories:
    """PCA of condition-averaged trajectories.

    Parameters
    ----------
    activity : array_like of shape (n_trials, n_steps, n_units)
        Trials of equal length (RNN states or binned firing rates).
    conditions : array_like of shape (n_trials,), optional
        Condition label of each trial; trials of one condition are averaged first. None
        treats every trial as its own condition.
    n_components : int

    Returns
    -------
    PCATrajectories
    """
    act = check_scale("activity", as_float_array("activity", activity, ndim=3))
    n_trials, n_steps, n_units = act.shape
    if min(act.shape) < 1:
        raise ValidationError(f"activity: expected at least one trial, step and unit, received "
                              f"shape {act.shape}")
    n_components = check_int("n_components", n_components, minimum=1, maximum=n_units)
    if conditions is None:
        labels, avg = np.arange(n_trials), act
    else:
        cond = as_label_array("conditions", conditions, n=n_trials)
        labels, codes = np.unique(cond, return_inverse=True)
        avg = np.stack([act[codes == c].mean(axis=0) for c in range(labels.size)])
        if labels.dtype.kind == "O":
            labels = labels.astype(str)
    flat = avg.reshape(-1, n_units)
    if n_components > flat.shape[0]:
        raise ValidationError(f"n_components: expected at most the {flat.shape[0]} averaged "
                              f"samples (conditions x steps), received {n_components}")
    full = pca(flat)
    var = full.variance
    comps = full.axes[:n_components]
    proj = full.project(flat)[:, :n_components].reshape(avg.shape[0], n_steps, n_components)
    pr = float(var.sum() ** 2 / np.sum(var**2)) if var.sum() > 0 else float("nan")
    return PCATrajectories(projections=proj, components=comps,
                           explained_variance_ratio=full.explained_ratio[:n_components],
                           mean=full.mean,
                           participation_ratio=pr, conditions=labels)


# -- populations and balance -------------------------------------------------------------------
def balance_index(n_plus, n_minus):
    """B = 1 - | |G+| - |G-| | / (|G+| + |G-|): 1 balanced, 0 one-sided; NaN when both are 0.

    Works elementwise on arrays (one entry per network).
    """
    a = as_float_array("n_plus", n_plus).reshape(np.shape(n_plus))
    b = as_float_array("n_minus", n_minus).reshape(np.shape(n_minus))
    if a.shape != b.shape:
        raise ValidationError(f"n_minus: expected the shape of n_plus {a.shape}, received "
                              f"{b.shape}")
    if np.any(a < 0) or np.any(b < 0):
        raise ValidationError("n_plus, n_minus: expected counts >= 0")
    total = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(total > 0, 1.0 - np.abs(a - b) / np.where(total > 0, total, 1.0), np.nan)
    return float(out) if out.ndim == 0 else out


def active_at_attractors(state_plus, state_minus, *, threshold: float = 0.0) -> np.ndarray:
    """The default definition (DESIGN §5): a unit is active at an attractor when its activity
    there exceeds ``threshold``; G_+ active only at the choice-1 state, G_- only at choice 2,
    G_a at both, G_s at neither."""
    on_p = state_plus > threshold
    on_m = state_minus > threshold
    labels = np.full(state_plus.shape, "G_s", dtype="U3")
    labels[on_p & ~on_m] = "G_+"
    labels[~on_p & on_m] = "G_-"
    labels[on_p & on_m] = "G_a"
    return labels


@dataclasses.dataclass(frozen=True, eq=False)
class Populations(Result):
    """Functional populations of one network.

    labels (n_units,) in POPULATION_NAMES; counts / fractions dicts by name; balance B.
    """

    array_shapes = {"labels": ("n_units",)}

    labels: np.ndarray
    counts: dict
    fractions: dict
    balance: float
    threshold: float
    definition: str

    def summary(self) -> str:
        parts = ", ".join(f"{k} {self.counts[k]}" for k in POPULATION_NAMES)
        return (f"Populations ({self.definition}, {self.labels.size} units): {parts}; "
                f"balance B = {self.balance:.3f}")

    def mask(self, name: str) -> np.ndarray:
        check_choice("name", name, POPULATION_NAMES)
        return self.labels == name


def populations(state_plus, state_minus, *, threshold: float = 0.0,
                definition: Callable | None = None) -> Populations:
    """Populations defined by activity at the two decision attractors, and their balance.

    Parameters
    ----------
    state_plus, state_minus : array_like of shape (n_units,)
        Activity at the choice-1 and choice-2 attractors (fixed points, or the time average
        over a cycle/torus; for recorded data, mean rates in the two choice conditions).
        A batch (n_states, n_units) is averaged over its first axis.
    threshold : float
        Activity above which a unit counts as active (0 for ReLU units).
    definition : callable, optional
        ``definition(state_plus, state_minus, threshold=...) -> labels (n_units,)`` with values
        in ``("G_+", "G_-", "G_a", "G_s")``; default :func:`active_at_attractors`.

    Returns
    -------
    Populations
    """
    sp = as_float_array("state_plus", state_plus, ndim=(1, 2))
    sm = as_float_array("state_minus", state_minus, ndim=(1, 2))
    sp = sp.mean(axis=0) if sp.ndim == 2 else sp
    sm = sm.mean(axis=0) if sm.ndim == 2 else sm
    if sp.shape != sm.shape:
        raise ValidationError(f"state_minus: expected shape {sp.shape} like state_plus, "
                              f"received {sm.shape}")
    if sp.size == 0:
        raise ValidationError("state_plus: expected the activity of at least one unit, "
                              f"received shape {np.shape(state_plus)}")
    threshold = as_float_array("threshold", threshold, ndim=0).item()
    rule = active_at_attractors if definition is None else definition
    if not callable(rule):
        raise ValidationError(f"definition: expected a callable, received {rule!r}")
    # checked as returned: a fixed-width cast first would cut "G_+x" to a valid "G_+"
    labels = np.asarray(rule(sp, sm, threshold=threshold))
    if labels.shape != sp.shape or labels.dtype.kind not in "UO" or not all(
            isinstance(v, str) and v in POPULATION_NAMES for v in labels.tolist()):
        shown = sorted({repr(v) for v in labels.ravel().tolist()})[:6]
        raise ValidationError(f"definition: expected labels of shape {sp.shape} in "
                              f"{POPULATION_NAMES}, received shape {labels.shape} with values "
                              f"{', '.join(shown)}")
    labels = labels.astype(f"U{max(len(n) for n in POPULATION_NAMES)}")
    counts = {k: int(np.sum(labels == k)) for k in POPULATION_NAMES}
    fractions = {k: counts[k] / labels.size for k in POPULATION_NAMES}
    return Populations(labels=labels, counts=counts, fractions=fractions,
                       balance=balance_index(counts["G_+"], counts["G_-"]),
                       threshold=threshold,
                       definition=str(getattr(rule, "__name__", "custom")))


@dataclasses.dataclass(frozen=True, eq=False)
class BalanceSummary(Result):
    """Balance and population fractions across an ensemble of networks.

    balance (n_networks,); fractions (n_networks, 4) in POPULATION_NAMES order; balance_mean,
    balance_std, balance_cv; fraction_cv (4,) coefficient of variation of each fraction.
    """

    array_shapes = {"balance": ("n_networks",), "fractions": ("n_networks", 4),
                    "fraction_cv": (4,)}

    balance: np.ndarray
    fractions: np.ndarray
    balance_mean: float
    balance_std: float
    balance_cv: float
    fraction_cv: np.ndarray

    def summary(self) -> str:
        cv = ", ".join(f"{k} {v:.2f}" for k, v in zip(POPULATION_NAMES, self.fraction_cv))
        return (f"BalanceSummary over {self.balance.size} networks: B = "
                f"{self.balance_mean:.3f} +- {self.balance_std:.3f} (CV {self.balance_cv:.2f});"
                f" fraction CVs: {cv}")


def balance_summary(pops: Sequence[Populations]) -> BalanceSummary:
    """Spread of balance and population fractions across networks (NaN balances skipped)."""
    if not isinstance(pops, Sequence) or len(pops) == 0 or not all(
            isinstance(p, Populations) for p in pops):
        raise ValidationError(f"pops: expected a non-empty sequence of Populations, received "
                              f"{type(pops).__name__}")
    bal = np.array([p.balance for p in pops], dtype=float)
    frac = np.array([[p.fractions[k] for k in POPULATION_NAMES] for p in pops])
    ok = bal[~np.isnan(bal)]
    mean = float(ok.mean()) if ok.size else float("nan")
    std = float(ok.std(ddof=1)) if ok.size > 1 else float("nan")
    fmean = frac.mean(axis=0)
    fstd = frac.std(axis=0, ddof=1) if len(pops) > 1 else np.full(4, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        fcv = np.where(fmean > 0, fstd / np.where(fmean > 0, fmean, 1), np.nan)
    return BalanceSummary(balance=bal, fractions=frac, balance_mean=mean, balance_std=std,
                          balance_cv=std / mean if mean else float("nan"), fraction_cv=fcv)


# -- crystallisation ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class Crystallization(Result):
    """First time after which a choice score stays >= fraction of its final value.

    score (n_steps,); index (int, -1 if never); time (float, NaN if never); final, fraction,
    baseline, measure.
    """

    array_shapes = {"score": ("n_steps",), "times": ("n_steps",)}

    score: np.ndarray
    times: np.ndarray
    index: int
    time: float
    final: float
    fraction: float
    baseline: float
    measure: str

    def summary(self) -> str:
        when = f"t = {self.time:g} (step {self.index})" if self.index >= 0 else "never"
        return (f"Crystallization ({self.measure}): final {self.final:.3f}; stays >= "
                f"{self.fraction:.0%} of it from {when}")

    def plot(self, ax=None):
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        ax.plot(self.times, self.score, lw=1.5)
        level = self.baseline + self.fraction * (self.final - self.baseline)
        ax.axhline(level, color="0.5", ls="--", lw=1)
        if self.index >= 0:
            ax.axvline(self.time, color="C3", lw=1)
        ax.set_xlabel("time")
        ax.set_ylabel(self.measure)
        return ax


def crystallization_time(score_or_activity, choice=None, *, times=None, fraction: float = 0.9,
                         baseline: float = 0.0, measure: str = "decoder", cv: int = 5,
                         k: int = 3, rng=None) -> Crystallization:
    """Decision crystallisation: the first time after which the choice score stays at or above
    ``baseline + fraction * (final - baseline)`` (default: 90% of its final value).

    Parameters
    ----------
    score_or_activity : array_like
        Either a score curve of shape (n_steps,) (``choice`` None), or activity of shape
        (n_trials, n_steps, n_units) from which the score is computed at every step.
    choice : array_like of shape (n_trials,), optional
        The eventual choice of each trial.
    times : array_like of shape (n_steps,), optional
        Time of each step (default 0..n_steps-1).
    fraction, baseline : float
        Level rule; pass ``baseline=0.5`` to measure decoder accuracy above chance (2 choices).
    measure : {"decoder", "mi"}
        Cross-validated linear-decoder accuracy, or the population's maximum unit MI with the
        choice (KSG/Ross, nats).
    cv, k, rng
        Folds of the decoder; neighbours of the MI estimator; seed.

    Returns
    -------
    Crystallization
    """
    check_choice("measure", measure, ("decoder", "mi"))
    fraction = check_positive("fraction", fraction)
    baseline = as_float_array("baseline", baseline, ndim=0).item()
    if choice is None:
        score = as_float_array("score_or_activity", score_or_activity, ndim=1)
        label = "score"
    else:
        act = as_float_array("score_or_activity", score_or_activity, ndim=3)
        score = _choice_score(act, choice, measure, cv, k, rng)
        label = "decoder accuracy" if measure == "decoder" else "max unit MI with choice"
    n_steps = score.size
    t = np.arange(n_steps, dtype=float) if times is None else as_float_array(
        "times", times, shape=(n_steps,))
    final = float(score[-1])
    level = baseline + fraction * (final - baseline)
    below = np.flatnonzero(score < level)
    index = 0 if below.size == 0 else int(below[-1]) + 1
    if index >= n_steps:
        index = -1
    return Crystallization(score=score, times=t, index=index,
                           time=float(t[index]) if index >= 0 else float("nan"), final=final,
                           fraction=fraction, baseline=float(baseline), measure=label)


def _choice_score(act, choice, measure, cv, k, rng):
    ch = np.asarray(choice).reshape(-1)
    if ch.shape[0] != act.shape[0]:
        raise ValidationError(f"choice: expected shape ({act.shape[0]},), received "
                              f"{np.asarray(choice).shape}")
    if measure == "decoder":
        from ..information._decoding import cross_temporal_decoding

        dec = cross_temporal_decoding(act, {"choice": ch}, cv=cv, diagonal_only=True, rng=rng)
        return np.diagonal(dec.accuracy[0]).copy()
    from ..information._selectivity import selectivity

    return np.array([selectivity(act[:, t, :], {"choice": ch}, k=k, rng=rng).mi.max()
                     for t in range(act.shape[1])])
