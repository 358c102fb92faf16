"""Neural-network operations with PyTorch's ``torch.nn.functional`` signatures.

Each function here checks its arguments and then applies one differentiable operation: an
activation Function of :mod:`tinymed.autograd` or a fused Function of :mod:`tinymed.ops`, whose
forward and backward are kernels of the active backend.  The checks (shared with the layers,
in :mod:`tinymed.nn._checks`) give a wrong shape, dtype or argument a message naming the
operation, what it expected and what it got -- never a broadcasting error from inside a kernel.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Tensor
from ..ops import (
    AvgPool2dFunction,
    BCELossFunction,
    BCEWithLogitsLossFunction,
    ConcatenateFunction,
    Conv2dFunction,
    CrossEntropyLossFunction,
    EmbeddingFunction,
    GELUFunction,
    GRUFunction,
    LayerNormFunction,
    LinearFunction,
    LSTMFunction,
    MaxPool2dFunction,
    MSELossFunction,
    RNNTanhFunction,
    ScaledDotProductAttentionFunction,
)
from ..ops.activations import GELU_APPROXIMATIONS
from ..random import generator
from . import _checks as C

__all__ = [
    "linear", "conv2d", "max_pool2d", "avg_pool2d", "relu", "sigmoid", "tanh", "softmax",
    "log_softmax", "dropout", "mse_loss", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "rnn_tanh", "lstm", "gru", "scaled_dot_product_attention",
    "layer_norm", "embedding", "cat", "stack", "gelu",
]


# ----- linear ------------------------------------------------------------------------------
def linear(input, weight, bias=None) -> Tensor:
    """``y = input @ weight.T + bias`` (F1).  input (..., in), weight (out, in), bias (out,)."""
    x, w = C.tensor("linear", "input", input), C.tensor("linear", "weight", weight)
    C.require_float("linear", "input", x)
    if w.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ValueError(
            f"linear: input's last dimension must equal in_features={w.shape[1]}, got input shape {x.shape}"
        )
    C.same_dtype("linear", "input", x, "weight", w)
    if bias is not None:
        bias = C.tensor("linear", "bias", bias)
        if bias.shape != (w.shape[0],):
            raise ValueError(f"linear: bias must have shape ({w.shape[0]},), got {bias.shape}")
    return LinearFunction.apply(x, w, bias)


# ----- activations: Tensor methods (their Functions are in tinymed.autograd) -----------------
def relu(input, inplace=False) -> Tensor:
    """:math:`\\max(x, 0)` elementwise (``inplace`` is accepted for compatibility and ignored)."""
    return C.tensor("relu", "input", input).relu()


def sigmoid(input) -> Tensor:
    return C.tensor("sigmoid", "input", input).sigmoid()


def tanh(input) -> Tensor:
    return C.tensor("tanh", "input", input).tanh()


def softmax(input, dim=-1) -> Tensor:
    """Softmax along ``dim`` (default: the last axis)."""
    return C.tensor("softmax", "input", input).softmax(dim)


def log_softmax(input, dim=-1) -> Tensor:
    """Log-softmax along ``dim`` (default: the last axis), computed stably."""
    return C.tensor("log_softmax", "input", input).log_softmax(dim)


def gelu(input, approximate="none") -> Tensor:
    r"""GELU, :math:`x\,\Phi(x)` with :math:`\Phi` the standard normal CDF (BERT's); with
    ``approximate="tanh"``, :math:`\tfrac12 x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))`
    (GPT-2's).  Elementwise, any shape."""
    x = C.tensor("gelu", "input", input)
    C.require_float("gelu", "input", x)
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {GELU_APPROXIMATIONS}, got {approximate!r}")
    return GELUFunction.apply(x, approximate=approximate)


def dropout(input, p=0.5, training=True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` (inverted
    dropout, so evaluation needs no rescaling).  Identity when ``training`` is False.
    The mask comes from tinymed's seeded generator (:func:`tinymed.manual_seed`)."""
    p = C.probability("dropout", "p", p)
    x = C.tensor("dropout", "input", input)
    if not training or p == 0:
        return x
    if p == 1:
        return x * 0.0
    keep = generator().random(x.shape) >= p
    mask = backend.asarray(keep.astype(x.dtype) / x.dtype.type(1 - p))
    return x * Tensor(mask)


# ----- convolution and pooling ------------------------------------------------------------
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) -> Tensor:
    """2-D convolution (F3), PyTorch layout: input (N, C, H, W) or (C, H, W),
    weight (K, C, KH, KW), bias (K,).  ``padding`` is an int, a pair, 'valid' or 'same'."""
    op = "conv2d"
    x, w = C.tensor(op, "input", input), C.tensor(op, "weight", weight)
    C.require_float(op, "input", x)
    if groups != 1:
        raise ValueError(f"conv2d: only groups=1 is supported, got groups={groups}")
    if w.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got shape {w.shape}")
    x4, unbatched = C.batched_images(op, x)
    if x4.shape[1] != w.shape[1]:
        raise ValueError(
            f"conv2d: input has {x4.shape[1]} channels but weight expects {w.shape[1]} "
            f"(input shape {x.shape}, weight shape {w.shape})"
        )
    C.same_dtype(op, "input", x, "weight", w)
    stride = C.pair(op, "stride", stride, 1)
    dilation = C.pair(op, "dilation", dilation, 1)
    kernel = w.shape[2:]
    padding = C.conv_padding(op, padding, kernel, dilation, stride)
    for axis, size in enumerate(x4.shape[2:]):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        if span > size + 2 * padding[axis]:
            raise ValueError(
                f"conv2d: kernel size {tuple(kernel)} (dilated: {span}) is larger than the padded "
                f"input {tuple(x4.shape[2:])} + padding {padding}"
            )
    if bias is not None:
        bias = C.tensor(op, "bias", bias)
        if bias.shape != (w.shape[0],):
            raise ValueError(f"conv2d: bias must have shape ({w.shape[0]},), got {bias.shape}")
        C.same_dtype(op, "bias", bias, "weight", w)
    y = Conv2dFunction.apply(x4, w, bias, stride=stride, padding=padding, dilation=dilation)
    return y.reshape(y.shape[1:]) if unbatched else y


def _pool_args(op, input, kernel_size, stride, padding):
    x = C.tensor(op, "input", input)
    C.require_float(op, "input", x)
    x4, unbatched = C.batched_images(op, x)
    kernel, stride, padding = C.pool_geometry(op, kernel_size, stride, padding)
    for axis, size in enumerate(x4.shape[2:]):
        if kernel[axis] > size + 2 * padding[axis]:
            raise ValueError(
                f"{op}: kernel_size {kernel} is larger than the padded input "
                f"{tuple(x4.shape[2:])} + padding {padding}"
            )
    return x4, unbatched, kernel, stride, padding


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False) -> Tensor:
    """Max pooling (F4) over ``kernel_size`` windows; ``stride`` defaults to ``kernel_size``."""
    if dilation not in (1, (1, 1)) or ceil_mode or return_indices:
        raise ValueError("max_pool2d: dilation, ceil_mode and return_indices are not supported")
    x4, unbatched, kernel, stride, padding = _pool_args("max_pool2d", input, kernel_size, stride, padding)
    y = MaxPool2dFunction.apply(x4, kernel_size=kernel, stride=stride, padding=padding)
    return y.reshape(y.shape[1:]) if unbatched else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None) -> Tensor:
    """Average pooling; padded zeros count in the mean unless ``count_include_pad=False``."""
    if ceil_mode or divisor_override is not None:
        raise ValueError("avg_pool2d: ceil_mode and divisor_override are not supported")
    x4, unbatched, kernel, stride, padding = _pool_args("avg_pool2d", input, kernel_size, stride, padding)
    y = AvgPool2dFunction.apply(x4, kernel_size=kernel, stride=stride, padding=padding,
                                count_include_pad=bool(count_include_pad))
    return y.reshape(y.shape[1:]) if unbatched else y


# ----- losses -----------------------------------------------------------------------------
def _loss_shapes(op, x: Tensor, t: Tensor):
    if x.shape != t.shape:
        raise ValueError(f"{op}: input and target must have the same shape, got {x.shape} and {t.shape}")


def _weighted(loss_fn, op, x, t, weight, reduction):
    if weight is None:
        return loss_fn.apply(x, t, reduction=reduction)
    per_element = loss_fn.apply(x, t, reduction="none") * C.tensor(op, "weight", weight)
    if reduction == "none":
        return per_element
    return per_element.mean() if reduction == "mean" else per_element.sum()


def mse_loss(input, target, reduction="mean") -> Tensor:
    """F12: :math:`\\frac1n\\sum_i (\\hat y_i - y_i)^2`."""
    x = C.tensor("mse_loss", "input", input)
    C.require_float("mse_loss", "input", x)
    C.reduction("mse_loss", reduction)
    t = C.target("mse_loss", target, x)
    _loss_shapes("mse_loss", x, t)
    return MSELossFunction.apply(x, t, reduction=reduction)


def cross_entropy(input, target, reduction="mean") -> Tensor:
    """Softmax cross-entropy from logits ``(N, C)`` (or ``(C,)``) and integer targets ``(N,)``."""
    op = "cross_entropy"
    x = C.tensor(op, "input", input)
    C.require_float(op, "input", x)
    C.reduction(op, reduction)
    host = C.host_array(target)  # the class indices are checked here, before they move to a device
    t = C.target(op, target, x, integer=True)
    if x.ndim == 1:
        if t.size != 1:
            raise ValueError(f"{op}: an unbatched input of shape {x.shape} takes one class index as target, "
                             f"got target shape {t.shape}")
        x, t = x.reshape(1, -1), t.reshape(1)
        unbatched = True
    else:
        unbatched = False
    if x.ndim != 2:
        raise ValueError(f"{op}: input must be (N, C) logits or (C,), got shape {x.shape}")
    if t.shape != (x.shape[0],):
        raise ValueError(f"{op}: target must have shape ({x.shape[0]},) for input {x.shape}, got {t.shape}")
    C.index_range(op, "target values must be class indices", t.data if host is None else host, x.shape[1])
    loss = CrossEntropyLossFunction.apply(x, t, reduction=reduction)
    return loss.reshape(()) if unbatched and reduction == "none" else loss


def binary_cross_entropy(input, target, weight=None, reduction="mean") -> Tensor:
    """BCE on probabilities in [0, 1]; prefer :func:`binary_cross_entropy_with_logits`."""
    op = "binary_cross_entropy"
    x = C.tensor(op, "input", input)
    C.require_float(op, "input", x)
    C.reduction(op, reduction)
    t = C.target(op, target, x)
    _loss_shapes(op, x, t)
    # on a GPU this check would stop every training step for a transfer; there, probabilities out
    # of range give a NaN loss instead, which fit reports with its likely causes
    if x.size and backend.array_module(x.data) is np and bool(((x.data < 0) | (x.data > 1)).any()):
        raise ValueError(f"{op}: input must be probabilities in [0, 1]; for logits use "
                         "binary_cross_entropy_with_logits")
    return _weighted(BCELossFunction, op, x, t, weight, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean") -> Tensor:
    """BCE on logits, stable for logits of any size (no NaN or inf at ±1e4)."""
    op = "binary_cross_entropy_with_logits"
    x = C.tensor(op, "input", input)
    C.require_float(op, "input", x)
    C.reduction(op, reduction)
    t = C.target(op, target, x)
    _loss_shapes(op, x, t)
    return _weighted(BCEWithLogitsLossFunction, op, x, t, weight, reduction)


# ----- recurrent layers (F6) -----------------------------------------------------------------
def _recurrent_args(op, gates, input, states, weight_ih, weight_hh, bias_ih, bias_hh):
    """Check a recurrent layer's arguments; return them as Tensors with zero biases filled in."""
    x = C.tensor(op, "input", input)
    C.require_float(op, "input", x)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"{op}: input must be 3-D (seq_len, batch, input_size) with seq_len >= 1, "
                         f"got shape {x.shape}")
    w_ih, w_hh = C.tensor(op, "weight_ih", weight_ih), C.tensor(op, "weight_hh", weight_hh)
    if w_hh.ndim != 2 or w_hh.shape[0] % gates or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{op}: weight_hh must have shape ({gates}*hidden_size, hidden_size), got {w_hh.shape}")
    hidden = w_hh.shape[1]
    if w_ih.shape != (gates * hidden, x.shape[2]):
        raise ValueError(f"{op}: weight_ih must have shape ({gates * hidden}, input_size={x.shape[2]}) "
                         f"for input of shape {x.shape}, got {w_ih.shape}")
    for name, t in (("weight_ih", w_ih), ("weight_hh", w_hh)):
        C.same_dtype(op, "input", x, name, t)
    biases = []
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b is None:
            biases.append(None)
            continue
        b = C.tensor(op, name, b)
        if b.shape != (gates * hidden,):
            raise ValueError(f"{op}: {name} must have shape ({gates * hidden},), got {b.shape}")
        C.same_dtype(op, "input", x, name, b)
        biases.append(b)
    checked = []
    for name, s in states:
        s = Tensor(backend.xp().zeros((x.shape[1], hidden), dtype=x.dtype)) if s is None else C.tensor(op, name, s)
        if s.shape != (x.shape[1], hidden):
            raise ValueError(f"{op}: {name} must have shape (batch={x.shape[1]}, hidden_size={hidden}), got {s.shape}")
        C.same_dtype(op, "input", x, name, s)
        checked.append(s)
    return x, checked, w_ih, w_hh, biases


def rnn_tanh(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False) -> Tensor:
    r"""One Elman RNN layer over a whole sequence (F6): :math:`h_t = \tanh(W h_{t-1} + U x_t + b)`
    with ``W = weight_hh``, ``U = weight_ih``, ``b = bias_ih + bias_hh``.

    input (T, N, I) time first; hx (N, H) or None (zeros); weight_ih (H, I); weight_hh (H, H).
    Returns every hidden state, (T, N, H).  ``reverse=True`` runs from t = T down to 1 (the
    backward half of a bidirectional layer); the result is still indexed by input time.
    """
    x, (h0,), w_ih, w_hh, (b_ih, b_hh) = _recurrent_args(
        "rnn_tanh", 1, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh)
    return RNNTanhFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))


def lstm(input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False):
    """One LSTM layer over a whole sequence, PyTorch's gates ``i, f, g, o`` in that order.

    input (T, N, I); hx, cx (N, H) or None; weight_ih (4H, I); weight_hh (4H, H).
    Returns ``(h, c)``: every hidden state and every cell state, each (T, N, H).
    """
    x, (h0, c0), w_ih, w_hh, (b_ih, b_hh) = _recurrent_args(
        "lstm", 4, input, [("hx", hx), ("cx", cx)], weight_ih, weight_hh, bias_ih, bias_hh)
    both = LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))
    return both[0], both[1]


def gru(input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False) -> Tensor:
    """One GRU layer over a whole sequence, PyTorch's gates ``r, z, n`` in that order.

    input (T, N, I); hx (N, H) or None; weight_ih (3H, I); weight_hh (3H, H).
    Returns every hidden state, (T, N, H).
    """
    x, (h0,), w_ih, w_hh, (b_ih, b_hh) = _recurrent_args(
        "gru", 3, input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh)
    return GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, reverse=bool(reverse))


# ----- attention (F7) ---------------------------------------------------------------------------
def _attention_bias(op, mask, q: Tensor, scores_shape, is_causal):
    """The additive mask: 0 where a query may attend, -inf where not (bool masks), or the float
    mask itself (a Tensor, so it may carry a gradient)."""
    xp = backend.array_module(q.data)
    L, S = scores_shape[-2:]
    if is_causal:
        if mask is not None:
            raise ValueError(f"{op}: give either attn_mask or is_causal=True, not both")
        mask = xp.tril(xp.ones((L, S), dtype=bool))
    if mask is None:
        return None
    m = mask if isinstance(mask, Tensor) else Tensor(backend.asarray(mask))
    try:
        fits = np.broadcast_shapes(m.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{op}: attn_mask of shape {m.shape} does not broadcast to the attention "
                         f"scores' shape {tuple(scores_shape)} (batch..., L={L}, S={S})")
    if m.dtype == bool:
        return Tensor(xp.where(m.data, 0.0, -np.inf).astype(q.dtype))
    if m.dtype.kind != "f":
        raise TypeError(f"{op}: attn_mask must be boolean (True = may attend) or float (added to the "
                        f"scores), got dtype {m.dtype}")
    C.same_dtype(op, "query", q, "attn_mask", m)
    return m


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False,
                                 scale=None, *, return_weights=False):
    r"""Attention (F7) with PyTorch's signature: ``softmax(Q K^T * scale + mask) V``.

    query (..., L, E), key (..., S, E), value (..., S, Ev) with equal leading (batch, head)
    dimensions; returns (..., L, Ev).  ``scale`` defaults to :math:`1/\sqrt{E}`.

    ``attn_mask``: boolean, **True = may attend** (as in PyTorch's function -- note that
    ``nn.MultiheadAttention`` uses the opposite convention), or float, added to the scores
    (``-inf`` masks); a NumPy array or a Tensor broadcastable to (..., L, S).
    ``is_causal=True`` lets query i see keys j <= i only.  Masked keys get exactly zero weight.
    A query whose keys are *all* masked gets zero weights and a zero output (PyTorch: NaN).
    ``dropout_p`` drops weights (and rescales the rest) on every call, as PyTorch's function
    does; modules pass 0 in eval mode.  With ``return_weights=True`` the result is
    ``(output, weights)``, the weights (..., L, S) before dropout as a Tensor without gradient,
    e.g. for plotting.
    """
    op = "scaled_dot_product_attention"
    q, k, v = (C.tensor(op, n, t) for n, t in (("query", query), ("key", key), ("value", value)))
    for name, t in (("query", q), ("key", k), ("value", v)):
        C.require_float(op, name, t)
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dimensions (..., length, features), "
                             f"got shape {t.shape}")
    C.same_dtype(op, "query", q, "key", k)
    C.same_dtype(op, "query", q, "value", v)
    if not (q.shape[:-2] == k.shape[:-2] == v.shape[:-2]):
        raise ValueError(f"{op}: query, key and value must have the same leading (batch) dimensions, "
                         f"got shapes {q.shape}, {k.shape}, {v.shape}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"{op}: key has {k.shape[-1]} features but query has {q.shape[-1]} "
                         f"(shapes {k.shape} and {q.shape})")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"{op}: value has length {v.shape[-2]} but key has length {k.shape[-2]}")
    if not 0 <= dropout_p < 1:
        raise ValueError(f"{op}: dropout_p must be in [0, 1), got {dropout_p}")
    scores_shape = q.shape[:-1] + (k.shape[-2],)
    bias = _attention_bias(op, attn_mask, q, scores_shape, is_causal)
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else float(scale)
    keep = None
    if dropout_p > 0:
        kept = generator().random(scores_shape) >= dropout_p
        keep = backend.asarray((kept / (1 - dropout_p)).astype(q.dtype))
    sink = [] if return_weights else None
    out = ScaledDotProductAttentionFunction.apply(q, k, v, bias, scale=q.dtype.type(scale), keep=keep, sink=sink)
    return (out, Tensor(sink[0])) if return_weights else out


# ----- normalisation and embedding ----------------------------------------------------------------
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5) -> Tensor:
    r"""Normalise over the trailing ``normalized_shape`` axes:
    :math:`y = \gamma\,(x - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta` (biased variance, as PyTorch)."""
    op = "layer_norm"
    x = C.tensor(op, "input", input)
    C.require_float(op, "input", x)
    shape = C.shape_tuple(op, "normalized_shape", normalized_shape)
    if x.shape[x.ndim - len(shape):] != shape or len(shape) > x.ndim:
        raise ValueError(f"{op}: input's trailing dimensions must equal normalized_shape={shape}, "
                         f"got input shape {x.shape}")
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None:
            p = C.tensor(op, name, p)
            if p.shape != shape:
                raise ValueError(f"{op}: {name} must have shape normalized_shape={shape}, got {p.shape}")
            C.same_dtype(op, "input", x, name, p)
        params.append(p)
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps}")
    return LayerNormFunction.apply(x, params[0], params[1], normalized_shape=shape, eps=float(eps))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False) -> Tensor:
    """Look up rows of ``weight (num_embeddings, D)`` for integer ``input (...)`` -> (..., D).

    ``padding_idx``: that row receives no gradient.  ``input`` may be a NumPy array or a
    Tensor of integers.  (``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not
    supported.)
    """
    op = "embedding"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise ValueError(f"{op}: max_norm, scale_grad_by_freq and sparse are not supported")
    w = C.tensor(op, "weight", weight)
    if w.ndim != 2:
        raise ValueError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {w.shape}")
    host = C.host_array(input)  # checked here, before the indices move to a device
    idx = input.data if isinstance(input, Tensor) else backend.asarray(input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {idx.dtype}")
    n = w.shape[0]
    C.index_range(op, "indices must be", idx if host is None else host, n, "num_embeddings")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx must be within num_embeddings={n}, got {padding_idx}")
        padding_idx = int(padding_idx) % n
    return EmbeddingFunction.apply(w, Tensor(idx), padding_idx=padding_idx)


# ----- joining tensors ------------------------------------------------------------------------------
def cat(tensors, dim=0) -> Tensor:
    """``torch.cat``: join tensors of equal shape except along ``dim`` (used by the
    bidirectional recurrent layers and the encoder-decoder)."""
    ts = [C.tensor("cat", f"tensors[{i}]", t) for i, t in enumerate(tensors)]
    if not ts:
        raise ValueError("cat: expected at least one tensor")
    if ts[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    axis = C.dim_index("cat", ts[0], dim)
    for i, t in enumerate(ts[1:], 1):
        if t.ndim != ts[0].ndim or t.shape[:axis] + t.shape[axis + 1:] != ts[0].shape[:axis] + ts[0].shape[axis + 1:]:
            raise ValueError(f"cat: tensors[{i}] has shape {t.shape}, which does not match tensors[0] "
                             f"{ts[0].shape} outside dim {axis}")
        C.same_dtype("cat", "tensors[0]", ts[0], f"tensors[{i}]", t)
    return ConcatenateFunction.apply(*ts, dim=axis)


def stack(tensors, dim=0) -> Tensor:
    """``torch.stack``: join tensors of equal shape along a new axis ``dim``."""
    ts = [C.tensor("stack", f"tensors[{i}]", t) for i, t in enumerate(tensors)]
    if not ts:
        raise ValueError("stack: expected at least one tensor")
    axis = C.dim_index("stack", ts[0].ndim + 1, dim)
    return cat([t.reshape(t.shape[:axis] + (1,) + t.shape[axis:]) for t in ts], dim=axis)
