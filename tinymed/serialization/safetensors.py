"""Checkpoints in the safetensors format, written and read by hand (no pickle by construction).

A safetensors file is an 8-byte little-endian length ``N``, a JSON header of ``N`` bytes, then the
raw bytes of every tensor, little-endian and row-major, back to back::

    {"0.weight": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]}, ...,
     "__metadata__": {"format": "pt"}}

Hugging Face's and PyTorch's tooling read these files, and tinymed reads theirs (a GPT-2
``model.safetensors``, say): the result is a flat dict of arrays in file order.  Only numeric
arrays fit; tinymed's own checkpoints keep their nesting and their numbers and strings in one
``__metadata__`` entry, ``"tinymed"`` (the same description an ``.npz`` checkpoint has).
bfloat16 tensors are read as float32 (NumPy has no bfloat16; the conversion is exact).
"""

from __future__ import annotations

import json
import struct

import numpy as np

from .tree import CheckpointError

DTYPES = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype("u1"), "I8": np.dtype("i1"), "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"), "F16": np.dtype("<f2"), "U32": np.dtype("<u4"), "I32": np.dtype("<i4"),
    "F32": np.dtype("<f4"), "U64": np.dtype("<u8"), "I64": np.dtype("<i8"), "F64": np.dtype("<f8"),
}
_CODES = {dtype.newbyteorder("="): code for code, dtype in DTYPES.items()}
MAX_HEADER = 100 * 2**20  # the reference implementation's limit too


def looks_like(head: bytes) -> bool:
    """Whether a file starting with ``head`` (at least 9 bytes) is a safetensors file."""
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= MAX_HEADER and head[8:9] == b"{"


def write(file, arrays: dict, metadata: dict) -> None:
    header, offset = {}, 0
    blobs = []
    for name, array in arrays.items():
        code = _CODES.get(array.dtype.newbyteorder("="))
        if code is None:
            raise CheckpointError(f"save: '{name}' has dtype {array.dtype}, which safetensors cannot hold; save "
                                  "as .npz instead")
        blob = np.ascontiguousarray(array, dtype=DTYPES[code]).tobytes()
        header[name] = {"dtype": code, "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)  # the data starts on an 8-byte boundary
    file.write(struct.pack("<Q", len(text)))
    file.write(text)
    for blob in blobs:
        file.write(blob)


def _entry(name, info, data_size, where):
    """``(dtype code, shape, begin, end)`` of one header entry, every field checked."""
    if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
        raise CheckpointError(f"load: {where}: the header entry of '{name}' is malformed")
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if code == "BF16":
        itemsize = 2
    elif code in DTYPES:
        itemsize = DTYPES[code].itemsize
    else:
        raise CheckpointError(f"load: {where}: '{name}' has dtype {code!r}, which tinymed does not read")
    if not (isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape)
            and isinstance(offsets, list) and len(offsets) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)):
        raise CheckpointError(f"load: {where}: '{name}' has a malformed shape or data_offsets")
    begin, end = offsets
    nbytes = int(np.prod(shape, dtype=np.float64)) * itemsize if shape else itemsize
    if not 0 <= begin <= end <= data_size or end - begin != nbytes:
        raise CheckpointError(f"load: {where}: '{name}' declares shape {shape} ({nbytes:,} bytes) at bytes "
                              f"{begin}..{end} of a {data_size:,}-byte data section: the file is damaged")
    return code, tuple(shape), begin, end


def read(file, size, where, max_bytes):
    """``(arrays in file order, metadata)`` of a safetensors file of ``size`` bytes."""
    head = file.read(8)
    (length,) = struct.unpack("<Q", head)
    if length > min(MAX_HEADER, size - 8):
        raise CheckpointError(f"load: {where} declares a {length:,}-byte header in a {size:,}-byte file")
    try:
        header = json.loads(file.read(length).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise CheckpointError(f"load: {where} has a safetensors header that is not valid JSON") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {where} has a safetensors header that is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"load: {where}: __metadata__ must map names to strings")
    data_size = size - 8 - length
    entries = sorted((_entry(name, info, data_size, where) + (name,) for name, info in header.items()),
                     key=lambda e: e[2])
    covered = 0
    for _, _, begin, end, name in entries:  # back to back, as the format requires: no overlap, no hole
        if begin != covered:
            raise CheckpointError(f"load: {where}: the data of '{name}' starts at byte {begin}, expected {covered}")
        covered = end
    if covered != data_size:
        raise CheckpointError(f"load: {where}: the tensors cover {covered:,} of {data_size:,} data bytes")
    if data_size > max_bytes:
        raise CheckpointError(f"load: {where} holds {data_size:,} bytes of tensors, more than max_bytes="
                              f"{max_bytes:,}; if you trust the file, pass a larger max_bytes to load")
    data = bytearray(data_size)
    if file.readinto(data) != data_size:
        raise CheckpointError(f"load: {where} is cut short (the file is truncated)")
    arrays = {}
    for code, shape, begin, end, name in entries:
        if code == "BF16":  # the upper 16 bits of a float32
            bits = np.frombuffer(data, dtype="<u2", count=(end - begin) // 2, offset=begin)
            arrays[name] = (bits.astype(np.uint32) << 16).view(np.float32).reshape(shape)
        else:
            dtype = DTYPES[code]
            arrays[name] = np.frombuffer(data, dtype=dtype, count=(end - begin) // dtype.itemsize,
                                         offset=begin).reshape(shape).astype(dtype.newbyteorder("="), copy=False)
    return {name: arrays[name] for name in header}, metadata
