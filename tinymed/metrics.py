r"""Classification metrics with scikit-learn's names, signatures and results (article F19).

Inputs are NumPy arrays, lists or tinymed Tensors.  Labels may be integers, integral floats,
booleans or strings.  For one class taken as *positive* (a disease present), each prediction
is a true/false positive/negative, and

.. math::
    \text{accuracy} &= \frac{TP + TN}{TP + TN + FP + FN}, \qquad
    \text{precision} = \frac{TP}{TP + FP}, \\
    \text{recall} = \text{sensitivity} &= \frac{TP}{TP + FN}, \qquad
    \text{specificity} = \frac{TN}{TN + FP}, \qquad
    F_1 = \frac{2\,\text{precision}\cdot\text{recall}}{\text{precision} + \text{recall}}
        = \frac{2\,TP}{2\,TP + FP + FN}.

The article's pneumonia model (003 §4.3) reports accuracy above 90 %, recall above 85 % and
F1 0.87.  Recall is what a screening test must get right: it is the share of sick patients
the test finds, and every missed one (a false negative) goes home untreated.  Accuracy can
look excellent while recall is poor when the disease is rare -- predicting "healthy" for
everyone is 99 % accurate at 1 % prevalence and finds nobody.

Where a ratio has a zero denominator (no predicted positives for precision, no actual
positives for recall), the result is ``zero_division``: ``"warn"`` (the default) gives 0 with an
:class:`UndefinedMetricWarning`, as in scikit-learn; ``0.0``, ``1.0`` or ``np.nan`` give that
value silently (``nan`` values are left out of averages).
"""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from .autograd import Tensor
from .backend import to_numpy

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "confusion_matrix", "precision_recall_fscore_support",
    "precision_score", "recall_score", "sensitivity_score", "specificity_score", "f1_score",
    "fbeta_score", "classification_report", "roc_curve", "auc", "roc_auc_score",
    "precision_recall_curve", "average_precision_score",
]

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


# ----- label metrics -----------------------------------------------------------------------
def accuracy_score(y_true, y_pred, *, normalize=True, sample_weight=None):
    r"""Fraction (or, ``normalize=False``, number) of correct predictions:
    :math:`\frac1n\sum_i [\hat y_i = y_i]`, i.e. :math:`\frac{TP+TN}{n}` for two classes."""
    _, _, y_true, y_pred, w = _check_targets("accuracy_score", y_true, y_pred, sample_weight)
    correct = (y_true == y_pred).astype(np.float64)
    if normalize:
        return float(np.average(correct, weights=w))
    return float(correct.sum() if w is None else (correct * w).sum())


def confusion_matrix(y_true, y_pred, *, labels=None, sample_weight=None, normalize=None):
    """``C[i, j]`` = number of samples of true class ``labels[i]`` predicted as ``labels[j]``.

    For binary 0/1 labels ``C = [[TN, FP], [FN, TP]]``.  ``labels`` fixes the order (and
    drops samples with other labels); by default the sorted labels of both inputs.
    ``normalize``: ``"true"`` divides each row by its total (row ``i`` then holds recall of
    class ``i`` on its diagonal), ``"pred"`` each column, ``"all"`` the whole matrix.
    """
    func = "confusion_matrix"
    _, present, y_true, y_pred, w = _check_targets(func, y_true, y_pred, sample_weight)
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"{func}: normalize must be one of None, 'true', 'pred', 'all'; got {normalize!r}")
    if labels is None:
        labels = present
    else:
        labels = _column(func, "labels", labels)
        if len(labels) == 0:
            raise ValueError(f"{func}: 'labels' should contain at least one label.")
        if not np.isin(y_true, labels).any():
            raise ValueError(f"{func}: At least one label specified must be in y_true")
    index = {label: i for i, label in enumerate(labels.tolist())}
    rows = np.array([index.get(v, -1) for v in y_true.tolist()])
    cols = np.array([index.get(v, -1) for v in y_pred.tolist()])
    keep = (rows >= 0) & (cols >= 0)
    dtype = np.int64 if w is None or w.dtype.kind in "iub" else np.float64
    weight = np.ones(len(y_true), dtype=dtype) if w is None else w.astype(dtype)
    cm = np.zeros((len(labels), len(labels)), dtype=dtype)
    np.add.at(cm, (rows[keep], cols[keep]), weight[keep])
    if normalize is not None:
        axis = {"true": 1, "pred": 0, "all": None}[normalize]
        with np.errstate(all="ignore"):
            cm = cm / cm.sum(axis=axis, keepdims=axis is not None)
        cm = np.nan_to_num(cm)
    if cm.shape == (1, 1):
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have the "
            "correct shape, use the 'labels' parameter to pass all known labels.", UserWarning, stacklevel=2)
    return cm


