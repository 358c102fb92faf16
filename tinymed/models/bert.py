r"""BERT: a bidirectional Transformer encoder, laid out as Hugging Face's ``BertModel`` and its heads.

Devlin et al. 2019.  Each position may look at every other one (no causal mask: padding only),
and the layer norm comes *after* each residual sum ("post-LN", as in the original Transformer and
``nn.TransformerEncoderLayer``'s default):

.. math::
    h_0 &= \mathrm{LN}(W_{word}[x] + W_{pos}[1..T] + W_{type}[s])      && \text{token, position, segment} \\
    a_l &= \mathrm{LN}(h_{l-1} + \mathrm{Attn}_l(h_{l-1}))            && \text{self-attention (F7)} \\
    h_l &= \mathrm{LN}(a_l + \mathrm{GELU}(a_l W_1 + b_1) W_2 + b_2)  && \text{feed-forward (F1)}

Two heads sit on top.  The **masked-LM head** (pretraining) predicts hidden tokens from their
context: :math:`z = \mathrm{LN}(\mathrm{GELU}(h W_t + b_t))\, W_{word}^\top + b`, the output
matrix tied to the word embeddings.  The **classification head** (fine-tuning) reads the first
position (``[CLS]``) through the "pooler" :math:`\tanh(h_{1} W_p + b_p)` and a linear layer.

Names and shapes are ``transformers``' (``bert.encoder.layer.0.attention.self.query.weight``,
``cls.predictions.decoder.weight``, ``classifier.weight``, ...), so their state dicts load.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import backend
from ..autograd import DEFAULT_DTYPE
from ..nn import Dropout, Embedding, LayerNorm, Linear, Module, Parameter, Sequential, init
from ..nn import _checks as C
from ..nn import functional as F
from . import _checks
from .losses import cross_entropy_ignoring_index
from .pretrained import PreTrainedModel

__all__ = ["BertConfig", "BERT", "BertForMaskedLM", "BertForSequenceClassification"]

_ACTIVATIONS = {"gelu": "none", "gelu_new": "tanh", "gelu_pytorch_tanh": "tanh"}  # Hugging Face's names -> F.gelu's


@dataclass
class BertConfig:
    """The size of a BERT, with Hugging Face's names; defaults are BERT-base's (110M parameters).

    ``hidden_act`` is ``"gelu"`` (exact, BERT's) or ``"gelu_new"`` (the tanh approximation);
    ``num_labels`` sizes the classification head (1 means regression with a squared error);
    ``classifier_dropout`` defaults to ``hidden_dropout_prob``.
    """

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    num_labels: int = 2
    classifier_dropout: float | None = None

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "max_position_embeddings", "type_vocab_size", "num_labels"):
            C.positive_int("BertConfig", name, getattr(self, name))
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size={self.hidden_size} must be divisible by "
                             f"num_attention_heads={self.num_attention_heads}")
        if self.hidden_act not in _ACTIVATIONS:
            raise ValueError(f"BertConfig: hidden_act must be one of {tuple(_ACTIVATIONS)}, got {self.hidden_act!r}")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"):
            p = getattr(self, name)
            if p is not None and not 0 <= p < 1:
                raise ValueError(f"BertConfig: {name} must be in [0, 1), got {p}")
        if not self.layer_norm_eps > 0:
            raise ValueError(f"BertConfig: layer_norm_eps must be positive, got {self.layer_norm_eps}")
        if not 0 <= self.pad_token_id < self.vocab_size:
            raise ValueError(f"BertConfig: pad_token_id must be in [0, vocab_size={self.vocab_size}), "
                             f"got {self.pad_token_id}")


def _init_bert_weights(model: Module) -> None:
    """BERT's initialisation: every weight matrix and embedding N(0, 0.02^2), biases 0, layer norms 1 and 0."""
    for module in model.modules():
        if isinstance(module, (Linear, Embedding)):
            init.normal_(module.weight, std=0.02)
            if isinstance(module, Linear) and module.bias is not None:
                init.zeros_(module.bias)
            if isinstance(module, Embedding) and module.padding_idx is not None:
                module.weight.data[module.padding_idx] = 0


# ----- the encoder --------------------------------------------------------------------------------
class BertEmbeddings(Module):
    """Sum of word, position and segment (``token_type``) embeddings, then LayerNorm and dropout."""

    def __init__(self, config: BertConfig):
        super().__init__()
        h = config.hidden_size
        self.word_embeddings = Embedding(config.vocab_size, h, padding_idx=config.pad_token_id)
        self.position_embeddings = Embedding(config.max_position_embeddings, h)
        self.token_type_embeddings = Embedding(config.type_vocab_size, h)
        self.LayerNorm = LayerNorm(h, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, ids, token_type_ids):
        positions = backend.xp().arange(ids.shape[1])
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(Module):
    r"""Multi-head attention (F7) with separate ``query``, ``key``, ``value`` layers; padding keys masked."""

    def __init__(self, config: BertConfig):
        super().__init__()
        h = config.hidden_size
        self.num_heads, self.head_dim = config.num_attention_heads, h // config.num_attention_heads
        self.dropout = config.attention_probs_dropout_prob
        self.query, self.key, self.value = Linear(h, h), Linear(h, h), Linear(h, h)

    def forward(self, x, key_mask):
        batch, length, h = x.shape

        def heads(t):
            return t.reshape(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

        out = F.scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)),
                                             attn_mask=key_mask, dropout_p=self.dropout if self.training else 0.0)
        return out.transpose(1, 2).reshape(batch, length, h)


