"""Knowledge graphs of diseases, drugs and genes, and link analysis on them (article 004; F18).

* :class:`KnowledgeGraph` -- typed nodes, typed edges; from edge lists or networkx graphs;
* :func:`load_medical_kg` -- a small curated disease-drug-gene graph shipped as a CSV;
* :func:`pagerank`, :func:`hits` -- networkx's names, defaults and return values, computed on
  a sparse adjacency matrix.
"""

from .kg import MEDICAL_KG_CSV, KnowledgeGraph, load_medical_kg
from .ranking import PowerIterationFailedConvergence, graph_adjacency, hits, pagerank

__all__ = ["KnowledgeGraph", "load_medical_kg", "MEDICAL_KG_CSV", "pagerank", "hits",
           "PowerIterationFailedConvergence", "graph_adjacency"]
