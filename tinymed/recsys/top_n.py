r"""Top-N ranking metrics, each defined once, for one user's ranked list.

A recommender ranks items for a user: ``recommended`` is that list, best first (item ids, or
any hashable labels). ``relevant`` says which items the user truly wanted: a set, or a dict
item -> gain for graded relevance (NDCG). With :math:`L_k` the first *k* of the list
(fewer if the list is shorter) and :math:`\mathrm{rel}(p) = 1` when the item at position
*p* is relevant:

* precision@k :math:`= |L_k \cap R| \,/\, |L_k|` -- of what was recommended, the fraction
  that was right (0 when nothing is recommended);
* recall@k :math:`= |L_k \cap R| \,/\, |R|` -- of what was right, the fraction recommended
  (0 when nothing is relevant);
* AP@k :math:`= \frac{1}{\min(k, |R|)} \sum_{p=1}^{|L_k|} \mathrm{precision@}p \cdot
  \mathrm{rel}(p)` -- precision averaged over the positions of the hits, rewarding hits near
  the top; MAP@k is its mean over users;
* NDCG@k :math:`= \mathrm{DCG@}k / \mathrm{IDCG@}k`, :math:`\mathrm{DCG@}k = \sum_{p=1}^{|L_k|}
  g(p) / \log_2(p + 1)` with :math:`g(p)` the gain of the item at *p* (1 for a relevant item
  of a set, 0 for the others), IDCG the same for the gains in the best order.

Both kinds of evaluation in tinymed call these: :mod:`tinymed.recsys.accuracy` (ratings
predicted by a Surprise-style predictor: the list is ranked by estimate, the relevant items are
those rated at least a threshold, the gains are the true ratings) and
:mod:`tinymed.recsys.implicit.evaluation` (a model's recommendations against held-out items).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _top(recommended, k, where):
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ValueError(f"top_n.{where}: k must be an integer >= 1, got {k!r}")
    return list(recommended)[:k]


def _relevant_set(relevant):
    return set(relevant) if not isinstance(relevant, Mapping) else {i for i, g in relevant.items() if g > 0}


def hits_at_k(recommended, relevant, k):
    """``[rel(1), rel(2), ...]``: whether each of the first *k* recommended items is relevant."""
    relevant = _relevant_set(relevant)
    return [item in relevant for item in _top(recommended, k, "hits_at_k")]


def precision_at_k(recommended, relevant, k):
    """Fraction of the first *k* recommended items that are relevant (0 if none is recommended)."""
    hits = hits_at_k(recommended, relevant, k)
    return sum(hits) / len(hits) if hits else 0.0


def recall_at_k(recommended, relevant, k):
    """Fraction of the relevant items found among the first *k* recommended (0 if none is relevant)."""
    n_relevant = len(_relevant_set(relevant))
    return sum(hits_at_k(recommended, relevant, k)) / n_relevant if n_relevant else 0.0


def average_precision_at_k(recommended, relevant, k):
    """Precision@p averaged over the positions *p* <= *k* of the hits, divided by min(k, |R|)."""
    n_relevant = len(_relevant_set(relevant))
    if not n_relevant:
        return 0.0
    hits = hits_at_k(recommended, relevant, k)
    found, total = 0, 0.0
    for position, hit in enumerate(hits, start=1):
        if hit:
            found += 1
            total += found / position
    return total / min(k, n_relevant)


def dcg_at_k(gains, k):
    r""":math:`\sum_{p=1}^{k} g_p / \log_2(p + 1)` of ``gains`` in the order given."""
    gains = np.asarray(list(gains)[:k], dtype=np.float64)
    return float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2))))


def ndcg_at_k(recommended, relevant, k):
    """DCG of the first *k* recommended items' gains over the DCG of the best order (0 when no
    item has a positive gain). ``relevant``: a set (gain 1 each) or a dict item -> gain."""
    top = _top(recommended, k, "ndcg_at_k")
    gains = relevant if isinstance(relevant, Mapping) else dict.fromkeys(relevant, 1.0)
    ideal = dcg_at_k(sorted(gains.values(), reverse=True), k)
    if ideal <= 0:
        return 0.0
    return dcg_at_k([gains.get(item, 0.0) for item in top], k) / ideal
