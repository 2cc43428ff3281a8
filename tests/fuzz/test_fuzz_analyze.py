"""Fuzz: ``analyze`` (its inputs, recordings and options) and the model adapters."""

import numpy as np
from hostile import fuzz, profiles, scalars, values
from hypothesis import strategies as st

import attractorkit as ak
from attractorkit import adapters

MODEL = adapters.VanillaRNN(0.5 * np.eye(3), 0.1 * np.ones((3, 2)))
FAST = dict(census=False, lyapunov=False, state_space=False, cycles=False,
            n_fixed_point_init=4, rng=0)


@profiles(15)
def test_analyze(profile):
    G = np.random.default_rng(0)
    fuzz(profile, ak.analyze, dict(model=MODEL, inputs=np.zeros(2), **FAST),
         dict(inputs=values((2,)), initial_states=values((2, 3)),
              fixed_point_states=values((4, 3)), activity=values((30, 3)),
              variables=scalars() | st.just({"c": G.integers(0, 2, 30)}),
              grid_shape=scalars(), axis_names=scalars(), axes=scalars(), rng=scalars(),
              n_fixed_point_init=st.sampled_from([0, -1, 2.5, "4", 10**12]),
              fixed_points=scalars(), cycles=scalars(), options=scalars(),
              model_options=scalars(), progress=scalars()))


@profiles(30)
def test_numpy_adapters(profile):
    W, U, b = 0.5 * np.eye(3), np.ones((3, 2)), np.zeros(3)
    fuzz(profile, adapters.VanillaRNN, dict(W=W, U=U, b=b),
         dict(W=values((3, 3)), U=values((3, 2)), b=values((3,)), activation=scalars(),
              alpha=scalars(), time=scalars(), dt=scalars()))
    for cell, gates in ((adapters.GRU, 3), (adapters.LSTM, 4)):
        fuzz(profile, cell, dict(weight_ih=np.zeros((3 * gates, 2)),
                                 weight_hh=np.zeros((3 * gates, 3))),
             dict(weight_ih=values((3 * gates, 2)), weight_hh=values((3 * gates, 3)),
                  bias_ih=values((3 * gates,)), bias_hh=values((3 * gates,))))


@profiles(30)
def test_callable_adapter_and_wrap(profile):
    def step(h, x):
        return 0.5 * h

    def jac(h, x):
        return np.broadcast_to(0.5 * np.eye(3), (h.shape[0], 3, 3)).copy()

    fuzz(profile, adapters.CallableModel, dict(step=step, n_state=3, n_input=0, jacobian=jac),
         dict(step=scalars(), n_state=scalars(), n_input=scalars(), jacobian=scalars(),
              input_jacobian=scalars(), time=scalars(), dt=scalars(), vectorized=scalars()))
    fuzz(profile, adapters.wrap, dict(obj=MODEL),
         dict(obj=values((3, 3)), framework=scalars()))
