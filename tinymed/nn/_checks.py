"""The one set of argument checks behind ``nn.functional``, the ``nn`` layers and the Keras layers.

Every check names the operation or layer (``op``), the argument, what it expected and what it
got, so ``F.conv2d(x, w, stride=0)``, ``nn.Conv2d(1, 2, 3, stride=0)`` and
``keras.layers.Conv2D(2, 3, strides=0)`` are refused the same way -- the layers at construction,
before any data has been seen.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor, dim_index
from ..memory import require_memory
from .module import Parameter

__all__ = [
    "tensor", "require_float", "same_dtype", "positive_int", "probability", "new_parameter", "pair", "shape_tuple",
    "reduction", "dim_index", "index_range", "host_array",
    "batched_images", "conv_padding", "pool_geometry", "target", "as_tensor", "REDUCTIONS",
]

REDUCTIONS = ("mean", "sum", "none")


def tensor(op, name, value) -> Tensor:
    """``value`` as a Tensor: a Tensor as it is, an array wrapped; anything else is refused."""
    if isinstance(value, Tensor):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return Tensor(value)
    raise TypeError(f"{op}: {name} must be a Tensor or an array, got {type(value).__name__}")


def require_float(op, name, t: Tensor) -> None:
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype}")


def same_dtype(op, a_name, a: Tensor, b_name, b: Tensor) -> None:
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: {a_name} has dtype {a.dtype} but {b_name} has dtype {b.dtype}; "
                        f"convert one, e.g. x.astype('{b.dtype}') or model.to('{a.dtype}')")


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(op, name, value) -> int:
    """A count such as ``out_features`` or ``filters``: an int >= 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{op}: {name} must be a positive integer, got {value!r}")
    return int(value)


def probability(op, name, value) -> float:
    """A probability such as dropout's ``p``: a real number in [0, 1]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 <= value <= 1:
        raise ValueError(f"{op}: {name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def new_parameter(op, shape, dtype, fill=0.0) -> Parameter:
    """A Parameter of ``shape`` filled with ``fill``, refused up front if it cannot fit in memory."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.float64))
    require_memory(op, count * dtype.itemsize, f"parameters of shape {tuple(shape)} ({dtype})")
    return Parameter(np.full(shape, fill, dtype=dtype))


def pair(op, name, value, minimum) -> tuple[int, int]:
    """An int or a pair of ints, each >= ``minimum``, as a pair (kernel sizes, strides, ...)."""
    parts = (value, value) if _is_int(value) else value
    try:
        parts = tuple(parts)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if not all(_is_int(v) for v in parts):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if len(parts) != 2 or any(v < minimum for v in parts):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints >= {minimum}, got {value!r}")
    return int(parts[0]), int(parts[1])


def shape_tuple(op, name, value) -> tuple:
    """A shape argument (an int, or a sequence of ints >= 1) as a tuple, such as ``normalized_shape``."""
    parts = (value,) if _is_int(value) else value
    try:
        parts = tuple(parts)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a sequence of ints, got {value!r}") from None
    if not parts or not all(_is_int(v) and v >= 1 for v in parts):
        raise ValueError(f"{op}: {name} must be an int or a non-empty sequence of ints >= 1, got {value!r}")
    return tuple(int(v) for v in parts)


def reduction(op, value) -> None:
    if value not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {value!r}")


def batched_images(op, t: Tensor):
    """Accept (N, C, H, W) or a single (C, H, W) image; return (tensor4d, was_unbatched)."""
    if t.ndim == 3:
        return t.reshape((1,) + t.shape), True
    if t.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape {t.shape}")
    return t, False


def conv_padding(op, padding, kernel, dilation, stride) -> tuple[int, int]:
    """A convolution's padding as a pair: an int, a pair, ``"valid"`` (none) or ``"same"``
    (output size = input size, which needs stride 1 and an odd dilated kernel)."""
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride={stride}")
        span = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(s % 2 for s in span):
            raise ValueError(f"{op}: padding='same' needs an odd effective kernel size, got kernel "
                             f"{tuple(kernel)} with dilation {dilation}")
        return span[0] // 2, span[1] // 2
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}")
    return pair(op, "padding", padding, 0)


def pool_geometry(op, kernel_size, stride, padding):
    """``(kernel, stride, padding)`` pairs of a pooling window; ``stride`` None means ``kernel_size``.
    Padding may be at most half the window (so every window holds at least one real input)."""
    kernel = pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and not stride) else pair(
        op, "stride", stride, 1)
    padding = pair(op, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    return kernel, stride, padding


def target(op, value, like: Tensor, integer=False) -> Tensor:
    """A loss target as a Tensor of the active backend; float targets take the input's dtype."""
    if not isinstance(value, Tensor):
        try:
            array = backend.asarray(value)
        except (TypeError, ValueError):
            array = None
        if array is None or array.dtype.kind not in "fiub":
            got = type(value).__name__ if array is None else f"{type(value).__name__} of dtype {array.dtype}"
            raise TypeError(f"{op}: target must be numeric (an array, a Tensor or a list of numbers), got {got}")
        value = Tensor(array)
    t = value
    if integer:
        if t.dtype.kind not in "iu":
            raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
        return t
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{op}: target must be numeric, got dtype {t.dtype}")
    if t.dtype != like.dtype and not t.requires_grad:
        t = Tensor(t.data.astype(like.dtype))
    return t


def index_range(op, what, values, upper, upper_name=None) -> None:
    """Refuse integers outside ``[0, upper)``, saying ``"{op}: {what} in [0, upper), got values in
    [lo, hi]"``.  Host values are checked on the host; device values cost one synchronisation (a
    single ``any``), and the exact range is fetched only to report an error."""
    if values.size == 0 or not bool(((values < 0) | (values >= upper)).any()):
        return
    bound = upper if upper_name is None else f"{upper_name}={upper}"
    raise ValueError(f"{op}: {what} in [0, {bound}), got values in [{int(values.min())}, {int(values.max())}]")


def host_array(value):
    """``value`` as a NumPy array if it is host data (a list, a NumPy array), else None: a check can
    then run before the data moves to the device, at no transfer cost."""
    if isinstance(value, Tensor) or hasattr(value, "__cuda_array_interface__") or backend.array_module(value) is not np:
        return None
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        return None


def as_tensor(value) -> Tensor:
    """Anything array-like (a Tensor, an array, a list) as a Tensor of the active backend."""
    return value if isinstance(value, Tensor) else Tensor(backend.asarray(value))
