r"""Knowledge distillation (Hinton, Vinyals and Dean, 2015): a small *student* learns from a large
*teacher*'s softened predictions as well as from the labels (article 000 §6, 004 §6: F22).

The teacher's probabilities carry more than its answer: that a film it calls normal is "a little
like pneumonia" tells the student how the classes relate.  Softening them with a temperature
:math:`T > 1` makes those small probabilities visible:

.. math:: p^{T}_c = \mathrm{softmax}(t / T)_c, \qquad q^{T}_c = \mathrm{softmax}(s / T)_c

and the loss mixes matching the teacher with fitting the labels :math:`y`:

.. math:: L = \alpha\, T^2\, \frac1N \sum_n \mathrm{KL}\big(p^{T}_n \,\|\, q^{T}_n\big)
              + (1 - \alpha)\, \frac1N \sum_n -\log \mathrm{softmax}(s_n)_{y_n}

Why :math:`T^2`: the gradient of the KL term with respect to the student's logits is
:math:`(q^{T} - p^{T}) / T`, and for large :math:`T` the difference itself shrinks like
:math:`1/T`, so the soft term's gradient falls as :math:`1/T^2`.  Multiplying by :math:`T^2` keeps
the two terms' gradients in proportion whatever the temperature, so :math:`\alpha` means the same
at every :math:`T`.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..backend import array_module
from ..nn import _checks as C
from ..nn import functional as F

__all__ = ["distillation_loss"]


def _teacher_soft_targets(teacher_logits, T):
    """``(p, sum p log p)`` per row of the teacher's softened distribution, as constants."""
    t = teacher_logits.data / T
    xp = array_module(t)
    t = t - t.max(axis=1, keepdims=True)
    log_p = t - xp.log(xp.exp(t).sum(axis=1, keepdims=True))
    p = xp.exp(log_p)
    return p, (p * log_p).sum(axis=1)  # p log p -> 0 where p underflows to 0: p * log_p is then 0 * finite


def distillation_loss(student_logits, teacher_logits, labels, T=4.0, alpha=0.9) -> Tensor:
    r"""The distillation loss above (mean over the batch, a scalar Tensor).

    ``student_logits`` (N, C) Tensor; ``teacher_logits`` (N, C) Tensor or array (a constant: no
    gradient reaches the teacher); ``labels`` (N,) integer classes; ``T > 0``; ``alpha`` in [0, 1]
    (1: only the teacher, 0: only the labels, plain cross-entropy).
    """
    op = "distillation_loss"
    s = C.tensor(op, "student_logits", student_logits)
    C.require_float(op, "student_logits", s)
    t = C.tensor(op, "teacher_logits", teacher_logits)
    if s.ndim != 2 or t.shape != s.shape:
        raise ValueError(f"{op}: student_logits and teacher_logits must both be (N, C), "
                         f"got {s.shape} and {t.shape}")
    if s.shape[0] == 0:
        raise ValueError(f"{op}: the batch is empty (the loss is a mean over examples)")
    if not (isinstance(T, (int, float, np.floating)) and np.isfinite(T) and T > 0):
        raise ValueError(f"{op}: the temperature T must be a positive number, got {T!r}")
    if not (isinstance(alpha, (int, float, np.floating)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"{op}: alpha must be in [0, 1], got {alpha!r}")
    p, p_log_p = _teacher_soft_targets(t, T)
    log_q = (s * (1.0 / T)).log_softmax(dim=1)
    kl = (Tensor(p_log_p.astype(s.dtype)).sum() - (Tensor(p.astype(s.dtype)) * log_q).sum()) * (1.0 / s.shape[0])
    return kl * (alpha * T * T) + F.cross_entropy(s, labels) * (1.0 - alpha)
