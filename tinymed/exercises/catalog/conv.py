"""Exercises on 2-D convolution (F3): its forward pass with loops, then im2col and the backward pass."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes

_NO_DILATION = (1, 1)


def conv2d_forward(x, w, b, stride, padding):
    return reference.conv2d_forward(x, w, b, (stride, stride), (padding, padding), (1, 1))


def im2col(x, kh, kw, stride, padding):
    cols = reference.im2col(x, kh, kw, (stride, stride), (padding, padding), (1, 1))
    n, c, _, _, oh, ow = cols.shape
    return cols.reshape(n, c * kh * kw, oh * ow)


def conv2d_backward(dy, x, w, stride, padding):
    return reference.conv2d_backward(dy, x, w, (stride, stride), (padding, padding), (1, 1))


# ----- inputs --------------------------------------------------------------------------------------
@st.composite
def _geometry(draw):
    """``(x_shape, w_shape, stride, padding)`` of a small valid convolution."""
    n, c, k = draw(sizes(1, 2)), draw(sizes(1, 2)), draw(sizes(1, 2))
    kh, kw = draw(sizes(1, 3)), draw(sizes(1, 3))
    stride, padding = draw(sizes(1, 2)), draw(st.integers(0, 1))
    h, w = draw(st.integers(max(1, kh - 2 * padding), 4)), draw(st.integers(max(1, kw - 2 * padding), 4))
    return (n, c, h, w), (k, c, kh, kw), stride, padding


def _output_shape(x_shape, w_shape, stride, padding):
    out = [reference.conv2d_output_size(size, kernel, stride, padding, 1) for size, kernel in
           zip(x_shape[2:], w_shape[2:])]
    return (x_shape[0], w_shape[0], *out)


def _forward_cases():
    return _geometry().flatmap(lambda g: st.tuples(arrays(g[0]), arrays(g[1]), arrays((g[1][0],)), st.just(g[2]),
                                                   st.just(g[3])))


def _im2col_cases():
    return _geometry().flatmap(lambda g: st.tuples(arrays(g[0]), st.just(g[1][2]), st.just(g[1][3]), st.just(g[2]),
                                                   st.just(g[3])))


def _backward_cases():
    return _geometry().flatmap(lambda g: st.tuples(arrays(_output_shape(*g)), arrays(g[0]), arrays(g[1]),
                                                   st.just(g[2]), st.just(g[3])))


def _forward_examples():
    x, w, b = normal(10, (2, 3, 5, 6), (4, 3, 3, 2), (4,))
    return [(x, w, b, 2, 1), (x, w, b, 1, 0)]


def _backward_examples():
    out = []
    for x, w, _, stride, padding in _forward_examples():
        (dy,) = normal(11, _output_shape(x.shape, w.shape, stride, padding))
        out.append((dy, x, w, stride, padding))
    return out


# ----- known mistakes ------------------------------------------------------------------------------
def _one_sided(x, padding):
    """``x`` padded with ``2 * padding`` zeros on the top and the left only."""
    return np.pad(x, ((0, 0), (0, 0), (2 * padding, 0), (2 * padding, 0)))


def _conv_one_sided(x, w, b, stride, padding):
    return conv2d_forward(_one_sided(x, padding), w, b, stride, 0)


def _im2col_one_sided(x, kh, kw, stride, padding):
    return im2col(_one_sided(x, padding), kh, kw, stride, 0)


def _im2col_rows_qpc(x, kh, kw, stride, padding):
    """Rows ordered (p, q, c), channel fastest."""
    cols = reference.im2col(x, kh, kw, (stride, stride), (padding, padding), _NO_DILATION)
    n, c, _, _, oh, ow = cols.shape
    return cols.transpose(0, 2, 3, 1, 4, 5).reshape(n, c * kh * kw, oh * ow)


def _dx_cropped_at_the_corner(dy, x, w, stride, padding):
    """The padded input's gradient cropped at its top-left corner instead of its centre."""
    n, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    oh, ow = dy.shape[2:]
    dcols = (w.reshape(k, -1).T @ dy.reshape(n, k, oh * ow)).reshape(n, c, kh, kw, oh, ow)
    dxpad = reference.col2im(dcols, (n, c, h + 2 * padding, wd + 2 * padding), (stride, stride), (0, 0), _NO_DILATION)
    _, dw, db = conv2d_backward(dy, x, w, stride, padding)
    return dxpad[:, :, :h, :wd], dw, db


