"""Fuzz: functional connectivity, populations and balance, participation ratio, PCA
trajectories and crystallisation."""

import numpy as np
from hostile import fuzz, profiles, scalars, values
from hypothesis import strategies as st

import attractorkit as ak

G = np.random.default_rng(1)
ACT = G.normal(size=(40, 4))


@profiles(25)
def test_functional_connectivity(profile):
    fuzz(profile, ak.functional_connectivity, dict(activity=ACT, rng=0),
         dict(activity=values((40, 4)), measure=scalars() | st.just("mi"),
              method=scalars() | st.sampled_from(["ksg1", "spearman"]), k=scalars(),
              n_shuffles=st.sampled_from([0, 2, -1, 2.5, "3", None, 10**12]),
              shuffle=scalars(), min_shift=scalars(), alpha=scalars(), correction=scalars(),
              threshold=scalars(), populations=values((4,)), community=scalars(),
              jitter=scalars(), rng=scalars()))


@profiles(30)
def test_populations_and_balance(profile):
    fuzz(profile, ak.populations, dict(state_plus=G.normal(size=5), state_minus=G.normal(size=5)),
         dict(state_plus=values((5,)), state_minus=values((5,)), threshold=scalars(),
              definition=scalars() | st.just(lambda a, b, threshold: ["G_+x"] * len(a))))
    fuzz(profile, ak.balance_index, dict(n_plus=3, n_minus=2),
         dict(n_plus=values((3,)), n_minus=values((3,))))
    pops = [ak.populations(G.normal(size=5), G.normal(size=5)) for _ in range(2)]
    fuzz(profile, ak.balance_summary, dict(pops=pops),
         dict(pops=scalars() | st.lists(scalars(), max_size=3)))


@profiles(30)
def test_participation_ratio_and_pca(profile):
    fuzz(profile, ak.participation_ratio, dict(activity=ACT), dict(activity=values((40, 4))))
    fuzz(profile, ak.pca_trajectories, dict(activity=G.normal(size=(3, 5, 4))),
         dict(activity=values((3, 5, 4)), conditions=values((3,)), n_components=scalars()))


@profiles(15)
def test_crystallization_time(profile):
    act = G.normal(size=(12, 3, 4))
    fuzz(profile, ak.crystallization_time, dict(score_or_activity=np.linspace(0, 1, 6)),
         dict(score_or_activity=values((6,)), times=values((6,)), fraction=scalars(),
              baseline=scalars(), measure=scalars()))
    fuzz(profile, ak.crystallization_time,
         dict(score_or_activity=act, choice=np.repeat([0, 1], 6), cv=2, rng=0),
         dict(score_or_activity=values((12, 3, 4)), choice=values((12,)), cv=scalars(),
              k=scalars(), measure=scalars(), rng=scalars()))
