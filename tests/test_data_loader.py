"""DataLoader and TensorDataset: batches, reproducible shuffling, transforms, errors."""

import numpy as np
import pytest

import tinymed
from tinymed.data import DataLoader, TensorDataset


def test_dataloader_batches_shuffles_reproducibly_and_transforms():
    x, y = np.arange(10, dtype=np.float32).reshape(10, 1), np.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    assert len(DataLoader((x, y), batch_size=4, drop_last=True)) == 2
    tinymed.manual_seed(3)
    first = np.concatenate([b[1] for b in DataLoader((x, y), batch_size=3, shuffle=True)])
    tinymed.manual_seed(3)
    again = np.concatenate([b[1] for b in DataLoader((x, y), batch_size=3, shuffle=True)])
    np.testing.assert_array_equal(first, again)
    assert sorted(first) == list(range(10)) and not np.array_equal(first, y)
    doubled = next(iter(DataLoader((x, y), batch_size=10, transform=lambda b: 2 * b)))
    np.testing.assert_array_equal(doubled[0], 2 * x)


def test_dataloader_accepts_item_datasets_and_rejects_bad_arguments():
    class Items:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(2, i, np.float32), i

    xb, yb = next(iter(DataLoader(Items(), batch_size=5)))
    assert xb.shape == (5, 2) and list(yb) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="same first axis length"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(Items(), batch_size=0)
    with pytest.raises(TypeError, match="must have __len__ and __getitem__"):
        DataLoader(42)
