"""The RL-vs-SL study of Kononov et al. (arXiv 2510.11162), reproduced end to end.

``attractorkit reproduce --preset quick`` runs it; see docs/study.md for the methods.
"""

from .aggregate import CLAIMS, cell_summaries, collect_table, evaluate_claims
from .config import PRESETS, AnalysisSettings, StatsSettings, StudyConfig, load_config, preset

__all__ = [
    "CLAIMS",
    "PRESETS",
    "AnalysisSettings",
    "StatsSettings",
    "StudyConfig",
    "cell_summaries",
    "collect_table",
    "evaluate_claims",
    "load_config",
    "preset",
]
