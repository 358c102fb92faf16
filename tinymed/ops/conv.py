"""2-D convolution (article F3) as one Function; kernels in ``tinymed/kernels/*/conv.py``."""

from ..autograd import Function
from ..backend import kernel


class Conv2dFunction(Function):
    r"""F3 as a matrix product over patches: :math:`y_{ij} = \sum_k x_{ik} w_{kj} + b_j`, row
    :math:`i` an output position, :math:`k = (c, p, q)` a place in the receptive field.

    x (N, C, H, W), w (K, C, KH, KW), b (K,) or None; stride, padding, dilation pairs ->
    y (N, K, OH, OW).  Backward: :math:`dW = \sum_i \mathrm{patch}_i^\top dy_i`,
    :math:`dX = \mathrm{col2im}(dy\,W^\top)` (skipped when no one needs it, e.g. for a first
    layer), :math:`db = \sum dy`.
    """

    def forward(self, x, w, b, stride, padding, dilation):
        self.x, self.w, self.geometry = x, w, (stride, padding, dilation)
        self.has_bias = b is not None
        return kernel("conv2d_forward")(x, w, b, stride, padding, dilation)

    def backward(self, g):
        dx, dw, db = kernel("conv2d_backward")(g, self.x, self.w, *self.geometry,
                                               input_grad=self.needs_input_grad[0])
        return dx, dw, db if self.has_bias else None
