"""Knowledge graphs of diseases, drugs and genes, and link analysis on them (article 004; F18).

* :class:`KnowledgeGraph` -- typed nodes, typed edges; from edge lists or networkx graphs;
* :func:`load_medical_kg` -- a small curated disease-drug-gene graph shipped as a CSV;
* :func:`pagerank`, :func:`hits`, :func:`google_matrix` -- networkx's names, defaults, return
  values and exceptions, computed on a sparse adjacency matrix (the Google matrix, dense, is
  the teaching object). networkx is optional: its graphs are read as they are, and it is
  imported only to raise its exception types.
"""

from .kg import MEDICAL_KG_CSV, KnowledgeGraph, load_medical_kg
from .ranking import (
    PowerIterationFailedConvergence,
    ZeroSumError,
    google_matrix,
    graph_adjacency,
    hits,
    pagerank,
)

__all__ = ["KnowledgeGraph", "load_medical_kg", "MEDICAL_KG_CSV", "pagerank", "hits", "google_matrix",
           "PowerIterationFailedConvergence", "ZeroSumError", "graph_adjacency"]
