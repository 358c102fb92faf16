r"""2-D convolution (cross-correlation, as in every deep-learning library) -- article formula F3.

Article 004 §3.1.1.1 writes a convolutional layer as

.. math::  y_{ij} = \sum_k x_{ik}\, w_{kj} + b_j

which is a *matrix product*.  It becomes exactly a convolution once we say what the rows
and columns are:

* row :math:`i` is one output position :math:`(n, o_h, o_w)`;
* :math:`x_{ik}` is entry :math:`k = (c, p, q)` of the receptive field (the "patch") under
  that position: :math:`x_{ik} = x[n, c, o_h s_h + p\,d_h - P_h, o_w s_w + q\,d_w - P_w]`
  (stride :math:`s`, dilation :math:`d`, zero padding :math:`P`);
* column :math:`j` is one output channel (filter), :math:`w_{kj} = w[j, c, p, q]`.

Writing all patches as the rows of one matrix is called *im2col*; convolution is then
``patches @ filters + bias`` -- the same formula as a dense layer (F1), applied to every
patch with shared weights.  The backward pass is two more matrix products and *col2im*,
which adds each patch's gradient back onto the pixels it came from (pixels covered by
several patches collect several contributions).

Shapes (PyTorch layout): ``x (N, C, H, W)``, ``w (K, C, KH, KW)``, ``b (K,)`` or ``None``,
``y (N, K, OH, OW)`` with :math:`OH = \lfloor (H + 2P_h - d_h(KH-1) - 1)/s_h \rfloor + 1`.
``stride``, ``padding`` and ``dilation`` are pairs of ints.
"""

from ...backend import array_module


def conv2d_output_size(size, kernel, stride, padding, dilation):
    """Output length along one axis: ``(size + 2*padding - dilation*(kernel-1) - 1)//stride + 1``."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def im2col(x, kh, kw, stride, padding, dilation, fill=0.0):
    """Patches of ``x (N, C, H, W)`` -> ``cols (N, C, KH, KW, OH, OW)``.

    ``cols[n, c, p, q, oh, ow]`` is the input pixel that kernel tap ``(p, q)`` sees at
    output position ``(oh, ow)``; taps that fall in the padding read ``fill`` (0 for
    convolution, -inf for max pooling).  One strided slice per tap: KH*KW vectorised copies.
    """
    xp = array_module(x)
    n, c, h, w = x.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    oh = conv2d_output_size(h, kh, sh, ph, dh)
    ow = conv2d_output_size(w, kw, sw, pw, dw)
    xpad = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for p in range(kh):
        for q in range(kw):
            top, left = p * dh, q * dw
            cols[:, :, p, q] = xpad[:, :, top : top + sh * (oh - 1) + 1 : sh,
                                    left : left + sw * (ow - 1) + 1 : sw]
    return cols


def col2im(cols, x_shape, stride, padding, dilation):
    """Adjoint of :func:`im2col`: add each patch entry back onto the pixel it came from.

    ``cols (N, C, KH, KW, OH, OW)`` -> ``dx (N, C, H, W)``.
    """
    xp = array_module(cols)
    n, c, h, w = x_shape
    _, _, kh, kw, oh, ow = cols.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    dxpad = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for p in range(kh):
        for q in range(kw):
            top, left = p * dh, q * dw
            dxpad[:, :, top : top + sh * (oh - 1) + 1 : sh,
                  left : left + sw * (ow - 1) + 1 : sw] += cols[:, :, p, q]
    return dxpad[:, :, ph : ph + h, pw : pw + w]


def conv2d_forward(x, w, b, stride, padding, dilation):
    r"""``y = conv2d(x, w) + b``: F3 as ``filters @ patches``.

    .. math:: y[n, j, o] = \sum_{k=(c,p,q)} w[j, k]\; \mathrm{cols}[n, k, o] + b_j
    """
    xp = array_module(x, w)
    n = x.shape[0]
    k, c, kh, kw = w.shape
    cols = im2col(x, kh, kw, stride, padding, dilation)
    oh, ow = cols.shape[-2:]
    # sizes spelled out, not -1: an empty batch (n = 0) leaves -1 undetermined
    y = xp.matmul(w.reshape(k, c * kh * kw), cols.reshape(n, c * kh * kw, oh * ow))  # (N, K, OH*OW)
    if b is not None:
        y = y + b.reshape(1, k, 1)
    return y.reshape(n, k, oh, ow)


def conv2d_backward(dy, x, w, stride, padding, dilation, input_grad=True):
    r"""Gradients of :func:`conv2d_forward`: ``(dx, dw, db)`` (``dx`` is None when ``input_grad``
    is false, as for a network's first layer).

    .. math::
        \frac{\partial L}{\partial w[j,k]} = \sum_{n,o} dy[n,j,o]\,\mathrm{cols}[n,k,o], \qquad
        \frac{\partial L}{\partial \mathrm{cols}[n,k,o]} = \sum_j w[j,k]\, dy[n,j,o], \qquad
        \frac{\partial L}{\partial b_j} = \sum_{n,o} dy[n,j,o]

    and ``dx = col2im(dcols)``.
    """
    xp = array_module(dy, x, w)
    n = x.shape[0]
    k, c, kh, kw = w.shape
    cols = im2col(x, kh, kw, stride, padding, dilation)
    oh, ow = cols.shape[-2:]
    cols = cols.reshape(n, c * kh * kw, oh * ow)
    dy3 = dy.reshape(n, k, oh * ow)
    dw = xp.tensordot(dy3, cols, axes=([0, 2], [0, 2])).reshape(w.shape)
    db = dy3.sum(axis=(0, 2))
    if not input_grad:
        return None, dw, db
    dcols = xp.matmul(w.reshape(k, -1).T, dy3).reshape(n, c, kh, kw, oh, ow)
    dx = col2im(dcols, x.shape, stride, padding, dilation)
    return dx, dw, db
