r"""An encoder-decoder (sequence-to-sequence) model with attention -- article formula F8
(000 §3.2.1), with the attention of F7 (000 §3.2.2).

The article's encoder "encodes the input sequence into a fixed-length vector" and the decoder
"generates the output sequence from this vector".  A single vector is a bottleneck for long
inputs, so -- as the article's next section suggests -- the decoder also *attends* over all
encoder states at every output step (Luong et al. 2015, dot-product scores):

.. math::
    h_1..h_S = \text{Encoder-GRU}(\text{embed}(x_1..x_S)), \qquad
    s_t = \text{Decoder-GRU}(\text{embed}(y_{t-1}),\ s_{t-1}),\ s_0 = h_S \\
    \alpha_{tj} = \mathrm{softmax}_j\big(s_t \cdot h_j / \sqrt H\big) \ \text{(F7; padding masked)},\qquad
    a_t = \sum_j \alpha_{tj} h_j \\
    \tilde s_t = \tanh(W_c [s_t; a_t] + b_c), \qquad p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o \tilde s_t + b_o)

**Teacher forcing** (training): the decoder's input at step t is the *true* previous token
:math:`y_{t-1}`, so all steps run in one call and one loss is computed over the whole target.
**Greedy decoding** (inference): feed back the model's own most likely token, one step at a
time, until the end token.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import DEFAULT_DTYPE, Tensor, no_grad
from . import functional as F
from .layers import Linear
from .module import Module
from .normalization import Embedding
from .recurrent import GRU


def _indices(name, tokens):
    t = tokens.numpy() if isinstance(tokens, Tensor) else np.asarray(tokens)
    if t.ndim != 2 or t.dtype.kind not in "iu":
        raise ValueError(f"Seq2Seq: {name} must be a 2-D integer array (batch, length), got "
                         f"{t.dtype} {t.shape}")
    return t


class Seq2Seq(Module):
    """GRU encoder, GRU decoder with dot-product attention over the encoder states.

    ``Seq2Seq(src_vocab_size, tgt_vocab_size, embed_dim=32, hidden_size=64, pad_idx=0,
    bos_idx=2, eos_idx=3)``.  Token arrays are (batch, length) integers, padded with
    ``pad_idx`` at the end.

    * ``forward(src, tgt_in)`` -> logits (N, T, tgt_vocab_size): teacher forcing, ``tgt_in``
      is the target shifted right (``bos`` first).
    * ``greedy_decode(src, max_len)`` -> (tokens (N, steps), attention weights (N, steps, S)).
    * ``loss(src, tgt)`` -> mean cross-entropy over the non-padding target tokens.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embed_dim: int = 32, hidden_size: int = 64,
                 pad_idx: int = 0, bos_idx: int = 2, eos_idx: int = 3, dtype=DEFAULT_DTYPE):
        super().__init__()
        self.pad_idx, self.bos_idx, self.eos_idx = pad_idx, bos_idx, eos_idx
        self.hidden_size = hidden_size
        self.src_embed = Embedding(src_vocab_size, embed_dim, padding_idx=pad_idx, dtype=dtype)
        self.tgt_embed = Embedding(tgt_vocab_size, embed_dim, padding_idx=pad_idx, dtype=dtype)
        self.encoder = GRU(embed_dim, hidden_size, batch_first=True, dtype=dtype)
        self.decoder = GRU(embed_dim, hidden_size, batch_first=True, dtype=dtype)
        self.combine = Linear(2 * hidden_size, hidden_size, dtype=dtype)
        self.out = Linear(hidden_size, tgt_vocab_size, dtype=dtype)

    def encode(self, src):
        """Encoder states (N, S, H), the decoder's first state (1, N, H) and the key mask (N, 1, S).

        The sequences are padded at the end, and the GRU runs over the padding too, so the
        summary handed to the decoder is the state at each sequence's *last real* token.
        """
        src = _indices("src", src)
        lengths = np.maximum((src != self.pad_idx).sum(axis=1), 1)
        states, _ = self.encoder(self.src_embed(src))
        last = states[np.arange(src.shape[0]), lengths - 1]
        may_attend = backend.asarray((src != self.pad_idx)[:, None, :])
        return states, last.reshape(1, *last.shape), may_attend

    def _decode(self, tgt_in, states, h, may_attend):
        """Decoder states for the inputs ``tgt_in`` (N, T); returns (logits, new h, attention weights)."""
        s, h = self.decoder(self.tgt_embed(tgt_in), h)
        context, weights = F.scaled_dot_product_attention(s, states, states, may_attend, return_weights=True)
        mixed = F.tanh(self.combine(F.cat([s, context], dim=2)))
        return self.out(mixed), h, weights

    def forward(self, src, tgt_in):
        states, h, may_attend = self.encode(src)
        logits, _, _ = self._decode(_indices("tgt_in", tgt_in), states, h, may_attend)
        return logits

    def loss(self, src, tgt):
        """Teacher-forced cross-entropy; ``tgt`` (N, T) ends with ``eos`` and is padded after it."""
        tgt = _indices("tgt", tgt)
        tgt_in = np.concatenate([np.full((tgt.shape[0], 1), self.bos_idx, tgt.dtype), tgt[:, :-1]], axis=1)
        logits = self.forward(src, tgt_in)
        per_token = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="none")
        real = (tgt.reshape(-1) != self.pad_idx).astype(logits.dtype)
        return (per_token * Tensor(backend.asarray(real))).sum() / float(real.sum())

    def greedy_decode(self, src, max_len: int = 20):
        """Generate token by token, always taking the most likely next token.

        Returns ``(tokens, attention)``: tokens (N, steps) with ``pad_idx`` after each
        sequence's ``eos``, and the attention weights (N, steps, S) of every step.
        """
        with no_grad():
            states, h, may_attend = self.encode(src)
            n = states.shape[0]
            token = np.full((n, 1), self.bos_idx, dtype=np.int64)
            done = np.zeros(n, dtype=bool)
            tokens, attention = [], []
            for _ in range(max_len):
                logits, h, weights = self._decode(token, states, h, may_attend)
                token = logits.numpy()[:, 0].argmax(axis=1)
                token = np.where(done, self.pad_idx, token)
                tokens.append(token)
                attention.append(weights.numpy()[:, 0])
                done |= token == self.eos_idx
                token = token[:, None]
                if done.all():
                    break
        return np.stack(tokens, axis=1), np.stack(attention, axis=1)
