"""The argument checks the models share: token ids, masks and labels, each refused with a message
that names the model, the argument, what it expected and what it got."""

from __future__ import annotations

from .. import backend
from ..autograd import Tensor

IGNORE_INDEX = -100
"""A label that costs nothing (Hugging Face's and PyTorch's ``ignore_index``): padding in a causal
language model, every unmasked position in a masked one."""


def integer_array(owner, name, value):
    """``value`` (a Tensor, an array or a nested list of integers) as an array of the active backend."""
    if isinstance(value, Tensor):
        array = value.data
    elif hasattr(value, "shape") and hasattr(value, "dtype") or isinstance(value, (list, tuple)):
        array = backend.asarray(value)
    else:
        raise TypeError(f"{owner}: {name} must be a Tensor, an array or a list of integers, got {type(value).__name__}")
    if array.dtype.kind not in "iub":
        raise TypeError(f"{owner}: {name} must hold integers, got dtype {array.dtype}")
    return array


def _value_range(array):
    xp = backend.array_module(array)
    return int(xp.min(array)), int(xp.max(array))


def token_ids(owner, value, vocab_size, n_positions, past_length=0):
    """``input_ids`` of shape (batch, length): integers in ``[0, vocab_size)``, at most
    ``n_positions`` positions counting ``past_length`` cached ones."""
    ids = integer_array(owner, "input_ids", value)
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"{owner}: input_ids must be 2-D (batch, sequence length) with at least one token, "
                         f"got shape {tuple(ids.shape)}")
    if past_length + ids.shape[1] > n_positions:
        cached = f"{past_length} cached and {ids.shape[1]} new tokens" if past_length else f"{ids.shape[1]} tokens"
        raise ValueError(f"{owner}: a sequence of {cached} is longer than n_positions={n_positions}")
    if ids.size:
        low, high = _value_range(ids)
        if low < 0 or high >= vocab_size:
            raise ValueError(f"{owner}: input_ids must be token ids in [0, vocab_size={vocab_size}), "
                             f"got values in [{low}, {high}]")
    return ids


def like_ids(owner, name, value, ids, low, high):
    """An integer array of ``ids``'s shape with values in ``[low, high)`` (a mask, segment ids)."""
    array = integer_array(owner, name, value)
    if tuple(array.shape) != tuple(ids.shape):
        raise ValueError(f"{owner}: {name} must have the shape of input_ids {tuple(ids.shape)}, "
                         f"got {tuple(array.shape)}")
    if array.size:
        least, most = _value_range(array)
        if least < low or most >= high:
            raise ValueError(f"{owner}: {name} must hold values in [{low}, {high}), got values in [{least}, {most}]")
    return array


def labels(owner, value, shape, num_classes):
    """Target ids of ``shape``: classes in ``[0, num_classes)`` or ``IGNORE_INDEX``."""
    array = integer_array(owner, "labels", value)
    if tuple(array.shape) != tuple(shape):
        raise ValueError(f"{owner}: labels must have shape {tuple(shape)}, got {tuple(array.shape)}")
    counted = array[array != IGNORE_INDEX]
    if counted.size:
        low, high = _value_range(counted)
        if low < 0 or high >= num_classes:
            raise ValueError(f"{owner}: labels must be in [0, {num_classes}) or {IGNORE_INDEX} (ignored), "
                             f"got values in [{low}, {high}]")
    return array
