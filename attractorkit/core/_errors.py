"""The error and warning hierarchy of attractorkit.

Every error raised on purpose by the library is an :class:`AttractorKitError`. The subclasses are
also the matching built-in exceptions, so ``except ValueError`` keeps working for callers who do
not know this library.
"""

from __future__ import annotations

__all__ = [
    "AttractorKitError",
    "ValidationError",
    "ModelTypeError",
    "MissingDependencyError",
    "ResultFileError",
    "ModelCheckError",
    "ConvergenceWarning",
    "FiniteDifferenceWarning",
]


class AttractorKitError(Exception):
    """Base class of every error raised on purpose by attractorkit."""


class ValidationError(AttractorKitError, ValueError):
    """An argument has the wrong shape, dtype or value.

    The message names the argument, what was expected and what was received.
    """


class ModelTypeError(AttractorKitError, TypeError):
    """An object cannot be used as a model (unsupported module type, wrong protocol)."""


class MissingDependencyError(AttractorKitError, ImportError):
    """An optional framework is needed; the message names the extra to install."""


class ResultFileError(AttractorKitError, ValueError):
    """A saved result is missing, truncated, corrupted or of an unknown schema."""


class ModelCheckError(AttractorKitError, AssertionError):
    """:func:`attractorkit.check_model` found a model that breaks the Model contract."""


class ConvergenceWarning(UserWarning):
    """An iterative method stopped before converging for some points; counts are in the message.

    Non-convergence is data: the affected entries are kept in the result and flagged.
    """


class FiniteDifferenceWarning(UserWarning):
    """A Jacobian is approximated by finite differences because none was given."""
