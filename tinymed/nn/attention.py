r"""Multi-head attention (F7 with learned projections) and a Transformer encoder layer, with
PyTorch's arguments, parameter names, forward signatures and return values.

``MultiheadAttention`` projects queries, keys and values with one stacked matrix
``in_proj_weight (3E, E)`` = :math:`[W_Q; W_K; W_V]`, splits the :math:`E` features into
``num_heads`` heads of :math:`d = E/h` features, runs scaled dot-product attention in every
head at once, joins the heads and projects with ``out_proj``:

.. math:: \text{head}_i = \mathrm{softmax}\Big(\frac{(Q W_Q^i)(K W_K^i)^\top}{\sqrt d} + M\Big)\, V W_V^i,
          \qquad \text{out} = [\text{head}_1, \dots, \text{head}_h]\, W_O^\top + b_O

**Mask conventions differ between PyTorch's two APIs, and tinymed follows both:** in
``nn.MultiheadAttention`` a boolean ``attn_mask`` or ``key_padding_mask`` is **True where
attention is NOT allowed** (True = padding, ignore it); in
``F.scaled_dot_product_attention`` a boolean mask is True where attention *is* allowed.
Float masks are added to the scores in both.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import DEFAULT_DTYPE, Tensor
from . import _checks as C
from . import functional as F
from . import init
from ._checks import as_tensor
from .layers import Dropout, Linear
from .module import Module
from .normalization import LayerNorm


def _additive(name, mask, dtype):
    """A MultiheadAttention mask as an additive float Tensor: bool True -> -inf, float as is."""
    m = as_tensor(mask)
    if m.dtype == bool:
        return Tensor(backend.array_module(m.data).where(m.data, -np.inf, 0.0).astype(dtype))
    if m.dtype.kind != "f":
        raise TypeError(f"MultiheadAttention: {name} must be boolean (True = do not attend) or float "
                        f"(added to the scores), got dtype {m.dtype}")
    return m if m.dtype == dtype else m.astype(dtype)


class MultiheadAttention(Module):
    """``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=False)``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(attn_output, attn_weights)``:
    output (L, N, E) -- or (N, L, E) with ``batch_first`` -- and weights (N, L, S) averaged
    over heads, (N, num_heads, L, S) with ``average_attn_weights=False``, or None when
    ``need_weights=False``.  Unbatched inputs (L, E) give (L, E) and (L, S).

    ``key_padding_mask`` (N, S): True marks padding keys that no query may look at.
    ``attn_mask`` (L, S) or (N*num_heads, L, S): True where attention is *not* allowed, or a
    float mask added to the scores.  ``is_causal=True`` without ``attn_mask`` applies the
    causal mask (with a mask given, that mask is used, as in PyTorch where it is a hint).
    A query whose keys are all masked gets zero weights (PyTorch returns NaN with
    ``need_weights=True``).  The weights returned are those before dropout.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, dtype=DEFAULT_DTYPE):
        super().__init__()
        embed_dim = C.positive_int("MultiheadAttention", "embed_dim", embed_dim)
        num_heads = C.positive_int("MultiheadAttention", "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be divisible by "
                             f"num_heads={num_heads} (each head gets embed_dim // num_heads features)")
        if add_bias_kv or add_zero_attn or kdim not in (None, embed_dim) or vdim not in (None, embed_dim):
            raise ValueError("MultiheadAttention: add_bias_kv, add_zero_attn and kdim/vdim different from "
                             "embed_dim are not supported")
        if not 0 <= dropout < 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout}")
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.in_proj_weight = C.new_parameter("MultiheadAttention", (3 * embed_dim, embed_dim), dtype)
        self.register_parameter("in_proj_bias", C.new_parameter("MultiheadAttention", (3 * embed_dim,), dtype)
                                if bias else None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's: Xavier-uniform stacked projection, zero biases; ``out_proj`` weight as a Linear."""
        init.xavier_uniform_(self.in_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)

    # ----- shapes ---------------------------------------------------------------------------
    def _batch_major(self, name, t):
        """(N, L, E) from the module's layout; also whether the input was unbatched."""
        if t.ndim not in (2, 3) or t.shape[-1] != self.embed_dim:
            layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
            raise ValueError(f"MultiheadAttention(embed_dim={self.embed_dim}): {name} must be {layout} or "
                             f"(L, E) with E={self.embed_dim}, got shape {t.shape}")
        if t.ndim == 2:
            return t.reshape((1,) + t.shape), True
        return (t if self.batch_first else t.transpose(0, 1)), False

    def _heads(self, t):
        """(N, L, E) -> (N, heads, L, head_dim)."""
        n, length, _ = t.shape
        return t.reshape(n, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask(self, key_padding_mask, attn_mask, is_causal, n, length, source, dtype):
        """Both masks as one additive Tensor broadcastable to (N, heads, L, S), or None."""
        total = None
        if attn_mask is None and is_causal:
            attn_mask = ~np.tril(np.ones((length, source), dtype=bool))
        if attn_mask is not None:
            m = _additive("attn_mask", attn_mask, dtype)
            if m.shape == (length, source):
                total = m
            elif m.shape == (n * self.num_heads, length, source):
                total = m.reshape(n, self.num_heads, length, source)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask must have shape (L, S) = {(length, source)} "
                                 f"or (N*num_heads, L, S) = {(n * self.num_heads, length, source)}, got {m.shape}")
        if key_padding_mask is not None:
            k = _additive("key_padding_mask", key_padding_mask, dtype)
            if k.shape != (n, source):
                raise ValueError(f"MultiheadAttention: key_padding_mask must have shape (N, S) = {(n, source)}, "
                                 f"got {k.shape}")
            k = k.reshape(n, 1, 1, source)
            total = k if total is None else total + k
        return total

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        q, unbatched = self._batch_major("query", as_tensor(query))
        k, _ = self._batch_major("key", as_tensor(key))
        v, _ = self._batch_major("value", as_tensor(value))
        n = q.shape[0]
        if k.shape[0] != n or v.shape[0] != n:
            raise ValueError(f"MultiheadAttention: query, key and value must have the same batch size, got "
                             f"shapes {query.shape}, {key.shape}, {value.shape}")
        if k.shape[1] != v.shape[1]:
            raise ValueError(f"MultiheadAttention: key and value must have the same length, got {key.shape} "
                             f"and {value.shape}")
        if unbatched and key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask).reshape(1, -1)
        e = self.embed_dim
        w, b = self.in_proj_weight, self.in_proj_bias
        projections = [F.linear(t, w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e])
                       for i, t in enumerate((q, k, v))]
        qh, kh, vh = (self._heads(t) for t in projections)
        mask = self._mask(key_padding_mask, attn_mask, is_causal, n, q.shape[1], k.shape[1], q.dtype)
        dropout_p = self.dropout if self.training else 0.0
        out, weights = F.scaled_dot_product_attention(qh, kh, vh, mask, dropout_p, return_weights=True)
        out = self.out_proj(out.transpose(1, 2).reshape(n, q.shape[1], e))
        if unbatched:
            out = out.reshape(out.shape[1:])
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = Tensor(weights.data.mean(axis=1))
        return out, (Tensor(weights.data[0]) if unbatched else weights)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, " \
               f"batch_first={self.batch_first}"


