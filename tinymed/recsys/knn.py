r"""Neighbourhood collaborative filtering (article 002 §3.2, 004 §3.2.1; F17).

To predict patient *u*'s response to treatment *i*, look at the *k* patients most similar
to *u* among those who received *i* (user-based), or the *k* treatments most similar to
*i* among those *u* received (item-based, ``sim_options={'user_based': False}``), and
average their ratings weighted by similarity. Only neighbours with a positive similarity
count. User-based, with :math:`N^k_i(u)` those neighbours:

* :class:`KNNBasic`:     :math:`\hat r_{ui} = \frac{\sum_{v} \mathrm{sim}(u,v)\, r_{vi}}{\sum_v \mathrm{sim}(u,v)}`
* :class:`KNNWithMeans`:
  :math:`\hat r_{ui} = \mu_u + \frac{\sum_{v} \mathrm{sim}(u,v)\,(r_{vi} - \mu_v)}{\sum_v \mathrm{sim}(u,v)}`
* :class:`KNNBaseline`:
  :math:`\hat r_{ui} = b_{ui} + \frac{\sum_{v} \mathrm{sim}(u,v)\,(r_{vi} - b_{vi})}{\sum_v \mathrm{sim}(u,v)}`
* :class:`KNNWithZScore`:
  :math:`\hat r_{ui} = \mu_u + \sigma_u \frac{\sum_{v} \mathrm{sim}(u,v)\,(r_{vi} - \mu_v)/\sigma_v}{\sum_v
  \mathrm{sim}(u,v)}`, with :math:`\sigma_v` the standard deviation of *v*'s ratings (the
  standard deviation of all ratings for a *v* whose ratings are all equal)

Defaults are Surprise's: ``k=40``, ``min_k=1``, similarity ``msd``. With fewer than
``min_k`` usable neighbours KNNBasic cannot predict (it falls back to the global mean),
while the others keep their mean or baseline. Neighbours with equal similarity are taken
in the order their ratings came, and the sums are added in the neighbours' order, as
Surprise adds them (so the estimates are Surprise's to the last bit).
"""

from __future__ import annotations

import numpy as np

from .algo_base import AlgoBase, cold_start_reason, known
from .baseline_only import baseline_estimate
from .checks import count
from .predictions import PredictionImpossible
from .similarities import validate_sim_options


def unknown_pair(trainset, u, i):
    """Raise PredictionImpossible (predict() then gives the global mean, as Surprise does, and
    says so) when the user or the item is not in the trainset."""
    user_known, item_known = known(trainset, u, i)
    if not (user_known and item_known):
        raise PredictionImpossible(cold_start_reason(user_known, item_known, "the global mean"))


def sum_in_order(values):
    """``values[0] + values[1] + ...`` added left to right (``np.sum`` adds pairwise, in another order)."""
    return float(np.cumsum(values)[-1]) if len(values) else 0.0


class SymmetricAlgo(AlgoBase):
    """A predictor that works on users or, with ``user_based=False``, on items.

    ``x`` is the side whose neighbours are used, ``y`` the other: user-based, x = users.
    """

    FITTED = ("user_based", "n_x", "sim")

    def __init__(self, k=40, min_k=1, sim_options=None, bsl_options=None, verbose=True):
        super().__init__(sim_options=sim_options, bsl_options=bsl_options, verbose=verbose)
        validate_sim_options(self.sim_options)
        self.k = count(type(self).__name__, "k", k, minimum=1)
        self.min_k = count(type(self).__name__, "min_k", min_k)

    def fit(self, trainset):
        super().fit(trainset)
        self.user_based = self.sim_options["user_based"]
        self.n_x = trainset.n_users if self.user_based else trainset.n_items
        self.sim = self.compute_similarities()
        return self

    def switch(self, u_stuff, i_stuff):
        """``(x, y)``: ``(u, i)`` when user-based, ``(i, u)`` when item-based."""
        return (u_stuff, i_stuff) if self.user_based else (i_stuff, u_stuff)

    def y_ratings(self, y):
        """``(x's, ratings)`` of everyone on the x side who rated / was rated with y."""
        return self.trainset.item_ratings(y) if self.user_based else self.trainset.user_ratings(y)

    def x_means(self):
        """Each x's mean rating."""
        t = self.trainset
        x = t.users if self.user_based else t.items
        return np.bincount(x, weights=t.ratings, minlength=self.n_x) / np.bincount(x, minlength=self.n_x)

    def neighbours(self, x, y):
        """``(neighbour x's, similarities, ratings)`` of the k most similar x's that rated y.

        Sorted by decreasing similarity, ties in arrival order; only positive similarities kept.
        """
        xs, rs = self.y_ratings(y)
        sims = self.sim[x, xs]
        top = np.argsort(-sims, kind="stable")[: self.k]
        top = top[sims[top] > 0]
        return xs[top], sims[top], rs[top]


