"""Regression tests for the defects of issue 19 found in the dynamics, fixed-point and attractor
entry points (each failed on the code before the fix). The information, population, file and
command-line defects have theirs next to their packages' tests."""

import warnings

import numpy as np
import pytest
from hostile import DuckModel

import attractorkit as ak
from attractorkit import ConvergenceWarning, ValidationError, adapters

MODEL = adapters.VanillaRNN(0.5 * np.eye(3), 0.1 * np.ones((3, 2)))
X = np.zeros(2)


# -- no size guards: a raw MemoryError after trying to allocate terabytes ----------------------
def test_simulate_refuses_absurd_n_steps_up_front():
    with pytest.raises(ValidationError, match=r"^n_steps: this call would allocate about "
                                              r"[\d.]+ GiB .*lower n_steps"):
        ak.simulate(MODEL, np.ones((4, 3)), X, 10**9)


def test_find_fixed_points_refuses_absurd_n_init_up_front():
    with pytest.raises(ValidationError, match=r"^n_init: .* TiB .*lower n_init"):
        ak.find_fixed_points(MODEL, X, n_init=10**10, rng=0)


def test_classify_and_census_refuse_absurd_n_init_up_front():
    with pytest.raises(ValidationError, match=r"^n_init: .*lower n_init"):
        ak.classify_attractors(MODEL, X, n_init=10**10)
    with pytest.raises(ValidationError, match=r"^n_init: .*lower n_init"):
        ak.attractor_census(MODEL, np.zeros((2, 2)), n_init=10**10)


def test_lyapunov_spectrum_refuses_too_many_runs_for_the_budget():
    from attractorkit.core import set_memory_budget

    big = adapters.VanillaRNN(0.5 * np.eye(200), np.zeros((200, 2)))
    set_memory_budget("64MiB")
    try:
        with pytest.raises(ValidationError, match=r"^initial_states: .* 64 MiB"):
            ak.lyapunov_spectrum(big, np.ones((200, 200)), X, n_steps=20)
    finally:
        set_memory_budget(None)


def test_selectivity_refuses_absurd_n_shuffles_up_front():
    g = np.random.default_rng(0)
    with pytest.raises(ValidationError, match=r"^n_shuffles: .*lower n_shuffles"):
        ak.selectivity(g.normal(size=(1000, 3)), {"v": g.normal(size=1000)},
                       n_shuffles=10**9)


# -- silent nonsense -----------------------------------------------------------------------------
def test_lyapunov_spectrum_with_a_nan_jacobian_reports_the_run_failed():
    """It reported diverged=False with NaN exponents."""
    nan_jac = DuckModel(jacobian=lambda h, x: np.full((h.shape[0], 3, 3), np.nan))
    with pytest.warns(ConvergenceWarning, match="1 of 1 runs"):
        spec = ak.lyapunov_spectrum(nan_jac, np.ones(3), X, n_steps=20, n_transient=0,
                                    n_windows=2)
    assert spec.diverged.all() and np.isnan(spec.exponents).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fine = ak.lyapunov_spectrum(DuckModel(), np.ones(3), X, n_steps=20, n_transient=0,
                                    n_windows=2)
    assert not fine.diverged.any() and np.allclose(fine.exponents, np.log(0.5))


# -- unchecked options and skipped model checks ------------------------------------------------
@pytest.mark.parametrize("option, value", [("delta", -1.0), ("n_modes", -1)])
def test_find_fixed_points_refuses_negative_delta_and_n_modes(option, value):
    """delta=-1 labelled the stable point 0 a saddle; n_modes=-1 was accepted."""
    with pytest.raises(ValidationError, match=f"^{option}: "):
        ak.find_fixed_points(MODEL, X, n_init=4, rng=0, **{option: value})


@pytest.mark.parametrize("call", [
    lambda m: ak.find_fixed_points(m, X, n_init=4, rng=0),
    lambda m: ak.find_cycles(m, X, period=2, n_init=4, rng=0),
    lambda m: ak.linear_stability(m, np.zeros(3), X),
    lambda m: ak.simulate(m, np.ones(3), X, 5),
    lambda m: ak.classify_attractors(m, X, n_init=2, n_steps=60, n_transient=0, n_check=20),
])
def test_a_malformed_model_is_a_validation_error_naming_the_method(call):
    """A step of the wrong width ended in a raw ValueError (broadcast) or AxisError deep in
    the solver; linear_stability did not check the model at all."""
    with pytest.raises(ValidationError, match=r"model\.step: expected a real array of shape "
                                              r"\(2, 3\)"):
        call(DuckModel(step=lambda h, x: h[:, :2]))
    with pytest.raises(ValidationError, match=r"model\.jacobian: expected .*\(2, 3, 3\)"):
        call(DuckModel(jacobian=lambda h, x: np.eye(3)))


def test_a_zero_unit_model_is_a_validation_error():
    """A VanillaRNN with no units gave "zero-size array to reduction operation maximum"."""
    empty = adapters.VanillaRNN(np.zeros((0, 0)), np.zeros((0, 2)))
    for call in (lambda: ak.find_fixed_points(empty, X, n_init=4),
                 lambda: ak.simulate(empty, np.zeros((1, 0)), X, 5),
                 lambda: ak.lyapunov_spectrum(empty, np.zeros((1, 0)), X, n_steps=20)):
        with pytest.raises(ValidationError, match=r"model\.n_state: expected an integer >= 1"):
            call()


@pytest.mark.parametrize("dt", [-0.1, 0.0, float("nan"), "0.1"])
def test_poincare_section_refuses_a_bad_dt(dt):
    """dt < 0 gave crossing times running backwards."""
    t = np.linspace(0, 12, 200)
    with pytest.raises(ValidationError, match="^dt: "):
        ak.poincare_section(np.c_[np.cos(t), np.sin(t)], plane=([0.0, 1.0], 0.0), dt=dt)


@pytest.mark.parametrize("call", [
    lambda p: ak.simulate(MODEL, np.ones(3), X, 5, progress=p),
    lambda p: ak.lyapunov_spectrum(MODEL, np.ones(3), X, n_steps=20, n_windows=2, progress=p),
    lambda p: ak.find_fixed_points(MODEL, X, n_init=4, progress=p),
    lambda p: ak.classify_attractors(MODEL, X, n_init=2, n_steps=60, n_check=20, progress=p),
    lambda p: ak.analyze(MODEL, X, census=False, lyapunov=False, progress=p),
])
def test_flags_are_checked(call):
    """progress=<an array> ended in "the truth value of an array is ambiguous"."""
    with pytest.raises(ValidationError, match="^progress: expected True or False"):
        call(np.array([1, 2]))


def test_find_cycles_of_period_one_are_the_fixed_points():
    """Found by the fuzz suite: period=1 (allowed) crashed in the de-duplication with
    "all keys need to be the same shape"."""
    c = ak.find_cycles(MODEL, X, period=1, n_init=4, rng=0)
    assert c.points.shape == (1, 1, 3) and np.allclose(c.points, 0.0)


def test_absurd_cycle_period_is_refused_up_front():
    """Found by the fuzz suite: `--cycles 99999999999` ended in a SystemError from numba."""
    with pytest.raises(ValidationError, match="^period: .*lower period"):
        ak.find_cycles(MODEL, X, period=10**11, n_init=4, rng=0)