def precision_recall_fscore_support(y_true, y_pred, *, beta=1.0, labels=None, pos_label=1, average=None,
                                    warn_for=("precision", "recall", "f-score"), sample_weight=None,
                                    zero_division="warn"):
    r"""Precision, recall, :math:`F_\beta` and support (number of true samples) per label or averaged.

    :math:`F_\beta = \frac{(1+\beta^2)\,TP}{(1+\beta^2)\,TP + \beta^2 FN + FP}`.

    ``average``: ``"binary"`` -- only ``pos_label`` (two classes); ``None`` -- one value per
    label; ``"macro"`` -- the plain mean over labels; ``"weighted"`` -- the mean weighted by
    support; ``"micro"`` -- from TP, FP, FN summed over labels (for single-label multiclass
    data micro precision = micro recall = accuracy).  Support is ``None`` when averaged.
    """
    func = "precision_recall_fscore_support"
    if beta < 0:
        raise ValueError(f"{func}: beta must be >= 0, got {beta}")
    _zero_division_value(func, zero_division)
    y_type, present, y_true, y_pred, w = _check_targets(func, y_true, y_pred, sample_weight)
    labels = _set_labels(func, y_type, present, labels, average, pos_label)
    tp, fp, fn, _ = _one_vs_rest_counts(y_true, y_pred, labels, w)
    pred_sum, true_sum = tp + fp, tp + fn
    if average == "micro":
        tp, pred_sum, true_sum = tp.sum(keepdims=True), pred_sum.sum(keepdims=True), true_sum.sum(keepdims=True)
    precision = _divide(tp, pred_sum, "Precision", "predicted", average, "precision" in warn_for, zero_division, func)
    recall = _divide(tp, true_sum, "Recall", "true", average, "recall" in warn_for, zero_division, func)
    if np.isposinf(beta):
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        b2 = beta**2
        f_score = _divide((1 + b2) * tp, b2 * true_sum + pred_sum, "F-score", "true nor predicted", average,
                          "f-score" in warn_for, zero_division, func)
    if average is None:
        return precision, recall, f_score, true_sum
    return (_averaged(precision, average, true_sum), _averaged(recall, average, true_sum),
            _averaged(f_score, average, true_sum), None)


def precision_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                    zero_division="warn"):
    r"""Precision (positive predictive value) :math:`\frac{TP}{TP+FP}`: of the patients the test
    calls positive, the share who are."""
    p, _, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average, warn_for=("precision",),
        sample_weight=sample_weight, zero_division=zero_division)
    return p


def recall_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                 zero_division="warn"):
    r"""Recall = sensitivity = true-positive rate :math:`\frac{TP}{TP+FN}` (F19).

    Of the patients who have the disease, the share the test finds.  A screening test wants
    it close to 1: a missed case (false negative) is not sent for follow-up.
    """
    _, r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, pos_label=pos_label, average=average, warn_for=("recall",),
        sample_weight=sample_weight, zero_division=zero_division)
    return r


def sensitivity_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                      zero_division="warn"):
    r"""Sensitivity, the clinical name of recall: :math:`\frac{TP}{TP+FN}` (see :func:`recall_score`)."""
    return recall_score(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                        sample_weight=sample_weight, zero_division=zero_division)


