"""Numba loops for the recommender: pairwise similarities, baseline SGD, SVD by SGD.

Each mirrors a readable NumPy/Python version and gives the same numbers:

* :func:`pairwise_similarity` -- :func:`tinymed.recsys.similarities.pairwise_similarity_reference`
* :func:`baseline_sgd`        -- :func:`tinymed.recsys.baseline.baseline_sgd_reference`
* :func:`svd_sgd`             -- :func:`tinymed.recsys.matrix_factorization.svd_sgd_reference`

``NUMBA_DISABLE_JIT=1`` runs them as plain Python to step through in a debugger.
No ``fastmath``: the SGD sweeps must round exactly as the reference does.
"""

import numpy as np
from numba import njit, prange

COSINE, MSD, PEARSON, PEARSON_BASELINE, ARTICLE_EUCLIDEAN = range(5)  # SIMILARITIES' order


@njit(cache=True)
def _finish(kind, n, s_ab, s_aa, s_bb, s_a, s_b, d2, min_support, shrinkage):
    """One similarity from the sums over the common support (formulas: similarities.py)."""
    if kind == PEARSON_BASELINE:
        min_support = max(2, min_support)
    if n < min_support or n == 0:
        return 0.0
    if kind == COSINE or kind == PEARSON_BASELINE:
        den = np.sqrt(s_aa * s_bb)
        if den <= 0:
            return 0.0
        sim = s_ab / den
        if kind == PEARSON_BASELINE:
            sim = sim * ((n - 1) / (n - 1 + shrinkage))
        return sim
    if kind == MSD:
        return 1.0 / (d2 / n + 1.0)
    if kind == PEARSON:
        var = (n * s_aa - s_a * s_a) * (n * s_bb - s_b * s_b)
        if var <= 0:
            return 0.0
        return (n * s_ab - s_a * s_b) / np.sqrt(var)
    norms = np.sqrt(s_aa * s_bb)  # ARTICLE_EUCLIDEAN
    if norms <= 0:
        return 0.0
    return 1.0 - np.sqrt(d2) / norms


@njit(cache=True, parallel=True)
def pairwise_similarity(kind, indptr, indices, values, col_indptr, col_rows, col_values, min_support, shrinkage):
    """``(n_x, n_x)`` similarities of the CSR rows; ``kind`` indexes SIMILARITIES.

    ``col_*`` are the same entries by column (CSC), rows ascending within a column. Row
    ``t`` and row ``n_x - 1 - t`` go to the same parallel task, so every task compares about
    ``n_x`` pairs although each row only compares with the rows after it.
    """
    n_x = len(indptr) - 1
    sim = np.zeros((n_x, n_x))
    for t in prange((n_x + 1) // 2):
        sums = np.zeros((7, n_x))  # per later row b: n, S_ab, S_aa, S_bb, S_a, S_b, D
        _upper_row(kind, indptr, indices, values, col_indptr, col_rows, col_values, t, min_support, shrinkage,
                   sums, sim)
        if n_x - 1 - t != t:
            _upper_row(kind, indptr, indices, values, col_indptr, col_rows, col_values, n_x - 1 - t, min_support,
                       shrinkage, sums, sim)
    return sim


@njit(cache=True)
def _upper_row(kind, indptr, indices, values, col_indptr, col_rows, col_values, a, min_support, shrinkage,
               sums, sim):
    """``sim[a, b]`` and ``sim[b, a]`` for every ``b > a``; ``sim[a, a] = 1``.

    For each column y of row a, in increasing order, and each later row b with a value in
    y: add to b's sums. Every pair's sums are so added in column order, as Surprise adds
    them, and only over the columns the two rows share.
    """
    n, s_ab, s_aa, s_bb, s_a, s_b, d2 = sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6]
    for p in range(indptr[a], indptr[a + 1]):
        y, ra = indices[p], values[p]
        lo, hi = col_indptr[y], col_indptr[y + 1]
        for q in range(lo + np.searchsorted(col_rows[lo:hi], a, side="right"), hi):
            b, rb = col_rows[q], col_values[q]
            n[b] += 1.0
            s_ab[b] += ra * rb
            s_aa[b] += ra * ra
            s_bb[b] += rb * rb
            s_a[b] += ra
            s_b[b] += rb
            d = ra - rb
            d2[b] += d * d
    sim[a, a] = 1.0
    for b in range(a + 1, len(indptr) - 1):
        s = _finish(kind, int(n[b]), s_ab[b], s_aa[b], s_bb[b], s_a[b], s_b[b], d2[b], min_support, shrinkage)
        sim[a, b] = s
        sim[b, a] = s
        for k in range(7):
            sums[k, b] = 0.0


@njit(cache=True)
def baseline_sgd(users, items, ratings, global_mean, bu, bi, n_epochs, lr, reg):
    """Biases by SGD, in place: for each rating, ``e = r - (mu + b_u + b_i)``,
    ``b_u += lr (e - reg b_u)``, ``b_i += lr (e - reg b_i)``."""
    for _ in range(n_epochs):
        for k in range(len(ratings)):
            u, i = users[k], items[k]
            err = ratings[k] - (global_mean + bu[u] + bi[i])
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])


@njit(cache=True)
def svd_sgd(users, items, ratings, global_mean, bu, bi, pu, qi, n_epochs, biased,
            lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi):
    """Biased matrix factorisation by SGD, in place (update rules: matrix_factorization.py)."""
    n_factors = pu.shape[1]
    for _ in range(n_epochs):
        for k in range(len(ratings)):
            u, i = users[k], items[k]
            dot = 0.0
            for f in range(n_factors):
                dot += qi[i, f] * pu[u, f]
            err = ratings[k] - (global_mean + bu[u] + bi[i] + dot)
            if biased:
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
            for f in range(n_factors):
                puf = pu[u, f]
                qif = qi[i, f]
                pu[u, f] += lr_pu * (err * qif - reg_pu * puf)
                qi[i, f] += lr_qi * (err * puf - reg_qi * qif)
