r"""Similarities between users (or items), computed on the ratings they have in common.

For two users :math:`u, v` let :math:`I_{uv}` be the items both rated and :math:`n = |I_{uv}|`
(the *support*). With sums over :math:`j \in I_{uv}`:

* ``cosine``:  :math:`\frac{\sum r_{uj} r_{vj}}{\sqrt{\sum r_{uj}^2 \sum r_{vj}^2}}`
* ``msd``:     :math:`\frac{1}{1 + \frac{1}{n}\sum (r_{uj} - r_{vj})^2}`  (mean squared difference)
* ``pearson``: :math:`\frac{\sum (r_{uj} - \bar r_u)(r_{vj} - \bar r_v)}
  {\sqrt{\sum (r_{uj} - \bar r_u)^2 \sum (r_{vj} - \bar r_v)^2}}`, the means taken over
  :math:`I_{uv}`; computed as :math:`\frac{n S_{uv} - S_u S_v}{\sqrt{(n S_{uu} - S_u^2)(n S_{vv} - S_v^2)}}`
* ``pearson_baseline``: the cosine of the baseline residuals :math:`r_{uj} - b_{uj}`
  (:math:`b_{uj} = \mu + b_u + b_j`), shrunk towards 0 when the support is small:
  :math:`\frac{n - 1}{n - 1 + \text{shrinkage}}\,\hat\rho_{uv}`; needs a support of at least 2.
* ``article_euclidean`` -- article 004 §3.2.1.2 (F14), *as written*:

  .. math:: \mathrm{sim}(u, v) = 1 - \frac{\sqrt{\sum_j (r_{uj} - r_{vj})^2}}{\sqrt{\sum_j r_{uj}^2 \, \sum_j r_{vj}^2}}

  It is not a proper similarity: the numerator is a distance (units of a rating) and the
  denominator a product of two norms (units of a rating squared), so the value depends on
  the rating scale and on how many items the two share: for long rows it tends to 1 for
  any pair, and for short rows of small ratings it is unbounded below (e.g. one shared
  item rated 1 and 3: 1 - 2/3; rated 0.2 and 1: 1 - 0.8/0.2 = -3). The proper Euclidean
  similarity is ``msd``'s :math:`1/(1 + d^2/n)`. Lesson 11 shows both.

As in Surprise: pairs with fewer than ``min_support`` common ratings get 0, the diagonal
is 1, and a zero denominator gives 0. Every matrix is symmetric.

Two implementations with one signature: :func:`pairwise_similarity_reference` (dense NumPy
matrix products -- read this one) and ``tinymed.recsys._numba.similarity_rows`` (for
each row, walk its columns and add to the sums of every later row sharing them; groups
of rows run on threads at once; the fast path, and it never holds a dense copy of the
rows). :func:`pairwise_similarity` picks by the active backend.
"""

from __future__ import annotations

import numpy as np

from .. import backend

SIMILARITIES = ("cosine", "msd", "pearson", "pearson_baseline", "article_euclidean")
_SIM_KEYS = {"name", "user_based", "min_support", "shrinkage"}


def validate_sim_options(sim_options):
    """``(name, user_based, min_support, shrinkage)`` from a Surprise ``sim_options`` dict."""
    unknown = set(sim_options) - _SIM_KEYS
    if unknown:
        raise ValueError(f"sim_options: unknown key(s) {sorted(unknown)}; expected some of {sorted(_SIM_KEYS)}")
    name = str(sim_options.get("name", "msd")).lower()
    if name not in SIMILARITIES:
        raise ValueError(f"sim_options: unknown similarity {name!r}; expected one of {', '.join(SIMILARITIES)}")
    min_support = sim_options.get("min_support", 1)
    shrinkage = sim_options.get("shrinkage", 100)
    if not (isinstance(min_support, (int, np.integer)) and min_support >= 0):
        raise ValueError(f"sim_options: min_support must be an integer >= 0, got {min_support!r}")
    if not (np.isscalar(shrinkage) and float(shrinkage) >= 0):
        raise ValueError(f"sim_options: shrinkage must be a number >= 0, got {shrinkage!r}")
    return name, bool(sim_options.get("user_based", True)), int(min_support), float(shrinkage)


def rows_for_similarity(trainset, user_based=True, baselines=None):
    """CSR arrays ``(indptr, indices, values)`` of the rows to compare, columns sorted.

    Rows are users (``user_based``) or items. ``values`` are the ratings, or with
    ``baselines=(bu, bi)`` the residuals ``r - (mu + bu + bi)`` that ``pearson_baseline`` uses.
    """
    x, y = (trainset.users, trainset.items) if user_based else (trainset.items, trainset.users)
    n_x = trainset.n_users if user_based else trainset.n_items
    values = trainset.ratings
    if baselines is not None:
        bu, bi = baselines
        # same grouping as Surprise: r - ((mu + b_y) + b_x)
        bx, by = (bu, bi) if user_based else (bi, bu)
        values = values - ((trainset.global_mean + by[y]) + bx[x])
    n_y = trainset.n_items if user_based else trainset.n_users
    order = np.argsort(x * n_y + y)  # by row, then column (the pairs are distinct)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(x, minlength=n_x))))
    return indptr, y[order], values[order]


