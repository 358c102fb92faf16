r""":class:`NormalPredictor`: a rating drawn at random, the floor every real predictor must beat."""

from __future__ import annotations

import numpy as np

from .algo_base import AlgoBase
from .rng import get_rng


class NormalPredictor(AlgoBase):
    r"""Predict a random draw from :math:`\mathcal N(\hat\mu, \hat\sigma^2)`, Surprise's ``NormalPredictor``.

    :math:`\hat\mu` is the mean rating and :math:`\hat\sigma` the maximum-likelihood standard
    deviation, :math:`\hat\sigma^2 = \frac1n \sum_{r_{ui}} (r_{ui} - \hat\mu)^2` (added in the
    order of the ratings, as Surprise adds them). It knows nothing of users or items, so it
    predicts an unknown one like any other. ``random_state`` (tinymed's addition): None draws
    from NumPy's global generator, as Surprise does; an int seeds a generator at ``fit``, so a
    fitted predictor's draws can be repeated.
    """

    FITTED = ("sigma",)

    def __init__(self, random_state=None):
        super().__init__()
        self.random_state = random_state
        self._rng = None

    def fit(self, trainset):
        super().fit(trainset)
        squares = ((trainset.ratings_by_user.data - trainset.global_mean) ** 2).tolist()
        self.sigma = float(np.sqrt(sum(squares) / trainset.n_ratings))
        self._rng = get_rng(self.random_state, "NormalPredictor: random_state")
        return self

    def estimate(self, *_):
        if self._rng is None:  # loaded from a dump: the generator starts where the seed says
            self._rng = get_rng(self.random_state, "NormalPredictor: random_state")
        return float(self._rng.normal(self.trainset.global_mean, self.sigma))
