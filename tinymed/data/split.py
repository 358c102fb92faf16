"""Splitting data into training, validation and test parts, optionally stratified.

*Stratified* means every part keeps the class proportions of the whole: with 37 % malignant
cases overall, each part has (as nearly as whole numbers allow) 37 % malignant cases.  For a
small or imbalanced medical data set this matters: a random test split can easily end up
with too few positive cases to measure recall at all.

Class counts per part are found by the largest-remainder method: part size ``t`` of ``n``
samples gives class ``k`` (with ``n_k`` samples) ``floor(t * n_k / n)`` places, and the places
left over go to the classes with the largest fractional remainders (ties broken at random).
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

__all__ = ["train_test_split", "stratified_split"]


def _rng(random_state):
    return random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)


def _allocate(class_counts, total, rng):
    """Split ``total`` places over classes in proportion to ``class_counts`` (largest remainder)."""
    class_counts = np.asarray(class_counts)
    exact = total * class_counts / class_counts.sum()
    places = np.floor(exact).astype(np.int64)
    left = total - places.sum()
    if left:
        remainder = exact - places + rng.random(len(exact)) * 1e-9  # random tie-break
        remainder[places >= class_counts] = -1.0
        places[np.argsort(-remainder)[:left]] += 1
    return places


def _stratified_indices(y, n_test, rng):
    """Indices ``(train, test)`` with ``n_test`` test samples in the proportions of ``y``."""
    classes, y_index = np.unique(y, return_inverse=True)
    counts = np.bincount(y_index)
    test_per_class = _allocate(counts, n_test, rng)
    train, test = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_index == k))
        test.append(members[:test_per_class[k]])
        train.append(members[test_per_class[k]:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _n_samples(arrays):
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    return lengths[0]


def _check_size(name, value, n):
    if value is None:
        return
    if isinstance(value, Integral) and not isinstance(value, bool):
        if not 0 < value < n:
            raise ValueError(f"{name}={value} should be between 1 and {n - 1} (n_samples={n})")
    elif isinstance(value, Real):
        if not 0 < value < 1:
            raise ValueError(f"{name}={value} should be a fraction in (0, 1) or an integer count")
    else:
        raise TypeError(f"{name} must be a float, an int or None, got {type(value).__name__}")


def _count(value, n, rounding):
    """A size as a number of samples: fractions are rounded with ``rounding``."""
    if value is None:
        return None
    # a NumPy float (np.float32(0.25)) is a fraction too, not only a Python float
    return int(value) if isinstance(value, Integral) else rounding(float(value) * n)


def _sizes(n, test_size, train_size):
    """scikit-learn's rule: a float is a fraction (test rounded up, train down), an int a count;
    a missing one is the complement; test_size=None and train_size=None mean test 0.25."""
    _check_size("test_size", test_size, n)
    _check_size("train_size", train_size, n)
    if test_size is None and train_size is None:
        test_size = 0.25
    n_test, n_train = _count(test_size, n, math.ceil), _count(train_size, n, math.floor)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"train_size + test_size = {n_train} + {n_test} samples exceeds the {n} available")
    if n_train == 0 or n_test == 0:
        raise ValueError(f"with n_samples={n}, test_size={test_size} and train_size={train_size} "
                         "one of the parts would be empty")
    return n_train, n_test


def _take(array, index):
    if isinstance(array, list):
        return [array[i] for i in index]
    return array[index]


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True, stratify=None):
    """Split arrays into random train and test parts, as scikit-learn's ``train_test_split``.

    ``test_size`` / ``train_size``: a float in (0, 1) is a fraction of the samples (the test
    count is rounded up, the train count down), an int is a number of samples; if both are
    ``None``, ``test_size = 0.25``.  ``random_state``: an int, ``None`` or a
    ``np.random.Generator``.  ``shuffle=False`` takes the first samples for training and the
    last for testing (and cannot be stratified).  ``stratify``: class labels whose proportions
    both parts keep.  Returns ``[a_train, a_test, b_train, b_test, ...]``; lists stay lists.
    (The same ``random_state`` gives the same split here, but not the one scikit-learn gives.)
    """
    if not arrays:
        raise ValueError("train_test_split: at least one array is required")
    n = _n_samples(arrays)
    n_train, n_test = _sizes(n, test_size, train_size)
    rng = _rng(random_state)
    if not shuffle:
        if stratify is not None:
            raise ValueError("Stratified train/test split is not implemented for shuffle=False")
        train, test = np.arange(n_train), np.arange(n - n_test, n)
    elif stratify is None:
        order = rng.permutation(n)
        train, test = order[n - n_test - n_train:n - n_test], order[n - n_test:]
    else:
        y = np.asarray(stratify)
        if len(y) != n:
            raise ValueError(f"stratify has {len(y)} labels for {n} samples")
        classes, counts = np.unique(y, return_counts=True)
        if counts.min() < 2:
            raise ValueError(f"The least populated class in y has only {counts.min()} member, which is too few. "
                             "The minimum number of groups for any class cannot be less than 2.")
        if n_test < len(classes) or n_train < len(classes):
            raise ValueError(f"train and test sizes ({n_train}, {n_test}) should be at least the number of "
                             f"classes {len(classes)}")
        train, test = _stratified_indices(y, n_test, rng)
        if n_train < len(train):  # an explicit, smaller train_size: a stratified subset of the rest
            train = train[_stratified_indices(y[train], n_train, rng)[1]]
    out = []
    for a in arrays:
        out += [_take(a, train), _take(a, test)]
    return out


def stratified_split(X, y, val=0.15, test=0.15, seed=0):
    """Stratified three-way split: ``(X_train, y_train), (X_val, y_val), (X_test, y_test)``.

    ``val`` and ``test`` are fractions of all samples (``val=0`` gives an empty validation
    part); each part keeps the class proportions of ``y``.  The parts are disjoint and
    together hold every sample once.  ``seed``: an int, ``None`` or a ``np.random.Generator``.
    """
    y = np.asarray(y)
    n = _n_samples([X, y])
    if not (0 <= val < 1 and 0 < test < 1 and val + test < 1):
        raise ValueError("stratified_split: need 0 <= val, 0 < test and val + test < 1, "
                         f"got val={val}, test={test}")
    rng = _rng(seed)
    n_test, n_val = round(test * n), round(val * n)
    if n_test == 0 or n - n_test - n_val <= 0:
        raise ValueError(f"stratified_split: {n} samples are too few for val={val}, test={test}")
    rest, test_index = _stratified_indices(y, n_test, rng)
    if n_val:
        train_index, val_index = _stratified_indices(y[rest], n_val, rng)
        train_index, val_index = rest[train_index], rest[val_index]
    else:
        train_index, val_index = rest, rest[:0]
    X = np.asarray(X) if isinstance(X, list) else X
    return tuple((X[i], y[i]) for i in (train_index, val_index, test_index))
