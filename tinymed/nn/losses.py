"""Loss modules in PyTorch's style, each calling one ``nn.functional`` loss:
``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)`` -- the output first,
then the target.  (Keras's loss classes, which take the target first, are in
:mod:`tinymed.keras.losses`.)
"""

from __future__ import annotations

from . import _checks as C
from . import functional as F
from .module import Module

__all__ = ["MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss"]


class _Loss(Module):
    """A loss module: ``forward(input, target)`` with a ``reduction``."""

    output_first = True  # PyTorch's argument order: loss(output, target)

    def __init__(self, reduction="mean"):
        super().__init__()
        C.reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """``F.mse_loss`` (F12) as a module."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """``F.cross_entropy``: logits ``(N, C)``, integer targets ``(N,)``."""

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class BCELoss(_Loss):
    """``F.binary_cross_entropy`` on probabilities."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """``F.binary_cross_entropy_with_logits``: the stable form, from logits."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)
