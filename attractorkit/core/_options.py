"""The one ``replace`` of the frozen options dataclasses (``AnalysisOptions``,
``FixedPointOptions``, ``ClassifierThresholds``): a copy with some fields changed, where a
misspelt name is an error that names it and lists the valid ones."""

from __future__ import annotations

import dataclasses
import difflib

from ._errors import ValidationError

__all__ = ["replace_options"]


def replace_options(options, changes, *, of: str):
    """A copy of the frozen dataclass ``options`` with the fields in ``changes`` replaced.

    The copy is built by :func:`dataclasses.replace`, so the class's ``__post_init__``
    validates the new values.

    Parameters
    ----------
    options : dataclass instance
    changes : mapping of field name to value
    of : str
        What the options belong to, for the error message (``"analyze()"``).

    Returns
    -------
    A new instance of ``type(options)``.

    Raises
    ------
    ValidationError
        When a name in ``changes`` is not a field: the message names it (with the closest
        field, when one is close) and lists every valid name.

    Examples
    --------
    >>> import dataclasses
    >>> from attractorkit.core import replace_options
    >>> @dataclasses.dataclass(frozen=True)
    ... class Opts:
    ...     n_steps: int = 10
    >>> replace_options(Opts(), {"n_steps": 3}, of="run()")
    Opts(n_steps=3)
    >>> replace_options(Opts(), {"n_stpes": 3}, of="run()")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    attractorkit.core._errors.ValidationError: n_stpes: not an option of run() (unknown name, ...
    """
    if not dataclasses.is_dataclass(options) or isinstance(options, type):
        raise ValidationError(f"options: expected a dataclass instance, received "
                              f"{type(options).__name__}")
    known = sorted(f.name for f in dataclasses.fields(options) if f.init)
    unknown = sorted(set(changes) - set(known))
    if unknown:
        close = [m for name in unknown for m in difflib.get_close_matches(name, known, n=1)]
        hint = f"unknown name{'s' if len(unknown) > 1 else ''}"
        hint += f", did you mean {', '.join(close)}?" if close else ""
        raise ValidationError(
            f"{', '.join(unknown)}: not an option of {of} ({hint}); the options are "
            f"{', '.join(known)} (see {type(options).__name__})")
    return dataclasses.replace(options, **changes)
