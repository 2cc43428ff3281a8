"""Fuzz: fixed points, cycles, linear stability and continuation."""

import numpy as np
from hostile import fuzz, profiles, scalars, values
from hypothesis import strategies as st

import attractorkit as ak
from attractorkit import adapters

MODEL = adapters.VanillaRNN(0.5 * np.eye(3), 0.1 * np.ones((3, 2)))
RELU = adapters.VanillaRNN(0.5 * np.eye(3), 0.1 * np.ones((3, 2)), b=0.1 * np.ones(3),
                           activation="relu")
X = np.zeros(2)
MODELS = st.sampled_from([MODEL, RELU])


@profiles(25)
def test_find_fixed_points(profile):
    fuzz(profile, ak.find_fixed_points, dict(model=MODEL, inputs=X, n_init=4, rng=0),
         dict(model=MODELS, inputs=values((2,)), initial_states=values((4, 3)),
              n_init=st.sampled_from([0, -1, 2.5, None, "4", True, 10**12]),
              noise=scalars(), method=scalars(), tol=scalars(), tol_q=scalars(),
              max_iter=st.sampled_from([-1, 2.5, "5", True, None, 0]), exact=scalars(),
              tol_unique=scalars(), deduplicate=scalars(), delta=scalars(), n_modes=scalars(),
              lr=scalars(), n_steps=st.sampled_from([-1, 0, 2.5, "5", None, 10**12]),
              init_scale=scalars(), max_norm=scalars(), stability=scalars(), rng=scalars(),
              progress=scalars()))


@profiles(20)
def test_find_cycles(profile):
    fuzz(profile, ak.find_cycles, dict(model=MODEL, inputs=X, period=2, n_init=4, rng=0),
         dict(model=MODELS, inputs=values((2,)), period=scalars(),
              initial_states=values((4, 3)), n_init=st.sampled_from([0, -1, 2.5, "4", 10**12]),
              noise=scalars(), tol=scalars(), max_iter=st.sampled_from([-1, 2.5, "5", True]),
              exact=scalars(), tol_unique=scalars(), include_lower=scalars(), delta=scalars(),
              n_steps=st.sampled_from([-1, 0, 2.5, "5", None, 10**12]), init_scale=scalars(),
              max_norm=scalars(), rng=scalars()))


@profiles(30)
def test_linear_stability(profile):
    fuzz(profile, ak.linear_stability, dict(model=MODEL, points=np.zeros((2, 3)), inputs=X),
         dict(points=values((2, 3)), inputs=values((2,)), delta=scalars(), n_modes=scalars()))


@profiles(12)
def test_continue_fixed_points(profile):
    path = np.stack([np.linspace(0, 0.5, 4), np.zeros(4)], axis=1)
    fuzz(profile, ak.continue_fixed_points,
         dict(model=MODEL, inputs=path, n_init=4, rng=0),
         dict(inputs=values((4, 2)), initial_states=values((4, 3)),
              n_init=st.sampled_from([0, -1, 2.5, "4", 10**12]), n_fresh=scalars(),
              tol=scalars(), max_iter=st.sampled_from([-1, 2.5, "5", True]),
              tol_unique=scalars(), max_jump=scalars(), delta=scalars(), rng=scalars()))
