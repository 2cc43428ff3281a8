"""find_fixed_points: analytic ground truth (METHODS.md V-FP1..V-FP9), ReLU exactness, the
numpy path against the numba kernel, slow points, bad input, the result object."""

import itertools
import warnings

import numpy as np
import pytest
from fp_systems import (
    Bistable,
    Henon,
    Hopf,
    Linear,
    Logistic,
    Lorenz,
    NoKernel,
    grouped_relu,
    relu_fixed_points_reference,
    same_sets,
)

import attractorkit as ak
from attractorkit.adapters import VanillaRNN
from attractorkit.fixed_points import enumerate_relu_fixed_points, newton_solve


# -- V-FP1: linear maps and flows ------------------------------------------------------------
@pytest.mark.parametrize("time", ["discrete", "continuous"])
def test_linear_map_and_flow(rng, time):
    A = rng.normal(0, 0.4, (5, 5))
    if time == "continuous":
        A -= 2 * np.eye(5)
    c = rng.normal(size=5)
    m = Linear(A, c, time=time)
    fp = ak.find_fixed_points(m, n_init=16, rng=1)
    exact = np.linalg.solve(np.eye(5) - A, c) if time == "discrete" else -np.linalg.solve(A, c)
    assert len(fp) == 1 and fp.converged[0]
    np.testing.assert_allclose(fp.points[0], exact, atol=1e-10)
    np.testing.assert_allclose(np.sort_complex(fp.eigenvalues[0]),
                               np.sort_complex(np.linalg.eigvals(A)), atol=1e-10)
    assert fp.stable[0]


# -- tanh with W = 0: h* = tanh(U x + b), several conditions, both paths ----------------------
@pytest.mark.parametrize("kernel", [True, False])
def test_tanh_zero_weights_several_conditions(rng, kernel):
    U, b = rng.normal(size=(4, 2)), rng.normal(size=4)
    m = VanillaRNN(np.zeros((4, 4)), U=U, b=b, activation="tanh")
    m = m if kernel else NoKernel(m)
    X = rng.normal(size=(3, 2))
    fp = ak.find_fixed_points(m, X, n_init=8, rng=0)
    assert len(fp) == 3
    assert list(fp.condition) == [0, 1, 2]
    np.testing.assert_allclose(fp.points, np.tanh(X @ U.T + b), atol=1e-12)
    assert np.all(fp.stable) and np.all(fp.label == "stable node")
    np.testing.assert_allclose(fp.eigenvalues, 0.0, atol=1e-12)
    np.testing.assert_array_equal(fp.n_seeds, 8)


# -- line attractors: a continuum, eigenvalue 1 (map) / 0 (flow), marginal ---------------------
def test_relu_ray_attractor_is_marginal_continuum():
    """V-FP5: h = relu(0.5 (h1 + h2)) leaves every point of the ray h1 = h2 >= 0 fixed: one
    set of dimension 1 (eigenvalues 1 and 0.8 along it), a few representative rows spread
    over the part of the ray the seeds reach, not one row per seed."""
    m = VanillaRNN(np.full((2, 2), 0.5), activation="relu", alpha=0.2)
    H0 = np.random.default_rng(0).uniform(0, 2, (40, 2))
    fp = ak.find_fixed_points(m, initial_states=H0, n_init=40, rng=0, delta=1e-6)
    assert len(fp.manifolds) == 1
    line = fp.manifolds[0]
    assert line.dimension == 1 and line.kind == "line attractor" and line.n_points >= 10
    on_ray = fp.points[fp.manifold == 0]
    assert 2 <= len(on_ray) <= 8
    np.testing.assert_allclose(on_ray[:, 0], on_ray[:, 1], atol=1e-10)
    assert np.all(on_ray > 0) and np.all(fp.label[fp.manifold == 0] == "marginal")
    ev = np.abs(fp.eigenvalues[fp.manifold == 0])
    np.testing.assert_allclose(ev, np.broadcast_to([1.0, 0.8], ev.shape), atol=1e-10)
    # the ray is reached from (h1 + h2) / 2 of each start: the set spans those values
    ends = H0.mean(1)
    assert np.ptp(on_ray[:, 0]) > 0.5 * np.ptp(ends)
    np.testing.assert_allclose(np.abs(line.axes[:, 0]), [2 ** -0.5] * 2, atol=1e-9)
    assert "1 line attractor (dimension 1)" in fp.summary()


