"""Warnings that point at the user's line, not inside the library."""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from pathlib import Path

__all__ = ["warn", "user_stacklevel"]

_PACKAGE_DIR = str(Path(__file__).resolve().parents[1])
_GLUE = (contextlib.__file__, functools.__file__)  # decorators between our frames


def _ours(frame) -> bool:
    name = frame.f_code.co_filename
    return name.startswith(_PACKAGE_DIR) or name in _GLUE


def user_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside attractorkit (and the contextlib /
    functools wrappers of its decorators), seen from the caller of this function."""
    frame = sys._getframe(1)
    level = 0
    while frame is not None and _ours(frame):
        frame = frame.f_back
        level += 1
    return max(level, 1)


def warn(message, category=UserWarning) -> None:
    """``warnings.warn`` attributed to the user's code: the first frame outside the package
    (tests, scripts, notebooks), so that the warning names the line that caused it."""
    warnings.warn(message, category, stacklevel=user_stacklevel() + 1)
