"""Hypothesis strategies for the inputs of the tests, defined once.

Sizes are drawn small on purpose: a gradient check perturbs every element twice, so a case
costs two forward passes per input element, and a bug shows at size 2 as well as at 200.
"""

import numpy as np
from hypothesis import strategies as st

seeds = st.integers(0, 2**32 - 1)
"""Seeds of ``np.random.default_rng``: hypothesis draws the shapes, a seeded generator the values."""

dtypes = st.sampled_from([np.float64, np.float32])
"""The floating-point types every backend must support (agreement and PyTorch parity)."""

layouts = st.booleans()
"""Memory layouts: True for a non-contiguous (strided) view, False for C order (see
:func:`tests.helpers.in_layout`)."""

reductions = st.sampled_from(["mean", "sum", "none"])


def shapes(max_dims=3, max_side=4):
    """Shapes of 1 to ``max_dims`` axes, each of length 1 to ``max_side``."""
    return st.lists(st.integers(1, max_side), min_size=1, max_size=max_dims).map(tuple)


@st.composite
def conv_geometry(draw, max_batch=2, max_channels=3, max_kernel=3, max_side=7, max_stride=3, max_padding=2,
                  max_dilation=2):
    """``(x_shape, w_shape, stride, padding, dilation)`` of a valid ``conv2d``: input (N, C, H, W),
    weight (K, C, KH, KW), and a dilated kernel that fits the padded input."""
    n, c, k = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels)), draw(st.integers(1, max_channels))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = (draw(st.integers(0, max_padding)), draw(st.integers(0, max_padding)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    # the smallest input the dilated kernel fits: dilation*(kernel-1) + 1 <= size + 2*padding
    smallest = [max(1, d * (kk - 1) + 1 - 2 * p) for d, kk, p in zip(dilation, kernel, padding)]
    h, w = (draw(st.integers(s, max(s, max_side))) for s in smallest)
    return (n, c, h, w), (k, c) + kernel, stride, padding, dilation


@st.composite
def pool_geometry(draw, max_batch=2, max_channels=3, max_kernel=3, max_side=7, max_stride=3):
    """``(x_shape, kernel_size, stride, padding)`` of a valid pooling: padding at most half the
    kernel (as PyTorch requires), an input at least as large as the kernel.  Strides smaller
    than the kernel (overlapping windows) are drawn as often as the others."""
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    h, w = draw(st.integers(kernel[0], max_side)), draw(st.integers(kernel[1], max_side))
    n, c = draw(st.integers(1, max_batch)), draw(st.integers(1, max_channels))
    return (n, c, h, w), kernel, stride, padding


@st.composite
def recurrent_sizes(draw, max_steps=4, max_batch=3, max_features=3):
    """``(steps, batch, input_size, hidden_size)``, each at least 1."""
    return (draw(st.integers(1, max_steps)), draw(st.integers(1, max_batch)),
            draw(st.integers(1, max_features)), draw(st.integers(1, max_features)))


@st.composite
def recurrent_case(draw, gates):
    """Float64 inputs of a recurrent layer with ``gates`` gates (RNN 1, GRU 3, LSTM 4), and
    whether it runs in reverse, has biases and is given its initial state:
    ``(arrays, reverse, with_bias, with_state)``."""
    steps, batch, n_in, hidden = draw(recurrent_sizes())
    rng = np.random.default_rng(draw(seeds))
    arrays = dict(
        x=rng.standard_normal((steps, batch, n_in)),
        h0=rng.standard_normal((batch, hidden)),
        c0=rng.standard_normal((batch, hidden)),
        w_ih=0.8 * rng.standard_normal((gates * hidden, n_in)),
        w_hh=0.8 * rng.standard_normal((gates * hidden, hidden)),
        b_ih=rng.standard_normal(gates * hidden),
        b_hh=rng.standard_normal(gates * hidden),
    )
    return arrays, draw(st.booleans()), draw(st.booleans()), draw(st.booleans())


@st.composite
def attention_case(draw):
    """Float64 ``(q, k, v, mask_kind, mask, scale)`` for ``scaled_dot_product_attention``: up to
    two leading (batch, head) axes; masks none, boolean (True = may attend), boolean with a
    query that may attend to nothing, additive float, or causal."""
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    length, source = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    e, ev = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(seeds))
    q = rng.standard_normal(lead + (length, e))
    k = rng.standard_normal(lead + (source, e))
    v = rng.standard_normal(lead + (source, ev))
    kind = draw(st.sampled_from(["none", "bool", "bool_rows", "float", "causal"]))
    mask = None
    if kind in ("bool", "bool_rows"):
        mask = rng.random((length, source)) < 0.7  # True = may attend
        if kind == "bool_rows":
            mask[rng.integers(length)] = False  # a query that may attend to nothing
    elif kind == "float":
        mask = rng.standard_normal(lead[-1:] + (length, source))
    scale = draw(st.sampled_from([None, 0.5, 2.0]))
    return q, k, v, kind, mask, scale


@st.composite
def multihead_case(draw):
    """``(heads, embed_dim, batch, length, source, batch_first, masks, average_attn_weights)``
    for ``nn.MultiheadAttention``."""
    heads = draw(st.sampled_from([1, 2, 4]))
    embed = heads * draw(st.integers(1, 3))
    batch, length, source = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 5))
    masks = st.sampled_from(["none", "padding", "bool", "float", "float3d", "both", "causal"])
    return heads, embed, batch, length, source, draw(st.booleans()), draw(masks), draw(st.booleans())
