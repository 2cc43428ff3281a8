"""Fixed points, cycles (fixed points of the p-th iterate), linear stability and continuation.

The one-call functions (:func:`find_fixed_points`, :func:`find_cycles`,
:func:`linear_stability`, :func:`continue_fixed_points`) and their lower layer: the one Newton /
Levenberg-Marquardt solver (:func:`newton_solve`), the exact enumeration of ReLU fixed points,
the de-duplication and the classification of spectra.
"""

from __future__ import annotations

from ._continuation import FixedPointBranches, continue_fixed_points
from ._cycles import Cycles, find_cycles
from ._find import enumerate_relu_fixed_points, find_fixed_points
from ._manifolds import Manifold
from ._newton import STATUS_NAMES, Solutions, newton_solve
from ._options import FixedPointOptions
from ._points import FixedPoints
from ._search import deduplicate
from ._stability import Stability, classify_spectra, crossing_kind, linear_stability

__all__ = [
    "Cycles",
    "FixedPointBranches",
    "FixedPointOptions",
    "FixedPoints",
    "Manifold",
    "STATUS_NAMES",
    "Solutions",
    "Stability",
    "classify_spectra",
    "continue_fixed_points",
    "crossing_kind",
    "deduplicate",
    "enumerate_relu_fixed_points",
    "find_cycles",
    "find_fixed_points",
    "linear_stability",
    "newton_solve",
]
