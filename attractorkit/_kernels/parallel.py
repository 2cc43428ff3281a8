"""Row blocks run in parallel threads: the parallelism of every batched kernel.

A batched kernel here is a plain ``@njit(cache=True, nogil=True)`` function whose first two
arguments are ``k, n_blocks``: it does rows ``[k B / n_blocks, (k + 1) B / n_blocks)`` of the
batch (:func:`block_bounds`). :func:`run_blocks` calls it once per block, block 0 on the calling
thread and the others on a small persistent thread pool; the kernels release the GIL, so the
blocks run on all cores.

Why threads and not numba's ``prange``: each block is one long loop (a whole rollout, a whole
Newton solve), so the work is the same, but a ``parallel=True`` kernel costs 3-9 s more to
compile (the parfor passes and the gufunc wrapper, on top of optimising the whole body again),
and the package compiles a dozen of them on first use. Numba's thread count
(``NUMBA_NUM_THREADS``, ``numba.set_num_threads``) still sets the number of blocks.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

from numba import get_num_threads, njit

__all__ = ["n_threads", "n_blocks", "run_blocks", "block_bounds"]

_lock = threading.Lock()
_pool: list = []  # [(pid, executor)]: rebuilt in a forked child, whose threads are gone


def n_threads() -> int:
    """Threads available to the kernels (numba's setting)."""
    return int(get_num_threads())


def n_blocks(n_rows: int, *, min_rows: int = 1) -> int:
    """Blocks for ``n_rows`` rows: one per thread, each of at least ``min_rows`` rows."""
    return int(max(1, min(n_threads(), int(n_rows) // max(1, int(min_rows)))))


def _executor() -> ThreadPoolExecutor:
    with _lock:
        pid = os.getpid()
        if not _pool or _pool[0][0] != pid:
            import numba

            workers = max(1, int(numba.config.NUMBA_NUM_THREADS) - 1)
            _pool[:] = [(pid, ThreadPoolExecutor(workers, thread_name_prefix="attractorkit"))]
        return _pool[0][1]


def run_blocks(kernel, n_blocks: int, *args) -> None:
    """``kernel(k, n_blocks, *args)`` for every block k, concurrently; returns when all are done.

    The first exception raised by a block is raised here, after every block has finished (they
    write into shared arrays).
    """
    n_blocks = int(n_blocks)
    if n_blocks <= 1:
        kernel(0, 1, *args)
        return
    futures = [_executor().submit(kernel, k, n_blocks, *args) for k in range(1, n_blocks)]
    error = None
    try:
        kernel(0, n_blocks, *args)
    except BaseException as exc:  # noqa: BLE001 - re-raised once the other blocks are done
        error = exc
    for f in futures:
        try:
            f.result()
        except BaseException as exc:  # noqa: BLE001
            error = error or exc
    if error is not None:
        raise error


@njit(cache=True, inline="always")
def block_bounds(k, n_blocks, n_rows):
    """Rows ``[r0, r1)`` of block k of n_blocks over n_rows rows."""
    return k * n_rows // n_blocks, (k + 1) * n_rows // n_blocks
