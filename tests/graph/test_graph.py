"""Knowledge graph, PageRank and HITS: hand-computed cases, properties, errors, the shipped KG."""

import csv

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tinymed.graph import (
    MEDICAL_KG_CSV,
    KnowledgeGraph,
    PowerIterationFailedConvergence,
    ZeroSumError,
    google_matrix,
    hits,
    load_medical_kg,
    pagerank,
)


def kg_of(edges, directed=True):
    return KnowledgeGraph.from_edges(edges, directed=directed)


# ----- the graph type ----------------------------------------------------------------------------
def test_typed_nodes_and_edges():
    kg = KnowledgeGraph.from_edges(
        [("imatinib", "BCR-ABL1", "targets"), ("BCR-ABL1", "CML", "associated_with"),
         {"head": "imatinib", "tail": "CML", "relation": "treats", "source": "FDA label"}],
        node_types={"imatinib": "drug", "BCR-ABL1": "gene", "CML": "disease"})
    assert kg.nodes() == ["imatinib", "BCR-ABL1", "CML"] and kg.nodes(type="gene") == ["BCR-ABL1"]
    assert kg.successors("imatinib") == ["BCR-ABL1", "CML"] and kg.predecessors("CML") == ["BCR-ABL1", "imatinib"]
    assert kg.relations() == {"targets": 1, "associated_with": 1, "treats": 1}
    assert kg.edges(relation="treats", data=True)[0][2]["source"] == "FDA label"
    assert kg.node_types() == {"drug": 1, "gene": 1, "disease": 1}
    undirected = kg.to_undirected()
    assert undirected.successors("CML") == ["BCR-ABL1", "imatinib"] and "CML" in undirected
    with pytest.raises(ValueError, match="already has type 'drug'"):
        kg.add_node("imatinib", "gene")
    with pytest.raises(KeyError, match="'aspirin' is not in the graph"):
        kg.successors("aspirin")
    with pytest.raises(ValueError, match="weight must be >= 0"):
        kg.add_edge("a", "b", weight=-1)
    with pytest.raises(ValueError, match=r"must be \(head, tail"):
        KnowledgeGraph.from_edges([("a",)])


def test_adjacency_sums_parallel_edges_and_mirrors_undirected():
    kg = kg_of([("a", "b", "r", 2.0), ("a", "b", "s", 1.0), ("b", "b", "loop", 5.0)])
    np.testing.assert_array_equal(kg.adjacency().toarray(), [[0, 3], [0, 5]])
    np.testing.assert_array_equal(kg.adjacency(weight=None).toarray(), [[0, 2], [0, 1]])
    np.testing.assert_array_equal(kg.to_undirected().adjacency().toarray(), [[0, 3], [3, 5]])


def test_networkx_round_trip():
    nx = pytest.importorskip("networkx", reason="networkx is not installed")
    kg = load_medical_kg()
    G = kg.to_networkx()
    assert G.number_of_nodes() == len(kg) and G.number_of_edges() == kg.number_of_edges()
    assert G.nodes["metformin"]["type"] == "drug"
    back = KnowledgeGraph.from_networkx(G)
    def key(edge):  # networkx lists the edges node by node, not in the order they were added
        return edge[0], edge[1], sorted(edge[2].items())

    assert back.nodes() == kg.nodes()
    assert sorted(map(key, back.edges(data=True))) == sorted(map(key, kg.edges(data=True)))
    H = nx.Graph([(1, 2)])
    assert KnowledgeGraph.from_networkx(H).is_directed() is False


# ----- PageRank ------------------------------------------------------------------------------------
def test_pagerank_hand_computed():
    # a -> b, b -> a, b -> c (c dangling). Stationary equations with alpha = 1/2 solved by hand:
    # x = alpha (x P + x_c p) + (1 - alpha) p, p uniform
    kg = kg_of([("a", "b"), ("b", "a"), ("b", "c")])
    alpha = 0.5
    P = np.array([[0, 1, 0], [0.5, 0, 0.5], [0, 0, 0]])
    d = np.array([0, 0, 1.0])
    M = alpha * (P + np.outer(d, np.full(3, 1 / 3))) + (1 - alpha) * np.full((3, 3), 1 / 3)
    vals, vecs = np.linalg.eig(M.T)
    x = np.real(vecs[:, np.argmax(np.real(vals))])
    x /= x.sum()
    pr = pagerank(kg, alpha=alpha, tol=1e-14)
    np.testing.assert_allclose([pr["a"], pr["b"], pr["c"]], x, rtol=1e-10)


