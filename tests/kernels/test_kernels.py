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