def test_linear_flow_line_attractor():
    u = np.array([0.6, 0.8])
    m = Linear(np.outer(u, u) - np.eye(2), [0, 0], time="continuous")
    fp = ak.find_fixed_points(m, initial_states=np.random.default_rng(1).normal(size=(30, 2)),
                              n_init=30, rng=0)
    assert 2 <= len(fp) <= 8 and len(fp.manifolds) == 1 and np.all(fp.manifold == 0)
    np.testing.assert_allclose(fp.points @ np.array([0.8, -0.6]), 0.0, atol=1e-10)
    assert np.all(fp.label == "marginal")
    np.testing.assert_allclose(np.abs(fp.manifolds[0].axes[:, 0]), [0.6, 0.8], atol=1e-9)


# -- V-FP2: Hopfield network with one stored pattern -----------------------------------------
@pytest.mark.parametrize("beta, mstar", [(1.5, 0.8585596366), (2.0, 0.9575040241),
                                         (3.0, 0.9949015285)])
def test_hopfield_one_pattern(beta, mstar):
    xi = np.random.default_rng(3).choice([-1.0, 1.0], 10)
    m = VanillaRNN(beta * np.outer(xi, xi) / 10, activation="tanh")
    fp = ak.find_fixed_points(m, n_init=64, rng=0)
    assert len(fp) == 3
    assert same_sets(fp.points, np.array([-mstar * xi, 0 * xi, mstar * xi]), 1e-9)
    origin = np.argmin(np.abs(fp.points).max(1))
    assert fp.label[origin] == "saddle" and fp.unstable_dim[origin] == 1
    np.testing.assert_allclose(fp.eigenvalues[origin, 0], beta, atol=1e-10)
    for i in set(range(3)) - {origin}:
        assert fp.label[i] == "stable node"
        np.testing.assert_allclose(fp.eigenvalues[i, 0], beta * (1 - mstar**2), atol=1e-8)


def test_hopfield_below_threshold_has_only_origin():
    xi = np.random.default_rng(3).choice([-1.0, 1.0], 10)
    fp = ak.find_fixed_points(VanillaRNN(0.8 * np.outer(xi, xi) / 10, activation="tanh"),
                              n_init=64, rng=0)
    assert len(fp) == 1 and np.abs(fp.points).max() < 1e-10 and fp.stable[0]


def test_hopfield_several_patterns_are_stable():
    rng = np.random.default_rng(0)
    xis = rng.choice([-1.0, 1.0], (3, 60))
    m = VanillaRNN(3.0 * xis.T @ xis / 60, activation="tanh")
    fp = ak.find_fixed_points(m, initial_states=np.concatenate([xis, -xis]), n_init=32,
                              noise=0.2, rng=0)
    stable = fp.points[fp.stable]
    for s in np.concatenate([xis, -xis]):     # each stored pattern is retrieved, sign-aligned
        overlaps = stable @ s / 60
        assert overlaps.max() > 0.9


# -- Golub & Sussillo test network (V-FP3) -----------------------------------------------------
@pytest.mark.parametrize("n, count", [(2, 3), (3, 3), (4, 9)])
def test_golub_test_network(n, count):
    W_state = np.stack([-np.roll(np.linspace(-1, 1, n), -i) for i in range(n)])
    m = VanillaRNN(W_state.T, activation="tanh")
    grid = np.array(list(itertools.product([-1.0, 0.0, 1.0], repeat=n)))
    fp = ak.find_fixed_points(m, initial_states=grid, n_init=3**n * 2, rng=0)
    assert len(fp) == count and np.all(fp.converged)
    if n == 2:
        assert same_sets(fp.points[fp.stable], np.array([[0.95750402, -0.95750402],
                                                         [-0.95750402, 0.95750402]]), 1e-7)
    if n == 4:
        assert fp.stable.sum() == 2
        v = np.array([0.77551631, -0.77551631, 0.77551631, -0.77551631])
        assert same_sets(fp.points[fp.stable], np.stack([v, -v]), 1e-7)


