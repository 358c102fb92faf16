r"""Integrated gradients (Sundararajan, Taly and Yan, 2017).

The attribution of input element :math:`j` is the gradient averaged along the straight path
from a baseline :math:`x'` (an input that means "nothing": a black image, the mean patient)
to the input :math:`x`, times the distance travelled:

.. math:: \text{IG}_j(x) = (x_j - x'_j) \int_0^1 \frac{\partial f(x' + \alpha (x - x'))}{\partial x_j}\, d\alpha
          \approx (x_j - x'_j) \sum_{k=1}^{n} w_k\, \frac{\partial f(x' + \alpha_k (x - x'))}{\partial x_j}

with the points :math:`\alpha_k` and weights :math:`w_k` of :mod:`tinymed.explain.approximation`.
By the fundamental theorem of calculus for line integrals the exact attributions add up to
the change of the output (*completeness*):

.. math:: \sum_j \text{IG}_j(x) = f(x) - f(x').

The quadrature leaves a remainder, the *convergence delta*
:math:`\delta = \sum_j \text{IG}_j(x) - (f(x) - f(x'))`, returned on request: a large
:math:`|\delta|` says ``n_steps`` is too small.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ._model import (
    as_inputs,
    as_target,
    baselines_like,
    forward_args,
    gradients,
    repeat_args,
    require_callable,
    require_eval,
    target_outputs,
)
from .approximation import nodes


class IntegratedGradients:
    """``IntegratedGradients(forward_func, multiply_by_inputs=True)``, Captum's names.

    ``attribute(inputs, baselines=None, target=None, additional_forward_args=None, n_steps=50,
    method="gausslegendre", internal_batch_size=None, return_convergence_delta=False)``:
    ``inputs (N, ...)``; ``baselines`` None (zeros), a number, or an array broadcasting to the
    inputs; returns the attributions, a Tensor of the inputs' shape, and with
    ``return_convergence_delta`` also :math:`\\delta`, a Tensor ``(N,)``.
    ``internal_batch_size`` caps how many path points go through the model at once (all
    ``n_steps * N`` by default; rounded down to whole steps of all ``N`` examples, at least one).
    ``additional_forward_args`` follow the inputs in every call; arrays among them are repeated
    along their batch axis with the path points.  With ``multiply_by_inputs=False`` the factor
    :math:`x - x'` is left out (Captum's "local" integrated gradients).
    """

    def __init__(self, forward_func, multiply_by_inputs: bool = True):
        self.forward_func = require_callable("IntegratedGradients", forward_func)
        self.multiply_by_inputs = bool(multiply_by_inputs)

    def attribute(self, inputs, baselines=None, target=None, additional_forward_args=None, n_steps: int = 50,
                  method: str = "gausslegendre", internal_batch_size=None, return_convergence_delta: bool = False):
        op = "IntegratedGradients"
        require_eval(op, self.forward_func)
        alphas, weights = nodes(method, n_steps)
        x = as_inputs(op, inputs)
        target = as_target(op, target, len(x))
        base = baselines_like(op, baselines, x)
        args = forward_args(additional_forward_args)
        path_gradient = self._path_gradient(x, base, alphas, weights, target, args, internal_batch_size)
        attributions = (x - base) * path_gradient if self.multiply_by_inputs else path_gradient
        attributions = attributions.astype(x.dtype, copy=False)
        if not return_convergence_delta:
            return Tensor(attributions)
        change = target_outputs(op, self.forward_func, x, target, args) - target_outputs(
            op, self.forward_func, base, target, args)
        delta = attributions.reshape(len(x), -1).sum(axis=1) - change
        return Tensor(attributions), Tensor(delta)

    def _path_gradient(self, x, base, alphas, weights, target, args, internal_batch_size):
        r""":math:`\sum_k w_k \nabla f(x' + \alpha_k (x - x'))`, the path points of all examples
        stacked into batches of at most ``internal_batch_size``."""
        n = len(x)
        per_batch = len(alphas) * n if internal_batch_size is None else int(internal_batch_size)
        if per_batch < 1:
            raise ValueError(f"IntegratedGradients: internal_batch_size must be a positive integer, "
                             f"got {internal_batch_size!r}")
        steps_per_batch = max(1, per_batch // max(n, 1))
        total = np.zeros(x.shape, dtype=np.float64)
        for start in range(0, len(alphas), steps_per_batch):
            a = alphas[start:start + steps_per_batch].astype(x.dtype)
            w = weights[start:start + steps_per_batch]
            shape = (len(a),) + (1,) * x.ndim
            points = base[None] + a.reshape(shape) * (x - base)[None]
            batch_target = None if target is None else np.tile(target, len(a))
            _, grad = gradients("IntegratedGradients", self.forward_func, points.reshape((-1,) + x.shape[1:]),
                                batch_target, repeat_args(args, len(a)))
            total += np.tensordot(w, grad.reshape((len(a),) + x.shape), axes=1)
        return total
