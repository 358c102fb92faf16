r"""Recommender kernels: similarities of sparse rows, SGD sweeps for the biases and for SVD, BPMF's row draws.

The recommenders of :mod:`tinymed.recsys` prepare plain arrays and call these by name through
:func:`tinymed.backend.kernel`; :mod:`tinymed.kernels.numba.recsys` compiles the same loops and
gives the same numbers. Conventions:

* ratings visited one at a time are three aligned arrays ``users (n,)``, ``items (n,)`` (inner
  ids, int64) and ``ratings (n,)`` (float64), in the order a sweep takes them (user by user,
  each user's ratings in the order they came, as Surprise sweeps them);
* a sparse matrix is its CSR arrays ``indptr (n_rows + 1,)``, ``indices (nnz,)``,
  ``values (nnz,)`` (see :mod:`tinymed.sparse`);
* the SGD sweeps and the row draws write their results into the arrays they are given, in
  place, as the compiled loops do.

These are NumPy code on the CPU (the sweeps are sequential by nature: every update reads the
previous one); under the CuPy backend the recommenders still run them.
"""

import numpy as np


def row_similarities(name, indptr, indices, values, n_y, min_support=1, shrinkage=100):
    r"""All pairwise similarities ``(n_x, n_x)`` of the ``n_x`` CSR rows, over the columns they share.

    For rows :math:`a, b` let :math:`J` be the columns both hold and :math:`n = |J|` (the
    *support*); with sums over :math:`j \in J`: :math:`S_{ab} = \sum x_{aj} x_{bj}`,
    :math:`S_{aa} = \sum x_{aj}^2`, :math:`S_a = \sum x_{aj}` (and :math:`S_{bb}, S_b` likewise),
    :math:`D = \sum (x_{aj} - x_{bj})^2 = S_{aa} + S_{bb} - 2 S_{ab}`. Then, by ``name``:

    * ``cosine``:            :math:`S_{ab} / \sqrt{S_{aa} S_{bb}}`
    * ``msd``:               :math:`1 / (D / n + 1)`
    * ``pearson``:           :math:`(n S_{ab} - S_a S_b) / \sqrt{(n S_{aa} - S_a^2)(n S_{bb} - S_b^2)}`
    * ``pearson_baseline``:  the cosine (of baseline residuals, which the caller passes as
      ``values``) times :math:`(n - 1) / (n - 1 + \text{shrinkage})`; needs :math:`n \ge 2`
    * ``article_euclidean``: :math:`1 - \sqrt{D} / \sqrt{S_{aa} S_{bb}}` (article F14, as written)

    A pair with :math:`n <` ``min_support``, or a zero denominator, gets 0; the diagonal is 1.

    Here every sum over the common support of all pairs at once is one dense matrix product,
    with ``X (n_x, n_y)`` the rows (0 where empty) and ``M`` the 0/1 mask of stored entries:
    :math:`n = M M^\top`, :math:`S_{ab} = X X^\top`, :math:`S_{aa} = (X \odot X) M^\top`,
    :math:`S_{bb} = S_{aa}^\top`, :math:`S_a = X M^\top`, :math:`S_b = S_a^\top`.
    """
    indptr = np.asarray(indptr, dtype=np.int64)
    n_x = len(indptr) - 1
    rows = np.repeat(np.arange(n_x), np.diff(indptr))
    X = np.zeros((n_x, n_y))
    M = np.zeros((n_x, n_y))
    X[rows, indices] = values
    M[rows, indices] = 1.0

    n = M @ M.T
    S_ab = X @ X.T
    S_aa = (X * X) @ M.T
    S_bb = S_aa.T
    with np.errstate(divide="ignore", invalid="ignore"):
        if name in ("cosine", "pearson_baseline"):
            sim = _ratio(S_ab, np.sqrt(S_aa * S_bb))
            if name == "pearson_baseline":
                sim = sim * ((n - 1) / (n - 1 + shrinkage))
                min_support = max(2, min_support)
        elif name == "msd":
            D = np.maximum(S_aa + S_bb - 2 * S_ab, 0.0)
            sim = np.where(n > 0, 1.0 / (D / np.where(n > 0, n, 1) + 1.0), 0.0)
        elif name == "pearson":
            S_a = X @ M.T
            S_b = S_a.T
            var = (n * S_aa - S_a**2) * (n * S_bb - S_b**2)
            sim = np.where(var > 0, (n * S_ab - S_a * S_b) / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
        elif name == "article_euclidean":
            D = np.maximum(S_aa + S_bb - 2 * S_ab, 0.0)
            norms = np.sqrt(S_aa * S_bb)
            sim = np.where(norms > 0, 1.0 - np.sqrt(D) / np.where(norms > 0, norms, 1.0), 0.0)
        else:
            raise ValueError(f"row_similarities: unknown similarity {name!r}")
    sim = np.where(n < min_support, 0.0, sim)
    np.fill_diagonal(sim, 1.0)
    return sim


def _ratio(num, den):
    """``num / den`` where ``den > 0``, else 0 (no division by zero is ever evaluated)."""
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def baseline_sgd_epochs(users, items, ratings, global_mean, bu, bi, n_epochs, lr, reg):
    r"""``n_epochs`` SGD sweeps for the biases ``bu (n_users,)``, ``bi (n_items,)``, in place.

    For each rating in turn, with :math:`\mu` = ``global_mean``:

    .. math::
        e = r_{ui} - (\mu + b_u + b_i), \qquad
        b_u \leftarrow b_u + \text{lr}\,(e - \text{reg}\, b_u), \qquad
        b_i \leftarrow b_i + \text{lr}\,(e - \text{reg}\, b_i)
    """
    for _ in range(n_epochs):
        for u, i, r in zip(users, items, ratings):
            err = r - (global_mean + bu[u] + bi[i])
            bu[u] += lr * (err - reg * bu[u])
            bi[i] += lr * (err - reg * bi[i])


def svd_sgd_epochs(users, items, ratings, global_mean, bu, bi, pu, qi, n_epochs, biased,
                   lr_bu, lr_bi, lr_pu, lr_qi, reg_bu, reg_bi, reg_pu, reg_qi):
    r"""``n_epochs`` SGD sweeps of biased matrix factorisation (Surprise's SVD), in place.

    ``bu (n_users,)``, ``bi (n_items,)``, ``pu (n_users, k)``, ``qi (n_items, k)``. For each
    rating in turn, with :math:`\mu` = ``global_mean``:

    .. math::
        e &= r_{ui} - (\mu + b_u + b_i + q_i^\top p_u) \\
        b_u &\leftarrow b_u + \gamma_{bu} (e - \lambda_{bu} b_u) \qquad
        b_i \leftarrow b_i + \gamma_{bi} (e - \lambda_{bi} b_i) \qquad \text{(only if ``biased``)} \\
        p_u &\leftarrow p_u + \gamma_{pu} (e\, q_i - \lambda_{pu} p_u) \qquad
        q_i \leftarrow q_i + \gamma_{qi} (e\, p_u - \lambda_{qi} q_i)

    where the :math:`q_i` update uses :math:`p_u` from before its own update. With
    ``biased=False`` the caller passes ``global_mean = 0`` and the biases stay 0.
    """
    for _ in range(n_epochs):
        for u, i, r in zip(users, items, ratings):
            err = r - (global_mean + bu[u] + bi[i] + dot_left_to_right(qi[i], pu[u]))
            if biased:
                bu[u] += lr_bu * (err - reg_bu * bu[u])
                bi[i] += lr_bi * (err - reg_bi * bi[i])
            p_before = pu[u].copy()
            pu[u] += lr_pu * (err * qi[i] - reg_pu * pu[u])
            qi[i] += lr_qi * (err * p_before - reg_qi * qi[i])


def dot_left_to_right(a, b):
    """``sum_f a_f b_f`` added in order f = 0, 1, ... (cumsum is sequential; ``a @ b`` is not),
    so this loop rounds exactly as the compiled one does."""
    if len(a) == 0:
        return 0.0
    return np.cumsum(a * b)[-1]


def bpmf_sample_rows(indptr, columns, values, other, precision, precision_mean, alpha, noise, out):
    r"""BPMF's draw of every row given the other side, in place: ``out[a]`` from
    :math:`\mathcal N(m_a, \Lambda_a^{-1})`.

    Shapes: CSR ``indptr (n + 1,)``, ``columns (nnz,)``, ``values (nnz,)`` of the ``n`` rows to
    draw; ``other (n_other, k)``, ``precision (k, k)`` (:math:`\Lambda`), ``precision_mean (k,)``
    (:math:`\Lambda\mu`), ``noise (n, k)`` standard normal draws, ``out (n, k)``. Over row
    ``a``'s entries (column ``j`` = row :math:`o_j` of ``other``, value :math:`v_j`):

    .. math::
        \Lambda_a = \Lambda + \alpha \sum_j o_j o_j^\top, \qquad
        \Lambda_a m_a = \Lambda\mu + \alpha \sum_j v_j o_j .

    With :math:`\Lambda_a = L L^\top` (Cholesky), :math:`L^{-\top}(L^{-1} \Lambda_a m_a + z)`,
    ``z = noise[a]``, has mean :math:`m_a` and covariance :math:`\Lambda_a^{-1}`.
    """
    for a in range(len(out)):
        lo, hi = indptr[a], indptr[a + 1]
        O_a = other[columns[lo:hi]]  # the rows o_j, one per entry of row a
        L = np.linalg.cholesky(precision + alpha * O_a.T @ O_a)
        y = np.linalg.solve(L, precision_mean + alpha * O_a.T @ values[lo:hi])
        out[a] = np.linalg.solve(L.T, y + noise[a])
