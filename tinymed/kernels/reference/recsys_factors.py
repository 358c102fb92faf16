r"""Matrix-factorisation sweeps beside SVD's: SVD++ by SGD, and NMF's multiplicative updates.

The conventions of :mod:`tinymed.kernels.reference.recsys` hold: the ratings are swept user by
user, each user's in the order they came, as the CSR arrays of the trainset's rows
``indptr (n_users + 1,)``, ``items (nnz,)``, ``ratings (nnz,)`` (``users (nnz,)`` is the row of
every entry); the factors are updated in place. :mod:`tinymed.kernels.numba.recsys_factors`
compiles the same loops and gives the same numbers.
"""

import numpy as np

from .recsys import dot_left_to_right


def svdpp_sgd_epochs(indptr, items, ratings, global_mean, bu, bi, pu, qi, yj, n_epochs,
                     lr_bu, lr_bi, lr_pu, lr_qi, lr_yj, reg_bu, reg_bi, reg_pu, reg_qi, reg_yj):
    r"""``n_epochs`` SGD sweeps of SVD++ (Koren 2008), in place.

    ``bu (n_users,)``, ``bi (n_items,)``, ``pu, qi, yj (n, k)``. The model adds to SVD's user
    factor the mean of implicit factors :math:`y_j` over the items :math:`I_u` the user rated:

    .. math:: \hat r_{ui} = \mu + b_u + b_i + q_i^\top \Big(p_u + |I_u|^{-1/2} \sum_{j \in I_u} y_j\Big)

    For each rating in turn, with :math:`z_u = \sum_{j \in I_u} y_j / \sqrt{|I_u|}` (added term
    by term in the order of :math:`I_u`) and :math:`e = r_{ui} - \hat r_{ui}`:

    .. math::
        b_u &\leftarrow b_u + \gamma_{bu} (e - \lambda_{bu} b_u) \qquad
        b_i \leftarrow b_i + \gamma_{bi} (e - \lambda_{bi} b_i) \\
        p_u &\leftarrow p_u + \gamma_{pu} (e\, q_i - \lambda_{pu} p_u) \qquad
        q_i \leftarrow q_i + \gamma_{qi} (e\, (p_u + z_u) - \lambda_{qi} q_i) \\
        y_j &\leftarrow y_j + \gamma_{yj} (e\, q_i / \sqrt{|I_u|} - \lambda_{yj} y_j) \quad \forall j \in I_u

    where the updates of :math:`p_u, q_i, y_j` read :math:`p_u, q_i` from before any of them.
    :math:`z_u` is computed afresh for every rating, since the :math:`y_j` just moved.
    """
    for _ in range(n_epochs):
        for u in range(len(indptr) - 1):
            rated = items[indptr[u]:indptr[u + 1]]
            sqrt_n = np.sqrt(len(rated))
            for p in range(indptr[u], indptr[u + 1]):
                i, r = items[p], ratings[p]
                implicit = np.zeros(pu.shape[1])
                for j in rated:
                    implicit += yj[j] / sqrt_n
                err = r - (global_mean + bu[u] + bi[i] + dot_left_to_right(qi[i], pu[u] + implicit))
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
                p_before, q_before = pu[u].copy(), qi[i].copy()
                pu[u] += lr_pu * (err * q_before - reg_pu * p_before)
                qi[i] += lr_qi * (err * (p_before + implicit) - reg_qi * q_before)
                yj[rated] += lr_yj * (err * q_before / sqrt_n - reg_yj * yj[rated])


def nmf_epochs(indptr, items, ratings, global_mean, bu, bi, pu, qi, n_epochs, biased,
               lr_bu, lr_bi, reg_pu, reg_qi, reg_bu, reg_bi):
    r"""``n_epochs`` epochs of non-negative matrix factorisation (Luo et al. 2014), in place.

    ``bu (n_users,)``, ``bi (n_items,)``, ``pu (n_users, k)``, ``qi (n_items, k)``. Each epoch
    sweeps the ratings once, with :math:`\hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u`
    (:math:`\mu = 0` and no biases unless ``biased``), moving the biases by SGD as SVD does
    and adding up, with the factors of the epoch's start,

    .. math::
        N^p_{uf} = \sum_{i \in I_u} q_{if}\, r_{ui}, \quad D^p_{uf} = \sum_{i \in I_u} q_{if}\, \hat r_{ui},
        \quad N^q_{if} = \sum_{u \in U_i} p_{uf}\, r_{ui}, \quad D^q_{if} = \sum_{u \in U_i} p_{uf}\, \hat r_{ui}

    then rescales every factor at once (a factor that is 0 stays 0):

    .. math::
        p_{uf} \leftarrow p_{uf} \frac{N^p_{uf}}{D^p_{uf} + |I_u| \lambda_u p_{uf}}, \qquad
        q_{if} \leftarrow q_{if} \frac{N^q_{if}}{D^q_{if} + |U_i| \lambda_i q_{if}}

    A multiplicative step keeps non-negative factors non-negative when the ratings are.
    """
    users = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    n_user_ratings = np.diff(indptr)
    n_item_ratings = np.bincount(items, minlength=len(qi))
    for _ in range(n_epochs):
        user_num, user_den = np.zeros_like(pu), np.zeros_like(pu)
        item_num, item_den = np.zeros_like(qi), np.zeros_like(qi)
        for u, i, r in zip(users, items, ratings):
            est = global_mean + bu[u] + bi[i] + dot_left_to_right(qi[i], pu[u])
            err = r - est
            if biased:
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
            user_num[u] += qi[i] * r
            user_den[u] += qi[i] * est
            item_num[i] += pu[u] * r
            item_den[i] += pu[u] * est
        _rescale(pu, user_num, user_den, n_user_ratings, reg_pu)
        _rescale(qi, item_num, item_den, n_item_ratings, reg_qi)


def _rescale(factors, num, den, counts, reg):
    """``f <- f num / (den + count reg f)`` where ``f != 0`` (NMF's multiplicative step)."""
    moving = factors != 0
    den = den + (counts[:, None] * reg) * factors
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero denominator: inf or NaN, reported by the model
        factors[moving] *= num[moving] / den[moving]