def test_pagerank_of_a_cycle_is_uniform_and_personalization_is_respected():
    cycle = kg_of([("a", "b"), ("b", "c"), ("c", "a")])
    assert pagerank(cycle) == pytest.approx({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    # a chain a -> b -> c with c dangling: restarting only at a, the mass leaks a->b->c->a
    chain = kg_of([("a", "b"), ("b", "c"), ("x", "y")])
    pr = pagerank(chain, personalization={"a": 1}, tol=1e-12, max_iter=500)
    assert pr["x"] == 0.0 and pr["y"] == 0.0  # never reached from a
    assert pr["a"] > pr["b"] > pr["c"] > 0
    alpha0 = pagerank(chain, alpha=0.0, personalization={"a": 3, "b": 1})
    assert alpha0 == pytest.approx({"a": 0.75, "b": 0.25, "c": 0.0, "x": 0.0, "y": 0.0})


@st.composite
def random_graphs(draw):
    n = draw(st.integers(1, 8))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1),
                                    st.floats(0.1, 5.0)), max_size=20))
    kg = KnowledgeGraph(directed=draw(st.booleans()))
    for node in range(n):
        kg.add_node(node)
    for u, v, w in edges:
        kg.add_edge(u, v, "r", w)
    return kg


@given(kg=random_graphs(), alpha=st.floats(0.0, 0.95), target=st.integers(0, 7))
def test_pagerank_is_a_distribution_and_restarts_where_personalised(kg, alpha, target):
    pr = pagerank(kg, alpha=alpha, tol=1e-10, max_iter=1000)
    assert list(pr) == kg.nodes()
    assert sum(pr.values()) == pytest.approx(1.0, abs=1e-9) and min(pr.values()) >= 0
    target = target % len(kg)
    ppr = pagerank(kg, alpha=alpha, personalization={target: 1.0}, tol=1e-10, max_iter=1000)
    assert sum(ppr.values()) == pytest.approx(1.0, abs=1e-9)
    # at least the restart mass (1 - alpha) sits on the personalised node
    assert ppr[target] >= (1 - alpha) - 1e-9
    # nodes that cannot be reached from the target get nothing (up to what the iteration has
    # not yet drained from the uniform start)
    reach, frontier = {target}, [target]
    while frontier:
        for nxt in kg.successors(frontier.pop()):
            if nxt not in reach:
                reach.add(nxt)
                frontier.append(nxt)
    assert all(ppr[n] < 1e-8 for n in kg.nodes() if n not in reach)


def test_pagerank_errors():
    kg = kg_of([("a", "b"), ("b", "c")])
    with pytest.raises(ValueError, match=r"personalization names node\(s\) not in the graph: \['z'\]"):
        pagerank(kg, personalization={"z": 1})
    with pytest.raises(ValueError, match="sum is 0"):
        pagerank(kg, personalization={"a": 0})
    with pytest.raises(ValueError, match="finite and >= 0"):
        pagerank(kg, nstart={"a": -1, "b": 2})
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        pagerank(kg, alpha=1.5)
    with pytest.raises(PowerIterationFailedConvergence, match="within 2 iterations") as info:
        pagerank(kg, max_iter=2)
    assert info.value.num_iterations == 2
    with pytest.raises(TypeError, match="KnowledgeGraph or a networkx graph"):
        pagerank({"a": ["b"]})
    assert pagerank(KnowledgeGraph()) == {} and hits(KnowledgeGraph()) == ({}, {})
    for name in ("personalization", "nstart", "dangling"):  # networkx's ZeroDivisionError, a ValueError here
        for kind in (ValueError, ZeroDivisionError, ZeroSumError):
            with pytest.raises(kind, match=f"{name} must give some node a positive value"):
                pagerank(kg, **{name: {"a": 0.0}})


