"""attractorkit: open the black box of recurrent neural networks with dynamical-systems theory.

The public API is listed in ``__all__``; names are imported lazily on first use, so that
``import attractorkit`` stays fast and an optional part never blocks the rest.
"""

from __future__ import annotations

import importlib
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

# public name -> private module that defines it.  One block per area.
_LAZY = {
    # -- foundation ---------------------------------------------------------------------------
    "Model": "core._model",
    "KernelSpec": "core._model",
    "KernelModel": "core._model",
    "is_model": "core._model",
    "check_model": "core._check",
    "Result": "core._results",
    "results_equal": "core._results",
    "AttractorKitError": "core._errors",
    "ValidationError": "core._errors",
    "ModelTypeError": "core._errors",
    "MissingDependencyError": "core._errors",
    "ResultFileError": "core._errors",
    "ModelCheckError": "core._errors",
    "ConvergenceWarning": "core._errors",
    "FiniteDifferenceWarning": "core._errors",
    # -- fixed points, cycles, stability -----------------------------------------------------
    "find_fixed_points": "fixed_points._find",
    "FixedPoints": "fixed_points._points",
    "FixedPointOptions": "fixed_points._options",
    "find_cycles": "fixed_points._cycles",
    "Cycles": "fixed_points._cycles",
    "linear_stability": "fixed_points._stability",
    "Stability": "fixed_points._stability",
    "continue_fixed_points": "fixed_points._continuation",
    "FixedPointBranches": "fixed_points._continuation",
    # -- asymptotic dynamics -----------------------------------------------------------------
    "simulate": "dynamics._simulate",
    "Trajectories": "dynamics._simulate",
    "lyapunov_spectrum": "dynamics._lyapunov",
    "LyapunovSpectrum": "dynamics._lyapunov",
    "poincare_section": "dynamics._poincare",
    "PoincareSection": "dynamics._poincare",
    "ReturnMap": "dynamics._return_map",
    "classify_attractors": "attractors._classify",
    "Attractors": "attractors._classify",
    "ClassifierThresholds": "attractors._thresholds",
    "attractor_census": "attractors._census",
    "Census": "attractors._census",
    # -- information and population structure ------------------------------------------------
    "mutual_information": "information._mi",
    "conditional_mutual_information": "information._mi",
    "selectivity": "information._selectivity",
    "Selectivity": "information._selectivity",
    "shuffle_test": "information._significance",
    "ShuffleTest": "information._significance",
    "shuffle_indices": "information._significance",
    "empirical_p_value": "information._significance",
    "holm": "information._significance",
    "fdr_bh": "information._significance",
    "functional_connectivity": "population._connectivity",
    "Connectivity": "population._connectivity",
    "populations": "population._populations",
    "Populations": "population._populations",
    "balance_index": "population._populations",
    "balance_summary": "population._populations",
    "BalanceSummary": "population._populations",
    "participation_ratio": "population._populations",
    "pca_trajectories": "population._populations",
    "PCATrajectories": "population._populations",
    "crystallization_time": "population._populations",
    "Crystallization": "population._populations",
    "cross_temporal_decoding": "information._decoding",
    "CrossTemporalDecoding": "information._decoding",
    # -- one call ----------------------------------------------------------------------------
    "analyze": "analysis._analyze",
    "AnalysisOptions": "analysis._defaults",
    "Analysis": "analysis._analyze",
    "StateSpace": "analysis._analyze",
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'attractorkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
