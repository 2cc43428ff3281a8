"""The foundation every analysis stands on: the Model contract and KernelSpec, check_model,
validation of arguments, the error hierarchy, the Result convention (save / load) and the one PCA.
"""

from __future__ import annotations

from ._check import check_model
from ._errors import (
    AttractorKitError,
    ConvergenceWarning,
    FiniteDifferenceWarning,
    MissingDependencyError,
    ModelCheckError,
    ModelTypeError,
    ResultFileError,
    ValidationError,
)
from ._model import KernelModel, KernelSpec, Model, is_model
from ._pca import PCA, pca, pca_axes
from ._results import Result, results_equal
from ._validation import (
    as_float_array,
    as_input_batch,
    as_rng,
    as_state_batch,
    check_choice,
    check_finite,
    check_int,
    check_positive,
    check_time_and_dt,
)

__all__ = [
    "AttractorKitError",
    "ConvergenceWarning",
    "FiniteDifferenceWarning",
    "KernelModel",
    "KernelSpec",
    "MissingDependencyError",
    "Model",
    "ModelCheckError",
    "ModelTypeError",
    "PCA",
    "Result",
    "ResultFileError",
    "ValidationError",
    "as_float_array",
    "as_input_batch",
    "as_rng",
    "as_state_batch",
    "check_choice",
    "check_finite",
    "check_int",
    "check_model",
    "check_positive",
    "check_time_and_dt",
    "is_model",
    "pca",
    "pca_axes",
    "results_equal",
]
