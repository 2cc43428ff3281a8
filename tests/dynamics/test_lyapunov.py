"""Lyapunov spectra against analytic and literature values, on the numpy path (test systems)
and the numba paths (per-sample kernel, batched BLAS kernel)."""

import numpy as np
import pytest
from systems import DiagonalLinear, Henon, Hopf, Logistic, Lorenz, random_rnn

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


def test_logistic_r4_is_ln2():
    s = ak.lyapunov_spectrum(Logistic(), [[0.3], [0.71]], [4.0], n_steps=20_000,
                             n_transient=100, rng=0)
    assert s.exponents.shape == (1, 2, 1)
    np.testing.assert_allclose(s.exponents[0, :, 0], np.log(2.0), atol=0.01)


def test_henon_spectrum_and_exact_sum():
    s = ak.lyapunov_spectrum(Henon(), [[0.1, 0.1]], None, n_steps=20_000, n_transient=100,
                             rng=1)
    lam = s.exponents[0, 0]
    np.testing.assert_allclose(lam, [0.41922, -1.62319], atol=0.01)
    assert abs(lam.sum() - np.log(0.3)) < 1e-9  # det J = -b
    assert (s.stderr[0, 0] < 0.01).all()


def test_lorenz_flow_spectrum():
    h0 = np.array([[1.0, 1.0, 20.0], [-5.0, 3.0, 25.0], [2.0, -7.0, 10.0], [0.0, 2.0, 30.0]])
    s = ak.lyapunov_spectrum(Lorenz(dt=0.01), h0, None, n_steps=30_000, n_transient=500,
                             qr_every=10, rng=2)
    lam = s.exponents[0].mean(axis=0)  # averaged over 4 initial states (T = 270 each)
    assert abs(lam[0] - 0.906) < 0.03
    assert abs(lam[1]) < 0.02
    assert abs(lam.sum() + (10.0 + 1.0 + 8.0 / 3.0)) < 0.01
    assert s.averaging_time == pytest.approx(270.0)
    assert s.kaplan_yorke.shape == (1, 4) and np.all((s.kaplan_yorke > 2) & (s.kaplan_yorke < 2.2))


def test_diagonal_linear_map_exact():
    a = np.array([0.9, -0.5, 0.2, 1.0, -0.7])
    s = ak.lyapunov_spectrum(DiagonalLinear(a), np.ones(5), None, n_steps=400,
                             n_transient=0, rng=0)
    np.testing.assert_allclose(s.exponents[0, 0], np.sort(np.log(np.abs(a)))[::-1], atol=1e-6)
    kern = VanillaRNN(np.diag(a), activation="identity")
    for m in (5, 3):  # batched BLAS kernel (m <= 32), leading exponents only
        k = ak.lyapunov_spectrum(kern, np.ones(5), None, n_exponents=m, n_steps=400,
                                 n_transient=0, rng=0)
        np.testing.assert_allclose(k.exponents[0, 0], np.sort(np.log(np.abs(a)))[::-1][:m],
                                   atol=1e-6)


def test_rnn_contracting_origin_matches_eigenvalues():
    """V-RNN1: at the attracting origin of h' = tanh(W h) the spectrum is log|eig(W)|."""
    model = random_rnn(40, 0.5, seed=3)
    ref = np.sort(np.log(np.abs(np.linalg.eigvals(model.W))))[::-1]
    h0 = 0.1 * np.random.default_rng(0).standard_normal((2, 40))
    full = ak.lyapunov_spectrum(model, h0, None, n_steps=3000, n_transient=100, rng=0)
    assert np.abs(full.exponents - ref).max() < 5e-3  # per-sample kernel with LAPACK QR
    lead = ak.lyapunov_spectrum(model, h0, None, n_exponents=4, n_steps=3000,
                                n_transient=100, rng=0)
    assert np.abs(lead.exponents - ref[:4]).max() < 5e-3  # batched BLAS kernel


