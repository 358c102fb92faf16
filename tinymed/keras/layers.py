"""Keras's layers: ``Dense``, ``Conv2D``, ``MaxPooling2D``, ``AveragePooling2D``, ``Flatten``,
``Dropout``, ``Activation`` -- as ``tf.keras.layers`` names and arguments them.

They let the articles' Keras code run with its structure unchanged::

    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1)))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(10, activation="softmax"))

They are ``tinymed.nn`` Modules that call the same ``nn.functional`` ops and share its argument
checks; two things differ from tinymed's PyTorch-style layers, as they do in Keras:

* **Sizes are inferred.** ``Dense(units)`` needs no input size: its weights are made on the
  first call (or by ``compile`` when the first layer has ``input_shape``).
* **Images are channels-last** ``(N, H, W, C)``.  The kernels are NCHW, so the image layers
  convert at their boundary: ``(N, H, W, C) -> (N, C, H, W)``, the op, and back.  Data, shapes
  and ``Flatten`` order are therefore exactly Keras's.  ``data_format="channels_first"``
  skips the conversion.

Weights keep PyTorch's layout and names (``weight (out, in)``, conv ``weight (K, C, kh, kw)``,
``bias``) so state dicts look like every other tinymed model's; Keras's default initialisers
are used (``glorot_uniform`` kernels, zero biases).
"""

from __future__ import annotations

from ..autograd import DEFAULT_DTYPE
from ..nn import _checks as C
from ..nn import functional as F
from ..nn import init
from ..nn.layers import Dropout as _TorchDropout
from ..nn.layers import Flatten as _TorchFlatten
from ..nn.module import Module

__all__ = ["Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Flatten", "Dropout", "Activation"]

_ACTIVATIONS = {
    None: None, "linear": None, "relu": F.relu, "sigmoid": F.sigmoid, "tanh": F.tanh,
    "softmax": lambda x: F.softmax(x, dim=-1),
}
_INITIALIZERS = {
    "glorot_uniform": init.glorot_uniform_, "glorot_normal": init.glorot_normal_,
    "he_uniform": init.he_uniform_, "he_normal": init.he_normal_,
    "zeros": init.zeros_, "ones": init.ones_,
}


def _activation(layer, name):
    key = name.lower() if isinstance(name, str) else name
    if key in _ACTIVATIONS:
        return _ACTIVATIONS[key]
    if callable(name):
        return name
    raise ValueError(f"{layer}: unknown activation {name!r}; expected one of "
                     f"{sorted(k for k in _ACTIVATIONS if k)} or a callable")


def _initializer(layer, name):
    if callable(name):
        return name
    if name not in _INITIALIZERS:
        raise ValueError(f"{layer}: unknown initializer {name!r}; expected one of {sorted(_INITIALIZERS)}")
    return _INITIALIZERS[name]


def _data_format(layer, value):
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{layer}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value


class _KerasLayer(Module):
    """Common parts: the optional ``input_shape`` (without the batch axis) and lazy building."""

    def __init__(self, input_shape=None):
        super().__init__()
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)
        self.built = False

    def build(self, input_shape):
        """Make the weights for inputs of ``input_shape`` (without the batch axis)."""
        self.built = True

    def __call__(self, x):
        if not self.built:
            self.build(tuple(x.shape[1:]))
        return super().__call__(x)


class Dense(_KerasLayer):
    """``Dense(units, activation=None, use_bias=True, input_shape=None)``: F1, ``act(x W^T + b)``."""

    def __init__(self, units, activation=None, use_bias=True, input_shape=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", input_dim=None,
                 dtype=DEFAULT_DTYPE):
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        super().__init__(input_shape)
        self.units = C.positive_int("Dense", "units", units)
        self.use_bias, self.dtype = bool(use_bias), dtype
        self.activation_name = activation if isinstance(activation, str) or activation is None else "custom"
        self.activation = _activation("Dense", activation)
        self.kernel_initializer = _initializer("Dense", kernel_initializer)
        self.bias_initializer = _initializer("Dense", bias_initializer)
        if self.input_shape is not None:
            self.build(self.input_shape)

    def build(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"Dense: needs inputs with a feature axis, got per-sample shape {input_shape}")
        self.in_features = int(input_shape[-1])
        self.weight = C.new_parameter("Dense", (self.units, self.in_features), self.dtype)
        self.kernel_initializer(self.weight)
        if self.use_bias:
            self.bias = C.new_parameter("Dense", (self.units,), self.dtype)
            self.bias_initializer(self.bias)
        else:
            self.register_parameter("bias", None)
        super().build(input_shape)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Dense: expected inputs with {self.in_features} features (last axis), "
                             f"got shape {x.shape}")
        y = F.linear(x, self.weight, self.bias)
        return y if self.activation is None else self.activation(y)

    def extra_repr(self):
        size = self.in_features if self.built else "?"
        return f"{size} -> {self.units}, activation={self.activation_name!r}"


