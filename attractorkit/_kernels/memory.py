"""Memory for large work arrays, and arrays in the one layout the kernels are compiled for.

:func:`workspace`: record buffers backed by anonymous memory without transparent huge pages.
:func:`kernel_array`: a C-contiguous, writable float64 (or int64) array, copied only when the
input is not one already. numba compiles one machine-code specialisation per argument type, and
a read-only or non-contiguous array is another type: passing one (a ``np.broadcast_to`` view,
an array a caller froze) compiles the whole kernel a second time, seconds for the larger ones.
"""

from __future__ import annotations

import contextlib
import mmap

import numpy as np

__all__ = ["workspace", "kernel_array"]

_HUGE = 2**22  # bytes from which a buffer gets its own mapping


def workspace(size: int) -> np.ndarray:
    """An uninitialised float64 array of ``size`` elements for large record buffers, backed by
    anonymous memory with transparent huge pages declined where the platform allows.

    numpy asks for huge pages on large arrays; under the common ``madvise`` THP mode a first
    touch then zeroes (and may compact) 2 MB at a time, which on the 2-core test machine costs
    about 1.2-2 ms per MB against 0.4 ms per MB with ordinary pages: for the census' records
    (300 MB) that was 0.3 s of a 5 s run. Pages are only faulted in when written.
    """
    size = int(size)
    nbytes = max(size, 1) * 8
    advice = getattr(mmap, "MADV_NOHUGEPAGE", None)
    if advice is None or nbytes < _HUGE:
        return np.empty(size)
    buf = mmap.mmap(-1, nbytes)
    # a kernel without transparent huge pages refuses the advice: its pages are ordinary anyway
    with contextlib.suppress(OSError):
        buf.madvise(advice)
    return np.frombuffer(buf, dtype=np.float64, count=size)


def kernel_array(a, dtype=np.float64) -> np.ndarray:
    """``a`` as a C-contiguous, writable array of ``dtype`` (a copy only when needed)."""
    arr = np.asarray(a, dtype=dtype)
    if arr.flags.c_contiguous and arr.flags.writeable and arr.flags.aligned:
        return arr
    return np.array(arr, dtype=dtype, order="C")
