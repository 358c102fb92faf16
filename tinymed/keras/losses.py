r"""Keras's losses: ``model.compile(loss="binary_crossentropy")`` or
``loss=BinaryCrossentropy(from_logits=True)``; :func:`get` turns a name into an object.

Keras's losses differ from PyTorch's in argument order -- ``loss(y_true, y_pred)``, the
target first -- and in what they accept, not in the formula:

* ``BinaryCrossentropy`` takes targets of shape ``(N,)`` for outputs ``(N, 1)``;
* ``SparseCategoricalCrossentropy`` takes *probabilities* (a softmax output) unless
  ``from_logits=True``: :math:`L = -\frac1N\sum_i \log \mathrm{clip}(p_{i,y_i}, \epsilon, 1)`
  with Keras's :math:`\epsilon = 10^{-7}`, so a confident wrong answer costs at most
  :math:`-\log\epsilon \approx 16.1` instead of infinity;
* ``CategoricalCrossentropy`` takes one-hot (or soft) targets.

``compile`` also takes PyTorch's loss modules (``nn.BCEWithLogitsLoss()``); :func:`call` applies
each kind of loss in its own argument order.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..nn import functional as F
from ..nn._checks import as_tensor
from ..nn.module import Module

__all__ = [
    "MeanSquaredError", "BinaryCrossentropy", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
    "get", "call",
]

EPSILON = 1e-7  # Keras's backend epsilon for clipping probabilities


def _match_output(op, y_true, y_pred):
    """Keras accepts ``(N,)`` targets for ``(N, 1)`` outputs: reshape to the output's shape."""
    t = as_tensor(y_true)
    if t.shape != y_pred.shape and t.size == y_pred.size and t.shape[:1] == y_pred.shape[:1]:
        t = t.reshape(y_pred.shape)
    if t.shape != y_pred.shape:
        raise ValueError(f"{op}: targets of shape {t.shape} do not fit outputs of shape {y_pred.shape}")
    return t


class _KerasLoss(Module):
    """Keras's losses take ``(y_true, y_pred)``: the target first, as in ``loss(y, model(x))``."""

    keras_order = True


class MeanSquaredError(_KerasLoss):
    """Keras's ``MeanSquaredError`` (``"mse"``): the mean of :math:`(y - \\hat y)^2`."""

    def forward(self, y_true, y_pred):
        return F.mse_loss(y_pred, _match_output("MeanSquaredError", y_true, y_pred))


class BinaryCrossentropy(_KerasLoss):
    """Keras's ``BinaryCrossentropy(from_logits=False)`` (``"binary_crossentropy"``)."""

    def __init__(self, from_logits=False):
        super().__init__()
        self.from_logits = bool(from_logits)

    def forward(self, y_true, y_pred):
        t = _match_output("BinaryCrossentropy", y_true, y_pred)
        if self.from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, t)
        return F.binary_cross_entropy(y_pred, t)

    def extra_repr(self):
        return f"from_logits={self.from_logits}"


def _class_indices(op, y_true, n):
    t = y_true.numpy() if isinstance(y_true, Tensor) else np.asarray(y_true)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.shape != (n,):
        raise ValueError(f"{op}: expected {n} integer class labels, got an array of shape {t.shape}")
    if t.dtype.kind == "f":
        if not np.all(t == np.round(t)):
            raise ValueError(f"{op}: labels must be whole numbers (class indices), got non-integer floats")
        t = t.astype(np.int64)
    return t


class SparseCategoricalCrossentropy(_KerasLoss):
    """Keras's ``SparseCategoricalCrossentropy(from_logits=False)``: integer labels ``(N,)``."""

    def __init__(self, from_logits=False):
        super().__init__()
        self.from_logits = bool(from_logits)

    def forward(self, y_true, y_pred):
        op = "SparseCategoricalCrossentropy"
        if y_pred.ndim != 2:
            raise ValueError(f"{op}: expected outputs (N, classes), got shape {y_pred.shape}")
        labels = _class_indices(op, y_true, y_pred.shape[0])
        if self.from_logits:
            return F.cross_entropy(y_pred, labels)
        if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[1]):
            raise ValueError(f"{op}: labels must lie in [0, {y_pred.shape[1]}), got [{labels.min()}, {labels.max()}]")
        picked = y_pred[np.arange(labels.size), labels]
        return -(picked.clamp(EPSILON, 1.0).log().mean())

    def extra_repr(self):
        return f"from_logits={self.from_logits}"


class CategoricalCrossentropy(_KerasLoss):
    """Keras's ``CategoricalCrossentropy(from_logits=False)``: one-hot targets ``(N, classes)``."""

    def __init__(self, from_logits=False):
        super().__init__()
        self.from_logits = bool(from_logits)

    def forward(self, y_true, y_pred):
        t = _match_output("CategoricalCrossentropy", y_true, y_pred)
        if t.dtype != y_pred.dtype:
            t = t.astype(y_pred.dtype)
        log_p = F.log_softmax(y_pred, dim=-1) if self.from_logits else y_pred.clamp(EPSILON, 1.0).log()
        return -((t * log_p).sum(dim=-1).mean())

    def extra_repr(self):
        return f"from_logits={self.from_logits}"


_NAMES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
}


def get(identifier):
    """A loss from a Keras name, a loss class, a loss object, or a callable.

    See :func:`call` for the argument order each kind gets.
    """
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in _NAMES:
            raise ValueError(f"losses.get: unknown loss {identifier!r}; expected one of {sorted(_NAMES)}")
        return _NAMES[key]()
    if isinstance(identifier, type) and issubclass(identifier, Module):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"losses.get: expected a loss name, class or callable, got {type(identifier).__name__}")


def call(loss, output, target):
    """Apply ``loss`` in its own convention: PyTorch's modules take ``(output, target)``;
    Keras's classes and plain functions (as Keras's ``compile`` expects) take ``(target, output)``."""
    if getattr(loss, "output_first", False):
        return loss(output, target)
    return loss(target, output)
