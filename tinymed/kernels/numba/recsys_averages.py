"""Numba loops for Slope One's deviations and co-clustering (formulas, shapes and conventions:
the reference twins in :mod:`tinymed.kernels.reference.recsys_averages`); the same numbers.

The reference builds Slope One's sums with dense matrix products; here each user adds to the
pairs of the items it rated, so nothing of size users x items is ever allocated.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def slope_one_deviations(indptr, items, ratings, n_items):
    """``(freq, dev)``: for every user and every pair of its items, ``freq[i, j] += 1`` and
    ``dev[i, j] += r_ui - r_uj``; then ``dev[i, j] /= freq[i, j]`` above the diagonal, mirrored
    with the opposite sign below it."""
    freq = np.zeros((n_items, n_items), np.int64)
    dev = np.zeros((n_items, n_items))
    for u in range(len(indptr) - 1):
        for p in range(indptr[u], indptr[u + 1]):
            i, r_ui = items[p], ratings[p]
            for q in range(indptr[u], indptr[u + 1]):
                j = items[q]
                freq[i, j] += 1
                dev[i, j] += r_ui - ratings[q]
    for i in range(n_items):
        dev[i, i] = 0.0
        for j in range(i + 1, n_items):
            dev[i, j] = dev[i, j] / freq[i, j] if freq[i, j] > 0 else 0.0
            dev[j, i] = -dev[i, j]
    return freq, dev


@njit(cache=True)
def co_cluster_averages(users, items, ratings, cltr_u, cltr_i, n_cltr_u, n_cltr_i, global_mean):
    """Mean rating of every user cluster, item cluster and co-cluster (``global_mean`` if empty)."""
    count_u, sum_u = np.zeros(n_cltr_u, np.int64), np.zeros(n_cltr_u)
    count_i, sum_i = np.zeros(n_cltr_i, np.int64), np.zeros(n_cltr_i)
    count_co, sum_co = np.zeros((n_cltr_u, n_cltr_i), np.int64), np.zeros((n_cltr_u, n_cltr_i))
    for p in range(len(ratings)):
        uc, ic, r = cltr_u[users[p]], cltr_i[items[p]], ratings[p]
        count_u[uc] += 1
        sum_u[uc] += r
        count_i[ic] += 1
        sum_i[ic] += r
        count_co[uc, ic] += 1
        sum_co[uc, ic] += r
    avg_u = np.where(count_u > 0, sum_u / np.maximum(count_u, 1), global_mean)
    avg_i = np.where(count_i > 0, sum_i / np.maximum(count_i, 1), global_mean)
    avg_co = np.where(count_co > 0, sum_co / np.maximum(count_co, 1), global_mean)
    return avg_u, avg_i, avg_co


@njit(cache=True)
def _co_clustering_round(user_indptr, user_items, user_ratings, item_indptr, item_users, item_ratings,
                         user_mean, item_mean, cltr_u, cltr_i, avg_u, avg_i, avg_co):
    n_cltr_u, n_cltr_i = avg_co.shape
    errors_u, errors_i = np.empty(n_cltr_u), np.empty(n_cltr_i)
    for u in range(len(user_indptr) - 1):
        for uc in range(n_cltr_u):
            total = 0.0
            for p in range(user_indptr[u], user_indptr[u + 1]):
                i = user_items[p]
                ic = cltr_i[i]
                est = avg_co[uc, ic] + user_mean[u] - avg_u[uc] + item_mean[i] - avg_i[ic]
                total += (user_ratings[p] - est) ** 2
            errors_u[uc] = total
        cltr_u[u] = np.argmin(errors_u)
    for i in range(len(item_indptr) - 1):
        for ic in range(n_cltr_i):
            total = 0.0
            for p in range(item_indptr[i], item_indptr[i + 1]):
                u = item_users[p]
                uc = cltr_u[u]
                est = avg_co[uc, ic] + user_mean[u] - avg_u[uc] + item_mean[i] - avg_i[ic]
                total += (item_ratings[p] - est) ** 2
            errors_i[ic] = total
        cltr_i[i] = np.argmin(errors_i)


def co_clustering_epochs(user_rows, item_rows, user_mean, item_mean, cltr_u, cltr_i, n_cltr_u, n_cltr_i,
                         n_epochs, global_mean):
    """Co-clustering rounds, ``cltr_u``, ``cltr_i`` in place: the cluster averages, then every user
    and every item moved to the cluster with the least squared error (see the reference)."""
    indptr, items, ratings = user_rows
    users = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    for _ in range(n_epochs):
        averages = co_cluster_averages(users, items, ratings, cltr_u, cltr_i, n_cltr_u, n_cltr_i, global_mean)
        _co_clustering_round(indptr, items, ratings, *item_rows, user_mean, item_mean, cltr_u, cltr_i, *averages)
