"""Fuzz: simulation, Lyapunov spectra, Poincaré sections, attractor classification and the
census, with hostile arrays, options and models."""

import numpy as np
import pytest
from hostile import arrays, fuzz, hostile_models, profiles, scalars, values
from hypothesis import strategies as st

import attractorkit as ak
from attractorkit import adapters

MODEL = adapters.VanillaRNN(0.5 * np.eye(3), 0.1 * np.ones((3, 2)))
FLOW = adapters.VanillaRNN(-0.5 * np.eye(3), 0.1 * np.ones((3, 2)), time="continuous", dt=0.1)
MODELS = st.sampled_from(hostile_models() + [FLOW])
H0, X = np.ones((2, 3)), np.zeros(2)
# sizes that cost time, not memory: a huge one is a long run, not an error (no budget applies)
TIME_ONLY = st.sampled_from([-1, 0, 1, 2, 3, 2.5, None, "3", True, float("nan"), [1],
                             np.array([1, 2])])


@profiles(30)
def test_simulate(profile):
    fuzz(profile, ak.simulate,
         dict(model=MODEL, initial_states=H0, inputs=X, n_steps=10),
         dict(model=MODELS, initial_states=values((2, 3)), inputs=values((2,)),
              n_steps=scalars(), n_transient=TIME_ONLY, stride=scalars(),
              divergence_threshold=scalars(), progress=scalars()))


@profiles(30)
def test_lyapunov_spectrum(profile):
    fuzz(profile, ak.lyapunov_spectrum,
         dict(model=MODEL, initial_states=H0, inputs=X, n_steps=40, n_transient=0,
              n_windows=2),
         dict(model=MODELS, initial_states=values((2, 3)), inputs=values((2,)),
              n_exponents=scalars(), n_steps=TIME_ONLY, n_transient=TIME_ONLY,
              qr_every=scalars(),
              n_windows=scalars(), align_fraction=scalars(), divergence_threshold=scalars(),
              rng=scalars(), progress=scalars()))


@profiles(30)
def test_poincare_section(profile):
    t = np.linspace(0, 12, 200)
    states = np.c_[np.cos(t), np.sin(t), 0.1 * t]
    fuzz(profile, ak.poincare_section, dict(states=states),
         dict(states=values((200, 3)), plane=values((3,)) | st.tuples(values((3,)), scalars()),
              direction=scalars(), pc=scalars(), dt=scalars(), velocities=values((200, 3)),
              kind=scalars() | st.sampled_from(["crossing", "orbit", "slab"]), slab=scalars()))


@profiles(10)
def test_classify_attractors(profile):
    fuzz(profile, ak.classify_attractors,
         dict(model=MODEL, inputs=X, n_init=2, n_steps=60, n_transient=0, n_check=20, rng=0),
         dict(model=MODELS, inputs=values((2,)), initial_states=values((2, 3)),
              n_init=st.sampled_from([0, -1, 2.5, None, "2", 10**12]), n_check=scalars(),
              lyapunov=scalars(), n_exponents=scalars(), max_extensions=scalars(),
              thresholds=scalars(), init_scale=scalars(), max_memory=scalars(), rng=scalars(),
              progress=scalars()))


@profiles(8)
def test_attractor_census(profile):
    grid = np.array([[0.0, 0.0], [0.1, 0.0]])
    fuzz(profile, ak.attractor_census,
         dict(model=MODEL, input_grid=grid, n_init=2, n_steps=60, n_transient=0, n_check=20,
              rng=0),
         dict(input_grid=values((2, 2)), grid_shape=scalars() | st.sampled_from([(2,), (1, 2),
                                                                                 (3,), (0, 2)]),
              axes=st.lists(arrays(), max_size=3), axis_names=scalars(),
              initial_states=values((2, 3))))


@pytest.mark.parametrize("model", hostile_models() + [FLOW], ids=repr)
def test_every_analysis_refuses_a_hostile_model_cleanly(model):
    """Each malformed model through each model-based entry point: a result or an
    AttractorKitError (regression: a zero-unit model gave a raw numpy error, a model with a
    malformed step a raw ValueError / AxisError from inside the solver)."""
    from hostile import call

    call(ak.simulate, model, H0, X, 5)
    call(ak.lyapunov_spectrum, model, H0, X, n_steps=20, n_transient=0, n_windows=2)
    call(ak.find_fixed_points, model, X, n_init=4, rng=0)
    call(ak.find_cycles, model, X, period=2, n_init=4, rng=0)
    call(ak.linear_stability, model, np.zeros((1, 3)), X)
    call(ak.classify_attractors, model, X, n_init=2, n_steps=60, n_transient=0, n_check=20)
    call(ak.check_model, model)
