r""":class:`CoClustering`: users and items grouped into clusters, predicted from cluster means.

George & Merugu (2005). Users fall into ``n_cltr_u`` clusters :math:`C`, items into ``n_cltr_i``
clusters :math:`D`; with :math:`\bar r_C`, :math:`\bar r_D`, :math:`\bar r_{CD}` the mean ratings
of a user cluster, an item cluster and a co-cluster, and :math:`\bar r_u`, :math:`\bar r_i` a
user's and an item's mean,

.. math:: \hat r_{ui} = \bar r_{C(u)D(i)} + (\bar r_u - \bar r_{C(u)}) + (\bar r_i - \bar r_{D(i)})

Clusters start at random and, each epoch, every user (then every item) moves to the cluster
whose estimates of its ratings have the least squared error (kernel ``co_clustering_epochs``).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .algo_base import AlgoBase, cold_start_reason, known
from .checks import count, run_epochs
from .rng import get_rng, randint


class CoClustering(AlgoBase):
    """Surprise's ``CoClustering`` (``n_cltr_u=3, n_cltr_i=3, n_epochs=20``). An unknown user or
    item gets the global mean. After ``fit``: ``cltr_u``, ``cltr_i`` (each one's cluster),
    ``user_mean``, ``item_mean``, ``avg_cltr_u``, ``avg_cltr_i``, ``avg_cocltr``."""

    FITTED = ("cltr_u", "cltr_i", "user_mean", "item_mean", "avg_cltr_u", "avg_cltr_i", "avg_cocltr")

    def __init__(self, n_cltr_u=3, n_cltr_i=3, n_epochs=20, random_state=None, verbose=False):
        super().__init__(verbose=verbose)
        self.n_cltr_u = count("CoClustering", "n_cltr_u", n_cltr_u, minimum=1)
        self.n_cltr_i = count("CoClustering", "n_cltr_i", n_cltr_i, minimum=1)
        self.n_epochs = count("CoClustering", "n_epochs", n_epochs)
        self.random_state = random_state

    def fit(self, trainset):
        super().fit(trainset)
        t = trainset
        rng = get_rng(self.random_state, "CoClustering: random_state")
        self.cltr_u = np.asarray(randint(rng, self.n_cltr_u, size=t.n_users), dtype=np.int64)
        self.cltr_i = np.asarray(randint(rng, self.n_cltr_i, size=t.n_items), dtype=np.int64)
        by_user, by_item = t.ratings_by_user, t.ratings_by_item
        self.user_mean = np.array([np.mean(by_user.row(u)[1]) for u in range(t.n_users)])
        self.item_mean = np.array([np.mean(by_item.row(i)[1]) for i in range(t.n_items)])
        rounds = backend.kernel("co_clustering_epochs")
        user_rows = (by_user.indptr, by_user.indices, by_user.data)
        item_rows = (by_item.indptr, by_item.indices, by_item.data)
        run_epochs("CoClustering.fit", self.n_epochs,
                   lambda _: rounds(user_rows, item_rows, self.user_mean, self.item_mean, self.cltr_u, self.cltr_i,
                                  self.n_cltr_u, self.n_cltr_i, 1, t.global_mean), self.verbose)
        self.avg_cltr_u, self.avg_cltr_i, self.avg_cocltr = backend.kernel("co_cluster_averages")(
            by_user.row_of_entries(), by_user.indices, by_user.data, self.cltr_u, self.cltr_i, self.n_cltr_u,
            self.n_cltr_i, t.global_mean)
        return self

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if not (user_known and item_known):
            reason = cold_start_reason(user_known, item_known, "the global mean")
            return self.trainset.global_mean, {"was_impossible": True, "reason": reason}
        uc, ic = self.cltr_u[u], self.cltr_i[i]
        return float(self.avg_cocltr[uc, ic] + self.user_mean[u] - self.avg_cltr_u[uc]
                     + self.item_mean[i] - self.avg_cltr_i[ic])
