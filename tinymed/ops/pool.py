"""Max and average pooling (article F4) as Functions; kernels in ``tinymed/kernels/*/pool.py``."""

from ..autograd import Function
from ..backend import kernel


class MaxPool2dFunction(Function):
    r"""F4: :math:`y[n,c,o] = \max_{t \in \mathrm{window}(o)} x[n,c,t]` (padding counts as
    :math:`-\infty`).  x (N, C, H, W) -> (N, C, OH, OW).

    Backward: each output's gradient goes to the one input that won its window (the first
    one in row-major order on a tie); :math:`\partial y_o / \partial x_t = [t = \arg\max]`.
    """

    def forward(self, x, kernel_size, stride, padding):
        self.x_shape, self.geometry = x.shape, (kernel_size, stride, padding)
        y, self.argmax = kernel("max_pool2d_forward")(x, kernel_size, stride, padding)
        return y

    def backward(self, g):
        return (kernel("max_pool2d_backward")(g, self.argmax, self.x_shape, *self.geometry),)


class AvgPool2dFunction(Function):
    r""":math:`y[n,c,o] = \frac{1}{|\mathrm{window}|}\sum_{t \in \mathrm{window}(o)} x[n,c,t]`;
    every input of a window receives :math:`g_o / |\mathrm{window}|` (padded zeros count in
    :math:`|\mathrm{window}|` unless ``count_include_pad`` is False)."""

    def forward(self, x, kernel_size, stride, padding, count_include_pad):
        self.x_shape = x.shape
        self.args = (kernel_size, stride, padding, count_include_pad)
        return kernel("avg_pool2d_forward")(x, *self.args)

    def backward(self, g):
        return (kernel("avg_pool2d_backward")(g, self.x_shape, *self.args),)
