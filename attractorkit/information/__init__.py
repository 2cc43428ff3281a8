"""Mutual information (KSG, Gaussian copula, conditional), shuffle significance with
multiple-comparison correction, selectivity and cross-temporal decoding.
"""

from __future__ import annotations

from ._decoding import CrossTemporalDecoding, cross_temporal_decoding
from ._mi import conditional_mutual_information, mutual_information
from ._selectivity import Selectivity, selectivity
from ._significance import (
    ShuffleTest,
    empirical_p_value,
    fdr_bh,
    holm,
    shuffle_indices,
    shuffle_test,
)

__all__ = [
    "CrossTemporalDecoding",
    "Selectivity",
    "ShuffleTest",
    "conditional_mutual_information",
    "cross_temporal_decoding",
    "empirical_p_value",
    "fdr_bh",
    "holm",
    "mutual_information",
    "selectivity",
    "shuffle_indices",
    "shuffle_test",
]
