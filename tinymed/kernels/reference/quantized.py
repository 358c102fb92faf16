r"""Int8 inference: quantising a float array, and linear and convolution layers computed in integers.

A real number :math:`x` is stored as an 8-bit integer :math:`q` with a *scale* :math:`s > 0` and
a *zero point* :math:`z` (the integer that stands for 0.0):

.. math:: q = \mathrm{clamp}\big(\mathrm{round}(x / s) + z,\; -128,\; 127\big), \qquad
          \hat x = s\,(q - z)

so :math:`|x - \hat x| \le s/2` for every :math:`x` inside the range the scale was chosen for.
Weights are quantised *symmetrically per output channel* (:math:`z = 0`, one :math:`s_j` per
output row or filter :math:`j`); activations per tensor, with a zero point (their range is often
one-sided, e.g. after a ReLU).  A dense layer then becomes

.. math:: y_j = \sum_k \hat x_k \hat w_{jk} + b_j
              = s_x\, s_j \underbrace{\sum_k (q_{x,k} - z_x)\, q_{w,jk}}_{\text{integers}} + b_j

The sum is computed exactly in 32-bit integers (each product is at most
:math:`255 \cdot 127 < 2^{15}`, so up to :math:`2^{16}` terms cannot overflow) and scaled back to
float once per output.  A convolution is the same sum over the patches of the input (im2col, see
``conv.py``); the padding holds :math:`q - z = 0`, the quantised 0.0.
"""

from ...backend import array_module
from .conv import im2col

INT8_MIN, INT8_MAX = -128, 127
MAX_TERMS = 1 << 16
"""The longest integer dot product that cannot overflow int32 (see the module docstring)."""


def quantize_per_tensor(x, scale, zero_point):
    r"""``q = clamp(round(x / scale) + zero_point, -128, 127)`` as int8 (round half to even)."""
    xp = array_module(x)
    q = xp.rint(x / scale) + zero_point
    return xp.clip(q, INT8_MIN, INT8_MAX).astype(xp.int8)


def int8_linear_forward(qx, x_zero_point, qw):
    r"""``acc[m, j] = sum_k (qx[m, k] - x_zero_point) * qw[j, k]`` in int32.

    qx int8 (M, K), qw int8 (J, K) -> acc int32 (M, J).
    """
    xp = array_module(qx, qw)
    shifted = qx.astype(xp.int32) - x_zero_point
    return shifted @ qw.astype(xp.int32).T


def int8_conv2d_forward(qx, x_zero_point, qw, stride, padding, dilation):
    r"""``acc[n, j, o] = sum_{k=(c,p,q)} (cols[n, k, o] - x_zero_point) * qw[j, k]`` in int32.

    qx int8 (N, C, H, W), qw int8 (J, C, KH, KW); stride, padding, dilation pairs ->
    acc int32 (N, J, OH, OW).  The patches are taken of ``qx - x_zero_point``, so padding
    reads 0 -- the quantised 0.0.
    """
    xp = array_module(qx, qw)
    n = qx.shape[0]
    j, c, kh, kw = qw.shape
    cols = im2col(qx.astype(xp.int32) - x_zero_point, kh, kw, stride, padding, dilation)
    oh, ow = cols.shape[-2:]
    acc = xp.matmul(qw.reshape(j, c * kh * kw).astype(xp.int32), cols.reshape(n, c * kh * kw, oh * ow))
    return acc.reshape(n, j, oh, ow)
