"""Asymptotic classification of trajectories (fixed point, cycle, torus, chaos, divergence) from
independent evidence, and the census over grids of constant inputs.
"""

from __future__ import annotations

from ._census import Census, attractor_census
from ._classify import classify_attractors
from ._results import Attractors, Evidence

__all__ = [
    "Attractors",
    "Census",
    "Evidence",
    "attractor_census",
    "classify_attractors",
]
