"""Mutual information: Gaussian ground truth, exact agreements, invariances, bad input.

Tolerances follow the rule of docs METHODS.md §1 ("|bias| + 4 SD, rounded up"), with bias and
SD from its measured table §1.4 (KSG, 100 replications) scaled to N = 2000 by sqrt(N).
"""

import numpy as np
import pytest
from mi_reference import brute_ross
from scipy.special import digamma, ndtri
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.metrics import mutual_info_score

import attractorkit as ak


def gaussian_pair(rho, n, seed, dim=1):
    g = np.random.default_rng(seed)
    x = g.normal(size=(n, dim))
    y = rho * x + np.sqrt(1 - rho**2) * g.normal(size=(n, dim))
    return x, y, -0.5 * dim * np.log(1 - rho**2)


# -- Gaussian ground truth ---------------------------------------------------------------------
# §1.4: KSG1 k=3 SD 0.016 at N=2000 (rho=0), ~0.02 (rho=0.3..0.6, scaled from N=1000/5000);
# rho=0.9: M3 gives < 0.10 at N=2000.
@pytest.mark.parametrize("rho, tol", [(0.0, 0.07), (0.3, 0.08), (0.6, 0.08), (0.9, 0.10)])
@pytest.mark.parametrize("method", ["ksg1", "ksg2"])
def test_bivariate_gaussian(rho, tol, method):
    x, y, true = gaussian_pair(rho, 2000, seed=int(10 * rho) + 1)
    est = ak.mutual_information(x[:, 0], y[:, 0], method=method, k=3, rng=0)
    assert abs(est - true) < tol


# §1.4 dimension table (d=2, N=1e4: bias +0.007, SD 0.011) scaled to N=2000: SD ~0.025.
@pytest.mark.parametrize("rho", [0.3, 0.6])
def test_multivariate_gaussian(rho):
    x, y, true = gaussian_pair(rho, 2000, seed=7, dim=2)
    for method in ("ksg1", "ksg2"):
        assert abs(ak.mutual_information(x, y, method=method, rng=1) - true) < 0.12


# §1.4 GCMI table: N=1000 SD 0.0006 (rho=0), 0.032 (rho=0.9) -> N=2000 tolerances below.
@pytest.mark.parametrize("rho, tol", [(0.0, 0.003), (0.3, 0.06), (0.6, 0.07), (0.9, 0.10)])
def test_gcmi_gaussian(rho, tol):
    x, y, true = gaussian_pair(rho, 2000, seed=3)
    assert abs(ak.mutual_information(x, y, method="gcmi") - true) < tol


def test_gcmi_exact_formula():
    """GCMI is the bias-corrected Gaussian MI of the copula-normalised data, exactly."""
    x, y, _ = gaussian_pair(0.5, 500, seed=4)
    copnorm = lambda v: ndtri((np.argsort(np.argsort(v, kind="stable"), kind="stable") + 1.0)  # noqa: E731
                              / (v.size + 1.0))
    cx, cy = copnorm(x[:, 0]), copnorm(y[:, 0])
    r = np.corrcoef(cx, cy)[0, 1]
    n = 500
    expected = -0.5 * np.log(1 - r**2) + (digamma((n - 2) / 2) - digamma((n - 1) / 2)) / 2
    assert ak.mutual_information(x, y, method="gcmi") == pytest.approx(expected, abs=1e-12)


def test_units_bits():
    x, y, _ = gaussian_pair(0.6, 1000, seed=5)
    nats = ak.mutual_information(x, y, rng=2)
    assert ak.mutual_information(x, y, units="bits", rng=2) == pytest.approx(nats / np.log(2))


# -- exact agreement and structure -------------------------------------------------------------
@pytest.mark.parametrize("jitter", [0.0, 1e-10])
def test_ksg1_equals_sklearn(jitter):
    for seed in range(3):
        x, y, _ = gaussian_pair(0.5, 1500, seed=20 + seed)
        ref = mutual_info_regression(x, y[:, 0], n_neighbors=3, random_state=seed)[0]
        ours = ak.mutual_information(x, y, k=3, jitter=jitter, rng=seed)
        assert ref > 0 and abs(ours - ref) < 1e-6


def test_mixed_equals_sklearn_classif():
    g = np.random.default_rng(8)
    labels = g.integers(0, 3, 1200)
    x = g.normal(size=1200) + 0.7 * labels
    ref = mutual_info_classif(x[:, None], labels, n_neighbors=3, random_state=0)[0]
    assert abs(ak.mutual_information(x, labels, rng=0) - ref) < 1e-6
    assert ak.mutual_information(x, labels, rng=0) == ak.mutual_information(labels, x, rng=0)


def test_discrete_discrete_plugin():
    g = np.random.default_rng(9)
    a = g.integers(0, 3, 500)
    b = (a + g.integers(0, 2, 500)) % 3
    assert ak.mutual_information(a, b) == pytest.approx(mutual_info_score(a, b), abs=1e-12)


def test_symmetry():
    x, y, _ = gaussian_pair(0.6, 1500, seed=11)
    for jitter in (0.0, 1e-10):
        a = ak.mutual_information(x, y, jitter=jitter, rng=3)
        b = ak.mutual_information(y, x, jitter=jitter, rng=3)
        assert a == pytest.approx(b, abs=1e-12)
    assert ak.mutual_information(x, y, method="gcmi") == pytest.approx(
        ak.mutual_information(y, x, method="gcmi"), abs=1e-12)


