r"""Max and average pooling -- article formula F4.

Article 004 §3.1.1.2 writes max pooling as :math:`y_j = \max(x_{1j}, \dots, x_{nj})`: each
output is the largest of the :math:`n` inputs in its window.  Average pooling (article 001
§3.1.1.2) takes their mean instead.  With the patches of :mod:`.conv` (``im2col``) both are a
reduction over the tap axis of the patch array, done per channel.

Shapes: ``x (N, C, H, W)`` -> ``y (N, C, OH, OW)``; ``kernel_size``, ``stride`` and ``padding``
are pairs of ints, :math:`OH = \lfloor (H + 2P - KH)/S \rfloor + 1`.
"""

from ...backend import array_module
from .conv import col2im, conv2d_output_size, im2col

_NO_DILATION = (1, 1)


def pool_output_size(size, kernel, stride, padding):
    """Output length of a pooling window along one axis."""
    return conv2d_output_size(size, kernel, stride, padding, 1)


def _windows(x, kernel_size, stride, padding, fill):
    """Pooling windows as ``(N, C, KH*KW, OH, OW)`` (each channel pooled on its own)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    cols = im2col(x.reshape(n * c, 1, h, w), kh, kw, stride, padding, _NO_DILATION, fill)
    return cols.reshape(n, c, kh * kw, cols.shape[-2], cols.shape[-1])


def _to_x(dwindows, x_shape, kernel_size, stride, padding):
    """Adjoint of :func:`_windows`: scatter window gradients back onto the input pixels."""
    n, c, h, w = x_shape
    kh, kw = kernel_size
    oh, ow = dwindows.shape[-2:]
    dcols = dwindows.reshape(n * c, 1, kh, kw, oh, ow)
    return col2im(dcols, (n * c, 1, h, w), stride, padding, _NO_DILATION).reshape(x_shape)


def max_pool2d_forward(x, kernel_size, stride, padding):
    r"""F4: :math:`y[n,c,o] = \max_{t \in \text{window}(o)} x[n,c,t]` (padding counts as -inf).

    Returns ``(y, argmax)``; ``argmax[n,c,oh,ow] = p*KW + q`` is the tap that won, which is
    all the backward pass needs.
    """
    xp = array_module(x)
    win = _windows(x, kernel_size, stride, padding, fill=-xp.inf)
    argmax = xp.argmax(win, axis=2)
    y = xp.take_along_axis(win, argmax[:, :, None], axis=2)[:, :, 0]
    return y, argmax


def max_pool2d_backward(dy, argmax, x_shape, kernel_size, stride, padding):
    r"""The gradient of a max flows only to the input that won:
    :math:`\partial y_o/\partial x_t = 1` if :math:`t = \arg\max`, else 0."""
    xp = array_module(dy, argmax)
    taps = xp.arange(kernel_size[0] * kernel_size[1]).reshape(1, 1, -1, 1, 1)
    dwin = (argmax[:, :, None] == taps) * dy[:, :, None]
    return _to_x(dwin.astype(dy.dtype), x_shape, kernel_size, stride, padding)


def _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, xp, dtype):
    """How many inputs each output averages: KH*KW, or only the non-padding ones."""
    kh, kw = kernel_size
    if count_include_pad:
        return dtype.type(kh * kw)
    ones = xp.ones((1, 1) + tuple(x_shape[2:]), dtype=dtype)
    return _windows(ones, kernel_size, stride, padding, fill=0.0).sum(axis=2)


def avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad=True):
    r""":math:`y[n,c,o] = \frac{1}{|\text{window}|}\sum_{t \in \text{window}(o)} x[n,c,t]`."""
    xp = array_module(x)
    win = _windows(x, kernel_size, stride, padding, fill=0.0)
    divisor = _avg_divisor(x.shape, kernel_size, stride, padding, count_include_pad, xp, x.dtype)
    return win.sum(axis=2) / divisor


def avg_pool2d_backward(dy, x_shape, kernel_size, stride, padding, count_include_pad=True):
    r"""Every input of a window receives :math:`dy_o / |\text{window}|`."""
    xp = array_module(dy)
    divisor = _avg_divisor(x_shape, kernel_size, stride, padding, count_include_pad, xp, dy.dtype)
    share = dy / divisor
    dwin = xp.broadcast_to(share[:, :, None], share.shape[:2] + (kernel_size[0] * kernel_size[1],) + share.shape[2:])
    return _to_x(xp.ascontiguousarray(dwin), x_shape, kernel_size, stride, padding)
