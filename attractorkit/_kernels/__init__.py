"""Numba kernels and the performance machinery around them.

Kernels are pure ``@njit(cache=True)`` functions on contiguous arrays: no validation, no RNG, no
printing. Public functions in the packages above validate, allocate, call these and wrap the
results. The machinery: :mod:`.parallel` (row blocks in threads), :mod:`.threads` (BLAS thread
limits), :mod:`.memory` (work arrays, the kernels' array layout), :mod:`.compiling` (the notice
and progress of first-use compilation).
"""

from .compiling import install as _install

_install()