def similarity_matrix(trainset, name="msd", user_based=True, min_support=1, shrinkage=100, baselines=None):
    """The ``(n, n)`` similarity matrix of the trainset's users (or items) under ``name``."""
    if name not in SIMILARITIES:
        raise ValueError(f"similarity_matrix: unknown similarity {name!r}; expected one of {', '.join(SIMILARITIES)}")
    if name == "pearson_baseline" and baselines is None:
        raise ValueError("similarity_matrix: 'pearson_baseline' needs baselines=(bu, bi)")
    indptr, indices, values = rows_for_similarity(trainset, user_based,
                                                  baselines if name == "pearson_baseline" else None)
    n_y = trainset.n_items if user_based else trainset.n_users
    return pairwise_similarity(name, indptr, indices, values, n_y, min_support, shrinkage)


def pairwise_similarity(name, indptr, indices, values, n_y, min_support=1, shrinkage=100):
    """Dispatch to the numba kernel under the numba backend, else to the NumPy reference."""
    if name not in SIMILARITIES:
        raise ValueError(f"pairwise_similarity: unknown similarity {name!r}; expected one of {', '.join(SIMILARITIES)}")
    if backend.current() == "numba":
        return _pairwise_similarity_numba(name, indptr, indices, values, n_y, min_support, shrinkage)
    return pairwise_similarity_reference(name, indptr, indices, values, n_y, min_support, shrinkage)


def _pairwise_similarity_numba(name, indptr, indices, values, n_y, min_support, shrinkage):
    """The numba kernel, on ``numba.get_num_threads()`` threads at once (it releases the GIL).

    Its inputs: the rows by column too (CSC), and where each entry sits there. Threads over
    a ``nogil`` kernel rather than ``prange``: the same speed-up, and the first call (a
    lesson's, or CI's, with no cached machine code yet) compiles in about 2 s instead of 6.
    """
    from concurrent.futures import ThreadPoolExecutor

    import numba

    from . import _numba

    indptr, indices = np.asarray(indptr, np.int64), np.asarray(indices, np.int64)
    values = np.asarray(values, np.float64)
    n_x = len(indptr) - 1
    rows = np.repeat(np.arange(n_x), np.diff(indptr))
    by_column = np.argsort(indices * n_x + rows)  # by column, then row (the pairs are distinct)
    col_position = np.empty_like(by_column)
    col_position[by_column] = np.arange(len(by_column))
    col_indptr = np.concatenate(([0], np.cumsum(np.bincount(indices, minlength=n_y))))
    args = (SIMILARITIES.index(name), indptr, indices, values, col_indptr, rows[by_column], values[by_column],
            col_position, int(min_support), float(shrinkage))
    sim = np.zeros((n_x, n_x))
    n_threads, n_pairs = numba.get_num_threads(), (n_x + 1) // 2
    # a few tasks per thread even out the load; each task holds (n_x, 8) sums
    n_tasks = max(1, min(n_pairs, 4 * n_threads if n_x >= 64 else 1))
    bounds = [k * n_pairs // n_tasks for k in range(n_tasks + 1)]
    if n_tasks == 1:
        _numba.similarity_rows(*args, 0, n_pairs, sim)
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            list(pool.map(lambda k: _numba.similarity_rows(*args, bounds[k], bounds[k + 1], sim), range(n_tasks)))
    _numba.mirror_upper_triangle(sim)
    return sim


def pairwise_similarity_reference(name, indptr, indices, values, n_y, min_support=1, shrinkage=100):
    """All pairwise similarities of the CSR rows, as dense matrix products.

    With ``X`` the dense rows (0 where unrated) and ``M`` the 0/1 mask of rated entries,
    every sum over the common support of rows ``a, b`` is one matrix product:

    * ``n = M M^T``                       number of common columns
    * ``S_ab = X X^T``                    sum of products
    * ``S_aa = (X*X) M^T``, ``S_bb = S_aa^T``  sums of squares over the common columns
    * ``S_a = X M^T``, ``S_b = S_a^T``         sums over the common columns
    * ``D = S_aa + S_bb - 2 S_ab``           sum of squared differences
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
            raise ValueError(f"pairwise_similarity_reference: unknown similarity {name!r}")
    sim = np.where(n < min_support, 0.0, sim)
    np.fill_diagonal(sim, 1.0)
    return sim


def _ratio(num, den):
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)


def feature_similarity(features, name="cosine"):
    """Similarity of complete feature vectors (rows of ``features``), e.g. items' content (F15).

    Every feature counts (a 0 is a value, not a missing rating), so the support of every
    pair is the number of features. ``article_euclidean`` is article 004 §3.2.2.3 as written.
    """
    F = np.asarray(features, dtype=np.float64)
    if F.ndim != 2 or F.shape[1] == 0:
        raise ValueError(f"feature_similarity: expected a 2-D (n_items, n_features) array, got shape {F.shape}")
    if not np.isfinite(F).all():
        raise ValueError("feature_similarity: features must be finite (no NaN or inf)")
    if name not in SIMILARITIES or name == "pearson_baseline":
        raise ValueError(f"feature_similarity: unknown similarity {name!r}; expected one of "
                         "cosine, msd, pearson, article_euclidean")
    n_x, n_f = F.shape
    indptr = np.arange(n_x + 1) * n_f
    indices = np.tile(np.arange(n_f), n_x)
    return pairwise_similarity(name, indptr, indices, F.ravel(), n_f, min_support=1)


def article_euclidean(a, b):
    r"""F14 for two complete vectors: :math:`1 - \|a - b\| / (\|a\|\,\|b\|)` (article 004 §3.2.1.2)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"article_euclidean: expected two vectors of one length, got shapes {a.shape} and {b.shape}")
    norms = np.sqrt(np.sum(a * a) * np.sum(b * b))
    if norms == 0:
        raise ValueError("article_euclidean: undefined for a zero vector (the denominator is 0)")
    return float(1.0 - np.sqrt(np.sum((a - b) ** 2)) / norms)
