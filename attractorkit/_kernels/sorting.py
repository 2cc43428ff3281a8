"""Stable argsort of the rows of a float64 matrix: LSD radix sort, rows in a ``prange``.

Each float is mapped to a uint64 key with the same order (the sign bit flipped for positive
values, all bits flipped for negative ones; -0.0 is first turned into +0.0 so that it ties with
0.0 as a comparison sort would). Radix sort is stable, so the result equals
``np.argsort(x, axis=1, kind="stable")`` exactly, ties included, at about a quarter of its cost
for rows of 10^4 values on one core. Byte passes in which every key has the same digit are
skipped. Finite values only (the callers validate).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

_TOP = np.uint64(1) << np.uint64(63)
_BYTE = np.uint64(255)


@njit(cache=True)
def _radix_argsort(x, order, keys, tmp_keys, tmp_idx):
    """Stable argsort of the 1-D array ``x`` into ``order``; the other arrays are work space."""
    n = x.shape[0]
    hist = np.zeros((8, 256), np.int64)
    for i in range(n):
        b = np.float64(x[i] + 0.0).view(np.uint64)
        b = ~b if b & _TOP else b | _TOP
        keys[i] = b
        order[i] = i
        for q in range(8):
            hist[q, (b >> np.uint64(8 * q)) & _BYTE] += 1
    src_k, src_i, dst_k, dst_i = keys, order, tmp_keys, tmp_idx
    pos = np.empty(256, np.int64)
    passes = 0
    for q in range(8):
        shift = np.uint64(8 * q)
        if n == 0 or hist[q, (src_k[0] >> shift) & _BYTE] == n:
            continue  # every key has this digit: the pass would not move anything
        acc = 0
        for digit in range(256):
            pos[digit] = acc
            acc += hist[q, digit]
        for i in range(n):
            digit = (src_k[i] >> shift) & _BYTE
            dst_k[pos[digit]] = src_k[i]
            dst_i[pos[digit]] = src_i[i]
            pos[digit] += 1
        src_k, src_i, dst_k, dst_i = dst_k, dst_i, src_k, src_i
        passes += 1
    if passes % 2:
        order[:] = tmp_idx


@njit(cache=True, parallel=True)
def sort_rows(x):
    """Sorted rows (R, n) and their stable argsort (R, n) int64 of a C-contiguous float64
    matrix ``x`` (R, n)."""
    n_rows, n = x.shape
    order = np.empty((n_rows, n), np.int64)
    vals = np.empty((n_rows, n))
    for r in prange(n_rows):
        _radix_argsort(x[r], order[r], np.empty(n, np.uint64), np.empty(n, np.uint64),
                       np.empty(n, np.int64))
        for i in range(n):
            vals[r, i] = x[r, order[r, i]]
    return vals, order
