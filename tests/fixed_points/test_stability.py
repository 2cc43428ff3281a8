"""Linear stability: spectra, labels, modes, crossings (analytic cases)."""

import numpy as np
import pytest
from fp_systems import Bistable, Hopf, Linear

import attractorkit as ak
from attractorkit.adapters import VanillaRNN
from attractorkit.fixed_points import classify_spectra, crossing_kind


def _rot(r, th):
    return r * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])


@pytest.mark.parametrize(
    "A, label, udim",
    [
        (np.diag([0.5, 0.3]), "stable node", 0),
        (_rot(0.9, 0.4), "stable focus", 0),
        (np.diag([0.5, 2.0]), "saddle", 1),
        (np.diag([1.5, -2.0]), "unstable node", 2),
        (_rot(1.1, 0.4), "unstable focus", 2),
        (np.diag([1.0, 0.5]), "marginal", 0),
        (np.diag([-0.5, 0.2]), "stable node", 0),
    ],
)
def test_map_labels(A, label, udim):
    s = ak.linear_stability(Linear(A, [0.0, 0.0]), np.zeros(2), np.zeros(0))
    assert s.label[0] == label
    assert s.unstable_dim[0] == udim
    assert s.stable[0] == (label.startswith("stable"))
    np.testing.assert_allclose(np.sort(np.abs(s.eigenvalues[0]))[::-1],
                               np.sort(np.abs(np.linalg.eigvals(A)))[::-1], atol=1e-12)


@pytest.mark.parametrize(
    "A, label, udim",
    [
        (np.diag([-0.5, -0.3]), "stable node", 0),
        (np.array([[-0.1, -1.0], [1.0, -0.1]]), "stable focus", 0),
        (np.diag([-1.0, 1.0]), "saddle", 1),
        (np.array([[0.1, -1.0], [1.0, 0.1]]), "unstable focus", 2),
        (np.diag([0.0, -1.0]), "marginal", 0),
        # a map's stable spectrum is unstable for a flow: |lambda| < 1 but Re > 0
        (np.diag([0.5, 0.3]), "unstable node", 2),
    ],
)
def test_flow_labels(A, label, udim):
    s = ak.linear_stability(Linear(A, [0.0, 0.0], time="continuous"), np.zeros(2), np.zeros(0))
    assert s.label[0] == label
    assert s.unstable_dim[0] == udim


def test_delta_decides_near_boundary():
    ev = np.array([[1.0000245, 0.5]], complex)
    assert classify_spectra(ev, "discrete", 1e-8)[4][0] == "saddle"
    assert classify_spectra(ev, "discrete", 1e-3)[4][0] == "marginal"


def test_sorted_leading_first_and_modes_are_eigenvectors(rng):
    W = rng.normal(0, 1.2 / np.sqrt(6), (6, 6))
    m = VanillaRNN(W, U=rng.normal(size=(6, 2)), b=rng.normal(size=6), activation="tanh")
    P, X = rng.normal(size=(5, 6)), rng.normal(size=(5, 2))
    s = ak.linear_stability(m, P, X, n_modes=3)
    J = m.jacobian(P, X)
    assert np.all(np.diff(np.abs(s.eigenvalues), axis=1) <= 1e-12)
    for i in range(5):
        for k in range(3):
            v, w, lam = s.modes[i, :, k], s.left_modes[i, :, k], s.eigenvalues[i, k]
            np.testing.assert_allclose(J[i] @ v, lam * v, atol=1e-10)
            np.testing.assert_allclose(np.conj(w) @ J[i], lam * np.conj(w), atol=1e-9)
            np.testing.assert_allclose(np.conj(w) @ v, 1.0, atol=1e-9)
    np.testing.assert_allclose(s.input_jacobians, m.input_jacobian(P, X))


def test_flows_sorted_by_real_part_and_named_systems():
    s = ak.linear_stability(Bistable(), [[0, 0], [1, 0], [-1, 0]], np.zeros(0))
    assert list(s.label) == ["saddle", "stable node", "stable node"]
    np.testing.assert_allclose(s.eigenvalues[0], [1, -1], atol=1e-12)
    np.testing.assert_allclose(s.eigenvalues[1], [-1, -2], atol=1e-12)
    h = ak.linear_stability(Hopf(mu=0.3, omega=2.0), np.zeros(2), np.zeros(0))
    assert h.label[0] == "unstable focus"
    np.testing.assert_allclose(np.abs(h.eigenvalues[0].imag), 2.0, atol=1e-12)
    np.testing.assert_allclose(h.timescales[0], -1 / 0.3, atol=1e-12)


def test_euler_link_between_leaky_map_and_flow(rng):
    W, b, a = rng.normal(0, 0.5, (5, 5)), rng.normal(size=5), 0.1
    flow = VanillaRNN(W, b=b, activation="tanh", time="continuous")
    leaky = VanillaRNN(W, b=b, activation="tanh", alpha=a)
    P = rng.normal(size=(3, 5))
    sc = ak.linear_stability(flow, P, np.zeros(0))
    sd = ak.linear_stability(leaky, P, np.zeros(0))
    np.testing.assert_allclose(np.sort_complex(sd.eigenvalues),
                               np.sort_complex(1 + a * sc.eigenvalues), atol=1e-10)


