"""A checkpoint as leaves and a description: nested dicts, lists and tuples of arrays, numbers,
strings, booleans and ``None`` flattened to ``{path: array}`` plus ``{path: kind}``, and back.

A path joins the keys (or list positions) from the top with ``/`` (``model/0.weight``); the
description lists every path in the order it was written, containers before what they hold, so
the structure is rebuilt in one pass over it (no recursion, linear time), and a description
that does not hold together is a :class:`CheckpointError`, never a ``KeyError`` or a
``RecursionError``.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..backend import to_numpy

SEP = "/"
LEAF_KINDS = ("array", "none", "bool", "int", "bigint", "float", "str")
CONTAINER_KINDS = ("dict", "list", "tuple")


class CheckpointError(ValueError):
    """A file that is not a readable tinymed checkpoint (or a value that cannot be saved)."""


def _to_plain(obj):
    """Modules and optimizers become their state dicts; everything else stays."""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        return dict(obj.state_dict())
    return obj


def flatten(obj, reserved=()):
    """``(arrays, kinds)`` for ``obj``: a Module, an optimizer, or a dict nesting them and values."""
    arrays, kinds = {}, {}
    stack = [("", obj)]
    while stack:
        prefix, value = stack.pop()
        value = _to_plain(value)
        if isinstance(value, dict):
            kinds[prefix] = "dict"
            children = []
            for key, item in value.items():
                if not isinstance(key, str) or SEP in key or not key or (not prefix and key in reserved):
                    raise CheckpointError(f"save: dict keys must be non-empty strings without '{SEP}', got {key!r}")
                children.append((f"{prefix}{SEP}{key}" if prefix else key, item))
            stack.extend(reversed(children))
        elif isinstance(value, (list, tuple)):
            kinds[prefix] = type(value).__name__
            stack.extend(reversed([(f"{prefix}{SEP}{i}" if prefix else str(i), item) for i, item in enumerate(value)]))
        elif not prefix:
            raise CheckpointError(f"save: expected a Module, an optimizer or a dict, got {type(value).__name__}")
        else:
            kinds[prefix], arrays[prefix] = _leaf_array(prefix, value)
    return arrays, kinds


def _leaf_array(prefix, obj):
    if obj is None:
        return "none", np.zeros(0)
    if isinstance(obj, (bool, np.bool_)):
        return "bool", np.array(bool(obj))
    if isinstance(obj, (int, np.integer)):
        big = not -2**63 <= int(obj) < 2**63
        return ("bigint", np.array(str(int(obj)))) if big else ("int", np.array(int(obj), dtype=np.int64))
    if isinstance(obj, (float, np.floating)):
        return "float", np.array(float(obj))
    if isinstance(obj, str):
        return "str", np.array(obj)
    if isinstance(obj, Tensor) or hasattr(obj, "__array__") or hasattr(obj, "__cuda_array_interface__"):
        value = np.asarray(to_numpy(obj.data if isinstance(obj, Tensor) else obj))
        if value.dtype.kind not in "biufcU":
            raise CheckpointError(f"save: '{prefix}' holds an array of dtype {value.dtype}, which needs pickling")
        return "array", value
    raise CheckpointError(f"save: '{prefix}' is a {type(obj).__name__}; only arrays, Tensors, numbers, "
                          "strings, booleans, None, lists, tuples and dicts can be saved")


def _leaf(kind, value, key):
    try:
        if kind == "array":
            return value
        if kind == "none":
            return None
        if kind == "bool":
            return bool(value)
        if kind in ("int", "bigint"):
            return int(str(value)) if kind == "bigint" else int(value)
        if kind == "float":
            return float(value)
        return str(value)  # "str"
    except (TypeError, ValueError):
        raise CheckpointError(f"load: entry '{key}' does not hold a {kind}") from None


def rebuild(kinds, arrays, where):
    """The saved structure from its description ``kinds`` and its leaves ``arrays``."""
    if not isinstance(kinds, dict) or kinds.get("") not in CONTAINER_KINDS:
        raise CheckpointError(f"load: {where} has a damaged description (no top-level container)")
    values, tuples = {}, []
    for key, kind in kinds.items():
        if not isinstance(key, str) or kind not in LEAF_KINDS + CONTAINER_KINDS:
            raise CheckpointError(f"load: {where} describes entry {key!r} as {kind!r}, which tinymed does not write")
        if kind in CONTAINER_KINDS:
            value = {} if kind == "dict" else []
            if kind == "tuple":
                tuples.append(key)
        elif key in arrays:
            value = _leaf(kind, arrays.pop(key), key)
        else:
            raise CheckpointError(f"load: {where} describes '{key}' but holds no such array")
        values[key] = value
        if key:
            _attach(values, key, value, where)
    if arrays:
        raise CheckpointError(f"load: {where} holds arrays its description does not list: {sorted(arrays)[:5]}")
    for key in reversed(tuples):  # innermost first, so each tuple is built from finished parts
        frozen = tuple(values[key])
        values[key] = frozen
        if key:
            _attach(values, key, frozen, where, replace=True)
    top = values[""]
    return tuple(top) if kinds[""] == "tuple" and not isinstance(top, tuple) else top


def _attach(values, key, value, where, replace=False):
    """Put ``value`` into its container: a dict by name, a list at the next position (or, with
    ``replace``, at its own position)."""
    parent, _, name = key.rpartition(SEP)
    container = values.get(parent)
    if isinstance(container, dict):
        container[name] = value
        return
    if isinstance(container, list) and name.isdigit():
        index = int(name)
        if replace and index < len(container):
            container[index] = value
            return
        if not replace and index == len(container):
            container.append(value)
            return
    raise CheckpointError(f"load: {where} describes '{key}' out of order or outside any container")
