r"""``MultiheadAttention`` and ``TransformerEncoderLayer`` spelt out in ONNX operators.

Attention is written with the operators every runtime has (opset 17 has no fused attention):
project with ``MatMul`` + ``Add``, split the heads with ``Reshape [0, 0, h, d]`` and
``Transpose``, then

.. math:: \text{head} = \mathrm{Softmax}\Big(\frac{Q K^\top}{\sqrt d}\Big) V

with ``MatMul``, ``Mul`` and ``Softmax(axis=-1)``, join the heads back and project with
``out_proj``.  Layouts follow the module's ``batch_first``.  Masks are not exported: the
graph computes ``module(query, key, value)`` (and the encoder layer ``layer(src)``) with
none, in eval mode (no dropout).
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Tensor, no_grad
from ..nn import functional as F
from .graph import Graph, Value
from .layers import gelu_nodes, layer_norm_nodes, matmul_add


def split_heads(graph: Graph, x: str, heads: int, head_dim: int, hint: str) -> str:
    """``(N, L, E) -> (N, heads, L, d)``."""
    split = graph.node("Reshape", [x, graph.int64s(f"{hint}.shape", [0, 0, heads, head_dim])], f"{hint}_split")
    return graph.node("Transpose", [split], f"{hint}_heads", perm=[0, 2, 1, 3])


def attend(graph: Graph, q: str, k: str, v: str, head_dim: int, width: int, mask: str | None = None):
    r"""``(context (N, L, E), weights (N, heads, L, S))`` of :math:`\mathrm{softmax}(QK^\top/\sqrt d + M)V`
    for heads ``(N, heads, L, d)``; ``mask`` an additive mask (0 or -inf) broadcasting to the scores."""
    k_t = graph.node("Transpose", [k], "attention.k_t", perm=[0, 1, 3, 2])
    scores = graph.node("Mul", [graph.node("MatMul", [q, k_t], "attention.qk"),
                                graph.constant("attention.scale", 1 / math.sqrt(head_dim))], "attention.scores")
    if mask is not None:
        scores = graph.node("Add", [scores, mask], "attention.masked")
    weights = graph.node("Softmax", [scores], "attention.weights", axis=-1)
    context = graph.node("Transpose", [graph.node("MatMul", [weights, v], "attention.context")],
                         "attention.by_position", perm=[0, 2, 1, 3])
    return graph.node("Reshape", [context, graph.int64s("attention.join", [0, 0, width])], "attention.joined"), weights


def attention_nodes(graph: Graph, module, query: str, key: str, value: str, batch_first: bool):
    """The names of ``(attn_output, attn_weights averaged over heads)`` for inputs in the module's layout."""
    if not batch_first:
        query, key, value = (graph.node("Transpose", [t], "batch_major", perm=[1, 0, 2]) for t in (query, key, value))
    e, w, b = module.embed_dim, module.in_proj_weight, module.in_proj_bias

    def heads(i, t, part):
        projected = matmul_add(graph, t, w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e],
                               f"attention.{part}")
        return split_heads(graph, projected, module.num_heads, module.head_dim, f"attention.{part}")

    q, k, v = (heads(i, t, part) for i, (t, part) in enumerate(((query, "q"), (key, "k"), (value, "v"))))
    joined, weights = attend(graph, q, k, v, module.head_dim, e)
    out = matmul_add(graph, joined, module.out_proj.weight, module.out_proj.bias, "attention.out_proj")
    if not batch_first:
        out = graph.node("Transpose", [out], "sequence_major", perm=[1, 0, 2])
    if graph.opset >= 18:
        averaged = graph.node("ReduceMean", [weights, graph.int64s("attention.head_axis", [1])], "attention.averaged",
                              keepdims=0)
    else:
        averaged = graph.node("ReduceMean", [weights], "attention.averaged", axes=[1], keepdims=0)
    return out, averaged


def multihead_attention(graph: Graph, module, query: Value, key: Value = None, value: Value = None):
    """``(attn_output, attn_weights)`` of ``module(query, key, value)`` (self-attention when only
    the query is given)."""
    key, value = key or query, value or query
    for v in (query, key, value):
        if v.example.ndim != 3:
            raise ValueError(f"to_onnx: MultiheadAttention is exported for batched inputs (3-D); the example "
                             f"input reaches it with shape {v.shape}")
    out, weights = attention_nodes(graph, module, query.name, key.name, value.name, module.batch_first)
    with no_grad():
        expected_out, expected_weights = module(*(Tensor(v.example) for v in (query, key, value)))
    return Value(out, expected_out.numpy(), query.batch_axis), Value(weights, expected_weights.numpy(), 0)


def _activation(graph: Graph, layer, x: str) -> str:
    if layer.activation is F.relu:
        return graph.node("Relu", [x], "encoder.relu")
    if layer.activation is F.gelu:
        return gelu_nodes(graph, x, "none")
    raise ValueError(f"to_onnx: TransformerEncoderLayer's activation {getattr(layer.activation, '__name__', '?')} "
                     "cannot be exported; use 'relu' or tinymed.nn.functional.gelu")


def transformer_encoder_layer(graph: Graph, layer, src: Value) -> Value:
    """Post-norm ``norm2(h + ff(h))`` with ``h = norm1(x + attention(x))``, or pre-norm
    ``h + ff(norm2(h))`` with ``h = x + attention(norm1(x))``."""
    if src.example.ndim != 3:
        raise ValueError(f"to_onnx: TransformerEncoderLayer is exported for batched inputs (3-D); the example "
                         f"input reaches it with shape {src.shape}")
    batch_first = layer.self_attn.batch_first

    def attention(x):
        return attention_nodes(graph, layer.self_attn, x, x, x, batch_first)[0]

    def feed_forward(x):
        hidden = _activation(graph, layer, matmul_add(graph, x, layer.linear1.weight, layer.linear1.bias,
                                                      "encoder.linear1"))
        return matmul_add(graph, hidden, layer.linear2.weight, layer.linear2.bias, "encoder.linear2")

    x = src.name
    if layer.norm_first:
        h = graph.node("Add", [x, attention(layer_norm_nodes(graph, x, layer.norm1))], "encoder.residual1")
        y = graph.node("Add", [h, feed_forward(layer_norm_nodes(graph, h, layer.norm2))], "encoder.residual2")
    else:
        h = layer_norm_nodes(graph, graph.node("Add", [x, attention(x)], "encoder.residual1"), layer.norm1)
        y = layer_norm_nodes(graph, graph.node("Add", [h, feed_forward(h)], "encoder.residual2"), layer.norm2)
    with no_grad():
        expected = layer(Tensor(src.example)).numpy()
    return Value(y, np.asarray(expected), src.batch_axis)
