"""Fixed points, cycles (fixed points of the p-th iterate), linear stability and continuation.
"""

from __future__ import annotations

from ._continuation import FixedPointBranches, continue_fixed_points
from ._cycles import Cycles, find_cycles
from ._find import (
    FixedPoints,
    deduplicate,
    enumerate_relu_fixed_points,
    find_fixed_points,
)
from ._stability import Stability, classify_spectra, linear_stability

__all__ = [
    "Cycles",
    "FixedPointBranches",
    "FixedPoints",
    "Stability",
    "classify_spectra",
    "continue_fixed_points",
    "deduplicate",
    "enumerate_relu_fixed_points",
    "find_cycles",
    "find_fixed_points",
    "linear_stability",
]