def specificity_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
                      zero_division="warn"):
    r"""Specificity = true-negative rate :math:`\frac{TN}{TN+FP}` (a tinymed extra; scikit-learn has none).

    Of the patients without the disease, the share the test clears.  Same arguments and
    averaging as :func:`recall_score` (``"weighted"`` weights by each label's support, as
    imbalanced-learn's ``specificity_score``).  For two classes it is the recall of the
    negative class.
    """
    func = "specificity_score"
    _zero_division_value(func, zero_division)
    y_type, present, y_true, y_pred, w = _check_targets(func, y_true, y_pred, sample_weight)
    labels = _set_labels(func, y_type, present, labels, average, pos_label)
    tp, fp, fn, tn = _one_vs_rest_counts(y_true, y_pred, labels, w)
    negatives = tn + fp
    if average == "micro":
        tn, negatives = tn.sum(keepdims=True), negatives.sum(keepdims=True)
    spec = _divide(tn, negatives, "Specificity", "negative", average, True, zero_division, func)
    return _averaged(spec, average, tp + fn) if average != "binary" else float(spec[0])


def fbeta_score(y_true, y_pred, *, beta, labels=None, pos_label=1, average="binary", sample_weight=None,
                zero_division="warn"):
    r""":math:`F_\beta`: the weighted harmonic mean of precision and recall, recall counting
    :math:`\beta` times as much: :math:`\frac{(1+\beta^2)\,TP}{(1+\beta^2)\,TP + \beta^2 FN + FP}`."""
    _, _, f, _ = precision_recall_fscore_support(
        y_true, y_pred, beta=beta, labels=labels, pos_label=pos_label, average=average, warn_for=("f-score",),
        sample_weight=sample_weight, zero_division=zero_division)
    return f


def f1_score(y_true, y_pred, *, labels=None, pos_label=1, average="binary", sample_weight=None,
             zero_division="warn"):
    r""":math:`F_1 = \frac{2PR}{P+R} = \frac{2\,TP}{2\,TP + FP + FN}` (F19): the harmonic mean of
    precision and recall, high only when both are."""
    return fbeta_score(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label, average=average,
                       sample_weight=sample_weight, zero_division=zero_division)


def classification_report(y_true, y_pred, *, labels=None, target_names=None, sample_weight=None, digits=2,
                          output_dict=False, zero_division="warn"):
    """A text table (or, ``output_dict=True``, a dict) of precision, recall, F1 and support per
    class, with accuracy and macro/weighted averages -- scikit-learn's layout exactly."""
    func = "classification_report"
    y_type, present, y_true, y_pred, w = _check_targets(func, y_true, y_pred, sample_weight)
    labels_given = labels is not None
    labels = np.asarray(labels) if labels_given else present
    micro_is_accuracy = not labels_given or set(labels.tolist()) >= set(present.tolist())
    if target_names is not None and len(target_names) != len(labels):
        if labels_given:
            warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, {len(target_names)}")
        else:
            raise ValueError(
                f"{func}: Number of classes, {len(labels)}, does not match size of target_names, "
                f"{len(target_names)}. Try specifying the labels parameter"
            )
    names = [str(label) for label in labels.tolist()] if target_names is None else [str(n) for n in target_names]
    kwargs = dict(labels=labels, sample_weight=w, zero_division=zero_division)
    p, r, f1, s = precision_recall_fscore_support(y_true, y_pred, average=None, **kwargs)
    headers = ["precision", "recall", "f1-score", "support"]
    report = {name: dict(zip(headers, [float(v) for v in row])) for name, *row in zip(names, p, r, f1, s)}
    for average in ("micro", "macro", "weighted"):
        heading = "accuracy" if average == "micro" and micro_is_accuracy else f"{average} avg"
        avg = precision_recall_fscore_support(y_true, y_pred, average=average, **kwargs)[:3]
        report[heading] = dict(zip(headers, [float(v) for v in avg] + [float(np.sum(s))]))
    if output_dict:
        if "accuracy" in report:
            report["accuracy"] = report["accuracy"]["precision"]
        return report
    return _format_report(report, names, s, digits)


