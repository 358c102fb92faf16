"""Loss functions (article F12) as Functions; kernels in ``tinymed/kernels/*/losses.py``.

Each takes ``(input, target)`` and a ``reduction`` (``"mean"``, ``"sum"`` or ``"none"``); the
backward kernel returns the gradient of the input (and, for MSE, of the target).
"""

from ..autograd import Function
from ..backend import kernel


class _PointwiseLoss(Function):
    """Loss of (input, target) with a kernel pair ``<name>_forward`` / ``<name>_backward``."""

    name = ""
    target_grad = False

    def forward(self, x, t, reduction):
        self.x, self.t, self.reduction = x, t, reduction
        return kernel(self.name + "_forward")(x, t, reduction)

    def backward(self, g):
        grads = kernel(self.name + "_backward")(g, self.x, self.t, self.reduction)
        return grads if self.target_grad else (grads, None)


class MSELossFunction(_PointwiseLoss):
    r"""F12: :math:`L = \frac1n \sum_i (\hat y_i - y_i)^2`;
    :math:`\partial L/\partial \hat y_i = \frac2n (\hat y_i - y_i) = -\partial L/\partial y_i`."""

    name, target_grad = "mse_loss", True


class BCELossFunction(_PointwiseLoss):
    r"""On probabilities: :math:`L = -[y \log p + (1-y)\log(1-p)]` (logs clamped at -100);
    :math:`\partial L/\partial p = (p - y)/(p(1-p))`."""

    name = "binary_cross_entropy"


class BCEWithLogitsLossFunction(_PointwiseLoss):
    r"""On logits, stable for any :math:`|z|`: :math:`L = \max(z, 0) - zy + \log(1 + e^{-|z|})`;
    :math:`\partial L/\partial z = \sigma(z) - y`."""

    name = "binary_cross_entropy_with_logits"


class CrossEntropyLossFunction(_PointwiseLoss):
    r"""Softmax cross-entropy from logits z (N, C) and class indices t (N,):
    :math:`L_n = -z_{n,t_n} + \log\sum_c e^{z_{n,c}}`;
    :math:`\partial L_n/\partial z_{n,c} = \mathrm{softmax}(z_n)_c - [c = t_n]`."""

    name = "cross_entropy"
