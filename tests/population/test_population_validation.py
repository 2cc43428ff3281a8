"""Issue 19 regressions in the population analyses."""

import numpy as np
import pytest

import attractorkit as ak
from attractorkit import ValidationError


def test_custom_population_labels_are_checked_whole_not_truncated():
    """A definition returning "G_+x" was cut to "G_+" by a fixed-width string cast and
    accepted."""
    sp, sm = np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0])

    def sloppy(a, b, threshold):
        return np.array(["G_+x", "G_-", "G_aaaa"])

    with pytest.raises(ValidationError, match=r"definition: expected labels .* 'G_\+x'"):
        ak.populations(sp, sm, definition=sloppy)

    def exact(a, b, threshold):
        return ["G_+", "G_-", "G_a"]

    pops = ak.populations(sp, sm, definition=exact)
    assert pops.labels.tolist() == ["G_+", "G_-", "G_a"] and pops.definition == "exact"


@pytest.mark.parametrize("call, pattern", [
    (lambda: ak.balance_index("abc", 2), "^n_plus: "),
    (lambda: ak.balance_index([1, 2], [1, 2, 3]), "^n_minus: expected the shape"),
    (lambda: ak.populations(np.ones(3), np.ones(3), threshold="0"), "^threshold: "),
    (lambda: ak.balance_summary(3), "^pops: "),
    (lambda: ak.crystallization_time(np.linspace(0, 1, 5), baseline=None), "^baseline: "),
    (lambda: ak.participation_ratio(np.zeros((5, 0))), "^activity: "),
    (lambda: ak.participation_ratio(np.full((5, 2), 1e200)), "^activity: .*overflow"),
    (lambda: ak.pca_trajectories(np.ones((2, 3, 4)), [[1.0], [2.0, 3.0]]), "^conditions: "),
    (lambda: ak.functional_connectivity(np.random.default_rng(0).normal(size=(30, 3)),
                                        threshold="0.1"), "^threshold: "),
    (lambda: ak.functional_connectivity(np.random.default_rng(0).normal(size=(30, 3)),
                                        alpha=5), "^alpha: "),
])
def test_bad_values_are_validation_errors(call, pattern):
    with pytest.raises(ValidationError, match=pattern):
        call()


def test_connectivity_checks_its_options_before_the_work():
    """threshold was checked only after the matrix, its null and the graph were computed."""
    act = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(ValidationError, match="^threshold"):
        ak.functional_connectivity(act, threshold=-1.0, n_shuffles=10**12)