def _format_report(report, names, support, digits):
    width = max(max(len(n) for n in names), len("weighted avg"), digits)
    headers = ["precision", "recall", "f1-score", "support"]
    text = "{:>{width}s} ".format("", width=width) + "".join(f" {h:>9}" for h in headers)
    text += "\n\n"
    row = "{:>{width}s} " + " {:>9.{digits}f}" * 3 + " {:>9}\n"
    for name, s in zip(names, support):
        r = report[name]
        text += row.format(name, r["precision"], r["recall"], r["f1-score"], s, width=width, digits=digits)
    text += "\n"
    total = np.sum(support)
    for heading in [k for k in report if k not in names]:
        r = report[heading]
        if heading == "accuracy":
            accuracy_row = "{:>{width}s} " + " {:>9.{digits}}" * 2 + " {:>9.{digits}f}" + " {:>9}\n"
            text += accuracy_row.format(heading, "", "", r["f1-score"], total, width=width, digits=digits)
        else:
            text += row.format(heading, r["precision"], r["recall"], r["f1-score"], total, width=width, digits=digits)
    return text


# ----- score metrics: ROC and precision-recall curves ------------------------------------
def _scores(func, y_score):
    s = _array(func, "y_score", y_score)
    if s.dtype.kind not in "iubf":
        raise TypeError(f"{func}: y_score must be numeric, got dtype {s.dtype}")
    s = s.astype(np.float64)
    if not np.isfinite(s).all():
        raise ValueError(f"{func}: y_score contains NaN or infinity")
    return s


def _pos_label(func, y_true, pos_label):
    """scikit-learn's rule: labels {0, 1} or {-1, 1} imply pos_label=1; otherwise it must be given."""
    classes = np.unique(y_true)
    if pos_label is None:
        plain = classes.dtype.kind not in "USO" and any(
            np.array_equal(classes, c) for c in ([0, 1], [-1, 1], [0], [-1], [1]))
        if not plain:
            shown = ", ".join(repr(c) for c in classes.tolist())
            raise ValueError(
                f"{func}: y_true takes value in {{{shown}}} and pos_label is not specified: either make "
                "y_true take value in {0, 1} or {-1, 1} or pass pos_label explicitly."
            )
        return 1
    return pos_label


def _binary_curve_counts(func, y_true, y_score, pos_label, sample_weight):
    """Cumulative (FP, TP) counts at each distinct score, thresholds in decreasing order.

    Predicting "positive" when score >= threshold: lowering the threshold past a score adds
    that sample to the positives, so counts are running sums over samples sorted by score.
    """
    y_true = _column(func, "y_true", y_true)
    y_score = _scores(func, y_score)
    if y_score.ndim == 2 and y_score.shape[1] == 1:
        y_score = y_score[:, 0]
    if y_score.ndim != 1:
        hint = " (for two-class probabilities pass the positive column, y_score[:, 1])" if y_score.ndim == 2 else ""
        raise ValueError(f"{func}: y_score must be 1-D, got shape {y_score.shape}{hint}")
    w = None if sample_weight is None else _column(func, "sample_weight", sample_weight).astype(np.float64)
    _same_length(func, {"y_true": y_true, "y_score": y_score, "sample_weight": w})
    if len(y_true) == 0:
        raise ValueError(f"{func}: y_true is empty")
    _check_labels(func, "y_true", y_true)
    if len(np.unique(y_true)) > 2 and pos_label is None:
        raise ValueError(f"{func}: y_true has more than two classes; pass pos_label to pick the positive one")
    positive = (y_true == _pos_label(func, y_true, pos_label)).astype(np.float64)
    if w is not None:
        keep = w != 0
        positive, y_score, w = positive[keep], y_score[keep], w[keep]
    order = np.argsort(y_score, kind="stable")[::-1]
    y_score, positive = y_score[order], positive[order]
    weight = 1.0 if w is None else w[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(y_score)), len(y_score) - 1]
    tps = np.cumsum(positive * weight)[last_of_each_score]
    if w is None:
        fps = 1 + last_of_each_score - tps
    else:
        fps = np.cumsum((1 - positive) * weight)[last_of_each_score]
    return fps, tps, y_score[last_of_each_score]


