r"""Holding interactions out, and measuring how well a model finds them again (top-N evaluation).

A model is fitted on ``train_user_items`` and asked for its top *K* items per user, leaving out
what the user already has in train; the user's items in ``test_user_items`` are the relevant
ones. Precision, recall, average precision and NDCG at *K* are the per-user definitions of
:mod:`tinymed.recsys.top_n`, averaged over the users who have at least one test item. The
function names are the ``implicit`` library's (``precision_at_k``, ``mean_average_precision_at_k``,
``ndcg_at_k``, ``ranking_metrics_at_k``), plus ``recall_at_k``; the definitions are the
textbook ones, which differ from ``implicit``'s in one place: its precision divides the hits
by :math:`\min(K, |R_u|)`, pooled over users, where tinymed's divides by *K*, per user.
"""

from __future__ import annotations

import numbers

import numpy as np

from ... import sparse
from .. import top_n
from ..rng import get_rng
from .recommender_base import as_user_items

METRICS = {"precision": top_n.precision_at_k, "recall": top_n.recall_at_k, "map": top_n.average_precision_at_k,
           "ndcg": top_n.ndcg_at_k}


def _rows_kept(R, keep):
    """The entries of ``R`` where ``keep`` is true, as a matrix of the same shape."""
    return sparse.CSRMatrix.from_coo(R.row_of_entries()[keep], R.indices[keep], R.data[keep], R.shape)


def train_test_split(ratings, train_percentage=0.8, random_state=None):
    """``(train, test)``: each stored interaction goes to ``train`` with probability ``train_percentage``."""
    if not (isinstance(train_percentage, numbers.Real) and 0 <= train_percentage <= 1):
        raise ValueError(f"train_test_split: train_percentage must be in [0, 1], got {train_percentage!r}")
    R = as_user_items(ratings, "train_test_split")
    to_train = get_rng(random_state, "train_test_split: random_state").random(R.nnz) < train_percentage
    return _rows_kept(R, to_train), _rows_kept(R, ~to_train)


def leave_k_out_split(ratings, K=1, train_only_size=0.0, random_state=None):
    """``(train, test)``: ``K`` interactions of every user who has more than ``K`` go to ``test``
    (drawn uniformly); a fraction ``train_only_size`` of those users, drawn, keeps all in ``train``.
    Every user keeps at least one interaction in ``train``."""
    if not (isinstance(K, numbers.Integral) and K >= 1):
        raise ValueError(f"leave_k_out_split: K must be an integer >= 1, got {K!r}")
    if not (isinstance(train_only_size, numbers.Real) and 0 <= train_only_size < 1):
        raise ValueError(f"leave_k_out_split: train_only_size must be in [0, 1), got {train_only_size!r}")
    R = as_user_items(ratings, "leave_k_out_split")
    rng = get_rng(random_state, "leave_k_out_split: random_state")
    counts = np.diff(R.indptr)
    candidates = np.flatnonzero(counts > K)
    n_kept = int(round(train_only_size * len(candidates)))
    testing = candidates[rng.permutation(len(candidates))[n_kept:]] if n_kept else candidates
    to_test = np.zeros(R.nnz, dtype=bool)
    for u in np.sort(testing):
        to_test[R.indptr[u] + rng.permutation(counts[u])[:K]] = True
    return _rows_kept(R, ~to_test), _rows_kept(R, to_test)


def recommendations_at_k(model, train_user_items, test_user_items, K=10):
    """``{user: [item ids, best first]}``: ``model.recommend``'s top ``K`` for every user with a
    test item, leaving out each user's train items."""
    train = as_user_items(train_user_items, "recommendations_at_k")
    test = as_user_items(test_user_items, "recommendations_at_k")
    if train.shape != test.shape:
        raise ValueError(f"recommendations_at_k: train {train.shape} and test {test.shape} differ in shape")
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    if not len(users):
        return {}
    rows = sparse.CSRMatrix.from_coo(*_rows_of(train, users), (len(users), train.shape[1]))
    ids, _ = model.recommend(users, rows, N=K, filter_already_liked_items=True)
    return {int(u): [int(i) for i in row if i >= 0] for u, row in zip(users, np.atleast_2d(ids))}


def _rows_of(R, users):
    """COO ``(rows, cols, values)`` of the rows ``users`` of ``R``, renumbered 0, 1, ..."""
    parts = [(np.full(R.indptr[u + 1] - R.indptr[u], k), *R.row(u)) for k, u in enumerate(users)]
    return tuple(np.concatenate(p) if p else np.zeros(0) for p in zip(*parts))


def ranking_metrics_of(recommended, test_user_items, K=10):
    """``{"precision", "recall", "map", "ndcg"}`` at ``K`` of ready lists ``{user: [item ids]}``
    against ``test_user_items``, averaged over the users with a test item (a missing list counts
    as an empty one)."""
    test = as_user_items(test_user_items, "ranking_metrics_of")
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    if not len(users):
        raise ValueError("ranking_metrics_of: no user has a test item; the metrics are undefined")
    scores = {name: [] for name in METRICS}
    for u in users:
        relevant = set(test.row(u)[0].tolist())
        for name, metric in METRICS.items():
            scores[name].append(metric(recommended.get(int(u), []), relevant, K))
    return {name: float(np.mean(values)) for name, values in scores.items()}


def ranking_metrics_at_k(model, train_user_items, test_user_items, K=10, show_progress=True, num_threads=1):
    """Precision, recall, MAP and NDCG at ``K`` of ``model`` (module docstring), as a dict.
    ``show_progress`` and ``num_threads`` are accepted for ``implicit``'s signature."""
    return ranking_metrics_of(recommendations_at_k(model, train_user_items, test_user_items, K), test_user_items, K)


def precision_at_k(model, train_user_items, test_user_items, K=10, show_progress=True, num_threads=1):
    """Mean over users of precision@K."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["precision"]


def recall_at_k(model, train_user_items, test_user_items, K=10, show_progress=True, num_threads=1):
    """Mean over users of recall@K."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["recall"]


def mean_average_precision_at_k(model, train_user_items, test_user_items, K=10, show_progress=True, num_threads=1):
    """MAP@K: the mean over users of average precision@K."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["map"]


def ndcg_at_k(model, train_user_items, test_user_items, K=10, show_progress=True, num_threads=1):
    """Mean over users of NDCG@K (binary gains)."""
    return ranking_metrics_at_k(model, train_user_items, test_user_items, K)["ndcg"]
