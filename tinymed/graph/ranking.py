r"""Link analysis on a knowledge graph (article 004 §2-3, F18): PageRank and HITS.

Both take a :class:`~tinymed.graph.KnowledgeGraph` or a networkx graph, use networkx's
argument names, defaults and return values (dicts node -> score), and iterate on the
sparse adjacency matrix :math:`A` (:class:`~tinymed.sparse.CSRMatrix`), never a
dense one. An undirected edge counts in both directions; parallel edges add up.

**PageRank.** Row-normalise :math:`A` to the transition matrix :math:`P` of a random
walker, :math:`P_{ij} = A_{ij} / \sum_k A_{ik}`. With probability :math:`\alpha` the walker
follows an edge; otherwise (and always from a *dangling* node, whose out-edges weigh 0 in
all -- none at all, or only edges of weight 0 -- which sends it to the ``dangling``
distribution, by default :math:`p`) it jumps to a node drawn from the *personalization*
vector :math:`p` (uniform by default):

.. math::
    x^{(t+1)} = \alpha \left(x^{(t)} P + \Big(\sum_{j\ \mathrm{dangling}} x^{(t)}_j\Big) d\right) + (1 - \alpha)\, p

starting from ``nstart`` (uniform by default), until :math:`\|x^{(t+1)} - x^{(t)}\|_1 < N\cdot\mathrm{tol}`.
A personalization vector concentrated on one disease gives *personalised PageRank*:
how reachable every drug and gene is from that disease.

The same walk as one matrix is the *Google matrix* (:func:`google_matrix`, dense: a teaching
object for small graphs), :math:`G = \alpha \hat P + (1 - \alpha)\, \mathbf 1 p^\top`, where
:math:`\hat P` is :math:`P` with every dangling row replaced by :math:`d^\top`. It is
row-stochastic, and PageRank is its dominant left eigenvector, :math:`x^\top G = x^\top`,
scaled to sum to 1: the iteration above is the power method on :math:`G^\top`, never forming it.

**HITS.** A good *hub* points to good *authorities*, and a good authority is pointed to
by good hubs: :math:`a = A^\top h`, :math:`h = A a`, each rescaled so its largest entry is
1, until the hub vector changes by less than ``tol`` in L1 (the rule of networkx's
reference implementation; networkx's ``hits`` asks ARPACK for the same leading singular
vectors of :math:`A`). With ``normalized=True`` both are finally scaled to sum to 1.

Hubs and authorities are unique only when the largest singular value :math:`\sigma_1` of
:math:`A` is simple. When it is repeated -- every undirected bipartite graph (a star, a
tree, a drug-disease graph without drug-drug edges) has :math:`A` with eigenvalues
:math:`\pm\sigma_1`, and two separate components can tie -- every vector of that singular
subspace solves the equations. The power iteration then returns the part of its start
vector (``nstart``, uniform by default) that lies in the subspace, deterministically;
ARPACK returns some other vector of it, so tinymed and ``networkx.hits`` may both be right
and still differ. On an undirected graph :math:`A = A^\top`, and hubs are sure to equal
authorities only when :math:`\sigma_1` is simple.

Unlike networkx, a key of ``personalization``, ``nstart`` or ``dangling`` that is not a
node of the graph is an error rather than silently ignored, and so are negative weights.

Errors a networkx user's ``except`` clauses expect: a power iteration that does not converge
raises :class:`PowerIterationFailedConvergence`, which, where networkx is installed, is also
``networkx.PowerIterationFailedConvergence`` (networkx is imported then, and only then); a
personalization, ``nstart`` or ``dangling`` vector summing to 0 raises :class:`ZeroSumError`,
a ``ValueError`` that is also the ``ZeroDivisionError`` networkx raises.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util

import numpy as np

from ..sparse import CSRMatrix
from .kg import KnowledgeGraph


class PowerIterationFailedConvergence(RuntimeError):
    """The power iteration did not converge within ``max_iter`` iterations (as in networkx)."""

    def __init__(self, num_iterations, message):
        self.num_iterations = num_iterations
        super().__init__(message)


class ZeroSumError(ValueError, ZeroDivisionError):
    """A distribution given as a dict (personalization, nstart, dangling) sums to 0."""


@functools.cache
def _also_networkx(networkx_class):
    """tinymed's error, made a subclass of networkx's too."""
    return type("PowerIterationFailedConvergence", (PowerIterationFailedConvergence, networkx_class),
                {"__module__": __name__, "__doc__": PowerIterationFailedConvergence.__doc__})


def failed_convergence(num_iterations, message):
    """The :class:`PowerIterationFailedConvergence` to raise: also networkx's where networkx is installed."""
    if importlib.util.find_spec("networkx") is None:
        return PowerIterationFailedConvergence(num_iterations, message)
    networkx = importlib.import_module("networkx")
    return _also_networkx(networkx.PowerIterationFailedConvergence)(num_iterations, message)


