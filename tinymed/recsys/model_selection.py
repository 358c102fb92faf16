"""Splitting ratings and cross-validating predictors, with Surprise's names and defaults.

* :func:`train_test_split` -- one random split; ``test_size`` a fraction (rounded up) or a count;
* :class:`KFold` -- each rating is in the test fold exactly once;
* :class:`ShuffleSplit` -- repeated random splits;
* :func:`cross_validate` -- fit and test on every split; a dict of arrays ``test_rmse``,
  ``test_mae``, ..., ``fit_time``, ``test_time`` (and ``train_*`` on request).

``random_state`` is None (NumPy's global RandomState), an int, or a RandomState; the same
seed draws the same splits as Surprise.
"""

from __future__ import annotations

import math
import time

import numpy as np

from . import accuracy
from .dataset import Dataset
from .rng import get_rng


def _check_data(data, where):
    if not isinstance(data, Dataset):
        raise TypeError(f"{where}: expected a tinymed.recsys.Dataset, got {type(data).__name__}")


class KFold:
    """``n_splits`` folds of (nearly) equal size; the first ``n % n_splits`` get one more."""

    def __init__(self, n_splits=5, random_state=None, shuffle=True):
        self.n_splits, self.random_state, self.shuffle = n_splits, random_state, shuffle

    def split(self, data):
        """Yield ``(trainset, testset)`` for each fold."""
        _check_data(data, "KFold.split")
        n = len(data.raw_ratings)
        if not (isinstance(self.n_splits, (int, np.integer)) and 2 <= self.n_splits <= n):
            raise ValueError(f"KFold: n_splits must be an integer in [2, number of ratings = {n}], "
                             f"got {self.n_splits!r}")
        order = np.arange(n)
        if self.shuffle:
            get_rng(self.random_state, "KFold: random_state").shuffle(order)
        stop = 0
        for fold in range(self.n_splits):
            start, stop = stop, stop + n // self.n_splits + (1 if fold < n % self.n_splits else 0)
            train = np.concatenate((order[:start], order[stop:]))
            yield (data.construct_trainset([data.raw_ratings[k] for k in train]),
                   data.construct_testset([data.raw_ratings[k] for k in order[start:stop]]))

    def get_n_folds(self):
        return self.n_splits


class ShuffleSplit:
    """``n_splits`` independent random splits into a train and a test part."""

    def __init__(self, n_splits=5, test_size=0.2, train_size=None, random_state=None, shuffle=True):
        if not (isinstance(n_splits, (int, np.integer)) and n_splits > 0):
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
        _check_data(data, "ShuffleSplit.split")
        n = len(data.raw_ratings)
        train_size, test_size = self.sizes(n)
        rng = get_rng(self.random_state, "ShuffleSplit: random_state")
        for _ in range(self.n_splits):
            order = rng.permutation(n) if self.shuffle else np.arange(n)
            yield (data.construct_trainset([data.raw_ratings[k] for k in order[:train_size]]),
                   data.construct_testset([data.raw_ratings[k] for k in order[train_size:train_size + test_size]]))

    def get_n_folds(self):
        return self.n_splits


def train_test_split(data, test_size=0.2, train_size=None, random_state=None, shuffle=True):
    """One random split: ``(trainset, testset)``."""
    _check_data(data, "train_test_split")
    splitter = ShuffleSplit(n_splits=1, test_size=test_size, train_size=train_size,
                            random_state=random_state, shuffle=shuffle)
    return next(splitter.split(data))


def cross_validate(algo, data, measures=("rmse", "mae"), cv=None, return_train_measures=False, n_jobs=1,
                   pre_dispatch="2*n_jobs", verbose=False):
    """Fit ``algo`` on each training split and measure it on the test split.

    ``cv``: None (5-fold :class:`KFold`), an int (that many folds) or a splitter with
    ``split(data)``. ``measures`` are names in :mod:`tinymed.recsys.accuracy` (``rmse``, ``mae``,
    ``mse``, ``fcp``). Folds run one after another; ``n_jobs`` and ``pre_dispatch`` are accepted
    for Surprise's signature and do not change the results.
    """
    _check_data(data, "cross_validate")
    measures = [m.lower() for m in measures]
    unknown = [m for m in measures if m not in ("rmse", "mae", "mse", "fcp")]
    if unknown:
        raise ValueError(f"cross_validate: unknown measure(s) {unknown}; expected rmse, mae, mse or fcp")
    if cv is None or isinstance(cv, (int, np.integer)):
        cv = KFold(n_splits=5 if cv is None else int(cv))
    elif not hasattr(cv, "split"):
        raise TypeError(f"cross_validate: cv must be None, an int or a splitter, got {type(cv).__name__}")
    results = {"test": {m: [] for m in measures}, "train": {m: [] for m in measures}}
    fit_times, test_times = [], []
    for trainset, testset in cv.split(data):
        start = time.perf_counter()
        algo.fit(trainset)
        fit_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        predictions = algo.test(testset)
        test_times.append(time.perf_counter() - start)
        for m in measures:
            results["test"][m].append(getattr(accuracy, m)(predictions, verbose=False))
        if return_train_measures:
            train_predictions = algo.test(trainset.build_testset())
            for m in measures:
                results["train"][m].append(getattr(accuracy, m)(train_predictions, verbose=False))
    out = {f"test_{m}": np.asarray(v) for m, v in results["test"].items()}
    if return_train_measures:
        out.update({f"train_{m}": np.asarray(v) for m, v in results["train"].items()})
    out["fit_time"], out["test_time"] = tuple(fit_times), tuple(test_times)
    if verbose:
        _print_summary(algo, out, measures, return_train_measures)
    return out


def _print_summary(algo, out, measures, with_train):
    n = len(out["fit_time"])
    head = f"Evaluating {', '.join(m.upper() for m in measures)} of algorithm {type(algo).__name__} on {n} split(s)."
    print(head + "\n")
    cols = [f"Fold {k + 1}" for k in range(n)] + ["Mean", "Std"]
    print(" " * 18 + " ".join(f"{c:>8}" for c in cols))
    rows = [(f"{m.upper()} (testset)", out[f"test_{m}"], "{:.4f}") for m in measures]
    if with_train:
        rows += [(f"{m.upper()} (trainset)", out[f"train_{m}"], "{:.4f}") for m in measures]
    rows += [("Fit time", np.asarray(out["fit_time"]), "{:.2f}"), ("Test time", np.asarray(out["test_time"]), "{:.2f}")]
    for label, values, fmt in rows:
        cells = [fmt.format(v) for v in values] + [fmt.format(np.mean(values)), fmt.format(np.std(values))]
        print(f"{label:<18}" + " ".join(f"{c:>8}" for c in cells))
