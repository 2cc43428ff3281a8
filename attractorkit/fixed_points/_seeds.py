"""Where the search starts: seeds sampled from the user's states or from simulated
trajectories (through the one simulation engine, :func:`attractorkit.simulate`)."""

from __future__ import annotations

import logging

import numpy as np

from ..core._errors import ValidationError
from ..core._validation import as_float_array
from ..dynamics._simulate import simulate

__all__ = ["state_pools", "sample_seeds", "trajectories_from"]

log = logging.getLogger(__name__)


def state_pools(model, K, initial_states):
    """The user's states as one pool (m, n_state) per condition.

    Any array whose last axis is n_state, or one pool per condition of shape
    (n_conditions, ..., n_state) when its first axis equals n_conditions and ndim >= 3."""
    n = model.n_state
    S = as_float_array("initial_states", initial_states, finite=False)
    if S.ndim < 1 or S.shape[-1] != n:
        raise ValidationError(f"initial_states: expected an array whose last axis is "
                              f"n_state={n}, received shape {S.shape}")
    if not np.all(np.isfinite(S)):
        raise ValidationError(f"initial_states: expected finite values, received "
                              f"{int(np.sum(~np.isfinite(S)))} NaN/Inf entries")
    per_cond = S.ndim >= 3 and S.shape[0] == K and K > 1
    pools = [S[k].reshape(-1, n) for k in range(K)] if per_cond else [S.reshape(-1, n)] * K
    if any(p.shape[0] == 0 for p in pools):
        raise ValidationError("initial_states: expected at least one state, received none")
    return pools


def trajectories_from(model, X, starts, n_steps, max_norm):
    """Run ``starts`` (K, m, n_state) under the inputs X (K, n_input) for ``n_steps``;
    returns (K, m, n_steps + 1, n_state) with the starts first, NaN after a divergence."""
    tr = simulate(model, starts, X, n_steps, divergence_threshold=max_norm)
    return np.concatenate([starts[:, :, None], tr.states], axis=2)


def sample_seeds(model, X, initial_states, n_init, noise, rng, *, n_steps=100,
                 init_scale=1.0, max_norm=1e6):
    """Seeds (n_conditions, n_init, n_state) and the simulated trajectories they are sampled
    from (n_conditions, n_traj, n_steps + 1, n_state), or None for the user's states.

    User states are sampled without replacement (with replacement when there are fewer than
    n_init). Without user states, ``max(8, n_init // 8)`` trajectories per condition start
    from ``N(0, init_scale^2)`` and run ``n_steps``; seeds are drawn from their finite states
    with weight ``1/(t+1)`` at step t, so that transients (where saddles are passed) are well
    represented. Gaussian noise of SD ``noise`` is added.
    """
    K, n = X.shape[0], model.n_state
    traj = None
    if initial_states is not None:
        pools = state_pools(model, K, initial_states)
        weights = [None] * K
    else:
        n_traj = max(8, n_init // 8)
        H0 = rng.normal(0.0, init_scale, size=(K, n_traj, n))
        traj = trajectories_from(model, X, H0, n_steps, max_norm)
        tw = np.broadcast_to(1.0 / np.arange(1, n_steps + 2), (n_traj, n_steps + 1)).ravel()
        pools, weights = [], []
        for k in range(K):
            pool = traj[k].reshape(-1, n)
            ok = np.all(np.isfinite(pool), axis=1)
            if not ok.any():
                log.info("condition %d: every simulated trajectory diverged; seeding from the "
                         "random starts", k)
                pools.append(H0[k])
                weights.append(None)
            else:
                pools.append(pool[ok])
                weights.append(tw[ok] / tw[ok].sum())
    seeds = np.empty((K, n_init, n))
    for k, pool in enumerate(pools):
        idx = rng.choice(pool.shape[0], size=n_init, replace=pool.shape[0] < n_init,
                         p=weights[k])
        seeds[k] = pool[idx]
    if noise > 0:
        seeds += rng.normal(0.0, noise, size=seeds.shape)
    return seeds, traj