class KNNBasic(SymmetricAlgo):
    """Similarity-weighted average of the neighbours' ratings."""

    def estimate(self, u, i):
        unknown_pair(self.trainset, u, i)
        x, y = self.switch(u, i)
        _, sims, rs = self.neighbours(x, y)
        if len(sims) < self.min_k or len(sims) == 0:
            raise PredictionImpossible("Not enough neighbors.")
        return sum_in_order(sims * rs) / sum_in_order(sims), {"actual_k": len(sims)}


class KNNWithMeans(SymmetricAlgo):
    """The x's mean plus the similarity-weighted average of the neighbours' deviations from theirs."""

    FITTED = ("means",)

    def fit(self, trainset):
        super().fit(trainset)
        self.means = self.x_means()
        return self

    def estimate(self, u, i):
        unknown_pair(self.trainset, u, i)
        x, y = self.switch(u, i)
        nbs, sims, rs = self.neighbours(x, y)
        est = self.means[x]
        if len(sims) >= self.min_k and len(sims) > 0:
            est += sum_in_order(sims * (rs - self.means[nbs])) / sum_in_order(sims)
        return float(est), {"actual_k": len(sims)}


class KNNWithZScore(SymmetricAlgo):
    r"""The x's mean plus its standard deviation times the similarity-weighted average of the
    neighbours' z-scores, :math:`(r - \mu_v) / \sigma_v` (Surprise's ``KNNWithZScore``)."""

    FITTED = ("means", "sigmas", "overall_sigma")

    def fit(self, trainset):
        super().fit(trainset)
        rows = trainset.ratings_by_user if self.user_based else trainset.ratings_by_item
        self.overall_sigma = float(np.std(trainset.ratings_by_user.data))
        self.means, self.sigmas = np.zeros(self.n_x), np.zeros(self.n_x)
        for x in range(self.n_x):
            _, ratings = rows.row(x)
            self.means[x], sigma = np.mean(ratings), np.std(ratings)
            self.sigmas[x] = self.overall_sigma if sigma == 0.0 else sigma
        return self

    def estimate(self, u, i):
        unknown_pair(self.trainset, u, i)
        x, y = self.switch(u, i)
        nbs, sims, rs = self.neighbours(x, y)
        est = self.means[x]
        if len(sims) >= self.min_k and len(sims) > 0:
            z_scores = sims * (rs - self.means[nbs]) / self.sigmas[nbs]
            est += sum_in_order(z_scores) / sum_in_order(sims) * self.sigmas[x]
        return float(est), {"actual_k": len(sims)}


class KNNBaseline(SymmetricAlgo):
    """The baseline plus the similarity-weighted average of the neighbours' residuals.

    Surprise's advice is to use it with ``sim_options={'name': 'pearson_baseline'}``; its
    default similarity is still ``msd``. For an unknown user or item it predicts the part
    of the baseline it knows, and ``details`` says so.
    """

    FITTED = ("bx", "by")

    def fit(self, trainset):
        super().fit(trainset)
        self.compute_baselines()  # cached: pearson_baseline has already computed them
        self.bx, self.by = self.switch(self.bu, self.bi)
        return self

    def estimate(self, u, i):
        est = baseline_estimate(self.trainset, self.bu, self.bi, u, i)
        if isinstance(est, tuple):  # an unknown user or item: the part of the baseline it knows
            return est
        x, y = self.switch(u, i)
        nbs, sims, rs = self.neighbours(x, y)
        if len(sims) >= self.min_k and len(sims) > 0:
            neighbour_baselines = self.trainset.global_mean + self.bx[nbs] + self.by[y]
            est += sum_in_order(sims * (rs - neighbour_baselines)) / sum_in_order(sims)
        return float(est), {"actual_k": len(sims)}
