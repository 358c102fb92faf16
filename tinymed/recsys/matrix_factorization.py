r"""Matrix factorisation: :class:`SVD` (biased MF by SGD), :class:`SVDpp` (with implicit
feedback), :class:`NMF` (non-negative), as Surprise has them, and :class:`MeanFilledSVD`.

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

**SVDpp** adds to :math:`p_u` what the *set* of items a user rated says about them (Koren
2008), :math:`\hat r_{ui} = \mu + b_u + b_i + q_i^\top (p_u + |I_u|^{-1/2} \sum_{j \in I_u} y_j)`;
**NMF** keeps :math:`p_u, q_i \ge 0` by multiplicative updates (Luo et al. 2014). Their update
rules are in their kernels' docstrings.

The sweeps are kernels of the active backend (``svd_sgd_epochs``, ``svdpp_sgd_epochs``,
``nmf_epochs``): the readable loops in :mod:`tinymed.kernels.reference.recsys` and
:mod:`tinymed.kernels.reference.recsys_factors`, or their compiled twins in
:mod:`tinymed.kernels.numba` (the same numbers, much faster). After every epoch the factors and
biases must still be finite: a learning rate too large for the data stops training with
:class:`~tinymed.recsys.checks.TrainingDiverged`, naming the epoch.

**MeanFilledSVD** is the closed-form alternative: fill the missing entries of R with a
mean, then keep the best rank-*k* approximation (Eckart-Young: the truncated SVD).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .algo_base import AlgoBase, cold_start_reason, known
from .baseline_only import baseline_estimate
from .checks import count, number, rates, run_epochs
from .predictions import PredictionImpossible
from .rng import get_rng


class SVD(AlgoBase):
    """Biased matrix factorisation trained by SGD (Funk SVD), Surprise's ``SVD``.

    ``biased=False`` drops :math:`\\mu, b_u, b_i`. ``lr_bu, lr_bi, lr_pu, lr_qi`` and
    ``reg_bu, ...`` override ``lr_all`` and ``reg_all`` for one parameter group; every rate is
    a finite number ``>= 0``. Attributes after ``fit``: ``bu, bi, pu, qi``.
    """

    FITTED = ("pu", "qi")

    def __init__(self, n_factors=100, n_epochs=20, biased=True, init_mean=0, init_std_dev=0.1,
                 lr_all=0.005, reg_all=0.02, lr_bu=None, lr_bi=None, lr_pu=None, lr_qi=None,
                 reg_bu=None, reg_bi=None, reg_pu=None, reg_qi=None, random_state=None, verbose=False):
        super().__init__(verbose=verbose)
        self.n_factors, self.n_epochs = count("SVD", "n_factors", n_factors), count("SVD", "n_epochs", n_epochs)
        self.biased = bool(biased)
        self.init_mean = number("SVD", "init_mean", init_mean)
        self.init_std_dev = number("SVD", "init_std_dev", init_std_dev, minimum=0)
        lr_all, reg_all = number("SVD", "lr_all", lr_all, minimum=0), number("SVD", "reg_all", reg_all, minimum=0)
        vars(self).update(rates("SVD", lr_all, lr_bu=lr_bu, lr_bi=lr_bi, lr_pu=lr_pu, lr_qi=lr_qi))
        vars(self).update(rates("SVD", reg_all, reg_bu=reg_bu, reg_bi=reg_bi, reg_pu=reg_pu, reg_qi=reg_qi))
        self.random_state = random_state

    def fit(self, trainset):
        super().fit(trainset)
        rng = get_rng(self.random_state, "SVD: random_state")
        self.pu = _normal(rng, self.init_mean, self.init_std_dev, (trainset.n_users, self.n_factors))
        self.qi = _normal(rng, self.init_mean, self.init_std_dev, (trainset.n_items, self.n_factors))
        self.bu, self.bi = np.zeros(trainset.n_users), np.zeros(trainset.n_items)
        sweep = backend.kernel("svd_sgd_epochs")
        R = trainset.ratings_by_user  # the sweep goes user by user
        users, items, ratings = R.row_of_entries(), R.indices, R.data
        mu = trainset.global_mean if self.biased else 0.0
        args = (self.biased, self.lr_bu, self.lr_bi, self.lr_pu, self.lr_qi,
                self.reg_bu, self.reg_bi, self.reg_pu, self.reg_qi)
        run_epochs("SVD.fit", self.n_epochs,
                   lambda _: sweep(users, items, ratings, mu, self.bu, self.bi, self.pu, self.qi, 1, *args),
                   self.verbose, bu=self.bu, bi=self.bi, pu=self.pu, qi=self.qi)
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


def _normal(rng, mean, std, shape):
    """Initial factors: ``N(mean, std^2)`` draws as float64."""
    return np.asarray(rng.normal(mean, std, size=shape), dtype=np.float64)


class SVDpp(AlgoBase):
    r"""SVD++: SVD plus implicit feedback, Surprise's ``SVDpp`` (Koren 2008, section 4).

    .. math:: \hat r_{ui} = \mu + b_u + b_i + q_i^\top \Big(p_u + |I_u|^{-1/2} \sum_{j \in I_u} y_j\Big)

    where :math:`I_u` are the items *u* rated and each :math:`y_j` is a second *k*-vector per
    item: having rated *j* at all says something about *u*, whatever the rating. All of
    :math:`b_u, b_i, p_u, q_i, y_j` are learnt by SGD on the squared error (rules: the kernel
    ``svdpp_sgd_epochs``); :math:`p_u, q_i, y_j` start as normal draws, in that order, the
    biases at 0. For an unknown user (item) :math:`b_u, p_u` (:math:`b_i, q_i`) count as 0.
    Surprise's names and defaults (``n_factors=20, n_epochs=20, lr_all=0.007, reg_all=0.02``);
    ``cache_ratings`` is accepted and changes nothing (each user's items are always at hand
    as a row of the trainset's sparse matrix). After ``fit``: ``bu, bi, pu, qi, yj``.
    """

    FITTED = ("pu", "qi", "yj")

    def __init__(self, n_factors=20, n_epochs=20, init_mean=0, init_std_dev=0.1, lr_all=0.007, reg_all=0.02,
                 lr_bu=None, lr_bi=None, lr_pu=None, lr_qi=None, lr_yj=None, reg_bu=None, reg_bi=None,
                 reg_pu=None, reg_qi=None, reg_yj=None, random_state=None, verbose=False, cache_ratings=False):
        super().__init__(verbose=verbose)
        self.n_factors = count("SVDpp", "n_factors", n_factors)
        self.n_epochs = count("SVDpp", "n_epochs", n_epochs)
        self.init_mean = number("SVDpp", "init_mean", init_mean)
        self.init_std_dev = number("SVDpp", "init_std_dev", init_std_dev, minimum=0)
        lr_all, reg_all = number("SVDpp", "lr_all", lr_all, minimum=0), number("SVDpp", "reg_all", reg_all, minimum=0)
        vars(self).update(rates("SVDpp", lr_all, lr_bu=lr_bu, lr_bi=lr_bi, lr_pu=lr_pu, lr_qi=lr_qi, lr_yj=lr_yj))
        vars(self).update(rates("SVDpp", reg_all, reg_bu=reg_bu, reg_bi=reg_bi, reg_pu=reg_pu, reg_qi=reg_qi,
                                reg_yj=reg_yj))
        self.random_state, self.cache_ratings = random_state, bool(cache_ratings)

    def fit(self, trainset):
        super().fit(trainset)
        rng = get_rng(self.random_state, "SVDpp: random_state")
        k = self.n_factors
        self.pu = _normal(rng, self.init_mean, self.init_std_dev, (trainset.n_users, k))
        self.qi = _normal(rng, self.init_mean, self.init_std_dev, (trainset.n_items, k))
        self.yj = _normal(rng, self.init_mean, self.init_std_dev, (trainset.n_items, k))
        self.bu, self.bi = np.zeros(trainset.n_users), np.zeros(trainset.n_items)
        sweep = backend.kernel("svdpp_sgd_epochs")
        R = trainset.ratings_by_user
        rates_ = (self.lr_bu, self.lr_bi, self.lr_pu, self.lr_qi, self.lr_yj,
                  self.reg_bu, self.reg_bi, self.reg_pu, self.reg_qi, self.reg_yj)
        run_epochs("SVDpp.fit", self.n_epochs,
                   lambda _: sweep(R.indptr, R.indices, R.data, trainset.global_mean, self.bu, self.bi, self.pu,
                                 self.qi, self.yj, 1, *rates_),
                   self.verbose, bu=self.bu, bi=self.bi, pu=self.pu, qi=self.qi, yj=self.yj)
        return self

    def estimate(self, u, i):
        baseline = baseline_estimate(self.trainset, self.bu, self.bi, u, i)
        if isinstance(baseline, tuple):  # an unknown user or item: the part of the baseline it knows
            return baseline
        items_u, _ = self.trainset.user_ratings(u)
        # added vector by vector, then divided, in this order: the numbers of Surprise's estimate
        implicit = sum(self.yj[j] for j in items_u) / np.sqrt(len(items_u))
        return float(baseline + np.dot(self.qi[i], self.pu[u] + implicit))


class NMF(AlgoBase):
    r"""Non-negative matrix factorisation, Surprise's ``NMF`` (Luo et al. 2014).

    :math:`\hat r_{ui} = q_i^\top p_u` with every :math:`p_{uf}, q_{if} \ge 0`, or with
    ``biased=True`` :math:`\mu + b_u + b_i + q_i^\top p_u`. The factors start uniform in
    ``[init_low, init_high]`` (users' then items') and are rescaled each epoch by
    multiplicative updates, which keep them non-negative when the ratings are (rules: the
    kernel ``nmf_epochs``); the biases move by SGD with ``lr_bu, lr_bi, reg_bu, reg_bi``.
    Surprise's names and defaults (``n_factors=15, n_epochs=50, reg_pu=reg_qi=0.06``). The
    unbiased model cannot predict an unknown user or item (the global mean is given instead);
    the biased one gives the part of the baseline it knows. After ``fit``: ``pu, qi, bu, bi``.
    """

    FITTED = ("pu", "qi")

    def __init__(self, n_factors=15, n_epochs=50, biased=False, reg_pu=0.06, reg_qi=0.06, reg_bu=0.02,
                 reg_bi=0.02, lr_bu=0.005, lr_bi=0.005, init_low=0, init_high=1, random_state=None, verbose=False):
        super().__init__(verbose=verbose)
        self.n_factors, self.n_epochs = count("NMF", "n_factors", n_factors), count("NMF", "n_epochs", n_epochs)
        self.biased = bool(biased)
        vars(self).update(rates("NMF", None, reg_pu=reg_pu, reg_qi=reg_qi, reg_bu=reg_bu, reg_bi=reg_bi,
                                lr_bu=lr_bu, lr_bi=lr_bi))
        self.init_low = number("NMF", "init_low", init_low, minimum=0)
        self.init_high = number("NMF", "init_high", init_high, minimum=self.init_low)
        self.random_state = random_state

    def fit(self, trainset):
        super().fit(trainset)
        rng = get_rng(self.random_state, "NMF: random_state")
        shape_u, shape_i = (trainset.n_users, self.n_factors), (trainset.n_items, self.n_factors)
        self.pu = np.asarray(rng.uniform(self.init_low, self.init_high, size=shape_u), dtype=np.float64)
        self.qi = np.asarray(rng.uniform(self.init_low, self.init_high, size=shape_i), dtype=np.float64)
        self.bu, self.bi = np.zeros(trainset.n_users), np.zeros(trainset.n_items)
        step = backend.kernel("nmf_epochs")
        R = trainset.ratings_by_user
        mu = trainset.global_mean if self.biased else 0.0
        args = (self.biased, self.lr_bu, self.lr_bi, self.reg_pu, self.reg_qi, self.reg_bu, self.reg_bi)
        run_epochs("NMF.fit", self.n_epochs,
                   lambda _: step(R.indptr, R.indices, R.data, mu, self.bu, self.bi, self.pu, self.qi, 1, *args),
                   self.verbose, bu=self.bu, bi=self.bi, pu=self.pu, qi=self.qi)
        return self

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if self.biased:
            baseline = baseline_estimate(self.trainset, self.bu, self.bi, u, i)
            if not (user_known and item_known):
                return baseline
            return float(baseline + np.dot(self.qi[i], self.pu[u]))
        if not (user_known and item_known):
            raise PredictionImpossible(cold_start_reason(user_known, item_known, "the global mean"))
        return float(np.dot(self.qi[i], self.pu[u]))


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
    FITTED = ("user_means", "item_means", "singular_values", "R_hat")

    def __init__(self, n_factors=10, fill="item_mean"):
        super().__init__()
        count("MeanFilledSVD", "n_factors", n_factors)
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
