"""Exercises on recommenders: the article's user similarity (F14) with a k-nearest-neighbour prediction,
and one epoch of SGD for Surprise's SVD (S5)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...kernels import reference
from ...recsys import Dataset, KNNBasic, Reader
from ...recsys.similarities import pairwise_similarity
from ...sparse import CSRMatrix
from ..exercise import EdgeCase, Exercise, Mistake, Task
from ..strategies import arrays, floats, normal, sizes


# ----- F14 and a k-NN prediction --------------------------------------------------------------------
def article_similarity(R):
    users, items = np.nonzero(~np.isnan(R))
    rows = CSRMatrix.from_coo(users, items, R[users, items], R.shape)
    return pairwise_similarity("article_euclidean", rows.indptr, rows.indices, rows.data, R.shape[1])


def knn_predict(R, sim, u, i, k):
    users, items = np.nonzero(~np.isnan(R))
    ratings = zip(users.tolist(), items.tolist(), R[users, items].tolist())
    trainset = Dataset.load_from_triples(ratings, Reader(rating_scale=(1, 5))).build_full_trainset()
    algo = KNNBasic(k=k, sim_options={"name": "article_euclidean"}, verbose=False).fit(trainset)
    raw = [trainset.to_raw_uid(inner) for inner in range(trainset.n_users)]
    algo.sim = sim[np.ix_(raw, raw)]  # the given similarities, in the trainset's order of users
    return algo.predict(u, i, clip=False).est


def _ratings(n_users, n_items):
    """Ratings 1 to 5, NaN where missing, one at least."""
    cells = hnp.arrays(np.float64, (n_users, n_items), elements=st.sampled_from([np.nan, 1.0, 2.0, 3.0, 4.0, 5.0]))
    return cells.filter(lambda R: (~np.isnan(R)).any())


def _similarity_cases():
    return st.tuples(sizes(2, 4), sizes(1, 4)).flatmap(lambda s: _ratings(*s).map(lambda R: (R,)))


def _knn_cases():
    def build(R):
        return st.tuples(st.integers(0, R.shape[0] - 1), st.integers(0, R.shape[1] - 1), sizes(1, 3)).map(
            lambda a: (R, article_similarity(R), *a))
    return st.tuples(sizes(2, 5), sizes(1, 4)).flatmap(lambda s: _ratings(*s)).flatmap(build)


_R = np.array([[5, 3, np.nan, 1, 4], [4, np.nan, 4, 1, 5], [1, 1, np.nan, 5, 2], [np.nan, 2, 5, 4, np.nan],
               [5, 4, 3, np.nan, 4]])


def _common_only(R, how):
    """F14 done wrong: missing ratings counted as 0 ("zeros"), the distance not square-rooted
    ("squared"), or the norms over each user's own ratings ("own_norms")."""
    X = np.nan_to_num(R)
    both = (~np.isnan(R)).astype(float)
    common = both if how != "zeros" else np.ones_like(both)
    sim = np.zeros((len(R), len(R)))
    for a in range(len(R)):
        for b in range(len(R)):
            on = common[a] * common[b]
            distance2 = (on * (X[a] - X[b]) ** 2).sum()
            norms = np.sqrt((((on if how != "own_norms" else both[a]) * X[a] ** 2).sum())
                            * (((on if how != "own_norms" else both[b]) * X[b] ** 2).sum()))
            sim[a, b] = 0.0 if norms == 0 else 1 - (distance2 if how == "squared" else np.sqrt(distance2)) / norms
    np.fill_diagonal(sim, 1.0)
    return sim


def _wrong_knn(how):
    """The k-NN prediction done wrong: "all" neighbours (k ignored), an "unweighted" mean, or neighbours
    with a similarity <= 0 kept ("nonpositive")."""
    def predict(R, sim, u, i, k):
        raters = [v for v in range(len(R)) if v != u and not np.isnan(R[v, i])]
        order = sorted(raters, key=lambda v: -sim[u, v])
        chosen = [v for v in order if how == "nonpositive" or sim[u, v] > 0][: None if how == "all" else k]
        if not chosen or (~np.isnan(R[u])).sum() == 0:
            return float(np.nanmean(R))
        weights = np.ones(len(chosen)) if how == "unweighted" else sim[u, chosen]
        return float((weights * R[chosen, i]).sum() / weights.sum())
    return predict


def _knn_edge(label, R, u, i, k):
    R = np.array(R, dtype=float)
    return EdgeCase(label, lambda: (R, article_similarity(R), u, i, k))


