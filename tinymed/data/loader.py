"""Mini-batches for PyTorch-style training loops: ``TensorDataset`` and ``DataLoader``.

::

    loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=True,
                        transform=RandomRotation(10, seed=0))
    for epoch in range(5):
        for xb, yb in loader:          # NumPy arrays; wrap in tinymed.Tensor to train
            ...

Shuffling draws each epoch's order from tinymed's generator (seeded by
:func:`tinymed.manual_seed`, saved by ``tinymed.get_rng_state``), or from ``generator=`` if
given, so a run is repeatable and a checkpointed run resumes exactly.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["TensorDataset", "DataLoader"]


class TensorDataset:
    """Arrays that share their first axis; item ``i`` is the tuple ``(a[i], b[i], ...)``."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: needs at least one array")
        self.arrays = tuple(a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else np.asarray(a)
                            for a in arrays)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = [a.shape for a in self.arrays]
            raise ValueError(f"TensorDataset: all arrays need the same first axis length, got shapes {shapes}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)


class DataLoader:
    """``DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, transform=None, generator=None)``.

    ``dataset`` is a :class:`TensorDataset`, a ``(X, y)`` pair (e.g. what tinymed's data sets
    return), or any object with ``__len__`` and ``__getitem__`` returning a tuple of arrays.
    ``transform`` (e.g. an augmentation from :mod:`tinymed.data.augment`) is applied to the
    first array of every batch, freshly each epoch.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, transform=None,
                 generator=None):
        if isinstance(dataset, tuple) and all(hasattr(a, "shape") for a in dataset):
            dataset = TensorDataset(*dataset)
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got {type(dataset).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DataLoader: transform must be callable, got {type(transform).__name__}")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last, self.transform = bool(shuffle), bool(drop_last), transform
        self.generator = generator

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.generator is None:
            from ..random import generator
            return generator().permutation(n)
        return self.generator.permutation(n)

    def _batch(self, indices):
        if isinstance(self.dataset, TensorDataset):
            return self.dataset[indices]  # one fancy-indexing copy per array
        items = [self.dataset[int(i)] for i in indices]
        return tuple(np.stack([np.asarray(item[k]) for item in items]) for k in range(len(items[0])))

    def __iter__(self):
        order = self._order()
        for start in range(0, len(order), self.batch_size):
            indices = order[start:start + self.batch_size]
            if self.drop_last and len(indices) < self.batch_size:
                return
            batch = self._batch(indices)
            if self.transform is not None:
                batch = (self.transform(batch[0]),) + tuple(batch[1:])
            yield batch

    def __repr__(self):
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last})")
