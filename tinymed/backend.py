"""The array-backend switch.

tinymed runs the same model on three backends:

* ``"numpy"`` -- the readable reference kernels in :mod:`tinymed.kernels.reference`;
* ``"numba"`` -- JIT-compiled CPU kernels in :mod:`tinymed.kernels.numba`;
* ``"cupy"``  -- the reference kernels run on a CUDA GPU through CuPy, plus the few
  custom CUDA kernels in :mod:`tinymed.kernels.cupy`.

Pick one with ``tinymed.use("numba")``, temporarily with ``with tinymed.using("numpy"):``
or for a whole process with the environment variable ``TINYMED_BACKEND``.  The default
is ``numba`` where Numba is installed, else ``numpy``.

A kernel is looked up by name in the active backend and falls back to the reference,
so a backend only overrides what it makes faster.  ``numba`` and ``cupy`` are imported
lazily: ``import tinymed`` never pays for them.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os

import numpy as np

BACKENDS = ("numpy", "numba", "cupy")

_INSTALL_HINT = {
    "numba": "pip install numba",
    "cupy": "pip install 'tinymed[gpu]'  (CuPy for CUDA 12; needs an NVIDIA GPU and driver)",
}


class BackendError(RuntimeError):
    """A backend was asked for that is unknown, not installed, or has no device."""


_active: str | None = None
_kernel_modules: dict = {}
_checked: set = set()
_stand_in = None  # (array module, array type) serving the "cupy" backend instead of CuPy: device_stand_in


def _default_name() -> str:
    env = os.environ.get("TINYMED_BACKEND", "").strip().lower()
    if env:
        _validate(env, source="TINYMED_BACKEND")
        return env
    return "numba" if importlib.util.find_spec("numba") is not None else "numpy"


def _validate(name: str, source: str = "tinymed.use") -> None:
    if not isinstance(name, str) or name not in BACKENDS:
        raise BackendError(
            f"{source}: unknown backend {name!r}; expected one of {', '.join(BACKENDS)}"
        )


def _check_available(name: str) -> None:
    """Import the backend's library once and fail with what to install if we cannot."""
    if name in _checked or name == "numpy" or (name == "cupy" and _stand_in is not None):
        return
    try:
        mod = importlib.import_module(name)
    except ImportError as exc:
        raise BackendError(
            f"backend {name!r} is not available: {exc}. Install it with: {_INSTALL_HINT[name]}"
        ) from exc
    if name == "cupy":
        try:
            count = mod.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver missing or broken
            raise BackendError(
                f"backend 'cupy' is installed but no CUDA device could be used ({exc}); "
                "use tinymed.use('numba') or tinymed.use('numpy') on a machine without a GPU"
            ) from exc
        if count < 1:
            raise BackendError("backend 'cupy' is installed but no CUDA device was found")
    _checked.add(name)


def current() -> str:
    """Name of the active backend."""
    global _active
    if _active is None:
        name = _default_name()
        _check_available(name)
        _active = name
    return _active


def use(name: str) -> None:
    """Make ``name`` ("numpy", "numba" or "cupy") the active backend."""
    global _active
    name = name.lower() if isinstance(name, str) else name
    _validate(name)
    _check_available(name)
    _active = name


@contextlib.contextmanager
def using(name: str):
    """Context manager: run the body under backend ``name``, then restore the previous one."""
    previous = current()
    use(name)
    try:
        yield
    finally:
        use(previous)


def available() -> list[str]:
    """Backends that can be used on this machine (tries each lazily)."""
    names = []
    for name in BACKENDS:
        try:
            _check_available(name)
        except BackendError:
            continue
        names.append(name)
    return names


def _device_module():
    if _stand_in is not None:
        return _stand_in[0]
    import cupy

    return cupy


def _on_device(a) -> bool:
    if _stand_in is not None and isinstance(a, _stand_in[1]):
        return True
    return type(a).__module__.startswith("cupy")


def xp():
    """The array module of the active backend: ``numpy`` or ``cupy``."""
    return _device_module() if current() == "cupy" else np


def array_module(*arrays):
    """The array module that owns ``arrays`` (cupy if any is a CuPy array, else numpy).

    Reference kernels call this instead of reading the global switch, so the same
    source runs on NumPy and CuPy arrays alike.
    """
    return _device_module() if any(_on_device(a) for a in arrays) else np


def to_numpy(a):
    """A NumPy copy (or view) of an array from any backend."""
    return a.get() if _on_device(a) else np.asarray(a)


@contextlib.contextmanager
def device_stand_in(module, array_type):
    """Serve the ``"cupy"`` backend with ``module``, an array module with CuPy's API whose arrays
    are ``array_type``, running the reference kernels.  This is how tinymed's tests find host/device
    mixing on a machine without a GPU: a strict stand-in whose arrays refuse implicit conversion to
    NumPy, as CuPy's do, and count every transfer."""
    global _stand_in
    previous = _stand_in, current()
    _stand_in = module, array_type
    try:
        yield
    finally:
        _stand_in = previous[0]
        use(previous[1])


def asarray(a, dtype=None):
    """Convert ``a`` to an array of the active backend."""
    mod = xp()
    if mod is np:
        return np.asarray(to_numpy(a), dtype=dtype)
    return mod.asarray(a, dtype=dtype)


def _kernel_module(name: str):
    if name not in _kernel_modules:
        _kernel_modules[name] = importlib.import_module(f"tinymed.kernels.{name}")
    return _kernel_modules[name]


# dtypes a backend's compiled kernels cannot take (Numba has no half precision): for arrays of
# these the reference kernel runs instead, as it does for a kernel the backend lacks
_UNSUPPORTED_DTYPES = {"numba": (np.dtype(np.float16),)}


def kernel(op: str, backend: str | None = None):
    """The function implementing kernel ``op`` (e.g. ``"conv2d_forward"``).

    Looked up in the active backend (or ``backend``), falling back to the reference -- for an
    op the backend does not override, and for inputs of a dtype its kernels cannot take.  (Looked
    up afresh each time: two dictionary lookups, so a kernel patched in a test takes effect.)
    """
    name = backend or current()
    served_by_reference = name == "numpy" or (name == "cupy" and _stand_in is not None)
    fast = None if served_by_reference else getattr(_kernel_module(name), op, None)
    reference = getattr(_kernel_module("reference"), op, None)
    if fast is None and reference is None:
        raise BackendError(f"no kernel named {op!r} in tinymed.kernels.reference")
    unsupported = _UNSUPPORTED_DTYPES.get(name)
    if fast is None or reference is None or not unsupported:
        return fast or reference

    def dispatch(*args, **kwargs):
        values = args + tuple(kwargs.values())
        if any(getattr(a, "dtype", None) in unsupported for a in values):
            return reference(*args, **kwargs)
        return fast(*args, **kwargs)

    dispatch.__name__, dispatch.__doc__, dispatch.__wrapped__ = op, fast.__doc__, fast
    return dispatch
