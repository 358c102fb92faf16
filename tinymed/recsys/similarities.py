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

Surprise's module functions take the ratings grouped by the *other* side, ``yr = {y: [(x,
rating), ...]}``: :func:`cosine`, :func:`msd`, :func:`pearson` ``(n_x, yr, min_support)`` and
:func:`pearson_baseline` ``(n_x, yr, min_support, global_mean, x_biases, y_biases, shrinkage)``;
the predictors call :func:`similarity_matrix` on a trainset instead. Both end in the same kernel.

:func:`pairwise_similarity` computes them with the kernel ``row_similarities`` of the active
backend: dense NumPy matrix products in :mod:`tinymed.kernels.reference.recsys` (read this
one), or, in :mod:`tinymed.kernels.numba.recsys`, for each row a walk over its columns that
adds to the sums of every later row sharing them, groups of rows on threads at once (the
fast path, and it never holds a dense copy of the rows).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..sparse import CSRMatrix
from .checks import count, number

SIMILARITIES = ("cosine", "msd", "pearson", "pearson_baseline", "article_euclidean")
_SIM_KEYS = {"name", "user_based", "min_support", "shrinkage"}


class UnknownSimilarity(ValueError, NameError):
    """A similarity name tinymed does not have. tinymed refuses it when the predictor is built;
    Surprise raises ``NameError`` at ``fit``, so this is both, and either ``except`` catches it."""


def validate_sim_options(sim_options):
    """``(name, user_based, min_support, shrinkage)`` from a Surprise ``sim_options`` dict."""
    unknown = set(sim_options) - _SIM_KEYS
    if unknown:
        raise ValueError(f"sim_options: unknown key(s) {sorted(unknown)}; expected some of {sorted(_SIM_KEYS)}")
    name = str(sim_options.get("name", "msd")).lower()
    if name not in SIMILARITIES:
        raise UnknownSimilarity(f"sim_options: unknown similarity {name!r}; expected one of {', '.join(SIMILARITIES)}")
    min_support = count("sim_options", "min_support", sim_options.get("min_support", 1))
    shrinkage = number("sim_options", "shrinkage", sim_options.get("shrinkage", 100), minimum=0)
    return name, bool(sim_options.get("user_based", True)), min_support, shrinkage


def rows_for_similarity(trainset, user_based=True, baselines=None):
    """The rows to compare as a :class:`~tinymed.sparse.CSRMatrix`, each row's columns sorted.

    Rows are users (``user_based``) or items. Values are the ratings, or with
    ``baselines=(bu, bi)`` the residuals ``r - (mu + bu + bi)`` that ``pearson_baseline`` uses.
    """
    x, y = (trainset.users, trainset.items) if user_based else (trainset.items, trainset.users)
    n_x, n_y = (trainset.n_users, trainset.n_items) if user_based else (trainset.n_items, trainset.n_users)
    values = trainset.ratings
    if baselines is not None:
        bu, bi = baselines
        # same grouping as Surprise: r - ((mu + b_y) + b_x)
        bx, by = (bu, bi) if user_based else (bi, bu)
        values = values - ((trainset.global_mean + by[y]) + bx[x])
    return CSRMatrix.from_coo(x, y, values, (n_x, n_y))


def similarity_matrix(trainset, name="msd", user_based=True, min_support=1, shrinkage=100, baselines=None):
    """The ``(n, n)`` similarity matrix of the trainset's users (or items) under ``name``."""
    if name not in SIMILARITIES:
        raise UnknownSimilarity(f"similarity_matrix: unknown similarity {name!r}; expected one of "
                                f"{', '.join(SIMILARITIES)}")
    if name == "pearson_baseline" and baselines is None:
        raise ValueError("similarity_matrix: 'pearson_baseline' needs baselines=(bu, bi)")
    rows = rows_for_similarity(trainset, user_based, baselines if name == "pearson_baseline" else None)
    return pairwise_similarity(name, rows.indptr, rows.indices, rows.data, rows.shape[1], min_support, shrinkage)


def pairwise_similarity(name, indptr, indices, values, n_y, min_support=1, shrinkage=100):
    """All pairwise similarities ``(n_x, n_x)`` of the CSR rows ``(indptr, indices, values)`` with
    ``n_y`` columns, by the kernel ``row_similarities`` of the active backend (formulas above)."""
    if name not in SIMILARITIES:
        raise UnknownSimilarity(f"pairwise_similarity: unknown similarity {name!r}; expected one of "
                                f"{', '.join(SIMILARITIES)}")
    return backend.kernel("row_similarities")(name, indptr, indices, values, n_y, min_support, shrinkage)


def _rows_of_yr(n_x, yr, where):
    """``(rows, columns, ratings, y of each column)`` of Surprise's ``yr``: column *c* is the
    *c*-th key of ``yr``, so every pair's sums are added in ``yr``'s order, as Surprise adds them."""
    if not (isinstance(n_x, (int, np.integer)) and n_x >= 0):
        raise ValueError(f"similarities.{where}: n_x must be an integer >= 0, got {n_x!r}")
    ys = list(yr)
    triples = [(x, c, r) for c, y in enumerate(ys) for x, r in yr[y]]
    rows, cols, ratings = (np.array(v, dtype=dtype) for v, dtype in
                           zip(zip(*triples) if triples else ((), (), ()), (np.int64, np.int64, np.float64)))
    if len(rows) and (rows.min() < 0 or rows.max() >= n_x):
        raise ValueError(f"similarities.{where}: an x id lies outside [0, n_x = {n_x})")
    return rows, cols, ratings, ys


def _yr_similarity(name, n_x, yr, min_support, where, shrinkage=100, residual=None):
    rows, cols, ratings, ys = _rows_of_yr(n_x, yr, where)
    values = ratings if residual is None else residual(rows, np.asarray(ys, dtype=np.int64)[cols], ratings)
    R = CSRMatrix.from_coo(rows, cols, values, (n_x, len(ys)), sum_duplicates=False)
    return pairwise_similarity(name, R.indptr, R.indices, R.data, len(ys), int(min_support), float(shrinkage))


def cosine(n_x, yr, min_support):
    """Surprise's ``similarities.cosine``: the ``(n_x, n_x)`` cosine similarities of the x's, from
    ``yr = {y: [(x, rating), ...]}`` (formula in the module docstring)."""
    return _yr_similarity("cosine", n_x, yr, min_support, "cosine")


def msd(n_x, yr, min_support):
    """Surprise's ``similarities.msd``: mean-squared-difference similarities ``1 / (msd + 1)``."""
    return _yr_similarity("msd", n_x, yr, min_support, "msd")


def pearson(n_x, yr, min_support):
    """Surprise's ``similarities.pearson``: Pearson correlations over the common ratings."""
    return _yr_similarity("pearson", n_x, yr, min_support, "pearson")


def pearson_baseline(n_x, yr, min_support, global_mean, x_biases, y_biases, shrinkage=100):
    """Surprise's ``similarities.pearson_baseline``: the shrunk correlation of the baseline residuals
    ``r - (global_mean + y_biases[y] + x_biases[x])``."""
    x_biases, y_biases = np.asarray(x_biases, dtype=np.float64), np.asarray(y_biases, dtype=np.float64)
    return _yr_similarity("pearson_baseline", n_x, yr, min_support, "pearson_baseline", shrinkage,
                          residual=lambda x, y, r: r - ((global_mean + y_biases[y]) + x_biases[x]))


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