def test_monotone_invariance():
    """True MI is invariant; raw KSG approximately (METHODS §1.5: |delta| < 0.05 at N=5000,
    rho=0.8); GCMI exactly (bit-identical) since it sees only ranks."""
    x, y, _ = gaussian_pair(0.8, 5000, seed=12)
    fx, fy = np.exp(x), y**3
    raw = ak.mutual_information(x, y, rng=4)
    assert abs(ak.mutual_information(fx, fy, rng=4) - raw) < 0.05
    assert ak.mutual_information(fx, fy, method="gcmi") == ak.mutual_information(
        x, y, method="gcmi")
    assert ak.mutual_information(2.5 * x + 7, y, rng=4) == pytest.approx(raw, abs=2e-3)


def test_independent_is_zero_and_not_significant():
    g = np.random.default_rng(13)
    x, y = g.normal(size=2000), g.normal(size=2000)
    assert abs(ak.mutual_information(x, y, rng=5)) < 0.07
    test = ak.shuffle_test(x, y, n_shuffles=99, rng=5)
    assert test.p_value > 0.05


def test_dependent_is_significant():
    x, y, _ = gaussian_pair(0.3, 2000, seed=14)
    assert ak.shuffle_test(x, y, n_shuffles=99, rng=6).p_value == pytest.approx(0.01)


# -- the Ross estimator on ties ----------------------------------------------------------------
def test_ross_multivariate_follows_the_same_tie_rule():
    """The KD-tree path for x in 2-D counts ties as the 1-D kernel does (max norm): the
    estimate on exact ties (jitter off) is the brute force on the same, std-scaled, data."""
    g = np.random.default_rng(20)
    lab = g.integers(0, 3, 300)
    x = np.column_stack([g.integers(0, 5, 300) + lab, g.integers(0, 3, 300)]).astype(float)
    xs = x / x.std(axis=0)   # the estimators scale each column by its std (as scikit-learn)
    kw = {"method": "mixed", "k": 3, "jitter": 0.0, "discrete_x": False, "discrete_y": True}
    assert ak.mutual_information(x, lab, **kw) == pytest.approx(brute_ross(xs, lab, 3),
                                                                 abs=1e-10)
    assert ak.mutual_information(x[:, 0], lab, **kw) == pytest.approx(
        brute_ross(xs[:, 0], lab, 3), abs=1e-10)


# -- conditional MI ----------------------------------------------------------------------------
def test_cmi_npeet_case():
    """METHODS M8: Sigma = [[4,3,1],[3,4,1],[1,1,2]], I(x;y|z) = 0.356883; at N=1e4 bias +0.005,
    SD 0.011 -> at N=5000 SD ~0.016, tolerance 0.07."""
    g = np.random.default_rng(17)
    d = g.multivariate_normal(np.zeros(3), [[4, 3, 1], [3, 4, 1], [1, 1, 2]], size=5000)
    for method in ("ksg1", "gcmi"):
        est = ak.conditional_mutual_information(d[:, 0], d[:, 1], d[:, 2], method=method, rng=0)
        assert abs(est - 0.356883) < 0.07


def test_cmi_discrete_z_removes_common_cause():
    g = np.random.default_rng(18)
    z = g.integers(0, 3, 3000)
    x = z + 0.5 * g.normal(size=3000)
    y = z + 0.5 * g.normal(size=3000)
    assert ak.mutual_information(x, y, rng=0) > 0.3
    assert abs(ak.conditional_mutual_information(x, y, z, rng=0)) < 0.05


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_rejects_nan_inf(bad):
    x = np.arange(50.0)
    y = x.copy()
    y[3] = bad
    with pytest.raises(ak.ValidationError, match="y: expected finite"):
        ak.mutual_information(x, y)


def test_rejects_constant_length_and_k():
    x = np.random.default_rng(0).normal(size=100)
    with pytest.raises(ak.ValidationError, match="y: column 0 is constant"):
        ak.mutual_information(x, np.ones(100), discrete_y=False)
    with pytest.raises(ak.ValidationError, match="y: expected 100 samples"):
        ak.mutual_information(x, x[:90])
    with pytest.raises(ak.ValidationError, match="k: expected k < n_samples = 100"):
        ak.mutual_information(x, x**3, k=100)
    with pytest.raises(ak.ValidationError, match="method"):
        ak.mutual_information(x, x, method="ksg3")
    with pytest.raises(ak.ValidationError, match="units"):
        ak.mutual_information(x, x, units="dits")
    with pytest.raises(ak.ValidationError, match="'mixed' needs a discrete"):
        ak.mutual_information(x, x**3, method="mixed")


def test_duplicates_jitter_and_warning():
    """Documented handling: the default jitter breaks ties; with jitter=0 and many exact
    duplicates a RuntimeWarning recommends the jitter or the mixed estimator."""
    g = np.random.default_rng(19)
    x = np.round(g.normal(size=1000), 1)  # heavy ties
    y = x + 0.5 * g.normal(size=1000)
    x[:300] = 0.0
    assert np.isfinite(ak.mutual_information(x, y, rng=0))
    with pytest.warns(RuntimeWarning, match="exact duplicates"):
        ak.mutual_information(np.repeat(x[300:550], 4), np.repeat(y[300:550], 4), jitter=0)
