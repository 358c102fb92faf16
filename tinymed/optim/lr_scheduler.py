r"""Learning-rate schedules (article formula F11 and PyTorch's ``torch.optim.lr_scheduler``).

A schedule changes ``optimizer.lr`` once per epoch from a closed form ``lr_at(epoch)``::

    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(n_epochs):
        train_one_epoch(...)          # optimizer.step() for each batch
        scheduler.step()
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import number, scalar
from .optimizer import Optimizer

__all__ = ["LRScheduler", "InverseSqrtLR", "StepLR", "ExponentialLR", "CosineAnnealingLR"]


class LRScheduler:
    """Base class: sets ``optimizer.lr`` to ``lr_at(epoch)`` at each :meth:`step`.

    As in PyTorch, creating a schedule sets epoch 0 (the optimizer's current rate becomes
    ``base_lr``); each ``step()`` -- usually once per epoch -- moves to the next epoch.
    Subclasses give the closed form ``lr_at(epoch)``.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a tinymed Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = -1
        self.step()

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError(f"{type(self).__name__}.lr_at")

    def step(self) -> None:
        self.last_epoch += 1
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr

    def get_last_lr(self) -> list:
        """The rate set by the last :meth:`step`, as a one-element list (PyTorch's form)."""
        return [self._last_lr]

    def state_dict(self) -> dict:
        return {"base_lr": self.base_lr, "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        self.base_lr = float(scalar(state_dict["base_lr"]))
        self.last_epoch = int(scalar(state_dict["last_epoch"]))
        self._last_lr = self.lr_at(self.last_epoch)
        self.optimizer.lr = self._last_lr


class InverseSqrtLR(LRScheduler):
    r"""F11: :math:`\alpha_t = \alpha / \sqrt{t}`, with :math:`t = \text{epoch} + 1 = 1, 2, \dots`

    The article's :math:`\alpha = 1/\sqrt t` is the case ``base lr = 1``.
    """

    def lr_at(self, epoch):
        return self.base_lr / math.sqrt(epoch + 1)


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\alpha_e = \alpha\,\gamma^{\lfloor e / \text{step\_size}\rfloor}` (PyTorch's ``StepLR``)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = number("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    r""":math:`\alpha_e = \alpha\,\gamma^e` (PyTorch's ``ExponentialLR``)."""

    def __init__(self, optimizer, gamma):
        self.gamma = number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing (PyTorch's ``CosineAnnealingLR``, without restarts):

    .. math:: \alpha_e = \eta_{min} + \tfrac12(\alpha - \eta_{min})\left(1 + \cos\frac{\pi e}{T_{max}}\right)

    The rate falls from :math:`\alpha` to :math:`\eta_{min}` at :math:`e = T_{max}` (and rises
    again after it, as in PyTorch).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if isinstance(T_max, bool) or not isinstance(T_max, (int, np.integer)) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive integer, got {T_max!r}")
        self.T_max = int(T_max)
        self.eta_min = number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer)

    def lr_at(self, epoch):
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
