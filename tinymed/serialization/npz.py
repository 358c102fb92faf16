"""Checkpoints as NumPy ``.npz`` archives, read without pickle and without trusting the file.

Writing is ``numpy.savez``: a zip of ``.npy`` members, one per leaf, so any NumPy reads the file.
Reading does not call ``numpy.load`` on the archive: each member's ``.npy`` header is parsed first,
and the array is allocated only once its declared size has been checked against what the member
holds and against ``max_bytes``.  So a crafted header declaring 10^12 elements, an archive that
inflates a thousandfold, an object array (which would need pickle) or a truncated file are each
refused with a :class:`CheckpointError` that says which, and a corrupted byte fails the zip's CRC.
"""

from __future__ import annotations

import zipfile

import numpy as np

from .tree import CheckpointError

_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def write(file, arrays: dict) -> None:
    np.savez(file, **arrays)


def _read_member(archive, info, where, budget):
    """One ``.npy`` member as an array, its size checked before anything is allocated."""
    name = info.filename[:-4] if info.filename.endswith(".npy") else None
    if name is None:
        raise CheckpointError(f"load: {where} holds {info.filename!r}, which is not an .npy array")
    with archive.open(info) as member:
        try:
            version = np.lib.format.read_magic(member)
            if version not in _HEADER_READERS:
                raise CheckpointError(f"load: {where}: array '{name}' uses .npy format {version}, "
                                      "which tinymed does not read")
            shape, fortran, dtype = _HEADER_READERS[version](member)
        except ValueError as err:
            raise CheckpointError(f"load: {where}: array '{name}' has a damaged header ({err})") from None
        if dtype.hasobject:
            raise CheckpointError(f"load: {where} holds pickled objects (array '{name}' has dtype {dtype}); "
                                  "tinymed never unpickles (it could run code from the file)")
        count = int(np.prod(shape, dtype=np.float64)) if shape else 1
        nbytes = count * dtype.itemsize
        if nbytes > budget:
            raise CheckpointError(f"load: {where}: array '{name}' declares shape {shape} ({nbytes:,} bytes), more "
                                  f"than the {budget:,} bytes still allowed; if you trust the file, pass a larger "
                                  "max_bytes to load")
        if nbytes > info.file_size:
            raise CheckpointError(f"load: {where}: array '{name}' declares {nbytes:,} bytes of data but its member "
                                  f"holds only {info.file_size:,}: the file is damaged")
        array = np.empty(count, dtype=dtype)
        view = memoryview(array).cast("B")
        filled = 0
        while filled < nbytes:
            got = member.readinto(view[filled:])
            if not got:
                raise CheckpointError(f"load: {where}: array '{name}' is cut short (the file is truncated)")
            filled += got
    order = "F" if fortran else "C"
    return name, array.reshape(shape, order=order), nbytes


def read(path, where, max_bytes) -> dict:
    """``{name: array}`` of every member, in the archive's order."""
    try:
        with zipfile.ZipFile(path) as archive:
            arrays, budget = {}, max_bytes
            for info in archive.infolist():
                name, array, nbytes = _read_member(archive, info, where, budget)
                if name in arrays:
                    raise CheckpointError(f"load: {where} holds array '{name}' twice")
                arrays[name], budget = array, budget - nbytes
            return arrays
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as err:
        raise CheckpointError(f"load: {where} is not a readable .npz file: it is damaged or truncated "
                              f"({err})") from None
