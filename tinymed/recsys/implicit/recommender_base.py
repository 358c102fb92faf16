r"""What implicit-feedback models share: the user-item matrix they read, and ranking with factors.

Implicit data record what happened -- a treatment prescribed, a leaflet read -- not how much it
was liked. They come as a users x items matrix whose stored entries are the interactions (a
count, or 1); every entry not stored is "no interaction", which is weak evidence against, not
a missing rating. :func:`as_user_items` takes it as a :class:`~tinymed.sparse.CSRMatrix`, a
scipy sparse matrix (scipy is not needed to read one) or a dense array.

A model of :class:`MatrixFactorizationBase` scores user *u* and item *i* by
:math:`s_{ui} = x_u^\top y_i` (``user_factors`` and ``item_factors``) and answers with the
``implicit`` library's methods and arguments: :meth:`~MatrixFactorizationBase.recommend`,
:meth:`~MatrixFactorizationBase.similar_items`, :meth:`~MatrixFactorizationBase.similar_users`.
"""

from __future__ import annotations

import numbers

import numpy as np

from ...sparse import CSRMatrix


def as_user_items(matrix, where, n_items=None):
    """``matrix`` as a :class:`~tinymed.sparse.CSRMatrix` of non-negative finite values, each row's
    columns ascending and its zeros dropped (a zero is no interaction)."""
    if isinstance(matrix, CSRMatrix):
        rows, cols, values, shape = matrix.row_of_entries(), matrix.indices, matrix.data, matrix.shape
    elif hasattr(matrix, "tocsr") and hasattr(matrix, "shape"):  # a scipy sparse matrix or array
        csr = matrix.tocsr()
        rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
        cols, values, shape = csr.indices, csr.data, csr.shape
    elif hasattr(matrix, "shape") and len(matrix.shape) == 2:
        dense = np.asarray(matrix, dtype=np.float64)
        rows, cols = np.nonzero(dense)
        values, shape = dense[rows, cols], dense.shape
    else:
        raise TypeError(f"{where}: expected a users x items matrix (tinymed.sparse.CSRMatrix, scipy sparse or "
                        f"a 2-D array), got {type(matrix).__name__}")
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"{where}: the interactions must be finite and >= 0 (counts, or 1 for 'seen')")
    if n_items is not None and shape[1] != n_items:
        raise ValueError(f"{where}: the matrix has {shape[1]} item columns; the model was fitted on {n_items} items")
    kept = values != 0
    return CSRMatrix.from_coo(np.asarray(rows)[kept], np.asarray(cols)[kept], values[kept], shape)


def _ids(value, n, where, name):
    """``(ids as an int array, whether one id was given)``; every id in ``[0, n)``."""
    ids = np.asarray(value)
    if ids.dtype.kind not in "iu" or ids.ndim > 1:
        raise TypeError(f"{where}: {name} must be an integer id or a 1-D array of them, got {value!r}")
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        raise ValueError(f"{where}: {name} must be in [0, {n}), got {value!r}")
    return np.atleast_1d(ids).astype(np.int64), ids.ndim == 0


