"""Metrics of predicted labels: accuracy, the confusion matrix, precision, recall (sensitivity),
specificity, F-scores and the classification report (scikit-learn's ``_classification``)."""

from __future__ import annotations

import warnings

import numpy as np

from ._validation import (
    _averaged,
    _check_targets,
    _column,
    _divide,
    _one_vs_rest_counts,
    _set_labels,
    _zero_division_value,
)


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
            warnings.warn(f"labels size, {len(labels)}, does not match size of target_names, {len(target_names)}",
                          stacklevel=2)
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
