r"""DP-SGD's step (Abadi et al., 2016): clip each example's gradient, add Gaussian noise, then let
any optimizer move the weights.  Opacus's ``DPOptimizer``, wrapping a tinymed optimizer.

With per-example gradients :math:`g_n` (all parameters together, from a
:class:`~tinymed.privacy.GradSampleModule`), a clipping norm :math:`C` and a noise multiplier
:math:`\sigma`:

.. math:: \bar g_n = g_n \cdot \min\Big(1, \frac{C}{\|g_n\|_2 + 10^{-6}}\Big), \qquad
          \tilde g = \frac{1}{B}\Big(\sum_{n} \bar g_n + \mathcal N(0, \sigma^2 C^2 I)\Big)

Clipping bounds what one example can change (the *sensitivity* of the sum is :math:`C`); the
noise hides whether any one example was there at all.  :math:`B` is the *expected* batch size
:math:`qN`, not the size of this batch: with Poisson sampling the batch size itself would tell
something about who is in it.  :math:`\tilde g` replaces ``p.grad`` and the wrapped optimizer
(SGD, Adam, ...) takes its step from it as usual.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..backend import array_module
from ..optim.optimizer import Optimizer
from ..random import generator as tinymed_generator

__all__ = ["DPOptimizer", "per_sample_norms", "clip_factors"]


def per_sample_norms(grad_samples):
    r""":math:`\|g_n\|_2` over all parameters: ``grad_samples`` a list of ``(N, ...)`` arrays -> (N,)."""
    xp = array_module(*grad_samples)
    squares = [xp.sum(gs.reshape(gs.shape[0], -1).astype(np.float64) ** 2, axis=1) for gs in grad_samples]
    return xp.sqrt(sum(squares))


def clip_factors(norms, max_grad_norm):
    r""":math:`\min(1, C / (\|g_n\| + 10^{-6}))` per example: scaled by it, no example's gradient is
    longer than :math:`C`."""
    xp = array_module(norms)
    return xp.minimum(1.0, max_grad_norm / (norms + 1e-6))


def _positive(name, value, allow_zero=False):
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"DPOptimizer: {name} must be a finite number {bound}, got {value!r}")
    return value


class DPOptimizer:
    """``DPOptimizer(optimizer, *, noise_multiplier, max_grad_norm, expected_batch_size,
    loss_reduction="mean", generator=None)``: ``step()`` clips, adds noise and calls
    ``optimizer.step()``.

    ``generator`` is a ``numpy.random.Generator`` for the noise (default: tinymed's seeded one).
    ``attach_step_hook(fn)`` calls ``fn(self)`` after every step -- the privacy accountant's
    entry point.  ``lr`` and every other attribute (``state``, ``param_groups``, ...) are the
    wrapped optimizer's; a learning-rate schedule is made for ``original_optimizer``.
    """

    def __init__(self, optimizer, *, noise_multiplier, max_grad_norm, expected_batch_size,
                 loss_reduction="mean", generator=None):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"DPOptimizer: expected a tinymed optimizer to wrap, got {type(optimizer).__name__}")
        if loss_reduction not in ("mean", "sum"):
            raise ValueError(f"DPOptimizer: loss_reduction must be 'mean' or 'sum', got {loss_reduction!r}")
        if isinstance(expected_batch_size, bool) or not isinstance(expected_batch_size, numbers.Integral) \
                or expected_batch_size < 1:
            raise ValueError(f"DPOptimizer: expected_batch_size must be a positive integer, "
                             f"got {expected_batch_size!r}")
        self.original_optimizer = optimizer
        self.noise_multiplier = _positive("noise_multiplier", noise_multiplier, allow_zero=True)
        self.max_grad_norm = _positive("max_grad_norm", max_grad_norm)
        self.expected_batch_size, self.loss_reduction = int(expected_batch_size), loss_reduction
        self.generator = generator
        self.step_hook = None

    def __getattr__(self, name):
        # only reached for names DPOptimizer does not have: the wrapped optimizer's (lr, state, ...)
        if name == "original_optimizer":
            raise AttributeError(name)
        return getattr(self.original_optimizer, name)

    @property
    def lr(self) -> float:
        return self.original_optimizer.lr

    @lr.setter
    def lr(self, value):
        self.original_optimizer.lr = value  # on the wrapped optimizer: the one that steps

    @property
    def params(self) -> list:
        return [p for p in self.original_optimizer.params if p.requires_grad]

    def attach_step_hook(self, fn) -> None:
        self.step_hook = fn

    def clip_and_accumulate(self) -> None:
        """``p.summed_grad`` = the sum over the batch of the clipped per-example gradients."""
        samples = [getattr(p, "grad_sample", None) for p in self.params]
        present = [gs for gs in samples if gs is not None]
        if present:
            factors = clip_factors(per_sample_norms(present), self.max_grad_norm)
        for p, gs in zip(self.params, samples):
            if gs is None:  # an empty batch, or a parameter no example reached
                p.summed_grad = array_module(p.data).zeros_like(p.data)
            else:
                p.summed_grad = array_module(gs).tensordot(factors, gs, axes=1).astype(p.dtype)

    def add_noise(self) -> None:
        """``p.grad`` = ``p.summed_grad`` plus noise of standard deviation :math:`\\sigma C`."""
        draw = (self.generator or tinymed_generator()).standard_normal
        std = self.noise_multiplier * self.max_grad_norm
        for p in self.params:
            noise = array_module(p.data).asarray(draw(p.shape) * std, dtype=p.dtype)
            p.grad = p.summed_grad + noise

    def scale_grad(self) -> None:
        """Divide by the expected batch size (for a mean loss)."""
        if self.loss_reduction == "mean":
            for p in self.params:
                p.grad /= self.expected_batch_size

    def pre_step(self) -> None:
        self.clip_and_accumulate()
        self.add_noise()
        self.scale_grad()

    def step(self, closure=None):
        """Clip, noise, scale; then the wrapped optimizer's step.  Returns the closure's result."""
        loss = closure() if closure is not None else None
        self.pre_step()
        self.original_optimizer.step()
        if self.step_hook is not None:
            self.step_hook(self)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget ``grad``, ``grad_sample`` and ``summed_grad`` of every parameter."""
        self.original_optimizer.zero_grad(set_to_none)
        for p in self.params:
            p.grad_sample = None
            p.summed_grad = None

    def __repr__(self):
        return (f"DPOptimizer({self.original_optimizer!r}, noise_multiplier={self.noise_multiplier}, "
                f"max_grad_norm={self.max_grad_norm}, expected_batch_size={self.expected_batch_size})")
