"""One call: analyze() runs the analyses of a model and returns one Analysis that prints,
saves, loads, plots and renders an HTML report.
"""

from __future__ import annotations

from ._analyze import analyze
from ._defaults import DEFAULTS, AnalysisOptions
from ._result import Analysis, StateSpace

__all__ = [
    "AnalysisOptions",
    "Analysis",
    "DEFAULTS",
    "StateSpace",
    "analyze",
]
