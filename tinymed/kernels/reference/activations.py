r"""Elementwise nonlinearities and (log-)softmax, with their derivatives.

Each backward takes the upstream gradient ``dy`` and whatever the derivative is cheapest
to compute from: the input ``x`` for ReLU and GELU, the output ``y`` for sigmoid, tanh and softmax.
"""

import math

import numpy as np

from ...backend import array_module, to_numpy


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


# ----- GELU ------------------------------------------------------------------------------------
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_TANH_CUBIC = 0.044715
_erf_each = np.vectorize(math.erf, otypes=[np.float64])


def _standard_normal_cdf(x):
    r""":math:`\Phi(x) = \tfrac12\,(1 + \mathrm{erf}(x/\sqrt2))`, the probability that a standard
    normal variable is at most :math:`x`.

    NumPy has no ``erf``, so Python's ``math.erf`` (the C library's, exact to the last bit or two)
    is applied element by element on the host: slow, which the definition may be; the Numba kernel
    is the fast path.
    """
    xp = array_module(x)
    return xp.asarray(0.5 * (1 + _erf_each(to_numpy(x) / math.sqrt(2)))).astype(x.dtype)


def _tanh_inner(x):
    r""":math:`u = \sqrt{2/\pi}\,(x + 0.044715\,x^3)`, the argument of the tanh approximation."""
    return _SQRT_2_OVER_PI * (x + _TANH_CUBIC * x * x * x)


def gelu_forward(x, approximate="none"):
    r"""GELU (Hendrycks & Gimpel 2016): each input weighted by how likely a standard normal
    variable is to lie below it,

    .. math:: y = x\,\Phi(x) = \tfrac12\,x\,\big(1 + \mathrm{erf}(x/\sqrt2)\big)

    (``approximate="none"``; BERT's), or, with ``approximate="tanh"`` (GPT-2's, cheaper where
    ``erf`` is slow),

    .. math:: y = \tfrac12\,x\,\big(1 + \tanh u\big), \qquad u = \sqrt{2/\pi}\,(x + 0.044715\,x^3).

    A smooth ReLU: :math:`y \to x` for large :math:`x`, :math:`y \to 0` for very negative
    :math:`x`, and a small dip below zero (minimum :math:`\approx -0.17` at :math:`x \approx -0.75`).
    x any shape -> y of the same shape.
    """
    xp = array_module(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + xp.tanh(_tanh_inner(x)))
    return x * _standard_normal_cdf(x)


def gelu_backward(dy, x, approximate="none"):
    r"""Gradient of :func:`gelu_forward`, from the input ``x``:

    .. math:: \frac{\partial y}{\partial x} = \Phi(x) + x\,\varphi(x), \qquad
              \varphi(x) = \frac{e^{-x^2/2}}{\sqrt{2\pi}}

    (exact), or for the tanh form, with :math:`t = \tanh u`,

    .. math:: \frac{\partial y}{\partial x} = \tfrac12(1 + t)
              + \tfrac12\,x\,(1 - t^2)\,\sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\,x^2).

    dy and x of one shape -> dx of that shape.
    """
    xp = array_module(dy, x)
    if approximate == "tanh":
        t = xp.tanh(_tanh_inner(x))
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * x * x)
        return dy * slope
    density = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return dy * (_standard_normal_cdf(x) + x * density)
