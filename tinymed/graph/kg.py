"""A small knowledge graph: typed nodes (disease, drug, gene, ...) joined by typed edges.

    >>> from tinymed.graph import KnowledgeGraph
    >>> kg = KnowledgeGraph.from_edges([
    ...     ("imatinib", "ABL1", "targets"),
    ...     ("ABL1", "chronic myeloid leukemia", "associated_with"),
    ...     ("imatinib", "chronic myeloid leukemia", "treats")],
    ...     node_types={"imatinib": "drug", "ABL1": "gene", "chronic myeloid leukemia": "disease"})
    >>> kg.nodes(type="drug"), kg.successors("imatinib")
    (['imatinib'], ['ABL1', 'chronic myeloid leukemia'])

Edges are directed (``directed=False`` keeps them both ways) and carry a ``relation``, a
``weight`` (default 1) and any other attributes (e.g. ``source``, where the fact comes
from). :meth:`KnowledgeGraph.adjacency` gives the sparse weighted adjacency matrix that
:func:`tinymed.graph.pagerank` and :func:`tinymed.graph.hits` iterate on; networkx graphs
convert both ways (networkx is optional).
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..sparse import CSRMatrix

MEDICAL_KG_CSV = Path(__file__).resolve().parent / "medical_kg.csv"
_CSV_COLUMNS = ["head", "head_type", "relation", "tail", "tail_type", "source"]


class KnowledgeGraph:
    """Nodes with a type, and directed (or undirected) edges with a relation and attributes."""

    def __init__(self, directed=True):
        self.directed = bool(directed)
        self._types = {}   # node -> type (insertion order is the node order)
        self._out = {}     # node -> list of edge ids leaving it
        self._in = {}      # node -> list of edge ids entering it
        self._edges = []   # (u, v, attributes)

    # ----- building ---------------------------------------------------------------------------
    def add_node(self, node, type=None):
        """Add ``node`` (any hashable); a later, different ``type`` for the same node is an error."""
        if node in self._types:
            if type is not None and self._types[node] not in (None, type):
                raise ValueError(f"KnowledgeGraph.add_node: node {node!r} already has type "
                                 f"{self._types[node]!r}, got {type!r}")
            if type is not None:
                self._types[node] = type
            return
        try:
            hash(node)
        except TypeError:
            raise TypeError(f"KnowledgeGraph.add_node: a node must be hashable, got {type(node).__name__}") from None
        self._types[node] = type
        self._out[node], self._in[node] = [], []

    def add_edge(self, u, v, relation="related_to", weight=1.0, **attributes):
        """Add the edge ``u -> v`` (both ways if undirected); unknown nodes are added untyped."""
        weight = float(weight)
        if not weight >= 0:
            raise ValueError(f"KnowledgeGraph.add_edge: weight must be >= 0, got {weight!r} on edge {u!r} -> {v!r}")
        self.add_node(u)
        self.add_node(v)
        eid = len(self._edges)
        self._edges.append((u, v, {"relation": relation, "weight": weight, **attributes}))
        self._out[u].append(eid)
        self._in[v].append(eid)

    @classmethod
    def from_edges(cls, edges, node_types=None, directed=True):
        """Build from ``(head, tail, relation[, weight])`` tuples or dicts with those keys.

        ``node_types`` maps node -> type. A dict edge may also carry ``head_type``,
        ``tail_type`` and any other attributes (``source``, ...).
        """
        kg = cls(directed=directed)
        for node, node_type in (node_types or {}).items():
            kg.add_node(node, node_type)
        for k, edge in enumerate(edges):
            if isinstance(edge, dict):
                edge = dict(edge)
                try:
                    u, v = edge.pop("head"), edge.pop("tail")
                except KeyError:
                    raise ValueError(f"KnowledgeGraph.from_edges: edge {k} needs 'head' and 'tail', got "
                                     f"keys {sorted(edge)}") from None
                kg.add_node(u, edge.pop("head_type", None) or None)
                kg.add_node(v, edge.pop("tail_type", None) or None)
                kg.add_edge(u, v, edge.pop("relation", "related_to"), edge.pop("weight", 1.0), **edge)
            else:
                edge = tuple(edge)
                if len(edge) not in (2, 3, 4):
                    raise ValueError(f"KnowledgeGraph.from_edges: edge {k} must be (head, tail[, relation"
                                     f"[, weight]]), got {edge!r}")
                kg.add_edge(*edge)
        return kg

    @classmethod
    def from_networkx(cls, G, type_attr="type", relation_attr="relation"):
        """Build from a networkx graph; node attribute ``type_attr`` gives the type, edge
        attribute ``relation_attr`` the relation, the other edge attributes are kept."""
        kg = cls(directed=G.is_directed())
        for node, data in G.nodes(data=True):
            kg.add_node(node, data.get(type_attr))
        for u, v, data in G.edges(data=True):
            data = dict(data)
            kg.add_edge(u, v, data.pop(relation_attr, "related_to"), data.pop("weight", 1.0), **data)
        return kg

    def to_networkx(self, type_attr="type"):
        """A networkx ``MultiDiGraph`` (or ``MultiGraph`` if undirected) with the same nodes and edges."""
        try:
            import networkx as nx
        except ImportError as exc:
            raise ImportError("KnowledgeGraph.to_networkx needs networkx: pip install networkx") from exc
        G = nx.MultiDiGraph() if self.directed else nx.MultiGraph()
        for node, node_type in self._types.items():
            G.add_node(node, **{type_attr: node_type})
        for u, v, data in self._edges:
            G.add_edge(u, v, **data)
        return G

    def to_undirected(self):
        """A copy whose edges go both ways."""
        kg = KnowledgeGraph(directed=False)
        for node, node_type in self._types.items():
            kg.add_node(node, node_type)
        for u, v, data in self._edges:
            data = dict(data)
            kg.add_edge(u, v, data.pop("relation"), data.pop("weight"), **data)
        return kg

    # ----- reading ---------------------------------------------------------------------------
    def is_directed(self):
        return self.directed

    def __len__(self):
        return len(self._types)

    def __iter__(self):
        return iter(self._types)

    def __contains__(self, node):
        try:
            return node in self._types
        except TypeError:
            return False

    def number_of_nodes(self):
        return len(self._types)

    def number_of_edges(self):
        return len(self._edges)

    def nodes(self, type=None):
        """All nodes in insertion order, or those of one ``type``."""
        return [n for n, t in self._types.items() if type is None or t == type]

    def node_type(self, node):
        self._require(node, "node_type")
        return self._types[node]

    def node_types(self):
        """``{type: number of nodes}``."""
        counts = {}
        for t in self._types.values():
            counts[t] = counts.get(t, 0) + 1
        return counts

    def edges(self, relation=None, data=False):
        """``(u, v)`` or ``(u, v, attributes)`` for every edge (of one ``relation``), as added."""
        out = []
        for u, v, attrs in self._edges:
            if relation is None or attrs["relation"] == relation:
                out.append((u, v, dict(attrs)) if data else (u, v))
        return out

    def relations(self):
        """``{relation: number of edges}``."""
        counts = {}
        for _, _, attrs in self._edges:
            counts[attrs["relation"]] = counts.get(attrs["relation"], 0) + 1
        return counts

    def successors(self, node):
        """Nodes reached by an edge from ``node`` (either end of an undirected edge)."""
        self._require(node, "successors")
        found = [self._edges[e][1] for e in self._out[node]]
        if not self.directed:
            found += [self._edges[e][0] for e in self._in[node]]
        return list(dict.fromkeys(found))

    def predecessors(self, node):
        """Nodes with an edge into ``node``."""
        self._require(node, "predecessors")
        if not self.directed:
            return self.successors(node)
        return list(dict.fromkeys(self._edges[e][0] for e in self._in[node]))

    neighbors = successors

    def _require(self, node, where):
        if node not in self:
            raise KeyError(f"KnowledgeGraph.{where}: node {node!r} is not in the graph")

    def adjacency(self, weight="weight", nodelist=None):
        """Sparse ``A`` with ``A[i, j]`` = summed ``weight`` of the edges ``nodelist[i] -> nodelist[j]``.

        ``weight=None`` counts every edge as 1; an edge without the attribute counts 1. An
        undirected edge fills ``A[i, j]`` and ``A[j, i]`` (a self-loop once).
        """
        nodelist = list(self._types) if nodelist is None else list(nodelist)
        index = {n: k for k, n in enumerate(nodelist)}
        if len(index) != len(nodelist) or any(n not in self for n in nodelist):
            raise ValueError("KnowledgeGraph.adjacency: nodelist must list distinct nodes of the graph")
        rows, cols, vals = [], [], []
        for u, v, attrs in self._edges:
            if u not in index or v not in index:
                continue
            w = 1.0 if weight is None else float(attrs.get(weight, 1.0))
            rows.append(index[u]), cols.append(index[v]), vals.append(w)
            if not self.directed and u != v:
                rows.append(index[v]), cols.append(index[u]), vals.append(w)
        return CSRMatrix.from_coo(rows, cols, vals, (len(nodelist), len(nodelist)))

    def __repr__(self):
        kind = "directed" if self.directed else "undirected"
        return f"<KnowledgeGraph ({kind}): {len(self)} nodes {self.node_types()}, {len(self._edges)} edges>"


def load_medical_kg(directed=True):
    """The small curated disease-drug-gene graph shipped with tinymed (``medical_kg.csv``).

    Each edge is a well-known fact with its ``source`` (an FDA label, DrugBank, OMIM, ...)
    named in the CSV. Relations: ``treats`` (drug -> disease, an approved indication),
    ``targets`` (drug -> gene whose product it acts on), ``associated_with`` (gene -> disease).
    For teaching graph algorithms, not for clinical use.
    """
    with open(MEDICAL_KG_CSV, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != _CSV_COLUMNS:
            raise ValueError(f"load_medical_kg: {MEDICAL_KG_CSV.name} must have columns {_CSV_COLUMNS}, "
                             f"got {reader.fieldnames}")
        return KnowledgeGraph.from_edges(list(reader), directed=directed)
