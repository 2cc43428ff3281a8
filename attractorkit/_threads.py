"""Single-threaded BLAS around code that parallelises across items itself (numba ``prange``
kernels calling LAPACK, thread pools of small eigen-problems): nested BLAS threads only
oversubscribe the cores there. ``threadpoolctl.threadpool_limits`` inspects the loaded
libraries on every call (about 1 ms); a cached controller makes entering the limit cheap."""

from __future__ import annotations

import threading

from threadpoolctl import ThreadpoolController

__all__ = ["one_blas_thread"]

_lock = threading.Lock()
_controller: list[ThreadpoolController] = []


def one_blas_thread():
    """Context manager limiting every loaded BLAS library to one thread."""
    with _lock:
        if not _controller:
            _controller.append(ThreadpoolController())
        return _controller[0].limit(limits=1, user_api="blas")