def _last_sample_weights(dy, x, w, stride, padding):
    dx, _, _ = conv2d_backward(dy, x, w, stride, padding)
    _, dw, db = conv2d_backward(dy[-1:], x[-1:], w, stride, padding)
    return dx, dw, db


_ONE_SIDED = "the padding is on one side only: pad every side with `padding` zeros, top and bottom, left and right"

CONV2D_LOOPS = Exercise(
    name="conv2d_loops",
    title="a 2-D convolution's forward pass, with loops (F3)",
    lesson="lesson 02, Convolution (tinymed lesson 2)",
    formula=r"y[n, j, o_h, o_w] = b_j + \sum_{c, p, q} w[j, c, p, q]\; x_{\mathrm{pad}}[n, c, o_h s + p, o_w s + q]",
    intro="Write the forward pass of a convolutional layer as plain loops over the output positions: every output "
          "pixel is a filter laid on a patch of the zero-padded input, multiplied entry by entry and summed, plus "
          "the filter's bias. (Deep-learning 'convolution' does not flip the filter: it is a cross-correlation.)",
    source="tinymed/kernels/reference/conv.py (conv2d_forward, im2col)",
    tasks=(Task(
        name="conv2d_forward", params=("x", "w", "b", "stride", "padding"), outputs=("y",),
        doc=r"""The convolution :math:`y = x \star w + b` with a square ``stride`` and ``padding`` (F3).

    x (N, C, H, W): images; w (K, C, KH, KW): K filters; b (K,): their biases; stride, padding: ints.
    Returns y (N, K, OH, OW) with :math:`OH = \lfloor (H + 2P - KH) / S \rfloor + 1` (OW likewise).""",
        reference=conv2d_forward, cases=_forward_cases, examples=_forward_examples,
        edge_cases=(
            EdgeCase("padding 2 around a 3x3 filter", lambda: (*normal(12, (1, 2, 3, 3), (2, 2, 3, 3), (2,)), 1, 2)),
            EdgeCase("stride 2 on an odd size: the last column is dropped",
                     lambda: (*normal(13, (1, 1, 5, 6), (1, 1, 2, 2), (1,)), 2, 0)),
            EdgeCase("a 1x1 filter mixes channels only", lambda: (*normal(14, (2, 3, 2, 2), (2, 3, 1, 1), (2,)), 1, 0)),
            EdgeCase("an empty batch", lambda: (np.zeros((0, 2, 4, 4)), *normal(15, (3, 2, 2, 2), (3,)), 1, 1)),
        ),
        mistakes=(Mistake("one_sided_padding", _ONE_SIDED, _conv_one_sided),
                  Mistake("flipped_filter", "the filter is flipped: a deep-learning convolution is a "
                                            "cross-correlation, y = sum of x[oh*s + p, ow*s + q] * w[p, q], no flip",
                          lambda x, w, b, s, p: conv2d_forward(x, w[:, :, ::-1, ::-1], b, s, p)),
                  Mistake("missing_bias", "the bias is not added",
                          lambda x, w, b, s, p: conv2d_forward(x, w, None, s, p))),
    ),),
)

