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
        raise TypeError(f"{op}: {a_name} has dtype {a.dtype} but {b_name} has dtype {b.dtype}; "
                        f"convert one, e.g. x.astype('{b.dtype}') or model.to('{a.dtype}')")


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
        dx, dw, db = _k("conv2d_backward")(g, self.x, self.w, *self.geometry, input_grad=self.needs_input_grad[0])
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


# ----- sequence models: recurrent layers, attention, layer norm, embedding ------------------
__all__ += ["rnn_tanh", "lstm", "gru", "scaled_dot_product_attention", "layer_norm", "embedding"]


def _recurrent_args(op, gates, input, states, weight_ih, weight_hh, bias_ih, bias_hh):
    """Check a recurrent layer's arguments; return them as Tensors with zero biases filled in."""
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"{op}: input must be 3-D (seq_len, batch, input_size) with seq_len >= 1, "
                         f"got shape {x.shape}")
    w_ih, w_hh = _tensor(op, "weight_ih", weight_ih), _tensor(op, "weight_hh", weight_hh)
    if w_hh.ndim != 2 or w_hh.shape[0] % gates or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{op}: weight_hh must have shape ({gates}*hidden_size, hidden_size), got {w_hh.shape}")
    hidden = w_hh.shape[1]
    if w_ih.shape != (gates * hidden, x.shape[2]):
        raise ValueError(f"{op}: weight_ih must have shape ({gates * hidden}, input_size={x.shape[2]}) "
                         f"for input of shape {x.shape}, got {w_ih.shape}")
    for name, t in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        _same_dtype(op, "input", x, name, t)
    biases = []
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b is None:
            biases.append(None)
            continue
        b = _tensor(op, name, b)
        if b.shape != (gates * hidden,):
            raise ValueError(f"{op}: {name} must have shape ({gates * hidden},), got {b.shape}")
        _same_dtype(op, "input", x, name, b)
        biases.append(b)
    checked = []
    for name, s in states:
        s = Tensor(backend.xp().zeros((x.shape[1], hidden), dtype=x.dtype)) if s is None else _tensor(op, name, s)
        if s.shape != (x.shape[1], hidden):
            raise ValueError(f"{op}: {name} must have shape (batch={x.shape[1]}, hidden_size={hidden}), got {s.shape}")
        _same_dtype(op, "input", x, name, s)
        checked.append(s)
    return x, checked, w_ih, w_hh, biases


def _time_flip(a, reverse):
    """The sequence in reverse time order (a contiguous copy), or unchanged."""
    return backend.array_module(a).ascontiguousarray(a[::-1]) if reverse else a


def _bias_sum(xp, b_ih, b_hh, like):
    """``b_ih + b_hh`` with absent biases as zeros (the kernels always take a bias)."""
    total = xp.zeros(like.shape[0], dtype=like.dtype)
    for b in (b_ih, b_hh):
        if b is not None:
            total = total + b
    return total


class RNNTanh(Function):
    """F6 over a sequence; one Function, so backward is one BPTT kernel call."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        xp = backend.array_module(x)
        self.reverse, self.has_bias = reverse, (b_ih is not None, b_hh is not None)
        self.x, self.h0, self.w_ih, self.w_hh = _time_flip(x, reverse), h0, w_ih, w_hh
        self.h = _k("rnn_tanh_forward")(self.x, h0, w_hh, w_ih, _bias_sum(xp, b_ih, b_hh, w_ih))
        return _time_flip(self.h, reverse)

    def backward(self, g):
        dx, dh0, dw_hh, dw_ih, db = _k("rnn_tanh_backward")(
            _time_flip(g, self.reverse), self.x, self.h0, self.w_hh, self.w_ih, self.h)
        return (_time_flip(dx, self.reverse), dh0, dw_ih, dw_hh,
                db if self.has_bias[0] else None, db if self.has_bias[1] else None)


class LSTMLayer(Function):
    """One LSTM layer over a sequence; the output stacks every h_t and c_t: (2, T, N, H)."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        xp = backend.array_module(x)
        self.reverse, self.has_bias = reverse, (b_ih is not None, b_hh is not None)
        self.x, self.h0, self.c0, self.w_ih, self.w_hh = _time_flip(x, reverse), h0, c0, w_ih, w_hh
        self.h, self.c, self.gates = _k("lstm_forward")(self.x, h0, c0, w_ih, w_hh,
                                                        _bias_sum(xp, b_ih, b_hh, w_ih))
        return xp.stack([_time_flip(self.h, self.reverse), _time_flip(self.c, self.reverse)])

    def backward(self, g):
        dx, dh0, dc0, dw_ih, dw_hh, db = _k("lstm_backward")(
            _time_flip(g[0], self.reverse), _time_flip(g[1], self.reverse), self.x, self.h0, self.c0,
            self.w_ih, self.w_hh, self.h, self.c, self.gates)
        return (_time_flip(dx, self.reverse), dh0, dc0, dw_ih, dw_hh,
                db if self.has_bias[0] else None, db if self.has_bias[1] else None)


