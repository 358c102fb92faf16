r"""Gradient clipping: PyTorch's functions on parameters, and the rules an optimizer applies inside its step.

* :func:`clip_grad_norm_` and :func:`clip_grad_value_` are ``torch.nn.utils``'s: called between
  ``loss.backward()`` and ``optimizer.step()``, they replace each ``p.grad``.
* :func:`clip_by_value`, :func:`clip_by_norm` and :func:`clip_by_global_norm` take a list of
  gradient arrays (``None`` for a parameter without one) and return the clipped list, leaving
  the arrays they were given unchanged.  An optimizer with clipping set applies one of them to
  the gradients its update uses (:class:`~tinymed.optim.Optimizer`); this is how Keras's
  ``clipvalue``, ``clipnorm`` and ``global_clipnorm`` (:mod:`tinymed.keras.optimizers`) work.

Norms: :math:`\lVert g\rVert_p = (\sum_j |g_j|^p)^{1/p}`, :math:`\lVert g\rVert_\infty = \max_j |g_j|`;
the norm of several gradients together is that of one vector holding all their elements, i.e.
the norm of their norms.
"""

from __future__ import annotations

import math

from ..autograd import Tensor
from ..backend import array_module
from ._checks import number

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_by_value", "clip_by_norm", "clip_by_global_norm"]


# ----- norms ---------------------------------------------------------------------------------
def _norm(g, norm_type):
    xp = array_module(g)
    if math.isinf(norm_type):
        return float(xp.abs(g).max()) if g.size else 0.0
    if norm_type == 2:  # |g|^2 is g g exactly: the same sum with one pass and one temporary fewer
        return float((g * g).sum() ** 0.5)
    return float((xp.abs(g) ** norm_type).sum() ** (1.0 / norm_type))


def _total_norm(grads, norm_type):
    """The norm of all gradients viewed as one vector: the norm of the per-tensor norms."""
    norms = [_norm(g, norm_type) for g in grads]
    if not norms:
        return 0.0
    if math.isinf(norm_type):
        return max(norms)
    return float(sum(n**norm_type for n in norms) ** (1.0 / norm_type))


# ----- PyTorch's functions on parameters ----------------------------------------------------
def _with_grads(op, parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    parameters = list(parameters)
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: parameter {i} is a {type(p).__name__}, expected a Tensor")
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False) -> float:
    r"""Rescale the gradients so that their total norm is at most ``max_norm``; return the norm.

    As ``torch.nn.utils.clip_grad_norm_``: :math:`N = \lVert (\lVert g_1\rVert_p, \dots,
    \lVert g_k\rVert_p) \rVert_p` over all gradients, then every gradient is multiplied by
    :math:`\min(1, \text{max\_norm} / (N + 10^{-6}))`.  ``norm_type`` is :math:`p > 0` or
    ``float("inf")``.  Returns :math:`N` (before clipping) as a Python float.

    Each ``p.grad`` is replaced by a new array rather than scaled in place, because autograd
    may hand the same gradient array to two parameters.
    """
    op = "clip_grad_norm_"
    max_norm = number(op, "max_norm", max_norm)
    norm_type = float(norm_type)
    if not (norm_type > 0):
        raise ValueError(f"{op}: norm_type must be > 0 or inf, got {norm_type}")
    params = _with_grads(op, parameters)
    total = _total_norm([p.grad for p in params], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise ValueError(f"{op}: the total gradient norm is {total}; the gradients contain NaN or Inf")
    scale = min(1.0, max_norm / (total + 1e-6))
    for p in params:
        p.grad = p.grad * scale
    return total


def clip_grad_value_(parameters, clip_value) -> None:
    r"""Clamp every gradient element to :math:`[-c, c]`, as ``torch.nn.utils.clip_grad_value_``.

    Each ``p.grad`` is replaced by a new array (see :func:`clip_grad_norm_`).
    """
    c = number("clip_grad_value_", "clip_value", clip_value)
    for p in _with_grads("clip_grad_value_", parameters):
        p.grad = array_module(p.grad).clip(p.grad, -c, c)


# ----- the rules inside an optimizer's step (Keras's clipvalue, clipnorm, global_clipnorm) ---------
def clip_by_value(grads, c):
    r"""Clamp each element: :math:`g \leftarrow \min(\max(g, -c), c)`."""
    return [None if g is None else array_module(g).clip(g, -c, c) for g in grads]


def clip_by_norm(grads, c):
    r"""Rescale each gradient on its own to norm at most :math:`c`:
    :math:`g \leftarrow g\, c / \max(\lVert g\rVert_2, c)`."""
    return [None if g is None else g * (c / max(_norm(g, 2.0), c)) for g in grads]


def clip_by_global_norm(grads, c):
    r"""Rescale all gradients together to total norm at most :math:`c`:
    :math:`g_i \leftarrow g_i\, c / \max(N, c)`, :math:`N = \sqrt{\sum_i \lVert g_i\rVert_2^2}`."""
    total = _total_norm([g for g in grads if g is not None], 2.0)
    scale = c / max(total, c)
    return [None if g is None else g * scale for g in grads]
