r"""Matrix factorisation: :class:`SVD` (biased MF by SGD, as Surprise) and :class:`MeanFilledSVD`.

**SVD** (article 002 §4.2, snippet S5) models a rating as

.. math:: \hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u

with a *k*-vector :math:`p_u` per user and :math:`q_i` per item, and minimises

.. math:: \sum_{r_{ui}} (r_{ui} - \hat r_{ui})^2 + \lambda (b_u^2 + b_i^2 + \|q_i\|^2 + \|p_u\|^2)

by stochastic gradient descent: sweeping the ratings user by user, for each one

.. math::
    e_{ui} &= r_{ui} - \hat r_{ui} \\
    b_u &\leftarrow b_u + \gamma (e_{ui} - \lambda b_u) \qquad
    b_i \leftarrow b_i + \gamma (e_{ui} - \lambda b_i) \\
    p_u &\leftarrow p_u + \gamma (e_{ui} q_i - \lambda p_u) \qquad
    q_i \leftarrow q_i + \gamma (e_{ui} p_u - \lambda q_i)

(the :math:`q_i` update uses :math:`p_u` from before its own update). :math:`p_u, q_i`
start as :math:`\mathcal N(\text{init\_mean}, \text{init\_std\_dev}^2)` draws -- users' then
items', from a NumPy RandomState -- and the biases at 0. Names and defaults are
Surprise's (``n_factors=100, n_epochs=20, lr_all=0.005, reg_all=0.02``), and so is every
number: with the same ``random_state`` tinymed and Surprise learn the same factors.

The sweep is the kernel ``svd_sgd_epochs`` of the active backend: the readable loop in
:mod:`tinymed.kernels.reference.recsys`, or its compiled twin in :mod:`tinymed.kernels.numba.recsys`
(the same numbers, much faster).

**MeanFilledSVD** is the closed-form alternative: fill the missing entries of R with a
mean, then keep the best rank-*k* approximation (Eckart-Young: the truncated SVD).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .algo_base import AlgoBase, cold_start_reason, known
from .baseline_only import baseline_estimate
from .predictions import PredictionImpossible
from .rng import get_rng


class SVD(AlgoBase):
    """Biased matrix factorisation trained by SGD (Funk SVD), Surprise's ``SVD``.

    ``biased=False`` drops :math:`\\mu, b_u, b_i`. ``lr_bu, lr_bi, lr_pu, lr_qi`` and
    ``reg_bu, ...`` override ``lr_all`` and ``reg_all`` for one parameter group.
    Attributes after ``fit``: ``bu, bi, pu, qi``.
    """

    def __init__(self, n_factors=100, n_epochs=20, biased=True, init_mean=0, init_std_dev=0.1,
                 lr_all=0.005, reg_all=0.02, lr_bu=None, lr_bi=None, lr_pu=None, lr_qi=None,
                 reg_bu=None, reg_bi=None, reg_pu=None, reg_qi=None, random_state=None, verbose=False):
        super().__init__(verbose=verbose)
        for name, value in (("n_factors", n_factors), ("n_epochs", n_epochs)):
            if not (isinstance(value, (int, np.integer)) and value >= 0):
                raise ValueError(f"SVD: {name} must be an integer >= 0, got {value!r}")
        if not init_std_dev >= 0:
            raise ValueError(f"SVD: init_std_dev must be >= 0, got {init_std_dev!r}")
        self.n_factors, self.n_epochs, self.biased = int(n_factors), int(n_epochs), bool(biased)
        self.init_mean, self.init_std_dev = float(init_mean), float(init_std_dev)
        pick = lambda value, default: float(default if value is None else value)  # noqa: E731
        self.lr_bu, self.lr_bi = pick(lr_bu, lr_all), pick(lr_bi, lr_all)
        self.lr_pu, self.lr_qi = pick(lr_pu, lr_all), pick(lr_qi, lr_all)
        self.reg_bu, self.reg_bi = pick(reg_bu, reg_all), pick(reg_bi, reg_all)
        self.reg_pu, self.reg_qi = pick(reg_pu, reg_all), pick(reg_qi, reg_all)
        self.random_state = random_state

    def fit(self, trainset):
        super().fit(trainset)
        rng = get_rng(self.random_state, "SVD: random_state")
        shape_u, shape_i = (trainset.n_users, self.n_factors), (trainset.n_items, self.n_factors)
        self.pu = np.asarray(rng.normal(self.init_mean, self.init_std_dev, size=shape_u), dtype=np.float64)
        self.qi = np.asarray(rng.normal(self.init_mean, self.init_std_dev, size=shape_i), dtype=np.float64)
        self.bu, self.bi = np.zeros(trainset.n_users), np.zeros(trainset.n_items)
        sweep = backend.kernel("svd_sgd_epochs")
        R = trainset.ratings_by_user  # the sweep goes user by user
        users, items, ratings = R.row_of_entries(), R.indices, R.data
        mu = trainset.global_mean if self.biased else 0.0
        args = (self.biased, self.lr_bu, self.lr_bi, self.lr_pu, self.lr_qi,
                self.reg_bu, self.reg_bi, self.reg_pu, self.reg_qi)
        if self.verbose:  # one epoch per call, to report progress; the numbers do not change
            for epoch in range(self.n_epochs):
                print(f"Processing epoch {epoch}")
                sweep(users, items, ratings, mu, self.bu, self.bi, self.pu, self.qi, 1, *args)
        else:
            sweep(users, items, ratings, mu, self.bu, self.bi, self.pu, self.qi, self.n_epochs, *args)
        return self

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if not self.biased:
            if not (user_known and item_known):
                raise PredictionImpossible(cold_start_reason(user_known, item_known, "the global mean"))
            return float(np.dot(self.qi[i], self.pu[u]))
        baseline = baseline_estimate(self.trainset, self.bu, self.bi, u, i)
        if user_known and item_known:
            return float(baseline + np.dot(self.qi[i], self.pu[u]))
        est, details = baseline
        return float(est), details


class MeanFilledSVD(AlgoBase):
    r"""Closed form: fill R's gaps with a mean, keep the rank-``n_factors`` truncated SVD.

    With ``fill='item_mean'`` (or ``'user_mean'``, ``'global_mean'``) giving the matrix
    :math:`F` of fill values, :math:`Z = R - F` on the rated entries and 0 elsewhere, and
    :math:`Z = U \Sigma V^\top`:

    .. math:: \hat R = F + U_k \Sigma_k V_k^\top

    is the best rank-*k* fit to the filled matrix -- which treats every gap as if the
    patient had rated it exactly the mean, the reason SGD on the observed ratings only
    (:class:`SVD`) usually does better.
    """

    FILLS = ("item_mean", "user_mean", "global_mean")

    def __init__(self, n_factors=10, fill="item_mean"):
        super().__init__()
        if not (isinstance(n_factors, (int, np.integer)) and n_factors >= 0):
            raise ValueError(f"MeanFilledSVD: n_factors must be an integer >= 0, got {n_factors!r}")
        if fill not in self.FILLS:
            raise ValueError(f"MeanFilledSVD: fill must be one of {', '.join(self.FILLS)}, got {fill!r}")
        self.n_factors, self.fill = int(n_factors), fill

    def fit(self, trainset):
        super().fit(trainset)
        t = trainset
        self.user_means = np.bincount(t.users, weights=t.ratings) / np.bincount(t.users)
        self.item_means = np.bincount(t.items, weights=t.ratings) / np.bincount(t.items)
        F = self._fill_matrix()
        Z = np.zeros((t.n_users, t.n_items))
        Z[t.users, t.items] = t.ratings - F[t.users, t.items]
        U, s, Vt = np.linalg.svd(Z, full_matrices=False)
        k = min(self.n_factors, len(s))
        self.singular_values = s
        self.R_hat = F + (U[:, :k] * s[:k]) @ Vt[:k]
        return self

    def _fill_matrix(self):
        t = self.trainset
        if self.fill == "item_mean":
            return np.broadcast_to(self.item_means, (t.n_users, t.n_items))
        if self.fill == "user_mean":
            return np.broadcast_to(self.user_means[:, None], (t.n_users, t.n_items))
        return np.full((t.n_users, t.n_items), t.global_mean)

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if user_known and item_known:
            return float(self.R_hat[u, i])
        if item_known and self.fill == "item_mean":
            est, fallback = self.item_means[i], "the item's mean"
        elif user_known and self.fill == "user_mean":
            est, fallback = self.user_means[u], "the user's mean"
        else:
            est, fallback = self.trainset.global_mean, "the global mean"
        return float(est), {"was_impossible": True, "reason": cold_start_reason(user_known, item_known, fallback)}