SIMILARITY_KNN = Exercise(
    name="similarity_knn",
    title="the article's user similarity (F14) and a k-nearest-neighbour prediction",
    lesson="lesson 11, Treatment recommendation (tinymed lesson 11)",
    formula=r"\mathrm{sim}(u, v) = 1 - \frac{\sqrt{\sum_j (r_{uj} - r_{vj})^2}}{\sqrt{\sum_j r_{uj}^2 \sum_j r_{vj}^2}}"
            r", \qquad \hat r_{ui} = \frac{\sum_{v \in N_k(u, i)} \mathrm{sim}(u, v)\, r_{vi}}"
            r"{\sum_{v \in N_k(u, i)} \mathrm{sim}(u, v)}",
    intro="Article 004 §3.2.1.2 measures how alike two patients u and v are from the treatments both rated (j runs "
          "over those only). A prediction for u and treatment i then averages the ratings of i by the k patients "
          "most like u, weighted by their similarity.",
    source="tinymed/kernels/reference/recsys.py (row_similarities) and tinymed/recsys/knn.py (KNNBasic)",
    tasks=(
        Task(name="article_similarity", params=("R",), outputs=("sim",),
             doc=r"""F14 for every pair of users (rows of R), over the items both rated.

    R (n_users, n_items): ratings, NaN where missing. Returns sim (n_users, n_users): 0 for a pair with no
    item in common or a zero denominator, and 1 on the diagonal.""",
             reference=article_similarity, cases=_similarity_cases, examples=lambda: [(_R,)],
             edge_cases=(EdgeCase("a user with no ratings", lambda: (np.array([[1.0, 2.0], [np.nan, np.nan],
                                                                               [3.0, np.nan]]),)),
                         EdgeCase("identical users are 1 apart from nothing: similarity 1",
                                  lambda: (np.array([[2.0, 4.0, 1.0], [2.0, 4.0, 1.0]]),))),
             mistakes=(Mistake("missing_counted_as_zero", "the sums run over every item, a missing rating counted "
                                                          "as 0: F14 sums over the items both users rated",
                               lambda R: _common_only(R, "zeros")),
                       Mistake("distance_not_square_rooted", "the numerator is the squared distance: F14 takes its "
                                                             "square root", lambda R: _common_only(R, "squared")),
                       Mistake("norms_over_all_ratings", "the norms in the denominator run over all of each user's "
                                                         "ratings: F14's run over the items both rated",
                               lambda R: _common_only(R, "own_norms")))),
        Task(name="knn_predict", params=("R", "sim", "u", "i", "k"), outputs=("rating",),
             doc=r"""The rating user ``u`` would give item ``i``: the similarity-weighted mean of the ratings of
    ``i`` by the (at most) ``k`` other users most similar to ``u`` who rated it, counting only positive
    similarities (ties: the lower user index first).

    R (n_users, n_items) with NaN where missing; sim (n_users, n_users); u, i, k: ints. Returns one number:
    that mean, or -- when no such neighbour exists, or u rated nothing -- the mean of all ratings in R.""",
             reference=knn_predict, cases=_knn_cases, examples=lambda: [(_R, article_similarity(_R), 0, 2, 2)],
             edge_cases=(_knn_edge("no other user rated the item: the mean of all ratings",
                                   [[4, 3], [2, np.nan], [5, np.nan]], 1, 1, 2),
                         _knn_edge("the only user who rated the item has nothing in common with u (similarity 0): "
                                   "the mean of all ratings", [[4, np.nan], [np.nan, 3], [5, np.nan]], 0, 1, 2),
                         _knn_edge("k larger than the number of neighbours", [[4, 3, 1], [2, 3, 5], [5, 4, np.nan]],
                                   2, 2, 10),
                         _knn_edge("equal similarities: the lower user index first", [[5, 1], [5, 2], [np.nan, 4]],
                                   2, 0, 1)),
             mistakes=(Mistake("k_ignored", "every neighbour is used: keep only the k most similar",
                               _wrong_knn("all")),
                       Mistake("unweighted_mean", "a plain mean of the neighbours' ratings: weight each by its "
                                                  "similarity", _wrong_knn("unweighted")),
                       Mistake("nonpositive_neighbours", "neighbours with a similarity <= 0 are used: only positive "
                                                         "similarities count (with none, predict the mean of all "
                                                         "ratings)", _wrong_knn("nonpositive")))),
    ),
)


# ----- one SGD epoch of SVD (S5) ----------------------------------------------------------------------
def svd_epoch(users, items, ratings, global_mean, bu, bi, pu, qi, lr, reg):
    bu, bi, pu, qi = bu.copy(), bi.copy(), pu.copy(), qi.copy()
    reference.svd_sgd_epochs(users, items, ratings, global_mean, bu, bi, pu, qi, 1, True, lr, lr, lr, lr,
                             reg, reg, reg, reg)
    return bu, bi, pu, qi


@st.composite
def _svd_cases(draw):
    n_users, n_items, n_ratings, k = draw(sizes(1, 3)), draw(sizes(1, 3)), draw(sizes(1, 5)), draw(sizes(1, 2))
    users = draw(hnp.arrays(np.int64, n_ratings, elements=st.integers(0, n_users - 1)))
    items = draw(hnp.arrays(np.int64, n_ratings, elements=st.integers(0, n_items - 1)))
    ratings = draw(arrays(n_ratings, 1.0, 5.0))
    bu, bi = draw(arrays(n_users, -0.5, 0.5)), draw(arrays(n_items, -0.5, 0.5))
    pu, qi = draw(arrays((n_users, k), -0.5, 0.5)), draw(arrays((n_items, k), -0.5, 0.5))
    return users, items, ratings, float(ratings.mean()), bu, bi, pu, qi, draw(floats(0.0, 0.1)), draw(floats(0.0, 0.1))


