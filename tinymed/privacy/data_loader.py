r"""Poisson sampling, the batches DP-SGD's privacy analysis assumes (Opacus's ``DPDataLoader``).

The accountant's guarantee is for batches in which *each example is included independently with
probability* :math:`q` (the ``sample_rate``).  Batch sizes then vary around :math:`qN` (and can
be 0); shuffling the data and cutting it into fixed-size batches is a different mechanism, with
a different (and weaker) guarantee.  An "epoch" here is :math:`\mathrm{round}(1/q)` such batches.
"""

from __future__ import annotations

import numbers

import numpy as np

from ..random import generator as tinymed_generator

__all__ = ["DPDataLoader"]


def _columns(dataset):
    """The arrays of a dataset: a tuple/list of arrays, or an object holding them as ``.arrays``
    (``tinymed.data.TensorDataset``)."""
    arrays = dataset if isinstance(dataset, (tuple, list)) else getattr(dataset, "arrays", None)
    if arrays is None or not arrays or not all(hasattr(a, "shape") for a in arrays):
        raise TypeError(f"DPDataLoader: dataset must be a tuple of arrays (X, y, ...) or a TensorDataset, "
                        f"got {type(dataset).__name__}")
    arrays = tuple(np.asarray(a) for a in arrays)
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"DPDataLoader: the arrays differ in length: {[len(a) for a in arrays]}")
    return arrays


class DPDataLoader:
    """``DPDataLoader(dataset, sample_rate, generator=None, transform=None)``: each batch holds
    every example with probability ``sample_rate``, independently; ``len()`` batches per epoch.

    ``transform`` is applied to the first array of every batch (augmentation), ``generator`` (a
    ``numpy.random.Generator``) draws the samples (default: tinymed's seeded generator).
    """

    def __init__(self, dataset, sample_rate, generator=None, transform=None):
        self.arrays = _columns(dataset)
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, numbers.Real) or not 0 < sample_rate <= 1:
            raise ValueError(f"DPDataLoader: sample_rate must be in (0, 1], got {sample_rate!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"DPDataLoader: transform must be callable, got {type(transform).__name__}")
        self.sample_rate, self.generator, self.transform = float(sample_rate), generator, transform

    @classmethod
    def from_data_loader(cls, data_loader, generator=None):
        """The Poisson twin of a ``DataLoader``: same data and transform, ``sample_rate = 1/len(loader)``."""
        return cls(data_loader.dataset, 1 / len(data_loader), generator=generator,
                   transform=getattr(data_loader, "transform", None))

    def __len__(self):
        return max(1, round(1 / self.sample_rate))

    def __iter__(self):
        rng = self.generator or tinymed_generator()
        n = len(self.arrays[0])
        for _ in range(len(self)):
            chosen = np.flatnonzero(rng.random(n) < self.sample_rate)
            batch = tuple(a[chosen] for a in self.arrays)
            if self.transform is not None and len(chosen):
                batch = (self.transform(batch[0]),) + batch[1:]
            yield batch

    def __repr__(self):
        return f"DPDataLoader({len(self.arrays[0])} examples, sample_rate={self.sample_rate:.4g})"
