"""Linearisations computed once per point within one :func:`find_fixed_points` call.

The search linearises the unique points it has found before it follows the saddles' unstable
modes; the result needs the linearisation of the final unique points, most of which are the
same points (bitwise: the same rows of the same solutions). :class:`StabilityCache` keeps
every :class:`Stability` row computed in the call, keyed by condition and the point's bytes,
so that no Jacobian is eigen-decomposed twice.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._stability import Stability, concat_stability, stability_at

__all__ = ["StabilityCache"]


def _with_modes(stab: Stability, k: int) -> Stability:
    """The same rows with only the ``k`` leading modes."""
    if stab.modes.shape[2] == k:
        return stab
    return dataclasses.replace(stab, modes=stab.modes[:, :, :k],
                               left_modes=stab.left_modes[:, :, :k])


class StabilityCache:
    """Stability rows of the points linearised so far (per condition, bitwise keys).

    Parameters
    ----------
    model : Model
    X : ndarray of shape (n_conditions, n_input)
    delta : float
    n_modes : int
        Modes the caller will ask for; the cache keeps ``max(n_modes, 3)`` (the search follows
        up to three unstable modes of each saddle) and trims on the way out.
    """

    def __init__(self, model, X, *, delta, n_modes):
        self.model, self.X, self.delta = model, X, float(delta)
        self.n_keep = max(int(n_modes), 3)
        self._index: dict[tuple[int, bytes], int] = {}
        self._rows: list[Stability] = []
        self._offsets = [0]
        self.n_computed = 0

    @staticmethod
    def _key(h, c) -> tuple[int, bytes]:
        return int(c), np.ascontiguousarray(h, dtype=np.float64).tobytes()

    def _row(self, i) -> tuple[int, int]:
        part = int(np.searchsorted(self._offsets, i, side="right")) - 1
        return part, i - self._offsets[part]

    def get(self, P, cond, *, n_modes=None) -> Stability:
        """Stability at the points ``P`` (n, n_state) under ``X[cond]``: cached rows reused,
        the others computed (and cached)."""
        n = P.shape[0]
        keys = [self._key(P[i], cond[i]) for i in range(n)]
        miss = np.array([k not in self._index for k in keys], bool)
        new_rows = np.flatnonzero(miss)
        # one computation per distinct missing point
        first: dict[tuple[int, bytes], int] = {}
        todo = [i for i in new_rows if first.setdefault(keys[i], i) == i]
        if todo:
            idx = np.asarray(todo, np.int64)
            st = stability_at(self.model, P[idx], np.asarray(cond)[idx], self.X,
                              delta=self.delta, n_modes=self.n_keep)
            base = self._offsets[-1]
            for j, i in enumerate(todo):
                self._index[keys[i]] = base + j
            self._rows.append(st)
            self._offsets.append(base + len(todo))
            self.n_computed += len(todo)
        if n == 0:
            st = stability_at(self.model, P, np.asarray(cond, np.int64), self.X,
                              delta=self.delta, n_modes=self.n_keep)
        else:
            where = [self._row(self._index[k]) for k in keys]
            pieces = []
            for part in sorted({p for p, _ in where}):
                pieces.append((part, np.flatnonzero([p == part for p, _ in where])))
            order = np.concatenate([rows for _, rows in pieces])
            st = concat_stability(
                [self._rows[part].take(np.array([where[i][1] for i in rows], np.int64))
                 for part, rows in pieces])
            st = st.take(np.argsort(order, kind="stable"))
        k = self.n_keep if n_modes is None else min(int(n_modes), P.shape[1])
        return _with_modes(st, min(k, P.shape[1]))
