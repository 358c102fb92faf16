"""Numba loops for the recommender: pairwise similarities, baseline SGD, SVD by SGD, BPMF draws.

Each has the signature of its twin in :mod:`tinymed.kernels.reference.recsys` (formulas and
shapes there) and gives the same numbers:

* :func:`row_similarities`    -- for each row, walk its columns and add to the sums of every
  later row sharing them; groups of rows run on threads at once, and no dense copy of the
  rows is ever made (the reference's matrix products need one);
* :func:`baseline_sgd_epochs` -- the same loop, compiled;
* :func:`svd_sgd_epochs`      -- the same loop, compiled;
* :func:`bpmf_sample_rows`    -- the same draws, with the Cholesky factor and the two
  triangular solves written out.

``NUMBA_DISABLE_JIT=1`` runs them as plain Python to step through in a debugger.
No ``fastmath``: the SGD sweeps must round exactly as the reference does.
"""

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit

COSINE, MSD, PEARSON, PEARSON_BASELINE, ARTICLE_EUCLIDEAN = range(5)
_KIND = {"cosine": COSINE, "msd": MSD, "pearson": PEARSON, "pearson_baseline": PEARSON_BASELINE,
         "article_euclidean": ARTICLE_EUCLIDEAN}


def row_similarities(name, indptr, indices, values, n_y, min_support=1, shrinkage=100):
    r"""``sim (n_x, n_x)``: the similarity of every two CSR rows from their sums over the columns
    they share, :math:`n, S_{ab}, S_{aa}, S_{bb}, S_a, S_b, D` (e.g. cosine
    :math:`S_{ab} / \sqrt{S_{aa} S_{bb}}`; every formula in the reference ``row_similarities``).
    Rows ``indptr (n_x + 1,)``, ``indices, values (nnz,)``, each row's columns ascending; ``n_y`` columns.

    Runs on ``numba.get_num_threads()`` threads at once. The rows are also laid out by column
    (CSC, :func:`_by_column`), so that each row finds the later rows sharing a column without a
    search. Threads over a ``nogil`` kernel rather than ``prange``: the same speed-up, and the
    first call (a lesson's, or CI's, with no cached machine code yet) compiles in about 2 s instead of 6.
    """
    if name not in _KIND:
        raise ValueError(f"row_similarities: unknown similarity {name!r}")
    indptr, indices = np.asarray(indptr, np.int64), np.asarray(indices, np.int64)
    values = np.asarray(values, np.float64)
    n_x = len(indptr) - 1
    args = (_KIND[name], indptr, indices, values, *_by_column(indptr, indices, values, n_y), int(min_support),
            float(shrinkage))
    sim = np.zeros((n_x, n_x))
    n_threads, n_pairs = numba.get_num_threads(), (n_x + 1) // 2
    # a few tasks per thread even out the load; each task holds (n_x, 8) sums
    n_tasks = max(1, min(n_pairs, 4 * n_threads if n_x >= 64 else 1))
    bounds = [k * n_pairs // n_tasks for k in range(n_tasks + 1)]
    if n_tasks == 1:
        similarity_rows(*args, 0, n_pairs, sim)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            list(pool.map(lambda k: similarity_rows(*args, bounds[k], bounds[k + 1], sim), range(n_tasks)))
    mirror_upper_triangle(sim)
    return sim


@njit(cache=True)
def _by_column(indptr, indices, values, n_y):
    """The CSR rows' entries by column (CSC): ``(col_indptr, col_rows, col_values, col_position)``.

    ``col_indptr (n_y + 1,)``; ``col_rows``, ``col_values (nnz,)`` hold column ``y``'s entries
    at ``col_indptr[y]:col_indptr[y + 1]``, rows ascending; ``col_position[p]`` is where CSR
    entry ``p`` went. A counting sort: count each column, add up, then deal the entries out
    row by row (so rows come out ascending within every column).
    """
    nnz = len(indices)
    col_indptr = np.zeros(n_y + 1, np.int64)
    for p in range(nnz):
        col_indptr[indices[p] + 1] += 1
    for y in range(n_y):
        col_indptr[y + 1] += col_indptr[y]
    next_free = col_indptr[:-1].copy()
    col_rows, col_values, col_position = np.empty(nnz, np.int64), np.empty(nnz), np.empty(nnz, np.int64)
    for a in range(len(indptr) - 1):
        for p in range(indptr[a], indptr[a + 1]):
            q = next_free[indices[p]]
            next_free[indices[p]] = q + 1
            col_rows[q], col_values[q], col_position[p] = a, values[p], q
    return col_indptr, col_rows, col_values, col_position


@njit(cache=True)
def _finish(kind, n, s_ab, s_aa, s_bb, s_a, s_b, d2, min_support, shrinkage):
    """One similarity from the sums over the common support (formulas: reference ``row_similarities``)."""
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


N_SUMS = 8  # per pair: n, S_ab, S_aa, S_bb, S_a, S_b, D, (padding: one 64-byte cache line)


@njit(cache=True, nogil=True)
def similarity_rows(kind, indptr, indices, values, col_indptr, col_rows, col_values, col_position, min_support,
                    shrinkage, first, last, sim):
    """The upper triangle of rows ``t`` and ``n_x - 1 - t`` for ``first <= t < last`` (one task).

    ``kind`` is one of COSINE ... ARTICLE_EUCLIDEAN; ``col_*`` are the same entries by column (CSC), rows
    ascending within a column, and ``col_position[p]`` is where CSR entry ``p`` sits in
    them. Row ``a`` is compared with the rows after it only; pairing row ``t`` with row
    ``n_x - 1 - t`` makes every task about as long. ``nogil``: tasks run on threads at once,
    each writing its own rows of ``sim``; :func:`mirror_upper_triangle` then fills the rest.
    """
    n_x = len(indptr) - 1
    sums = np.zeros((n_x, N_SUMS))  # the sums of row a with every later row b
    touched = np.empty(n_x, dtype=np.int64)
    for t in range(first, last):
        _upper_row(kind, indptr, indices, values, col_indptr, col_rows, col_values, col_position, t,
                   min_support, shrinkage, sums, touched, sim)
        if n_x - 1 - t != t:
            _upper_row(kind, indptr, indices, values, col_indptr, col_rows, col_values, col_position,
                       n_x - 1 - t, min_support, shrinkage, sums, touched, sim)


@njit(cache=True)
def mirror_upper_triangle(sim):
    """``sim[b, a] = sim[a, b]`` for ``b > a``, tile by tile: writing a column of a large
    matrix one element at a time would miss the cache on every element."""
    n, tile = len(sim), 64
    n_tiles = (n + tile - 1) // tile
    for ta in range(n_tiles):
        for tb in range(ta, n_tiles):
            for a in range(ta * tile, min(n, (ta + 1) * tile)):
                for b in range(max(a + 1, tb * tile), min(n, (tb + 1) * tile)):
                    sim[b, a] = sim[a, b]


@njit(cache=True)
def _upper_row(kind, indptr, indices, values, col_indptr, col_rows, col_values, col_position, a, min_support,
               shrinkage, sums, touched, sim):
    """``sim[a, b]`` for every ``b > a``, and ``sim[a, a] = 1``.

    For each column y of row a, in increasing order, and each later row b with a value in
    y: add to b's sums. Every pair's sums are so added in column order, as Surprise adds
    them, and only over the columns the two rows share. Pairs sharing no column keep the
    0 they were given; the rows touched are remembered, finished, and their sums cleared.
    """
    n_touched = 0
    for p in range(indptr[a], indptr[a + 1]):
        ra = values[p]
        for q in range(col_position[p] + 1, col_indptr[indices[p] + 1]):  # rows b > a in column y
            b, rb = col_rows[q], col_values[q]
            if sums[b, 0] == 0.0:
                touched[n_touched] = b
                n_touched += 1
            d = ra - rb
            sums[b, 0] += 1.0
            sums[b, 1] += ra * rb
            sums[b, 2] += ra * ra
            sums[b, 3] += rb * rb
            sums[b, 4] += ra
            sums[b, 5] += rb
            sums[b, 6] += d * d
    sim[a, a] = 1.0
    for k in range(n_touched):
        b = touched[k]
        value = _finish(kind, int(sums[b, 0]), sums[b, 1], sums[b, 2], sums[b, 3], sums[b, 4], sums[b, 5],
                        sums[b, 6], min_support, shrinkage)
        sim[a, b] = value  # the lower triangle is mirrored at the end
        for j in range(N_SUMS):
            sums[b, j] = 0.0


@njit(cache=True)
def baseline_sgd_epochs(users, items, ratings, global_mean, bu, bi, n_epochs, lr, reg):
    """Biases by SGD, in place: for each rating, ``e = r - (mu + b_u + b_i)``,
    ``b_u += lr (e - reg b_u)``, ``b_i += lr (e - reg b_i)``.

    ``users, items, ratings (n,)`` in sweep order; ``bu (n_users,)``, ``bi (n_items,)``."""
    for _ in range(n_epochs):
        for k in range(len(ratings)):
            u, i = users[k], items[k]
            err = ratings[k] - (global_mean + bu[u] + bi[i])
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])


