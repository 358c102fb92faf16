"""GELU as one Function; kernels in ``tinymed/kernels/*/activations.py``.

ReLU, sigmoid, tanh, softmax and log-softmax are ``Tensor`` methods, so their Functions live in
:mod:`tinymed.autograd`; GELU is an op of :mod:`tinymed.nn.functional` only, as in PyTorch.
"""

from ..autograd import Function
from ..backend import kernel

GELU_APPROXIMATIONS = ("none", "tanh")
"""The two forms of GELU, by PyTorch's names: ``"none"`` the exact one, ``"tanh"`` the approximation."""


class GELUFunction(Function):
    r""":math:`y = x\,\Phi(x)` (``approximate="none"``) or
    :math:`y = \tfrac12 x\,(1 + \tanh(\sqrt{2/\pi}\,(x + 0.044715\,x^3)))` (``"tanh"``), elementwise.

    Backward, from the saved input: :math:`dx = g\,(\Phi(x) + x\,\varphi(x))`, or the derivative of
    the tanh form (:func:`tinymed.kernels.reference.activations.gelu_backward` writes it out).
    """

    def forward(self, x, approximate):
        self.x, self.approximate = x, approximate
        return kernel("gelu_forward")(x, approximate)

    def backward(self, g):
        return (kernel("gelu_backward")(g, self.x, self.approximate),)
