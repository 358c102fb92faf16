"""Numba loops for SVD++ and NMF (formulas, shapes and conventions: the reference twins in
:mod:`tinymed.kernels.reference.recsys_factors`); the same numbers, compiled.

No ``fastmath``: the sweeps must round exactly as the reference does. NMF divides as IEEE
arithmetic does (``error_model="numpy"``: a zero denominator gives inf or NaN, as in the
reference, and the model reports the diverged factors, rather than an exception from inside the loop).
"""

import numpy as np
from numba import njit


@njit(cache=True)
def svdpp_sgd_epochs(indptr, items, ratings, global_mean, bu, bi, pu, qi, yj, n_epochs,
                     lr_bu, lr_bi, lr_pu, lr_qi, lr_yj, reg_bu, reg_bi, reg_pu, reg_qi, reg_yj):
    """SVD++ by SGD, in place: per rating, ``z = sum_j y_j / sqrt|I_u|``, ``e = r - (mu + b_u + b_i +
    q_i . (p_u + z))``, then the biases, ``p_u``, ``q_i`` and every ``y_j`` of the user's items."""
    n_factors = pu.shape[1]
    implicit, step = np.zeros(n_factors), np.zeros(n_factors)
    for _ in range(n_epochs):
        for u in range(len(indptr) - 1):
            first, last = indptr[u], indptr[u + 1]
            sqrt_n = np.sqrt(last - first)
            for p in range(first, last):
                i, r = items[p], ratings[p]
                implicit[:] = 0.0
                for q in range(first, last):
                    for f in range(n_factors):
                        implicit[f] += yj[items[q], f] / sqrt_n
                dot = 0.0
                for f in range(n_factors):
                    dot += qi[i, f] * (pu[u, f] + implicit[f])
                err = r - (global_mean + bu[u] + bi[i] + dot)
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
                for f in range(n_factors):
                    puf, qif = pu[u, f], qi[i, f]
                    pu[u, f] += lr_pu * (err * qif - reg_pu * puf)
                    qi[i, f] += lr_qi * (err * (puf + implicit[f]) - reg_qi * qif)
                    step[f] = err * qif / sqrt_n
                # each y_j[f] moves once per rating, so the loops may be swapped: row by row reads memory in order
                for q in range(first, last):
                    j = items[q]
                    for f in range(n_factors):
                        yj[j, f] += lr_yj * (step[f] - reg_yj * yj[j, f])


@njit(cache=True, error_model="numpy")
def nmf_epochs(indptr, items, ratings, global_mean, bu, bi, pu, qi, n_epochs, biased,
               lr_bu, lr_bi, reg_pu, reg_qi, reg_bu, reg_bi):
    """NMF, in place: per epoch, sweep the ratings (biases by SGD; numerators ``q r`` / ``p r`` and
    denominators ``q r_hat`` / ``p r_hat`` added up), then rescale every non-zero factor by
    ``num / (den + count * reg * factor)``."""
    n_users, n_items, n_factors = pu.shape[0], qi.shape[0], pu.shape[1]
    n_item_ratings = np.zeros(n_items, np.int64)
    for p in range(len(items)):
        n_item_ratings[items[p]] += 1
    user_num, user_den = np.empty((n_users, n_factors)), np.empty((n_users, n_factors))
    item_num, item_den = np.empty((n_items, n_factors)), np.empty((n_items, n_factors))
    for _ in range(n_epochs):
        user_num[:] = 0.0
        user_den[:] = 0.0
        item_num[:] = 0.0
        item_den[:] = 0.0
        for u in range(n_users):
            for p in range(indptr[u], indptr[u + 1]):
                i, r = items[p], ratings[p]
                dot = 0.0
                for f in range(n_factors):
                    dot += qi[i, f] * pu[u, f]
                est = global_mean + bu[u] + bi[i] + dot
                err = r - est
                if biased:
                    bu[u] += lr_bu * (err - reg_bu * bu[u])
                    bi[i] += lr_bi * (err - reg_bi * bi[i])
                for f in range(n_factors):
                    user_num[u, f] += qi[i, f] * r
                    user_den[u, f] += qi[i, f] * est
                    item_num[i, f] += pu[u, f] * r
                    item_den[i, f] += pu[u, f] * est
        for u in range(n_users):
            _rescale_row(pu, user_num, user_den, u, indptr[u + 1] - indptr[u], reg_pu)
        for i in range(n_items):
            _rescale_row(qi, item_num, item_den, i, n_item_ratings[i], reg_qi)


@njit(cache=True, error_model="numpy")
def _rescale_row(factors, num, den, row, count, reg):
    for f in range(factors.shape[1]):
        if factors[row, f] != 0:
            factors[row, f] *= num[row, f] / (den[row, f] + count * reg * factors[row, f])
