"""``tinymed.save`` and ``tinymed.load``: checkpoints as plain ``.npz`` or ``.safetensors`` files,
never pickles.

What can be saved: a Module (its ``state_dict``), an optimizer (its ``state_dict``), or a dict
nesting those with arrays, Tensors, numbers, strings, booleans, ``None``, lists and tuples --
e.g. a full training checkpoint::

    tinymed.save({"model": model, "optimizer": opt, "rng": tinymed.get_rng_state(), "epoch": 3},
                 "checkpoint.npz")
    state = tinymed.load("checkpoint.npz")
    model.load_state_dict(state["model"]); opt.load_state_dict(state["optimizer"])

The suffix picks the format: ``.safetensors`` writes the format Hugging Face and PyTorch tooling
read (:mod:`tinymed.serialization.safetensors`); anything else an ordinary NumPy ``.npz``
archive (:mod:`tinymed.serialization.npz`).  Either way each leaf is one array stored under its
path of keys joined by ``/`` (``model/0.weight``), and a small JSON description (format
version and the kind of every leaf, :mod:`tinymed.serialization.tree`) lets ``load`` rebuild the
same structure.  ``load`` recognises the format from the file's first bytes, whatever its name.

Safety: files are read without pickle, so loading never runs code from the file; every size a
file declares is checked before memory is allocated (``max_bytes``); a malformed file is a
:class:`CheckpointError` that says what is wrong.  A save writes a temporary file and renames it
over the target (:mod:`tinymed.serialization.atomic`), so an interrupted save leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import npz, safetensors
from .atomic import write_atomically
from .tree import CheckpointError, flatten, rebuild

__all__ = ["save", "load", "CheckpointError"]

FORMAT = "tinymed-checkpoint"
VERSION = 1
_META = "__tinymed__"
_PICKLE_PROTOCOLS = (b"\x80",)  # protocol 2 and later start with PROTO


def _description(kinds, strings=None) -> str:
    meta = {"format": FORMAT, "version": VERSION, "kinds": kinds}
    if strings:
        meta["strings"] = strings
    return json.dumps(meta)


def save(obj, path) -> Path:
    """Write ``obj`` (a Module, an optimizer, or a nested dict of them and values) to ``path``
    atomically; a ``.safetensors`` suffix writes that format, any other ``.npz``."""
    arrays, kinds = flatten(obj, reserved=(_META,))
    if Path(path).suffix == ".safetensors":
        # strings (and integers beyond 64 bits) are not tensors: they travel in the description
        strings = {key: str(arrays.pop(key)) for key, kind in kinds.items() if kind in ("str", "bigint")}
        for key, value in arrays.items():
            if value.dtype.kind == "U":
                raise CheckpointError(f"save: '{key}' is an array of strings, which safetensors cannot hold; "
                                      "save as .npz instead")
        metadata = {"format": "pt", "tinymed": _description(kinds, strings)}
        return write_atomically("save", path, lambda f: safetensors.write(f, arrays, metadata))
    return write_atomically("save", path, lambda f: npz.write(f, {_META: np.array(_description(kinds)), **arrays}))


def _default_limit(size: int) -> int:
    """What a file may expand to in memory unless the caller says otherwise: 256 MiB, or 100 times
    its size on disk (an uncompressed checkpoint is about its own size; a thousandfold one is a bomb)."""
    return max(2**28, 100 * size)


def load(path, max_bytes=None):
    """Read a file written by :func:`save`, or any ``.npz`` of plain arrays or ``.safetensors`` file,
    without pickle.

    Returns the saved structure: a dict (a Module's or optimizer's state dict, or the nested dict
    that was saved).  A plain ``.npz`` or a foreign ``.safetensors`` file gives a flat dict of its
    arrays.  ``max_bytes`` caps the memory the file's arrays may take (default: 256 MiB or 100
    times the file's size, whichever is larger).
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise FileNotFoundError(f"load: no file at {path}" + (" (it is a folder)" if path.is_dir() else ""))
    size = path.stat().st_size
    limit = _default_limit(size) if max_bytes is None else int(max_bytes)
    with open(path, "rb") as f:
        head = f.read(16)
        f.seek(0)
        if safetensors.looks_like(head):
            arrays, metadata = safetensors.read(f, size, where, limit)
            return _structured(arrays, metadata.get("tinymed"), where)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        arrays = npz.read(path, where, limit)
        meta = arrays.pop(_META, None)
        return arrays if meta is None else _structured(arrays, str(meta), where)
    raise CheckpointError(f"load: {where} is {_what_it_is(head)}, not a tinymed checkpoint "
                          "(an .npz archive or a .safetensors file)")


def _what_it_is(head: bytes) -> str:
    if not head:
        return "empty"
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array, not an .npz archive; use numpy.load"
    if head.startswith(_PICKLE_PROTOCOLS):
        return "a pickled Python object (tinymed never unpickles: it could run code from the file)"
    return f"a file that starts with {head[:8]!r}"


def _structured(arrays, description, where):
    """The nested structure a tinymed description records, or the flat arrays of a foreign file."""
    if description is None:
        return arrays
    try:
        meta = json.loads(description)
        kinds = meta["kinds"]
        strings = meta.get("strings", {})
    except (ValueError, KeyError, TypeError):
        raise CheckpointError(f"load: {where} has a damaged '{_META}' description") from None
    if meta.get("format") != FORMAT or not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
        raise CheckpointError(f"load: {where} is format {meta.get('format')!r} version {meta.get('version')!r}; "
                              f"this tinymed reads {FORMAT!r} up to version {VERSION}")
    if not isinstance(strings, dict):
        raise CheckpointError(f"load: {where} has a damaged '{_META}' description")
    for key, text in strings.items():
        if key in arrays or not isinstance(text, str):
            raise CheckpointError(f"load: {where} has a damaged '{_META}' description")
        arrays[key] = np.array(text)
    return rebuild(kinds, arrays, where)

