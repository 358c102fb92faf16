r"""tinymed.models' ``GPT`` and ``BERT`` (and BERT's heads) as ONNX graphs of token ids.

Each block is the layers of ``layers.py`` and the attention of ``attention.py`` wired as the
model's ``forward`` wires them; the sequence length is the example's (the positions are a
constant ``0..T-1``), the batch is free.

- **GPT**: ``wte[ids] + wpe[0..T-1]``; per block ``x + attn(ln_1(x))`` then ``x + mlp(ln_2(x))``,
  the attention causal (an additive mask, :math:`-\infty` above the diagonal), the MLP's GELU in
  its tanh form; ``ln_f``; logits by the tied embedding, ``h W_{te}^\top``.  ``Conv1D`` stores its
  weight (in, out), so it is a ``MatMul`` by the weight as it is.
- **BERT**: ``LayerNorm(word[ids] + position[0..T-1] + token_type[0])``; per layer the post-norm
  attention and feed-forward sums; the pooler :math:`\tanh(h_{[CLS]} W + b)`.  With an
  ``attention_mask`` input (1 = token, 0 = padding) the padding keys get :math:`-\infty`
  (``Where``).  Segments are all 0 (one-sentence inputs).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, no_grad
from ..models import BERT, GPT, BertForMaskedLM, BertForSequenceClassification, GPT2Model
from .attention import attend, split_heads
from .graph import Graph, Value
from .layers import dense, gelu_nodes, layer_norm_nodes, matmul_add


def _ids(model_name: str, ids: Value) -> int:
    if ids.example.ndim != 2 or ids.example.dtype.kind not in "iu":
        raise ValueError(f"to_onnx: {model_name} is exported for token ids (batch, length) of integers; got "
                         f"{ids.example.dtype} {ids.shape}")
    return ids.shape[1]


def _positions(graph: Graph, table, length: int, hint: str) -> str:
    """Rows ``0..length-1`` of a position table, a constant: the length is the example's."""
    return graph.constant(hint, table.numpy()[:length])


def _conv1d(graph: Graph, x: str, layer, hint: str, columns=slice(None)) -> str:
    return dense(graph, x, layer.weight.numpy()[:, columns], layer.bias.numpy()[columns], hint)


