"""``tinymed.save`` and ``tinymed.load``: checkpoints as plain ``.npz`` files, never pickles.

What can be saved: a Module (its ``state_dict``), an optimizer (its ``state_dict``), or a dict
nesting those with arrays, Tensors, numbers, strings, booleans, ``None``, lists and tuples --
e.g. a full training checkpoint::

    tinymed.save({"model": model, "optimizer": opt, "rng": tinymed.get_rng_state(), "epoch": 3},
                 "checkpoint.npz")
    state = tinymed.load("checkpoint.npz")
    model.load_state_dict(state["model"]); opt.load_state_dict(state["optimizer"])

The file is an ordinary NumPy ``.npz`` archive.  Each leaf is one array, stored under its
path of keys joined by ``/`` (``model/0.weight``); one extra entry, ``__tinymed__``, holds a
small JSON description (format version and the Python type of every leaf), so ``load``
rebuilds the same structure.  Integers too large for 64 bits -- NumPy's PCG64 generator
state has 128-bit ones -- are stored as decimal strings.

Safety: files are read with ``allow_pickle=False``, so loading never runs code from the file;
and a save writes a temporary file next to the target, flushes it to disk, then renames it over
the target in one step, so an interrupted save leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .autograd import Tensor
from .backend import to_numpy

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "tinymed-checkpoint"
VERSION = 1
_META = "__tinymed__"
_SEP = "/"


class CheckpointError(ValueError):
    """A file that is not a readable tinymed checkpoint (or a value that cannot be saved)."""


# ----- flattening ---------------------------------------------------------------------------
def _to_plain(obj):
    """Modules and optimizers become their state dicts; everything else stays."""
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        return dict(obj.state_dict())
    return obj


def _flatten(obj, prefix, arrays, kinds):
    obj = _to_plain(obj)
    if isinstance(obj, dict):
        kinds[prefix] = "dict"
        for key, value in obj.items():
            if not isinstance(key, str) or _SEP in key or not key or key == _META:
                raise CheckpointError(f"save: dict keys must be non-empty strings without '{_SEP}', got {key!r}")
            _flatten(value, f"{prefix}{_SEP}{key}" if prefix else key, arrays, kinds)
        return
    if isinstance(obj, (list, tuple)):
        kinds[prefix] = type(obj).__name__
        for i, value in enumerate(obj):
            _flatten(value, f"{prefix}{_SEP}{i}" if prefix else str(i), arrays, kinds)
        return
    if not prefix:
        raise CheckpointError(f"save: expected a Module, an optimizer or a dict, got {type(obj).__name__}")
    if obj is None:
        kinds[prefix], arrays[prefix] = "none", np.zeros(0)
    elif isinstance(obj, (bool, np.bool_)):
        kinds[prefix], arrays[prefix] = "bool", np.array(bool(obj))
    elif isinstance(obj, (int, np.integer)):
        big = not -2**63 <= int(obj) < 2**63
        kinds[prefix] = "bigint" if big else "int"
        arrays[prefix] = np.array(str(int(obj))) if big else np.array(int(obj), dtype=np.int64)
    elif isinstance(obj, (float, np.floating)):
        kinds[prefix], arrays[prefix] = "float", np.array(float(obj))
    elif isinstance(obj, str):
        kinds[prefix], arrays[prefix] = "str", np.array(obj)
    elif isinstance(obj, Tensor) or hasattr(obj, "__array__") or hasattr(obj, "__cuda_array_interface__"):
        value = np.asarray(to_numpy(obj.data if isinstance(obj, Tensor) else obj))
        if value.dtype.kind not in "biufcU":
            raise CheckpointError(f"save: '{prefix}' holds an array of dtype {value.dtype}, which needs pickling")
        kinds[prefix], arrays[prefix] = "array", value
    else:
        raise CheckpointError(f"save: '{prefix}' is a {type(obj).__name__}; only arrays, Tensors, numbers, "
                              "strings, booleans, None, lists, tuples and dicts can be saved")


def save(obj, path) -> Path:
    """Write ``obj`` (a Module, an optimizer, or a nested dict of them and values) to ``path`` atomically."""
    arrays, kinds = {}, {}
    _flatten(obj, "", arrays, kinds)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "kinds": kinds})
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{_META: np.array(meta)}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


# ----- loading ------------------------------------------------------------------------------
def _leaf(kind, value, key):
    if kind == "array":
        return value
    if kind == "none":
        return None
    if kind == "bool":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind == "bigint":
        return int(str(value))
    if kind == "float":
        return float(value)
    if kind == "str":
        return str(value)
    raise CheckpointError(f"load: entry '{key}' has unknown kind {kind!r}")


def _children(kinds, prefix):
    """Direct children of ``prefix`` in the order they were saved."""
    start = f"{prefix}{_SEP}" if prefix else ""
    return [k for k in kinds if k.startswith(start) and k != prefix and _SEP not in k[len(start):]]


def _rebuild(prefix, kinds, arrays):
    kind = kinds[prefix]
    if kind == "dict":
        start = len(prefix) + 1 if prefix else 0
        return {k[start:]: _rebuild(k, kinds, arrays) for k in _children(kinds, prefix)}
    if kind in ("list", "tuple"):
        items = [_rebuild(k, kinds, arrays) for k in _children(kinds, prefix)]
        return items if kind == "list" else tuple(items)
    if prefix not in arrays:
        raise CheckpointError(f"load: the description lists '{prefix}' but the file has no such array")
    return _leaf(kind, arrays[prefix], prefix)


def load(path):
    """Read a file written by :func:`save` (or any ``.npz`` of plain arrays) without pickle.

    Returns the saved structure: a dict (a Module's or optimizer's state dict, or the nested
    dict that was saved).  A plain ``.npz`` gives a flat dict of its arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {path}")
    try:
        archive = np.load(path, allow_pickle=False)
        if isinstance(archive, np.ndarray):
            raise CheckpointError(f"load: {path} is a single .npy array, not an .npz archive; use numpy.load")
        with archive:
            arrays = {name: archive[name] for name in archive.files}
    except CheckpointError:
        raise
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise CheckpointError(f"load: {path} holds pickled objects; tinymed never unpickles "
                                  "(it could run code from the file)") from None
        raise CheckpointError(f"load: {path} is not a readable .npz file ({err})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(f"load: {path} is not a readable .npz file ({err})") from None
    if _META not in arrays:
        return arrays
    try:
        meta = json.loads(str(arrays.pop(_META)))
        kinds = meta["kinds"]
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"load: {path} has a damaged '{_META}' description") from None
    if meta.get("format") != FORMAT or meta.get("version", 0) > VERSION:
        raise CheckpointError(f"load: {path} is format {meta.get('format')!r} version {meta.get('version')!r}; "
                              f"this tinymed reads {FORMAT!r} up to version {VERSION}")
    return _rebuild("", kinds, arrays)
