"""The value every tinymed dataset function returns.

A :class:`Dataset` is a pair ``(X, y)`` -- so ``X, y = chest_phantoms(100)`` works -- that
also carries a readable ``description`` (where the data come from, its licence, the shapes
and the class balance) and, where they mean something, ``feature_names`` and
``class_names``::

    >>> from tinymed.data.breast_cancer import load_breast_cancer
    >>> data = load_breast_cancer()
    >>> X, y = data
    >>> X.shape, data.feature_names[0], data.class_names
    ((569, 30), 'radius_mean', ('benign', 'malignant'))
"""

from __future__ import annotations

import numpy as np


class Dataset(tuple):
    """``(X, y)`` with a description; unpacks and indexes like a tuple of two arrays.

    Attributes: ``X``, ``y``, ``description`` (multi-line text), ``feature_names`` and
    ``class_names`` (tuples of strings or ``None``).
    """

    def __new__(cls, X, y, description: str = "", feature_names=None, class_names=None):
        self = super().__new__(cls, (X, y))
        self.description = description
        self.feature_names = None if feature_names is None else tuple(feature_names)
        self.class_names = None if class_names is None else tuple(class_names)
        return self

    @property
    def X(self):
        return self[0]

    @property
    def y(self):
        return self[1]

    def __getnewargs__(self):
        return (self[0], self[1], self.description, self.feature_names, self.class_names)

    def __repr__(self):
        first = self.description.splitlines()[0] if self.description else "Dataset"
        return f"<{first}: X {_shape_dtype(self.X)}, y {_shape_dtype(self.y)}>"


def _shape_dtype(a) -> str:
    return f"{a.dtype} {tuple(a.shape)}" if hasattr(a, "shape") else type(a).__name__


def class_balance(y, class_names=None) -> str:
    """One line per class: ``"  1 pneumonia   500  (50.0 %)"``."""
    y = np.asarray(y)
    if y.ndim != 1:
        counts = y.reshape(len(y), -1).sum(axis=0)  # multi-label: positives per label
        values = np.arange(len(counts))
    else:
        values, counts = np.unique(y, return_counts=True)
    total = max(len(y), 1)
    lines = []
    for value, count in zip(values, counts):
        name = ""
        if class_names is not None and 0 <= int(value) < len(class_names):
            name = class_names[int(value)]
        lines.append(f"  {int(value):>2} {name:<24} {int(count):>7}  ({100.0 * count / total:.1f} %)")
    return "\n".join(lines)


def describe(title: str, source: str, licence: str, X, y, class_names=None, notes: str = "") -> str:
    """Assemble a dataset description: title, source, licence, shapes, class balance, notes."""
    parts = [
        title,
        f"source:  {source}",
        f"licence: {licence}",
        f"X: {_shape_dtype(X)}    y: {_shape_dtype(y)}",
        "class balance:",
        class_balance(y, class_names),
    ]
    if notes:
        parts.append(notes)
    return "\n".join(parts)
