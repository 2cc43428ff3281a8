"""Numba kernels: pure ``@njit(cache=True)`` functions on contiguous float64 arrays.

No validation, no RNG, no printing. Public functions in the core validate, allocate, call these
and wrap the results.
"""
