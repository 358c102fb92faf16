r"""Layer normalisation and embedding lookup, with their derivatives.

**Layer norm** (Ba et al. 2016) normalises each sample over its last ``D`` features
(``normalized_shape``), then scales and shifts them by learned :math:`\gamma, \beta`:

.. math::  \mu = \frac1D\sum_j x_j,\quad \sigma^2 = \frac1D\sum_j (x_j-\mu)^2,\quad
           \hat x_j = \frac{x_j - \mu}{\sqrt{\sigma^2 + \epsilon}},\quad y_j = \gamma_j \hat x_j + \beta_j

(:math:`\sigma^2` is the biased variance, as in PyTorch).  Unlike batch norm it needs no
running statistics and treats every sample -- every time step of every sequence -- alike,
which is why Transformers use it.

**Embedding**: row :math:`i` of a table ``weight (num_embeddings, D)`` is the vector of token
:math:`i`; the forward is a lookup ``weight[indices]``.  Its gradient adds each output
gradient onto the row it came from -- a *scatter-add*, since a token that occurs twice
receives both gradients.
"""

from ...backend import array_module


def _feature_axes(x, normalized_shape):
    return tuple(range(x.ndim - len(normalized_shape), x.ndim))


def layer_norm_forward(x, normalized_shape, weight, bias, eps):
    r""":math:`y = \gamma (x - \mu)/\sqrt{\sigma^2+\epsilon} + \beta` over the trailing
    ``normalized_shape`` axes.

    x (..., *normalized_shape); weight and bias ``normalized_shape`` or ``None``.
    Returns ``(y, mean, rstd)``; ``mean`` and ``rstd`` :math:`= 1/\sqrt{\sigma^2+\epsilon}` keep
    the normalised axes with length 1, for the backward.
    """
    xp = array_module(x)
    axes = _feature_axes(x, normalized_shape)
    mean = xp.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    var = xp.mean(centred * centred, axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(var + eps)
    y = centred * rstd
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


def layer_norm_backward(dy, x, normalized_shape, weight, mean, rstd):
    r"""Gradients of :func:`layer_norm_forward`.

    With :math:`g = dy\,\gamma` (the gradient reaching :math:`\hat x`), and means over the
    :math:`D` normalised features,

    .. math:: dx = \text{rstd}\,\big(g - \overline{g} - \hat x\, \overline{g \hat x}\big),\quad
              d\gamma = \sum_{\text{samples}} dy\, \hat x,\quad d\beta = \sum_{\text{samples}} dy

    (the two subtracted means are the paths through :math:`\mu` and :math:`\sigma`).
    Returns ``(dx, dweight, dbias)``.
    """
    xp = array_module(dy, x)
    axes = _feature_axes(x, normalized_shape)
    sample_axes = tuple(range(x.ndim - len(normalized_shape)))
    x_hat = (x - mean) * rstd
    g = dy * weight if weight is not None else dy
    dx = rstd * (g - xp.mean(g, axis=axes, keepdims=True)
                 - x_hat * xp.mean(g * x_hat, axis=axes, keepdims=True))
    dweight = xp.sum(dy * x_hat, axis=sample_axes)
    dbias = xp.sum(dy, axis=sample_axes)
    return dx, dweight, dbias


def embedding_forward(weight, indices):
    """``weight[indices]``: indices (...) integer -> (..., D)."""
    return weight[indices]


def embedding_backward(dy, indices, num_embeddings, padding_idx=None):
    r""":math:`dW_i = \sum_{p:\ \text{indices}_p = i} dy_p` (scatter-add); the row of
    ``padding_idx`` gets no gradient (it stays the padding vector), as in PyTorch.

    dy (..., D), indices (...) -> dweight (num_embeddings, D).
    """
    xp = array_module(dy)
    dim = dy.shape[-1]
    dweight = xp.zeros((num_embeddings, dim), dtype=dy.dtype)
    xp.add.at(dweight, indices.reshape(-1), dy.reshape(-1, dim))  # unbuffered: repeats accumulate
    if padding_idx is not None:
        dweight[padding_idx] = 0
    return dweight
