r"""The :class:`BaselineOnly` predictor, and :func:`baseline_estimate`, the estimate
:math:`\mu + b_u + b_i` that :class:`~tinymed.recsys.SVD` and
:class:`~tinymed.recsys.KNNBaseline` also fall back to (biases: :mod:`tinymed.recsys.baselines`)."""

from __future__ import annotations

from .algo_base import AlgoBase, cold_start_reason, known
from .baselines import validate_bsl_options


class BaselineOnly(AlgoBase):
    r"""Predict the baseline :math:`\hat r_{ui} = \mu + b_u + b_i` (no interaction at all).

    A user or item not in the trainset contributes no bias; ``details`` then says so.
    """

    def __init__(self, bsl_options=None, verbose=True):
        super().__init__(bsl_options=bsl_options, verbose=verbose)
        validate_bsl_options(self.bsl_options)

    def fit(self, trainset):
        super().fit(trainset)
        self.compute_baselines()
        return self

    def estimate(self, u, i):
        return baseline_estimate(self.trainset, self.bu, self.bi, u, i)


def baseline_estimate(trainset, bu, bi, u, i):
    r""":math:`\mu + b_u + b_i` for inner ids ``u, i``, with only the biases the trainset knows.

    Returns the estimate when both are known; otherwise ``(estimate, details)``, the details
    marking the prediction impossible and naming the part of the baseline it fell back to.
    """
    user_known, item_known = known(trainset, u, i)
    est = trainset.global_mean
    if user_known:
        est += bu[u]
    if item_known:
        est += bi[i]
    if user_known and item_known:
        return est
    fallback = {(True, False): "mu + b_u", (False, True): "mu + b_i", (False, False): "mu"}[(user_known, item_known)]
    return est, {"was_impossible": True, "reason": cold_start_reason(user_known, item_known, fallback)}