class TransformerEncoderLayer(Module):
    """One Transformer encoder layer as PyTorch builds it: self-attention and a feed-forward
    network, each wrapped in dropout + residual connection + LayerNorm.

    Post-norm (PyTorch's default, ``norm_first=False``)::

        x = norm1(x + dropout1(self_attn(x, x, x)))
        x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

    Pre-norm (``norm_first=True``) normalises before each block instead.  Parameter names
    (``self_attn.in_proj_weight``, ``linear1.weight``, ``norm1.weight``, ...) are PyTorch's.
    ``activation``: ``"relu"`` or a callable on Tensors.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, dtype=DEFAULT_DTYPE):
        super().__init__()
        if activation == "relu":
            activation = F.relu
        elif not callable(activation):
            raise ValueError(f"TransformerEncoderLayer: activation must be 'relu' or a callable, got {activation!r}")
        self.activation, self.norm_first = activation, bool(norm_first)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)

    def _attention_block(self, x, src_mask, src_key_padding_mask, is_causal):
        out, _ = self.self_attn(x, x, x, key_padding_mask=src_key_padding_mask, need_weights=False,
                                attn_mask=src_mask, is_causal=is_causal)
        return self.dropout1(out)

    def _feed_forward_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = as_tensor(src)
        if self.norm_first:
            x = x + self._attention_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._feed_forward_block(self.norm2(x))
        x = self.norm1(x + self._attention_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._feed_forward_block(x))
