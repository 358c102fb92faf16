r"""Post-training int8 quantisation of ``Linear`` and ``Conv2d`` layers, in PyTorch's eager-mode steps.

::

    prepared = quantize.prepare(model.eval())     # a copy with an observer on every layer's input
    for xb in calibration_batches:                # a few hundred typical inputs
        prepared(xb)
    model_int8 = quantize.convert(prepared)       # Linear -> QuantizedLinear, Conv2d -> QuantizedConv2d

or in one call, ``quantize.quantize(model, run_fn, run_args)`` (``run_fn(prepared, *run_args)``
does the calibration).

**Weights**: symmetric, one scale per output channel (row of a Linear, filter of a Conv2d),

.. math:: s_j = \max_k |w_{jk}| / 127, \qquad q_{jk} = \mathrm{round}(w_{jk} / s_j) \in [-127, 127]

so every channel uses the whole int8 range whatever its magnitude, and a pruned (zero) weight
stays exactly zero.  **Activations** (each layer's input): one scale and zero point per tensor,
from the smallest and largest value seen during calibration (``MinMaxObserver``).  The layers
then run the integer kernels of ``kernels/*/quantized.py``: integer products summed in int32,
scaled back to float once per output, bias added in float.  Between layers activations are
float: ReLU, pooling and the rest run unchanged.

Storage falls about 4x (one byte per weight instead of four, plus a float per channel); the
error is bounded per layer by half a quantisation step of each factor (see
:class:`QuantizedLinear`).
"""

from __future__ import annotations

import copy

import numpy as np

from ..autograd import Tensor
from ..backend import array_module, kernel
from ..kernels.reference.quantized import INT8_MAX, INT8_MIN, MAX_TERMS
from ..nn import _checks as C
from ..nn.layers import Conv2d, Linear
from ..nn.module import Module

__all__ = ["MinMaxObserver", "QuantizedLinear", "QuantizedConv2d", "quantize_weight_per_channel",
           "prepare", "convert", "quantize"]


class MinMaxObserver(Module):
    r"""Records the range of the tensors passed through it and turns it into int8 parameters:

    .. math:: s = \frac{\max(x_\max, 0) - \min(x_\min, 0)}{255}, \qquad
              z = -128 - \mathrm{round}(\min(x_\min, 0) / s)

    (the range always holds 0.0, so that zero -- padding, a ReLU's output -- is exact).
    """

    def __init__(self):
        super().__init__()
        self.min_val, self.max_val = float("inf"), float("-inf")

    def forward(self, x):
        data = x.data if isinstance(x, Tensor) else x
        if data.size:
            self.min_val = min(self.min_val, float(data.min()))
            self.max_val = max(self.max_val, float(data.max()))
        return x

    def calculate_qparams(self) -> tuple[float, int]:
        """``(scale, zero_point)``; refuses when nothing has been observed."""
        if self.min_val > self.max_val:
            raise RuntimeError("MinMaxObserver: no data observed yet; run calibration inputs through the "
                               "prepared model before convert()")
        lo, hi = min(self.min_val, 0.0), max(self.max_val, 0.0)
        scale = (hi - lo) / (INT8_MAX - INT8_MIN) if hi > lo else 1.0
        zero_point = int(np.clip(INT8_MIN - round(lo / scale), INT8_MIN, INT8_MAX))
        return scale, zero_point

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


def quantize_weight_per_channel(w):
    r"""Symmetric per-output-channel int8 weights: ``(q int8 (same shape), scales float32 (out,))``
    with :math:`q = \mathrm{round}(w / s_j)`, :math:`s_j = \max|w_j| / 127` (1 for an all-zero channel)."""
    xp = array_module(w)
    amax = xp.abs(w).reshape(w.shape[0], -1).max(axis=1)
    scales = xp.where(amax > 0, amax / INT8_MAX, 1.0).astype(xp.float32)
    per_row = scales.reshape((-1,) + (1,) * (w.ndim - 1))
    q = xp.clip(xp.rint(w / per_row), -INT8_MAX, INT8_MAX).astype(xp.int8)
    return q, scales


