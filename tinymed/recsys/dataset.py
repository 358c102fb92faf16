"""Ratings data: :class:`Reader`, :class:`Dataset` and :class:`Trainset` (Surprise's names).

A rating is a triple *(user, item, rating)* -- in medicine *(patient, treatment, response)*.
The raw ids are whatever the data uses (strings, numbers); a :class:`Trainset` numbers the
users and items it has seen ``0, 1, 2, ...`` in order of first appearance ("inner ids"), and
holds the ratings as arrays. Its user-item matrix R (article 004 §3.2.1.1, F13),

.. math::  R = (r_{ij}),\\quad r_{ij} = \\text{rating of user } i \\text{ for item } j,

is available dense (:meth:`Trainset.rating_matrix`, missing entries NaN) and sparse
(:meth:`Trainset.rating_matrix_csr`).

    >>> from tinymed.recsys import Dataset, Reader
    >>> data = Dataset.load_from_triples([("ann", "aspirin", 4), ("bob", "aspirin", 2),
    ...                                   ("ann", "statin", 5)], Reader(rating_scale=(1, 5)))
    >>> trainset = data.build_full_trainset()
    >>> trainset.n_users, trainset.n_items, trainset.global_mean
    (2, 2, 3.6666666666666665)
    >>> trainset.rating_matrix()
    array([[ 4.,  5.],
           [ 2., nan]])

Unlike Surprise, loading checks the data: an empty table, a rating that is not a finite
number or lies outside ``rating_scale``, and a (user, item) pair given twice raise ``ValueError``.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from ..sparse import CSRMatrix, indptr_from_rows
from . import movielens

_INTEGERS = (int, np.integer)  # concrete types: an isinstance check against an ABC is slow per prediction


# The line formats of Surprise's built-in data sets (how their files read; nothing is downloaded).
BUILTIN_FORMATS = {
    "ml-100k": {"line_format": "user item rating timestamp", "sep": "\t", "rating_scale": (1, 5)},
    "ml-1m": {"line_format": "user item rating timestamp", "sep": "::", "rating_scale": (1, 5)},
    "jester": {"line_format": "user item rating", "sep": None, "rating_scale": (-10, 10)},
}


class Reader:
    """How to read ratings: the rating scale, and for text files the line format.

    Arguments follow Surprise: ``line_format`` names the fields of a line among ``user``,
    ``item``, ``rating`` (and ``timestamp``), ``sep`` splits a line (``None``: whitespace),
    ``skip_lines`` header lines are skipped. ``name`` picks the format of one of Surprise's
    built-in data sets (``'ml-100k'``, ``'ml-1m'``, ``'jester'``: :data:`BUILTIN_FORMATS`) and
    overrides the other arguments; it reads a copy you have, tinymed downloads nothing.
    """

    def __init__(self, name=None, line_format="user item rating", sep=None, rating_scale=(1, 5),
                 skip_lines=0):
        if name is not None:
            if name not in BUILTIN_FORMATS:
                raise ValueError(f"Reader: unknown built-in format {name!r}; expected one of "
                                 f"{', '.join(BUILTIN_FORMATS)}")
            line_format, sep, rating_scale = (BUILTIN_FORMATS[name][key] for key in ("line_format", "sep",
                                                                                       "rating_scale"))
        try:
            low, high = (float(v) for v in rating_scale)
        except (TypeError, ValueError):
            raise ValueError(f"Reader: rating_scale must be a pair (lowest, highest), got {rating_scale!r}") from None
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(f"Reader: rating_scale must satisfy lowest < highest, got {rating_scale!r}")
        fields = line_format.split()
        if sorted(set(fields) - {"timestamp"}) != ["item", "rating", "user"] or len(set(fields)) != len(fields):
            raise ValueError("Reader: line_format must name 'user', 'item' and 'rating' once each "
                             f"(and optionally 'timestamp'), got {line_format!r}")
        self.rating_scale = (rating_scale[0], rating_scale[1])
        self.line_format = line_format
        self.sep = sep
        self.skip_lines = int(skip_lines)
        self._fields = fields

    def parse_line(self, line):
        """``(user, item, rating, timestamp)`` from one line of text."""
        parts = [p.strip() for p in line.split(self.sep)]
        if len(parts) < len(self._fields):
            raise ValueError(f"Reader.parse_line: expected {len(self._fields)} fields "
                             f"({self.line_format!r}), got {len(parts)} in line {line!r}")
        row = dict(zip(self._fields, parts))
        return row["user"], row["item"], _to_rating(row["rating"], "Reader.parse_line"), row.get("timestamp")

    def __repr__(self):
        return f"Reader(rating_scale={self.rating_scale})"


def _to_rating(value, where):
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: a rating must be a number, got {value!r}") from None


class Columns(dict):
    """Columns by name, as a dict; ``table[["a", "b"]]`` selects columns like a DataFrame.

    Just enough of a table for the articles' snippets where pandas is not installed:
    ``Dataset.load_from_df(Columns(user_id=[...], item_id=[...], rating=[...])[["user_id",
    "item_id", "rating"]], reader)``.
    """

    def __getitem__(self, key):
        if isinstance(key, list):
            missing = [k for k in key if k not in self]
            if missing:
                raise KeyError(f"Columns: no column(s) {missing}; have {list(self)}")
            return Columns((k, dict.__getitem__(self, k)) for k in key)
        return dict.__getitem__(self, key)


class Dataset:
    """Raw ratings ``(user, item, rating, timestamp)`` and the :class:`Reader` that read them.

    Build one with :meth:`load_from_df`, :meth:`load_from_triples` or :meth:`load_from_file`;
    then :meth:`build_full_trainset`, or split it with :mod:`tinymed.recsys.model_selection`.
    Data already split into train and test files: :meth:`load_from_folds`.
    """

    def __init__(self, raw_ratings, reader):
        if not isinstance(reader, Reader):
            raise TypeError(f"Dataset: expected a tinymed.recsys.Reader, got {type(reader).__name__}")
        self.reader = reader
        self.raw_ratings = _checked(raw_ratings, reader.rating_scale)

    @classmethod
    def load_from_df(cls, df, reader):
        """Ratings from a table whose first three columns are user, item and rating.

        ``df`` may be a pandas DataFrame (pandas is optional), a mapping of column name to
        column (its first three columns are used, as Surprise uses the DataFrame's), or a
        sequence of rows ``(user, item, rating)``.
        """
        if df is None:
            raise ValueError("Dataset.load_from_df: no table given (df is None); expected a DataFrame, a "
                             "mapping of columns or a sequence of (user, item, rating) rows")
        return cls(_rows_of_table(df), reader)

    @classmethod
    def load_builtin(cls, name="ml-100k", prompt=True):
        """Surprise's built-in data sets: only ``'ml-100k'``, and only from a copy already on
        this machine (:func:`load_movielens_100k`); tinymed downloads nothing, so ``prompt`` is
        accepted and ignored."""
        if name != "ml-100k":
            raise ValueError(f"Dataset.load_builtin: only 'ml-100k' is available (read from your own copy), "
                             f"got {name!r}")
        return load_movielens_100k()

    @classmethod
    def load_from_triples(cls, triples, reader):
        """Ratings from an iterable of ``(user, item, rating)`` triples."""
        return cls([_row(t, "Dataset.load_from_triples") for t in triples], reader)

    @classmethod
    def load_from_file(cls, file_path, reader):
        """Ratings from a text file, one per line, read with ``reader.parse_line``."""
        return cls(read_ratings(file_path, reader), reader)

    @classmethod
    def load_from_folds(cls, folds_files, reader):
        """Ratings already split: ``folds_files`` is a list of ``(train file, test file)`` pairs,
        read by ``reader``; :class:`~tinymed.recsys.model_selection.PredefinedKFold` yields them.
        Every file must exist."""
        return DatasetUserFolds(folds_files, reader)

    def build_full_trainset(self):
        """A :class:`Trainset` holding every rating (no test set)."""
        return self.construct_trainset(self.raw_ratings)

    def construct_trainset(self, raw_trainset):
        """A :class:`Trainset` from a list of raw ``(user, item, rating, timestamp)`` tuples."""
        return Trainset.from_raw(raw_trainset, self.reader.rating_scale)

    def construct_testset(self, raw_testset):
        """``[(user, item, rating), ...]`` from raw tuples (the form ``algo.test`` takes)."""
        return [(u, i, r) for (u, i, r, _) in raw_testset]

    def __len__(self):
        return len(self.raw_ratings)

    def __repr__(self):
        return f"<Dataset: {len(self.raw_ratings)} ratings, scale {self.reader.rating_scale}>"


class DatasetUserFolds:
    """Ratings given as ``(train file, test file)`` pairs (Surprise's name for what
    :meth:`Dataset.load_from_folds` returns); only ``PredefinedKFold`` splits it."""

    def __init__(self, folds_files, reader):
        if not isinstance(reader, Reader):
            raise TypeError(f"Dataset.load_from_folds: expected a tinymed.recsys.Reader, got {type(reader).__name__}")
        self.reader = reader
        self.folds_files = [tuple(pair) for pair in folds_files]
        for pair in self.folds_files:
            if len(pair) != 2:
                raise ValueError(f"Dataset.load_from_folds: each fold is a (train file, test file) pair, got {pair!r}")
            for file in pair:
                if not os.path.isfile(os.path.expanduser(file)):
                    raise ValueError(f"Dataset.load_from_folds: file {str(file)!r} does not exist")

    def read_fold(self, train_file, test_file):
        """``(trainset, testset)`` of one pair of files."""
        raw_train = _checked(read_ratings(train_file, self.reader), self.reader.rating_scale)
        raw_test = _checked(read_ratings(test_file, self.reader), self.reader.rating_scale)
        return Trainset.from_raw(raw_train, self.reader.rating_scale), [(u, i, r) for (u, i, r, _) in raw_test]

    def __repr__(self):
        return f"<DatasetUserFolds: {len(self.folds_files)} fold(s), scale {self.reader.rating_scale}>"


def read_ratings(file_path, reader):
    """The raw ratings ``[(user, item, rating, timestamp), ...]`` of a text file, one per line,
    after ``reader.skip_lines`` lines; blank lines are skipped."""
    with open(os.path.expanduser(file_path), encoding="utf-8") as f:
        lines = f.read().splitlines()[reader.skip_lines:]
    return [reader.parse_line(line) for line in lines if line.strip()]


def _row(row, where):
    try:
        values = tuple(row)
    except TypeError:
        raise ValueError(f"{where}: each row must be (user, item, rating), got {row!r}") from None
    if len(values) not in (3, 4):
        raise ValueError(f"{where}: each row must be (user, item, rating), got {len(values)} fields: {row!r}")
    timestamp = values[3] if len(values) == 4 else None
    return values[0], values[1], _to_rating(values[2], where), timestamp


def _rows_of_table(df):
    where = "Dataset.load_from_df"
    if hasattr(df, "itertuples") and hasattr(df, "columns"):  # a pandas DataFrame
        if len(df.columns) < 3:
            raise ValueError(f"{where}: expected columns user, item, rating; got {list(df.columns)}")
        return [_row(t[:3], where) for t in df.itertuples(index=False)]
    if isinstance(df, Mapping):
        columns = list(df.values())[:3]
        if len(columns) < 3:
            raise ValueError(f"{where}: expected a mapping with columns user, item, rating; "
                             f"got keys {list(df.keys())}")
        lengths = {len(c) for c in columns}
        if len(lengths) != 1:
            raise ValueError(f"{where}: the user, item and rating columns differ in length: "
                             f"{[len(c) for c in columns]}")
        return [_row(t, where) for t in zip(*columns)]
    if isinstance(df, (str, bytes)) or not hasattr(df, "__iter__"):
        raise TypeError(f"{where}: expected a DataFrame, a mapping of columns or a sequence of "
                        f"rows, got {type(df).__name__}")
    return [_row(t, where) for t in df]


def _checked(raw_ratings, rating_scale):
    """The ratings as a list of 4-tuples, after checking they are usable."""
    raw = [tuple(r) if len(r) == 4 else (*r, None) for r in raw_ratings]
    if not raw:
        raise ValueError("Dataset: no ratings; expected at least one (user, item, rating) row")
    low, high = rating_scale
    seen = set()
    for k, (u, i, r, _) in enumerate(raw):
        if not math.isfinite(r) or not (low <= r <= high):
            raise ValueError(f"Dataset: rating {r!r} of row {k} (user {u!r}, item {i!r}) is outside "
                             f"the rating scale [{low}, {high}] given to the Reader")
        if (u, i) in seen:
            raise ValueError(f"Dataset: user {u!r} rates item {i!r} more than once (row {k}); "
                             "keep one rating per (user, item) pair")
        seen.add((u, i))
    return raw


def load_movielens_100k(path=None):
    """MovieLens-100k as a :class:`Dataset` on the 1-5 scale (where it is read from, and how:
    :mod:`tinymed.recsys.movielens`).

    Each raw rating is ``(user id, item id, rating, timestamp)``, the ids as the strings of
    the file. A line that does not parse raises ``ValueError`` naming the file and line.
    """
    reader = Reader(line_format=movielens.LINE_FORMAT, sep=movielens.SEPARATOR, rating_scale=movielens.RATING_SCALE)
    return Dataset(movielens.read_movielens_100k(path), reader)


class Trainset:
    """Ratings with users and items numbered by inner ids, ready for fitting.

    Attributes (Surprise's): ``n_users``, ``n_items``, ``n_ratings``, ``rating_scale``,
    ``global_mean``; ``ur[u]`` and ``ir[i]`` are lists of ``(inner id, rating)`` in the order
    the ratings came (``defaultdict``s, as Surprise's: an id that is not there gives ``[]``).
    As arrays: ``users``, ``items``, ``ratings`` (one entry per rating, in that order); and as
    the sparse matrix R twice, ``ratings_by_user`` (a
    :class:`~tinymed.sparse.CSRMatrix` with a row per user) and ``ratings_by_item`` (its
    transpose, a row per item), every row's ratings again in the order they came -- the
    form the fitting kernels use.
    """

    def __init__(self, users, items, ratings, rating_scale, raw2inner_id_users, raw2inner_id_items):
        self.users = np.asarray(users, dtype=np.int64)
        self.items = np.asarray(items, dtype=np.int64)
        self.ratings = np.asarray(ratings, dtype=np.float64)
        self.rating_scale = rating_scale
        self._raw2inner_id_users = dict(raw2inner_id_users)
        self._raw2inner_id_items = dict(raw2inner_id_items)
        self._inner2raw_id_users = self._inner2raw_id_items = None  # built on first use, as in Surprise
        self.n_users = len(self._raw2inner_id_users)
        self.n_items = len(self._raw2inner_id_items)
        self.n_ratings = len(self.ratings)
        # Each row keeps its ratings in arrival order, not sorted by column: the order in which
        # Surprise walks ur[u] and ir[i], so sums, neighbour ties and SGD sweeps match it.
        self.ratings_by_user = _rows_in_arrival_order(self.users, self.items, self.ratings, self.n_users, self.n_items)
        self.ratings_by_item = _rows_in_arrival_order(self.items, self.users, self.ratings, self.n_items, self.n_users)
        self._global_mean = None
        self._ur = self._ir = None

    @classmethod
    def from_raw(cls, raw_ratings, rating_scale):
        """Number users and items in order of first appearance (as Surprise does)."""
        ruid, riid = {}, {}
        users, items, ratings = [], [], []
        for u, i, r, *_ in raw_ratings:
            users.append(ruid.setdefault(u, len(ruid)))
            items.append(riid.setdefault(i, len(riid)))
            ratings.append(float(r))
        return cls(users, items, ratings, rating_scale, ruid, riid)

    # ----- ids -----------------------------------------------------------------------------
    def knows_user(self, uid):
        """Whether inner id ``uid`` is a user of this trainset."""
        return isinstance(uid, _INTEGERS) and 0 <= uid < self.n_users

    def knows_item(self, iid):
        """Whether inner id ``iid`` is an item of this trainset."""
        return isinstance(iid, _INTEGERS) and 0 <= iid < self.n_items

    def to_inner_uid(self, ruid):
        try:
            return self._raw2inner_id_users[ruid]
        except (KeyError, TypeError):
            raise ValueError(f"Trainset.to_inner_uid: user {ruid!r} is not part of the trainset") from None

    def to_inner_iid(self, riid):
        try:
            return self._raw2inner_id_items[riid]
        except (KeyError, TypeError):
            raise ValueError(f"Trainset.to_inner_iid: item {riid!r} is not part of the trainset") from None

    def to_raw_uid(self, iuid):
        if not self.knows_user(iuid):
            raise ValueError(f"Trainset.to_raw_uid: {iuid!r} is not a valid inner user id "
                             f"(expected an integer in [0, {self.n_users}))")
        return self.raw_user_ids()[iuid]

    def to_raw_iid(self, iiid):
        if not self.knows_item(iiid):
            raise ValueError(f"Trainset.to_raw_iid: {iiid!r} is not a valid inner item id "
                             f"(expected an integer in [0, {self.n_items}))")
        return self.raw_item_ids()[iiid]

    def raw_user_ids(self):
        """The raw id of every user, in inner-id order."""
        if self._inner2raw_id_users is None:
            self._inner2raw_id_users = list(self._raw2inner_id_users)
        return self._inner2raw_id_users

    def raw_item_ids(self):
        """The raw id of every item, in inner-id order."""
        if self._inner2raw_id_items is None:
            self._inner2raw_id_items = list(self._raw2inner_id_items)
        return self._inner2raw_id_items

    # ----- iteration -----------------------------------------------------------------------
    def all_users(self):
        return range(self.n_users)

    def all_items(self):
        return range(self.n_items)

    def all_ratings(self):
        """``(u, i, r)`` with inner ids, user by user (the order SGD sweeps the ratings)."""
        R = self.ratings_by_user
        for u, i, r in zip(R.row_of_entries(), R.indices, R.data):
            yield int(u), int(i), float(r)

    @property
    def ur(self):
        """``{u: [(i, r), ...]}``: each user's ratings."""
        if self._ur is None:
            self._ur = _lists_of_rows(self.ratings_by_user)
        return self._ur

    @property
    def ir(self):
        """``{i: [(u, r), ...]}``: each item's ratings."""
        if self._ir is None:
            self._ir = _lists_of_rows(self.ratings_by_item)
        return self._ir

    def user_ratings(self, u):
        """``(items, ratings)`` arrays of user ``u`` (inner id), in arrival order."""
        return self.ratings_by_user.row(u)

    def item_ratings(self, i):
        """``(users, ratings)`` arrays of item ``i`` (inner id), in arrival order."""
        return self.ratings_by_item.row(i)

    @property
    def global_mean(self):
        """The mean of all ratings, mu (added user by user, as Surprise adds them)."""
        if self._global_mean is None:
            self._global_mean = float(np.mean(self.ratings_by_user.data))
        return self._global_mean

    # ----- test sets -----------------------------------------------------------------------
    def build_testset(self):
        """Every rating of the trainset as ``[(raw user, raw item, rating), ...]``."""
        users, items = self.raw_user_ids(), self.raw_item_ids()
        return [(users[u], items[i], r) for u, i, r in self.all_ratings()]

    def build_anti_testset(self, fill=None):
        """Every (user, item) pair *without* a rating, with rating ``fill`` (default: the mean).

        These are the candidates a recommender ranks for each user.
        """
        fill = self.global_mean if fill is None else float(fill)
        rated = np.zeros((self.n_users, self.n_items), dtype=bool)
        rated[self.users, self.items] = True
        users, items = self.raw_user_ids(), self.raw_item_ids()
        return [(users[u], items[i], fill) for u, i in zip(*np.nonzero(~rated))]

    # ----- the user-item matrix R (F13) ------------------------------------------------------
    def rating_matrix(self, fill=np.nan):
        """Dense R, ``(n_users, n_items)``: ``R[u, i]`` = rating, ``fill`` where there is none."""
        R = np.full((self.n_users, self.n_items), fill, dtype=np.float64)
        R[self.users, self.items] = self.ratings
        return R

    def rating_matrix_csr(self, user_based=True):
        """Sparse R as a :class:`CSRMatrix` (users as rows; items as rows if not ``user_based``)."""
        if user_based:
            return CSRMatrix.from_coo(self.users, self.items, self.ratings, (self.n_users, self.n_items))
        return CSRMatrix.from_coo(self.items, self.users, self.ratings, (self.n_items, self.n_users))

    # ----- what recsys.dump saves ------------------------------------------------------------
    def state_dict(self):
        """The trainset as arrays a checkpoint holds (inner ids, ratings, scale, raw ids)."""
        return {"users": self.users, "items": self.items, "ratings": self.ratings,
                "rating_scale": tuple(float(v) for v in self.rating_scale),
                "raw_user_ids": _ids_state(self.raw_user_ids()), "raw_item_ids": _ids_state(self.raw_item_ids())}

    @classmethod
    def from_state_dict(cls, state):
        """The trainset :meth:`state_dict` described."""
        users, items = _ids_from_state(state["raw_user_ids"]), _ids_from_state(state["raw_item_ids"])
        return cls(state["users"], state["items"], state["ratings"], tuple(state["rating_scale"]),
                   {raw: k for k, raw in enumerate(users)}, {raw: k for k, raw in enumerate(items)})

    def __repr__(self):
        return (f"<Trainset: {self.n_users} users, {self.n_items} items, {self.n_ratings} ratings, "
                f"scale {self.rating_scale}>")


def _ids_state(ids):
    """Raw ids as a checkpoint holds them: all strings or all integers as an array, else JSON text."""
    if all(isinstance(x, str) for x in ids):
        return {"kind": "str", "values": np.array(ids, dtype=str)}
    if all(isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) for x in ids):
        return {"kind": "int", "values": np.array(ids, dtype=np.int64)}
    try:
        return {"kind": "json", "values": json.dumps([x.item() if isinstance(x, np.generic) else x for x in ids])}
    except TypeError:
        raise TypeError("Trainset.state_dict: raw ids must be strings or numbers to be saved, got "
                        f"{sorted({type(x).__name__ for x in ids})}") from None


def _ids_from_state(state):
    if state["kind"] == "str":
        return [str(x) for x in state["values"]]
    if state["kind"] == "int":
        return [int(x) for x in state["values"]]
    return json.loads(state["values"])


def _rows_in_arrival_order(x, y, values, n_x, n_y):
    """The ratings as an ``(n_x, n_y)`` :class:`CSRMatrix` with a row per ``x``, each row's
    entries in the order they came (a stable sort by row; columns not sorted)."""
    order = np.argsort(x, kind="stable")
    return CSRMatrix(indptr_from_rows(x, n_x), y[order], values[order], (n_x, n_y))


def _lists_of_rows(R):
    """``{row: [(column, value), ...]}`` of every row of ``R``, entries in their stored order
    (a ``defaultdict``: a row that is not there gives ``[]``, as Surprise's ``ur`` and ``ir``)."""
    lists = defaultdict(list, {x: [] for x in range(R.shape[0])})
    for x, y, v in zip(R.row_of_entries().tolist(), R.indices.tolist(), R.data.tolist()):
        lists[x].append((y, v))
    return lists