def _svd_examples():
    users, items = np.array([0, 0, 1, 1, 2, 2, 2]), np.array([0, 2, 1, 2, 0, 1, 3])
    ratings = np.array([4.0, 2.0, 5.0, 3.0, 1.0, 4.0, 2.0])
    bu, bi, pu, qi = normal(80, (3,), (4,), (3, 2), (4, 2))
    return [(users, items, ratings, ratings.mean(), 0.1 * bu, 0.1 * bi, 0.3 * pu, 0.3 * qi, 0.05, 0.02)]


def _wrong_epoch(q_after_p=False, error_sign=1.0, reg_sign=1.0, full_batch=False, biases=True):
    """The epoch with one line done wrong (the known mistakes)."""
    def epoch(users, items, ratings, global_mean, bu, bi, pu, qi, lr, reg):
        bu, bi, pu, qi = bu.copy(), bi.copy(), pu.copy(), qi.copy()
        start = (bu.copy(), bi.copy(), pu.copy(), qi.copy())
        for u, i, r in zip(users, items, ratings):
            su, si, sp, sq = start if full_batch else (bu, bi, pu, qi)
            err = error_sign * (r - (global_mean + su[u] + si[i] + sq[i] @ sp[u]))
            if biases:
                bu[u] += lr * (err - reg_sign * reg * su[u])
                bi[i] += lr * (err - reg_sign * reg * si[i])
            p_before = sp[u].copy()
            pu[u] += lr * (err * sq[i] - reg_sign * reg * sp[u])
            qi[i] += lr * (err * (pu[u] if q_after_p else p_before) - reg_sign * reg * sq[i])
        return bu, bi, pu, qi
    return epoch


SVD_EPOCH = Exercise(
    name="svd_epoch",
    title="one epoch of SGD for Surprise's SVD, the article's recommender (S5)",
    lesson="lesson 13, SVD step by step (tinymed lesson 13)",
    formula=r"\hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u, \qquad e_{ui} = r_{ui} - \hat r_{ui}",
    intro="SVD (article 002 §4.2, snippet S5) learns a bias and a vector of k factors for every user and item by "
          "stochastic gradient descent: it visits the ratings one at a time, in order, and moves each parameter "
          "of the prediction a step lr along its error, shrunk by reg.",
    source="tinymed/kernels/reference/recsys.py (svd_sgd_epochs)",
    tasks=(Task(
        name="svd_epoch", params=("users", "items", "ratings", "global_mean", "bu", "bi", "pu", "qi", "lr", "reg"),
        outputs=("bu", "bi", "pu", "qi"),
        doc=r"""One pass over the ratings, in their order; for each :math:`(u, i, r)`, with :math:`e = r - \hat r_{ui}`:

    :math:`b_u \mathrel{+}= \gamma(e - \lambda b_u)`, :math:`b_i \mathrel{+}= \gamma(e - \lambda b_i)`,
    :math:`p_u \mathrel{+}= \gamma(e\, q_i - \lambda p_u)`, :math:`q_i \mathrel{+}= \gamma(e\, p_u - \lambda q_i)`
    (the last with :math:`p_u` from before its update).

    users, items (n,): ints; ratings (n,); global_mean: :math:`\mu`; bu (n_users,), bi (n_items,),
    pu (n_users, k), qi (n_items, k): the parameters before the epoch; lr: :math:`\gamma`; reg: :math:`\lambda`.
    Returns the parameters after it, ``(bu, bi, pu, qi)``.""",
        reference=svd_epoch, cases=_svd_cases, examples=_svd_examples,
        edge_cases=(
            EdgeCase("one rating", lambda: (np.array([0]), np.array([0]), np.array([4.0]), 4.0,
                                            *normal(81, (1,), (1,), (1, 2), (1, 2)), 0.1, 0.05)),
            EdgeCase("one user rates the same item twice in a row: the second update sees the first",
                     lambda: (np.array([0, 0]), np.array([1, 1]), np.array([5.0, 5.0]), 5.0,
                              *normal(82, (1,), (2,), (1, 3), (2, 3)), 0.1, 0.0)),
            EdgeCase("lr = 0 changes nothing", lambda: _svd_examples()[0][:8] + (0.0, 0.02)),
        ),
        mistakes=(Mistake("q_uses_updated_p", "q_i is updated with the new p_u: use p_u from before its update",
                          _wrong_epoch(q_after_p=True)),
                  Mistake("error_sign", "the error has the wrong sign: e = r - r_hat", _wrong_epoch(error_sign=-1.0)),
                  Mistake("regularisation_sign", "the regularisation pushes parameters away from 0: subtract "
                                                 "lambda times the parameter", _wrong_epoch(reg_sign=-1.0)),
                  Mistake("full_batch", "every update uses the parameters from the start of the epoch: SGD uses each "
                                        "update at once, rating after rating", _wrong_epoch(full_batch=True)),
                  Mistake("biases_not_learned", "the biases b_u and b_i are not updated", _wrong_epoch(biases=False))),
    ),),
)