def roc_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=True):
    r"""Receiver operating characteristic: ``(fpr, tpr, thresholds)``.

    For each threshold :math:`\tau` (decreasing; the first is :math:`+\infty`, where nothing is
    called positive) the test says "positive" when score :math:`\ge \tau`;
    :math:`TPR = \frac{TP}{P}` (sensitivity) and :math:`FPR = \frac{FP}{N} = 1 - \text{specificity}`.
    ``drop_intermediate`` drops thresholds that lie on a straight segment of the curve.
    """
    func = "roc_curve"
    fps, tps, thresholds = _binary_curve_counts(func, y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        corner = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds]
    if fps[-1] <= 0:
        warnings.warn("No negative samples in y_true, false positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        fpr = np.full(fps.shape, np.nan)
    else:
        fpr = fps / fps[-1]
    if tps[-1] <= 0:
        warnings.warn("No positive samples in y_true, true positive value should be meaningless",
                      UndefinedMetricWarning, stacklevel=2)
        tpr = np.full(tps.shape, np.nan)
    else:
        tpr = tps / tps[-1]
    return fpr, tpr, thresholds


def auc(x, y):
    r"""Area under a curve by the trapezoidal rule, :math:`\sum_i (x_{i+1}-x_i)\frac{y_i + y_{i+1}}{2}`.

    ``x`` must be monotonic (increasing or decreasing)."""
    x, y = _column("auc", "x", x).astype(np.float64), _column("auc", "y", y).astype(np.float64)
    _same_length("auc", {"x": x, "y": y})
    if len(x) < 2:
        raise ValueError(f"auc: at least 2 points are needed to compute area under curve, but x.shape = {x.shape}")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if not np.all(dx <= 0):
            raise ValueError(f"auc: x is neither increasing nor decreasing : {x}.")
        direction = -1.0
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2))


def _binary_roc_auc(y_true, y_score, sample_weight=None, max_fpr=None):
    if len(np.unique(y_true)) != 2:
        warnings.warn("Only one class is present in y_true. ROC AUC score is not defined in that case.",
                      UndefinedMetricWarning, stacklevel=3)
        return float("nan")
    fpr, tpr, _ = roc_curve(y_true, y_score, sample_weight=sample_weight)
    if max_fpr is None or max_fpr == 1:
        return auc(fpr, tpr)
    # partial AUC up to max_fpr, standardised (McClish 1989): 0.5 for chance, 1 for perfect
    stop = np.searchsorted(fpr, max_fpr, "right")
    tpr = np.append(tpr[:stop], np.interp(max_fpr, fpr[stop - 1:stop + 1], tpr[stop - 1:stop + 1]))
    fpr = np.append(fpr[:stop], max_fpr)
    min_area, max_area = 0.5 * max_fpr**2, max_fpr
    return 0.5 * (1 + (auc(fpr, tpr) - min_area) / (max_area - min_area))


def _average_over_columns(metric, y_onehot, y_score, average, sample_weight):
    """A binary score per column (one class against the rest), then averaged."""
    if average == "micro":
        w = None if sample_weight is None else np.repeat(sample_weight, y_onehot.shape[1])
        return metric(y_onehot.ravel(), y_score.ravel(), w)
    scores = np.array([metric(y_onehot[:, c], y_score[:, c], sample_weight) for c in range(y_onehot.shape[1])])
    if average is None:
        return scores
    weights = None
    if average == "weighted":
        weights = (y_onehot * (1.0 if sample_weight is None else sample_weight[:, None])).sum(axis=0)
        if np.isclose(weights.sum(), 0):
            return 0.0
        scores[weights == 0] = 0
    return float(np.average(scores, weights=weights))


