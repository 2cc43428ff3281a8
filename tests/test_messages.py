"""Warnings name the user's line, not a line inside attractorkit."""

import warnings

import numpy as np

import attractorkit as ak
from attractorkit import adapters


def _step(h, x):
    return np.tanh(0.5 * h + x[:, :1])


def test_finite_difference_warning_points_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for model in (adapters.CallableModel(_step, n_state=2, n_input=1),
                      adapters.wrap(_step, n_state=2, n_input=1)):
            model.jacobian(np.zeros((1, 2)), np.zeros((1, 1)))   # the first FD Jacobian warns
        ak.find_fixed_points(adapters.CallableModel(_step, n_state=2, n_input=1), [0.0],
                             n_init=2, rng=0)
    assert len(caught) == 3
    assert all(w.category is ak.FiniteDifferenceWarning for w in caught)
    assert all(w.filename == __file__ for w in caught), [w.filename for w in caught]


def test_warning_raised_inside_a_stage_of_analyze_points_at_the_caller():
    """A warning of a stage (here: divergent Lyapunov runs) is re-emitted at the user's line."""
    model = adapters.VanillaRNN(3.0 * np.eye(2), np.zeros((2, 1)), activation="identity")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ak.analyze(model, [0.0], fixed_points=False, cycles=False, state_space=False,
                   n_steps=50, n_transient=20, n_lyapunov_steps=20, rng=0)
    ours = [w for w in caught if issubclass(w.category, ak.ConvergenceWarning)]
    assert ours, [str(w.message) for w in caught]
    assert all(w.filename == __file__ for w in ours), [w.filename for w in ours]