# ----- the Google matrix and zero-weight edges -----------------------------------------------------
def test_google_matrix_by_hand_and_its_eigenvector_is_pagerank():
    # a -> b, a -> c (weights 1 and 3), b -> a, c dangling
    kg = kg_of([("a", "b", "r", 1.0), ("a", "c", "r", 3.0), ("b", "a")])
    M = google_matrix(kg, alpha=0.8)
    walk = np.array([[0, 0.25, 0.75], [1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(M, 0.8 * walk + 0.2 / 3, rtol=1e-15)
    np.testing.assert_allclose(M.sum(axis=1), 1.0)
    values, vectors = np.linalg.eig(M.T)
    x = np.real(vectors[:, np.argmax(np.real(values))])
    scores = pagerank(kg, alpha=0.8, tol=1e-14, max_iter=1000)
    np.testing.assert_allclose(x / x.sum(), [scores[n] for n in "abc"], rtol=1e-10)
    ordered = google_matrix(kg, alpha=0.8, nodelist=["c", "a", "b"])
    np.testing.assert_allclose(ordered, M[np.ix_([2, 0, 1], [2, 0, 1])])
    assert google_matrix(KnowledgeGraph()).shape == (0, 0)
    with pytest.raises(ValueError, match="nodelist must list distinct nodes"):
        google_matrix(kg, nodelist=["a", "a"])


def test_a_node_whose_edges_weigh_nothing_is_dangling():
    # b's only edge weighs 0: the walker leaves b as from a node without edges
    zero = kg_of([("a", "b"), ("b", "c", "r", 0.0), ("c", "a")])
    none = KnowledgeGraph.from_edges([("a", "b"), ("c", "a")])
    none.add_node("b")
    scores = pagerank(zero)
    assert all(np.isfinite(list(scores.values()))) and sum(scores.values()) == pytest.approx(1.0)
    assert scores == pytest.approx(pagerank(none))
    np.testing.assert_allclose(google_matrix(zero)[1], 1 / 3)


def test_hits_weight_argument():
    kg = kg_of([("a", "b", "r", 5.0), ("a", "c"), ("d", "c")])
    weighted, _ = hits(kg, tol=1e-12, max_iter=1000)
    unweighted, _ = hits(kg, tol=1e-12, max_iter=1000, weight=None)
    assert weighted["a"] > unweighted["a"]
    renamed = kg_of([{"head": "a", "tail": "b", "strength": 5.0}, ("a", "c"), ("d", "c")])
    assert hits(renamed, tol=1e-12, max_iter=1000, weight="strength")[0] == pytest.approx(weighted)


# ----- HITS ------------------------------------------------------------------------------------------
def test_hits_of_a_star_and_a_bipartite_graph():
    # two drugs pointing at one disease: the drugs are the hubs, the disease the authority
    star = kg_of([("d1", "x"), ("d2", "x")])
    h, a = hits(star)
    assert h == pytest.approx({"d1": 0.5, "d2": 0.5, "x": 0.0}) and a == pytest.approx({"d1": 0, "d2": 0, "x": 1})
    # d1 -> x, d1 -> y, d2 -> x: A^T A has leading eigenvector (phi, 1) over (x, y)
    kg = kg_of([("d1", "x"), ("d1", "y"), ("d2", "x")])
    h, a = hits(kg, tol=1e-14, max_iter=500)
    phi = (1 + np.sqrt(5)) / 2
    assert a["x"] / a["y"] == pytest.approx(phi, rel=1e-10)
    assert h["d1"] / h["d2"] == pytest.approx(phi, rel=1e-10)
    assert sum(h.values()) == pytest.approx(1) and sum(a.values()) == pytest.approx(1)
    h_raw, a_raw = hits(kg, tol=1e-14, max_iter=500, normalized=False)
    assert max(h_raw.values()) == pytest.approx(1) and max(a_raw.values()) == pytest.approx(1)


@given(kg=random_graphs())
def test_hits_scores_are_distributions_that_solve_the_hits_equations(kg):
    A = kg.adjacency().toarray()
    if not (A > 0).any():
        with pytest.raises(ValueError, match="no edge of positive weight"):
            hits(kg)
        return
    try:
        h, a = hits(kg, max_iter=5000)
    except PowerIterationFailedConvergence:
        assume(False)  # two nearly equal leading singular values: too slow, not wrong
    assert sum(h.values()) == pytest.approx(1) and sum(a.values()) == pytest.approx(1)
    assert min(h.values()) >= 0 and min(a.values()) >= 0
    # a node without out-edges is no hub; one without in-edges no authority
    assert all(h[n] == 0 for n in kg.nodes() if not kg.successors(n))
    assert all(a[n] == 0 for n in kg.nodes() if not kg.predecessors(n))
    # h is proportional to A a, and both are leading singular vectors: A A^T h = sigma_1^2 h
    hv, av = np.array([h[n] for n in kg.nodes()]), np.array([a[n] for n in kg.nodes()])
    sigma = np.linalg.svd(A, compute_uv=False)
    Aa = A @ av
    np.testing.assert_allclose(hv, Aa / Aa.sum(), atol=1e-12)
    np.testing.assert_allclose(A @ (A.T @ hv), sigma[0] ** 2 * hv, atol=1e-6 * sigma[0] ** 2)
    np.testing.assert_allclose(A.T @ (A @ av), sigma[0] ** 2 * av, atol=1e-6 * sigma[0] ** 2)
    # undirected: A = A^T, so hubs equal authorities -- if sigma_1 is simple (else see below)
    if not kg.is_directed() and (len(sigma) == 1 or (sigma[1] / sigma[0]) ** 2 < 0.9):
        assert h == pytest.approx(a, abs=1e-6)


def test_hits_is_not_unique_when_the_top_singular_value_repeats():
    # undirected star 1 - 0 - 2: A has eigenvalues +-sqrt(2), so sigma_1 = sqrt(2) twice and
    # every vector of span{e_0, e_1 + e_2} is a hub vector. The power iteration returns the
    # part of its start that lies there. From the uniform start, by hand:
    # a = A^T h0 ~ (2, 1, 1), h = A a ~ (2, 2, 2), and the next step repeats it.
    star = kg_of([(0, 1), (0, 2)], directed=False)
    h, a = hits(star)
    assert h == pytest.approx({0: 1 / 3, 1: 1 / 3, 2: 1 / 3}) and a == pytest.approx({0: 0.5, 1: 0.25, 2: 0.25})
    # from node 1: a = A^T e_1 = e_0, h = A e_0 = e_1 + e_2, a = A^T h ~ e_0 again
    h1, a1 = hits(star, nstart={1: 1.0})
    assert h1 == pytest.approx({0: 0, 1: 0.5, 2: 0.5}) and a1 == pytest.approx({0: 1, 1: 0, 2: 0})
    # the graph is undirected, yet neither answer has hubs equal to authorities: both are right
    A = star.adjacency().toarray()
    for hubs, auths in ((h, a), (h1, a1)):
        hv, av = np.array(list(hubs.values())), np.array(list(auths.values()))
        np.testing.assert_allclose(A @ (A.T @ hv), 2 * hv, atol=1e-12)
        np.testing.assert_allclose(A.T @ (A @ av), 2 * av, atol=1e-12)


def test_hits_errors():
    with pytest.raises(ValueError, match="no edge of positive weight"):
        hits(kg_of([("a", "b", "r", 0.0)]))
    with pytest.raises(PowerIterationFailedConvergence, match="hits: power iteration failed"):
        hits(load_medical_kg(), max_iter=5)
    with pytest.raises(ValueError, match="nstart gives weight only to nodes without out-edges"):
        hits(kg_of([("a", "b")]), nstart={"b": 1})


# ----- the shipped graph -----------------------------------------------------------------------------
def test_medical_kg_is_sourced_and_typed():
    with open(MEDICAL_KG_CSV, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) > 100 and all(r["source"].strip() for r in rows)
    kinds = {("drug", "treats", "disease"), ("drug", "targets", "gene"), ("gene", "associated_with", "disease")}
    assert {(r["head_type"], r["relation"], r["tail_type"]) for r in rows} == kinds
    assert len({(r["head"], r["relation"], r["tail"]) for r in rows}) == len(rows)  # no repeats
    kg = load_medical_kg()
    assert ("metformin", "type 2 diabetes") in kg.edges(relation="treats")
    assert ("imatinib", "BCR-ABL1") in kg.edges(relation="targets")
    assert ("BCR-ABL1", "chronic myeloid leukemia") in kg.edges(relation="associated_with")
    assert {"PTGS1", "PTGS2"} <= set(kg.successors("aspirin"))
    assert kg.node_types() == {"drug": 39, "disease": 26, "gene": 42}


def test_personalised_pagerank_recovers_a_held_out_indication():
    kg = load_medical_kg().to_undirected()
    held_out = KnowledgeGraph(directed=False)
    for node in kg.nodes():
        held_out.add_node(node, kg.node_type(node))
    for u, v, data in kg.edges(data=True):
        if {u, v} != {"semaglutide", "obesity"}:
            held_out.add_edge(u, v, data["relation"], data["weight"])
    ppr = pagerank(held_out, personalization={"obesity": 1.0})
    known = set(held_out.successors("obesity"))
    candidates = sorted((n for n in held_out.nodes("drug") if n not in known), key=lambda n: -ppr[n])
    assert candidates[0] == "semaglutide"  # shares GLP1R with liraglutide, which treats obesity
