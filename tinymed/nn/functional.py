"""Neural-network operations with PyTorch's ``torch.nn.functional`` signatures.

Each fused operation is a :class:`~tinymed.autograd.Function` whose forward and backward
are kernels of the active backend (``tinymed.backend.kernel``).  Inputs are checked here,
so a wrong shape or dtype gets a message naming the operation, what it expected and what it
got -- never a broadcasting error from inside a kernel.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function, Tensor, generator

__all__ = [
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "relu", "sigmoid", "tanh", "softmax",
    "log_softmax", "dropout", "mse_loss", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]

_REDUCTIONS = ("mean", "sum", "none")


def _k(name):
    return backend.kernel(name)


# ----- input checks ------------------------------------------------------------------------
def _tensor(op, name, value):
    if isinstance(value, Tensor):
        return value
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return Tensor(value)
    raise TypeError(f"{op}: {name} must be a Tensor or an array, got {type(value).__name__}")


def _float(op, name, t: Tensor):
    if t.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be floating point, got dtype {t.dtype}")


def _same_dtype(op, a_name, a: Tensor, b_name, b: Tensor):
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: {a_name} has dtype {a.dtype} but {b_name} has dtype {b.dtype}")


def _pair(op, name, value, minimum):
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    try:
        pair = tuple(int(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if len(pair) != 2 or any(v < minimum for v in pair):
        raise ValueError(f"{op}: {name} must be an int or a pair of ints >= {minimum}, got {value!r}")
    return pair


def _reduction(op, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _batched_images(op, t: Tensor):
    """Accept (N, C, H, W) or a single (C, H, W) image; return (tensor4d, was_unbatched)."""
    if t.ndim == 3:
        return t.reshape((1,) + t.shape), True
    if t.ndim != 4:
        raise ValueError(f"{op}: input must be 4-D (N, C, H, W) or 3-D (C, H, W), got shape {t.shape}")
    return t, False


# ----- linear ------------------------------------------------------------------------------
class Linear(Function):
    def forward(self, x, w, b):
        self.x, self.w = x, w
        return _k("linear_forward")(x, w, b)

    def backward(self, g):
        dx, dw, db = _k("linear_backward")(g, self.x, self.w)
        return dx, dw, db


def linear(input, weight, bias=None) -> Tensor:
    """``y = input @ weight.T + bias`` (F1).  input (..., in), weight (out, in), bias (out,)."""
    x, w = _tensor("linear", "input", input), _tensor("linear", "weight", weight)
    _float("linear", "input", x)
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input's last dimension must equal in_features={w.shape[1]}, got input shape {x.shape}"
        )
    _same_dtype("linear", "input", x, "weight", w)
    if bias is not None:
        bias = _tensor("linear", "bias", bias)
        if bias.shape != (w.shape[0],):
            raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {bias.shape}")
    return Linear.apply(x, w, bias)


# ----- activations ----------------------------------------------------------------------
class ReLU(Function):
    def forward(self, x):
        self.x = x
        return _k("relu_forward")(x)

    def backward(self, g):
        return (_k("relu_backward")(g, self.x),)


class Sigmoid(Function):
    def forward(self, x):
        self.y = _k("sigmoid_forward")(x)
        return self.y

    def backward(self, g):
        return (_k("sigmoid_backward")(g, self.y),)


class Tanh(Function):
    def forward(self, x):
        self.y = _k("tanh_forward")(x)
        return self.y

    def backward(self, g):
        return (_k("tanh_backward")(g, self.y),)


class Softmax(Function):
    def forward(self, x, dim):
        self.dim = dim
        self.y = _k("softmax_forward")(x, dim)
        return self.y

    def backward(self, g):
        return (_k("softmax_backward")(g, self.y, self.dim),)


class LogSoftmax(Function):
    def forward(self, x, dim):
        self.dim = dim
        self.y = _k("log_softmax_forward")(x, dim)
        return self.y

    def backward(self, g):
        return (_k("log_softmax_backward")(g, self.y, self.dim),)


def _activation(op, fn, input):
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    return fn.apply(x)


def relu(input, inplace=False) -> Tensor:
    """:math:`\\max(x, 0)` elementwise (``inplace`` is accepted for compatibility and ignored)."""
    return _activation("relu", ReLU, input)


def sigmoid(input) -> Tensor:
    return _activation("sigmoid", Sigmoid, input)


def tanh(input) -> Tensor:
    return _activation("tanh", Tanh, input)


def _dim(op, x: Tensor, dim):
    if x.ndim == 0:
        raise ValueError(f"{op}: input must have at least one dimension, got a scalar")
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"{op}: dim={dim} is out of range for input of shape {x.shape}")
    return dim % x.ndim


def softmax(input, dim=-1) -> Tensor:
    """Softmax along ``dim`` (default: the last axis)."""
    x = _tensor("softmax", "input", input)
    _float("softmax", "input", x)
    return Softmax.apply(x, dim=_dim("softmax", x, dim))


def log_softmax(input, dim=-1) -> Tensor:
    """Log-softmax along ``dim`` (default: the last axis), computed stably."""
    x = _tensor("log_softmax", "input", input)
    _float("log_softmax", "input", x)
    return LogSoftmax.apply(x, dim=_dim("log_softmax", x, dim))


def dropout(input, p=0.5, training=True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (inverted
    dropout, so evaluation needs no rescaling).  Identity when ``training`` is False.
    The mask comes from tinymed's seeded generator (:func:`tinymed.manual_seed`)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    x = _tensor("dropout", "input", input)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = generator().random(x.shape) >= p
    mask = backend.asarray(keep.astype(x.dtype) / x.dtype.type(1 - p))
    return x * Tensor(mask)


# ----- convolution and pooling ------------------------------------------------------------
class Conv2d(Function):
    def forward(self, x, w, b, stride, padding, dilation):
        self.x, self.w, self.geometry = x, w, (stride, padding, dilation)
        self.has_bias = b is not None
        return _k("conv2d_forward")(x, w, b, stride, padding, dilation)

    def backward(self, g):
        dx, dw, db = _k("conv2d_backward")(g, self.x, self.w, *self.geometry)
        return dx, dw, db if self.has_bias else None


def _conv_padding(padding, kernel, dilation, stride):
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1, got stride={stride}")
        span = [d * (k - 1) for k, d in zip(kernel, dilation)]
        if any(s % 2 for s in span):
            raise ValueError(
                f"conv2d: padding='same' needs an odd effective kernel size, got kernel {kernel} "
                f"with dilation {dilation}"
            )
        return tuple(s // 2 for s in span)
    return _pair("conv2d", "padding", padding, 0)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (F3), PyTorch layout: input (N, C, H, W) or (C, H, W),
    weight (K, C, KH, KW), bias (K,).  ``padding`` is an int, a pair, 'valid' or 'same'."""
    op = "conv2d"
    x, w = _tensor(op, "input", input), _tensor(op, "weight", weight)
    _float(op, "input", x)
    if groups != 1:
        raise ValueError(f"conv2d: only groups=1 is supported, got groups={groups}")
    if w.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got shape {w.shape}")
    x4, unbatched = _batched_images(op, x)
    if x4.shape[1] != w.shape[1]:
        raise ValueError(
            f"conv2d: input has {x4.shape[1]} channels but weight expects {w.shape[1]} "
            f"(input shape {x.shape}, weight shape {w.shape})"
        )
    _same_dtype(op, "input", x, "weight", w)
    stride = _pair(op, "stride", stride, 1)
    dilation = _pair(op, "dilation", dilation, 1)
    kernel = w.shape[2:]
    padding = _conv_padding(padding, kernel, dilation, stride)
    for axis, size in enumerate(x4.shape[2:]):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        if span > size + 2 * padding[axis]:
            raise ValueError(
                f"conv2d: kernel size {tuple(kernel)} (dilated: {span}) is larger than the padded "
                f"input {tuple(x4.shape[2:])} + padding {padding}"
            )
    if bias is not None:
        bias = _tensor(op, "bias", bias)
        if bias.shape != (w.shape[0],):
            raise ValueError(f"conv2d: bias must have shape ({w.shape[0]},), got {bias.shape}")
        _same_dtype(op, "bias", bias, "weight", w)
    y = Conv2d.apply(x4, w, bias, stride=stride, padding=padding, dilation=dilation)
    return y.reshape(y.shape[1:]) if unbatched else y