# -- Henon (closed form), Lorenz as a flow, V-FP6, V-FP7, V-FP8 -------------------------------
def test_henon_fixed_points():
    a, b = 1.4, 0.3
    fp = ak.find_fixed_points(Henon(a, b), n_init=64, init_scale=0.3, rng=0)
    disc = np.sqrt((1 - b) ** 2 + 4 * a)
    xs = np.array([(-(1 - b) - disc) / (2 * a), (-(1 - b) + disc) / (2 * a)])
    assert same_sets(fp.points, np.stack([xs, b * xs], 1), 1e-10)
    assert np.all(fp.label == "saddle") and np.all(fp.unstable_dim == 1)
    for p, ev in zip(fp.points, fp.eigenvalues):
        lam = -a * p[0] + np.array([1, -1]) * np.sqrt(a * a * p[0] ** 2 + b)
        np.testing.assert_allclose(np.sort(ev.real), np.sort(lam), atol=1e-10)


@pytest.mark.parametrize("rho, n_stable", [(22.0, 2), (28.0, 0)])
def test_lorenz_flow(rho, n_stable):
    beta = 8 / 3
    fp = ak.find_fixed_points(Lorenz(rho), n_init=64, init_scale=10.0, n_steps=50, rng=0)
    r = np.sqrt(beta * (rho - 1))
    truth = np.array([[0, 0, 0], [r, r, rho - 1], [-r, -r, rho - 1]])
    assert same_sets(fp.points, truth, 1e-8)
    assert fp.stable.sum() == n_stable
    origin = np.argmin(np.abs(fp.points).max(1))
    assert fp.label[origin] == "saddle" and fp.unstable_dim[origin] == 1
    if rho == 28.0:
        assert np.all(fp.label[np.arange(3) != origin] == "saddle")   # unstable focus pair
        assert np.all(fp.unstable_dim[np.arange(3) != origin] == 2)


def test_bistable_flow_and_hopf_focus():
    fp = ak.find_fixed_points(Bistable(), n_init=32, rng=0)
    assert same_sets(fp.points, np.array([[-1, 0], [0, 0], [1, 0]]), 1e-10)
    assert sorted(fp.label) == ["saddle", "stable node", "stable node"]
    fh = ak.find_fixed_points(Hopf(mu=0.4, omega=1.5), n_init=16, n_steps=20, rng=0)
    assert len(fh) == 1 and fh.label[0] == "unstable focus"
    np.testing.assert_allclose(np.abs(fh.eigenvalues[0].imag), 1.5, atol=1e-10)


def test_logistic_map_fixed_points():
    fp = ak.find_fixed_points(Logistic(3.2), initial_states=np.linspace(0.01, 0.99, 50)[:, None],
                              n_init=50, rng=0)
    assert same_sets(fp.points, np.array([[0.0], [0.6875]]), 1e-10)
    np.testing.assert_allclose(np.sort(fp.eigenvalues.real.ravel()), [-1.2, 3.2], atol=1e-10)


def test_odd_tanh_network_is_symmetric():   # V-FP9
    rng = np.random.default_rng(2)
    W = rng.normal(0, 1.5 / np.sqrt(32), (32, 32))
    m = VanillaRNN(W, activation="tanh")
    S = ak.find_fixed_points(m, n_init=100, rng=0, deduplicate=False).points   # any states
    S = S + np.random.default_rng(1).normal(0, 0.1, S.shape)
    S = np.concatenate([S, -S, np.zeros((1, 32))])          # +-pairs and the origin
    fp = ak.find_fixed_points(m, initial_states=S, n_init=201, rng=0)
    conv = fp.points[fp.converged]
    assert len(conv) >= 3
    assert same_sets(conv, -conv, 1e-8)
    origin = np.argmin(np.abs(fp.points).max(1))
    np.testing.assert_allclose(np.sort_complex(fp.eigenvalues[origin]),
                               np.sort_complex(np.linalg.eigvals(W)), atol=1e-9)


