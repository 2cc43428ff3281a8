"""First-use compilation of the kernels: a notice the user sees, a progress bar on request, and
a record of what was compiled.

Each kernel is compiled by numba the first time it runs with a new type signature, then cached
on disk (``cache=True``; ``NUMBA_CACHE_DIR`` or ``__pycache__``), so a fresh installation pays
the compilation once. numba announces every real compilation (not a cache load) with its
``numba:compile`` event; :func:`install` listens to it and, the first time one of our kernels
compiles in a process, logs one record at WARNING level on the ``attractorkit`` logger:

    compiling numba kernels for first use, about 15 s once ...

Why a log record and not a warning or a print: an application that configures logging controls
it like any other record, and the test suite turns warnings into errors, where a compilation is
not an error. Where the application configured no logging, the package's ``NullHandler`` would
swallow the record; this one then goes to :data:`logging.lastResort` (stderr, WARNING and
above), Python's own behaviour for an unconfigured application, so a plain script or notebook
sees it.

Inside :func:`compile_progress` scopes (public functions called with ``progress=True``) a
tqdm bar counts the kernels as they compile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time

__all__ = ["install", "compile_progress", "compile_log", "expect_compilation", "TYPICAL_SECONDS"]

log = logging.getLogger("attractorkit")

#: Typical first-use compilation of a whole analysis (``ak.analyze`` of a vanilla map) on the
#: 2-core reference machine, from ``benchmarks/bench_cold_start.py`` (the README example from an
#: empty cache: about 14 CPU-s, of which 9 s compile the kernels).
TYPICAL_SECONDS = 15

_lock = threading.Lock()
_state = {"installed": False, "announced": False, "scopes": 0, "bar": None}


@dataclasses.dataclass
class _Compiled:
    name: str
    seconds: float


_log: list[_Compiled] = []


def compile_log() -> list:
    """The kernels compiled in this process so far (name, seconds), oldest first."""
    return list(_log)


def _ours(dispatcher) -> bool:
    return getattr(dispatcher.py_func, "__module__", "").startswith("attractorkit.")


def _listener_class():
    from numba.core import event

    class _Listener(event.Listener):
        """Counts nested compilations (numba compiles under one global lock, so the events of
        one top-level compilation never interleave with another's)."""

        def __init__(self):
            self.depth = 0
            self.top = None

        def on_start(self, ev):
            if self.depth == 0:
                d = ev.data["dispatcher"]
                self.top = (d.py_func.__name__, time.perf_counter()) if _ours(d) else None
                if self.top is not None:
                    _announce(self.top[0])
            self.depth += 1

        def on_end(self, ev):
            self.depth -= 1
            if self.depth == 0 and self.top is not None:
                name, t0 = self.top
                _log.append(_Compiled(name, time.perf_counter() - t0))
                bar = _state["bar"]
                if bar is not None:
                    bar.update(1)
                self.top = None

    return _Listener


def _configured(logger) -> bool:
    """Does a record of ``logger`` reach a handler other than a NullHandler?"""
    c = logger
    while c is not None:
        if any(not isinstance(h, logging.NullHandler) for h in c.handlers):
            return True
        if not c.propagate:
            return False
        c = c.parent
    return False


def _notice(msg, *args):
    """``log.warning``, shown on stderr (logging's lastResort) when logging is unconfigured."""
    if not log.isEnabledFor(logging.WARNING):
        return
    if _configured(log) or logging.lastResort is None:
        log.warning(msg, *args)
        return
    logging.lastResort.handle(log.makeRecord(log.name, logging.WARNING, __file__, 0,
                                             "attractorkit: " + msg, args, None))


def _announce(name):
    if not _state["announced"]:
        _state["announced"] = True
        _notice("compiling numba kernels for first use, about %d s once (a full "
                "analysis on 2 cores); later runs load them from numba's cache. "
                "`attractorkit warmup` compiles them ahead of time.", TYPICAL_SECONDS)
    log.info("compiling kernel %s", name)
    if _state["scopes"] > 0:
        bar = _state["bar"]
        if bar is None:
            from tqdm.auto import tqdm

            bar = _state["bar"] = tqdm(desc="compiling kernels (once)", unit="kernel")
        bar.set_postfix_str(name, refresh=True)


def expect_compilation() -> None:
    """Compilation from here on was asked for (``attractorkit warmup``): no first-use notice."""
    with _lock:
        _state["announced"] = True


def install() -> None:
    """Listen to numba's compilations (idempotent)."""
    with _lock:
        if _state["installed"]:
            return
        from numba.core import event

        event.register("numba:compile", _listener_class()())
        _state["installed"] = True


@contextlib.contextmanager
def compile_progress(enabled: bool = True):
    """Within this scope (when ``enabled``), kernels compiling show a tqdm bar."""
    if not enabled:
        yield
        return
    with _lock:
        _state["scopes"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["scopes"] -= 1
            bar = _state["bar"] if _state["scopes"] == 0 else None
            if bar is not None:
                _state["bar"] = None
        if bar is not None:
            bar.close()
