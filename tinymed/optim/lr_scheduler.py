r"""Learning-rate schedules (article formula F11 and PyTorch's ``torch.optim.lr_scheduler``).

A schedule sets the learning rate from a closed form of the epoch (or step) count::

    scheduler = StepLR(optimizer, step_size=10, gamma=0.5)
    for epoch in range(n_epochs):
        train_one_epoch(...)          # optimizer.step() for each batch
        scheduler.step()

Each parameter group follows the schedule from its own starting rate (``base_lrs``), as in
PyTorch.  Transformers are trained with a rate that rises linearly for a few hundred steps and then
decays along a cosine (:func:`get_cosine_schedule_with_warmup`, stepped once per optimizer step).
"""

from __future__ import annotations

import math

import numpy as np

from ._checks import number, scalar
from .optimizer import Optimizer

__all__ = ["LRScheduler", "InverseSqrtLR", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
           "get_cosine_schedule_with_warmup"]


class LRScheduler:
    """Base class: sets each parameter group's rate to ``lr_at(epoch)`` of its own base rate at each :meth:`step`.

    As in PyTorch, creating a schedule sets epoch 0 (each group's current rate becomes its entry
    of ``base_lrs``); each ``step()`` -- usually once per epoch -- moves to the next epoch.  An
    optimizer not yet bound to parameters has one rate, ``optimizer.lr``, which its groups take
    when it is bound.  Subclasses give the closed form ``rate(base_lr, epoch)``.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected a tinymed Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs = [group["lr"] for group in optimizer.param_groups] or [optimizer.lr]
        self.last_epoch = -1
        self.step()

    @property
    def base_lr(self) -> float:
        """The first group's base rate (the only one of a single-group optimizer)."""
        return self.base_lrs[0]

    def rate(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError(f"{type(self).__name__}.rate")

    def lr_at(self, epoch: int) -> float:
        """The first group's rate at ``epoch``."""
        return self.rate(self.base_lr, epoch)

    def step(self) -> None:
        self.last_epoch += 1
        self._set_rates()

    def _set_rates(self) -> None:
        self._last_lr = [self.rate(base, self.last_epoch) for base in self.base_lrs]
        groups = self.optimizer.param_groups
        if not groups:
            self.optimizer.lr = self._last_lr[0]
            return
        if len(groups) != len(self._last_lr):
            raise ValueError(f"{type(self).__name__}: the schedule was made for {len(self._last_lr)} parameter "
                             f"group(s), the optimizer now has {len(groups)}")
        for group, lr in zip(groups, self._last_lr):
            group["lr"] = lr

    def get_last_lr(self) -> list:
        """The rates set by the last :meth:`step`, one per parameter group (PyTorch's form)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {"base_lrs": np.array(self.base_lrs, dtype=np.float64), "last_epoch": self.last_epoch}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore ``base_lrs`` and ``last_epoch`` (a state dict of the last release's, with one
        ``base_lr``, is read too) and set the rates they give."""
        base = state_dict["base_lrs"] if "base_lrs" in state_dict else [state_dict["base_lr"]]
        self.base_lrs = [float(scalar(v)) for v in np.atleast_1d(base)]
        self.last_epoch = int(scalar(state_dict["last_epoch"]))
        self._set_rates()


class InverseSqrtLR(LRScheduler):
    r"""F11: :math:`\alpha_t = \alpha / \sqrt{t}`, with :math:`t = \text{epoch} + 1 = 1, 2, \dots`

    The article's :math:`\alpha = 1/\sqrt t` is the case ``base lr = 1``.
    """

    def rate(self, base_lr, epoch):
        return base_lr / math.sqrt(epoch + 1)


class StepLR(LRScheduler):
    r"""Multiply the rate by ``gamma`` every ``step_size`` epochs:
    :math:`\alpha_e = \alpha\,\gamma^{\lfloor e / \text{step\_size}\rfloor}` (PyTorch's ``StepLR``)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size = int(step_size)
        self.gamma = number("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def rate(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    r""":math:`\alpha_e = \alpha\,\gamma^e` (PyTorch's ``ExponentialLR``)."""

    def __init__(self, optimizer, gamma):
        self.gamma = number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def rate(self, base_lr, epoch):
        return base_lr * self.gamma**epoch


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

    def rate(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LambdaLR(LRScheduler):
    r""":math:`\alpha_e = \alpha \cdot f(e)` for a function ``lr_lambda`` of the epoch (PyTorch's ``LambdaLR``)."""

    def __init__(self, optimizer, lr_lambda):
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR: lr_lambda must be a function of the epoch, got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def rate(self, base_lr, epoch):
        return base_lr * self.lr_lambda(epoch)


def get_cosine_schedule_with_warmup(optimizer, num_warmup_steps: int, num_training_steps: int,
                                    num_cycles: float = 0.5) -> LambdaLR:
    r"""Linear warm-up, then cosine decay: Hugging Face's schedule of the same name, stepped once per
    optimizer step.  With :math:`w` warm-up steps of :math:`N`,

    .. math:: f(s) = \frac{s}{w} \quad (s < w), \qquad
              f(s) = \max\Big(0,\ \tfrac12\big(1 + \cos(2\pi c\, \tfrac{s - w}{N - w})\big)\Big) \quad (s \ge w)

    times each group's base rate (:math:`c` = ``num_cycles``; the default 0.5 is one half-cosine,
    from the full rate down to 0 at step :math:`N`).  *Why warm up*: at the start Adam's estimate
    of the gradients' scale rests on a few steps, and a Transformer's first updates are large
    and erratic; a rate that starts near 0 lets the statistics settle first.
    """
    owner = "get_cosine_schedule_with_warmup"
    for name, value in (("num_warmup_steps", num_warmup_steps), ("num_training_steps", num_training_steps)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{owner}: {name} must be a non-negative integer, got {value!r}")
    if num_training_steps <= num_warmup_steps:
        raise ValueError(f"{owner}: num_training_steps={num_training_steps} must exceed "
                         f"num_warmup_steps={num_warmup_steps}")
    num_cycles = number(owner, "num_cycles", num_cycles)

    def warmup_then_cosine(step):
        if step < num_warmup_steps:
            return step / max(1, num_warmup_steps)
        progress = (step - num_warmup_steps) / (num_training_steps - num_warmup_steps)
        return max(0.0, 0.5 * (1 + math.cos(2 * math.pi * num_cycles * progress)))

    return LambdaLR(optimizer, warmup_then_cosine)
