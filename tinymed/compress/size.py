r"""How big a model is: bytes to store it, dense or sparse, and how many of its weights are zero.

A pruned weight is still stored unless the format skips zeros.  Compressed sparse rows (CSR, as
in :mod:`tinymed.sparse`) keep, for a tensor seen as a matrix of ``rows`` = its first axis,
each nonzero's value and column (int32) and one int32 offset per row:

.. math:: \text{bytes}_\text{CSR} = \mathrm{nnz}\,(b + 4) + 4\,(\text{rows} + 1)

against :math:`b \cdot \text{size}` dense (:math:`b` bytes per value: 4 for float32, 1 for int8).
For float32 this pays only beyond 50 % zeros -- a reason pruning is usually paired with
quantisation or with structured pruning that removes whole channels.
"""

from __future__ import annotations

import numpy as np

from ..nn.module import Module

__all__ = ["tensor_bytes", "storage_bytes", "sparsity"]


def _arrays(model, op):
    """Every parameter and buffer of ``model`` as a NumPy array; a pruned tensor as what
    ``prune.remove`` would leave (``orig * mask`` under its own name, no mask)."""
    if not isinstance(model, Module):
        raise TypeError(f"{op}: model must be a tinymed.nn.Module, got {type(model).__name__}")
    state = model.state_dict()
    arrays = []
    for name, a in state.items():
        base = name[:-len("_orig")]
        if name.endswith("_orig") and base + "_mask" in state:
            arrays.append(a * state[base + "_mask"])
        elif not (name.endswith("_mask") and name[:-len("_mask")] + "_orig" in state):
            arrays.append(a)
    return arrays


def tensor_bytes(a, sparse=False) -> int:
    """Bytes to store array ``a``: dense, or (``sparse``) the smaller of dense and CSR."""
    dense = a.size * a.itemsize
    if not sparse or a.ndim == 0:
        return int(dense)
    rows = a.shape[0]
    csr = np.count_nonzero(a) * (a.itemsize + 4) + 4 * (rows + 1)
    return int(min(dense, csr))


def storage_bytes(model, sparse=False) -> int:
    """Bytes to store every parameter and buffer of ``model``, dense or (``sparse``) each tensor in
    the smaller of its dense and CSR forms.  A pruned tensor counts once, as its pruned values."""
    return sum(tensor_bytes(a, sparse) for a in _arrays(model, "storage_bytes"))


def sparsity(model) -> float:
    """The fraction of zeros among the parameters and buffers of ``model`` (pruned values, no masks)."""
    arrays = _arrays(model, "sparsity")
    total = sum(a.size for a in arrays)
    return float(sum(a.size - np.count_nonzero(a) for a in arrays) / total) if total else 0.0
