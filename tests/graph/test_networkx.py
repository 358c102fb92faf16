"""Cross-checks of pagerank and hits against networkx, skipped when it is not installed."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinymed.graph import (
    KnowledgeGraph,
    PowerIterationFailedConvergence,
    google_matrix,
    hits,
    load_medical_kg,
    pagerank,
)

nx = pytest.importorskip("networkx", reason="networkx is not installed")


@st.composite
def nx_graphs(draw):
    kind = draw(st.sampled_from([nx.DiGraph, nx.Graph, nx.MultiDiGraph]))
    n = draw(st.integers(1, 9))
    G = kind()
    G.add_nodes_from(range(n))
    for u, v, w in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                           st.floats(0.1, 4.0)), max_size=25)):
        G.add_edge(u, v, weight=w)
    return G


def assert_same(ours, theirs, tol):
    assert list(ours) == list(theirs)
    np.testing.assert_allclose([ours[n] for n in ours], [theirs[n] for n in ours], rtol=0, atol=tol)


@given(G=nx_graphs(), alpha=st.floats(0.05, 0.95), weighted=st.booleans(), seed=st.integers(0, 2**31))
def test_pagerank_matches_networkx(G, alpha, weighted, seed):
    rng = np.random.default_rng(seed)
    nodes = list(G)
    personalization = {n: float(rng.random()) for n in nodes[: max(1, len(nodes) // 2)]}
    dangling = {n: float(rng.random()) + 0.1 for n in nodes[-2:]}
    weight = "weight" if weighted else None
    for kwargs in ({}, {"personalization": personalization}, {"dangling": dangling},
                   {"nstart": {n: 1.0 + k for k, n in enumerate(nodes)}}):
        try:
            theirs = nx.pagerank(G, alpha=alpha, weight=weight, max_iter=1000, **kwargs)
        except nx.PowerIterationFailedConvergence:
            with pytest.raises(PowerIterationFailedConvergence):
                pagerank(G, alpha=alpha, weight=weight, max_iter=1000, **kwargs)
            continue
        # the same iteration stopped by the same rule: equal to rounding
        assert_same(pagerank(G, alpha=alpha, weight=weight, max_iter=1000, **kwargs), theirs, 1e-12)
        kg = KnowledgeGraph.from_networkx(G)
        assert_same(pagerank(kg, alpha=alpha, weight=weight, max_iter=1000, **kwargs), theirs, 1e-12)


def test_pagerank_default_arguments_match_networkx_on_the_medical_graph():
    kg = load_medical_kg()
    G = kg.to_networkx()
    assert_same(pagerank(kg), nx.pagerank(G), 1e-13)
    ppr = pagerank(kg.to_undirected(), personalization={"type 2 diabetes": 1})
    assert_same(ppr, nx.pagerank(nx.MultiGraph(G), personalization={"type 2 diabetes": 1}), 1e-13)


def test_hits_matches_networkx_on_the_medical_graph():
    kg = load_medical_kg()
    G = nx.DiGraph(kg.to_networkx())  # no parallel edges in the shipped graph
    # the two leading singular values are close (3.79, 3.52): the power iteration needs
    # more than the default 100 iterations, ARPACK (networkx) does not
    h, a = hits(kg, max_iter=1000, tol=1e-12)
    h_nx, a_nx = nx.hits(G, tol=1e-12)
    assert_same(h, h_nx, 1e-9)
    assert_same(a, a_nx, 1e-9)
    h_raw, _ = hits(kg, max_iter=1000, tol=1e-12, normalized=False)
    assert max(h_raw.values()) == pytest.approx(1.0)


def test_hits_matches_networkx_on_a_graph_with_a_clear_leader():
    rng = np.random.default_rng(4)
    G = nx.gnp_random_graph(30, 0.15, seed=4, directed=True)
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.random()) + 0.5
    h, a = hits(G, tol=1e-12, max_iter=2000)
    h_nx, a_nx = nx.hits(G, tol=1e-12)
    assert_same(h, h_nx, 1e-8)
    assert_same(a, a_nx, 1e-8)


@given(G=nx_graphs())
def test_hits_matches_networkx_where_the_answer_is_unique(G):
    A = nx.to_numpy_array(G)
    sigma = np.linalg.svd(A, compute_uv=False)
    # networkx (ARPACK) needs two nodes; the answer is unique only for a simple sigma_1, and
    # the power iteration reaches 1e-8 in reasonable time only with a clear gap
    if len(G) < 2 or sigma[0] == 0 or (sigma[1] / sigma[0]) ** 2 > 0.8:
        return
    h, a = hits(G, tol=1e-13, max_iter=5000)
    h_nx, a_nx = nx.hits(G, tol=1e-13)
    assert_same(h, h_nx, 1e-8)
    assert_same(a, a_nx, 1e-8)


@given(G=nx_graphs(), alpha=st.floats(0.05, 0.95), weighted=st.booleans())
def test_google_matrix_matches_networkx(G, alpha, weighted):
    weight = "weight" if weighted else None
    nodes = list(G)
    personalization = {n: float(k + 1) for k, n in enumerate(nodes[::2])}
    for kwargs in ({}, {"personalization": personalization}, {"dangling": personalization},
                   {"nodelist": nodes[::-1]}):
        np.testing.assert_allclose(google_matrix(G, alpha=alpha, weight=weight, **kwargs),
                                   nx.google_matrix(G, alpha=alpha, weight=weight, **kwargs), rtol=1e-12, atol=1e-15)


def test_zero_weight_edges_give_networkx_scores():
    G = nx.DiGraph()
    G.add_weighted_edges_from([("a", "b", 0.0), ("b", "a", 1.0), ("b", "c", 2.0), ("c", "a", 1.0), ("d", "c", 0.0)])
    assert_same(pagerank(G), nx.pagerank(G), 1e-12)
    np.testing.assert_allclose(google_matrix(G), nx.google_matrix(G), rtol=1e-12)


def test_networkx_users_except_clauses_catch_tinymeds_errors():
    G = nx.path_graph(30)
    with pytest.raises(nx.PowerIterationFailedConvergence) as info:
        pagerank(G, max_iter=1)
    assert isinstance(info.value, PowerIterationFailedConvergence) and info.value.num_iterations == 1
    with pytest.raises(nx.PowerIterationFailedConvergence):
        hits(G, max_iter=1)
    for function in (pagerank, google_matrix):
        with pytest.raises(ZeroDivisionError, match="personalization must give some node a positive value"):
            function(G, personalization={0: 0.0})


def test_hits_weights_match_networkx():
    rng = np.random.default_rng(7)
    G = nx.gnp_random_graph(25, 0.2, seed=7, directed=True)
    for u, v in G.edges:
        G[u][v]["strength"] = float(rng.random()) + 0.5
    plain = nx.DiGraph()
    plain.add_nodes_from(G)  # the same node order
    plain.add_edges_from(G.edges())
    h, a = hits(G, tol=1e-12, max_iter=2000, weight=None)
    h_nx, a_nx = nx.hits(plain, tol=1e-12)
    assert_same(h, h_nx, 1e-8)
    assert_same(a, a_nx, 1e-8)
    renamed = nx.DiGraph()
    renamed.add_nodes_from(G)
    renamed.add_weighted_edges_from((u, v, d["strength"]) for u, v, d in G.edges(data=True))
    h, a = hits(G, tol=1e-12, max_iter=2000, weight="strength")
    h_nx, a_nx = nx.hits(renamed, tol=1e-12)
    assert_same(h, h_nx, 1e-8)
    assert_same(a, a_nx, 1e-8)