CONV2D_IM2COL = Exercise(
    name="conv2d_im2col",
    title="im2col, and a 2-D convolution's backward pass (F3)",
    lesson="lesson 02, Convolution (tinymed lesson 2)",
    formula=r"Y_n = W\, \mathrm{cols}(x_n) + b, \quad W \in \mathbb{R}^{K \times C K_H K_W},\ "
            r"\mathrm{cols}(x_n) \in \mathbb{R}^{C K_H K_W \times O_H O_W}",
    intro="Article 004 writes a convolution as a matrix product, y_ij = sum_k x_ik w_kj + b_j. It is one once every "
          "patch of the input is a column of a matrix (im2col): write im2col, then the backward pass of the "
          "convolution -- two more matrix products, and the adjoint of im2col, which adds every patch's gradient "
          "back onto the pixels it came from.",
    source="tinymed/kernels/reference/conv.py (im2col, col2im, conv2d_backward)",
    tasks=(
        Task(name="im2col", params=("x", "kh", "kw", "stride", "padding"), outputs=("cols",),
             doc=r"""The patches of the zero-padded ``x`` as columns.

    x (N, C, H, W); kh, kw: the filter's size; stride, padding: ints. Returns cols (N, C*KH*KW, OH*OW):
    ``cols[n, (c, p, q), (oh, ow)] = xpad[n, c, oh*stride + p, ow*stride + q]``, the row index
    :math:`(c\,K_H + p)\,K_W + q` (as ``w.reshape(K, -1)`` flattens a filter) and the column :math:`o_h O_W + o_w`.""",
             reference=im2col, cases=_im2col_cases,
             examples=lambda: [(e[0], 3, 2, e[3], e[4]) for e in _forward_examples()],
             edge_cases=(EdgeCase("padding 1 around a 3x3 filter", lambda: (*normal(16, (1, 2, 3, 4)), 3, 3, 1, 1)),
                         EdgeCase("an empty batch", lambda: (np.zeros((0, 2, 3, 3)), 2, 2, 1, 0))),
             mistakes=(Mistake("one_sided_padding", _ONE_SIDED, _im2col_one_sided),
                       Mistake("rows_out_of_order", "the rows are in the wrong order: row (c, p, q) with the "
                                                    "channel c slowest, as w.reshape(K, -1) flattens a filter",
                               _im2col_rows_qpc))),
        Task(name="conv2d_backward", params=("dy", "x", "w", "stride", "padding"), outputs=("dx", "dw", "db"),
             doc=r"""Gradients of :math:`y = x \star w + b` (see :func:`im2col`).

    dy (N, K, OH, OW): :math:`\partial L/\partial y`; x (N, C, H, W); w (K, C, KH, KW); stride, padding: ints.
    Returns ``(dx, dw, db)``, shaped like x, w and (K,).""",
             reference=conv2d_backward, cases=_backward_cases, examples=_backward_examples,
             edge_cases=(
                 EdgeCase("overlapping patches (stride 1, 3x3, padding 1): pixels collect several gradients",
                          lambda: (*normal(17, (1, 2, 4, 4), (1, 3, 4, 4), (2, 3, 3, 3)), 1, 1)),
                 EdgeCase("stride 2 leaves pixels no patch sees: their gradient is 0",
                          lambda: (*normal(18, (1, 1, 2, 2), (1, 1, 5, 5), (1, 1, 2, 2)), 2, 0)),
                 EdgeCase("an empty batch: zero weight and bias gradients",
                          lambda: (np.zeros((0, 2, 3, 3)), np.zeros((0, 1, 3, 3)), *normal(19, (2, 1, 3, 3)), 1, 1)),
             ),
             gradient=Gradient(forward=conv2d_forward, backward=lambda fn, dy, x, w, b, s, p: fn(dy, x, w, s, p),
                               examples=lambda: _forward_examples(), names=("x", "w", "b", "stride", "padding"),
                               wrt=("x", "w", "b")),
             mistakes=(Mistake("one_sided_padding", "dx is cropped from the padded input's top-left corner: the "
                                                    "padding is on both sides, so crop [P:P+H, P:P+W]",
                               _dx_cropped_at_the_corner),
                       Mistake("missing_bias_gradient", "the bias gradient is missing: db_j = sum of dy[:, j] over the "
                                                        "batch and the positions",
                               lambda dy, x, w, s, p: conv2d_backward(dy, x, w, s, p)[:2] + (np.zeros(w.shape[0]),)),
                       Mistake("last_sample_only", "only the last sample's weight gradient: every sample's must be "
                                                   "added (+=), not assigned (=)", _last_sample_weights)),
             factors=lambda dy, x, w, s, p: {"N (the batch size)": x.shape[0]}),
    ),
)
