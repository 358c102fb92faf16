r"""Predictors made of averages: Slope One's mean deviations, co-clustering's cluster means.

Conventions as in :mod:`tinymed.kernels.reference.recsys`: a side's ratings are the CSR arrays of
its rows (``indptr``, the other side's ids, the ratings), each row in the order its ratings came.
:mod:`tinymed.kernels.numba.recsys_averages` compiles the same loops and gives the same numbers.
"""

import numpy as np


def slope_one_deviations(indptr, items, ratings, n_items):
    r"""``(freq, dev)``, both ``(n_items, n_items)``: how many users rated both *i* and *j*, and
    the mean by which they rated *i* above *j* (Lemire & Maclachlan 2005):

    .. math:: \mathrm{freq}_{ij} = |U_{ij}|, \qquad
              \mathrm{dev}_{ij} = \frac{1}{|U_{ij}|} \sum_{u \in U_{ij}} (r_{ui} - r_{uj})

    (``dev`` is 0 where no user rated both, and on the diagonal; ``dev`` is antisymmetric).
    The user rows are ``indptr (n_users + 1,)``, ``items``, ``ratings (nnz,)``.

    Here with the dense matrices ``R`` (ratings, 0 where none) and ``M`` (the 0/1 mask):
    :math:`\mathrm{freq} = M^\top M` and :math:`\sum_u (r_{ui} - r_{uj}) = (R^\top M - M^\top R)_{ij}`.
    """
    n_users = len(indptr) - 1
    rows = np.repeat(np.arange(n_users), np.diff(indptr))
    R, M = np.zeros((n_users, n_items)), np.zeros((n_users, n_items))
    R[rows, items] = ratings
    M[rows, items] = 1.0
    freq = np.rint(M.T @ M).astype(np.int64)
    upper = np.triu(R.T @ M - M.T @ R, k=1)  # i < j; the rest by antisymmetry
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = np.where(freq > 0, upper / np.where(freq > 0, freq, 1), 0.0)
    return freq, upper - upper.T


def co_cluster_averages(users, items, ratings, cltr_u, cltr_i, n_cltr_u, n_cltr_i, global_mean):
    r"""``(avg_cltr_u (n_cltr_u,), avg_cltr_i (n_cltr_i,), avg_cocltr (n_cltr_u, n_cltr_i))``: the
    mean rating of each user cluster, item cluster and co-cluster (George & Merugu 2005), the
    global mean for an empty one. ``users, items, ratings (nnz,)``; ``cltr_u (n_users,)`` and
    ``cltr_i (n_items,)`` are every user's and item's cluster.
    """
    uc, ic = cltr_u[users], cltr_i[items]
    co = uc * n_cltr_i + ic
    averages = []
    for groups, n in ((uc, n_cltr_u), (ic, n_cltr_i), (co, n_cltr_u * n_cltr_i)):
        counts = np.bincount(groups, minlength=n)
        sums = np.bincount(groups, weights=ratings, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            averages.append(np.where(counts > 0, sums / np.where(counts > 0, counts, 1), global_mean))
    return averages[0], averages[1], averages[2].reshape(n_cltr_u, n_cltr_i)


def co_clustering_epochs(user_rows, item_rows, user_mean, item_mean, cltr_u, cltr_i, n_cltr_u, n_cltr_i,
                         n_epochs, global_mean):
    r"""``n_epochs`` rounds of co-clustering, moving every user, then every item, to its best
    cluster; ``cltr_u``, ``cltr_i`` in place.

    ``user_rows = (indptr, items, ratings)`` and ``item_rows = (indptr, users, ratings)`` are the
    ratings by user and by item; ``user_mean (n_users,)``, ``item_mean (n_items,)``. With the
    averages of the round's start (:func:`co_cluster_averages`: :math:`\bar r_{C}` of user cluster
    :math:`C`, :math:`\bar r_{D}` of item cluster :math:`D`, :math:`\bar r_{CD}` of the
    co-cluster), a rating is estimated as

    .. math:: \hat r_{ui} = \bar r_{CD} + (\bar r_u - \bar r_C) + (\bar r_i - \bar r_D)

    and user *u* moves to the cluster :math:`C` with the least :math:`\sum_{i \in I_u}
    (r_{ui} - \hat r_{ui})^2` (added in the order of *u*'s ratings; the first of equal ones);
    then each item likewise, given the users' new clusters.
    """
    indptr, items, ratings = user_rows
    users = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    for _ in range(n_epochs):
        avg_u, avg_i, avg_co = co_cluster_averages(users, items, ratings, cltr_u, cltr_i, n_cltr_u, n_cltr_i,
                                                   global_mean)
        for u in range(len(indptr) - 1):
            i, r = items[indptr[u]:indptr[u + 1]], ratings[indptr[u]:indptr[u + 1]]
            ic = cltr_i[i]
            est = avg_co[:, ic] + user_mean[u] - avg_u[:, None] + item_mean[i] - avg_i[ic]
            cltr_u[u] = np.argmin(_sums_in_order((r - est) ** 2))
        item_indptr, item_users, item_ratings = item_rows
        for i in range(len(item_indptr) - 1):
            u = item_users[item_indptr[i]:item_indptr[i + 1]]
            r = item_ratings[item_indptr[i]:item_indptr[i + 1]]
            uc = cltr_u[u]
            est = (avg_co[uc, :] + user_mean[u][:, None] - avg_u[uc][:, None] + item_mean[i] - avg_i).T
            cltr_i[i] = np.argmin(_sums_in_order((r - est) ** 2))


def _sums_in_order(terms):
    """Each row's sum, added left to right (as the compiled loop adds), a zero for an empty row."""
    if terms.shape[1] == 0:
        return np.zeros(len(terms))
    return np.cumsum(terms, axis=1)[:, -1]
