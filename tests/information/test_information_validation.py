"""Issue 19 regressions in the information analyses: labels that are not labels, options
that were not checked."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import ValidationError

G = np.random.default_rng(7)


def test_discrete_flag_on_distinct_floats_is_refused_not_zero():
    """mutual_information(x, y, discrete_x=True) on 1,000 distinct floats returned 0.0."""
    x = G.normal(size=1000)
    y = x + 0.1 * G.normal(size=1000)
    with pytest.raises(ValidationError, match=r"^x: treated as discrete labels, but 1000 of its "
                                              r"1000 samples .*discrete_x=False"):
        ak.mutual_information(x, y, discrete_x=True)
    with pytest.raises(ValidationError, match=r"^y: .*discrete_y=False"):
        ak.mutual_information(x, y, discrete_y=True)
    assert ak.mutual_information(x, y, rng=0) > 1.5  # continuous: about log(10) = 2.3 nats


def test_real_labels_with_a_few_singletons_still_work():
    labels = np.r_[np.repeat([0, 1, 2], 300), np.arange(3, 13)]  # 10 singletons of 910
    x = labels + 0.3 * G.normal(size=labels.size)
    mi = ak.mutual_information(x, labels, discrete_y=True, rng=0)
    assert 0.5 < mi < np.log(3) + 0.1


def test_selectivity_refuses_continuous_variables_called_discrete():
    act = G.normal(size=(300, 4))
    v = G.normal(size=300)
    with pytest.raises(ValidationError, match=r"variables\['v'\]: treated as discrete .*"
                                              r"discrete=\{'v': False\}"):
        ak.selectivity(act, {"v": v}, discrete={"v": True})
    with pytest.raises(ValidationError, match=r"variables\['v'\]: .*method='ksg1'"):
        ak.selectivity(act, {"v": v}, method="mixed")


@pytest.mark.parametrize("kw, pattern", [
    ({"discrete_x": "yes"}, "^discrete_x: expected None, True or False"),
    ({"method": np.array(["ksg1"])}, "^method: expected one of"),
    ({"k": "3"}, "^k: expected an integer"),
    ({"jitter": "0"}, "^jitter: expected a real number"),
])
def test_mutual_information_options_are_checked(kw, pattern):
    with pytest.raises(ValidationError, match=pattern):
        ak.mutual_information(G.normal(size=50), G.normal(size=50), **kw)


@pytest.mark.parametrize("x", [[[1.0, 2.0], [3.0]], np.array([1 + 1j, 2j]), [None, 1.0],
                               np.zeros(1), np.zeros((0,))])
def test_malformed_samples_are_validation_errors(x):
    with pytest.raises(ValidationError, match="^x: "):
        ak.mutual_information(x, np.arange(len(x), dtype=float))


def test_time_bins_and_decoding_labels_keep_their_full_text():
    act = G.normal(size=(60, 3))
    bins = np.array(["fixation", "stimulus-long-name", "delay"] * 20, dtype=object)
    sel = ak.selectivity(act, {"v": G.normal(size=60)}, time_bins=bins, rng=0)
    assert sorted(sel.bins.tolist()) == ["delay", "fixation", "stimulus-long-name"]