def _pool_args(op, input, kernel_size, stride, padding):
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    x4, unbatched = _batched_images(op, x)
    kernel = _pair(op, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == [] else _pair(op, "stride", stride, 1)
    padding = _pair(op, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{op}: padding {padding} must be at most half of kernel_size {kernel}")
    for axis, size in enumerate(x4.shape[2:]):
        if kernel[axis] > size + 2 * padding[axis]:
            raise ValueError(
                f"{op}: kernel_size {kernel} is larger than the padded input "
                f"{tuple(x4.shape[2:])} + padding {padding}"
            )
    return x4, unbatched, kernel, stride, padding


class MaxPool2d(Function):
    def forward(self, x, kernel_size, stride, padding):
        self.x_shape, self.geometry = x.shape, (kernel_size, stride, padding)
        y, self.argmax = _k("max_pool2d_forward")(x, kernel_size, stride, padding)
        return y

    def backward(self, g):
        return (_k("max_pool2d_backward")(g, self.argmax, self.x_shape, *self.geometry),)


class AvgPool2d(Function):
    def forward(self, x, kernel_size, stride, padding, count_include_pad):
        self.x_shape = x.shape
        self.args = (kernel_size, stride, padding, count_include_pad)
        return _k("avg_pool2d_forward")(x, *self.args)

    def backward(self, g):
        return (_k("avg_pool2d_backward")(g, self.x_shape, *self.args),)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False) -> Tensor:
    """Max pooling (F4) over ``kernel_size`` windows; ``stride`` defaults to ``kernel_size``."""
    if dilation not in (1, (1, 1)) or ceil_mode or return_indices:
        raise ValueError("max_pool2d: dilation, ceil_mode and return_indices are not supported")
    x4, unbatched, kernel, stride, padding = _pool_args("max_pool2d", input, kernel_size, stride, padding)
    y = MaxPool2d.apply(x4, kernel_size=kernel, stride=stride, padding=padding)
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Average pooling; padded zeros count in the mean unless ``count_include_pad=False``."""
    if ceil_mode or divisor_override is not None:
        raise ValueError("avg_pool2d: ceil_mode and divisor_override are not supported")
    x4, unbatched, kernel, stride, padding = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    y = AvgPool2d.apply(x4, kernel_size=kernel, stride=stride, padding=padding,
                        count_include_pad=bool(count_include_pad))
    return y.reshape(y.shape[1:]) if unbatched else y


# ----- losses -----------------------------------------------------------------------------
class _PointwiseLoss(Function):
    """Loss of (input, target) with a kernel pair ``<name>_forward`` / ``<name>_backward``."""

    name = ""
    target_grad = False

    def forward(self, x, t, reduction):
        self.x, self.t, self.reduction = x, t, reduction
        return _k(self.name + "_forward")(x, t, reduction)

    def backward(self, g):
        grads = _k(self.name + "_backward")(g, self.x, self.t, self.reduction)
        return grads if self.target_grad else (grads, None)


class MSELoss(_PointwiseLoss):
    name, target_grad = "mse_loss", True


class BCELoss(_PointwiseLoss):
    name = "binary_cross_entropy"


class BCEWithLogitsLoss(_PointwiseLoss):
    name = "binary_cross_entropy_with_logits"


class CrossEntropyLoss(_PointwiseLoss):
    name = "cross_entropy"


def _target(op, target, like: Tensor, integer=False):
    """The target as a Tensor of the active backend; float targets take the input's dtype."""
    t = target if isinstance(target, Tensor) else Tensor(backend.asarray(target))
    if integer:
        if t.dtype.kind not in "iu":
            raise TypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
        return t
    if t.dtype.kind not in "fiub":
        raise TypeError(f"{op}: target must be numeric, got dtype {t.dtype}")
    if t.dtype != like.dtype:
        t = Tensor(t.data.astype(like.dtype), requires_grad=False) if not t.requires_grad else t
    return t


def _loss_shapes(op, x: Tensor, t: Tensor):
    if x.shape != t.shape:
        raise ValueError(f"{op}: input and target must have the same shape, got {x.shape} and {t.shape}")


def _weighted(loss_fn, op, x, t, weight, reduction):
    if weight is None:
        return loss_fn.apply(x, t, reduction=reduction)
    per_element = loss_fn.apply(x, t, reduction="none") * _tensor(op, "weight", weight)
    if reduction == "none":
        return per_element
    return per_element.mean() if reduction == "mean" else per_element.sum()


def mse_loss(input, target, reduction="mean") -> Tensor:
    """F12: :math:`\\frac1n\\sum_i (\\hat y_i - y_i)^2`."""
    x = _tensor("mse_loss", "input", input)
    _float("mse_loss", "input", x)
    _reduction("mse_loss", reduction)
    t = _target("mse_loss", target, x)
    _loss_shapes("mse_loss", x, t)
    return MSELoss.apply(x, t, reduction=reduction)


def cross_entropy(input, target, reduction="mean") -> Tensor:
    """Softmax cross-entropy from logits ``(N, C)`` (or ``(C,)``) and integer targets ``(N,)``."""
    op = "cross_entropy"
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    _reduction(op, reduction)
    t = _target(op, target, x, integer=True)
    if x.ndim == 1:
        x, t = x.reshape(1, -1), t.reshape(1)
        unbatched = True
    else:
        unbatched = False
    if x.ndim != 2:
        raise ValueError(f"{op}: input must be (N, C) logits or (C,), got shape {x.shape}")
    if t.shape != (x.shape[0],):
        raise ValueError(f"{op}: target must have shape ({x.shape[0]},) for input {x.shape}, got {t.shape}")
    xp = backend.array_module(t.data)
    if t.size and (int(xp.min(t.data)) < 0 or int(xp.max(t.data)) >= x.shape[1]):
        raise ValueError(
            f"{op}: target values must be class indices in [0, {x.shape[1]}), "
            f"got values in [{int(xp.min(t.data))}, {int(xp.max(t.data))}]"
        )
    loss = CrossEntropyLoss.apply(x, t, reduction=reduction)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def binary_cross_entropy(input, target, weight=None, reduction="mean") -> Tensor:
    """BCE on probabilities in [0, 1]; prefer :func:`binary_cross_entropy_with_logits`."""
    op = "binary_cross_entropy"
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    _reduction(op, reduction)
    t = _target(op, target, x)
    _loss_shapes(op, x, t)
    xp = backend.array_module(x.data)
    if x.size and (float(xp.min(x.data)) < 0 or float(xp.max(x.data)) > 1):
        raise ValueError(f"{op}: input must be probabilities in [0, 1]; for logits use "
                         "binary_cross_entropy_with_logits")
    return _weighted(BCELoss, op, x, t, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean") -> Tensor:
    """BCE on logits, stable for logits of any size (no NaN or inf at ±1e4)."""
    op = "binary_cross_entropy_with_logits"
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    _reduction(op, reduction)
    t = _target(op, target, x)
    _loss_shapes(op, x, t)
    return _weighted(BCEWithLogitsLoss, op, x, t, weight, reduction)
