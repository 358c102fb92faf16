"""Keras's metrics by name, for ``compile(metrics=["accuracy", "auc", ...])``.

Metrics are computed on a whole epoch's outputs (not averaged over batches), so ``accuracy`` is
exactly the fraction of correct answers.  Names: ``"accuracy"``/``"acc"`` (binary by threshold or
multi-class by argmax, chosen from the output's shape), ``"precision"``, ``"recall"``, ``"auc"``
(binary), ``"mae"``, ``"mse"``; or any ``fn(y_true, y_pred) -> float``.  The scores themselves
come from :mod:`tinymed.metrics` (scikit-learn's names).
"""

from __future__ import annotations

import numpy as np

from .. import metrics as sk

__all__ = ["get"]


def _binary_scores(y_pred, from_logits):
    """Positive-class scores from a ``(N,)`` or ``(N, 1)`` output, and the decision threshold."""
    return y_pred.reshape(len(y_pred)), (0.0 if from_logits else 0.5)


def _labels(y_true, n):
    y = np.asarray(y_true)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        return y.argmax(axis=1)
    return y.reshape(n)


def get(name, from_logits=False, binary_loss=False):
    """A metric by name, as ``compile(metrics=[...])`` takes it: ``(name, fn(y_true, y_pred) -> float)``.

    As in Keras, ``"accuracy"`` with a binary cross-entropy loss is the fraction of output
    *elements* on the right side of the threshold (every output unit is its own yes/no
    question); otherwise it compares labels."""
    key = name.lower() if isinstance(name, str) else name
    if callable(name):
        return getattr(name, "__name__", "metric"), name

    def binary_accuracy(y_true, y_pred):
        threshold = 0.0 if from_logits else 0.5
        return float(np.mean((y_pred > threshold) == (np.asarray(y_true).reshape(y_pred.shape) > 0.5)))

    def predicted(y_true, y_pred):
        if y_pred.ndim == 2 and y_pred.shape[1] > 1:
            return _labels(y_true, len(y_pred)), y_pred.argmax(axis=1)
        scores, threshold = _binary_scores(y_pred, from_logits)
        return _labels(y_true, len(y_pred)), (scores > threshold).astype(np.int64)

    def binary(fn):
        def score(y_true, y_pred):
            if y_pred.ndim == 2 and y_pred.shape[1] > 1:
                raise ValueError(f"metric '{name}': needs one output per sample (binary), got shape {y_pred.shape}")
            return fn(*predicted(y_true, y_pred), zero_division=0.0)
        return score

    table = {
        "accuracy": binary_accuracy if binary_loss else (lambda t, p: sk.accuracy_score(*predicted(t, p))),
        "precision": binary(sk.precision_score),
        "recall": binary(sk.recall_score),
        "auc": lambda t, p: sk.roc_auc_score(_labels(t, len(p)), _binary_scores(p, from_logits)[0]),
        "mae": lambda t, p: float(np.mean(np.abs(p - np.asarray(t).reshape(p.shape)))),
        "mse": lambda t, p: float(np.mean((p - np.asarray(t).reshape(p.shape)) ** 2)),
    }
    aliases = {"acc": "accuracy", "mean_absolute_error": "mae", "mean_squared_error": "mse"}
    key = aliases.get(key, key)
    if key not in table:
        raise ValueError(f"compile: unknown metric {name!r}; expected one of {sorted(table)} or a callable")
    return key, table[key]
