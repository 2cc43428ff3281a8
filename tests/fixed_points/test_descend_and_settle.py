"""The search's cheap parts: runs that stop once settled (or once on a cycle), and the leading
unstable modes alone (what the saddles' descent needs when stability is not asked for),
checked against plain simulation and numpy's dense eigen-decomposition."""

import warnings

import numpy as np
import pytest

import attractorkit as ak
from attractorkit.adapters import CallableModel, VanillaRNN
from attractorkit.fixed_points._modes import unstable_modes
from attractorkit.fixed_points._region import run_until_settled


def _counting(step, n):
    calls = []

    def f(h, x):
        calls.append(len(h))
        return step(h)

    return CallableModel(f, n_state=n, n_input=0, jacobian=lambda h, x: np.zeros(
        (len(h), n, n))), calls


def test_runs_stop_once_settled_or_cycling_and_run_on_otherwise():
    """h' = h/5 settles (stopped after the first chunk), h' = -h is a period-2 cycle (stopped
    after the first chunk, its last step stays large), h' = 1.001 h keeps moving (runs all
    steps). The end states are those of plain simulation."""
    S = np.array([[1.0, -2.0]])
    for step, n_steps, want_calls, settled in ((lambda h: 0.2 * h, 200, 25, True),
                                               (lambda h: -h, 200, 25, False),
                                               (lambda h: 1.001 * h, 60, 60, False)):
        model, calls = _counting(step, 2)
        end, move = run_until_settled(model, S, np.zeros(1, int), np.zeros((1, 0)), n_steps,
                                      1e6, 1e-8)
        assert sum(1 for c in calls if c) == want_calls
        n_run = len(calls)
        ref = ak.simulate(model, S, None, n_run).states[0, :, -1]
        np.testing.assert_allclose(end, ref, rtol=1e-12)
        assert (move[0] <= 1e-5) == settled


def test_settling_finds_the_same_points_as_full_runs():
    """find_fixed_points with early-stopped settling confirms the same stable points as the
    runs' real end states after many steps (winner-take-all ReLU map)."""
    rng = np.random.default_rng(3)
    n, G = 40, 4
    g = np.arange(n) % G
    W = np.where(g[:, None] == g[None, :], 0.7 / (n / G), -0.36 / (n / G))
    m = VanillaRNN(W + rng.normal(0, 0.02, (n, n)), b=np.ones(n), activation="relu")
    starts = rng.normal(size=(64, n))
    runs = ak.simulate(m, starts, None, 100).states[0]
    ends = ak.simulate(m, runs[:, -1], None, 1, n_transient=2000).states[0, :, -1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ak.ConvergenceWarning)
        fp = ak.find_fixed_points(m, initial_states=runs, n_init=256, rng=0)
    D = np.max(np.abs(ends[:, None] - fp.points[None]), axis=2)
    assert np.all(D.min(1) < 1e-8)
    assert np.all(fp.confirmed[D.argmin(1)]) and np.all(fp.stable[D.argmin(1)])


def _block_jacobian(n, n_active, unstable, seed):
    """A leaky-ReLU-like Jacobian: inactive rows decoupled (0.5 on the diagonal), the active
    block with the given unstable eigenvalues (real) and a stable bulk."""
    rng = np.random.default_rng(seed)
    act = np.sort(rng.choice(n, n_active, replace=False))
    Q = np.linalg.qr(rng.normal(size=(n_active, n_active)))[0]
    lam = np.r_[unstable, 0.5 + 0.05 * rng.uniform(-1, 1, n_active - len(unstable))]
    A = Q @ np.diag(lam) @ np.linalg.inv(Q)
    J = np.diag(np.full(n, 0.5))
    J[np.ix_(act, act)] = A
    J[np.ix_(act, np.setdiff1d(np.arange(n), act))] = rng.normal(0, 0.1, (n_active,
                                                                         n - n_active))
    return J


class _Fixed:
    """A model whose Jacobian at every point is one of the given matrices (row i: J[i])."""

    def __init__(self, J, time="discrete"):
        self.J, self.time, self.n_state, self.n_input = J, time, J.shape[1], 0

    def jacobian(self, h, x):
        return self.J[h[:, 0].astype(int)]


@pytest.mark.parametrize("unstable", [[], [1.3], [1.6, -1.2], [2.0, 1.5, 1.2, 1.1],
                                      list(np.linspace(1.1, 2.0, 12))])
