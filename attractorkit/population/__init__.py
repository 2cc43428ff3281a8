"""Population structure: activity-defined populations, balance, participation ratio, PCA
trajectories, decision crystallisation and functional connectivity.
"""

from __future__ import annotations

from ._connectivity import Connectivity, functional_connectivity
from ._populations import (
    POPULATION_NAMES,
    BalanceSummary,
    Crystallization,
    PCATrajectories,
    Populations,
    balance_index,
    balance_summary,
    crystallization_time,
    participation_ratio,
    pca_trajectories,
    populations,
)

__all__ = [
    "BalanceSummary",
    "Connectivity",
    "Crystallization",
    "PCATrajectories",
    "POPULATION_NAMES",
    "Populations",
    "balance_index",
    "balance_summary",
    "crystallization_time",
    "functional_connectivity",
    "participation_ratio",
    "pca_trajectories",
    "populations",
]
