"""Issue 20: a first-use compilation inside a long public step shows a progress bar when the
step is called with progress=True (find_fixed_points, classify_attractors), and only then."""

import numpy as np
import pytest
from numba import njit

import attractorkit as ak
from attractorkit._kernels import compiling
from attractorkit.adapters import CallableModel


def _spying_model(seen):
    """A contracting map whose step records whether a compile-progress scope is open."""
    def step(h, x):
        seen.append(compiling._state["scopes"])
        return 0.5 * np.tanh(np.asarray(h) + np.asarray(x)[:, :1])

    def jacobian(h, x):
        d = 0.5 / np.cosh(np.asarray(h) + np.asarray(x)[:, :1]) ** 2
        return d[:, :, None] * np.eye(2)

    def input_jacobian(h, x):
        return (0.5 / np.cosh(np.asarray(h) + np.asarray(x)[:, :1]) ** 2)[:, :, None]

    return CallableModel(step, n_state=2, n_input=1, jacobian=jacobian,
                         input_jacobian=input_jacobian)


@pytest.mark.parametrize("progress", [True, False])
def test_long_steps_open_a_compile_progress_scope_only_when_asked(capsys, progress):
    seen = []
    model = _spying_model(seen)
    fp = ak.find_fixed_points(model, [0.0], n_init=4, rng=0, progress=progress)
    assert len(fp) >= 1 and seen and all((s > 0) == progress for s in seen)
    seen.clear()
    att = ak.classify_attractors(model, [0.0], n_init=2, n_steps=60, n_transient=20, rng=0,
                                 progress=progress)
    assert att.label.shape == (1, 2) and seen and all((s > 0) == progress for s in seen)
    err = capsys.readouterr().err
    assert ("fixed points" in err and "classify" in err) == progress
    assert compiling._state["scopes"] == 0 and compiling._state["bar"] is None


def test_a_kernel_compiled_in_a_scope_shows_the_bar(capsys, monkeypatch):
    monkeypatch.setitem(compiling._state, "announced", True)   # the notice is tested elsewhere

    @njit(cache=False)
    def kernel_compiled_under_a_bar(x):
        return x * 2

    kernel_compiled_under_a_bar.py_func.__module__ = "attractorkit._kernels.test"
    compiling.install()
    with compiling.compile_progress(True):
        assert kernel_compiled_under_a_bar(2) == 4
    err = capsys.readouterr().err
    assert "compiling kernels (once)" in err and "kernel_compiled_under_a_bar" in err
    assert compiling._state["bar"] is None
