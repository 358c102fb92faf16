r"""Scaled dot-product attention -- article formula F7 -- and its backward.

**As the articles write it** (004 §3.1.3, 001 §3.1.3, 000 §3.2.2), for a sequence of vectors
:math:`h_1, \dots, h_T` with the inner product as the score :math:`s`:

.. math::  e_{ij} = \frac{\exp(s(h_i, h_j))}{\sum_{k=1}^{T} \exp(s(h_i, h_k))}, \qquad
           a_i = \sum_{j=1}^{T} e_{ij}\, h_j

Row :math:`i` of :math:`e` is a softmax: non-negative weights that sum to 1, saying how much
position :math:`i` looks at each position :math:`j`; :math:`a_i` is the weighted average.

**The standard form** (Vaswani et al. 2017, PyTorch's ``scaled_dot_product_attention``)
gives the three roles of :math:`h` their own vectors -- queries :math:`q_i` ask, keys
:math:`k_j` are matched against, values :math:`v_j` are averaged -- and scales the score:

.. math::  S = \frac{Q K^\top}{\sqrt{d}} + M, \qquad P = \mathrm{softmax}_{\text{row}}(S), \qquad O = P V

With :math:`Q = K = V = H` and the scale 1 this is exactly F7 (:math:`e = P`, :math:`a = O`).
*Why* :math:`1/\sqrt{d}`: if the :math:`d` components of :math:`q` and :math:`k` are independent
with variance 1, :math:`q \cdot k` has variance :math:`d`.  Unscaled, scores grow like
:math:`\sqrt d`, the softmax saturates onto one key, and its gradient
(:math:`P_{ij}(\delta_{jk} - P_{ik})`) all but vanishes; dividing by :math:`\sqrt d` keeps
the scores' variance at 1 whatever the width.

**Masks** enter as the additive term :math:`M` (``bias``): 0 where a query may look,
:math:`-\infty` where it may not, or any float (a learned or positional bias).
:math:`e^{-\infty} = 0`, so a masked key gets *exactly* zero weight and contributes nothing to
the output or to the gradients.  A row in which *every* key is masked has no softmax at all
(0/0).  tinymed defines it as zero weights, a zero output row and no gradient, so one fully
padded sequence cannot poison a batch with NaN.  (PyTorch's ``nn.MultiheadAttention`` with
``need_weights=True`` returns NaN there; its ``F.scaled_dot_product_attention`` returns zeros,
as tinymed does.)

**Dropout** on the weights (training only) multiplies :math:`P` by a fixed mask ``keep``
that holds 0 or :math:`1/(1-p)`; the kernel takes the mask as input so it stays deterministic.

Shapes: q ``(..., L, E)``, k ``(..., S, E)``, v ``(..., S, Ev)``, bias and keep broadcast to
``(..., L, S)``; output ``(..., L, Ev)``.
"""

from ...backend import array_module


def scaled_dot_product_attention_forward(q, k, v, bias, scale, keep=None):
    r"""``O = dropout(softmax(scale * Q K^T + bias)) V``; returns ``(O, P)``.

    ``P`` (..., L, S) are the attention weights *before* dropout; rows whose keys are all
    masked are zero.  ``bias`` and ``keep`` may be ``None``.
    """
    xp = array_module(q, k, v)
    scores = (q @ k.swapaxes(-1, -2)) * scale
    if bias is not None:
        scores = scores + bias
    row_max = xp.max(scores, axis=-1, keepdims=True)
    # A row that is masked everywhere has max -inf; shifting it by 0 instead leaves exp(-inf) = 0
    # in every entry, and the zero denominator is replaced by 1 so the row stays exactly 0.
    row_max = xp.where(xp.isneginf(row_max), 0, row_max)
    e = xp.exp(scores - row_max)
    total = xp.sum(e, axis=-1, keepdims=True)
    weights = e / xp.where(total == 0, 1, total)
    used = weights if keep is None else weights * keep
    return used @ v, weights


def scaled_dot_product_attention_backward(dout, q, k, v, weights, scale, keep=None):
    r"""Gradients of :func:`scaled_dot_product_attention_forward`.

    .. math::
        dV = \tilde P^\top dO,\quad d\tilde P = dO\, V^\top,\quad dP = d\tilde P \odot \text{keep},\\
        dS_{ij} = P_{ij}\big(dP_{ij} - \textstyle\sum_k dP_{ik} P_{ik}\big)\ \text{(softmax)},\quad
        dQ = \text{scale}\; dS\, K,\quad dK = \text{scale}\; dS^\top Q

    with :math:`\tilde P = P \odot \text{keep}`.  Returns ``(dq, dk, dv, dscores)``; ``dscores``
    (..., L, S) is also the gradient of an additive float mask.  Masked entries have
    :math:`P = 0` and so receive exactly zero gradient.
    """
    xp = array_module(dout, q, k, v, weights)
    used = weights if keep is None else weights * keep
    dv = used.swapaxes(-1, -2) @ dout
    dweights = dout @ v.swapaxes(-1, -2)
    if keep is not None:
        dweights = dweights * keep
    dscores = weights * (dweights - xp.sum(dweights * weights, axis=-1, keepdims=True))
    dq = (dscores @ k) * scale
    dk = (dscores.swapaxes(-1, -2) @ q) * scale
    return dq, dk, dv, dscores
