"""Shuffle nulls, empirical p-values and multiple-comparison corrections."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit.information import _significance


def test_empirical_p_value_formula():
    null = np.array([[0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0]])
    p = ak.empirical_p_value(np.array([0.35, 0.5]), null)
    assert p.tolist() == [(1 + 1) / 5, (1 + 4) / 5]
    assert np.isnan(ak.empirical_p_value(np.array([1.0]), np.zeros((1, 0)))).all()


def test_shuffle_indices_are_permutations_and_shifts():
    idx = ak.shuffle_indices(100, 20, shuffle="permutation", rng=0)
    assert idx.shape == (20, 100)
    assert all(np.array_equal(np.sort(r), np.arange(100)) for r in idx)
    circ = ak.shuffle_indices(100, 50, shuffle="circular", min_shift=10, rng=0)
    shifts = (circ[:, 0] - 0) % 100
    assert np.all((shifts >= 10) & (shifts <= 90))
    assert np.array_equal(circ, (np.arange(100)[None] + shifts[:, None]) % 100)
    with pytest.raises(ak.ValidationError, match="min_shift"):
        ak.shuffle_indices(10, 3, shuffle="circular", min_shift=6)


def test_permutations_are_the_argsort_of_the_rng_draws(monkeypatch):
    """The parallel radix path gives the permutations numpy's argsort gives for the same draws
    (so seeds keep their shuffles), also when a row has tied draws."""
    idx = ak.shuffle_indices(1000, 7, rng=3)
    keys = np.random.default_rng(3).random((7, 1000))
    assert idx.dtype == np.int64 and np.array_equal(idx, np.argsort(keys, axis=1))

    class TiedDraws:  # 100 distinct values in 500 draws: numpy's order of ties is not stable
        def random(self, shape):
            return np.round(np.random.default_rng(4).random(shape), 2)

    keys = TiedDraws().random((3, 500))
    assert not np.array_equal(np.argsort(keys, axis=1), np.argsort(keys, axis=1, kind="stable"))
    monkeypatch.setattr(_significance, "as_rng", lambda rng: TiedDraws())
    assert np.array_equal(ak.shuffle_indices(500, 3), np.argsort(keys, axis=1))


def test_holm_against_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    assert np.allclose(ak.holm(p), [0.03, 0.06, 0.06, 0.02])


def test_fdr_bh_against_hand_computation():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005*4/1=0.02, 0.01*4/2=0.02, 0.03*4/3=0.04, 0.04*4/4=0.04
    assert np.allclose(ak.fdr_bh(p), [0.02, 0.04, 0.04, 0.02])


def test_corrections_keep_shape_and_nan():
    p = np.array([[0.01, np.nan], [0.2, 0.5]])
    for f in (ak.holm, ak.fdr_bh):
        out = f(p)
        assert out.shape == p.shape and np.isnan(out[0, 1])
        assert np.all(out[~np.isnan(p)] >= p[~np.isnan(p)])
    with pytest.raises(ak.ValidationError, match="p-values in"):
        ak.holm([0.5, 1.5])


def test_fdr_controls_under_null():
    g = np.random.default_rng(0)
    rejections = [np.sum(ak.fdr_bh(g.random(200)) <= 0.05) > 0 for _ in range(200)]
    assert np.mean(rejections) < 0.1


@pytest.mark.parametrize("shuffle", ["permutation", "circular"])
def test_shuffle_test_result(shuffle, tmp_path):
    g = np.random.default_rng(1)
    x = g.normal(size=800)
    labels = (x + g.normal(size=800) > 0).astype(int)
    res = ak.shuffle_test(x, labels, n_shuffles=49, shuffle=shuffle, rng=2)
    assert res.p_value == pytest.approx(1 / 50)
    assert res.null.shape == (49,) and np.all(res.null < res.observed)
    assert "p = 0.02" in res.summary()
    back = ak.ShuffleTest.load(res.save(tmp_path / "t"))
    assert ak.results_equal(res, back)


def test_shuffle_test_multivariate_and_gcmi():
    g = np.random.default_rng(5)  # a fixed draw of independent data (p-values 0.35, 0.4)
    x = g.normal(size=(300, 2))
    y = g.normal(size=300)
    for method in ("ksg1", "gcmi"):
        res = ak.shuffle_test(x, y, method=method, n_shuffles=19, rng=4)
        assert res.p_value > 0.05