# -- ReLU: exact region solutions -------------------------------------------------------------
def _random_relu(n, seed, g=1.2, alpha=1.0):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, g / np.sqrt(n), (n, n))
    return VanillaRNN(W, U=rng.normal(size=(n, 1)), b=rng.normal(0, 1, n), activation="relu",
                      alpha=alpha), W


def test_relu_winner_take_all_exact():   # V-FP4
    m = VanillaRNN(np.array([[0.5, -1.0], [-1.0, 0.5]]), b=np.ones(2), activation="relu",
                   alpha=0.2)
    fp = ak.find_fixed_points(m, n_init=64, rng=0)
    assert same_sets(fp.points, np.array([[2, 0], [0, 2], [2 / 3, 2 / 3]]), 1e-12)
    assert np.all(fp.exact)
    saddle = np.argmin(np.abs(fp.points[:, 0] - 2 / 3))
    np.testing.assert_allclose(fp.eigenvalues[saddle].real, [1.1, 0.7], atol=1e-12)


def test_enumeration_matches_independent_reference():
    for seed in range(4):
        m, W = _random_relu(7, seed, g=1.5)
        x = np.array([0.3])
        ref = relu_fixed_points_reference(W, m.U @ x + m.b)
        assert same_sets(enumerate_relu_fixed_points(m, x).points, ref, 1e-9)


@pytest.mark.parametrize("n", [4, 8, 12])
def test_relu_exact_equals_brute_force(n):
    for seed in range(3):
        m, W = _random_relu(n, 10 * n + seed, g=1.5, alpha=0.5)
        X = np.array([[0.0], [0.7]])
        found = ak.find_fixed_points(m, X, n_init=256, noise=0.5, rng=seed)
        truth = enumerate_relu_fixed_points(m, X)
        for k in range(2):
            got = found.points[(found.condition == k) & found.converged]
            assert same_sets(got, truth.points[truth.condition == k], 1e-9), (n, seed, k)
        assert np.all(found.exact[found.converged])