def test_kernel_and_numpy_paths_agree():
    from test_simulate import Wrapped

    model = random_rnn(36, 2.5, seed=1, activation="tanh")
    h0 = np.random.default_rng(2).standard_normal((2, 36))
    kw = dict(n_steps=100, n_transient=20, n_windows=5, rng=5)  # short: the network is chaotic
    for m in (3, 34):  # batched BLAS kernel (m <= 32) and per-sample kernel with LAPACK QR
        a = ak.lyapunov_spectrum(model, h0, None, n_exponents=m, **kw)
        b = ak.lyapunov_spectrum(Wrapped(model), h0, None, n_exponents=m, **kw)
        np.testing.assert_allclose(a.exponents, b.exponents, atol=1e-4)
    flow = VanillaRNN(model.W, time="continuous", dt=0.1)
    kw = dict(n_exponents=2, n_steps=100, n_transient=10, qr_every=5, n_windows=4, rng=5)
    fa = ak.lyapunov_spectrum(flow, h0, None, **kw)
    fb = ak.lyapunov_spectrum(Wrapped(flow), h0, None, **kw)
    np.testing.assert_allclose(fa.exponents, fb.exponents, atol=1e-6)


def test_hopf_cycle_exponents():
    s = ak.lyapunov_spectrum(Hopf(dt=0.05), [[0.5, 0.0]], [[0.5], [-0.3]], n_steps=8_000,
                             n_transient=200, rng=0)
    lam = s.exponents[:, 0]
    assert abs(lam[0, 0]) < 5 / 360 and abs(lam[0, 1] + 2 * 0.5) < 0.01  # cycle: (0, -2 mu)
    np.testing.assert_allclose(lam[1], [-0.3, -0.3], atol=1e-3)  # focus: Re = mu


def test_windows_sorted_and_divergence_reported():
    with pytest.warns(ak.ConvergenceWarning, match="1 of 2 runs diverged"):
        s = ak.lyapunov_spectrum(DiagonalLinear([1.5, 0.5]), [[1.0, 1.0], [0.0, 1.0]], None,
                                 n_steps=100, n_transient=0, rng=0)
    assert s.diverged.tolist() == [[True, False]]
    assert np.isnan(s.exponents[0, 0]).all()
    np.testing.assert_allclose(s.exponents[0, 1], [np.log(1.5), np.log(0.5)], atol=1e-9)
    assert s.windows.shape == (1, 2, 10, 2)
    assert "diverged" in s.summary()


def test_bad_input_and_round_trip(tmp_path):
    with pytest.raises(ak.ValidationError, match="n_exponents"):
        ak.lyapunov_spectrum(Henon(), [0.1, 0.1], None, n_exponents=3)
    with pytest.raises(ak.ValidationError, match="initial_states.*NaN"):
        ak.lyapunov_spectrum(Henon(), [np.nan, 0.1], None)
    with pytest.raises(ak.ValidationError, match="n_steps"):
        ak.lyapunov_spectrum(Henon(), [0.1, 0.1], None, n_steps=20, n_windows=10, qr_every=2)
    with pytest.raises(ak.ValidationError, match="inputs"):
        ak.lyapunov_spectrum(Logistic(), [0.1], [4.0, 1.0])
    s = ak.lyapunov_spectrum(Henon(), [0.1, 0.1], None, n_steps=200, n_transient=0, rng=0)
    assert ak.results_equal(s, ak.LyapunovSpectrum.load(s.save(tmp_path / "s.npz")))
    assert s.plot() is not None


def test_relu_fast_path_matches_numpy():
    """ReLU, alpha = 1, constant input: the batched kernel's fused update (states, tangent
    rows, divergence) agrees with the model-agnostic numpy path."""
    from test_simulate import Wrapped

    model = random_rnn(40, 1.3, seed=3, activation="relu", n_input=2)
    h0 = np.abs(np.random.default_rng(4).standard_normal((3, 40)))
    kw = dict(n_exponents=3, n_steps=200, n_transient=20, n_windows=4, rng=5)
    a = ak.lyapunov_spectrum(model, h0, [0.3, -0.2], **kw)
    b = ak.lyapunov_spectrum(Wrapped(model), h0, [0.3, -0.2], **kw)
    np.testing.assert_allclose(a.exponents, b.exponents, atol=1e-9)
    assert np.isfinite(a.exponents).all()
    tr = ak.simulate(model, h0, [0.3, -0.2], 50)
    ref = ak.simulate(Wrapped(model), h0, [0.3, -0.2], 50)
    np.testing.assert_allclose(tr.states, ref.states, rtol=1e-12, atol=1e-12)
