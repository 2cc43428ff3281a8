"""The foundation every analysis stands on: the Model contract and KernelSpec, check_model,
validation of arguments, the error hierarchy, the Result convention (save / load), the one safe
file writer, the memory budget, the one PCA and the one ``replace`` of options dataclasses.
"""

from __future__ import annotations

from ._budget import check_memory, memory_budget, set_memory_budget
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
from ._files import atomic_path, check_name, output_dir, write_bytes, write_text
from ._model import KernelModel, KernelSpec, Model, is_model
from ._options import replace_options
from ._pca import PCA, pca, pca_axes
from ._results import Result, results_equal
from ._validation import (
    as_float_array,
    as_float_arrays,
    as_input_batch,
    as_label_array,
    as_names,
    as_rng,
    as_shape,
    as_state_batch,
    check_auto_bool,
    check_bool,
    check_choice,
    check_finite,
    check_int,
    check_model_outputs,
    check_positive,
    check_scale,
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
    "as_float_arrays",
    "as_input_batch",
    "as_label_array",
    "as_names",
    "as_rng",
    "as_shape",
    "as_state_batch",
    "atomic_path",
    "check_auto_bool",
    "check_bool",
    "check_choice",
    "check_finite",
    "check_int",
    "check_memory",
    "check_model",
    "check_model_outputs",
    "check_name",
    "check_positive",
    "check_scale",
    "check_time_and_dt",
    "is_model",
    "memory_budget",
    "output_dir",
    "pca",
    "pca_axes",
    "replace_options",
    "results_equal",
    "set_memory_budget",
    "write_bytes",
    "write_text",
]
