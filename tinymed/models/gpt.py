r"""GPT: a decoder-only Transformer language model, laid out as Hugging Face's ``GPT2LMHeadModel``.

Every piece is a building block tinymed already teaches (Radford et al. 2019, GPT-2):

.. math::
    h_0 &= W_{te}[x_{1..T}] + W_{pe}[1..T]                 && \text{token + learned position embeddings} \\
    a_l &= h_{l-1} + \mathrm{Attn}_l(\mathrm{LN}(h_{l-1}))  && \text{causal self-attention (F7), residual} \\
    h_l &= a_l + \mathrm{MLP}_l(\mathrm{LN}(a_l))           && \text{two dense layers (F1) with GELU} \\
    z &= \mathrm{LN}(h_L)\, W_{te}^\top                     && \text{logits, the input embedding reused}

with :math:`\mathrm{MLP}(x) = \mathrm{GELU}_{\tanh}(x W_{fc} + b_{fc}) W_{proj} + b_{proj}` and
:math:`\mathrm{Attn}` multi-head attention whose position :math:`t` may look at positions
:math:`\le t` only.  The layer norm comes *before* each block ("pre-LN"), which keeps a deep
stack trainable without a warm-up as long as the original Transformer's; every gradient is F2.

Parameter names and shapes are those of ``transformers``' GPT-2, whose dense layers
(``Conv1D``) store their weight as (in, out), the transpose of ``nn.Linear``'s; so a GPT-2
checkpoint converted to arrays loads with ``model.load_state_dict`` and gives the same logits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd import DEFAULT_DTYPE, Tensor, no_grad
from ..nn import Dropout, Embedding, LayerNorm, Linear, Module, Parameter, Sequential, init
from ..nn import _checks as C
from ..nn import functional as F
from ..random import generator
from . import _checks
from .cache import DynamicCache
from .losses import shifted_cross_entropy
from .pretrained import PreTrainedModel
from .sampling import sample_next_token

__all__ = ["GPTConfig", "GPT", "GPT2Model", "GPT2Block", "GPT2Attention", "GPT2MLP", "Conv1D"]


@dataclass
class GPTConfig:
    """The size of a GPT; defaults are GPT-2 small's (124M parameters).

    ``vocab_size`` tokens, ``n_positions`` the longest sequence, ``n_embd`` the width of every
    layer, ``n_layer`` blocks of ``n_head`` attention heads, ``dropout`` on the embeddings, the
    attention weights and each block's output (GPT-2's three dropouts, one rate), and the layer
    norms' :math:`\\epsilon`.  The MLP is ``4 * n_embd`` wide, as in GPT-2.
    """

    vocab_size: int = 50257
    n_positions: int = 1024
    n_embd: int = 768
    n_layer: int = 12
    n_head: int = 12
    dropout: float = 0.1
    layer_norm_epsilon: float = 1e-5

    def __post_init__(self):
        for name in ("vocab_size", "n_positions", "n_embd", "n_layer", "n_head"):
            C.positive_int("GPTConfig", name, getattr(self, name))
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd={self.n_embd} must be divisible by n_head={self.n_head}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout}")
        if not self.layer_norm_epsilon > 0:
            raise ValueError(f"GPTConfig: layer_norm_epsilon must be positive, got {self.layer_norm_epsilon}")


class Conv1D(Module):
    r"""GPT-2's dense layer, :math:`y = x W + b` with ``weight (nx, nf)`` stored (in, out).

    ``Conv1D(nf, nx)``: ``nf`` outputs, ``nx`` inputs (Hugging Face's order of arguments).  The
    same function as ``nn.Linear(nx, nf)``, whose weight is the transpose; the name is OpenAI's,
    who wrote the layer as a convolution of width 1.
    """

    def __init__(self, nf: int, nx: int, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.nf, self.nx = C.positive_int("Conv1D", "nf", nf), C.positive_int("Conv1D", "nx", nx)
        self.weight = Parameter(np.zeros((nx, nf)), dtype=dtype)
        self.bias = Parameter(np.zeros(nf), dtype=dtype)
        init.normal_(self.weight, std=0.02)

    def forward(self, x):
        return F.linear(x, self.weight.T, self.bias)

    def extra_repr(self):
        return f"nf={self.nf}, nx={self.nx}"


def causal_mask(new: int, total: int):
    """Boolean (new, total), True where query :math:`i` (absolute position ``total - new + i``) may
    look at key :math:`j`: :math:`j \\le i + \\text{total} - \\text{new}`.  None when nothing is hidden."""
    if new == 1:
        return None
    return backend.xp().tril(backend.xp().ones((new, total), dtype=bool), k=total - new)


class GPT2Attention(Module):
    r"""Causal multi-head self-attention (F7): one ``c_attn`` makes queries, keys and values,
    :math:`[Q\,K\,V] = x W_{attn} + b_{attn}`; each of ``n_head`` heads attends over
    ``n_embd / n_head`` features with :math:`\mathrm{softmax}(QK^\top/\sqrt d + M)V`, the mask
    :math:`M` hiding later positions; the heads are joined and projected by ``c_proj``.
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        e = config.n_embd
        self.n_head, self.head_dim, self.dropout = config.n_head, e // config.n_head, config.dropout
        self.c_attn = Conv1D(3 * e, e)
        self.c_proj = Conv1D(e, e)
        self.resid_dropout = Dropout(config.dropout)

    def _heads(self, t, batch, length):
        """(B, T, E) -> (B, heads, T, head_dim)."""
        return t.reshape(batch, length, self.n_head, self.head_dim).transpose(1, 2)

    def forward(self, x, cache: DynamicCache | None = None, layer_idx: int = 0):
        batch, length, e = x.shape
        w, b = self.c_attn.weight, self.c_attn.bias
        q, k, v = (self._heads(F.linear(x, w[:, i * e:(i + 1) * e].T, b[i * e:(i + 1) * e]), batch, length)
                   for i in range(3))
        if cache is not None:
            keys, values = cache.update(k.data, v.data, layer_idx)
            k, v = Tensor(keys), Tensor(values)
        mask = causal_mask(length, k.shape[2])
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.resid_dropout(self.c_proj(out.transpose(1, 2).reshape(batch, length, e)))


class GPT2MLP(Module):
    r"""The position-wise feed-forward network, ``4 * n_embd`` wide:
    :math:`\mathrm{GELU}_{\tanh}(x W_{fc} + b_{fc}) W_{proj} + b_{proj}`."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = Conv1D(4 * config.n_embd, config.n_embd)
        self.c_proj = Conv1D(config.n_embd, 4 * config.n_embd)
        self.dropout = Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class GPT2Block(Module):
    """One pre-LN block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = GPT2Attention(config)
        self.ln_2 = LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = GPT2MLP(config)

    def forward(self, x, cache=None, layer_idx=0):
        x = x + self.attn(self.ln_1(x), cache, layer_idx)
        return x + self.mlp(self.ln_2(x))


class GPT2Model(PreTrainedModel):
    """The Transformer without its head: ``wte``, ``wpe``, the blocks ``h``, the final ``ln_f``.

    ``forward(input_ids, past_key_values=None)`` -> hidden states (B, T, n_embd).
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.config = config
        self.wte = Embedding(config.vocab_size, config.n_embd)
        self.wpe = Embedding(config.n_positions, config.n_embd)
        self.drop = Dropout(config.dropout)
        self.h = Sequential(*[GPT2Block(config) for _ in range(config.n_layer)])
        self.ln_f = LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        init.normal_(self.wte.weight, std=0.02)
        init.normal_(self.wpe.weight, std=0.02)
        for block in self.h:
            # GPT-2 scales the weights of the layers that write into the residual stream by
            # 1/sqrt(2 n_layer): 2 n_layer of them add up along it
            for projection in (block.attn.c_proj, block.mlp.c_proj):
                init.normal_(projection.weight, std=0.02 / math.sqrt(2 * config.n_layer))

    def forward(self, input_ids, past_key_values: DynamicCache | None = None):
        config = self.config
        past = 0 if past_key_values is None else past_key_values.get_seq_length()
        ids = _checks.token_ids(type(self).__name__, input_ids, config.vocab_size, config.n_positions, past)
        positions = backend.xp().arange(past, past + ids.shape[1])
        x = self.drop(self.wte(ids) + self.wpe(positions))
        for layer_idx, block in enumerate(self.h):
            x = block(x, past_key_values, layer_idx)
        return self.ln_f(x)


class GPT(PreTrainedModel):
    """A GPT language model: :class:`GPT2Model` (``transformer``) and ``lm_head``, the output layer
    whose weight *is* ``transformer.wte.weight`` (tied).  ``GPT(GPTConfig(...))``.

    ``model(input_ids)`` -> logits (B, T, vocab_size).  ``model(input_ids, labels=labels)`` ->
    ``(loss, logits)`` (Hugging Face's order), the loss scoring position t against ``labels`` at
    t + 1, labels of -100 ignored (``labels=input_ids`` trains on every next token).
    ``past_key_values``, a :class:`DynamicCache`, holds earlier positions' keys and values and
    receives the new ones (generation).  The state dict has ``GPT2LMHeadModel``'s keys and shapes.
    """

    base_model_prefix = "transformer"
    # the causal mask and a constant that old GPT-2 checkpoints saved as buffers; tinymed builds the mask
    ignored_checkpoint_keys = (r"(^|\.)attn\.bias$", r"(^|\.)attn\.masked_bias$")

    def __init__(self, config: GPTConfig):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"GPT: config must be a GPTConfig, got {type(config).__name__}")
        self.config = config
        self.transformer = GPT2Model(config)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, labels=None, past_key_values: DynamicCache | None = None):
        config = self.config
        past = 0 if past_key_values is None else past_key_values.get_seq_length()
        ids = _checks.token_ids("GPT", input_ids, config.vocab_size, config.n_positions, past)
        logits = self.lm_head(self.transformer(ids, past_key_values))
        if labels is None:
            return logits
        labels = _checks.labels("GPT", labels, logits.shape[:2], self.config.vocab_size)
        return shifted_cross_entropy(logits, labels), logits

    def generate(self, input_ids, max_new_tokens: int, temperature: float = 1.0, top_k=None, top_p=None,
                 seed=None, use_cache: bool = True, eos_token_id=None) -> np.ndarray:
        """Continue each prompt of ``input_ids`` (B, T) by ``max_new_tokens`` tokens; returns (B, T + new).

        Each step samples from the last position's logits (:func:`~tinymed.models.sampling.sample_next_token`:
        ``temperature`` 0 is greedy, ``top_k``, ``top_p``), drawing from ``np.random.default_rng(seed)``,
        or from tinymed's generator when ``seed`` is None.  ``use_cache`` keeps earlier keys and
        values (:class:`DynamicCache`) instead of recomputing the whole sequence each step: the
        same tokens, far less work.  With ``eos_token_id``, generation stops once every sequence
        has produced it, and a sequence that has is continued with it.  Runs in eval mode.
        """
        ids = self._generation_prompt(input_ids, max_new_tokens, temperature, top_k, top_p)
        rng = generator() if seed is None else np.random.default_rng(seed)
        was_training = self.training
        self.eval()
        cache = DynamicCache() if use_cache else None
        finished = np.zeros(ids.shape[0], dtype=bool)
        step_input = ids
        try:
            with no_grad():
                for _ in range(max_new_tokens):
                    logits = self(step_input, past_key_values=cache)
                    last = backend.to_numpy(logits.data[:, -1])
                    token = sample_next_token(last, rng, temperature, top_k, top_p)
                    if eos_token_id is not None:
                        token = np.where(finished, eos_token_id, token)
                        finished |= token == eos_token_id
                    ids = np.concatenate([ids, token[:, None]], axis=1)
                    step_input = token[:, None] if use_cache else ids
                    if finished.all():
                        break
        finally:
            self.train(was_training)
        return ids

    def _generation_prompt(self, input_ids, max_new_tokens, temperature, top_k, top_p):
        """The prompt as a NumPy array, after checking the sampling arguments."""
        config = self.config
        C.positive_int("GPT.generate", "max_new_tokens", max_new_tokens)
        if not temperature >= 0:
            raise ValueError(f"GPT.generate: temperature must be >= 0 (0 is greedy), got {temperature}")
        if top_k is not None:
            C.positive_int("GPT.generate", "top_k", top_k)
        if top_p is not None and not 0 < top_p <= 1:
            raise ValueError(f"GPT.generate: top_p must be in (0, 1], got {top_p}")
        ids = backend.to_numpy(_checks.token_ids("GPT.generate", input_ids, config.vocab_size, config.n_positions))
        if ids.shape[1] + max_new_tokens > config.n_positions:
            raise ValueError(f"GPT.generate: a prompt of {ids.shape[1]} tokens plus max_new_tokens={max_new_tokens} "
                             f"is longer than n_positions={config.n_positions}")
        return ids.astype(np.int64)
