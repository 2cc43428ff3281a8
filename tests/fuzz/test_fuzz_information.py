"""Fuzz: mutual information, conditional MI, selectivity, shuffle tests, p-value corrections and
cross-temporal decoding."""

import numpy as np
from hostile import arrays, fuzz, profiles, scalars, values
from hypothesis import strategies as st

import attractorkit as ak

G = np.random.default_rng(0)
N = 60
x, y, z = G.normal(size=N), G.normal(size=N), G.normal(size=N)
labels = np.repeat([0, 1, 2], N // 3)
ACT = G.normal(size=(N, 4))
VARS = {"c": labels, "v": G.normal(size=N)}
FLAGS = st.sampled_from([None, True, False]) | scalars()
METHODS = st.sampled_from(["ksg1", "ksg2", "gcmi", "mixed"]) | scalars()


@profiles(40)
def test_mutual_information(profile):
    fuzz(profile, ak.mutual_information, dict(x=x, y=y),
         dict(x=values((N,)), y=values((N,)), method=METHODS, k=scalars(), units=scalars(),
              jitter=scalars(), discrete_x=FLAGS, discrete_y=FLAGS, rng=scalars()))


@profiles(30)
def test_conditional_mutual_information(profile):
    fuzz(profile, ak.conditional_mutual_information, dict(x=x, y=y, z=labels),
         dict(x=values((N,)), y=values((N,)), z=values((N,)), method=METHODS, k=scalars(),
              units=scalars(), jitter=scalars(), discrete_z=FLAGS, rng=scalars()))


def _variables():
    return st.one_of(scalars(), st.dictionaries(st.sampled_from(["c", "v", ""]) | st.integers(),
                                                values((N,)), max_size=2))


@profiles(25)
def test_selectivity(profile):
    fuzz(profile, ak.selectivity, dict(activity=ACT, variables=VARS, rng=0),
         dict(activity=values((N, 4)), variables=_variables(), method=METHODS, k=scalars(),
              n_shuffles=st.sampled_from([0, 3, -1, 2.5, "3", None, 10**12]),
              shuffle=scalars(), min_shift=scalars(), time_bins=values((N,)),
              epochs=values((N,)), correction=scalars(), alpha=scalars(), units=scalars(),
              jitter=scalars(), discrete=scalars() | st.just({"c": True, "v": True}),
              rng=scalars(), progress=scalars()))


@profiles(25)
def test_shuffle_test(profile):
    fuzz(profile, ak.shuffle_test, dict(x=x, y=y, n_shuffles=5, rng=0),
         dict(x=values((N,)), y=values((N,)), method=METHODS, k=scalars(),
              n_shuffles=st.sampled_from([0, 3, -1, 2.5, "3", None, 10**12]),
              shuffle=scalars(), min_shift=scalars(), units=scalars(), jitter=scalars(),
              discrete_y=FLAGS, rng=scalars()))


@profiles(30)
def test_shuffle_indices(profile):
    fuzz(profile, ak.shuffle_indices, dict(n_samples=10, n_shuffles=3),
         dict(n_samples=scalars(), n_shuffles=scalars(), shuffle=scalars(),
              min_shift=scalars(), rng=scalars()))


@profiles(30)
def test_p_values(profile):
    fuzz(profile, ak.empirical_p_value, dict(observed=np.zeros(3), null=np.zeros((3, 4))),
         dict(observed=values((3,)), null=values((3, 4))))
    fuzz(profile, ak.holm, dict(p=np.linspace(0, 1, 5)), dict(p=values((5,))))
    fuzz(profile, ak.fdr_bh, dict(p=np.linspace(0, 1, 5)), dict(p=values((5,))))


@profiles(10)
def test_cross_temporal_decoding(profile):
    act = G.normal(size=(12, 3, 4))
    fuzz(profile, ak.cross_temporal_decoding,
         dict(activity=act, variables={"c": np.repeat([0, 1], 6)}, cv=2, rng=0),
         dict(activity=values((12, 3, 4)),
              variables=scalars() | st.dictionaries(st.just("c"), arrays((12,)), max_size=1),
              cv=scalars(), decoder=scalars(), C=scalars(), times=values((3,)),
              diagonal_only=scalars(), rng=scalars()))
