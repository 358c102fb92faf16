r"""Each feed-forward layer as the ONNX operators that compute the same thing.

==================  ====================================================================
tinymed             ONNX
==================  ====================================================================
``Linear``          ``MatMul(x, W^T)`` then ``Add(b)`` (any number of leading axes)
``Conv2d``          ``Conv`` (weights ``(out, in, kH, kW)`` as they are; pads top, left,
                    bottom, right)
``MaxPool2d``       ``MaxPool``; ``AvgPool2d``: ``AveragePool`` (``count_include_pad``)
activations         ``Relu``, ``Sigmoid``, ``Tanh``, ``Softmax(axis)``; ``GELU`` from
                    ``Erf`` (exact) or ``Tanh`` (its approximation), as in the formula
``Flatten``         ``Reshape`` to ``[0, .., 0, -1, trailing sizes]`` (0 keeps an axis,
                    -1 takes the rest: the batch stays free)
``Dropout``         ``Identity``: exported models are for inference (eval mode)
``LayerNorm``       ``LayerNormalization`` (opset 17 on)
``Embedding``       ``Gather(weight, indices)``
==================  ====================================================================
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor, no_grad
from ..nn import _checks as C
from .graph import Graph, Value


def run(module, *values: Value) -> np.ndarray:
    """What ``module`` gives for the example inputs: the converted nodes must give the same."""
    with no_grad():
        out = module(*(Tensor(v.example) for v in values))
    return out.numpy()


def linear(graph: Graph, module, x: Value) -> Value:
    return Value(matmul_add(graph, x.name, module.weight, module.bias, "linear"), run(module, x), x.batch_axis)


def matmul_add(graph: Graph, x: str, weight, bias, hint: str) -> str:
    """``x W^T + b`` for a Linear's weight ``(out, in)``."""
    return dense(graph, x, weight.numpy().T, None if bias is None else bias.numpy(), hint)


def dense(graph: Graph, x: str, weight_in_out: np.ndarray, bias, hint: str) -> str:
    """``x W + b`` for a weight stored ``(in, out)``: MatMul broadcasts over the leading axes."""
    y = graph.node("MatMul", [x, graph.constant(f"{hint}.weight", weight_in_out)], hint)
    if bias is None:
        return y
    return graph.node("Add", [y, graph.constant(f"{hint}.bias", bias)], f"{hint}_biased")


def conv2d(graph: Graph, module, x: Value) -> Value:
    _images("Conv2d", x)
    ph, pw = C.conv_padding("Conv2d", module.padding, module.kernel_size, module.dilation, module.stride)
    inputs = [x.name, graph.constant("conv.weight", module.weight.numpy())]
    if module.bias is not None:
        inputs.append(graph.constant("conv.bias", module.bias.numpy()))
    y = graph.node("Conv", inputs, "conv", kernel_shape=list(module.kernel_size), strides=list(module.stride),
                   pads=[ph, pw, ph, pw], dilations=list(module.dilation))
    return Value(y, run(module, x), x.batch_axis)


def _pool(op_type: str, layer: str, graph: Graph, module, x: Value, **attributes) -> Value:
    _images(layer, x)
    kernel, stride, (ph, pw) = C.pool_geometry(layer, module.kernel_size, module.stride, module.padding)
    y = graph.node(op_type, [x.name], op_type.lower(), kernel_shape=list(kernel), strides=list(stride),
                   pads=[ph, pw, ph, pw], **attributes)
    return Value(y, run(module, x), x.batch_axis)


def max_pool2d(graph: Graph, module, x: Value) -> Value:
    return _pool("MaxPool", "MaxPool2d", graph, module, x)


def avg_pool2d(graph: Graph, module, x: Value) -> Value:
    return _pool("AveragePool", "AvgPool2d", graph, module, x, count_include_pad=int(module.count_include_pad))


def _images(layer: str, x: Value) -> None:
    if x.example.ndim != 4:
        raise ValueError(f"to_onnx: {layer} is exported for batched images (N, C, H, W); the example input "
                         f"reaches it with shape {x.shape}")