def test_unstable_modes_are_the_leading_eigenvectors(unstable):
    """Against numpy's dense eig: the number of unstable modes (at most 3) and, for each,
    an eigenvector of the leading unstable eigenvalues, zero on the decoupled rows; with more
    unstable modes than the iteration's block the dense fallback gives the same."""
    n = 120
    J = np.stack([_block_jacobian(n, 80, unstable, s) for s in range(3)])
    P = np.zeros((3, n))
    P[:, 0] = np.arange(3)
    modes, count = unstable_modes(_Fixed(J), P, np.zeros(3, int), np.zeros((1, 0)),
                                  delta=1e-8, k=3)
    for i in range(3):
        ev = np.linalg.eigvals(J[i])
        lead = ev[np.argsort(-np.abs(ev))][:3]
        want = int(np.sum(np.abs(lead) > 1 + 1e-8))
        assert count[i] == want
        decoupled = np.count_nonzero(J[i], axis=1) == 1
        for j in range(want):
            v = modes[i, :, j]
            lam = (v.conj() @ J[i] @ v) / (v.conj() @ v)
            assert abs(abs(lam) - abs(lead[j])) < 1e-8 * abs(lead[j])
            np.testing.assert_allclose(J[i] @ v, lam * v, atol=1e-7)
            assert np.all(v[decoupled] == 0)
        assert np.all(modes[i, :, want:] == 0)


def test_unstable_modes_of_a_flow_use_the_real_parts():
    """For a flow the unstable modes are those with Re lambda > 0, leading-first by real
    part."""
    J = np.diag([-1.0, 0.3, 2.0, -0.1])[None]
    modes, count = unstable_modes(_Fixed(J, "continuous"), np.zeros((1, 4)), np.zeros(1, int),
                                  np.zeros((1, 0)), delta=1e-8, k=3)
    assert count[0] == 2
    np.testing.assert_allclose(np.abs(modes[0, :, :2]), np.eye(4)[:, [2, 1]])


def test_left_modes_of_deflated_jacobians_are_rows_of_the_inverse():
    """Large Jacobians with decoupled rows are decomposed block by block; their leading left
    modes (coupled and decoupled eigenvalues among them) satisfy w^H J = lambda w^H and
    w^H v = 1, as the rows of V^-1 computed whole."""
    rng = np.random.default_rng(0)
    n, a = 60, 20
    act = np.sort(rng.choice(n, a, replace=False))
    dec = np.setdiff1d(np.arange(n), act)
    J = np.diag(np.where(np.arange(n) % 2 == 0, 0.9, 0.5))
    Q = np.linalg.qr(rng.normal(size=(a, a)))[0]
    J[np.ix_(act, act)] = Q @ np.diag(np.r_[0.95, -0.92, rng.uniform(-0.6, 0.6, a - 2)]) @ Q.T
    J[np.ix_(act, dec)] = rng.normal(0, 0.2, (a, n - a))
    model = CallableModel(lambda h, x: h, n_state=n, n_input=1,
                          jacobian=lambda h, x: np.repeat(J[None], len(h), axis=0),
                          input_jacobian=lambda h, x: np.zeros((len(h), n, 1)))
    st = ak.linear_stability(model, np.zeros(n), np.zeros(1), n_modes=6)
    ev, V, W = st.eigenvalues[0, :6], st.modes[0], st.left_modes[0]
    assert np.isclose(abs(ev[0]), 0.95) and np.sum(np.isclose(np.abs(ev), 0.9)) >= 3
    np.testing.assert_allclose(J @ V, V * ev, atol=1e-10)
    np.testing.assert_allclose(W.conj().T @ J, ev[:, None] * W.conj().T, atol=1e-10)
    np.testing.assert_allclose(np.sum(W.conj() * V, axis=0), 1.0, atol=1e-10)
    full_ev, full_V = np.linalg.eig(J)
    Vinv = np.linalg.inv(full_V)
    for j in range(6):
        if np.sum(np.isclose(ev, ev[j], atol=1e-9)) == 1:      # a simple eigenvalue
            i = np.argmin(np.abs(full_ev - ev[j]))
            c = np.vdot(full_V[:, i], V[:, j])                 # V's column = c * full's
            np.testing.assert_allclose(W[:, j].conj() * c, Vinv[i], atol=1e-9)