def test_relu_contains_q_minimisation_points_n64():
    m = grouped_relu(64, 4, seed=1, alpha=0.5)
    x = np.array([0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ak.ConvergenceWarning)  # q-minimisation is slow
        fq = ak.find_fixed_points(m, x, n_init=128, method="q", max_iter=2000, rng=3)
    fn = ak.find_fixed_points(m, x, n_init=128, rng=3)
    qpts = fq.points[fq.converged]
    assert len(qpts) >= 4
    assert np.all(fn.exact[fn.converged]) and fn.stable.sum() >= 3 and len(fn) >= 7
    D = np.max(np.abs(qpts[:, None] - fn.points[None]), axis=2)
    assert np.all(D.min(1) < 1e-4)


@pytest.mark.slow
def test_relu_contains_q_minimisation_points_n250():
    m = grouped_relu(250, 5, seed=0, alpha=0.5)
    x = np.array([0.2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ak.ConvergenceWarning)
        fq = ak.find_fixed_points(m, x, n_init=256, method="q", max_iter=3000, rng=0)
    fn = ak.find_fixed_points(m, x, n_init=256, rng=0)
    qpts = fq.points[fq.converged]
    assert len(qpts) >= 5 and fn.stable.sum() == 5
    D = np.max(np.abs(qpts[:, None] - fn.points[None]), axis=2)
    assert np.all(D.min(1) < 1e-4)


# -- kernel vs numpy path, slow points, bad input --------------------------------------------
def test_numpy_path_matches_kernel(rng):
    W = rng.normal(0, 1.4 / np.sqrt(8), (8, 8))
    m = VanillaRNN(W, U=rng.normal(size=(8, 1)), b=rng.normal(0, 0.3, 8), activation="tanh",
                   alpha=0.5)
    H0, X = rng.normal(size=(40, 8)), np.full((40, 1), 0.3)
    a = newton_solve(m, H0, X, max_iter=50)
    b = newton_solve(NoKernel(m), H0, X, max_iter=50)
    np.testing.assert_array_equal(a.status, b.status)
    ok = a.converged
    assert ok.sum() >= 10
    np.testing.assert_allclose(a.points[ok], b.points[ok], atol=1e-9)
    np.testing.assert_array_equal(a.iterations[ok], b.iterations[ok])


def test_slow_point_is_kept_and_flagged():
    # h' = h + h^2 + 0.01: no fixed point; q has a local minimum 0.5e-4 at h = 0
    class Slow:
        n_state, n_input, time, dt = 1, 0, "discrete", None

        def step(self, h, x):
            return h + h**2 + 0.01

        def jacobian(self, h, x):
            return (1 + 2 * h)[:, :, None]

        def input_jacobian(self, h, x):
            return np.zeros((len(h), 1, 0))

    fp = ak.find_fixed_points(Slow(), initial_states=np.linspace(-0.3, 0.3, 20)[:, None],
                              n_init=20, rng=0)
    assert len(fp) >= 1 and not fp.converged.any()
    assert np.all(fp.status == "slow")
    np.testing.assert_allclose(fp.points[np.argmin(fp.q)], [0.0], atol=1e-4)
    np.testing.assert_allclose(fp.q.min(), 0.5e-4, rtol=1e-3)
    assert "slow" in fp.summary()


def test_diverging_model_is_flagged_not_hung():
    m = Linear(np.eye(1), [1.0])                          # h' = h + 1: no fixed point at all
    fp = ak.find_fixed_points(m, n_init=8, rng=0)
    assert not fp.converged.any() and np.all(fp.status == "slow")

    class Runaway:                                   # h' = h + 1 + exp(-h): Newton runs away
        n_state, n_input, time, dt = 1, 0, "discrete", None

        def step(self, h, x):
            return h + 1 + np.exp(-h)

        def jacobian(self, h, x):
            return (1 - np.exp(-h))[:, :, None]

        def input_jacobian(self, h, x):
            return np.zeros((len(h), 1, 0))

    with pytest.warns(ak.ConvergenceWarning, match="diverged"):
        fp = ak.find_fixed_points(Runaway(), initial_states=[[0.5], [1.0]], n_init=2,
                                  max_norm=50.0, max_iter=1000, rng=0, region=None)
    assert fp.n_diverged == 2 and len(fp) == 0
    # with the default search region the runaway solves stop at three times its size and
    # are counted outside it instead
    fp = ak.find_fixed_points(Runaway(), initial_states=[[0.5], [1.0]], n_init=2,
                              max_norm=50.0, max_iter=1000, rng=0)
    assert fp.n_outside == 2 and fp.n_diverged == 0 and len(fp) == 0
    m2 = Linear(2 * np.eye(2), [0.0, 0.0])               # trajectories explode; 0 is fixed
    fp2 = ak.find_fixed_points(m2, n_init=8, rng=0)
    assert len(fp2) == 1 and np.abs(fp2.points).max() < 1e-12 and fp2.label[0] == "unstable node"


def test_bad_input():
    m = VanillaRNN(np.zeros((3, 3)), U=np.ones((3, 2)), activation="tanh")
    with pytest.raises(ak.ValidationError, match="inputs.*n_input=2"):
        ak.find_fixed_points(m, np.zeros(3))
    with pytest.raises(ak.ValidationError, match="initial_states.*NaN"):
        ak.find_fixed_points(m, np.zeros(2), initial_states=np.full((4, 3), np.nan))
    with pytest.raises(ak.ValidationError, match="initial_states.*n_state=3"):
        ak.find_fixed_points(m, np.zeros(2), initial_states=np.zeros((4, 2)))
    with pytest.raises(ak.ValidationError, match="n_init"):
        ak.find_fixed_points(m, np.zeros(2), n_init=0)
    with pytest.raises(ak.ValidationError, match="initial_states"):
        ak.find_fixed_points(m, np.zeros(2), initial_states=np.zeros((0, 3)))
    with pytest.raises(ak.ValidationError, match="method"):
        ak.find_fixed_points(m, np.zeros(2), method="adam")
    with pytest.raises(ak.ValidationError, match="exact"):
        ak.find_fixed_points(m, np.zeros(2), exact=True)
    with pytest.raises(ak.ModelTypeError, match="model"):  # the same error in every analysis
        ak.find_fixed_points("not a model", np.zeros(2))
    with pytest.raises(ak.ValidationError, match="inputs"):
        ak.find_fixed_points(m, np.zeros((0, 2)))


# -- the result object -------------------------------------------------------------------------
def test_result_roundtrip_unique_and_plots(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    m = VanillaRNN(np.array([[0.5, -1.0], [-1.0, 0.5]]), b=np.ones(2), activation="relu",
                   alpha=0.2)
    raw = ak.find_fixed_points(m, n_init=32, rng=0, deduplicate=False)
    assert len(raw) > 3
    u = raw.unique()
    assert len(u) == 3 and u.n_seeds.sum() == len(raw)
    assert len(raw.unique(tol=10.0)) == 1
    back = ak.FixedPoints.load(u.save(tmp_path / "fp"))
    assert ak.results_equal(u, back)
    assert "2 stable node, 1 saddle" in u.summary()
    assert u.plot_eigenvalues().get_xlabel() == "Re λ"
    assert u.plot_points() is not None
    fl = ak.find_fixed_points(Bistable(), n_init=16, rng=0)
    assert fl.plot_eigenvalues() is not None
    assert len(u.for_condition(0)) == 3


# -- a trained network: the 3-bit flip-flop (Sussillo & Barak 2013) ------------------------------
def _flipflop_batch(B, T, rng, p=0.04):
    u = rng.choice([-1.0, 0.0, 1.0], size=(B, T, 3), p=[p / 2, 1 - p, p / 2])
    u[:, 0] = rng.choice([-1.0, 1.0], size=(B, 3))
    y = np.zeros_like(u)
    s = u[:, 0]
    for t in range(T):
        s = np.where(u[:, t] != 0, u[:, t], s)
        y[:, t] = s
    return u, y


def test_explore_finds_smooth_saddles_between_seeded_attractors():
    m = VanillaRNN(2.0 * np.eye(2), activation="tanh")    # two bistable units: 3 x 3 points
    corners = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]]) * 0.95
    seeds = corners + np.random.default_rng(0).normal(0, 0.05, (40, 4, 2))
    kw = dict(initial_states=seeds.reshape(-1, 2), n_init=64, rng=0)
    assert len(ak.find_fixed_points(m, explore=False, **kw)) == 4     # only the attractors
    fp = ak.find_fixed_points(m, **kw)
    s = np.tanh(2 * 0.95)
    for _ in range(20):                              # the root of h = tanh(2h) near 0.95
        s -= (s - np.tanh(2 * s)) / (1 - 2 * (1 - np.tanh(2 * s) ** 2))
    truth = np.array([[a, b] for a in (-s, 0.0, s) for b in (-s, 0.0, s)])
    assert len(fp) == 9 and np.all(fp.converged)
    D = np.max(np.abs(fp.points[:, None] - truth[None]), axis=2)
    assert np.all(D.min(1) < 1e-10) and np.all(D.min(0) < 1e-10)
    assert np.bincount(fp.unstable_dim).tolist() == [4, 4, 1]


