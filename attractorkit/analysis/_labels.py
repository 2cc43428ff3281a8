"""Attractor labels as the analysis tables and plots read them."""

from __future__ import annotations

import numpy as np

__all__ = ["LABEL_ORDER", "attractor_labels", "showcase_conditions"]

LABEL_ORDER = ("fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent",
               "undetermined")


def showcase_conditions(n_conditions, census, n) -> np.ndarray:
    """Up to ``n`` condition indices: one per attractor type found first, then evenly spread."""
    chosen: list[int] = []
    labels = attractor_labels(census)
    if labels is not None:
        for lab in LABEL_ORDER:
            rows = np.flatnonzero(np.any(labels == lab, axis=1))
            if rows.size and len(chosen) < n:
                chosen.append(int(rows[rows.size // 2]))
    for c in np.linspace(0, n_conditions - 1, num=min(n, n_conditions)).round().astype(int):
        if len(chosen) >= n:
            break
        if int(c) not in chosen:
            chosen.append(int(c))
    return np.array(sorted(chosen), dtype=np.int64)


def attractor_labels(census) -> np.ndarray | None:
    """The (n_conditions, n_init) label array of a census (or of its Attractors)."""
    if census is None:
        return None
    for holder in (getattr(census, "attractors", None), census):
        lab = getattr(holder, "label", None)
        if isinstance(lab, np.ndarray) and lab.ndim == 2 and lab.dtype.kind == "U":
            return lab
    return None
