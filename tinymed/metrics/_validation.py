"""Input checks and counting shared by the label metrics and the curve metrics: each takes the
calling metric's name (``func``) so its errors say which metric refused what."""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Tensor
from ..backend import to_numpy

_AVERAGES = (None, "micro", "macro", "weighted")


class UndefinedMetricWarning(UserWarning):
    """A metric's denominator was zero; the value returned was set by ``zero_division``."""


# ----- input handling ----------------------------------------------------------------------
def _array(func, name, y):
    """``y`` as a NumPy array (Tensors and CuPy arrays are copied to the host)."""
    if y is None:
        raise TypeError(f"{func}: {name} is None")
    if isinstance(y, Tensor):
        return y.numpy()
    if type(y).__module__.startswith("cupy"):
        return to_numpy(y)
    return np.asarray(y)


def _column(func, name, y):
    """A 1-D array from a 1-D array or an ``(n, 1)`` column."""
    y = _array(func, name, y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{func}: {name} must be 1-D (one value per sample), got shape {y.shape}")
    return y


def _check_labels(func, name, y):
    if y.dtype.kind == "f":
        if np.isnan(y).any():
            raise ValueError(f"{func}: {name} contains NaN")
        if not np.all(y == np.round(y)):
            example = y[y != np.round(y)][0]
            raise ValueError(
                f"{func}: {name} contains non-integer values (e.g. {example}), i.e. scores or "
                "probabilities; classification metrics need class labels -- threshold first, "
                "e.g. (p >= 0.5).astype(int), or take argmax over classes"
            )
    elif y.dtype.kind not in "iubUSO":
        raise TypeError(f"{func}: {name} has unsupported dtype {y.dtype}")


def _same_length(func, named):
    lengths = {name: len(a) for name, a in named.items() if a is not None}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"{func}: inputs must have the same number of samples; {detail}")


def _check_targets(func, y_true, y_pred, sample_weight=None):
    """Validate label vectors; return ``(y_type, labels, y_true, y_pred, weights)``.

    ``y_type`` is ``"binary"`` (at most two distinct labels) or ``"multiclass"``; ``labels``
    the sorted distinct labels of both.  ``weights`` is ``None`` or a float array.
    """
    y_true, y_pred = _column(func, "y_true", y_true), _column(func, "y_pred", y_pred)
    w = None if sample_weight is None else _column(func, "sample_weight", sample_weight)
    _same_length(func, {"y_true": y_true, "y_pred": y_pred, "sample_weight": w})
    if len(y_true) == 0:
        raise ValueError(f"{func}: y_true and y_pred are empty")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        _check_labels(func, name, y)
    if (y_true.dtype.kind in "USO") != (y_pred.dtype.kind in "USO"):
        raise ValueError(
            f"{func}: mix of label types: y_true has dtype {y_true.dtype}, y_pred has {y_pred.dtype} "
            "(strings and numbers cannot be compared)"
        )
    labels = np.unique(np.concatenate([y_true, y_pred]))
    y_type = "binary" if len(labels) <= 2 else "multiclass"
    return y_type, labels, y_true, y_pred, w


def _zero_division_value(func, zero_division):
    if isinstance(zero_division, str):
        if zero_division != "warn":
            raise ValueError(f"{func}: zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")
        return 0.0
    if zero_division in (0, 1) or np.isnan(zero_division):
        return float(zero_division)
    raise ValueError(f"{func}: zero_division must be 'warn', 0.0, 1.0 or np.nan, got {zero_division!r}")


# ----- counts ------------------------------------------------------------------------------
def _one_vs_rest_counts(y_true, y_pred, labels, w):
    """Per label, taken as the positive class: (TP, FP, FN, TN), weighted by ``w``."""
    weight = np.ones(len(y_true), dtype=np.int64) if w is None else w.astype(np.float64)
    tp, fp, fn, tn = [], [], [], []
    total = weight.sum()
    for label in labels:
        actual, predicted = y_true == label, y_pred == label
        tp.append(weight[actual & predicted].sum())
        fp.append(weight[~actual & predicted].sum())
        fn.append(weight[actual & ~predicted].sum())
        tn.append(total - tp[-1] - fp[-1] - fn[-1])
    return tuple(np.array(c) for c in (tp, fp, fn, tn))


def _divide(numerator, denominator, metric, modifier, average, warn, zero_division, func):
    """``numerator / denominator`` per label; where the denominator is 0, ``zero_division``."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    undefined = denominator == 0
    result = numerator / np.where(undefined, 1.0, denominator)
    if not undefined.any():
        return result
    result[undefined] = _zero_division_value(func, zero_division)
    if zero_division == "warn" and warn:
        where = "due to" if len(result) == 1 else "in labels with"
        warnings.warn(
            f"{metric} is ill-defined and being set to 0.0 {where} no {modifier} samples. "
            "Use `zero_division` parameter to control this behavior.",
            UndefinedMetricWarning, stacklevel=4,
        )
    return result


def _nan_average(values, weights=None):
    """Weighted mean leaving out NaN (from ``zero_division=np.nan``); all-zero weights: plain mean."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    values = values[keep]
    weights = None if weights is None else np.asarray(weights, dtype=np.float64)[keep]
    if weights is not None and weights.sum() == 0:
        weights = None
    return float(np.average(values, weights=weights))


def _set_labels(func, y_type, present, labels, average, pos_label):
    """The labels a set-wise metric is computed over (scikit-learn's rules)."""
    if average not in _AVERAGES and average != "binary":
        raise ValueError(
            f"{func}: average must be one of 'binary', 'micro', 'macro', 'weighted', None; got {average!r}"
        )
    if average == "binary":
        if y_type != "binary":
            raise ValueError(
                f"{func}: Target is multiclass but average='binary'. Please choose another average "
                f"setting, one of {list(_AVERAGES)}."
            )
        if pos_label not in present.tolist() and len(present) >= 2:
            raise ValueError(
                f"{func}: pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}"
            )
        return np.asarray([pos_label])
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' "
            f"(got {average!r}). You may use labels=[pos_label] to specify a single positive class.",
            UserWarning, stacklevel=4,
        )
    return present if labels is None else np.asarray(labels)


def _averaged(values, average, weights):
    return values if average is None else _nan_average(values, weights if average == "weighted" else None)