class BertSelfOutput(Module):
    """``LayerNorm(x + dropout(dense(attended)))``: the projection, residual and post-norm after attention."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, attended, x):
        return self.LayerNorm(x + self.dropout(self.dense(attended)))


class BertAttention(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config)

    def forward(self, x, key_mask):
        return self.output(self.self(x, key_mask), x)


class BertIntermediate(Module):
    """The feed-forward network's first layer and its GELU: ``intermediate_size`` wide."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.intermediate_size)
        self.approximate = _ACTIVATIONS[config.hidden_act]

    def forward(self, x):
        return F.gelu(self.dense(x), self.approximate)


class BertOutput(Module):
    """``LayerNorm(x + dropout(dense(intermediate)))``: the feed-forward network's second layer, residual, post-norm."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.intermediate_size, config.hidden_size)
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = Dropout(config.hidden_dropout_prob)

    def forward(self, intermediate, x):
        return self.LayerNorm(x + self.dropout(self.dense(intermediate)))


class BertLayer(Module):
    """One post-LN encoder layer: attention, then the feed-forward network."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config)

    def forward(self, x, key_mask):
        a = self.attention(x, key_mask)
        return self.output(self.intermediate(a), a)


class BertEncoder(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = Sequential(*[BertLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, x, key_mask):
        for layer in self.layer:
            x = layer(x, key_mask)
        return x


class BertPooler(Module):
    r"""The sequence's summary for classification: :math:`\tanh(h_{[CLS]} W + b)`, from the first position."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)

    def forward(self, hidden):
        return self.dense(hidden[:, 0]).tanh()


class BERT(PreTrainedModel):
    """The encoder (``BertModel``): ``embeddings``, ``encoder``, and ``pooler`` unless ``add_pooling_layer=False``.

    ``forward(input_ids, attention_mask=None, token_type_ids=None)`` -> ``(last_hidden_state, pooler_output)``:
    hidden states (B, T, hidden_size) and the pooled first position (B, hidden_size), or None
    without a pooler.  ``attention_mask`` (B, T): 1 for tokens, 0 for padding no position may look
    at (default: all 1); ``token_type_ids`` (B, T): the segment of each token (default: all 0).
    """

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        if not isinstance(config, BertConfig):
            raise TypeError(f"{type(self).__name__}: config must be a BertConfig, got {type(config).__name__}")
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        _init_bert_weights(self)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, owner=None):
        owner = owner or type(self).__name__
        config = self.config
        ids = _checks.token_ids(owner, input_ids, config.vocab_size, config.max_position_embeddings)
        xp = backend.array_module(ids)
        segments = xp.zeros_like(ids) if token_type_ids is None else _checks.like_ids(
            owner, "token_type_ids", token_type_ids, ids, 0, config.type_vocab_size)
        key_mask = None
        if attention_mask is not None:
            keep = _checks.like_ids(owner, "attention_mask", attention_mask, ids, 0, 2)
            # (B, 1, 1, T): True where a key may be looked at, for every head and every query
            key_mask = keep.astype(bool)[:, None, None, :]
        hidden = self.encoder(self.embeddings(ids, segments), key_mask)
        return hidden, (None if self.pooler is None else self.pooler(hidden))


# ----- the heads ------------------------------------------------------------------------------------
class BertPredictionHeadTransform(Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = Linear(config.hidden_size, config.hidden_size)
        self.approximate = _ACTIVATIONS[config.hidden_act]
        self.LayerNorm = LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x):
        return self.LayerNorm(F.gelu(self.dense(x), self.approximate))


class BertLMPredictionHead(Module):
    """``transform``, then ``decoder``: the word embeddings (tied) as the output layer, plus ``bias``."""

    def __init__(self, config: BertConfig, word_embeddings: Embedding):
        super().__init__()
        self.bias = Parameter(np.zeros(config.vocab_size), dtype=DEFAULT_DTYPE)
        self.transform = BertPredictionHeadTransform(config)
        _init_bert_weights(self.transform)
        self.decoder = Linear(config.hidden_size, config.vocab_size, bias=False)
        self.decoder.weight = word_embeddings.weight
        self.decoder.bias = self.bias

    def forward(self, x):
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(Module):
    def __init__(self, config: BertConfig, word_embeddings: Embedding):
        super().__init__()
        self.predictions = BertLMPredictionHead(config, word_embeddings)

    def forward(self, x):
        return self.predictions(x)


class BertForMaskedLM(PreTrainedModel):
    """BERT with the masked-LM head (pretraining): ``bert`` (no pooler) and ``cls``.

    ``forward(input_ids, attention_mask=None, token_type_ids=None, labels=None)`` -> logits
    (B, T, vocab_size), or ``(loss, logits)`` with ``labels`` (B, T): the token each position
    should predict, -100 where it is not scored (every position that was not masked).
    """

    base_model_prefix = "bert"
    ignored_checkpoint_keys = (r"(^|\.)embeddings\.position_ids$",)  # a constant older checkpoints saved

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.bert = BERT(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config, self.bert.embeddings.word_embeddings)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        hidden, _ = self.bert(input_ids, attention_mask, token_type_ids, owner=type(self).__name__)
        logits = self.cls(hidden)
        if labels is None:
            return logits
        labels = _checks.labels(type(self).__name__, labels, logits.shape[:2], self.config.vocab_size)
        return cross_entropy_ignoring_index(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)), logits


class BertForSequenceClassification(PreTrainedModel):
    """BERT with a classification head (fine-tuning): ``bert`` (with its pooler), dropout, ``classifier``.

    ``forward(input_ids, attention_mask=None, token_type_ids=None, labels=None)`` -> logits
    (B, num_labels), or ``(loss, logits)`` with ``labels`` (B,): cross-entropy over the classes,
    or a squared error when ``num_labels == 1`` (regression), as Hugging Face decides.
    """

    base_model_prefix = "bert"
    ignored_checkpoint_keys = (r"(^|\.)embeddings\.position_ids$",)

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.num_labels = config.num_labels
        self.bert = BERT(config)
        dropout = config.hidden_dropout_prob if config.classifier_dropout is None else config.classifier_dropout
        self.dropout = Dropout(dropout)
        self.classifier = Linear(config.hidden_size, config.num_labels)
        _init_bert_weights(self.classifier)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        _, pooled = self.bert(input_ids, attention_mask, token_type_ids, owner=type(self).__name__)
        logits = self.classifier(self.dropout(pooled))
        if labels is None:
            return logits
        owner = type(self).__name__
        if self.num_labels == 1:
            target = C.target(owner, labels, logits)
            if target.shape != logits.shape[:1]:
                raise ValueError(f"{owner}: labels must have shape {logits.shape[:1]} (one value per sequence), "
                                 f"got {target.shape}")
            return F.mse_loss(logits.reshape(-1), target), logits
        labels = _checks.labels(owner, labels, logits.shape[:1], self.num_labels)
        return cross_entropy_ignoring_index(logits, labels), logits