def _gpt_hidden(graph: Graph, transformer, ids: Value) -> str:
    length = _ids("GPT", ids)
    config = transformer.config
    x = graph.node("Add", [graph.node("Gather", [graph.constant("wte", transformer.wte.weight.numpy()), ids.name],
                                      "token_embedding"),
                           _positions(graph, transformer.wpe.weight, length, "wpe")], "embedding")
    causal = np.where(np.tril(np.ones((length, length), dtype=bool)), 0.0, -np.inf)
    mask = graph.constant("causal_mask", causal)
    e, heads = config.n_embd, config.n_head
    for block in transformer.h:
        attn = block.attn
        normed = layer_norm_nodes(graph, x, block.ln_1)
        q, k, v = (split_heads(graph, _conv1d(graph, normed, attn.c_attn, f"attn.{part}", slice(i * e, (i + 1) * e)),
                               heads, e // heads, f"attn.{part}") for i, part in enumerate("qkv"))
        joined, _ = attend(graph, q, k, v, e // heads, e, mask)
        x = graph.node("Add", [x, _conv1d(graph, joined, attn.c_proj, "attn.c_proj")], "residual")
        hidden = gelu_nodes(graph, _conv1d(graph, layer_norm_nodes(graph, x, block.ln_2), block.mlp.c_fc, "mlp.c_fc"),
                            "tanh")
        x = graph.node("Add", [x, _conv1d(graph, hidden, block.mlp.c_proj, "mlp.c_proj")], "residual")
    return layer_norm_nodes(graph, x, transformer.ln_f)


def _run(module, *values):
    with no_grad():
        return module(*(Tensor(v.example) if v.example.dtype.kind == "f" else v.example for v in values))


def gpt2_model(graph: Graph, module, ids: Value) -> Value:
    return Value(_gpt_hidden(graph, module, ids), _run(module, ids).numpy(), ids.batch_axis)


def gpt(graph: Graph, module, ids: Value) -> Value:
    logits = matmul_add(graph, _gpt_hidden(graph, module.transformer, ids), module.lm_head.weight, None, "lm_head")
    return Value(logits, _run(module, ids).numpy(), ids.batch_axis)


def _bert_nodes(graph: Graph, bert, ids: Value, attention_mask: Value | None):
    """The names of ``(last_hidden_state, pooler_output or None)``."""
    length = _ids(type(bert).__name__, ids)
    config, embeddings = bert.config, bert.embeddings
    words = graph.node("Gather", [graph.constant("word_embeddings", embeddings.word_embeddings.weight.numpy()),
                                  ids.name], "word_embedding")
    constant_rows = (embeddings.position_embeddings.weight.numpy()[:length]
                     + embeddings.token_type_embeddings.weight.numpy()[0])  # positions, and segment 0 everywhere
    x = layer_norm_nodes(graph, graph.node("Add", [words, graph.constant("positions_and_segment", constant_rows)],
                                           "embedding"), embeddings.LayerNorm)
    mask = None
    if attention_mask is not None:
        keep = graph.node("Cast", [attention_mask.name], "keep", to=9)  # 9: BOOL
        keep = graph.node("Unsqueeze", [keep, graph.int64s("mask.axes", [1, 2])], "keep_b11t")
        mask = graph.node("Where", [keep, graph.constant("zero", 0.0), graph.constant("minus_inf", -np.inf)], "mask")
    for layer in bert.encoder.layer:
        x = _bert_layer(graph, layer, x, mask, config.num_attention_heads)
    if bert.pooler is None:
        return x, None
    first = graph.node("Gather", [x, graph.constant("first_position", np.array(0), dtype=np.int64)], "cls", axis=1)
    pooled = graph.node("Tanh", [matmul_add(graph, first, bert.pooler.dense.weight, bert.pooler.dense.bias, "pooler")],
                        "pooled")
    return x, pooled


def _bert_layer(graph: Graph, layer, x: str, mask: str | None, heads: int) -> str:
    """``h = LN(a + ff(a))`` with ``a = LN(x + attention(x))``, BERT's post-norm layer."""
    attention, width = layer.attention.self, layer.attention.self.num_heads * layer.attention.self.head_dim
    q, k, v = (split_heads(graph, matmul_add(graph, x, lin.weight, lin.bias, f"attention.{part}"), heads,
                           width // heads, f"attention.{part}")
               for lin, part in ((attention.query, "q"), (attention.key, "k"), (attention.value, "v")))
    joined, _ = attend(graph, q, k, v, width // heads, width, mask)

    def residual_norm(inner: str, previous: str, block, hint: str) -> str:
        projected = matmul_add(graph, inner, block.dense.weight, block.dense.bias, hint)
        return layer_norm_nodes(graph, graph.node("Add", [previous, projected], "residual"), block.LayerNorm)

    a = residual_norm(joined, x, layer.attention.output, "attention.out")
    intermediate = layer.intermediate
    hidden = gelu_nodes(graph, matmul_add(graph, a, intermediate.dense.weight, intermediate.dense.bias,
                                          "intermediate"), intermediate.approximate)
    return residual_norm(hidden, a, layer.output, "feed_forward.out")


def bert(graph: Graph, module, ids: Value, attention_mask: Value = None):
    hidden, pooled = _bert_nodes(graph, module, ids, attention_mask)
    expected = _run(module, *[v for v in (ids, attention_mask) if v is not None])
    result = Value(hidden, expected[0].numpy(), ids.batch_axis)
    return result if pooled is None else (result, Value(pooled, expected[1].numpy(), ids.batch_axis))


def bert_for_sequence_classification(graph: Graph, module, ids: Value, attention_mask: Value = None) -> Value:
    _, pooled = _bert_nodes(graph, module.bert, ids, attention_mask)
    logits = matmul_add(graph, pooled, module.classifier.weight, module.classifier.bias, "classifier")
    expected = _run(module, *[v for v in (ids, attention_mask) if v is not None])
    return Value(logits, expected.numpy(), ids.batch_axis)


def bert_for_masked_lm(graph: Graph, module, ids: Value, attention_mask: Value = None) -> Value:
    hidden, _ = _bert_nodes(graph, module.bert, ids, attention_mask)
    head = module.cls.predictions
    transform = head.transform
    x = gelu_nodes(graph, matmul_add(graph, hidden, transform.dense.weight, transform.dense.bias, "transform"),
                   transform.approximate)
    x = layer_norm_nodes(graph, x, transform.LayerNorm)
    logits = matmul_add(graph, x, head.decoder.weight, head.bias, "decoder")
    expected = _run(module, *[v for v in (ids, attention_mask) if v is not None])
    return Value(logits, expected.numpy(), ids.batch_axis)


CONVERTERS = {GPT: gpt, GPT2Model: gpt2_model, BERT: bert,
              BertForSequenceClassification: bert_for_sequence_classification, BertForMaskedLM: bert_for_masked_lm}
