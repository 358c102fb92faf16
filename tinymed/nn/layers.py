"""Layers (PyTorch style): each holds its parameters and calls one ``tinymed.nn.functional`` op."""

from __future__ import annotations

import math

from ..autograd import DEFAULT_DTYPE
from ..ops.activations import GELU_APPROXIMATIONS
from . import _checks as C
from . import functional as F
from . import init
from .module import Module


class Linear(Module):
    """``y = x W^T + b`` (F1).  ``weight (out_features, in_features)``, ``bias (out_features,)``.

    Initialised as PyTorch does: weight and bias uniform in ``±1/sqrt(in_features)``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.in_features = C.positive_int("Linear", "in_features", in_features)
        self.out_features = C.positive_int("Linear", "out_features", out_features)
        self.weight = C.new_parameter("Linear", (self.out_features, self.in_features), dtype)
        self.register_parameter("bias", C.new_parameter("Linear", (self.out_features,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if not hasattr(x, "shape"):
            hint = (" (modules such as MultiheadAttention and RNN return a tuple (output, ...): unpack it first)"
                    if isinstance(x, tuple) else "")
            raise TypeError(f"Linear(in_features={self.in_features}): input must be a Tensor or an array, "
                            f"got {type(x).__name__}{hint}")
        if x.shape[-1:] != (self.in_features,):
            raise ValueError(
                f"Linear(in_features={self.in_features}): input's last dimension must be "
                f"{self.in_features}, got input shape {x.shape}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv2d(Module):
    """2-D convolution (F3), NCHW.  ``weight (out_channels, in_channels, kH, kW)``.

    Initialised as PyTorch does (uniform in ``±1/sqrt(in_channels*kH*kW)``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, dtype=DEFAULT_DTYPE):
        super().__init__()
        op = "Conv2d"
        self.in_channels = C.positive_int(op, "in_channels", in_channels)
        self.out_channels = C.positive_int(op, "out_channels", out_channels)
        self.kernel_size = C.pair(op, "kernel_size", kernel_size, 1)
        self.stride = C.pair(op, "stride", stride, 1)
        self.dilation = C.pair(op, "dilation", dilation, 1)
        resolved = C.conv_padding(op, padding, self.kernel_size, self.dilation, self.stride)
        self.padding = padding if isinstance(padding, str) else resolved
        self.weight = C.new_parameter(op, (self.out_channels, self.in_channels) + self.kernel_size, dtype)
        self.register_parameter("bias", C.new_parameter(op, (self.out_channels,), dtype) if bias else None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fan_in_and_fan_out(self.weight.shape)
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.ndim in (3, 4) and x.shape[-3] != self.in_channels:
            raise ValueError(
                f"Conv2d(in_channels={self.in_channels}): input has {x.shape[-3]} channels "
                f"(input shape {x.shape}; expected (N, {self.in_channels}, H, W))"
            )
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}"
                + (f", dilation={self.dilation}" if self.dilation != (1, 1) else "")
                + ("" if self.bias is not None else ", bias=False"))


class MaxPool2d(Module):
    """Max pooling (F4); ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        C.pool_geometry("MaxPool2d", kernel_size, stride, padding)  # refuse a bad window now, not at forward
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """Average pooling; ``stride`` defaults to ``kernel_size``."""

    def __init__(self, kernel_size, stride=None, padding=0, count_include_pad=True):
        super().__init__()
        C.pool_geometry("AvgPool2d", kernel_size, stride, padding)  # refuse a bad window now, not at forward
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.count_include_pad = count_include_pad

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding,
                            count_include_pad=self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    """Flatten dimensions ``start_dim..end_dim`` (by default all but the batch, F5)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class GELU(Module):
    """GELU, exact (``approximate="none"``, BERT's) or its tanh approximation (``"tanh"``, GPT-2's)."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in GELU_APPROXIMATIONS:
            raise ValueError(f"GELU: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Softmax(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Dropout(Module):
    """Inverted dropout with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = C.probability("Dropout", "p", p)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Identity(Module):
    def forward(self, x):
        return x