def test_three_bit_flipflop_trained_with_torch():
    torch = pytest.importorskip("torch")
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny matrices: threads only add contention
    try:
        torch.manual_seed(0)
        rnn, out = torch.nn.RNN(3, 16, batch_first=True), torch.nn.Linear(16, 3)
        opt = torch.optim.Adam([*rnn.parameters(), *out.parameters()], lr=1e-2)
        rng = np.random.default_rng(0)
        for _ in range(800):
            u, y = (torch.tensor(a, dtype=torch.float32) for a in _flipflop_batch(32, 50, rng))
            loss = ((out(rnn(u)[0]) - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert float(loss.detach()) < 0.01
        u, y = _flipflop_batch(64, 50, rng)
        with torch.no_grad():
            o = rnn(torch.tensor(u, dtype=torch.float32))[0]
            accuracy = float(np.mean(np.sign(out(o).double().numpy()) == y))
            states = o.double().numpy()
        assert accuracy > 0.99                                   # well trained
    finally:
        torch.set_num_threads(n_threads)
    p = {k: v.detach().double().numpy() for k, v in rnn.named_parameters()}
    m = VanillaRNN(p["weight_hh_l0"], U=p["weight_ih_l0"], b=p["bias_ih_l0"] + p["bias_hh_l0"],
                   activation="tanh")
    fp = ak.find_fixed_points(m, np.zeros(3), initial_states=states.reshape(-1, 16),
                              n_init=1024, noise=0.3, rng=0, delta=1e-6)
    c = fp.take(fp.converged)
    assert c.stable.sum() == 8                               # one per 3-bit memory
    readout = np.sign(c.points[c.stable] @ out.weight.detach().double().numpy().T
                      + out.bias.detach().double().numpy())
    assert len({tuple(r) for r in readout}) == 8             # the 8 corners of the cube
    assert np.all(c.unstable_dim[~c.stable] >= 1)
    # the cube: 8 corners, 12 edge saddles (1 unstable direction), 6 face saddles (2) and
    # the centre (3); edges, faces and centre lie between the memories, where few trajectory
    # states pass: most are found from midpoints between found points (explore=True)
    assert len(c) == 27
    assert np.bincount(c.unstable_dim, minlength=4).tolist() == [8, 12, 6, 1]
    assert np.all(c.label[c.unstable_dim > 0] == "saddle")


# -- properties ------------------------------------------------------------------------------------
def test_property_found_points_are_true_fixed_points():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=6, deadline=None, derandomize=True)
    @hypothesis.given(n=st.integers(2, 6), seed=st.integers(0, 10_000),
                      gain=st.floats(0.5, 2.0), alpha=st.sampled_from([0.3, 1.0]))
    def check(n, seed, gain, alpha):
        m, W = _random_relu(n, seed, g=gain, alpha=alpha)
        x = np.array([0.1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ak.ConvergenceWarning)
            fp = ak.find_fixed_points(m, x, n_init=32, rng=seed)
        truth = relu_fixed_points_reference(W, m.U @ x + m.b)
        exact = fp.points[fp.exact]
        if len(exact):                               # sound: exact points are real ones
            D = np.max(np.abs(exact[:, None] - truth[None]), axis=2)
            assert np.all(D.min(1) < 1e-9)
        conv = fp.points[fp.converged]
        G = m.step(conv, np.broadcast_to(x, (len(conv), 1))) - conv if len(conv) else conv
        assert np.all(np.abs(G) <= 1e-9 * np.maximum(1, np.abs(conv)))

    check()


def test_deduplicate_links_chains_across_grid_cells():
    """Single linkage: a chain of points 0.6 tol apart is one cluster however long it is (a
    grid-cell shortcut that linked only cell representatives once broke it); far groups stay
    apart; conditions never merge."""
    from attractorkit.fixed_points import deduplicate

    tol = 1e-3
    chain = np.zeros((50, 30))
    chain[:, 0] = 0.6 * tol * np.arange(50)
    far = chain[:5] + 10.0
    pts = np.concatenate([chain, far, chain[:3]])
    cond = np.r_[np.zeros(55, int), np.ones(3, int)]
    n = len(pts)
    reps, counts = deduplicate(pts, cond, np.zeros(n, bool), np.ones(n, bool), np.zeros(n), tol)
    assert sorted(counts.tolist()) == [3, 5, 50]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deduplicate_tight_clusters_match_all_pairs_linkage(seed):
    """Many seeds converged to a few points (tight clusters, spread far below tol, some on a
    grid-cell boundary), a chain 0.6 tol apart and lone points: the clusters are the connected
    components of all pairs within tol (brute force), whatever shortcut finds them."""
    from scipy.sparse.csgraph import connected_components

    from attractorkit.fixed_points import deduplicate

    rng = np.random.default_rng(seed)
    tol, n_state = 1e-3, 6
    centres = rng.uniform(-1, 1, (5, n_state))
    centres[0, 0] = 0.5 * tol * 7        # exactly on a cell boundary of side tol/2
    tight = centres[rng.integers(0, 5, 300)] + rng.normal(0, 1e-10, (300, n_state))
    chain = np.zeros((40, n_state)) + 2.0
    chain[:, 1] += 0.6 * tol * np.arange(40)
    near = centres[1] + 0.9 * tol * np.eye(n_state)[0]      # within tol of cluster 1
    lone = rng.uniform(-3, -2, (20, n_state))
    pts = np.concatenate([tight, chain, near[None], lone])
    n = len(pts)
    D = np.max(np.abs(pts[:, None] - pts[None]), axis=2)
    n_ref, lab = connected_components(D <= tol, directed=False)
    reps, counts = deduplicate(pts, np.zeros(n, int), np.zeros(n, bool), np.ones(n, bool),
                               np.zeros(n), tol, scale=1.0)
    assert len(reps) == n_ref
    assert sorted(counts.tolist()) == sorted(np.bincount(lab).tolist())
    assert len(np.unique(lab[reps])) == n_ref


def test_deduplicate_identical_rows_counted_once_per_condition():
    """Seeds that reach the same exact solution are bitwise copies: they merge (with their
    count) before the KD-tree, -0.0 equals 0.0, and copies under different conditions stay
    apart."""
    from attractorkit.fixed_points import deduplicate

    a, b = np.array([1.0, 0.0, 2.0]), np.array([1.0, -0.0, 2.0])
    pts = np.array([a, b, a, a + 1.0, a])
    cond = np.array([0, 0, 0, 0, 1])
    n = len(pts)
    reps, counts = deduplicate(pts, cond, np.zeros(n, bool), np.ones(n, bool), np.zeros(n), 1e-9)
    assert sorted(zip(cond[reps].tolist(), counts.tolist())) == [(0, 1), (0, 3), (1, 1)]


def test_planted_groups_all_found_and_exploration_needed():
    """4 planted groups -> 2^4 - 1 = 15 fixed points (4 stable; saddles with 1, 2 and 3
    unstable directions: 6, 4, 1). The seeds alone miss one; the midpoint rounds (the second
    round tries only pairs with a new point) find it."""
    m = grouped_relu(64, 4, seed=1, alpha=0.5)
    x = np.array([0.2])
    fn = ak.find_fixed_points(m, x, n_init=128, rng=0)
    assert len(fn) == 15 and np.all(fn.exact)
    assert np.bincount(fn.unstable_dim).tolist() == [4, 6, 4, 1]
    assert len(ak.find_fixed_points(m, x, n_init=128, rng=0, explore=False)) < 15


def test_stability_false_returns_points_only_and_with_stability_adds_it():
    m = grouped_relu(64, 4, seed=1, alpha=0.5)
    x = np.array([0.2])
    full = ak.find_fixed_points(m, x, n_init=64, rng=0)
    bare = ak.find_fixed_points(m, x, n_init=64, rng=0, stability=False)
    assert bare.stability is None and np.array_equal(bare.points, full.points)
    assert "stability not computed" in bare.summary()
    with pytest.raises(ak.AttractorKitError, match="with_stability"):
        _ = bare.stable
    again = bare.with_stability(m)
    assert np.array_equal(again.stable, full.stable)
    assert np.allclose(again.eigenvalues, full.eigenvalues)
    assert ak.results_equal(again.take([0, 1]), full.take([0, 1]))
    assert len(bare.take([0])) == 1 and bare.take([0]).stability is None
    with pytest.raises(ak.ValidationError, match="n_state"):
        bare.with_stability(VanillaRNN(np.zeros((3, 3)), np.zeros((3, 1))))


def test_stability_false_result_round_trips(tmp_path):
    m = grouped_relu(32, 2, seed=0)
    bare = ak.find_fixed_points(m, np.array([0.0]), n_init=16, rng=0, stability=False)
    bare.save(tmp_path / "fp.zip")
    back = ak.FixedPoints.load(tmp_path / "fp.zip")
    assert back.stability is None and ak.results_equal(back, bare)
