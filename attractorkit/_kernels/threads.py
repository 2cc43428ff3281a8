"""BLAS thread control: :obj:`single_blas_thread`, one object that is both a context manager and
a decorator, for code that parallelises across items itself (numba kernels running row blocks
in threads, ``prange`` kernels calling LAPACK, thread pools of small eigen-problems). There,
nested BLAS threads only oversubscribe the cores: a multi-threaded BLAS call anywhere in them
leaves OpenBLAS's worker threads spinning for milliseconds afterwards, on the cores the
item-parallel work needs (on the 2-core reference machine this took ``find_fixed_points`` with
stability from 0.40 s to 0.25 s).

``threadpoolctl.threadpool_limits`` inspects the loaded libraries on every call (about 1 ms);
the controller here is built once, so entering the limit is cheap::

    with single_blas_thread():
        ...

    @single_blas_thread
    def solve_many(...):
        ...
"""

from __future__ import annotations

import contextlib
import threading

from threadpoolctl import ThreadpoolController

__all__ = ["single_blas_thread"]

_lock = threading.Lock()
_controller: list[ThreadpoolController] = []


def _blas_limit():
    with _lock:
        if not _controller:
            _controller.append(ThreadpoolController())
        return _controller[0].limit(limits=1, user_api="blas")


class _SingleBlasThread(contextlib.ContextDecorator):
    """Every loaded BLAS library limited to one thread inside; the previous limits after."""

    def __init__(self):
        self._limit = None

    def _recreate_cm(self):  # each decorated call (and each thread) gets its own limiter
        return type(self)()

    def __call__(self, fn=None):
        if fn is None:  # ``with single_blas_thread():``
            return type(self)()
        return super().__call__(fn)

    def __enter__(self):
        self._limit = _blas_limit()
        return self

    def __exit__(self, *exc):
        self._limit.restore_original_limits()
        self._limit = None
        return False


#: Context manager (``with single_blas_thread():``) and decorator (``@single_blas_thread``).
single_blas_thread = _SingleBlasThread()
