"""What a model costs to store (``tinymed.compress.storage_bytes``, ``sparsity``): dense bytes, the
CSR formula, a pruned tensor counted as its pruned values (masks and originals not twice)."""

import numpy as np
import pytest

from tinymed import nn
from tinymed.compress import prune, sparsity, storage_bytes, tensor_bytes


def test_dense_and_csr_bytes():
    a = np.zeros((4, 10), np.float32)
    a[0, :3] = 1.0
    assert tensor_bytes(a) == 160
    assert tensor_bytes(a, sparse=True) == 3 * (4 + 4) + 4 * 5  # values and columns, row offsets
    assert tensor_bytes(np.ones((4, 10), np.float32), sparse=True) == 160  # dense is smaller: kept dense
    assert tensor_bytes(np.ones((4, 10), np.int8)) == 40


def test_a_pruned_model_counts_as_its_pruned_values():
    model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 2))
    dense = storage_bytes(model)
    assert dense == 4 * (100 * 50 + 50 + 50 * 2 + 2) and sparsity(model) == 0.0
    prune.l1_unstructured(model[0], "weight", amount=0.9)
    assert storage_bytes(model) == dense  # masks and originals are not counted twice
    assert sparsity(model) == pytest.approx(4500 / 5152)
    assert storage_bytes(model, sparse=True) == 500 * 8 + 4 * 51 + 4 * (50 + 100 + 2)
    prune.remove(model[0], "weight")
    assert storage_bytes(model, sparse=True) == 500 * 8 + 4 * 51 + 4 * (50 + 100 + 2)


def test_bad_input_is_refused_by_name():
    with pytest.raises(TypeError, match="storage_bytes: model must be a tinymed.nn.Module"):
        storage_bytes({"weight": np.ones(3)})
