"""The statistics engine against independent computations (brute force, scipy, textbook)."""

import itertools

import numpy as np
import pytest
from scipy import stats

from attractorkit.reference_models.study import stats as st

pytestmark = pytest.mark.study


def brute_sign_flip(d, mu):
    """Exact one-sided p-values of the sign-flip test of mean(d) = mu, by enumeration."""
    x = np.asarray(d, float) - mu
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=x.size)))
    means = signs @ x / x.size
    obs = x.mean()
    return np.mean(means >= obs - 1e-12), np.mean(means <= obs + 1e-12)


def test_paired_mean_is_the_exact_sign_flip_test_and_its_inversion():
    rng = np.random.default_rng(0)
    d = rng.normal(0.3, 1.0, 8)
    e = st.paired_mean(d, sesoi=0.5, n_perm=1000, rng=rng, confidence=0.9)
    assert e.value == pytest.approx(d.mean()) and e.n == 8
    assert e.p_support == pytest.approx(brute_sign_flip(d, 0.0)[0])
    assert e.p_against == pytest.approx(brute_sign_flip(d, 0.5)[1])
    # the interval is the set of shifts that neither one-sided test rejects at 5%: its ends
    # are accepted, and a step beyond either end is rejected by one side
    eps = 1e-6
    assert min(brute_sign_flip(d, e.low)) > 0.05 and min(brute_sign_flip(d, e.high)) > 0.05
    assert brute_sign_flip(d, e.low - eps)[1] > 0.05 >= brute_sign_flip(d, e.low - eps)[0]
    assert brute_sign_flip(d, e.high + eps)[0] > 0.05 >= brute_sign_flip(d, e.high + eps)[1]


def test_equivalence_combines_two_one_sided_tests():
    rng = np.random.default_rng(1)
    d = rng.normal(0.0, 0.01, 10)
    e = st.equivalence(d, margin=0.05, n_perm=1000, rng=rng)
    assert e.p_support == pytest.approx(max(brute_sign_flip(d, 0.05)[1],
                                            brute_sign_flip(d, -0.05)[0]))
    assert e.p_support < 0.01 and e.p_against == 1.0
    far = st.equivalence(d + 0.2, margin=0.05, n_perm=1000, rng=rng)
    assert far.p_support == 1.0 and far.p_against < 0.01


def test_trend_is_the_ols_slope_within_strata():
    rng = np.random.default_rng(2)
    x = np.repeat([0.05, 0.1, 0.15], 20)
    strata = np.tile(np.repeat(["a", "b"], 10), 3)
    y = 2.0 * x + (strata == "b") * 0.5 + rng.normal(0, 0.05, x.size)
    e = st.trend(x, y, strata=strata, span=0.1, sesoi=0.05, n_perm=999, rng=rng)
    design = np.column_stack([x, strata == "a", strata == "b"]).astype(float)
    beta = np.linalg.lstsq(design, y, rcond=None)[0][0]
    assert e.value == pytest.approx(beta * 0.1)
    assert e.low < 0.2 < e.high and e.p_support == pytest.approx(1 / 1000)
    flat = st.trend(x, rng.normal(0, 0.05, x.size), strata=strata, span=0.1, sesoi=0.05,
                    n_perm=999, rng=rng)
    assert flat.low < 0 < flat.high


def test_rank_correlations_match_spearman():
    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = 0.5 * x + rng.normal(size=40)
    one = np.zeros(40)
    e = st.within_rank_correlation(x, y, cells=one, sesoi=0.2, n_perm=500, rng=rng)
    assert e.value == pytest.approx(stats.spearmanr(x, y).statistic)
    z = np.arctanh(e.value)
    se = np.sqrt(1.06 / (40 - 3))
    assert (e.low, e.high) == pytest.approx((np.tanh(z - 1.959964 * se),
                                             np.tanh(z + 1.959964 * se)), rel=1e-5)
    g = np.repeat([0, 1], 20)
    d = st.correlation_difference(x, y, cells=g, group=g, strata=one, sesoi=0.2, n_perm=500,
                                  rng=rng)
    assert d.value == pytest.approx(stats.spearmanr(x[20:], y[20:]).statistic
                                    - stats.spearmanr(x[:20], y[:20]).statistic)
    assert d.low < d.value < d.high


def test_mean_below_and_spread():
    rng = np.random.default_rng(4)
    small = rng.uniform(0, 0.02, 30)
    e = st.mean_below(small, margin=0.05, n_boot=999, rng=rng)
    assert e.p_support < 0.01 and e.high < 0.05
    big = rng.uniform(0.1, 0.3, 30)
    assert st.mean_below(big, margin=0.05, n_boot=999, rng=rng).p_against < 0.01
    a = rng.normal(0, 0.05, 60)
    b = rng.normal(0, 0.2, 60)
    cells = np.repeat(np.arange(6), 10)
    s = st.spread_difference(a, b, cells=cells, sesoi=0.02, n_perm=999, rng=rng)
    expected = np.sqrt(2 / np.pi) * 0.15          # mean |N(0, sd)| difference
    assert s.low < expected < s.high and s.p_support < 0.01


def test_holm_matches_the_textbook_procedure():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    np.testing.assert_allclose(st.holm(p)[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(st.holm(p)[4])
