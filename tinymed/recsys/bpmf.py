r"""Bayesian probabilistic matrix factorisation (BPMF; Salakhutdinov & Mnih, ICML 2008).

The model of :class:`~tinymed.recsys.SVD` without its biases, made Bayesian:

.. math::
    r_{ui} \sim \mathcal N(\mu + p_u^\top q_i,\ \alpha^{-1}), \qquad
    p_u \sim \mathcal N(\mu_U, \Lambda_U^{-1}), \qquad q_i \sim \mathcal N(\mu_V, \Lambda_V^{-1}),

with :math:`\mu` the mean rating, Normal-Wishart priors on :math:`(\mu_U, \Lambda_U)` and
:math:`(\mu_V, \Lambda_V)` (mean 0, :math:`\beta_0 = 2`, scale :math:`W_0 = I`,
:math:`\nu_0 = k` degrees of freedom) and a Gamma(1, 1) prior on the noise precision
:math:`\alpha`. Instead of one point estimate (SGD's), it *averages the prediction over
samples of the posterior*, drawn by Gibbs sampling; each sweep draws in turn

1. :math:`\alpha \mid \cdot \sim \mathrm{Gamma}(a_0 + n/2,\ b_0 + \tfrac12 \sum (r_{ui} - \mu - p_u^\top q_i)^2)`;
2. :math:`(\mu_U, \Lambda_U) \mid P`: with :math:`N` users, mean :math:`\bar p` and scatter
   :math:`S = \frac1N \sum_u (p_u - \bar p)(p_u - \bar p)^\top`,
   :math:`\Lambda_U \sim \mathcal W(W^*, \nu_0 + N)` with
   :math:`(W^*)^{-1} = W_0^{-1} + N S + \frac{\beta_0 N}{\beta_0 + N} \bar p \bar p^\top`, then
   :math:`\mu_U \sim \mathcal N(\frac{N \bar p}{\beta_0 + N}, ((\beta_0 + N)\Lambda_U)^{-1})`;
3. every user's :math:`p_u \mid \cdot \sim \mathcal N(m_u, \Lambda_u^{-1})` with
   :math:`\Lambda_u = \Lambda_U + \alpha \sum_{i \in I_u} q_i q_i^\top` and
   :math:`\Lambda_u m_u = \Lambda_U \mu_U + \alpha \sum_{i \in I_u} (r_{ui} - \mu)\, q_i`
   (independent given the items: a linear solve per user);
4. steps 2-3 for the items, given the users.

The prediction is :math:`\mu + \frac1S \sum_s p_u^{(s)\top} q_i^{(s)}` over the ``S`` sweeps
after ``burn_in``. Laying the samples side by side, :math:`\bar P = [p^{(1)} \dots p^{(S)}] / \sqrt S`
(and :math:`\bar Q` likewise), makes that average one dot product :math:`\bar P_u^\top \bar Q_i`.

Step 3 is the kernel ``bpmf_sample_rows`` of the active backend: NumPy in
:mod:`tinymed.kernels.reference.recsys` (read this one), or the same numbers compiled in
:mod:`tinymed.kernels.numba.recsys`; the Gaussian draws are made in NumPy beforehand so both
use the very same ones.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from .algo_base import AlgoBase, cold_start_reason, known
from .checks import check_finite, count, number
from .rng import get_rng


class BPMF(AlgoBase):
    """Bayesian matrix factorisation by Gibbs sampling (model and sampler: module docstring).

    ``n_factors`` is *k*; ``n_samples`` Gibbs sweeps are run and the first ``burn_in`` are
    not averaged. ``alpha=None`` samples the noise precision; a number fixes it (the
    paper used 2). After ``fit``: ``P_mean, Q_mean`` (the stacked samples), ``alphas``
    (one per sweep) and ``train_rmse`` (of each sweep's sample).
    """

    FITTED = ("P_mean", "Q_mean", "alphas", "train_rmse")

    def __init__(self, n_factors=20, n_samples=200, burn_in=20, alpha=None, beta0=2.0, init_std_dev=0.1,
                 random_state=None, verbose=False):
        super().__init__(verbose=verbose)
        self.n_factors = count("BPMF", "n_factors", n_factors, minimum=1)
        self.n_samples = count("BPMF", "n_samples", n_samples, minimum=1)
        self.burn_in = count("BPMF", "burn_in", burn_in)
        if burn_in >= n_samples:
            raise ValueError(f"BPMF: burn_in ({burn_in}) must be less than n_samples ({n_samples})")
        self.alpha = None if alpha is None else number("BPMF", "alpha (None: sampled)", alpha, minimum=0, strict=True)
        self.beta0 = number("BPMF", "beta0", beta0, minimum=0, strict=True)
        self.init_std_dev = number("BPMF", "init_std_dev", init_std_dev, minimum=0)
        self.random_state = random_state

    def fit(self, trainset):
        super().fit(trainset)
        t, k = trainset, self.n_factors
        rng = get_rng(self.random_state, "BPMF: random_state")
        mu = t.global_mean
        # each side's rows: CSR (indptr, columns, centred ratings), a row's ratings in arrival order
        by_user = (t.ratings_by_user.indptr, t.ratings_by_user.indices, t.ratings_by_user.data - mu)
        by_item = (t.ratings_by_item.indptr, t.ratings_by_item.indices, t.ratings_by_item.data - mu)
        P = rng.normal(0, self.init_std_dev, (t.n_users, k))
        Q = rng.normal(0, self.init_std_dev, (t.n_items, k))
        sample_rows = backend.kernel("bpmf_sample_rows")
        kept = self.n_samples - self.burn_in
        self.P_mean, self.Q_mean = np.zeros((t.n_users, kept * k)), np.zeros((t.n_items, kept * k))
        self.alphas, self.train_rmse = [], []
        for sweep in range(self.n_samples):
            residual = t.ratings - mu - np.einsum("nk,nk->n", P[t.users], Q[t.items])
            self.train_rmse.append(float(np.sqrt(np.mean(residual**2))))
            alpha = self.alpha or rng.gamma(1.0 + len(residual) / 2, 1.0 / (1.0 + 0.5 * residual @ residual))
            self.alphas.append(float(alpha))
            for X, Y, rows in ((P, Q, by_user), (Q, P, by_item)):
                mean, precision = sample_normal_wishart(X, self.beta0, rng)
                noise = rng.standard_normal(X.shape)
                sample_rows(*rows, Y, precision, precision @ mean, float(alpha), noise, X)
            check_finite("BPMF.fit", sweep, self.n_samples, P=P, Q=Q)
            if sweep >= self.burn_in:
                s = sweep - self.burn_in
                self.P_mean[:, s * k:(s + 1) * k] = P / np.sqrt(kept)
                self.Q_mean[:, s * k:(s + 1) * k] = Q / np.sqrt(kept)
            if self.verbose and (sweep % 20 == 0 or sweep == self.n_samples - 1):
                print(f"sweep {sweep}: alpha {alpha:.3f}, train RMSE of the sample {self.train_rmse[-1]:.4f}")
        return self

    def estimate(self, u, i):
        user_known, item_known = known(self.trainset, u, i)
        if user_known and item_known:
            return float(self.trainset.global_mean + self.P_mean[u] @ self.Q_mean[i])
        reason = cold_start_reason(user_known, item_known, "the global mean mu")
        return self.trainset.global_mean, {"was_impossible": True, "reason": reason}


def sample_normal_wishart(X, beta0, rng):
    r"""``(mu, Lambda)`` drawn from the Normal-Wishart posterior given the rows of ``X``
    (prior: mean 0, ``beta0``, :math:`W_0 = I`, :math:`\nu_0 = k`; formulas in the module docstring).

    The Wishart draw is Bartlett's: with :math:`W^* = L L^\top` and a lower-triangular
    :math:`A` of :math:`A_{jj} = \sqrt{\chi^2_{\nu - j}}` and standard normals below the
    diagonal, :math:`L A A^\top L^\top \sim \mathcal W(W^*, \nu)`.
    """
    n, k = X.shape
    x_bar = X.mean(axis=0)
    scatter = (X - x_bar).T @ (X - x_bar)  # = N S
    W_inv = np.eye(k) + scatter + (beta0 * n / (beta0 + n)) * np.outer(x_bar, x_bar)
    W = np.linalg.inv(W_inv)
    L = np.linalg.cholesky((W + W.T) / 2)
    nu = k + n
    A = np.tril(rng.standard_normal((k, k)), -1)
    A[np.diag_indices(k)] = np.sqrt(rng.chisquare(nu - np.arange(k)))
    LA = L @ A
    precision = LA @ LA.T
    # mu ~ N(mu*, (beta* Lambda)^-1): with beta* Lambda = C C^T, mu* + C^-T z has that covariance
    C = np.linalg.cholesky((beta0 + n) * precision)
    mean = n * x_bar / (beta0 + n) + np.linalg.solve(C.T, rng.standard_normal(k))
    return mean, precision

