"""GRU and LSTM cells (PyTorch gate conventions) behind the uniform cell signature.

See :mod:`attractorkit._kernels.cells` for the layout of ``Wh, Wx, bh, bx``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _gated_step(cell, Wh, Wx, bh, bx, h, x, out):
    # Implemented by the adapters work (GRU/LSTM); until then gated cells yield NaN.
    for i in range(out.shape[0]):
        out[i] = np.nan


@njit(cache=True)
def _gated_jacobians(cell, Wh, Wx, bh, bx, h, x, J, Jx, want_input):
    J[:, :] = np.nan
