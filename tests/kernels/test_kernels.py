"""The numba cell kernels against plain-numpy references and finite differences."""

import numpy as np
import pytest
from adapters_reference import fd_jacobian, random_layers, stacked_step
from hypothesis import given, settings
from hypothesis import strategies as st

from attractorkit._kernels import cells
from attractorkit.core._model import KernelModel, KernelSpec

ACTS = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "softplus": (lambda z: np.where(z > 20, z, np.log1p(np.exp(np.minimum(z, 20)))),
                 lambda z: 1 / (1 + np.exp(-z))),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "identity": (lambda z: z, np.ones_like),
}


def gated_spec(cell, layers):
    L = len(layers)
    H = layers[0][1].shape[1]
    n_input = layers[0][0].shape[1]
    width = max(n_input, H) if L > 1 else n_input
    G = layers[0][1].shape[0]
    Wx = np.zeros((L, G, width))
    for l, lay in enumerate(layers):
        Wx[l, :, :lay[0].shape[1]] = lay[0]
    return KernelSpec(cell=cell, activation="tanh", time="discrete", alpha=1.0,
                      Wh=np.stack([x[1] for x in layers]), Wx=Wx,
                      bh=np.stack([x[3] for x in layers]), bx=np.stack([x[2] for x in layers]),
                      n_input=n_input)


