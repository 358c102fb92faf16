r"""Elementwise nonlinearities and (log-)softmax, with their derivatives.

Each backward takes the upstream gradient ``dy`` and whatever the derivative is cheapest
to compute from: the input ``x`` for ReLU, the output ``y`` for sigmoid, tanh and softmax.
"""

from ...backend import array_module


def relu_forward(x):
    r""":math:`y = \max(x, 0)`."""
    xp = array_module(x)
    return xp.maximum(x, 0)


def relu_backward(dy, x):
    r""":math:`\partial y/\partial x = 1` where :math:`x > 0`, else 0 (0 at the kink, as PyTorch)."""
    return dy * (x > 0)


def sigmoid_forward(x):
    r""":math:`\sigma(x) = 1/(1+e^{-x})`, evaluated without overflow for large :math:`|x|`.

    For :math:`x \ge 0` use :math:`1/(1+e^{-x})`; for :math:`x < 0` the equal form
    :math:`e^{x}/(1+e^{x})`, so ``exp`` only ever sees non-positive numbers.
    """
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(dy, y):
    r""":math:`\sigma'(x) = \sigma(x)(1-\sigma(x))`, from the output ``y``."""
    return dy * y * (1 - y)


def tanh_forward(x):
    r""":math:`\tanh x`."""
    xp = array_module(x)
    return xp.tanh(x)


def tanh_backward(dy, y):
    r""":math:`\tanh'(x) = 1 - \tanh^2 x`, from the output ``y``."""
    return dy * (1 - y * y)


def softmax_forward(x, dim):
    r""":math:`y_i = e^{x_i - m} / \sum_k e^{x_k - m}` along ``dim``, with :math:`m = \max_k x_k`.

    Subtracting the maximum changes nothing mathematically and keeps ``exp`` from overflowing.
    """
    xp = array_module(x)
    e = xp.exp(x - xp.max(x, axis=dim, keepdims=True))
    return e / xp.sum(e, axis=dim, keepdims=True)


def softmax_backward(dy, y, dim):
    r"""Jacobian-vector product of softmax: :math:`dx_i = y_i\,(dy_i - \sum_k dy_k\, y_k)`."""
    xp = array_module(dy, y)
    return y * (dy - xp.sum(dy * y, axis=dim, keepdims=True))


def log_softmax_forward(x, dim):
    r""":math:`y_i = x_i - m - \log\sum_k e^{x_k - m}` along ``dim`` (log-sum-exp trick)."""
    xp = array_module(x)
    shifted = x - xp.max(x, axis=dim, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))


def log_softmax_backward(dy, y, dim):
    r""":math:`dx_i = dy_i - e^{y_i} \sum_k dy_k` (``e^{y}`` is the softmax)."""
    xp = array_module(dy, y)
    return dy - xp.exp(y) * xp.sum(dy, axis=dim, keepdims=True)
