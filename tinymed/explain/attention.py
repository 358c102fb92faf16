r"""Attention rollout (Abnar and Zuidema, 2020): how much each input token flows into each
position at the top of a stack of self-attention layers.

Layer :math:`\ell` mixes its positions with the attention matrix :math:`A_\ell (L, L)` (the
heads fused by their mean, or max, or min), and its residual connection keeps each
position's own value: half and half, renormalised so each row still sums to 1,

.. math:: \hat A_\ell = \mathrm{rownorm}\big(\tfrac12 A_\ell + \tfrac12 I\big), \qquad
          R = \hat A_{\ell_{\max}} \cdots \hat A_2 \hat A_1 .

Row :math:`i` of :math:`R` says how much of what position :math:`i` holds at the top came,
through all the layers, from each input token -- a map for a classifier that reads one
position (the first token, or a pooled one) or averages them.  Attention weights are what a
model *looks at*, not a proof of what it *uses*; the lesson sets rollout beside gradients.

:func:`capture_attention` records the per-head weights of every attention layer inside a model
while it runs -- ``nn.MultiheadAttention`` (also where the model asks for none:
``TransformerEncoderLayer`` calls it with ``need_weights=False``) and the self-attention of
:class:`tinymed.models.GPT` and :class:`tinymed.models.BERT`.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import backend
from ..autograd import Tensor, no_grad
from ..models.bert import BertSelfAttention
from ..models.gpt import GPT2Attention
from ..nn import Module, MultiheadAttention
from ..nn import functional as F

HEAD_FUSIONS = ("mean", "max", "min")


def attention_rollout(attentions, head_fusion: str = "mean", add_residual: bool = True) -> np.ndarray:
    """Roll the attention of a stack of layers out to the input tokens.

    ``attentions``: one array per layer, first layer first, each ``(N, heads, L, L)`` or
    ``(N, L, L)`` (heads already fused).  Returns ``R (N, L, L)``; ``R[n, i, j]`` is the share of
    position ``i`` at the top that comes from input token ``j`` (rows sum to 1).
    """
    if head_fusion not in HEAD_FUSIONS:
        raise ValueError(f"attention_rollout: head_fusion must be one of {HEAD_FUSIONS}, got {head_fusion!r}")
    layers = [backend.to_numpy(a.data) if isinstance(a, Tensor) else np.asarray(a) for a in attentions]
    if not layers:
        raise ValueError("attention_rollout: needs the attention weights of at least one layer, got none")
    rollout = None
    for index, weights in enumerate(layers):
        if weights.ndim not in (3, 4) or weights.shape[-1] != weights.shape[-2]:
            raise ValueError(f"attention_rollout: layer {index}'s weights must be (N, heads, L, L) or (N, L, L) "
                             f"self-attention, got shape {weights.shape}")
        fused = getattr(np, head_fusion)(weights, axis=1) if weights.ndim == 4 else weights
        if add_residual:
            fused = 0.5 * fused + 0.5 * np.eye(fused.shape[-1])
        fused = fused / fused.sum(axis=-1, keepdims=True)
        if rollout is not None and fused.shape != rollout.shape:
            raise ValueError(f"attention_rollout: layer {index}'s weights have shape {weights.shape}, which does "
                             f"not follow the layers before it ({rollout.shape})")
        rollout = fused if rollout is None else fused @ rollout
    return rollout


@contextlib.contextmanager
def capture_attention(model: Module):
    """``with capture_attention(model) as attentions: model(x)`` fills ``attentions`` with the
    per-head weights ``(N, heads, L, S)`` of every attention layer inside ``model``
    (``nn.MultiheadAttention``, GPT's and BERT's self-attention), in the order they ran, before
    any dropout.  What each layer returns is unchanged.

    GPT's and BERT's layers receive all they need positionally, so a forward hook recomputes the
    weights from the same inputs.  ``nn.MultiheadAttention`` takes its masks by keyword, which a
    hook does not see, so its ``forward`` is wrapped, for the duration of the block, to compute
    the weights always and record them.
    """
    if not isinstance(model, Module):
        raise TypeError(f"capture_attention: expected a Module, got {type(model).__name__}")
    modules = [m for m in model.modules() if isinstance(m, (MultiheadAttention, *_RECOMPUTED))]
    if not modules:
        raise ValueError(f"capture_attention: {type(model).__name__} holds no attention layer "
                         "(nn.MultiheadAttention, GPT's or BERT's self-attention)")
    recorded, handles = [], []
    for module in modules:
        if isinstance(module, MultiheadAttention):
            module.forward = _recording(module, recorded)
        else:
            handles.append(module.register_forward_hook(_recomputing(recorded)))
    try:
        yield recorded
    finally:
        for module in modules:
            if isinstance(module, MultiheadAttention):
                del module.forward
        for handle in handles:
            handle.remove()


def _recording(module: MultiheadAttention, recorded: list):
    """``module.forward`` that records the per-head weights and answers as asked."""
    forward = type(module).forward

    def record(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
               average_attn_weights=True, is_causal=False):
        out, weights = forward(module, query, key, value, key_padding_mask=key_padding_mask, need_weights=True,
                               attn_mask=attn_mask, average_attn_weights=False, is_causal=is_causal)
        per_head = weights.numpy()
        recorded.append(per_head if per_head.ndim == 4 else per_head[None])
        if not need_weights:
            return out, None
        return out, (Tensor(weights.data.mean(axis=-3)) if average_attn_weights else weights)

    return record


def _gpt_weights(module: GPT2Attention, args) -> Tensor:
    """GPT-2's causal attention weights for ``module(x)`` (without a key/value cache)."""
    x, cache = args[0], (args[1] if len(args) > 1 else None)
    if cache is not None:
        raise ValueError("capture_attention: GPT's attention ran with a key/value cache (generation); "
                         "capture it on a full forward pass, model(input_ids)")
    batch, length, e = x.shape
    q, k, v = (module._heads(t, batch, length) for t in (module.c_attn(x)[..., i * e:(i + 1) * e] for i in range(3)))
    return F.scaled_dot_product_attention(q, k, v, is_causal=True, return_weights=True)[1]


def _bert_weights(module: BertSelfAttention, args) -> Tensor:
    """BERT's attention weights for ``module(x, key_mask)``, the padding keys masked."""
    x, key_mask = args[0], (args[1] if len(args) > 1 else None)
    batch, length, hidden = x.shape
    q, k, v = (t.reshape(batch, length, module.num_heads, module.head_dim).transpose(1, 2)
               for t in (module.query(x), module.key(x), module.value(x)))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask, return_weights=True)[1]


_RECOMPUTED = {GPT2Attention: _gpt_weights, BertSelfAttention: _bert_weights}


def _recomputing(recorded: list):
    """A forward hook that records the weights of the attention layer it is put on."""
    def hook(module, args, output):
        with no_grad():
            recorded.append(_RECOMPUTED[type(module)](module, args).numpy())
    return hook
