"""The RL-vs-SL study of Kononov et al. (arXiv 2510.11162), reproduced end to end.

``attractorkit reproduce --preset quick`` runs it; from Python::

    from attractorkit.reference_models.study import preset, run_sweep, write_report
    config = preset("tiny")
    run_sweep(config, "study-out", n_jobs=2)
    write_report("study-out", config)

See docs/study.md for the methods.
"""

from .aggregate import cell_summaries, collect_table, read_csv, table_csv
from .claims import CLAIMS, MAIN_CLAIMS, evaluate_claims
from .config import AnalysisSettings, StatsSettings, StudyConfig
from .power import design_power
from .presets import PRESETS, load_config, preset
from .report import write_report
from .runner import RunSpec, SweepReport, expand_runs, finished_runs, run_sweep

__all__ = [
    "CLAIMS",
    "MAIN_CLAIMS",
    "PRESETS",
    "AnalysisSettings",
    "RunSpec",
    "StatsSettings",
    "StudyConfig",
    "SweepReport",
    "cell_summaries",
    "collect_table",
    "design_power",
    "evaluate_claims",
    "expand_runs",
    "finished_runs",
    "load_config",
    "read_csv",
    "table_csv",
    "preset",
    "run_sweep",
    "write_report",
]
