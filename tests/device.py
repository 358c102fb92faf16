"""A strict stand-in for CuPy, so that host/device mixing is found on a machine without a GPU.

Its arrays hold a NumPy array but behave as CuPy's do where it matters: they refuse implicit
conversion to NumPy (``np.asarray(a)`` raises), a NumPy function called on them raises (the
code must use the array module of its inputs, ``backend.array_module(...)``), mixing them with
NumPy arrays in arithmetic raises, and reductions return 0-d device arrays, not Python numbers.
Every transfer is counted: ``xp.asarray`` of a host array (host to device), and ``.get()``,
``.item()``, ``float()``, ``int()``, ``bool()`` and ``.tolist()`` (device to host).

``tinymed.backend.device_stand_in(xp, StrictArray)`` makes the ``"cupy"`` backend use it.
"""

from __future__ import annotations

import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

TRANSFERS = {"to_device": 0, "to_host": 0}


class DeviceMixingError(TypeError):
    """Host and device arrays were mixed, or a device array was converted implicitly."""


def _unwrap(value):
    if isinstance(value, StrictArray):
        return value._data
    if isinstance(value, np.ndarray) and value.ndim > 0:
        raise DeviceMixingError(f"a NumPy array of shape {value.shape} was mixed with device arrays; move it with "
                                "xp.asarray first (CuPy refuses this too)")
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _wrap(value):
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic):  # CuPy's reductions give 0-d device arrays, not host scalars
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class StrictArray(NDArrayOperatorsMixin):
    """A device array stand-in (see the module docstring)."""

    __array_priority__ = 1000

    def __init__(self, data):
        self._data = data

    # ----- what CuPy refuses ------------------------------------------------------------------
    def __array__(self, *args, **kwargs):
        raise DeviceMixingError("implicit conversion of a device array to NumPy (np.asarray, np.array, a NumPy "
                                "function); use backend.to_numpy(a) or a.get()")

    def __array_function__(self, func, types_, args, kwargs):
        raise DeviceMixingError(f"numpy.{func.__name__} was called on a device array; use the array module of the "
                                "inputs (backend.array_module(...)) instead of numpy")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.pop("out", None)
        result = getattr(ufunc, method)(*_unwrap(inputs), **_unwrap(kwargs))
        if out is not None:
            target = out[0] if isinstance(out, tuple) else out
            target._data[...] = result
            return target
        return _wrap(result)

    # ----- transfers to the host, counted ------------------------------------------------------
    def get(self):
        TRANSFERS["to_host"] += 1
        return self._data.copy()

    def item(self):
        TRANSFERS["to_host"] += 1
        return self._data.item()

    def tolist(self):
        TRANSFERS["to_host"] += 1
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self.item())

    def __repr__(self):
        return f"StrictArray({self._data!r})"

    # ----- an array's own attributes and methods, on the device -------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    nbytes = property(lambda self: self._data.nbytes)
    itemsize = property(lambda self: self._data.itemsize)
    strides = property(lambda self: self._data.strides)
    flags = property(lambda self: self._data.flags)
    T = property(lambda self: StrictArray(self._data.T))

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        return (_wrap(row) for row in self._data)

    def __getitem__(self, index):
        return _wrap(self._data[_unwrap_index(index)])

    def __setitem__(self, index, value):
        self._data[_unwrap_index(index)] = _unwrap(value)

    def __getattr__(self, name):
        if name.startswith("__"):  # never hand NumPy __array_interface__ & co.: that would convert silently
            raise AttributeError(name)
        method = getattr(self._data, name)
        if not callable(method):
            return _wrap(method)

        def on_device(*args, **kwargs):
            return _wrap(method(*_unwrap(args), **_unwrap(kwargs)))

        return on_device


def _unwrap_index(index):
    """Indices may be device arrays, host integers, slices; host integer arrays are allowed in
    indexing (CuPy accepts them there)."""
    if isinstance(index, tuple):
        return tuple(_unwrap_index(i) for i in index)
    if isinstance(index, StrictArray):
        return index._data
    return index


# ----- the array module ----------------------------------------------------------------------------
def _asarray(a, dtype=None, **kwargs):
    if isinstance(a, StrictArray):  # as cupy.asarray: the same array when nothing changes
        return a if dtype is None or np.dtype(dtype) == a.dtype else StrictArray(a._data.astype(dtype))
    TRANSFERS["to_device"] += 1
    return StrictArray(np.array(a, dtype=dtype, **kwargs))


def _on_device(func):
    def call(*args, **kwargs):
        return _wrap(func(*_unwrap(args), **_unwrap(kwargs)))

    call.__name__ = getattr(func, "__name__", "function")
    return call


class _ArrayModule(types.ModuleType):
    """``xp``: NumPy's functions applied on the device; creating an array from host data is a transfer."""

    def __init__(self):
        super().__init__("strict_device")
        self.asarray = _asarray
        self.array = _asarray
        self.ascontiguousarray = lambda a, dtype=None: _asarray(a, dtype)
        self.ndarray = StrictArray
        self.random = _Random()

    def __getattr__(self, name):
        value = getattr(np, name)
        if isinstance(value, np.ufunc):
            wrapped = _UfuncOnDevice(value)
            setattr(self, name, wrapped)
            return wrapped
        if callable(value) and not isinstance(value, type):
            wrapped = _on_device(value)
            setattr(self, name, wrapped)
            return wrapped
        return value  # dtypes (np.float32), constants (np.inf), the ufunc class, ...


class _UfuncOnDevice:
    """A ufunc on device arrays, with its methods (``xp.add.at(out, index, values)``, ``reduce``, ...)."""

    def __init__(self, ufunc):
        self._ufunc = ufunc

    def __call__(self, *args, **kwargs):
        return _wrap(self._ufunc(*_unwrap(args), **_unwrap(kwargs)))

    def __getattr__(self, name):
        return _on_device(getattr(self._ufunc, name))


class _Random:
    """``xp.random``: CuPy's seeded generator, here NumPy's legacy one."""

    def seed(self, seed):
        np.random.seed(seed)


xp = _ArrayModule()