def roc_auc_score(y_true, y_score, *, average="macro", sample_weight=None, max_fpr=None, multi_class="raise",
                  labels=None):
    r"""Area under the ROC curve: the probability that a random positive is scored above a
    random negative (ties count one half).  0.5 is chance, 1 perfect separation.

    Binary: ``y_score`` is the score of the greater label (1, or e.g. ``"malignant"`` after
    ``"benign"``).  ``max_fpr`` gives the standardised partial AUC over FPR ``<= max_fpr``.
    Multiclass: ``y_score (n, C)`` class probabilities (rows sum to 1) and ``multi_class``
    ``"ovr"`` (each class against the rest, ``average`` ``"macro"``, ``"weighted"`` by
    prevalence, ``"micro"`` or ``None``) or ``"ovo"`` (Hand & Till 2001: every pair of
    classes, ``"macro"`` or ``"weighted"``).
    """
    func = "roc_auc_score"
    y_true = _column(func, "y_true", y_true)
    _check_labels(func, "y_true", y_true)
    y_score = _scores(func, y_score)
    w = None if sample_weight is None else _column(func, "sample_weight", sample_weight).astype(np.float64)
    _same_length(func, {"y_true": y_true, "y_score": y_score, "sample_weight": w})
    classes = np.unique(y_true)
    if len(classes) > 2 or (y_score.ndim == 2 and y_score.shape[1] > 2):
        if max_fpr is not None and max_fpr != 1.0:
            raise ValueError(f"{func}: partial AUC (max_fpr) is not available for multiclass targets")
        if multi_class == "raise":
            raise ValueError(f"{func}: y_true has {len(classes)} classes; pass multi_class='ovr' or 'ovo'")
        return _multiclass_roc_auc(y_true, y_score, labels, multi_class, average, w)
    if average not in ("micro", "macro", "weighted", None):
        raise ValueError(f"{func}: average must be one of 'micro', 'macro', 'weighted', None; got {average!r}")
    if max_fpr is not None and not 0 < max_fpr <= 1:
        raise ValueError(f"{func}: Expected max_fpr in range (0, 1], got: {max_fpr!r}")
    if y_score.ndim != 1:
        raise ValueError(f"{func}: binary y_true needs 1-D y_score (the positive class's score, e.g. y_score[:, 1]), "
                         f"got shape {y_score.shape}")
    positive = (y_true == classes[-1]).astype(int)
    return _binary_roc_auc(positive, y_score, w, max_fpr)


