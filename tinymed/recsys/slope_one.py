r""":class:`SlopeOne`: predict from how much better, on average, an item is rated than the others.

Lemire & Maclachlan (2005). For every pair of items, the mean difference of the ratings of the
users who rated both, :math:`\mathrm{dev}(i, j)` (kernel ``slope_one_deviations``: a numba loop,
or dense matrix products in the reference). Then for user *u* and item *i*, with
:math:`R_i(u)` the items *u* rated that share at least one user with *i*:

.. math:: \hat r_{ui} = \mu_u + \frac{1}{|R_i(u)|} \sum_{j \in R_i(u)} \mathrm{dev}(i, j)
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .algo_base import AlgoBase, cold_start_reason, known
from .predictions import PredictionImpossible


class SlopeOne(AlgoBase):
    """Surprise's ``SlopeOne`` (no parameters). After ``fit``: ``freq`` and ``dev``, both
    ``(n_items, n_items)``, and ``user_mean``."""

    FITTED = ("freq", "dev", "user_mean")

    def __init__(self):
        super().__init__()

    def fit(self, trainset):
        super().fit(trainset)
        R = trainset.ratings_by_user
        self.freq, self.dev = backend.kernel("slope_one_deviations")(R.indptr, R.indices, R.data, trainset.n_items)
        self.user_mean = np.array([np.mean(R.row(u)[1]) for u in range(trainset.n_users)])
        return self

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if not (user_known and item_known):
            raise PredictionImpossible(cold_start_reason(user_known, item_known, "the global mean"))
        items_u, _ = self.trainset.user_ratings(u)
        shared = items_u[self.freq[i, items_u] > 0]
        est = float(self.user_mean[u])
        if len(shared):
            est += sum(self.dev[i, shared].tolist()) / len(shared)  # Python's sum, as Surprise adds them
        return est
