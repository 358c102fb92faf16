"""Exercise on PageRank by power iteration on a weighted graph (F18)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ... import graph
from ..exercise import EdgeCase, Exercise, Mistake, Task
from ..strategies import floats, sizes

TOL, MAX_ITER = 1e-10, 1000


def pagerank(A, alpha, tol, max_iter):
    G = graph.KnowledgeGraph()
    for node in range(len(A)):
        G.add_node(node)
    for u, v in zip(*np.nonzero(A)):
        G.add_edge(int(u), int(v), weight=A[u, v])
    scores = graph.pagerank(G, alpha=alpha, tol=tol, max_iter=max_iter)
    return np.array([scores[node] for node in range(len(A))])


def _cases():
    weights = st.sampled_from([0.0, 0.0, 1.0, 2.0])
    return sizes(1, 4).flatmap(lambda n: st.tuples(hnp.arrays(np.float64, (n, n), elements=weights), floats(0.5, 0.95),
                                                   st.just(TOL), st.just(MAX_ITER)))


_A = np.array([[0, 1, 1, 0, 0], [0, 0, 1, 0, 0], [1, 0, 0, 0, 2], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]], dtype=float)


def _iterate(A, alpha, tol, max_iter, dangling=True, by_column=False, teleport=True, steps=None, swapped=False):
    """The power iteration with one of its parts done wrong (the known mistakes)."""
    n = len(A)
    sums = A.sum(axis=0 if by_column else 1)
    P = np.divide(A, sums[None, :] if by_column else sums[:, None], out=np.zeros_like(A),
                  where=(sums[None, :] if by_column else sums[:, None]) > 0)
    follow, jump = (1 - alpha, alpha) if swapped else (alpha, 1 - alpha)
    x = np.full(n, 1.0 / n)
    for _ in range(steps or max_iter):
        lost = x[sums == 0].sum() if dangling and not by_column else 0.0
        x_next = follow * (x @ P + lost / n) + (jump / n if teleport else 0.0)
        done = np.abs(x_next - x).sum() < n * tol
        x = x_next
        if done:
            break
    return x


def _wrong(**how):
    return lambda A, alpha, tol, max_iter: _iterate(A, alpha, tol, max_iter, **how)


PAGERANK = Exercise(
    name="pagerank",
    title="PageRank by power iteration (F18)",
    lesson="lesson 12, Knowledge graphs: ranking drug candidates with PageRank and HITS (tinymed lesson 12)",
    formula=r"x^{(t+1)} = \alpha \Big(x^{(t)} P + \big(\textstyle\sum_{j \text{ dangling}} x^{(t)}_j\big) "
            r"\tfrac{1}{N}\mathbf 1\Big) + \frac{1 - \alpha}{N} \mathbf 1, \qquad "
            r"P_{ij} = \frac{A_{ij}}{\sum_k A_{ik}}",
    intro="A random walker on the graph follows a weighted edge with probability alpha and otherwise jumps to any "
          "node; from a node with no out-edge (dangling) it always jumps. PageRank is where it spends its time: "
          "start from the uniform distribution and repeat the step until it stops changing.",
    source="tinymed/graph/ranking.py (pagerank, networkx's arguments)",
    tasks=(Task(
        name="pagerank", params=("A", "alpha", "tol", "max_iter"), outputs=("scores",),
        doc=r"""The PageRank of every node of the graph with weighted adjacency ``A``.

    A (N, N): ``A[i, j]`` >= 0 the weight of the edge i -> j; alpha: the probability of following an edge;
    stop when :math:`\sum_i |x^{(t+1)}_i - x^{(t)}_i| < N \cdot` tol, or after max_iter steps (networkx's
    rule). Returns the scores (N,), which sum to 1.""",
        reference=pagerank, cases=_cases, examples=lambda: [(_A, 0.85, TOL, MAX_ITER)],
        edge_cases=(
            EdgeCase("a dangling node (no out-edge) spreads its score over every node",
                     lambda: (np.array([[0, 1.0], [0, 0]]), 0.85, TOL, MAX_ITER)),
            EdgeCase("no edges at all: every node scores 1/N", lambda: (np.zeros((3, 3)), 0.85, TOL, MAX_ITER)),
            EdgeCase("a self-loop", lambda: (np.array([[1.0, 1.0, 0], [0, 0, 1], [1, 0, 0]]), 0.85, TOL, MAX_ITER)),
            EdgeCase("a single node", lambda: (np.zeros((1, 1)), 0.85, TOL, MAX_ITER)),
        ),
        mistakes=(Mistake("dangling_ignored", "the score of dangling nodes (no out-edge) is lost: spread it over "
                                              "every node, alpha * sum(x[dangling]) / N each", _wrong(dangling=False)),
                  Mistake("columns_normalised", "P is normalised by columns: a walker leaves node i along row i, so "
                                                "divide each row of A by its sum", _wrong(by_column=True)),
                  Mistake("teleport_missing", "the jump term (1 - alpha) / N is missing", _wrong(teleport=False)),
                  Mistake("one_step", "a single step: repeat until the change is below N * tol", _wrong(steps=1)),
                  Mistake("alpha_swapped", "alpha and 1 - alpha are swapped: alpha is the probability of following "
                                           "an edge", _wrong(swapped=True))),
    ),),
)
