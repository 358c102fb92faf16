r"""Loss functions and their gradients -- article formulas F12 and F19's training objective.

Every loss takes ``reduction`` in ``{"mean", "sum", "none"}`` (PyTorch's meaning) and every
backward takes the upstream gradient ``dout`` (a scalar for mean/sum, an array for none).
"""

import numpy as np

from ...backend import array_module
from .activations import log_softmax_forward, sigmoid_forward

# PyTorch clamps log(p) at -100 in binary_cross_entropy so that p = 0 or 1 gives a large,
# finite loss instead of inf; we do the same so the two agree.
_LOG_CLAMP = -100.0
# ... and bounds p(1-p) below by 1e-12 in its gradient.
_BCE_GRAD_EPS = 1e-12


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _scale(dout, shape_size, reduction):
    """How one element's gradient is scaled by the reduction."""
    return dout / shape_size if reduction == "mean" else dout


def mse_loss_forward(input, target, reduction="mean"):
    r"""Mean squared error, F12: :math:`L = \frac1n \sum_i (y_i - \hat y_i)^2`."""
    diff = input - target
    return _reduce(diff * diff, reduction)


def mse_loss_backward(dout, input, target, reduction="mean"):
    r""":math:`\partial L/\partial \hat y_i = \frac{2}{n}(\hat y_i - y_i)`.

    Article 003 §4.1 writes the derivative as :math:`2(y - \hat y)`: that drops the
    :math:`1/n` and has the wrong sign for a derivative with respect to the prediction
    :math:`\hat y`. Returns ``(d_input, d_target)``.
    """
    d_input = 2 * (input - target) * _scale(dout, input.size, reduction)
    return d_input, -d_input


def cross_entropy_forward(logits, target, reduction="mean"):
    r"""Softmax cross-entropy from logits with integer class targets.

    .. math:: L_n = -\log \mathrm{softmax}(z_n)_{t_n} = -z_{n,t_n} + \log\sum_c e^{z_{n,c}}

    ``logits (N, C)`` (float), ``target (N,)`` integers in ``[0, C)``.  Computed through
    log-softmax, so logits of any size give finite values.
    """
    xp = array_module(logits)
    logp = log_softmax_forward(logits, 1)
    picked = xp.take_along_axis(logp, target.reshape(-1, 1), axis=1)[:, 0]
    return _reduce(-picked, reduction)


def cross_entropy_backward(dout, logits, target, reduction="mean"):
    r""":math:`\partial L_n/\partial z_{n,c} = \mathrm{softmax}(z_n)_c - [c = t_n]`."""
    xp = array_module(logits)
    n, c = logits.shape
    grad = xp.exp(log_softmax_forward(logits, 1))
    grad[xp.arange(n), target] -= 1
    scale = _scale(dout, n, reduction)
    return grad * (scale.reshape(-1, 1) if reduction == "none" else scale)


def binary_cross_entropy_forward(input, target, reduction="mean"):
    r"""BCE on probabilities: :math:`L = -[y \log p + (1-y)\log(1-p)]`, logs clamped at -100."""
    xp = array_module(input)
    with np.errstate(divide="ignore"):  # log(0) = -inf is expected here: the clamp handles it
        log_p = xp.maximum(xp.log(input), _LOG_CLAMP)
        log_1mp = xp.maximum(xp.log(1 - input), _LOG_CLAMP)
    return _reduce(-(target * log_p + (1 - target) * log_1mp), reduction)


def binary_cross_entropy_backward(dout, input, target, reduction="mean"):
    r""":math:`\partial L/\partial p = (p - y) / (p(1-p))` (denominator bounded below by 1e-12)."""
    xp = array_module(input)
    denom = xp.maximum(input * (1 - input), _BCE_GRAD_EPS)
    return (input - target) / denom * _scale(dout, input.size, reduction)


def binary_cross_entropy_with_logits_forward(logits, target, reduction="mean"):
    r"""BCE on logits, stable for any :math:`|z|`.

    With :math:`p = \sigma(z)`: :math:`-[y\log p + (1-y)\log(1-p)] = \max(z, 0) - zy + \log(1 + e^{-|z|})`,
    so ``exp`` never sees a positive argument and nothing overflows (logits of ±1e4 are fine).
    """
    xp = array_module(logits)
    losses = xp.maximum(logits, 0) - logits * target + xp.log1p(xp.exp(-xp.abs(logits)))
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits_backward(dout, logits, target, reduction="mean"):
    r""":math:`\partial L/\partial z = \sigma(z) - y`."""
    return (sigmoid_forward(logits) - target) * _scale(dout, logits.size, reduction)