class _QuantizedLayer(Module):
    """What the two quantised layers share: int8 weight, per-channel scales, float bias, and the
    input's scale and zero point.  Inference only (the output carries no gradient)."""

    def __init__(self, float_layer, input_observer):
        super().__init__()
        q, scales = quantize_weight_per_channel(float_layer.weight.data)
        self.register_buffer("weight", Tensor(q))
        self.register_buffer("weight_scale", Tensor(scales))
        bias = float_layer.bias
        self.register_buffer("bias", None if bias is None else Tensor(bias.data.astype(np.float32)))
        scale, zero_point = input_observer.calculate_qparams()
        self.register_buffer("input_scale", Tensor(np.array(scale, dtype=np.float32)))
        self.register_buffer("input_zero_point", Tensor(np.array(zero_point, dtype=np.int32)))
        self.terms = int(np.prod(q.shape[1:]))
        if self.terms > MAX_TERMS:
            raise ValueError(f"{type(self).__name__}: {self.terms} products per output could overflow int32 "
                             f"(at most {MAX_TERMS})")

    @classmethod
    def from_float(cls, float_layer, input_observer):
        """The quantised twin of ``float_layer``, given the observer of its inputs."""
        return cls(float_layer, input_observer)

    def _scale_back(self, acc, channel_axis):
        """float32 ``s_x * s_j * acc + b_j``."""
        shape = [1] * acc.ndim
        shape[channel_axis] = -1
        y = acc.astype(np.float32) * (self.input_scale.data * self.weight_scale.data.reshape(shape))
        if self.bias is not None:
            y += self.bias.data.reshape(shape)
        return y

    def _quantized_input(self, x):
        name = type(self).__name__
        if self.weight.dtype != np.int8:
            raise TypeError(f"{name}: the weight must stay int8, got {self.weight.dtype} (was the model cast "
                            f"with .to() or .double()?)")
        x = C.tensor(name, "input", x)
        C.require_float(name, "input", x)
        return kernel("quantize_per_tensor")(x.data, self.input_scale.data, self.zero_point)

    @property
    def zero_point(self) -> int:
        """The input's zero point as a Python int."""
        return int(self.input_zero_point.item())

    def extra_repr(self):
        return f"input_scale={self.input_scale.item():.4g}, input_zero_point={self.zero_point}"


class QuantizedLinear(_QuantizedLayer):
    r"""``Linear`` in int8: :math:`y_j = s_x s_j \sum_k (q_{x,k} - z_x) q_{jk} + b_j`.

    Each factor is off by at most half its step, so for an input inside the calibrated range
    :math:`|y_j - y^{float}_j| \le \sum_k \big(|x_k|\, s_j + |\hat w_{jk}|\, s_x\big)/2`.
    """

    def forward(self, x):
        qx = self._quantized_input(x)
        if qx.shape[-1] != self.weight.shape[1]:
            raise ValueError(f"QuantizedLinear: input's last dimension must be {self.weight.shape[1]}, "
                             f"got shape {tuple(qx.shape)}")
        acc = kernel("int8_linear_forward")(qx.reshape(-1, qx.shape[-1]), self.zero_point, self.weight.data)
        return Tensor(self._scale_back(acc, 1).reshape(qx.shape[:-1] + (acc.shape[1],)))


class QuantizedConv2d(_QuantizedLayer):
    r"""``Conv2d`` in int8: the same sum as :class:`QuantizedLinear` over each patch of the input."""

    def __init__(self, float_layer, input_observer):
        super().__init__(float_layer, input_observer)
        self.stride, self.dilation = float_layer.stride, float_layer.dilation
        self.padding = C.conv_padding("QuantizedConv2d", float_layer.padding, float_layer.kernel_size,
                                      float_layer.dilation, float_layer.stride)

    def forward(self, x):
        x4, unbatched = C.batched_images("QuantizedConv2d", C.tensor("QuantizedConv2d", "input", x))
        if x4.shape[1] != self.weight.shape[1]:
            raise ValueError(f"QuantizedConv2d: input has {x4.shape[1]} channels, expected {self.weight.shape[1]}")
        qx = self._quantized_input(x4)
        acc = kernel("int8_conv2d_forward")(qx, self.zero_point, self.weight.data,
                                            self.stride, self.padding, self.dilation)
        y = self._scale_back(acc, 1)
        return Tensor(y[0] if unbatched else y)


_QUANTIZED = {Linear: QuantizedLinear, Conv2d: QuantizedConv2d}


def _observe_input(module, args):
    module.input_observer(args[0])


def prepare(model, inplace=False):
    """A copy of ``model`` (or ``model`` itself) with a :class:`MinMaxObserver` on the input of every
    ``Linear`` and ``Conv2d``; run calibration inputs through it, then :func:`convert`."""
    if not isinstance(model, Module):
        raise TypeError(f"prepare: model must be a tinymed.nn.Module, got {type(model).__name__}")
    model = model if inplace else copy.deepcopy(model)
    for module in model.modules():
        if type(module) in _QUANTIZED and "input_observer" not in module._modules:
            module.input_observer = MinMaxObserver()
            module._observer_handle = module.register_forward_pre_hook(_observe_input)
    return model


def convert(model, inplace=False):
    """Replace every observed ``Linear``/``Conv2d`` of a prepared, calibrated model by its int8 twin."""
    model = model if inplace else copy.deepcopy(model)
    replaced = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in _QUANTIZED and "input_observer" in child._modules:
                child._observer_handle.remove()
                parent.add_module(name, _QUANTIZED[type(child)].from_float(child, child.input_observer))
                replaced += 1
    if replaced == 0:
        raise ValueError("convert: no observed Linear or Conv2d layer found; call prepare(model) and run "
                         "calibration inputs through it first (a bare Linear or Conv2d must sit inside a "
                         "container such as Sequential to be replaced)")
    return model


def quantize(model, run_fn, run_args=(), inplace=False):
    """``prepare`` -> ``run_fn(prepared, *run_args)`` (calibration) -> ``convert``: the int8 model."""
    prepared = prepare(model, inplace=inplace)
    run_fn(prepared, *run_args)
    return convert(prepared, inplace=True)
