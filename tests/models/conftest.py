"""PyTorch twins of the models, written as functions of a state dict, and what the model tests share.

Each twin computes, with ``torch.nn.functional`` on the tensors of a state dict under Hugging Face's
names, the same network as the tinymed model: what a test compares the logits, the loss and every
parameter's gradient against.  They need only torch (``transformers`` is checked separately, in
``test_transformers.py``).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from tests.helpers import torch
from tinymed import Tensor, backend
from tinymed.models import BertConfig, GPTConfig

RELATIVE = 1e-9
"""float64: tinymed's logits, loss and each gradient may differ from PyTorch's by 1e-9 of the largest
element of the array compared (the same sums, added in another order)."""


def assert_close(ours, theirs, what):
    """``ours`` (a Tensor or an array) within ``RELATIVE`` of the torch tensor ``theirs``, relative to its scale."""
    ours = np.asarray(backend.to_numpy(ours.data if isinstance(ours, Tensor) else ours))
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, (what, ours.shape, theirs.shape)
    # below a scale of 1e-3 the bound is absolute, 1e-12: a gradient that is 0 in exact arithmetic
    # (a layer norm over one feature) comes out as rounding noise of either sign in both libraries
    scale = max(np.abs(theirs).max(initial=0.0), 1e-3)
    error = np.abs(ours - theirs).max(initial=0.0) / scale
    assert error <= RELATIVE, f"{what}: relative error {error:.2e} > {RELATIVE:.0e} (scale {scale:.2e})"


def torch_weights(state):
    """A tinymed state dict as float64 torch leaves that require a gradient.  The twins read a tied
    weight under its first name (``transformer.wte.weight``), so its gradient collects both uses."""
    return {key: torch.tensor(np.asarray(value, dtype=np.float64), requires_grad=True) for key, value in state.items()}


def _attention(q, k, v, mask):
    """softmax(q k^T / sqrt(d) + mask) v, written out; mask additive (broadcast) or None."""
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    return torch.softmax(scores, dim=-1) @ v


def _heads(t, n_head):
    b, length, e = t.shape
    return t.view(b, length, n_head, e // n_head).transpose(1, 2)


def _joined(t):
    b, h, length, d = t.shape
    return t.transpose(1, 2).reshape(b, length, h * d)


def gpt_twin(w, ids, labels, config: GPTConfig):
    """GPT-2's forward with the weights ``w``: ``(logits, loss)`` (loss None without labels)."""
    fn = torch.nn.functional
    ids = torch.as_tensor(ids)
    _, length = ids.shape
    e, eps = config.n_embd, config.layer_norm_epsilon
    x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:length]
    causal = torch.full((length, length), -math.inf, dtype=torch.float64).triu(1)
    for i in range(config.n_layer):
        p = f"transformer.h.{i}."
        h = fn.layer_norm(x, (e,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
        qkv = h @ w[p + "attn.c_attn.weight"] + w[p + "attn.c_attn.bias"]
        q, k, v = (_heads(t, config.n_head) for t in qkv.split(e, dim=2))
        x = x + _joined(_attention(q, k, v, causal)) @ w[p + "attn.c_proj.weight"] + w[p + "attn.c_proj.bias"]
        h = fn.layer_norm(x, (e,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
        inner = fn.gelu(h @ w[p + "mlp.c_fc.weight"] + w[p + "mlp.c_fc.bias"], approximate="tanh")
        x = x + inner @ w[p + "mlp.c_proj.weight"] + w[p + "mlp.c_proj.bias"]
    x = fn.layer_norm(x, (e,), w["transformer.ln_f.weight"], w["transformer.ln_f.bias"], eps)
    logits = x @ w["transformer.wte.weight"].T
    if labels is None:
        return logits, None
    labels = torch.as_tensor(labels)
    loss = fn.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=-100)
    return logits, loss


def bert_twin(w, ids, attention_mask, token_type_ids, config: BertConfig):
    """BERT's encoder with the weights ``w`` (keys ``bert.*``): the last hidden states (B, T, H)."""
    fn = torch.nn.functional
    ids = torch.as_tensor(ids)
    h, eps = config.hidden_size, config.layer_norm_eps
    act = "tanh" if config.hidden_act != "gelu" else "none"
    segments = torch.zeros_like(ids) if token_type_ids is None else torch.as_tensor(token_type_ids)
    e = "bert.embeddings."
    words = fn.embedding(ids, w[e + "word_embeddings.weight"], padding_idx=config.pad_token_id)  # no gradient to [PAD]
    x = words + w[e + "position_embeddings.weight"][:ids.shape[1]]
    x = fn.layer_norm(x + w[e + "token_type_embeddings.weight"][segments], (h,), w[e + "LayerNorm.weight"],
                      w[e + "LayerNorm.bias"], eps)
    mask = None
    if attention_mask is not None:
        padding = torch.as_tensor(np.asarray(attention_mask) == 0)[:, None, None, :]
        mask = torch.zeros(padding.shape, dtype=torch.float64).masked_fill(padding, -math.inf)
    for i in range(config.num_hidden_layers):
        p = f"bert.encoder.layer.{i}."

        def dense(t, name, p=p):
            return fn.linear(t, w[p + name + ".weight"], w[p + name + ".bias"])

        q, k, v = (_heads(dense(x, f"attention.self.{n}"), config.num_attention_heads)
                   for n in ("query", "key", "value"))
        attended = dense(_joined(_attention(q, k, v, mask)), "attention.output.dense")
        x = fn.layer_norm(x + attended, (h,), w[p + "attention.output.LayerNorm.weight"],
                          w[p + "attention.output.LayerNorm.bias"], eps)
        inner = fn.gelu(dense(x, "intermediate.dense"), approximate=act)
        x = fn.layer_norm(x + dense(inner, "output.dense"), (h,), w[p + "output.LayerNorm.weight"],
                          w[p + "output.LayerNorm.bias"], eps)
    return x


def bert_mlm_twin(w, ids, attention_mask, token_type_ids, labels, config: BertConfig):
    """BertForMaskedLM's ``(logits, loss)``."""
    fn = torch.nn.functional
    x = bert_twin(w, ids, attention_mask, token_type_ids, config)
    act = "tanh" if config.hidden_act != "gelu" else "none"
    t = "cls.predictions.transform."
    x = fn.gelu(fn.linear(x, w[t + "dense.weight"], w[t + "dense.bias"]), approximate=act)
    x = fn.layer_norm(x, (config.hidden_size,), w[t + "LayerNorm.weight"], w[t + "LayerNorm.bias"],
                      config.layer_norm_eps)
    logits = x @ w["bert.embeddings.word_embeddings.weight"].T + w["cls.predictions.bias"]
    if labels is None:
        return logits, None
    labels = torch.as_tensor(labels).reshape(-1)
    return logits, fn.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels, ignore_index=-100)


def bert_classifier_twin(w, ids, attention_mask, token_type_ids, labels, config: BertConfig):
    """BertForSequenceClassification's ``(logits, loss)`` (eval mode: no dropout)."""
    fn = torch.nn.functional
    x = bert_twin(w, ids, attention_mask, token_type_ids, config)
    pooled = torch.tanh(fn.linear(x[:, 0], w["bert.pooler.dense.weight"], w["bert.pooler.dense.bias"]))
    logits = fn.linear(pooled, w["classifier.weight"], w["classifier.bias"])
    if labels is None:
        return logits, None
    return logits, fn.cross_entropy(logits, torch.as_tensor(labels))


@pytest.fixture
def twins():
    """The PyTorch twins, by name (skips the test without PyTorch)."""
    pytest.importorskip("torch", reason="PyTorch is not installed (pip install 'tinymed[torch]')")
    return SimpleNamespace(weights=torch_weights, gpt=gpt_twin, bert_mlm=bert_mlm_twin,
                           bert_classifier=bert_classifier_twin, assert_close=assert_close)
