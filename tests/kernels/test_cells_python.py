"""The per-sample cell functions run in plain Python too (``.py_func``), equal to the compiled
ones: the family dispatch has a Python body, not a stub."""

import numpy as np
import pytest

from attractorkit._kernels import cells as C


@pytest.mark.parametrize("cell, gates", [(C.VANILLA, 1), (C.VANILLA_FLOW, 1), (C.GRU, 3),
                                         (C.LSTM, 4)])
def test_python_body_equals_the_compiled_cell(cell, gates):
    g = np.random.default_rng(int(cell))
    H, m = 3, 2
    n = H * (2 if cell == C.LSTM else 1)
    Wh, Wx = g.normal(size=(1, gates * H, H)), g.normal(size=(1, gates * H, m))
    bh, bx = g.normal(size=(1, gates * H)), g.normal(size=(1, gates * H))
    h, x = g.normal(size=n), g.normal(size=m)
    args = (cell, C.TANH, 0.7, Wh, Wx, bh, bx, h, x)
    out = [np.empty(n), np.empty(n)]
    C.cell_step(*args, out[0])
    C.cell_step.py_func(*args, out[1])
    jac = [(np.empty((n, n)), np.empty((n, m))) for _ in range(2)]
    C.cell_jacobians(*args, *jac[0])
    C.cell_jacobians.py_func(*args, *jac[1])
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(jac[0][0], jac[1][0])
    np.testing.assert_array_equal(jac[0][1], jac[1][1])