class MatrixFactorizationBase:
    """A model of ``user_factors (n_users, k)`` and ``item_factors (n_items, k)`` (None until ``fit``)."""

    def __init__(self):
        self.user_factors = self.item_factors = None

    def _check_fitted(self, where):
        if self.user_factors is None:
            raise RuntimeError(f"{type(self).__name__}.{where}: call fit(user_items) first")

    def recommend(self, userid, user_items, N=10, filter_already_liked_items=True, filter_items=None,
                  recalculate_user=False, items=None):
        """The ``N`` best items for ``userid`` (an id, or an array of ids): ``(ids, scores)``.

        ``user_items`` holds the users' rows, one per id in ``userid`` (``user_items[userid]``);
        it is needed to leave out what they already have (``filter_already_liked_items``) or to
        compute their factors afresh from it (``recalculate_user``). ``filter_items`` are never
        recommended; ``items`` restricts the ranking to those ids (not with ``filter_items``).
        For one id the arrays are 1-D and hold only items that could be recommended; for
        several they are ``(len(userid), N)``, a row with fewer candidates padded with id -1
        and score ``-inf``. Ties are broken by the lower item id.
        """
        where = f"{type(self).__name__}.recommend"
        self._check_fitted("recommend")
        users, single = _ids(userid, len(self.user_factors), where, "userid")
        rows = None if user_items is None else as_user_items(user_items, where, len(self.item_factors))
        if rows is None and (filter_already_liked_items or recalculate_user):
            raise ValueError(f"{where}: user_items is needed to filter liked items or recalculate users; pass "
                             "user_items[userid] (or filter_already_liked_items=False)")
        if rows is not None and rows.shape[0] != len(users):
            raise ValueError(f"{where}: user_items has {rows.shape[0]} row(s) for {len(users)} user id(s); pass the "
                             "users' own rows, user_items[userid]")
        if filter_items is not None and items is not None:
            raise ValueError(f"{where}: give filter_items or items, not both")
        factors = self.recalculate_user(users, rows) if recalculate_user else self.user_factors[users]
        scores = np.asarray(factors, dtype=np.float64) @ np.asarray(self.item_factors, dtype=np.float64).T
        if filter_already_liked_items:
            scores[rows.row_of_entries(), rows.indices] = -np.inf
        if filter_items is not None:
            scores[:, _ids(filter_items, scores.shape[1], where, "filter_items")[0]] = -np.inf
        return _best(scores, N, None if items is None else _ids(items, scores.shape[1], where, "items")[0], single,
                     where)

    def recalculate_user(self, userid, user_items):
        raise NotImplementedError(f"{type(self).__name__} cannot compute a user's factors from their items without "
                                  "fitting again (recalculate_user); AlternatingLeastSquares can")

    def similar_items(self, itemid, N=10, recalculate_item=False, item_users=None, filter_items=None, items=None):
        """The ``N`` items whose factors are most like ``itemid``'s (cosine of the factors, the item
        itself first): ``(ids, scores)``, shaped as :meth:`recommend`'s."""
        where = f"{type(self).__name__}.similar_items"
        self._check_fitted("similar_items")
        ids, single = _ids(itemid, len(self.item_factors), where, "itemid")
        if recalculate_item:
            rows = as_user_items(item_users, where, len(self.user_factors))
            query = self.recalculate_item(ids, rows)
        else:
            query = self.item_factors[ids]
        return self._similar(query, self.item_factors, N, filter_items, items, single, where)

    def recalculate_item(self, itemid, item_users):
        raise NotImplementedError(f"{type(self).__name__} cannot compute an item's factors from its users without "
                                  "fitting again (recalculate_item); AlternatingLeastSquares can")

    def similar_users(self, userid, N=10, filter_users=None, users=None):
        """The ``N`` users whose factors are most like ``userid``'s (cosine, the user first)."""
        where = f"{type(self).__name__}.similar_users"
        self._check_fitted("similar_users")
        ids, single = _ids(userid, len(self.user_factors), where, "userid")
        return self._similar(self.user_factors[ids], self.user_factors, N, filter_users, users, single, where)

    @staticmethod
    def _similar(query, factors, N, excluded, candidates, single, where):
        if excluded is not None and candidates is not None:
            raise ValueError(f"{where}: give the filter or the candidates, not both")
        factors, query = np.asarray(factors, dtype=np.float64), np.asarray(query, dtype=np.float64)
        norms, query_norms = np.linalg.norm(factors, axis=1), np.linalg.norm(query, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores = (query @ factors.T) / np.outer(query_norms, norms)
        scores = np.where(np.isfinite(scores), scores, 0.0)
        if excluded is not None:
            scores[:, _ids(excluded, len(factors), where, "the filter")[0]] = -np.inf
        columns = None if candidates is None else _ids(candidates, len(factors), where, "the candidates")[0]
        return _best(scores, N, columns, single, where)


def _best(scores, N, candidates, single, where):
    """The ``N`` highest-scoring columns of each row (among ``candidates``): ``(ids, scores)``."""
    if not isinstance(N, numbers.Integral) or N < 1:
        raise ValueError(f"{where}: N must be an integer >= 1, got {N!r}")
    columns = np.arange(scores.shape[1]) if candidates is None else candidates
    ranked = np.argsort(-scores[:, columns], axis=1, kind="stable")[:, :N]
    ids, best = columns[ranked], np.take_along_axis(scores[:, columns], ranked, axis=1)
    if single:
        keep = np.isfinite(best[0])
        return ids[0][keep], best[0][keep]
    return np.where(np.isfinite(best), ids, -1), best
