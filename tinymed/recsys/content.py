r"""Content-based and hybrid filtering (article 004 §3.2.2-3.2.3; F15, F16).

**Content filtering (F15).** Each treatment has a feature vector *f* (its mechanism, route,
...). Two treatments are similar when their vectors are; the article's item similarity
(§3.2.2.3) has the same form as its F14,

.. math:: \mathrm{sim}(p, q) = 1 - \frac{\sqrt{\sum_i (f_{pi} - f_{qi})^2}}{\sqrt{\sum_i f_{pi}^2 \sum_i f_{qi}^2}} .

:class:`ContentBased` predicts a patient's response to treatment *i* from their own
responses to the *k* treatments most similar to *i* in content. It needs no other
patient -- and it can score a *new* treatment nobody has received yet, if its features
are known (collaborative filtering cannot).

**Hybrid filtering (F16).** The article's weights (§3.2.3.1-2), as written,

.. math:: w_u = \frac{\sum_{j=1}^n r_{uj}\,\mathrm{sim}(u,v)}{\sum_{j=1}^n \mathrm{sim}(u,v)}, \qquad
          r_{uv} = \sum_{j=1}^n w_u\, r_{uj},

are ill-posed: :math:`\mathrm{sim}(u,v)` does not depend on *j*, so it cancels and
:math:`w_u = \bar r_u` (the user's mean rating); then :math:`r_{uv} = n\,\bar r_u^2`, which
grows with the number of ratings, is off the rating scale, and is the same for every
item *v*. :func:`article_hybrid` computes it literally and :class:`ArticleHybrid` predicts
with it, so a lesson can show the damage. The well-posed hybrid is a weighted blend of
a collaborative and a content prediction, :class:`WeightedHybrid`:
:math:`\hat r_{ui} = \sum_k \alpha_k \hat r^{(k)}_{ui} / \sum_k \alpha_k`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .algo_base import AlgoBase, cold_start_reason, known
from .predictions import PredictionImpossible
from .similarities import feature_similarity


class ContentBased(AlgoBase):
    """Item-based neighbourhood prediction with similarities from item feature vectors.

    ``item_features`` maps raw item id -> feature vector (or is a pair ``(ids, matrix)``).
    ``sim`` is one of ``cosine`` (default), ``msd``, ``pearson``, ``article_euclidean`` (F15
    as written). With ``baseline=True`` the neighbours' residuals from the baseline
    :math:`\\mu + b_u + b_j` are averaged and added to :math:`b_{ui}` (as KNNBaseline does);
    otherwise their ratings are averaged (the plain F15 recipe).
    """

    def __init__(self, item_features, k=40, min_k=1, sim="cosine", baseline=False, bsl_options=None,
                 verbose=False):
        super().__init__(bsl_options=bsl_options, verbose=verbose)
        ids, matrix = _features(item_features)
        self.feature_ids = ids
        self.features = matrix
        self._row = {raw: r for r, raw in enumerate(ids)}
        if not (isinstance(k, (int, np.integer)) and k >= 1):
            raise ValueError(f"ContentBased: k must be an integer >= 1, got {k!r}")
        if not (isinstance(min_k, (int, np.integer)) and min_k >= 0):
            raise ValueError(f"ContentBased: min_k must be an integer >= 0, got {min_k!r}")
        self.k, self.min_k, self.sim_name, self.baseline = int(k), int(min_k), sim, bool(baseline)
        self.item_sim = feature_similarity(matrix, sim)
        self._raw_iid = None

    def fit(self, trainset):
        super().fit(trainset)
        missing = [trainset.to_raw_iid(i) for i in trainset.all_items()
                   if trainset.to_raw_iid(i) not in self._row]
        if missing:
            raise ValueError(f"ContentBased.fit: {len(missing)} item(s) of the trainset have no feature "
                             f"vector, e.g. {missing[:5]!r}")
        self.row_of_inner = np.array([self._row[trainset.to_raw_iid(i)] for i in trainset.all_items()],
                                     dtype=np.int64)
        if self.baseline:
            self.compute_baselines()
        return self

    def predict(self, uid, iid, r_ui=None, clip=True, verbose=False):
        # estimate() needs the raw item id: a new item has no inner id, only features
        self._raw_iid = iid
        try:
            return super().predict(uid, iid, r_ui, clip=clip, verbose=verbose)
        finally:
            self._raw_iid = None

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if not user_known:
            raise PredictionImpossible(cold_start_reason(user_known, item_known, "the global mean"))
        if self._raw_iid is not None:
            row = self._row.get(self._raw_iid)
        else:
            row = self.row_of_inner[i] if item_known else None
        if row is None:
            raise PredictionImpossible(f"Item {self._raw_iid if self._raw_iid is not None else i!r} "
                                       "has no feature vector.")
        items_u, ratings_u = self.trainset.user_ratings(u)
        sims = self.item_sim[row, self.row_of_inner[items_u]]
        top = np.argsort(-sims, kind="stable")[: self.k]
        top = top[sims[top] > 0]
        details = {"actual_k": len(top), "new_item": not item_known}
        if self.baseline:
            mu, bu, bi = self.trainset.global_mean, self.bu, self.bi
            est = mu + bu[u] + (bi[i] if item_known else 0.0)
            if len(top) >= max(self.min_k, 1):
                residuals = ratings_u[top] - (mu + bu[u] + bi[items_u[top]])
                est += np.sum(sims[top] * residuals) / np.sum(sims[top])
            return float(est), details
        if len(top) < max(self.min_k, 1):
            raise PredictionImpossible("Not enough neighbors.")
        return float(np.sum(sims[top] * ratings_u[top]) / np.sum(sims[top])), details


def _features(item_features):
    if isinstance(item_features, Mapping):
        ids = list(item_features)
        rows = [np.asarray(item_features[k], dtype=np.float64) for k in ids]
    else:
        try:
            ids, matrix = item_features
        except (TypeError, ValueError):
            raise TypeError("ContentBased: item_features must be a mapping {item id: vector} or a pair "
                            f"(ids, matrix), got {type(item_features).__name__}") from None
        ids, rows = list(ids), list(np.asarray(matrix, dtype=np.float64))
    if not ids:
        raise ValueError("ContentBased: item_features is empty")
    if len({r.shape for r in rows}) != 1 or rows[0].ndim != 1:
        raise ValueError("ContentBased: every item's features must be a vector of one length, got shapes "
                         f"{sorted({r.shape for r in rows})}")
    if len(set(ids)) != len(ids):
        raise ValueError("ContentBased: an item id appears twice in item_features")
    return ids, np.stack(rows)


def article_hybrid(ratings_u, sim_uv):
    r"""Article 004 §3.2.3 (F16) as written: ``(w_u, r_uv)`` for user *u*'s ratings ``r_u1..r_un``.

    :math:`w_u = \sum_j r_{uj}\,\mathrm{sim}(u,v) / \sum_j \mathrm{sim}(u,v)` and
    :math:`r_{uv} = \sum_j w_u r_{uj}`. Whatever ``sim_uv`` is (non-zero), ``w_u`` is the mean
    rating and ``r_uv = n * mean**2``.
    """
    r = np.asarray(ratings_u, dtype=np.float64)
    if r.ndim != 1 or len(r) == 0:
        raise ValueError(f"article_hybrid: expected a non-empty vector of ratings, got shape {r.shape}")
    if sim_uv == 0:
        raise ValueError("article_hybrid: sim(u, v) = 0 makes w_u = 0/0")
    w_u = np.sum(r * sim_uv) / np.sum(np.full(len(r), float(sim_uv)))
    r_uv = np.sum(w_u * r)
    return float(w_u), float(r_uv)


class ArticleHybrid(AlgoBase):
    """Predict with F16 as written: ``r_uv = n_u * mean_u**2`` (see :func:`article_hybrid`).

    The similarity cancels, so none is computed. The estimate does not depend on the item
    and is clipped to the top of the rating scale for almost every patient: this class is
    here to be measured, not used.
    """

    def estimate(self, u, i):
        if not self.trainset.knows_user(u):
            raise PredictionImpossible(cold_start_reason(False, known(self.trainset, u, i)[1], "the global mean"))
        _, ratings_u = self.trainset.user_ratings(u)
        w_u, r_uv = article_hybrid(ratings_u, 1.0)
        return r_uv, {"w_u": w_u}


class WeightedHybrid(AlgoBase):
    """Weighted blend of several predictors' estimates: ``sum_k a_k est_k / sum_k a_k``.

    A component that cannot predict a pair (``was_impossible``) drops out of that pair's
    blend and the remaining weights are renormalised. When no weighted component can
    predict it -- a new treatment, say, with all the weight on SVD -- the components that
    can (a content predictor given weight 0) are averaged instead, and ``details`` says so:
    a weight tunes the blend, it does not switch a fallback off. If none can, the blend of
    their fallbacks is returned, marked impossible. ``weights`` default to equal;
    :meth:`set_weights` changes them without refitting, and without predicting again: the
    components' estimates of each (user, item) pair are kept until the next ``fit``, so
    trying many weights on a validation set costs one pass of the components.
    """

    def __init__(self, algorithms, weights=None):
        super().__init__()
        self.algorithms = list(algorithms)
        if not self.algorithms or not all(isinstance(a, AlgoBase) for a in self.algorithms):
            raise TypeError("WeightedHybrid: expected a non-empty list of tinymed.recsys predictors")
        self.set_weights(weights)

    def set_weights(self, weights):
        w = np.ones(len(self.algorithms)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.algorithms),) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(f"WeightedHybrid: expected {len(self.algorithms)} non-negative weights with a "
                             f"positive sum, got {weights!r}")
        self.weights = w
        return self

    def fit(self, trainset):
        super().fit(trainset)
        for algo in self.algorithms:
            algo.fit(trainset)
        self._components = {}
        return self

    def component_estimates(self, uid, iid):
        """``(estimates, usable)``: each component's unclipped estimate of the pair, and
        whether it could make one; computed once per pair after ``fit``."""
        self._check_fitted("component_estimates")
        key = (uid, iid)
        if key not in self._components:
            parts = [a.predict(uid, iid, clip=False) for a in self.algorithms]
            self._components[key] = (np.array([p.est for p in parts]),
                                     np.array([not p.details.get("was_impossible", False) for p in parts]))
        return self._components[key]

    def predict(self, uid, iid, r_ui=None, clip=True, verbose=False):
        self._check_fitted("predict")
        ests, usable = self.component_estimates(uid, iid)
        details = {"was_impossible": False, "components": ests.tolist()}
        if (usable & (self.weights > 0)).any():
            w = self.weights * usable
        elif usable.any():
            w = usable.astype(np.float64)
            details["fallback"] = "No weighted component could predict this pair; averaged those that could."
        else:
            w = self.weights
            details.update(was_impossible=True, reason="No component could predict this pair.")
        est = float(np.sum(w * ests) / np.sum(w))
        return self._prediction(uid, iid, r_ui, est, details, clip, verbose)