class Conv2D(_KerasLayer):
    """``Conv2D(filters, kernel_size, strides=1, padding="valid", activation=None, input_shape=(H, W, C))``.

    Channels-last in and out (see the module docstring).  ``padding="same"`` keeps the size
    for stride 1, as in Keras.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", activation=None,
                 use_bias=True, input_shape=None, data_format="channels_last", dilation_rate=(1, 1),
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", dtype=DEFAULT_DTYPE):
        super().__init__(input_shape)
        self.filters = C.positive_int("Conv2D", "filters", filters)
        self.kernel_size = C.pair("Conv2D", "kernel_size", kernel_size, 1)
        self.strides = C.pair("Conv2D", "strides", strides, 1)
        self.dilation_rate = C.pair("Conv2D", "dilation_rate", dilation_rate, 1)
        if padding not in ("valid", "same"):
            raise ValueError(f"Conv2D: padding must be 'valid' or 'same', got {padding!r}")
        if padding == "same" and self.strides != (1, 1):
            raise ValueError("Conv2D: padding='same' is supported with strides 1 only "
                             f"(Keras pads unevenly for strides {self.strides}); use 'valid'")
        C.conv_padding("Conv2D", padding, self.kernel_size, self.dilation_rate, self.strides)
        self.padding, self.use_bias, self.dtype = padding, bool(use_bias), dtype
        self.data_format = _data_format("Conv2D", data_format)
        self.activation_name = activation if isinstance(activation, str) or activation is None else "custom"
        self.activation = _activation("Conv2D", activation)
        self.kernel_initializer = _initializer("Conv2D", kernel_initializer)
        self.bias_initializer = _initializer("Conv2D", bias_initializer)
        if self.input_shape is not None:
            self.build(self.input_shape)

    def _channels(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"Conv2D: expected images (H, W, C) per sample, got per-sample shape {input_shape}")
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[0]

    def build(self, input_shape):
        self.in_channels = int(self._channels(input_shape))
        kh, kw = self.kernel_size
        self.weight = C.new_parameter("Conv2D", (self.filters, self.in_channels, kh, kw), self.dtype)
        self.kernel_initializer(self.weight)
        if self.use_bias:
            self.bias = C.new_parameter("Conv2D", (self.filters,), self.dtype)
            self.bias_initializer(self.bias)
        else:
            self.register_parameter("bias", None)
        super().build(input_shape)

    def forward(self, x):
        if x.ndim != 4 or self._channels(x.shape[1:]) != self.in_channels:
            layout = "(N, H, W, C)" if self.data_format == "channels_last" else "(N, C, H, W)"
            raise ValueError(f"Conv2D: expected images {layout} with C={self.in_channels}, got shape {x.shape}")
        last = self.data_format == "channels_last"
        if last:
            x = x.permute(0, 3, 1, 2)
        y = F.conv2d(x, self.weight, self.bias, stride=self.strides, dilation=self.dilation_rate,
                     padding=self.padding)
        if last:
            y = y.permute(0, 2, 3, 1)
        return y if self.activation is None else self.activation(y)

    def extra_repr(self):
        size = self.in_channels if self.built else "?"
        return (f"{size} -> {self.filters}, kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, activation={self.activation_name!r}")


class _Pooling2D(_KerasLayer):
    op = None

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format="channels_last",
                 input_shape=None):
        super().__init__(input_shape)
        name = type(self).__name__
        self.pool_size = C.pair(name, "pool_size", pool_size, 1)
        self.strides = self.pool_size if strides is None else C.pair(name, "strides", strides, 1)
        if padding != "valid":
            raise ValueError(f"{name}: only padding='valid' is supported, got {padding!r}")
        self.padding = padding
        self.data_format = _data_format(name, data_format)
        self.built = True

    def forward(self, x):
        if x.ndim != 4:
            raise ValueError(f"{type(self).__name__}: expected images (N, H, W, C), got shape {x.shape}")
        last = self.data_format == "channels_last"
        if last:
            x = x.permute(0, 3, 1, 2)
        y = type(self).op(x, self.pool_size, self.strides)
        return y.permute(0, 2, 3, 1) if last else y

    def extra_repr(self):
        return f"pool_size={self.pool_size}, strides={self.strides}"


class MaxPooling2D(_Pooling2D):
    """``MaxPooling2D(pool_size=(2, 2), strides=None)``: F4, the maximum of each window."""

    op = staticmethod(F.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """``AveragePooling2D(pool_size=(2, 2), strides=None)``: the mean of each window."""

    op = staticmethod(F.avg_pool2d)


class Flatten(_TorchFlatten):
    """``Flatten()``: each sample to one vector (F5), in the channels-last order Keras uses."""

    def __init__(self, data_format=None, input_shape=None):
        super().__init__(start_dim=1)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"Flatten: only data_format='channels_last' is supported, got {data_format!r}")
        self.input_shape = None if input_shape is None else tuple(int(s) for s in input_shape)


class Dropout(_TorchDropout):
    """``Dropout(rate)``: during ``fit`` zero each input with probability ``rate`` and scale the
    rest by ``1/(1-rate)``; the identity in ``evaluate`` and ``predict``."""

    def __init__(self, rate, noise_shape=None, seed=None):
        if noise_shape is not None or seed is not None:
            raise ValueError("Dropout: noise_shape and seed are not supported (seed with tinymed.manual_seed)")
        super().__init__(p=rate)
        self.rate = rate


class Activation(Module):
    """``Activation("relu")``: an activation as a layer."""

    def __init__(self, activation):
        super().__init__()
        self.name = activation
        self.fn = _activation("Activation", activation)

    def forward(self, x):
        return x if self.fn is None else self.fn(x)

    def extra_repr(self):
        return repr(self.name)
