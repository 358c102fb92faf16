"""Splitting ratings into trainsets and testsets, with Surprise's names, defaults and draws.

* :func:`train_test_split` -- one random split; ``test_size`` a fraction (rounded up) or a count;
* :class:`KFold` -- each rating is in the test fold exactly once;
* :class:`RepeatedKFold` -- ``n_repeats`` K-folds, each shuffled anew;
* :class:`ShuffleSplit` -- repeated random splits;
* :class:`LeaveOneOut` -- one rating of each user in the testset, the others in the trainset;
* :class:`PredefinedKFold` -- the ``(train file, test file)`` pairs of a dataset loaded with
  :meth:`~tinymed.recsys.Dataset.load_from_folds`;
* :func:`get_cv` -- the splitter that ``cv=None``, ``cv=5`` or ``cv=KFold(...)`` stands for.

``random_state`` is None (NumPy's global RandomState), an int, or a RandomState; the same
seed draws the same splits as Surprise.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict

import numpy as np

from ..dataset import Dataset, DatasetUserFolds
from ..rng import get_rng


def check_data(data, where):
    """``data`` must be a :class:`~tinymed.recsys.Dataset` (a folds dataset only splits by its files)."""
    if isinstance(data, DatasetUserFolds):
        raise TypeError(f"{where}: this dataset was loaded with Dataset.load_from_folds and is already split; "
                        "use PredefinedKFold() to iterate over its (train file, test file) pairs")
    if not isinstance(data, Dataset):
        raise TypeError(f"{where}: expected a tinymed.recsys.Dataset, got {type(data).__name__}")


def _split(data, train, test):
    """``(trainset, testset)`` of the raw ratings at the positions ``train`` and ``test``."""
    return (data.construct_trainset([data.raw_ratings[k] for k in train]),
            data.construct_testset([data.raw_ratings[k] for k in test]))


class KFold:
    """``n_splits`` folds of (nearly) equal size; the first ``n % n_splits`` get one more."""

    def __init__(self, n_splits=5, random_state=None, shuffle=True):
        self.n_splits, self.random_state, self.shuffle = n_splits, random_state, shuffle

    def split(self, data):
        """Yield ``(trainset, testset)`` for each fold."""
        check_data(data, "KFold.split")
        n = len(data.raw_ratings)
        if not (isinstance(self.n_splits, numbers.Integral) and 2 <= self.n_splits <= n):
            raise ValueError(f"KFold: n_splits must be an integer in [2, number of ratings = {n}], "
                             f"got {self.n_splits!r}")
        order = np.arange(n)
        if self.shuffle:
            get_rng(self.random_state, "KFold: random_state").shuffle(order)
        stop = 0
        for fold in range(self.n_splits):
            start, stop = stop, stop + n // self.n_splits + (1 if fold < n % self.n_splits else 0)
            yield _split(data, np.concatenate((order[:start], order[stop:])), order[start:stop])

    def get_n_folds(self):
        return self.n_splits


class RepeatedKFold:
    """:class:`KFold` ``n_repeats`` times, each shuffled anew by the one generator of ``random_state``
    (so the repetitions differ, and a seed gives the same sequence of folds every time)."""

    def __init__(self, n_splits=5, n_repeats=10, random_state=None):
        if not (isinstance(n_repeats, numbers.Integral) and n_repeats >= 1):
            raise ValueError(f"RepeatedKFold: n_repeats must be an integer >= 1, got {n_repeats!r}")
        self.n_splits, self.n_repeats, self.random_state = n_splits, n_repeats, random_state

    def split(self, data):
        """Yield ``(trainset, testset)`` for each fold of each repetition."""
        rng = get_rng(self.random_state, "RepeatedKFold: random_state")
        for _ in range(self.n_repeats):
            yield from KFold(self.n_splits, random_state=rng, shuffle=True).split(data)

    def get_n_folds(self):
        return self.n_splits * self.n_repeats


class ShuffleSplit:
    """``n_splits`` independent random splits into a train and a test part."""

    def __init__(self, n_splits=5, test_size=0.2, train_size=None, random_state=None, shuffle=True):
        if not (isinstance(n_splits, numbers.Integral) and n_splits > 0):
            raise ValueError(f"ShuffleSplit: n_splits must be an integer > 0, got {n_splits!r}")
        for name, value in (("test_size", test_size), ("train_size", train_size)):
            if value is not None and not value > 0:
                raise ValueError(f"ShuffleSplit: {name} must be > 0, got {value!r}")
        self.n_splits, self.test_size, self.train_size = n_splits, test_size, train_size
        self.random_state, self.shuffle = random_state, shuffle

    def sizes(self, n_ratings):
        """``(train_size, test_size)`` as counts: fractions of the test size round up, of the train size down."""
        test_size, train_size = self.test_size, self.train_size
        for name, value in (("test_size", test_size), ("train_size", train_size)):
            if value is not None and value >= n_ratings:
                raise ValueError(f"{name}={value} should be less than the number of ratings {n_ratings}")
        if isinstance(test_size, (float, np.floating)):
            test_size = math.ceil(test_size * n_ratings)
        if train_size is None:
            train_size = n_ratings - test_size
        elif isinstance(train_size, (float, np.floating)):
            train_size = math.floor(train_size * n_ratings)
        if test_size is None:
            test_size = n_ratings - train_size
        if train_size + test_size > n_ratings:
            raise ValueError(f"train_size + test_size = {train_size + test_size} is more than the number "
                             f"of ratings {n_ratings}")
        return int(train_size), int(test_size)

    def split(self, data):
        """Yield ``(trainset, testset)``: the first ``train_size`` of a permutation, then the next ``test_size``."""
        check_data(data, "ShuffleSplit.split")
        n = len(data.raw_ratings)
        train_size, test_size = self.sizes(n)
        rng = get_rng(self.random_state, "ShuffleSplit: random_state")
        for _ in range(self.n_splits):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            yield _split(data, order[:train_size], order[train_size:train_size + test_size])

    def get_n_folds(self):
        return self.n_splits


def train_test_split(data, test_size=0.2, train_size=None, random_state=None, shuffle=True):
    """One random split: ``(trainset, testset)``."""
    check_data(data, "train_test_split")
    splitter = ShuffleSplit(n_splits=1, test_size=test_size, train_size=train_size,
                            random_state=random_state, shuffle=shuffle)
    return next(splitter.split(data))


class LeaveOneOut:
    """``n_splits`` splits, each with one rating of every user drawn into the testset.

    Only users with more than ``min_n_ratings`` ratings take part, so every user of the
    trainset keeps at least ``min_n_ratings`` ratings there. A user's ratings are those of
    ``data.raw_ratings`` in order; the one to leave out is ``rng.randint(len(ratings))``, user
    by user in order of first appearance, as Surprise draws it.
    """

    def __init__(self, n_splits=5, random_state=None, min_n_ratings=0):
        if not (isinstance(n_splits, numbers.Integral) and n_splits > 0):
            raise ValueError(f"LeaveOneOut: n_splits must be an integer > 0, got {n_splits!r}")
        if not (isinstance(min_n_ratings, numbers.Integral) and min_n_ratings >= 0):
            raise ValueError(f"LeaveOneOut: min_n_ratings must be an integer >= 0, got {min_n_ratings!r}")
        self.n_splits, self.random_state, self.min_n_ratings = n_splits, random_state, min_n_ratings

    def split(self, data):
        """Yield ``(trainset, testset)`` for each split."""
        check_data(data, "LeaveOneOut.split")
        by_user = defaultdict(list)
        for k, rating in enumerate(data.raw_ratings):
            by_user[rating[0]].append(k)
        rng = get_rng(self.random_state, "LeaveOneOut: random_state")
        for _ in range(self.n_splits):
            train, test = [], []
            for positions in by_user.values():
                if len(positions) > self.min_n_ratings:
                    left_out = rng.randint(0, len(positions))
                    test.append(positions[left_out])
                    train += positions[:left_out] + positions[left_out + 1:]
            if not train:
                raise ValueError(f"LeaveOneOut: no user has more than min_n_ratings = {self.min_n_ratings} "
                                 "ratings besides the one left out, so the trainset would be empty")
            yield _split(data, train, test)

    def get_n_folds(self):
        return self.n_splits


class PredefinedKFold:
    """The folds of a dataset loaded with :meth:`~tinymed.recsys.Dataset.load_from_folds`, in order."""

    n_splits = None

    def split(self, data):
        """Yield ``(trainset, testset)`` for each ``(train file, test file)`` pair."""
        if not isinstance(data, DatasetUserFolds):
            raise TypeError("PredefinedKFold.split: expected a dataset loaded with Dataset.load_from_folds, "
                            f"got {type(data).__name__}")
        self.n_splits = len(data.folds_files)
        for train_file, test_file in data.folds_files:
            yield data.read_fold(train_file, test_file)

    def get_n_folds(self):
        return self.n_splits


def get_cv(cv):
    """The splitter ``cv`` stands for: None is 5-fold :class:`KFold`, an int that many folds, and
    an object with ``split`` is used as it is."""
    if cv is None:
        return KFold(n_splits=5)
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        return KFold(n_splits=int(cv))
    if hasattr(cv, "split") and not isinstance(cv, str):
        return cv
    raise ValueError(f"get_cv: cv must be None, an int or a splitter with split(data), got {cv!r}")
