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
    "Model": "_model",
    "KernelSpec": "_model",
    "KernelModel": "_model",
    "is_model": "_model",
    "check_model": "_check",
    "Result": "_results",
    "results_equal": "_results",
    "AttractorKitError": "_errors",
    "ValidationError": "_errors",
    "ModelTypeError": "_errors",
    "MissingDependencyError": "_errors",
    "ResultFileError": "_errors",
    "ModelCheckError": "_errors",
    "ConvergenceWarning": "_errors",
    "FiniteDifferenceWarning": "_errors",
    # -- fixed points, cycles, stability -----------------------------------------------------
    "find_fixed_points": "_fixed_points",
    "FixedPoints": "_fixed_points",
    "find_cycles": "_cycles",
    "Cycles": "_cycles",
    "linear_stability": "_stability",
    "Stability": "_stability",
    "continue_fixed_points": "_continuation",
    "FixedPointBranches": "_continuation",
    # -- asymptotic dynamics -----------------------------------------------------------------
    "simulate": "_simulate",
    "Trajectories": "_simulate",
    "lyapunov_spectrum": "_lyapunov",
    "LyapunovSpectrum": "_lyapunov",
    "poincare_section": "_poincare",
    "PoincareSection": "_poincare",
    "classify_attractors": "_classify",
    "Attractors": "_classify",
    "attractor_census": "_census",
    "Census": "_census",
    # -- information and population structure ------------------------------------------------
    "mutual_information": "_information",
    "conditional_mutual_information": "_information",
    "selectivity": "_selectivity",
    "Selectivity": "_selectivity",
    "shuffle_test": "_significance",
    "ShuffleTest": "_significance",
    "shuffle_indices": "_significance",
    "empirical_p_value": "_significance",
    "holm": "_significance",
    "fdr_bh": "_significance",
    "functional_connectivity": "_connectivity",
    "Connectivity": "_connectivity",
    "populations": "_populations",
    "Populations": "_populations",
    "balance_index": "_populations",
    "balance_summary": "_populations",
    "BalanceSummary": "_populations",
    "participation_ratio": "_populations",
    "pca_trajectories": "_populations",
    "PCATrajectories": "_populations",
    "crystallization_time": "_populations",
    "Crystallization": "_populations",
    "cross_temporal_decoding": "_decoding",
    "CrossTemporalDecoding": "_decoding",
    # -- one call ----------------------------------------------------------------------------
    "analyze": "_analysis",
    "Analysis": "_analysis",
    "StateSpace": "_analysis",
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
