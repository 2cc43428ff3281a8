"""warmup: runs the engine on tiny models of each kind and the caller's analyses on them."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit.dynamics import Warmup, warmup


def test_warmup_runs_the_given_analyses_on_each_tiny_model():
    seen = []

    def analysis(model, inputs):
        seen.append((model.kernel.cell, model.n_state, inputs.shape))
        ak.simulate(model, np.zeros(model.n_state), inputs, 2)

    first = warmup(cells=("gru",), analyses=(analysis,))
    assert isinstance(first, Warmup) and first.cells == ("gru",)
    assert seen == [("gru", 3, (2, 2))]
    again = warmup(cells=("gru",))  # everything it runs is compiled now
    assert again.kernels == () and again.seconds.shape == (0,)
    assert "nothing to compile" in again.summary()


def test_warmup_refuses_unknown_kinds():
    with pytest.raises(ak.ValidationError, match="cells"):
        warmup(cells=("transformer",))
    with pytest.raises(ak.ValidationError, match="progress"):
        warmup(progress="yes")