def graph_adjacency(G, weight="weight"):
    """``(nodelist, A)``: the nodes in the graph's order and the sparse weighted adjacency."""
    if isinstance(G, KnowledgeGraph):
        nodelist = G.nodes()
        A = G.adjacency(weight=weight, nodelist=nodelist)
    elif hasattr(G, "edges") and hasattr(G, "is_directed") and hasattr(G, "nodes"):  # networkx
        nodelist = list(G)
        index = {n: k for k, n in enumerate(nodelist)}
        m = G.number_of_edges()
        rows, cols, vals = np.empty(m, np.int64), np.empty(m, np.int64), np.ones(m)
        # one pass over the edges into preallocated arrays: the Python loop is the cost here
        if weight is None:
            for k, (u, v) in enumerate(G.edges()):
                rows[k], cols[k] = index[u], index[v]
        else:
            for k, (u, v, w) in enumerate(G.edges(data=weight, default=1.0)):
                rows[k], cols[k], vals[k] = index[u], index[v], w
        if not G.is_directed():  # an undirected edge goes both ways, a self-loop once
            other = rows != cols
            rows, cols, vals = (np.concatenate((rows, cols[other])), np.concatenate((cols, rows[other])),
                                np.concatenate((vals, vals[other])))
        A = CSRMatrix.from_coo(rows, cols, vals, (len(nodelist), len(nodelist)))
    else:
        raise TypeError(f"expected a tinymed.graph.KnowledgeGraph or a networkx graph, got {type(G).__name__}")
    if (A.data < 0).any() or not np.isfinite(A.data).all():
        raise ValueError(f"edge weights ({weight!r}) must be finite and >= 0")
    return nodelist, A


def _distribution(values, nodelist, where, name):
    """A dict of node -> non-negative value as a vector in ``nodelist`` order, summing to 1."""
    if not hasattr(values, "items"):
        raise TypeError(f"{where}: {name} must be a dict node -> value, got {type(values).__name__}")
    index = {n: k for k, n in enumerate(nodelist)}
    unknown = [n for n in values if n not in index]
    if unknown:
        raise ValueError(f"{where}: {name} names node(s) not in the graph: {unknown[:5]!r}")
    vec = np.zeros(len(nodelist))
    for node, value in values.items():
        vec[index[node]] = float(value)
    if (vec < 0).any() or not np.isfinite(vec).all():
        raise ValueError(f"{where}: {name} values must be finite and >= 0")
    if vec.sum() == 0:
        raise ZeroSumError(f"{where}: {name} must give some node a positive value (its sum is 0)")
    return vec / vec.sum()


def _walk(A):
    """``(P, dangling)``: the row-stochastic transition matrix of ``A`` and the mask of the
    dangling rows, whose out-weight is 0 (no out-edges, or only edges of weight 0), left empty in ``P``."""
    out_weight = A.row_sums()
    dangling = out_weight == 0
    row_weight = out_weight[A.row_of_entries()]
    return CSRMatrix(A.indptr, A.indices, np.divide(A.data, row_weight, out=np.zeros_like(A.data),
                                                    where=row_weight > 0), A.shape), dangling


def _restart_vectors(where, nodelist, personalization, dangling):
    """``(p, d)``: the restart distribution and the dangling nodes' distribution (``p`` by default)."""
    N = len(nodelist)
    p = np.full(N, 1.0 / N) if personalization is None else _distribution(personalization, nodelist, where,
                                                                          "personalization")
    d = p if dangling is None else _distribution(dangling, nodelist, where, "dangling")
    return p, d