def test_crossing_kinds():
    assert crossing_kind([0.99, 0.2], [1.01, 0.2], "discrete") == "real +1"
    assert crossing_kind([-0.99], [-1.01], "discrete") == "real -1"
    z = 0.999 * np.exp(0.5j)
    assert crossing_kind([z, np.conj(z)], None, "discrete") == "complex pair"
    assert crossing_kind([-0.01, -3], [0.01, -3], "continuous") == "real 0"
    assert crossing_kind(None, [0.01 + 1j, 0.01 - 1j], "continuous") == "hopf pair"


def test_bad_arguments():
    m = Linear(np.eye(2) * 0.5, [0, 0])
    with pytest.raises(ak.ValidationError, match="points"):
        ak.linear_stability(m, np.zeros(3), np.zeros(0))
    with pytest.raises(ak.ValidationError, match="inputs"):
        ak.linear_stability(m, np.zeros(2), np.zeros(1))
    with pytest.raises(ak.ModelTypeError, match="model"):   # as in every analysis
        ak.linear_stability(object(), np.zeros(2), np.zeros(0))
    with pytest.raises(ak.ValidationError, match="points"):
        ak.linear_stability(m, [[np.nan, 0.0]], np.zeros(0))


def test_save_load_roundtrip(tmp_path):
    s = ak.linear_stability(Linear(_rot(0.9, 0.3), [0, 0]), np.zeros((2, 2)), np.zeros(0))
    s2 = ak.Stability.load(s.save(tmp_path / "s"))
    assert ak.results_equal(s, s2)
    assert "2 stable" in s.summary()


def _eig_public(J):
    """Every eigenpair of J through the public call (n_modes = n: all eigenvectors); for
    n >= 48 linear_stability deflates the decoupled rows."""
    n = J.shape[0]
    s = ak.linear_stability(Linear(J, np.zeros(n)), np.zeros(n), np.zeros(0), n_modes=n)
    return s.eigenvalues[0], s.modes[0]


def _check_eig(J, ev, V):
    """ev equals the spectrum of J (as multisets) and V holds unit eigenvectors."""
    ref = np.linalg.eigvals(J)
    key = lambda z: np.lexsort((np.round(z.imag, 8), np.round(z.real, 8)))  # noqa: E731
    assert np.allclose(np.sort_complex(ev)[key(np.sort_complex(ev))],
                       np.sort_complex(ref)[key(np.sort_complex(ref))], atol=1e-9)
    assert np.allclose(J @ V, V * ev[None, :], atol=1e-8)
    assert np.allclose(np.linalg.norm(V, axis=0), 1.0)
    assert np.linalg.matrix_rank(V) == J.shape[0]


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_deflated_eig_of_relu_jacobians(rng, alpha):
    """Rows of inactive ReLU units have no off-diagonal entry (0 for alpha = 1, 1 - alpha for
    a leaky map): the shortcut solves only the active block, and its eigenpairs match LAPACK's
    on the whole matrix."""
    n = 60
    W = rng.normal(0, 1 / np.sqrt(n), (n, n))
    active = rng.random(n) < 0.6
    J = (1 - alpha) * np.eye(n) + alpha * (active[:, None] * W)
    ev, V = _eig_public(J)
    _check_eig(J, ev, V)


def test_deflated_eig_edge_cases(rng):
    D = np.diag(rng.normal(size=50))       # all rows decoupled
    _check_eig(D, *_eig_public(D))
    # a decoupled eigenvalue (0.5) shared with the coupled block, whose diagonal holds 0.5 at
    # index 12: the block solve would be singular (the matrix is defective), so the shortcut
    # must hand over to LAPACK and still return the right spectrum
    n = 50
    J = np.zeros((n, n))
    J[:25, :25] = np.diag(0.5 + np.linspace(-0.2, 0.2, 25))
    J[:25, 25:] = rng.normal(size=(25, 25))
    J[25:, 25:] = np.diag(np.full(25, 0.5))
    ev, V = _eig_public(J)
    assert np.all(np.isfinite(V))
    assert np.allclose(np.sort(ev.real), np.sort(np.linalg.eigvals(J).real), atol=1e-6)
    # few decoupled rows: plain LAPACK
    M = rng.normal(size=(50, 50))
    M[0, 1:] = 0.0
    _check_eig(M, *_eig_public(M))


def test_linear_stability_uses_deflation_consistently(rng):
    """Through the public call: a 100-unit ReLU network at a state with many inactive units
    gives the same spectrum and labels as the eigenvalues of the full Jacobian."""
    n = 100
    W = rng.normal(0, 1.5 / np.sqrt(n), (n, n))
    m = VanillaRNN(W, np.zeros((n, 1)), rng.normal(size=n), activation="relu", alpha=0.5)
    h = rng.normal(size=(3, n))
    s = ak.linear_stability(m, h, np.zeros(1))
    J = m.jacobian(h, np.zeros((3, 1)))
    for i in range(3):
        ref = np.linalg.eigvals(J[i])
        assert np.allclose(np.sort(np.abs(s.eigenvalues[i])), np.sort(np.abs(ref)), atol=1e-9)
        assert s.unstable_dim[i] == int(np.sum(np.abs(ref) > 1 + 1e-8))
        v = s.modes[i][:, 0]
        assert np.allclose(J[i] @ v, s.eigenvalues[i, 0] * v, atol=1e-8)
