"""The dense layer (article F1) as one Function; kernels in ``tinymed/kernels/*/linear.py``."""

from ..autograd import Function
from ..backend import kernel


class LinearFunction(Function):
    r""":math:`Y = X W^\top + b`, x (..., in), w (out, in), b (out,) or None -> (..., out).

    Backward: :math:`\partial L/\partial X = G W`, :math:`\partial L/\partial W = G^\top X`,
    :math:`\partial L/\partial b = \sum_n G_n` (summed over every leading axis).
    """

    def forward(self, x, w, b):
        self.x, self.w = x, w
        return kernel("linear_forward")(x, w, b)

    def backward(self, g):
        return kernel("linear_backward")(g, self.x, self.w)