@njit(cache=True)
def svd_sgd_epochs(users, items, ratings, global_mean, bu, bi, pu, qi, n_epochs, biased,
                   lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi):
    """Biased matrix factorisation by SGD, in place: ``e = r - (mu + b_u + b_i + q_i . p_u)``, then
    ``b_u += lr_bu (e - reg_bu b_u)``, ``b_i`` likewise (if ``biased``), ``p_u += lr_pu (e q_i - reg_pu p_u)``
    and ``q_i += lr_qi (e p_u - reg_qi q_i)`` with ``p_u`` from before its update.

    ``users, items, ratings (n,)`` in sweep order; ``bu (n_users,)``, ``bi (n_items,)``,
    ``pu (n_users, k)``, ``qi (n_items, k)``."""
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


@njit(cache=True)
def bpmf_sample_rows(indptr, columns, values, other, precision, precision_mean, alpha, noise, out):
    """BPMF's draw of every row given the other side, in place (derivation: reference ``bpmf_sample_rows``).

    Per row ``a``: accumulate ``Lambda_a = precision + alpha sum_j o_j o_j^T`` and
    ``rhs = precision_mean + alpha sum_j v_j o_j`` over its entries (``o_j = other[columns[p]]``,
    ``v_j = values[p]``), factor ``Lambda_a = L L^T`` (Cholesky), then
    ``out[a] = L^-T (L^-1 rhs + noise[a])``. CSR ``indptr (n + 1,)``, ``columns, values (nnz,)``;
    ``other (n_other, k)``, ``precision (k, k)``, ``precision_mean (k,)``, ``noise, out (n, k)``.
    The rows are independent, but one pass over MovieLens-100k takes about 10 ms: threads do not pay.
    """
    k = out.shape[1]
    for a in range(len(out)):
        L = precision.copy()
        rhs = precision_mean.copy()
        for p in range(indptr[a], indptr[a + 1]):
            o = other[columns[p]]
            v = values[p]
            for s in range(k):
                rhs[s] += alpha * v * o[s]
                for t in range(s + 1):
                    L[s, t] += alpha * o[s] * o[t]
        cholesky_lower(L)
        forward_substitution(L, rhs)
        for s in range(k):
            rhs[s] += noise[a, s]
        back_substitution(L, rhs)
        for s in range(k):
            out[a, s] = rhs[s]


@njit(cache=True)
def forward_substitution(L, b):
    """In place: ``b`` becomes ``y`` with ``L y = b`` (``L`` lower triangular)."""
    for s in range(len(b)):
        y = b[s]
        for t in range(s):
            y -= L[s, t] * b[t]
        b[s] = y / L[s, s]


@njit(cache=True)
def back_substitution(L, b):
    """In place: ``b`` becomes ``x`` with ``L^T x = b`` (``L`` lower triangular)."""
    for s in range(len(b) - 1, -1, -1):
        x = b[s]
        for t in range(s + 1, len(b)):
            x -= L[t, s] * b[t]
        b[s] = x / L[s, s]


@njit(cache=True)
def cholesky_lower(A):
    """In place: the lower triangle of ``A`` becomes ``L`` with ``L L^T = A`` (A symmetric
    positive definite, only its lower triangle read)."""
    k = A.shape[0]
    for j in range(k):
        d = A[j, j]
        for t in range(j):
            d -= A[j, t] * A[j, t]
        A[j, j] = np.sqrt(d)
        for s in range(j + 1, k):
            x = A[s, j]
            for t in range(j):
                x -= A[s, t] * A[j, t]
            A[s, j] = x / A[j, j]