def google_matrix(G, alpha=0.85, personalization=None, nodelist=None, weight="weight", dangling=None):
    r"""The Google matrix of ``G`` as a dense ``(N, N)`` NumPy array (networkx's ``google_matrix``).

    :math:`M = \alpha \hat P + (1 - \alpha)\, \mathbf 1 p^\top` (module docstring): row *i* is
    where the random walker goes from node ``nodelist[i]``. ``nodelist`` orders the rows and
    columns (default: the graph's order); a subset of the nodes gives the matrix of the
    subgraph they induce, as networkx does. PageRank is the left eigenvector of eigenvalue 1.
    """
    if not (0 <= alpha <= 1):
        raise ValueError(f"google_matrix: alpha must be in [0, 1], got {alpha!r}")
    nodes, A = graph_adjacency(G, weight)
    if nodelist is not None:
        index = {n: k for k, n in enumerate(nodes)}
        nodelist = list(nodelist)
        if len(set(nodelist)) != len(nodelist) or any(n not in index for n in nodelist):
            raise ValueError("google_matrix: nodelist must list distinct nodes of the graph")
        keep = np.array([index[n] for n in nodelist], dtype=np.int64)
        dense = A.toarray()[np.ix_(keep, keep)]
        nodes, A = nodelist, CSRMatrix.from_coo(*np.nonzero(dense), dense[np.nonzero(dense)], dense.shape)
    N = len(nodes)
    if N == 0:
        return np.zeros((0, 0))
    P, dangling_rows = _walk(A)
    p, d = _restart_vectors("google_matrix", nodes, personalization, dangling)
    walk = P.toarray()
    walk[dangling_rows] = d
    return alpha * walk + (1 - alpha) * p[None, :]


def pagerank(G, alpha=0.85, personalization=None, max_iter=100, tol=1e-06, nstart=None, weight="weight",
             dangling=None):
    """PageRank of every node: a dict node -> score, the scores summing to 1.

    Arguments as networkx's ``pagerank`` (formula in the module docstring). Raises
    :class:`PowerIterationFailedConvergence` after ``max_iter`` iterations without convergence.
    """
    if not (0 <= alpha <= 1):
        raise ValueError(f"pagerank: alpha must be in [0, 1], got {alpha!r}")
    nodelist, A = graph_adjacency(G, weight)
    N = len(nodelist)
    if N == 0:
        return {}
    P, dangling_nodes = _walk(A)
    x = np.full(N, 1.0 / N) if nstart is None else _distribution(nstart, nodelist, "pagerank", "nstart")
    p, d = _restart_vectors("pagerank", nodelist, personalization, dangling)
    err = np.inf
    for _ in range(max_iter):
        x_last = x
        x = alpha * (P.rdot(x_last) + x_last[dangling_nodes].sum() * d) + (1 - alpha) * p
        err = np.abs(x - x_last).sum()
        if err < N * tol:
            return dict(zip(nodelist, map(float, x)))
    raise failed_convergence(
        max_iter, f"pagerank: power iteration failed to converge within {max_iter} iterations "
                  f"(last L1 change {err:.3g}, needed < N*tol = {N * tol:.3g})")


def hits(G, max_iter=100, tol=1e-08, nstart=None, normalized=True, weight="weight"):
    """HITS hubs and authorities: ``(hubs, authorities)``, two dicts node -> score.

    Arguments as networkx's ``hits``, and ``weight``: the edge attribute to use as a weight
    (an edge without it weighs 1; None: every edge weighs 1), as networkx's adjacency matrix
    reads it. Raises :class:`PowerIterationFailedConvergence` after ``max_iter`` iterations
    without convergence, and ``ValueError`` for a graph without (positively weighted) edges,
    where hubs and authorities are undefined.
    """
    nodelist, A = graph_adjacency(G, weight)
    N = len(nodelist)
    if N == 0:
        return {}, {}
    if not (A.data > 0).any():
        raise ValueError("hits: the graph has no edge of positive weight; hubs and authorities are undefined")
    h = np.full(N, 1.0 / N) if nstart is None else _distribution(nstart, nodelist, "hits", "nstart")
    err = np.inf
    for _ in range(max_iter):
        h_last = h
        a = A.rdot(h_last)   # a = A^T h: authority = sum of the hubs pointing to it
        h = A.dot(a)         # h = A a:   hub = sum of the authorities it points to
        if h.max() == 0:     # nstart sat on nodes that reach no authority
            raise ValueError("hits: nstart gives weight only to nodes without out-edges; the iteration "
                             "collapses to 0")
        h = h / h.max()
        a = a / a.max()
        err = np.abs(h - h_last).sum()
        if err < tol:
            break
    else:
        raise failed_convergence(
            max_iter, f"hits: power iteration failed to converge within {max_iter} iterations "
                      f"(last L1 change of the hubs {err:.3g}, needed < tol = {tol:.3g})")
    if normalized:
        h, a = h / h.sum(), a / a.sum()
    return dict(zip(nodelist, map(float, h))), dict(zip(nodelist, map(float, a)))
