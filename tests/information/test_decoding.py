"""Cross-temporal decoding: persistent versus dynamic codes."""

import numpy as np
import pytest

import attractorkit as ak


def make_trials(seed=0, n_trials=80, n_steps=6):
    g = np.random.default_rng(seed)
    label = g.integers(0, 2, n_trials)
    sign = 2 * label[:, None] - 1
    act = 0.5 * g.normal(size=(n_trials, n_steps, n_steps + 1))
    act[:, :, 0] += 2.0 * sign                                  # persistent: one axis
    dyn = np.eye(n_steps)[None] * 2.0 * sign[:, :, None]        # dynamic: a new axis per step
    act[:, :, 1:] += dyn
    return act, label


def test_persistent_and_dynamic_codes(tmp_path):
    act, label = make_trials()
    persistent = act.copy()
    persistent[:, :, 1:] = 0.5 * np.random.default_rng(1).normal(size=persistent[:, :, 1:].shape)
    dynamic = act.copy()
    dynamic[:, :, 0] = 0.5 * np.random.default_rng(2).normal(size=dynamic[:, :, 0].shape)
    res = ak.cross_temporal_decoding(persistent, {"choice": label}, cv=3, rng=0)
    dyn = ak.cross_temporal_decoding(dynamic, {"choice": label}, cv=3, decoder="lda", rng=0)
    assert res.accuracy.shape == (1, 6, 6)
    assert np.diagonal(res.accuracy[0]).min() > 0.9 and np.diagonal(dyn.accuracy[0]).min() > 0.9
    assert res.stability[0] > 0.8
    assert dyn.stability[0] < 0.3
    assert res.chance[0] == pytest.approx(np.bincount(label).max() / label.size)
    back = ak.CrossTemporalDecoding.load(res.save(tmp_path / "d"))
    assert ak.results_equal(res, back)
    assert "stability" in res.summary()


def test_diagonal_only_and_lda():
    act, label = make_trials(3)
    res = ak.cross_temporal_decoding(act, {"a": label, "b": 1 - label}, decoder="lda",
                                     diagonal_only=True, rng=0)
    assert np.isnan(res.accuracy[0, 0, 1]) and np.isnan(res.stability).all()
    assert np.allclose(np.diagonal(res.accuracy[0]), np.diagonal(res.accuracy[1]))


def test_bad_input():
    act, label = make_trials()
    with pytest.raises(ak.ValidationError, match="cv=5 trials each"):
        ak.cross_temporal_decoding(act, {"x": np.r_[np.zeros(78), [1, 1]]})
    with pytest.raises(ak.ValidationError, match=r"variables\['x'\]: expected shape \(80,\)"):
        ak.cross_temporal_decoding(act, {"x": label[:10]})
    with pytest.raises(ak.ValidationError, match="3 dimension"):
        ak.cross_temporal_decoding(act[0], {"x": label})


def test_plot():
    import matplotlib

    matplotlib.use("Agg")
    act, label = make_trials(n_trials=30, n_steps=3)
    res = ak.cross_temporal_decoding(act, {"c": label}, cv=3, decoder="lda", rng=0)
    assert res.plot("c") is not None
