"""Functional connectivity: a graph of significant unit-unit dependencies.

Edges come from pairwise correlation or mutual information between the units' activity
(RNN states or recorded neurons), tested analytically or against shuffles and corrected for
multiple comparisons; graph measures and communities come from networkx, and the alignment of
communities with known populations from scikit-learn's adjusted Rand index and normalised MI.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats
from scipy.special import digamma

from .._kernels import ksg as _ksg
from ..core._budget import check_memory
from ..core._errors import ValidationError
from ..core._results import Result
from ..core._validation import (
    as_float_array,
    as_label_array,
    as_rng,
    check_choice,
    check_int,
    check_positive,
)
from ..information._batch import _jittered
from ..information._mi import copnorm, psi_table, sort_columns
from ..information._significance import SHUFFLES, adjust, shuffle_indices

__all__ = ["functional_connectivity", "Connectivity"]

MEASURES = ("correlation", "mi")


@dataclasses.dataclass(frozen=True, eq=False)
class Connectivity(Result):
    """A functional graph over units.

    Attributes
    ----------
    matrix : (n_units, n_units) pairwise correlation or MI (nats); diagonal 0.
    p_value, p_adjusted : (n_units, n_units) raw and corrected p-values (NaN on the diagonal,
        and everywhere when no test was run).
    adjacency : (n_units, n_units) bool, the significant edges.
    degree : (n_units,) int; clustering : (n_units,) clustering coefficient (unweighted).
    community : (n_units,) int community label (modularity maximisation).
    modularity, density, average_clustering : float
    alignment : dict or None
        ``{"adjusted_rand": ..., "nmi": ...}`` between communities and the given populations.
    """

    array_shapes = {name: ("n_units", "n_units")
                    for name in ("matrix", "p_value", "p_adjusted", "adjacency")}
    array_shapes.update({name: ("n_units",) for name in ("degree", "clustering", "community")})

    matrix: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray
    adjacency: np.ndarray
    degree: np.ndarray
    clustering: np.ndarray
    community: np.ndarray
    modularity: float
    density: float
    average_clustering: float
    measure: str
    method: str
    n_shuffles: int
    alpha: float
    alignment: dict | None = None

    @property
    def n_units(self) -> int:
        return self.matrix.shape[0]

    def summary(self) -> str:
        n_edges = int(self.adjacency.sum() // 2)
        lines = [f"Connectivity ({self.measure}{'/' + self.method if self.measure == 'mi' else ''}"
                 f"): {self.n_units} units, {n_edges} edges (density {self.density:.3f}, "
                 f"alpha {self.alpha})",
                 f"  mean degree {self.degree.mean():.2f}, average clustering "
                 f"{self.average_clustering:.3f}",
                 f"  {np.unique(self.community).size} communities, modularity "
                 f"{self.modularity:.3f}"]
        if self.alignment:
            lines.append("  alignment with populations: " + ", ".join(
                f"{k} {v:.3f}" for k, v in self.alignment.items()))
        return "\n".join(lines)

    def to_networkx(self):
        """The graph of significant edges (networkx.Graph), weights = ``matrix`` entries and
        node attribute ``community``."""
        import networkx as nx

        graph = nx.Graph()
        for u in range(self.n_units):
            graph.add_node(u, community=int(self.community[u]))
        rows, cols = np.nonzero(np.triu(self.adjacency, 1))
        graph.add_weighted_edges_from(
            (int(a), int(b), float(self.matrix[a, b])) for a, b in zip(rows, cols))
        return graph

    def plot(self, ax=None, *, cmap="magma"):
        """The matrix with units ordered by community; significant edges outlined."""
        import matplotlib.pyplot as plt

        ax = plt.gca() if ax is None else ax
        order = np.argsort(self.community, kind="stable")
        shown = np.where(self.adjacency, np.abs(self.matrix), np.nan)[np.ix_(order, order)]
        im = ax.imshow(shown, cmap=cmap, interpolation="nearest")
        ax.set_xlabel("unit (by community)")
        ax.set_ylabel("unit (by community)")
        ax.figure.colorbar(im, ax=ax, label="|correlation|" if self.measure == "correlation"
                           else "MI (nats)")
        return ax


def _gauss_stats(act, measure, method):
    """Observed matrix and the standardised columns whose products give it."""
    z = copnorm(act) if (measure == "mi" or method == "spearman") else act
    z = z - z.mean(axis=0)
    z = z / np.linalg.norm(z, axis=0)
    return z


def _from_r(r, n, measure):
    if measure == "correlation":
        return r
    bias = (digamma((n - 2) / 2.0) - digamma((n - 1) / 2.0)) / 2.0
    return -0.5 * np.log1p(-np.clip(r * r, 0.0, 1.0 - 1e-15)) + bias


def _ksg_matrix(pairs, partner, k, variant, prepared):
    vals, order, ranks, psi = prepared
    out = np.empty(pairs.shape[0])
    _ksg.ksg_pairs(vals, order, ranks, pairs, partner, k, variant, psi, out)
    return out


def functional_connectivity(activity, *, measure: str = "correlation", method: str = "gcmi",
                            k: int = 3, n_shuffles: int = 0, shuffle: str = "circular",
                            min_shift: int | None = None, alpha: float = 0.01,
                            correction: str | None = "fdr_bh", threshold: float | None = None,
                            populations=None, community: str = "louvain",
                            jitter: float = 1e-10, rng=None) -> Connectivity:
    """Unit-unit dependency matrix -> graph of significant edges, communities, alignment.

    Parameters
    ----------
    activity : array_like of shape (n_samples, n_units)
    measure : {"correlation", "mi"}
    method : str
        For "correlation": "pearson" or "spearman" (``"gcmi"`` means pearson here); for "mi":
        "gcmi" (Gaussian copula, fast) or "ksg1"/"ksg2" (numba KSG over all pairs).
    n_shuffles : int
        0: analytic p-values (t-test for correlations; the likelihood-ratio chi-square
        ``2 n I ~ chi2(1)`` for GCMI); KSG needs shuffles or a ``threshold``.
    shuffle : {"circular", "permutation"}
        Null model: one unit of each pair shifted in time (keeps autocorrelation) or permuted.
    alpha, correction
        Edge when the corrected p-value (over all pairs) is <= alpha.
    threshold : float, optional
        Also require ``|matrix| >= threshold``.
    populations : array_like of shape (n_units,), optional
        Known labels (e.g. G_+, G_-, G_a, G_s) to compare the communities with.
    community : {"louvain", "greedy"}
        networkx's Louvain (seeded by ``rng``) or greedy modularity maximisation.
    rng : None, int or numpy Generator

    Returns
    -------
    Connectivity
    """
    act = as_float_array("activity", activity, ndim=2)
    n, n_units = act.shape
    check_choice("measure", measure, MEASURES)
    methods = ("pearson", "spearman", "gcmi") if measure == "correlation" else (
        "gcmi", "ksg1", "ksg2")
    check_choice("method", method, methods)
    check_choice("shuffle", shuffle, SHUFFLES)
    check_choice("community", community, ("louvain", "greedy"))
    n_shuffles = check_int("n_shuffles", n_shuffles, minimum=0)
    if not 0 < check_positive("alpha", alpha) <= 1:
        raise ValidationError(f"alpha: expected a level in (0, 1], received {alpha!r}")
    if threshold is not None:
        threshold = check_positive("threshold", threshold, strict=False)
    if correction is not None:
        check_choice("correction", correction, ("holm", "fdr_bh"))
    check_positive("jitter", jitter, strict=False)
    if n_units < 2 or n < 4:
        raise ValidationError(f"activity: expected >= 4 samples of >= 2 units, received shape "
                              f"{act.shape}")
    if populations is not None:
        populations = as_label_array("populations", populations, n=n_units)
    check_memory((8, n_units, 8 * n_units + 2 * n), argument="activity (fewer units)",
                 what="the unit-by-unit matrices")
    const = np.flatnonzero(np.ptp(act, axis=0) == 0)
    if const.size:
        raise ValidationError(f"activity: units {const[:10].tolist()} are constant; drop them "
                              "(their dependence on anything is 0)")
    kernel = measure == "mi" and method != "gcmi"
    if kernel and n_shuffles == 0 and threshold is None:
        raise ValidationError("n_shuffles: KSG connectivity has no analytic null; pass "
                              "n_shuffles > 0 or a threshold")
    gen = as_rng(rng)
    iu = np.triu_indices(n_units, 1)
    if kernel:
        k = check_int("k", k, minimum=1, maximum=n - 1)
        pairs = np.ascontiguousarray(np.stack(iu, axis=1).astype(np.int64))
        vals, order = sort_columns(_jittered(act, float(jitter), gen))
        ranks = np.empty_like(order)
        np.put_along_axis(ranks, order, np.arange(n)[None, :], axis=1)
        prep = (vals, order, ranks, psi_table(n))
        variant = 1 if method == "ksg1" else 2
        values = _ksg_matrix(pairs, np.arange(n), k, variant, prep)
    else:
        z = _gauss_stats(act, measure, method)
        values = _from_r((z.T @ z)[iu], n, measure)
    p = np.full(values.shape, np.nan)
    if n_shuffles:
        idx = shuffle_indices(n, n_shuffles, shuffle=shuffle, min_shift=min_shift, rng=gen)
        exceed = np.zeros(values.shape)
        for row in idx:
            null = (_ksg_matrix(pairs, row, k, variant, prep) if kernel
                    else _from_r((z.T @ z[row])[iu], n, measure))
            exceed += np.abs(null) >= np.abs(values)
        p = (1.0 + exceed) / (1.0 + n_shuffles)
    elif not kernel:
        r = np.clip((z.T @ z)[iu], -1 + 1e-15, 1 - 1e-15)
        if measure == "correlation":
            t = r * np.sqrt((n - 2) / (1 - r * r))
            p = 2 * stats.t.sf(np.abs(t), n - 2)
        else:
            p = stats.chi2.sf(-n * np.log1p(-r * r), 1)
    return _assemble(values, p, iu, n_units, measure, method, n_shuffles, alpha, correction,
                     threshold, populations, community, gen)


def _assemble(values, p, iu, n_units, measure, method, n_shuffles, alpha, correction,
              threshold, populations, community, gen):
    import networkx as nx

    p_adj = adjust(p, correction) if not np.all(np.isnan(p)) else p.copy()
    edge = np.ones(values.shape, bool) if np.all(np.isnan(p)) else (
        np.nan_to_num(p_adj, nan=1.0) <= alpha)
    if threshold is not None:
        edge &= np.abs(values) >= threshold

    def square(v, fill):
        m = np.full((n_units, n_units), fill, dtype=np.asarray(v).dtype)
        m[iu] = v
        m[iu[::-1]] = v
        return m

    matrix = square(values, 0.0)
    adjacency = square(edge, False)
    res = Connectivity(
        matrix=matrix, p_value=square(p, np.nan), p_adjusted=square(p_adj, np.nan),
        adjacency=adjacency, degree=np.zeros(n_units, np.int64), clustering=np.zeros(n_units),
        community=np.zeros(n_units, np.int64), modularity=0.0, density=0.0,
        average_clustering=0.0, measure=measure, method=method, n_shuffles=n_shuffles,
        alpha=float(alpha))
    graph = res.to_networkx()
    for u, v in graph.edges:
        graph[u][v]["weight"] = abs(graph[u][v]["weight"])
    if community == "louvain":
        comms = nx.community.louvain_communities(graph, weight="weight",
                                                 seed=int(gen.integers(2**31)))
    else:
        comms = nx.community.greedy_modularity_communities(graph, weight="weight")
    labels = np.zeros(n_units, np.int64)
    for c, members in enumerate(sorted(comms, key=lambda s: (-len(s), min(s)))):
        labels[list(members)] = c
    clust = nx.clustering(graph)
    modularity = (nx.community.modularity(graph, comms, weight="weight")
                  if graph.number_of_edges() else 0.0)
    alignment = None
    if populations is not None:
        alignment = _alignment(populations, labels)
    return dataclasses.replace(
        res, degree=adjacency.sum(axis=1).astype(np.int64),
        clustering=np.array([clust[u] for u in range(n_units)]), community=labels,
        modularity=float(modularity), density=float(nx.density(graph)),
        average_clustering=float(np.mean([clust[u] for u in range(n_units)])),
        alignment=alignment)


def _alignment(populations, labels):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    pops = populations
    return {"adjusted_rand": float(adjusted_rand_score(pops, labels)),
            "nmi": float(normalized_mutual_info_score(pops, labels))}