class GRULayer(Function):
    """One GRU layer over a sequence."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        xp = backend.array_module(x)
        zeros = xp.zeros(w_ih.shape[0], dtype=w_ih.dtype)
        self.reverse, self.has_bias = reverse, (b_ih is not None, b_hh is not None)
        self.x, self.h0, self.w_ih, self.w_hh = _time_flip(x, reverse), h0, w_ih, w_hh
        self.h, self.gates = _k("gru_forward")(self.x, h0, w_ih, w_hh,
                                               zeros if b_ih is None else b_ih,
                                               zeros if b_hh is None else b_hh)
        return _time_flip(self.h, reverse)

    def backward(self, g):
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = _k("gru_backward")(
            _time_flip(g, self.reverse), self.x, self.h0, self.w_ih, self.w_hh, self.h, self.gates)
        return (_time_flip(dx, self.reverse), dh0, dw_ih, dw_hh,
                db_ih if self.has_bias[0] else None, db_hh if self.has_bias[1] else None)


def rnn_tanh(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False) -> Tensor:
    r"""One Elman RNN layer over a whole sequence (F6): :math:`h_t = \tanh(W h_{t-1} + U x_t + b)`
    with ``W = weight_hh``, ``U = weight_ih``, ``b = bias_ih + bias_hh``.

    input (T, N, I) time first; hx (N, H) or None (zeros); weight_ih (H, I); weight_hh (H, H).
    Returns every hidden state, (T, N, H).  ``reverse=True`` runs from t = T down to 1 (the
    backward half of a bidirectional layer); the result is still indexed by input time.
    """
    x, (h0,), w_ih, w_hh, (b_ih, b_hh) = _recurrent_args(
        "rnn_tanh", 1, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh)
    return RNNTanh.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))


def lstm(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False):
    """One LSTM layer over a whole sequence, PyTorch's gates ``i, f, g, o`` in that order.

    input (T, N, I); hx, cx (N, H) or None; weight_ih (4H, I); weight_hh (4H, H).
    Returns ``(h, c)``: every hidden state and every cell state, each (T, N, H).
    """
    x, (h0, c0), w_ih, w_hh, (b_ih, b_hh) = _recurrent_args(
        "lstm", 4, input, [("hx", hx), ("cx", cx)], weight_ih, weight_hh, bias_ih, bias_hh)
    both = LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))
    return both[0], both[1]


def gru(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False) -> Tensor:
    """One GRU layer over a whole sequence, PyTorch's gates ``r, z, n`` in that order.

    input (T, N, I); hx (N, H) or None; weight_ih (3H, I); weight_hh (3H, H).
    Returns every hidden state, (T, N, H).
    """
    x, (h0,), w_ih, w_hh, (b_ih, b_hh) = _recurrent_args(
        "gru", 3, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh)
    return GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))


class ScaledDotProductAttention(Function):
    """F7 as one Function; ``sink`` (a list), if given, receives the attention weights."""

    def forward(self, q, k, v, bias, scale, keep, sink=None):
        self.q, self.k, self.v, self.scale, self.keep = q, k, v, scale, keep
        self.bias_shape = None if bias is None else bias.shape
        out, self.weights = _k("scaled_dot_product_attention_forward")(q, k, v, bias, scale, keep)
        if sink is not None:
            sink.append(self.weights)  # the caller asked for the weights (e.g. to plot them)
        return out

    def backward(self, g):
        from ..autograd import unbroadcast

        dq, dk, dv, dscores = _k("scaled_dot_product_attention_backward")(
            g, self.q, self.k, self.v, self.weights, self.scale, self.keep)
        dbias = None if self.bias_shape is None else unbroadcast(dscores, self.bias_shape)
        return dq, dk, dv, dbias


def _attention_bias(op, mask, q: Tensor, scores_shape, is_causal):
    """The additive mask: 0 where a query may attend, -inf where not (bool masks), or the float
    mask itself (a Tensor, so it may carry a gradient)."""
    xp = backend.array_module(q.data)
    L, S = scores_shape[-2:]
    if is_causal:
        if mask is not None:
            raise ValueError(f"{op}: give either attn_mask or is_causal=True, not both")
        mask = xp.tril(xp.ones((L, S), dtype=bool))
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else Tensor(backend.asarray(mask))
    try:
        fits = np.broadcast_shapes(m.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: attn_mask of shape {m.shape} does not broadcast to the attention "
                         f"scores' shape {tuple(scores_shape)} (batch..., L={L}, S={S})")
    if m.dtype == bool:
        return Tensor(xp.where(m.data, 0.0, -np.inf).astype(q.dtype))
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be boolean (True = may attend) or float (added to the "
                        f"scores), got dtype {m.dtype}")
    _same_dtype(op, "query", q, "attn_mask", m)
    return m


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, *, return_weights=False):
    r"""Attention (F7) with PyTorch's signature: ``softmax(Q K^T * scale + mask) V``.

    query (..., L, E), key (..., S, E), value (..., S, Ev) with equal leading (batch, head)
    dimensions; returns (..., L, Ev).  ``scale`` defaults to :math:`1/\sqrt{E}`.

    ``attn_mask``: boolean, **True = may attend** (as in PyTorch's function -- note that
    ``nn.MultiheadAttention`` uses the opposite convention), or float, added to the scores
    (``-inf`` masks); a NumPy array or a Tensor broadcastable to (..., L, S).
    ``is_causal=True`` lets query i see keys j <= i only.  Masked keys get exactly zero weight.
    A query whose keys are *all* masked gets zero weights and a zero output (PyTorch: NaN).
    ``dropout_p`` drops weights (and rescales the rest) on every call, as PyTorch's function
    does; modules pass 0 in eval mode.  With ``return_weights=True`` the result is
    ``(output, weights)``, the weights (..., L, S) before dropout as a Tensor without gradient,
    e.g. for plotting.
    """
    op = "scaled_dot_product_attention"
    q, k, v = (_tensor(op, n, t) for n, t in (("query", query), ("key", key), ("value", value)))
    for name, t in (("query", q), ("key", k), ("value", v)):
        _float(op, name, t)
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dimensions (..., length, features), "
                             f"got shape {t.shape}")
    _same_dtype(op, "query", q, "key", k)
    _same_dtype(op, "query", q, "value", v)
    if not (q.shape[:-2] == k.shape[:-2] == v.shape[:-2]):
        raise ValueError(f"{op}: query, key and value must have the same leading (batch) dimensions, "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{op}: key has {k.shape[-1]} features but query has {q.shape[-1]} "
                         f"(shapes {k.shape} and {q.shape})")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"{op}: value has length {v.shape[-2]} but key has length {k.shape[-2]}")
    if not 0 <= dropout_p < 1:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    scores_shape = q.shape[:-1] + (k.shape[-2],)
    bias = _attention_bias(op, attn_mask, q, scores_shape, is_causal)
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0:
        kept = generator().random(scores_shape) >= dropout_p
        keep = backend.asarray((kept / (1 - dropout_p)).astype(q.dtype))
    sink = [] if return_weights else None
    out = ScaledDotProductAttention.apply(q, k, v, bias, scale=q.dtype.type(scale), keep=keep, sink=sink)
    return (out, Tensor(sink[0])) if return_weights else out


class LayerNorm(Function):
    def forward(self, x, weight, bias, normalized_shape, eps):
        self.x, self.weight, self.shape = x, weight, normalized_shape
        self.has = (weight is not None, bias is not None)
        y, self.mean, self.rstd = _k("layer_norm_forward")(x, normalized_shape, weight, bias, eps)
        return y

    def backward(self, g):
        dx, dw, db = _k("layer_norm_backward")(g, self.x, self.shape, self.weight, self.mean, self.rstd)
        return dx, dw if self.has[0] else None, db if self.has[1] else None


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    r"""Normalise over the trailing ``normalized_shape`` axes:
    :math:`y = \gamma\,(x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta` (biased variance, as PyTorch)."""
    op = "layer_norm"
    x = _tensor(op, "input", input)
    _float(op, "input", x)
    shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(
        int(s) for s in normalized_shape)
    if not shape or x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(f"{op}: input's trailing dimensions must equal normalized_shape={shape}, "
                         f"got input shape {x.shape}")
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = _tensor(op, name, p)
            if p.shape != shape:
                raise ValueError(f"{op}: {name} must have shape normalized_shape={shape}, got {p.shape}")
            _same_dtype(op, "input", x, name, p)
        params.append(p)
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps}")
    return LayerNorm.apply(x, params[0], params[1], normalized_shape=shape, eps=float(eps))


class Embedding(Function):
    def forward(self, weight, indices, padding_idx):
        self.indices, self.n, self.padding_idx = indices, weight.shape[0], padding_idx
        return _k("embedding_forward")(weight, indices)

    def backward(self, g):
        return _k("embedding_backward")(g, self.indices, self.n, self.padding_idx), None


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False) -> Tensor:
    """Look up rows of ``weight (num_embeddings, D)`` for integer ``input (...)`` -> (..., D).

    ``padding_idx``: that row receives no gradient.  ``input`` may be a NumPy array or a
    Tensor of integers.  (``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not
    supported.)
    """
    op = "embedding"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise ValueError(f"{op}: max_norm, scale_grad_by_freq and sparse are not supported")
    w = _tensor(op, "weight", weight)
    if w.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {w.shape}")
    idx = input.data if isinstance(input, Tensor) else backend.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {idx.dtype}")
    xp = backend.array_module(idx)
    n = w.shape[0]
    if idx.size and (int(xp.min(idx)) < 0 or int(xp.max(idx)) >= n):
        raise ValueError(f"{op}: indices must be in [0, num_embeddings={n}), got values in "
                         f"[{int(xp.min(idx))}, {int(xp.max(idx))}]")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx must be within num_embeddings={n}, got {padding_idx}")
        padding_idx = int(padding_idx) % n
    return Embedding.apply(w, Tensor(idx), padding_idx=padding_idx)


class Concatenate(Function):
    """Join tensors along an existing axis; the backward hands each input its slice."""

    def forward(self, *arrays, dim):
        xp = backend.array_module(*arrays)
        self.dim = dim
        self.bounds = np.cumsum([a.shape[dim] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=dim)

    def backward(self, g):
        xp = backend.array_module(g)
        return tuple(xp.split(g, self.bounds, axis=self.dim))


def cat(tensors, dim=0) -> Tensor:
    """``torch.cat``: join tensors of equal shape except along ``dim`` (used by the
    bidirectional recurrent layers and the encoder-decoder)."""
    ts = [_tensor("cat", f"tensors[{i}]", t) for i, t in enumerate(tensors)]
    if not ts:
        raise ValueError("cat: expected at least one tensor")
    axis = _dim("cat", ts[0], dim)
    for i, t in enumerate(ts[1:], 1):
        if t.ndim != ts[0].ndim or t.shape[:axis] + t.shape[axis + 1:] != ts[0].shape[:axis] + ts[0].shape[axis + 1:]:
            raise ValueError(f"cat: tensors[{i}] has shape {t.shape}, which does not match tensors[0] "
                             f"{ts[0].shape} outside dim {axis}")
        _same_dtype("cat", "tensors[0]", ts[0], f"tensors[{i}]", t)
    return Concatenate.apply(*ts, dim=axis)


def stack(tensors, dim=0) -> Tensor:
    """``torch.stack``: join tensors of equal shape along a new axis ``dim``."""
    ts = [_tensor("stack", f"tensors[{i}]", t) for i, t in enumerate(tensors)]
    if not ts:
        raise ValueError("stack: expected at least one tensor")
    axis = dim % (ts[0].ndim + 1)
    return cat([t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) for t in ts], dim=axis)
