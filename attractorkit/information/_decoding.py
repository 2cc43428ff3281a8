"""Cross-temporal decoding: persistent versus dynamic population codes.

A linear decoder trained on the population state at time t is tested at every time t'
(cross-validated over trials). A code that persists gives a square block of high accuracy;
a dynamic code only a diagonal band.
"""

from __future__ import annotations

import dataclasses

import numpy as np

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
    check_scale,
)

__all__ = ["cross_temporal_decoding", "CrossTemporalDecoding"]


@dataclasses.dataclass(frozen=True, eq=False)
class CrossTemporalDecoding(Result):
    """Accuracy of decoders trained at one time and tested at another.

    accuracy (n_variables, n_steps, n_steps): [v, t_train, t_test], cross-validated (NaN off
    the diagonal with ``diagonal_only``); chance (n_variables,): majority-class frequency;
    stability (n_variables,): (mean off-diagonal - chance) / (mean diagonal - chance), about
    1 for a persistent code and 0 for a purely dynamic one (NaN when the diagonal is at chance
    or only the diagonal was computed); times (n_steps,); variables (names).
    """

    array_shapes = {"accuracy": ("n_variables", "n_steps", "n_steps"),
                    "chance": ("n_variables",), "stability": ("n_variables",),
                    "times": ("n_steps",)}

    accuracy: np.ndarray
    chance: np.ndarray
    stability: np.ndarray
    times: np.ndarray
    variables: tuple
    decoder: str
    cv: int

    def summary(self) -> str:
        lines = [f"CrossTemporalDecoding ({self.decoder}, {self.cv}-fold): "
                 f"{self.accuracy.shape[1]} time steps"]
        for j, name in enumerate(self.variables):
            diag = np.diagonal(self.accuracy[j])
            lines.append(f"  {name}: peak accuracy {np.nanmax(diag):.3f} (chance "
                         f"{self.chance[j]:.3f}), stability {self.stability[j]:.3f}")
        return "\n".join(lines)

    def plot(self, variable=0, ax=None, *, cmap="viridis"):
        """The time x time accuracy matrix of one variable (train time on the y axis)."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        j = self.variables.index(variable) if isinstance(variable, str) else int(variable)
        t = self.times
        im = ax.imshow(self.accuracy[j], origin="lower", cmap=cmap, aspect="auto",
                       extent=(t[0], t[-1], t[0], t[-1]), vmin=self.chance[j], vmax=1.0)
        ax.set_xlabel("test time")
        ax.set_ylabel("train time")
        ax.set_title(f"{self.variables[j]} (stability {self.stability[j]:.2f})")
        ax.figure.colorbar(im, ax=ax, label="accuracy")
        return ax


def _decoder(kind, c, seed):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "logistic":
        model = LogisticRegression(C=c, max_iter=1000, random_state=seed)
    else:
        model = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    return make_pipeline(StandardScaler(), model)


def _one_variable(act, labels, folds, kind, c, seed, diagonal_only):
    n_trials, n_steps, n_units = act.shape
    correct = np.zeros((n_steps, n_steps))
    for train, test in folds:
        for t in range(n_steps):
            model = _decoder(kind, c, seed).fit(act[train, t], labels[train])
            if diagonal_only:
                correct[t, t] += np.sum(model.predict(act[test, t]) == labels[test])
                continue
            pred = model.predict(act[test].reshape(-1, n_units)).reshape(len(test), n_steps)
            correct[t] += np.sum(pred == labels[test][:, None], axis=0)
    acc = correct / n_trials
    if diagonal_only:
        acc = np.where(np.eye(n_steps, dtype=bool), acc, np.nan)
    return acc


def cross_temporal_decoding(activity, variables, *, cv: int = 5, decoder: str = "logistic",
                            C: float = 1.0, times=None, diagonal_only: bool = False,
                            rng=None) -> CrossTemporalDecoding:
    """Train a linear decoder at each time and test it at every time (cross-validated).

    Parameters
    ----------
    activity : array_like of shape (n_trials, n_steps, n_units)
        Population activity of each trial (RNN states or binned firing rates).
    variables : dict {name: array_like of shape (n_trials,)}
        Discrete labels to decode (e.g. context, choice); one value per trial.
    cv : int
        Stratified folds over trials (each class needs at least ``cv`` trials).
    decoder : {"logistic", "lda"}
        scikit-learn LogisticRegression (L2, strength ``C``) or shrinkage LDA, after
        standardising each unit on the training trials.
    times : array_like of shape (n_steps,), optional
    diagonal_only : bool
        Only train and test at the same time (cheaper; what crystallisation needs).
    rng : None, int or numpy Generator
        Seeds the fold assignment.

    Returns
    -------
    CrossTemporalDecoding
    """
    from sklearn.model_selection import StratifiedKFold

    act = check_scale("activity", as_float_array("activity", activity, ndim=3))
    n_trials, n_steps, n_units = act.shape
    if n_steps < 1 or n_units < 1:
        raise ValidationError(f"activity: expected at least one step of at least one unit, "
                              f"received shape {act.shape}")
    diagonal_only = check_bool("diagonal_only", diagonal_only)
    cv = check_int("cv", cv, minimum=2)
    check_choice("decoder", decoder, ("logistic", "lda"))
    C = check_positive("C", C)
    if not isinstance(variables, dict) or not variables:
        raise ValidationError("variables: expected a non-empty dict {name: (n_trials,) labels}")
    t = np.arange(n_steps, dtype=float) if times is None else as_float_array(
        "times", times, shape=(n_steps,))
    seed = int(as_rng(rng).integers(2**31))
    accs, chance, stab = [], [], []
    for name, v in variables.items():
        lab = as_label_array(f"variables[{name!r}]", v, n=n_trials)
        _, codes, counts = np.unique(lab, return_inverse=True, return_counts=True)
        if counts.size < 2 or counts.min() < cv:
            raise ValidationError(f"variables[{name!r}]: expected >= 2 classes with >= cv={cv}"
                                  f" trials each, received class sizes {counts.tolist()}")
        folds = list(StratifiedKFold(cv, shuffle=True, random_state=seed).split(act[:, 0],
                                                                                 codes))
        acc = _one_variable(act, codes, folds, decoder, C, seed, diagonal_only)
        ch = counts.max() / n_trials
        diag = np.diagonal(acc).mean()
        off = acc[~np.eye(n_steps, dtype=bool)]
        s = (np.mean(off) - ch) / (diag - ch) if (diag - ch > 1e-12 and not diagonal_only
                                                   and n_steps > 1) else np.nan
        accs.append(acc)
        chance.append(ch)
        stab.append(s)
    return CrossTemporalDecoding(accuracy=np.stack(accs), chance=np.array(chance),
                                 stability=np.array(stab, dtype=float), times=t,
                                 variables=tuple(str(k) for k in variables), decoder=decoder,
                                 cv=cv)