def elementwise(op_type: str):
    """A converter for an activation that is one ONNX operator of the same name."""
    def convert(graph: Graph, module, x: Value) -> Value:
        return Value(graph.node(op_type, [x.name], op_type.lower()), run(module, x), x.batch_axis)
    return convert


def softmax(graph: Graph, module, x: Value) -> Value:
    return Value(graph.node("Softmax", [x.name], "softmax", axis=int(module.dim)), run(module, x), x.batch_axis)


def gelu(graph: Graph, module, x: Value) -> Value:
    return Value(gelu_nodes(graph, x.name, module.approximate), run(module, x), x.batch_axis)


def gelu_nodes(graph: Graph, x: str, approximate: str) -> str:
    r""":math:`\tfrac12 x (1 + \operatorname{erf}(x/\sqrt2))`, or with ``"tanh"``
    :math:`\tfrac12 x (1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715 x^3)))`."""
    if approximate == "tanh":
        cube = graph.node("Mul", [graph.node("Mul", [x, x], "gelu_sq"), x], "gelu_cube")
        inner = graph.node("Add", [x, graph.node("Mul", [cube, graph.constant("gelu.c", 0.044715)], "gelu_c3")],
                           "gelu_inner")
        curve = graph.node("Tanh", [graph.node("Mul", [inner, graph.constant("gelu.k", math.sqrt(2 / math.pi))],
                                               "gelu_scaled")], "gelu_tanh")
    else:
        curve = graph.node("Erf", [graph.node("Mul", [x, graph.constant("gelu.r", 1 / math.sqrt(2))], "gelu_scaled")],
                           "gelu_erf")
    one_plus = graph.node("Add", [curve, graph.constant("gelu.one", 1.0)], "gelu_1p")
    return graph.node("Mul", [graph.node("Mul", [x, one_plus], "gelu_x"), graph.constant("gelu.half", 0.5)], "gelu")


def flatten(graph: Graph, module, x: Value) -> Value:
    ndim = x.example.ndim
    start, end = module.start_dim % ndim, module.end_dim % ndim
    if x.batch_axis is not None and x.batch_axis > end:
        raise ValueError(f"to_onnx: Flatten(start_dim={module.start_dim}, end_dim={module.end_dim}) would leave the "
                         f"batch axis {x.batch_axis} behind the flattened axes; only axes up to it can be exported")
    shape = [0] * start + [-1] + list(x.shape[end + 1:])
    y = graph.node("Reshape", [x.name, graph.int64s("flatten.shape", shape)], "flatten")
    batch_axis = None if x.batch_axis is None else min(x.batch_axis, start)
    return Value(y, run(module, x), batch_axis)


def identity(graph: Graph, module, x: Value) -> Value:
    return Value(graph.node("Identity", [x.name], "identity"), x.example, x.batch_axis)


def layer_norm(graph: Graph, module, x: Value) -> Value:
    y = layer_norm_nodes(graph, x.name, module)
    return Value(y, run(module, x), x.batch_axis)


def layer_norm_nodes(graph: Graph, x: str, module) -> str:
    if graph.opset < 17:
        raise ValueError(f"to_onnx: LayerNorm is ONNX's LayerNormalization, which needs opset >= 17 "
                         f"(asked for {graph.opset})")
    shape = module.normalized_shape
    scale = np.ones(shape) if module.weight is None else module.weight.numpy()
    inputs = [x, graph.constant("layer_norm.weight", scale)]
    if module.bias is not None:
        inputs.append(graph.constant("layer_norm.bias", module.bias.numpy()))
    return graph.node("LayerNormalization", inputs, "layer_norm", axis=-len(shape), epsilon=float(module.eps))


def embedding(graph: Graph, module, x: Value) -> Value:
    if x.example.dtype.kind not in "iu":
        raise TypeError(f"to_onnx: Embedding looks up integer token ids; the example input reaches it with dtype "
                        f"{x.example.dtype}")
    indices = x.name if x.example.dtype == np.int64 else graph.node("Cast", [x.name], "ids", to=7)  # 7: INT64
    y = graph.node("Gather", [graph.constant("embedding.weight", module.weight.numpy()), indices], "embedding")
    return Value(y, run(module, x), x.batch_axis)