def _multiclass_roc_auc(y_true, y_score, labels, multi_class, average, w):
    func = "roc_auc_score"
    if y_score.ndim != 2:
        raise ValueError(
            f"{func}: y_score must have shape (n_samples, n_classes) for multiclass y_true, got {y_score.shape}"
        )
    if not np.allclose(1, y_score.sum(axis=1)):
        raise ValueError(f"{func}: Target scores need to be probabilities for multiclass roc_auc, i.e. they should "
                         "sum up to 1.0 over classes (apply softmax first)")
    if multi_class not in ("ovr", "ovo"):
        raise ValueError(f"{func}: multi_class must be 'ovr' or 'ovo', got {multi_class!r}")
    options = ("micro", "macro", "weighted", None) if multi_class == "ovr" else ("macro", "weighted")
    if average not in options:
        raise ValueError(f"{func}: average must be one of {options} for multi_class={multi_class!r}, got {average!r}")
    if labels is not None:
        classes = _column(func, "labels", labels)
        if len(np.unique(classes)) != len(classes) or not np.array_equal(np.unique(classes), classes):
            raise ValueError(f"{func}: labels must be unique and sorted, got {classes.tolist()}")
        if not np.isin(y_true, classes).all():
            raise ValueError(f"{func}: 'y_true' contains labels not in parameter 'labels'")
    else:
        classes = np.unique(y_true)
    if len(classes) != y_score.shape[1]:
        raise ValueError(f"{func}: {len(classes)} classes but y_score has {y_score.shape[1]} columns")
    if multi_class == "ovr":
        onehot = (y_true[:, None] == classes[None, :]).astype(int)
        return _average_over_columns(_binary_roc_auc, onehot, y_score, average, w)
    if w is not None:
        raise ValueError(f"{func}: sample_weight is not supported for multi_class='ovo'")
    encoded = np.searchsorted(classes, y_true)
    pair_scores, prevalence = [], []
    for a, b in combinations(np.unique(encoded), 2):
        in_pair = (encoded == a) | (encoded == b)
        is_a, is_b = (encoded == a)[in_pair], (encoded == b)[in_pair]
        a_vs_b = _binary_roc_auc(is_a, y_score[in_pair, a])
        b_vs_a = _binary_roc_auc(is_b, y_score[in_pair, b])
        pair_scores.append((a_vs_b + b_vs_a) / 2)
        prevalence.append(in_pair.mean())
    return float(np.average(pair_scores, weights=prevalence if average == "weighted" else None))


def precision_recall_curve(y_true, y_score, *, pos_label=None, sample_weight=None, drop_intermediate=False):
    r"""``(precision, recall, thresholds)`` for every threshold, recall decreasing.

    The last point is precision 1, recall 0 (no threshold).  Precision with no predicted
    positive is set to 0.
    """
    func = "precision_recall_curve"
    fps, tps, thresholds = _binary_curve_counts(func, y_true, y_score, pos_label, sample_weight)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    predicted = tps + fps
    precision = np.where(predicted != 0, tps / np.where(predicted != 0, predicted, 1), 0.0)
    if tps[-1] == 0:
        warnings.warn("No positive class found in y_true, recall is set to one for all thresholds.", stacklevel=2)
        recall = np.ones_like(tps)
    else:
        recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision_score(y_true, y_score, *, average="macro", pos_label=1, sample_weight=None):
    r"""Average precision :math:`AP = \sum_n (R_n - R_{n-1}) P_n`: precision averaged over the
    recall gained at each threshold (no interpolation, as scikit-learn).

    Multiclass ``y_true`` with ``y_score (n, C)``: one AP per class against the rest, then
    ``average`` (``"macro"``, ``"weighted"``, ``"micro"`` or ``None``).
    """
    func = "average_precision_score"
    y_true = _column(func, "y_true", y_true)
    _check_labels(func, "y_true", y_true)
    y_score = _scores(func, y_score)
    w = None if sample_weight is None else _column(func, "sample_weight", sample_weight).astype(np.float64)
    if average not in ("micro", "macro", "weighted", None):
        raise ValueError(f"{func}: average must be one of 'micro', 'macro', 'weighted', None; got {average!r}")

    def binary_ap(y, s, weight=None, pos=1):
        precision, recall, _ = precision_recall_curve(y, s, pos_label=pos, sample_weight=weight)
        return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))

    present = np.unique(y_true)
    if len(present) <= 2:
        if len(present) == 2 and pos_label not in present.tolist():
            raise ValueError(
                f"{func}: pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}"
            )
        return binary_ap(y_true, y_score, w, pos_label)
    if pos_label != 1:
        raise ValueError(
            f"{func}: Parameter pos_label is fixed to 1 for multiclass y_true. "
            "Do not set pos_label or set pos_label to 1."
        )
    onehot = (y_true[:, None] == present[None, :]).astype(int)
    if y_score.shape != onehot.shape:
        raise ValueError(
            f"{func}: y_score must have shape (n_samples, n_classes) = {onehot.shape}, got {y_score.shape}"
        )
    return _average_over_columns(binary_ap, onehot, y_score, average, w)