@pytest.mark.parametrize("act", sorted(ACTS))
@pytest.mark.parametrize("time", ["discrete", "continuous"])
@pytest.mark.parametrize("B", [1, 5])  # serial (below cells.PARALLEL_MIN_ROWS) and parallel
def test_vanilla_kernel_matches_numpy(rng, act, time, B):
    n, m = 6, 3
    W, U, b = rng.normal(size=(n, n)), rng.normal(size=(n, m)), rng.normal(size=n)
    alpha = 0.3
    spec = KernelSpec(cell="vanilla", activation=act, time=time, alpha=alpha, Wh=W[None],
                      Wx=U[None], bh=b[None], bx=np.zeros((1, n)), n_input=m)
    model = KernelModel(spec, dt=0.1 if time == "continuous" else None)
    H, X = rng.normal(size=(B, n)), rng.normal(size=(B, m))
    phi, dphi = ACTS[act]
    Z = H @ W.T + X @ U.T + b
    if time == "discrete":
        F = (1 - alpha) * H + alpha * phi(Z)
        J = (1 - alpha) * np.eye(n) + alpha * dphi(Z)[:, :, None] * W
    else:
        F = alpha * (phi(Z) - H)
        J = -alpha * np.eye(n) + alpha * dphi(Z)[:, :, None] * W
    Jx = alpha * dphi(Z)[:, :, None] * U
    np.testing.assert_allclose(model.step(H, X), F, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.jacobian(H, X), J, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(model.input_jacobian(H, X), Jx, rtol=1e-12, atol=1e-12)


def test_per_sample_kernels_match_batched(rng):
    layers = random_layers(rng, "lstm", 2, 3, 4)
    spec = gated_spec("lstm", layers)
    h, x = rng.normal(size=spec.n_state), rng.normal(size=3)
    out = np.empty(spec.n_state)
    cells.cell_step(*spec.args, h, x, out)
    J = np.empty((spec.n_state, spec.n_state))
    cells.cell_jacobian(*spec.args, h, x, J)
    J2, Jx = np.empty_like(J), np.empty((spec.n_state, 3))
    cells.cell_jacobians(*spec.args, h, x, J2, Jx)
    model = KernelModel(spec)
    np.testing.assert_array_equal(out, model.step(h[None], x[None])[0])
    np.testing.assert_array_equal(J, model.jacobian(h[None], x[None])[0])
    np.testing.assert_array_equal(J2, J)
    np.testing.assert_array_equal(Jx, model.input_jacobian(h[None], x[None])[0])


@settings(max_examples=12, deadline=None)
@given(cell=st.sampled_from(["gru", "lstm"]), n_layers=st.integers(1, 3),
       n_input=st.integers(0, 4), n_hidden=st.integers(1, 5), seed=st.integers(0, 2 ** 32 - 1))
def test_gated_kernels_match_numpy_reference(cell, n_layers, n_input, n_hidden, seed):
    """Step against a plain numpy cell; J and Jx against central differences of it."""
    rng = np.random.default_rng(seed)
    layers = random_layers(rng, cell, n_layers, n_input, n_hidden)
    model = KernelModel(gated_spec(cell, layers))
    n = model.n_state
    B = 3 if seed % 2 else 5  # serial and parallel row loops (cells.PARALLEL_MIN_ROWS)
    H, X = rng.normal(size=(B, n)), rng.normal(size=(B, n_input))
    F = model.step(H, X)
    J = model.jacobian(H, X)
    Jx = model.input_jacobian(H, X)
    for b in range(B):
        ref = stacked_step(cell, layers, H[b], X[b])
        np.testing.assert_allclose(F[b], ref, rtol=1e-12, atol=1e-13)
        Jfd = fd_jacobian(lambda v, xb=X[b]: stacked_step(cell, layers, v, xb), H[b])
        np.testing.assert_allclose(J[b], Jfd, atol=1e-7)
        if n_input:
            Jxfd = fd_jacobian(lambda v, hb=H[b]: stacked_step(cell, layers, hb, v), X[b])
            np.testing.assert_allclose(Jx[b], Jxfd, atol=1e-7)
    assert Jx.shape == (B, n, n_input)


def test_multilayer_vanilla_chains_through_layers(rng):
    H1, m = 4, 2
    W = rng.normal(size=(2, H1, H1))
    Wx = np.zeros((2, H1, H1))
    Wx[0, :, :m] = rng.normal(size=(H1, m))
    Wx[1] = rng.normal(size=(H1, H1))
    b = rng.normal(size=(2, H1))
    spec = KernelSpec(cell="vanilla", activation="tanh", time="discrete", alpha=1.0, Wh=W,
                      Wx=Wx, bh=b, bx=np.zeros((2, H1)), n_input=m)
    model = KernelModel(spec)

    def ref(h, x):
        a = np.tanh(W[0] @ h[:H1] + Wx[0, :, :m] @ x + b[0])
        return np.concatenate([a, np.tanh(W[1] @ h[H1:] + Wx[1] @ a + b[1])])

    h, x = rng.normal(size=2 * H1), rng.normal(size=m)
    np.testing.assert_allclose(model.step(h, x)[0], ref(h, x), rtol=1e-12)
    np.testing.assert_allclose(model.jacobian(h, x)[0], fd_jacobian(lambda v: ref(v, x), h),
                               atol=1e-8)
    np.testing.assert_allclose(model.input_jacobian(h, x)[0],
                               fd_jacobian(lambda v: ref(h, v), x), atol=1e-8)


def test_gated_cells_have_no_nan_at_extreme_preactivations(rng):
    layers = random_layers(rng, "lstm", 1, 2, 3, scale=200.0)
    model = KernelModel(gated_spec("lstm", layers))
    H = 50 * rng.normal(size=(4, model.n_state))
    X = 50 * rng.normal(size=(4, 2))
    assert np.isfinite(model.step(H, X)).all()
    assert np.isfinite(model.jacobian(H, X)).all()


@pytest.mark.parametrize("n_layers", [1, 2])
def test_step_batch_in_place_and_dense_path_agree(rng, n_layers):
    """step_batch(H, X, out=H) is allowed; the BLAS path equals the per-sample kernel."""
    n, m, B = 5, 2, 6
    Wx = np.zeros((n_layers, n, max(n, m)))
    Wx[:, :, :m] = rng.normal(size=(n_layers, n, m))
    if n_layers > 1:
        Wx[1:] = rng.normal(size=(n_layers - 1, n, n))
    spec = KernelSpec(cell="vanilla", activation="relu", time="discrete", alpha=0.7,
                      Wh=rng.normal(size=(n_layers, n, n)), Wx=Wx,
                      bh=rng.normal(size=(n_layers, n)), bx=rng.normal(size=(n_layers, n)),
                      n_input=m)
    H, X = rng.normal(size=(B, n_layers * n)), rng.normal(size=(B, m))
    out = np.empty_like(H)
    cells.step_batch(*spec.args, H, X, out)
    one = np.empty(n_layers * n)
    J = np.empty((B, n_layers * n, n_layers * n))
    cells.jacobian_batch(*spec.args, H, X, J)
    J1 = np.empty((n_layers * n, n_layers * n))
    for b in range(B):
        cells.cell_step(*spec.args, H[b], X[b], one)
        np.testing.assert_allclose(out[b], one, rtol=1e-13, atol=1e-14)
        cells.cell_jacobian(*spec.args, H[b], X[b], J1)
        np.testing.assert_allclose(J[b], J1, rtol=1e-13, atol=1e-14)
    cells.step_batch(*spec.args, H, X, H)
    np.testing.assert_allclose(H, out, rtol=1e-13, atol=1e-14)


# -- the Newton kernel ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["vanilla", "gru"])
@pytest.mark.parametrize("B", [1, 7])  # one block, and row blocks in threads
def test_newton_batch_matches_the_per_point_reference_in_any_layout(rng, cell, B):
    """Row blocks give, row by row, what newton_one's Python reference gives; read-only and
    broadcast inputs and a non-contiguous output are accepted, and the kernel is compiled for
    one layout (C-contiguous, writable) with the cell code's enum type (one family's code)."""
    from numba import types

    from attractorkit._kernels import newton

    n, m = 4, 2
    layers = random_layers(rng, "gru", 1, m, n) if cell == "gru" else None
    spec = gated_spec("gru", layers) if cell == "gru" else KernelSpec(
        cell="vanilla", activation="tanh", time="discrete", alpha=1.0,
        Wh=0.3 * rng.normal(size=(1, n, n)), Wx=rng.normal(size=(1, n, m)),
        bh=rng.normal(size=(1, n)), bx=np.zeros((1, n)), n_input=m)
    H0 = rng.uniform(-1, 1, (B, n))
    H0.flags.writeable = False
    X = np.broadcast_to(0.3 * np.ones(m), (B, m))                 # read-only view
    H = np.zeros((B, 2 * n))[:, ::2]                               # not contiguous
    q, resid = np.zeros(B), np.zeros(B)
    iters, status = np.zeros(B, np.int64), np.zeros(B, np.int64)
    newton.newton_batch(*spec.args, H0, X, 1, True, 1e-10, 50, 1e6, H, q, resid, iters, status)
    for b in range(B):
        h = np.empty(n)
        s, it, qb, rb = newton.newton_one.py_func(*spec.args, H0[b].copy(), X[b].copy(), 1,
                                                  True, 1e-10, 50, 1e6, h)
        assert (status[b], iters[b]) == (s, it)
        np.testing.assert_allclose(H[b], h, rtol=0, atol=1e-12)
        np.testing.assert_allclose([q[b], resid[b]], [qb, rb], rtol=1e-6, atol=1e-20)
    assert (status == newton.CONVERGED).sum() >= 1
    for sig in newton.newton_rows.signatures:
        arrays = [a for a in sig if hasattr(a, "layout")]
        assert all(a.layout == "C" and a.mutable for a in arrays), sig
        assert isinstance(sig[2], types.IntEnumMember), sig   # not a plain int: both families


def test_relu_region_kernels_match_numpy(rng):
    """Each activation pattern's linear fixed-point system, and the period-p SCYFI system,
    solved in row blocks as numpy solves them."""
    from attractorkit._kernels import newton

    n, K = 5, 9
    W = rng.normal(size=(n, n)) / n
    C = rng.normal(size=(2, n))
    P = rng.integers(0, 2, (K, n)).astype(np.uint8)
    cond = rng.integers(0, 2, K)
    H, solved = np.full((K, n), np.nan), np.zeros(K, bool)
    newton.relu_region_fixed_points(W, C, P, cond, H, solved)
    assert solved.all()
    for k in range(K):
        S = np.flatnonzero(P[k])
        want = np.zeros(n)
        want[S] = np.linalg.solve(np.eye(S.size) - W[np.ix_(S, S)], C[cond[k], S])
        np.testing.assert_allclose(H[k], want, rtol=1e-10, atol=1e-12)
    alpha, p = 0.6, 3
    seq = rng.integers(0, 2, (K, p, n)).astype(np.uint8)
    Hp, solved = np.full((K, n), np.nan), np.zeros(K, bool)
    newton.relu_sequence_points(W, C, alpha, seq, cond, Hp, solved)
    assert solved.all()
    for k in range(K):
        h = Hp[k]
        for j in range(p):   # one step of the affine map of region seq[k, j]
            h = (1 - alpha) * h + alpha * seq[k, j] * (W @ h + C[cond[k]])
        np.testing.assert_allclose(h, Hp[k], rtol=1e-9, atol=1e-10)


def test_direct_gesv_solve_matches_numpy_solve_and_its_fallback():
    """safe_solve calls LAPACK's gesv through numba's entry point (faster to compile); its
    fallback for a numba without that entry is np.linalg.solve: same bits, same refusals."""
    from attractorkit._kernels import newton as nk

    assert nk.HAVE_GESV   # the numba this suite runs on has the entry point
    rng = np.random.default_rng(0)
    for n in (1, 3, 40):
        A, r = rng.normal(size=(n, n)), rng.normal(size=n)
        a, b = np.full(n, 7.0), np.full(n, 7.0)
        assert nk._solve_gesv(A, r, a) and nk._solve_numpy(A, r, b)
        assert np.array_equal(a, b) and np.array_equal(a, np.linalg.solve(A, r))
    for A, r in ((np.zeros((3, 3)), np.ones(3)),                      # singular
                 (np.diag([1.0, np.nan, 1.0]), np.ones(3)),           # not finite
                 (np.eye(3), np.array([1.0, np.inf, 0.0]))):
        a, b = np.full(3, 7.0), np.full(3, 7.0)
        assert not nk._solve_gesv(A, r, a) and not nk._solve_numpy(A, r, b)
        assert np.all(a == 7.0) and np.all(b == 7.0)   # out untouched
