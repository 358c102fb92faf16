"""Metrics of scores: ROC and precision-recall curves, the areas under them (scikit-learn's
``_ranking``)."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np

from ._validation import (
    UndefinedMetricWarning,
    _array,
    _check_labels,
    _column,
    _same_length,
)


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
