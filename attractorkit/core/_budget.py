"""The memory budget: refuse a call whose largest allocation cannot fit, before any work starts.

An analysis estimates the size of its largest array from its arguments and calls
:func:`check_memory` right after validating them. Above the budget the call raises a
:class:`ValidationError` that says how much would be allocated and which argument to lower,
instead of a raw ``MemoryError`` (or the machine swapping) minutes later.

The budget, in order of precedence:

1. :func:`set_memory_budget` (a module setting for this process; ``None`` returns to the
   default);
2. the environment variable ``ATTRACTORKIT_MEMORY_BUDGET``: a number of bytes with an optional
   unit (``"512MB"``, ``"8GiB"``, ``"2e9"``), or ``"unlimited"``;
3. the memory available on this machine now (Linux: ``MemAvailable``, lowered to the cgroup's
   remaining allowance inside a container; elsewhere ``os.sysconf``). When it cannot be read,
   there is no limit.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable

import numpy as np

from ._errors import ValidationError

__all__ = ["check_memory", "memory_budget", "set_memory_budget", "n_runs", "ENV_VAR",
           "format_bytes"]

ENV_VAR = "ATTRACTORKIT_MEMORY_BUDGET"
_UNLIMITED = ("unlimited", "none", "inf", "off")
_UNITS = {
    "": 1, "b": 1,
    "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
    "t": 10**12, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}
_setting: dict[str, float | None] = {"budget": None}


def format_bytes(n: float) -> str:
    """``1536`` -> ``'1.5 KiB'`` (binary units, three significant figures)."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover - the loop returns at PiB


def _parse(value, source: str) -> float:
    """Bytes from an int/float or a string with a unit; ``math.inf`` for "unlimited"."""
    if isinstance(value, bool):
        raise ValidationError(f"{source}: expected a number of bytes, received {value!r}")
    if isinstance(value, (int, float)):
        v = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in _UNLIMITED:
            return math.inf
        m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)", text)
        if not m or m.group(2) not in _UNITS:
            raise ValidationError(
                f"{source}: expected a number of bytes with an optional unit ('512MB', "
                f"'8GiB') or 'unlimited', received {value!r}"
            )
        v = float(m.group(1)) * _UNITS[m.group(2)]
    else:
        raise ValidationError(
            f"{source}: expected a number of bytes, received {type(value).__name__}"
        )
    if not v > 0:
        raise ValidationError(f"{source}: expected a budget > 0 bytes, received {value!r}")
    return v


def set_memory_budget(budget) -> None:
    """Set this process's memory budget (bytes, a string such as ``"4GiB"``, or
    ``"unlimited"``); ``None`` returns to the default (environment variable, else the
    available memory)."""
    _setting["budget"] = None if budget is None else _parse(budget, "budget")


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _available() -> float | None:
    """Bytes of memory available now, or None when the platform does not say."""
    avail = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        avail = None
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = None
    limit = _read_int("/sys/fs/cgroup/memory.max")  # cgroup v2 ("max" -> None)
    used = _read_int("/sys/fs/cgroup/memory.current")
    if limit is None:  # cgroup v1
        limit = _read_int("/sys/fs/cgroup/memory/memory.limit_in_bytes")
        used = _read_int("/sys/fs/cgroup/memory/memory.usage_in_bytes")
    if limit is not None and used is not None and limit < 2**60:
        room = max(limit - used, 0)
        avail = room if avail is None else min(avail, room)
    return None if avail is None else float(avail)


def memory_budget() -> tuple[float, str]:
    """The budget in bytes (``math.inf`` for none) and where it comes from."""
    if _setting["budget"] is not None:
        return _setting["budget"], "set by attractorkit.core.set_memory_budget"
    env = os.environ.get(ENV_VAR)
    if env is not None and env.strip():
        return _parse(env, ENV_VAR), f"from {ENV_VAR}={env.strip()}"
    avail = _available()
    if avail is None:
        return math.inf, "available memory unknown"
    return avail, "the memory available on this machine"


def check_memory(n_bytes, *, argument: str, budget=None, what: str | None = None) -> int:
    """Raise a ValidationError if an allocation of ``n_bytes`` exceeds the memory budget.

    Parameters
    ----------
    n_bytes : int or iterable of int
        The size of the call's largest allocation, in bytes; an iterable is multiplied out
        exactly (Python integers: no overflow), e.g. ``(8, n_conditions, n_init, n_steps,
        n_state)``.
    argument : str
        The argument(s) the caller should lower, named as in the signature (``"n_steps"``,
        ``"n_init or inputs"``).
    budget : int, float or str, optional
        Overrides the configured budget for this call.
    what : str, optional
        What would be allocated ("the recorded states"), for the message.

    Returns
    -------
    int
        ``n_bytes`` as an int.
    """
    if isinstance(n_bytes, Iterable) and not isinstance(n_bytes, (str, bytes)):
        total = 1
        for factor in n_bytes:
            total *= max(int(factor), 0)
    else:
        total = max(int(n_bytes), 0)
    if budget is None:
        limit, source = memory_budget()
    else:
        limit, source = _parse(budget, "budget"), "given as budget"
    if total > limit:
        thing = f" for {what}" if what else ""
        raise ValidationError(
            f"{argument}: this call would allocate about {format_bytes(total)}{thing}, more than "
            f"the memory budget of {format_bytes(limit)} ({source}); lower {argument}, or raise "
            f"the budget with the environment variable {ENV_VAR} or "
            "attractorkit.core.set_memory_budget"
        )
    return total


def n_runs(initial_states, n_init: int, n_conditions: int) -> int:
    """How many runs a call starts: ``n_conditions x n_init`` without ``initial_states``, else
    the states given (shared by every condition when of shape (n_state,) or (n_init, n_state),
    one set per condition when 3-D). A malformed ``initial_states`` counts as one state per
    condition: its own validation reports it."""
    if initial_states is None:
        return int(n_conditions) * int(n_init)
    shape = getattr(initial_states, "shape", None)
    if shape is None:
        try:
            shape = np.shape(initial_states)
        except (ValueError, TypeError):
            return int(n_conditions)
    if len(shape) == 2:
        return int(n_conditions) * int(shape[0])
    if len(shape) == 3:
        return int(shape[0]) * int(shape[1])
    return int(n_conditions)
