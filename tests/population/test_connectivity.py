"""Functional connectivity: planted communities are recovered and aligned with populations."""

import numpy as np
import pytest
from scipy import stats

import attractorkit as ak


@pytest.fixture(scope="module")
def grouped():
    """Three groups of 6 units, each driven by its own latent signal."""
    g = np.random.default_rng(0)
    n = 800
    latent = g.normal(size=(n, 3))
    groups = np.repeat([0, 1, 2], 6)
    act = latent[:, groups] + 0.8 * g.normal(size=(n, 18))
    return act, np.array(["G_+", "G_-", "G_a"])[groups]


def test_correlation_graph_recovers_groups(grouped, tmp_path):
    act, pops = grouped
    con = ak.functional_connectivity(act, populations=pops, rng=0)
    same = pops[:, None] == pops[None, :]
    off = ~np.eye(18, dtype=bool)
    assert np.all(con.adjacency[same & off]) and not np.any(con.adjacency[~same])
    assert np.all(con.degree == 5)
    assert con.alignment["adjusted_rand"] == pytest.approx(1.0)
    assert con.alignment["nmi"] == pytest.approx(1.0)
    assert con.modularity == pytest.approx(2 / 3, abs=0.01)  # 3 equal cliques
    assert con.average_clustering == pytest.approx(1.0)
    graph = con.to_networkx()
    assert graph.number_of_edges() == 3 * 15
    back = ak.Connectivity.load(con.save(tmp_path / "c"))
    assert ak.results_equal(con, back)
    assert "3 communities" in con.summary()


def test_analytic_p_values_match_scipy(grouped):
    act, _ = grouped
    con = ak.functional_connectivity(act[:100, :4], correction=None)
    for a, b in [(0, 1), (0, 3), (2, 3)]:
        r, p = stats.pearsonr(act[:100, a], act[:100, b])
        assert con.matrix[a, b] == pytest.approx(r)
        assert con.p_value[a, b] == pytest.approx(p, rel=1e-6)


@pytest.mark.parametrize("method", ["gcmi", "ksg1"])
def test_mi_graph_with_shuffles(grouped, method):
    act, pops = grouped
    sub = act[:400, [0, 1, 6, 7, 12]]
    con = ak.functional_connectivity(sub, measure="mi", method=method, n_shuffles=19,
                                     alpha=0.05, correction=None, rng=1)
    assert con.adjacency[0, 1] and con.adjacency[2, 3]
    assert not con.adjacency[0, 2] and not con.adjacency[1, 4]
    # true MI of a same-group pair: rho = 1 / 1.64, -0.5 ln(1 - rho^2) = 0.233 nats
    assert np.all(np.diag(con.matrix) == 0) and con.matrix[0, 1] > 0.15


def test_gcmi_equals_scalar_estimator(grouped):
    act, _ = grouped
    con = ak.functional_connectivity(act[:, :3], measure="mi", method="gcmi")
    assert con.matrix[0, 1] == pytest.approx(
        ak.mutual_information(act[:, 0], act[:, 1], method="gcmi"), abs=1e-10)


def test_bad_input(grouped):
    act, _ = grouped
    with pytest.raises(ak.ValidationError, match="no analytic null"):
        ak.functional_connectivity(act, measure="mi", method="ksg1")
    bad = act.copy()
    bad[:, 3] = 1.0
    with pytest.raises(ak.ValidationError, match=r"units \[3\] are constant"):
        ak.functional_connectivity(bad)
    with pytest.raises(ak.ValidationError, match=r"populations: expected shape \(18,\)"):
        ak.functional_connectivity(act, populations=["a", "b"])
    with pytest.raises(ak.ValidationError, match="method"):
        ak.functional_connectivity(act, measure="mi", method="pearson")


def test_plot(grouped):
    import matplotlib

    matplotlib.use("Agg")
    act, _ = grouped
    assert ak.functional_connectivity(act, community="greedy").plot() is not None
