"""Metrics: hand-computed cases, scikit-learn's results where it is installed, errors, plots."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tinymed import metrics, plot
from tinymed.metrics import UndefinedMetricWarning

# ----- hand-computed cases -------------------------------------------------------------------
# Ten patients, 1 = pneumonia.  Positions 0-3 are sick, 4-9 healthy.
Y_TRUE = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
Y_PRED = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
# TP = 3 (0, 1, 2), FN = 1 (3), FP = 2 (4, 5), TN = 4 (6-9)


def test_binary_metrics_by_hand():
    assert metrics.accuracy_score(Y_TRUE, Y_PRED) == pytest.approx(0.7)  # (TP + TN) / n = (3 + 4) / 10
    assert metrics.accuracy_score(Y_TRUE, Y_PRED, normalize=False) == 7
    assert metrics.precision_score(Y_TRUE, Y_PRED) == pytest.approx(0.6)  # TP / (TP + FP) = 3 / 5
    assert metrics.recall_score(Y_TRUE, Y_PRED) == pytest.approx(0.75)  # TP / (TP + FN) = 3 / 4
    assert metrics.sensitivity_score(Y_TRUE, Y_PRED) == pytest.approx(0.75)
    assert metrics.specificity_score(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)  # TN / (TN + FP) = 4 / 6
    assert metrics.f1_score(Y_TRUE, Y_PRED) == pytest.approx(2 / 3)  # 2TP / (2TP + FP + FN) = 6 / 9
    # F2 = 5TP / (5TP + 4FN + FP) = 15 / (15 + 4 + 2)
    assert metrics.fbeta_score(Y_TRUE, Y_PRED, beta=2) == pytest.approx(15 / 21)
    np.testing.assert_array_equal(metrics.confusion_matrix(Y_TRUE, Y_PRED), [[4, 2], [1, 3]])  # [[TN, FP], [FN, TP]]
    # with "healthy" (0) as the positive class the roles swap: precision 4/5, recall 4/6
    assert metrics.precision_score(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(0.8)
    assert metrics.recall_score(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(2 / 3)
    assert metrics.specificity_score(Y_TRUE, Y_PRED, pos_label=0) == pytest.approx(0.75)


def test_screening_example_accuracy_hides_missed_cases():
    # 1 sick patient in 100, a "test" that calls everyone healthy: 99 % accurate, recall 0
    y_true = np.r_[1, np.zeros(99, dtype=int)]
    y_pred = np.zeros(100, dtype=int)
    assert metrics.accuracy_score(y_true, y_pred) == pytest.approx(0.99)
    assert metrics.recall_score(y_true, y_pred) == 0.0
    assert metrics.specificity_score(y_true, y_pred) == 1.0


# Seven samples, three classes.
MC_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
MC_PRED = np.array([0, 1, 1, 1, 2, 0, 2])
# class 0: TP 1 (idx 0), FP 1 (idx 5), FN 1 (idx 1), TN 4 -> P 1/2, R 1/2, F1 1/2,   support 2
# class 1: TP 2 (idx 2, 3), FP 1 (idx 1), FN 0,    TN 4 -> P 2/3, R 1,   F1 4/5,   support 2
# class 2: TP 2 (idx 4, 6), FP 0, FN 1 (idx 5),    TN 4 -> P 1,   R 2/3, F1 4/5,   support 3


def test_multiclass_metrics_by_hand():
    p, r, f, s = metrics.precision_recall_fscore_support(MC_TRUE, MC_PRED)
    np.testing.assert_allclose(p, [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(r, [1 / 2, 1, 2 / 3])
    np.testing.assert_allclose(f, [1 / 2, 4 / 5, 4 / 5])
    np.testing.assert_array_equal(s, [2, 2, 3])
    # macro: plain means; (1/2 + 2/3 + 1) / 3 = 13/18, (1/2 + 4/5 + 4/5) / 3 = 0.7
    assert metrics.precision_score(MC_TRUE, MC_PRED, average="macro") == pytest.approx(13 / 18)
    assert metrics.recall_score(MC_TRUE, MC_PRED, average="macro") == pytest.approx(13 / 18)
    assert metrics.f1_score(MC_TRUE, MC_PRED, average="macro") == pytest.approx(0.7)
    # weighted by support: (2 * 1/2 + 2 * 2/3 + 3 * 1) / 7 = 16/21; recall (1 + 2 + 2) / 7 = 5/7
    assert metrics.precision_score(MC_TRUE, MC_PRED, average="weighted") == pytest.approx(16 / 21)
    assert metrics.recall_score(MC_TRUE, MC_PRED, average="weighted") == pytest.approx(5 / 7)
    # micro: TP summed 5, FP summed 2, FN summed 2 -> all equal to accuracy 5/7
    for fn in (metrics.precision_score, metrics.recall_score, metrics.f1_score):
        assert fn(MC_TRUE, MC_PRED, average="micro") == pytest.approx(5 / 7)
    assert metrics.accuracy_score(MC_TRUE, MC_PRED) == pytest.approx(5 / 7)
    # specificity TN / (TN + FP): 4/5, 4/5, 4/4
    np.testing.assert_allclose(metrics.specificity_score(MC_TRUE, MC_PRED, average=None), [0.8, 0.8, 1.0])
    assert metrics.specificity_score(MC_TRUE, MC_PRED, average="macro") == pytest.approx(13 / 15)
    # micro specificity: TN summed 12, FP summed 2 -> 12/14
    assert metrics.specificity_score(MC_TRUE, MC_PRED, average="micro") == pytest.approx(12 / 14)


def test_confusion_matrix_by_hand():
    cm = metrics.confusion_matrix(MC_TRUE, MC_PRED)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert cm.dtype == np.int64
    # rows divided by their totals 2, 2, 3
    np.testing.assert_allclose(metrics.confusion_matrix(MC_TRUE, MC_PRED, normalize="true"),
                               [[1 / 2, 1 / 2, 0], [0, 1, 0], [1 / 3, 0, 2 / 3]])
    # columns divided by their totals 2, 3, 2
    np.testing.assert_allclose(metrics.confusion_matrix(MC_TRUE, MC_PRED, normalize="pred"),
                               [[1 / 2, 1 / 3, 0], [0, 2 / 3, 0], [1 / 2, 0, 1]])
    np.testing.assert_allclose(metrics.confusion_matrix(MC_TRUE, MC_PRED, normalize="all"), cm / 7)
    # labels pick and order rows/columns; samples with other labels are dropped
    np.testing.assert_array_equal(metrics.confusion_matrix(MC_TRUE, MC_PRED, labels=[2, 0]), [[2, 1], [0, 1]])
    # weights: sample i counts w_i
    w = np.array([1, 2, 1, 1, 1, 3, 1])
    np.testing.assert_array_equal(metrics.confusion_matrix(MC_TRUE, MC_PRED, sample_weight=w),
                                  [[1, 2, 0], [0, 2, 0], [3, 0, 2]])


def test_string_labels_and_tensors():
    y_true = np.array(["benign", "malignant", "malignant", "benign"])
    y_pred = np.array(["benign", "malignant", "benign", "benign"])
    # malignant positive: TP 1, FN 1, FP 0
    assert metrics.recall_score(y_true, y_pred, pos_label="malignant") == 0.5
    assert metrics.precision_score(y_true, y_pred, pos_label="malignant") == 1.0
    np.testing.assert_array_equal(metrics.confusion_matrix(y_true, y_pred), [[2, 0], [1, 1]])
    t_true, t_pred = tinymed.Tensor(Y_TRUE.astype(np.float32)), tinymed.Tensor(Y_PRED)
    assert metrics.f1_score(t_true, t_pred) == pytest.approx(2 / 3)
    assert metrics.accuracy_score(Y_TRUE.reshape(-1, 1), list(Y_PRED)) == pytest.approx(0.7)


def test_zero_division():
    y_true, y_pred = np.array([0, 0, 1]), np.array([0, 0, 0])  # no predicted positives
    message = "Precision is ill-defined and being set to 0.0 due to no predicted samples"
    with pytest.warns(UndefinedMetricWarning, match=message):
        assert metrics.precision_score(y_true, y_pred) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert metrics.precision_score(y_true, y_pred, zero_division=1.0) == 1.0
        assert np.isnan(metrics.precision_score(y_true, y_pred, zero_division=np.nan))
        assert metrics.f1_score(y_true, y_pred) == 0.0  # 2TP / (2TP + FP + FN) = 0 / 1: defined
        # nan is left out of averages: class 0 precision 2/3, class 1 undefined
        assert metrics.precision_score(y_true, y_pred, average="macro", zero_division=np.nan) == pytest.approx(2 / 3)
    with pytest.warns(UndefinedMetricWarning, match="Recall is ill-defined"):
        assert metrics.recall_score([0, 0], [0, 1]) == 0.0
    with pytest.raises(ValueError, match="zero_division"):
        metrics.recall_score(y_true, y_pred, zero_division="skip")


def test_roc_by_hand():
    y_true, y_score = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    fpr, tpr, thresholds = metrics.roc_curve(y_true, y_score)
    # threshold inf: nobody positive; 0.8: one sick found; 0.4: a healthy one called sick;
    # 0.35: the second sick found; 0.1: everyone positive
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_allclose(thresholds, [np.inf, 0.8, 0.4, 0.35, 0.1])
    # AUC: of the 4 (sick, healthy) pairs the sick one scores higher in 3: 0.35 > 0.1, 0.8 > 0.1, 0.8 > 0.4
    assert metrics.roc_auc_score(y_true, y_score) == pytest.approx(0.75)
    assert metrics.auc(fpr, tpr) == pytest.approx(0.75)
    # a tie between a sick and a healthy patient counts one half: pairs 1, 1, 1/2, 1 -> 3.5/4
    assert metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.8]) == pytest.approx(0.875)


def test_precision_recall_curve_and_average_precision_by_hand():
    y_true, y_score = np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])
    precision, recall, thresholds = metrics.precision_recall_curve(y_true, y_score)
    # thresholds 0.1: 2/4 precision, 0.35: 2/3, 0.4: 1/2, 0.8: 1/1; recall 1, 1, 1/2, 1/2; then (1, 0)
    np.testing.assert_allclose(precision, [0.5, 2 / 3, 0.5, 1, 1])
    np.testing.assert_allclose(recall, [1, 1, 0.5, 0.5, 0])
    np.testing.assert_allclose(thresholds, [0.1, 0.35, 0.4, 0.8])
    # AP = Σ (R_n - R_{n-1}) P_n = 0.5 * 1 + 0 * 0.5 + 0.5 * 2/3 + 0 * 0.5 = 5/6
    assert metrics.average_precision_score(y_true, y_score) == pytest.approx(5 / 6)


def test_multiclass_roc_auc_by_hand():
    y_true = np.array([0, 1, 2, 2])
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.5, 0.1, 0.4]])
    # class 0 vs rest: scores 0.8 (pos) against 0.2, 0.1, 0.5 -> 3/3
    # class 1 vs rest: 0.7 against 0.1, 0.2, 0.1 -> 3/3
    # class 2 vs rest: 0.7, 0.4 against 0.1, 0.1 -> 4/4
    assert metrics.roc_auc_score(y_true, proba, multi_class="ovr") == 1.0
    y_true = np.array([0, 1, 2, 0])
    # class 0 vs rest: 0.8, 0.5 against 0.2, 0.1 -> 4/4;  class 2 vs rest: 0.7 against 0.1, 0.1, 0.4 -> 3/3
    assert metrics.roc_auc_score(y_true, proba, multi_class="ovr") == 1.0
    y_true = np.array([0, 1, 2, 1])  # class 1 vs rest: 0.7, 0.1 against 0.1, 0.2 -> (1+1 + 0.5+0) / 4
    aucs = metrics.roc_auc_score(y_true, proba, multi_class="ovr", average=None)
    np.testing.assert_allclose(aucs[1], 0.625)


def test_classification_report_text_layout():
    report = metrics.classification_report(Y_TRUE, Y_PRED, target_names=["healthy", "pneumonia"])
    lines = report.splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[2].split() == ["healthy", "0.80", "0.67", "0.73", "6"]  # 4/5, 4/6, 8/11
    assert lines[3].split() == ["pneumonia", "0.60", "0.75", "0.67", "4"]
    assert lines[5].split() == ["accuracy", "0.70", "10"]
    d = metrics.classification_report(Y_TRUE, Y_PRED, output_dict=True)
    assert d["accuracy"] == pytest.approx(0.7) and d["1"]["recall"] == pytest.approx(0.75)


# ----- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("call,match", [
    (lambda: metrics.accuracy_score([0, 1, 1], [0, 1]), "y_true has 3, y_pred has 2"),
    (lambda: metrics.f1_score(MC_TRUE, MC_PRED), "Target is multiclass but average='binary'"),
    (lambda: metrics.recall_score([0, 1], [0.2, 0.9]), "non-integer values.*threshold first"),
    (lambda: metrics.precision_score(["a", "b"], [0, 1]), "mix of label types"),
    (lambda: metrics.precision_score([0, 1], [0, 1], average="mean"), "average must be one of"),
    (lambda: metrics.precision_score([0, 2], [0, 2]), r"pos_label=1 is not a valid label.*one of \[0, 2\]"),
    (lambda: metrics.accuracy_score([], []), "empty"),
    (lambda: metrics.accuracy_score(np.zeros((3, 2)), np.zeros((3, 2))), "must be 1-D"),
    (lambda: metrics.confusion_matrix([0, 1], [0, 1], labels=[5]), "At least one label specified must be in y_true"),
    (lambda: metrics.confusion_matrix([0, 1], [0, 1], normalize="rows"), "normalize must be"),
    (lambda: metrics.roc_curve([0, 1, 2], [0.1, 0.2, 0.3]), "more than two classes"),
    (lambda: metrics.roc_curve(["a", "b"], [0.1, 0.2]), "pos_label is not specified"),
    (lambda: metrics.roc_curve([0, 1], [0.1, np.nan]), "NaN"),
    (lambda: metrics.roc_auc_score([0, 1], np.array([[0.9, 0.1], [0.2, 0.8]])), r"y_score\[:, 1\]"),
    (lambda: metrics.roc_auc_score([0, 1, 2], np.eye(3)), "multi_class='ovr' or 'ovo'"),
    (lambda: metrics.roc_auc_score([0, 1, 2], np.ones((3, 3)), multi_class="ovr"), "sum up to 1.0"),
    (lambda: metrics.auc([0, 1, 0.5], [1, 2, 3]), "neither increasing nor decreasing"),
])
def test_bad_input_raises_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_single_class_roc_auc_warns_and_is_nan():
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert np.isnan(metrics.roc_auc_score([1, 1, 1], [0.2, 0.3, 0.9]))


# ----- against scikit-learn ------------------------------------------------------------------
labels_strategy = st.integers(2, 4).flatmap(
    lambda k: st.integers(4, 30).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, k - 1), min_size=n, max_size=n),
            st.lists(st.integers(0, k - 1), min_size=n, max_size=n),
            st.lists(st.integers(0, 3), min_size=n, max_size=n),
        )
    )
)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


@given(labels_strategy, st.booleans(), st.sampled_from(["warn", 0.0, 1.0, np.nan]),
       st.sampled_from([None, "micro", "macro", "weighted", "binary"]), st.sampled_from([None, "true", "pred", "all"]))
def test_label_metrics_match_sklearn(data, weighted, zero_division, average, normalize):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred, w = (np.array(a) for a in data)
    w = w if weighted and w.sum() > 0 else None
    binary = len(np.unique(np.r_[y_true, y_pred])) <= 2 and set(np.r_[y_true, y_pred]) <= {0, 1}
    if average == "binary" and not binary:
        average = "macro"
    kwargs = dict(average=average, sample_weight=w, zero_division=zero_division)
    ours = _quiet(metrics.precision_recall_fscore_support, y_true, y_pred, **kwargs)
    theirs = _quiet(sk.precision_recall_fscore_support, y_true, y_pred, **kwargs)
    for name, a, b in zip(("precision", "recall", "f-score", "support"), ours, theirs):
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{name} {average}")
    expected = sk.accuracy_score(y_true, y_pred, sample_weight=w)
    assert metrics.accuracy_score(y_true, y_pred, sample_weight=w) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(
        _quiet(metrics.confusion_matrix, y_true, y_pred, sample_weight=w, normalize=normalize),
        _quiet(sk.confusion_matrix, y_true, y_pred, sample_weight=w, normalize=normalize), rtol=1e-12)
    ours = _quiet(metrics.classification_report, y_true, y_pred, sample_weight=w, output_dict=True)
    theirs = _quiet(sk.classification_report, y_true, y_pred, sample_weight=w, output_dict=True)
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, rel=1e-12), key
    # scikit-learn prints unweighted support as 4.0 instead of 4 when no prediction at all is right
    # (its true-positive counts start as float zeros); tinymed prints counts as integers
    if w is not None or np.any(y_true == y_pred):
        assert _quiet(metrics.classification_report, y_true, y_pred, sample_weight=w, digits=4) == \
            _quiet(sk.classification_report, y_true, y_pred, sample_weight=w, digits=4)
    # specificity is recall of the negative class: imbalanced-learn's definition
    if binary:
        assert metrics.specificity_score(y_true, y_pred, zero_division=0.0) == \
            pytest.approx(sk.recall_score(y_true, y_pred, pos_label=0, zero_division=0.0), rel=1e-12)


def test_label_metrics_with_labels_argument_match_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    for name in ("precision_score", "recall_score", "f1_score"):
        for average in ("binary", "macro"):
            ours = _quiet(getattr(metrics, name), Y_TRUE, Y_PRED, average=average)
            assert ours == pytest.approx(_quiet(getattr(sk, name), Y_TRUE, Y_PRED, average=average), rel=1e-12)
    for labels in ([0, 2], [2, 1, 0], [0, 1, 2, 5]):
        for average in (None, "micro", "macro", "weighted"):
            ours = _quiet(metrics.precision_recall_fscore_support, MC_TRUE, MC_PRED, labels=labels, average=average)
            theirs = _quiet(sk.precision_recall_fscore_support, MC_TRUE, MC_PRED, labels=labels, average=average)
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12)
        assert _quiet(metrics.classification_report, MC_TRUE, MC_PRED, labels=labels) == \
            _quiet(sk.classification_report, MC_TRUE, MC_PRED, labels=labels)


score_strategy = st.integers(3, 25).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n),
        st.lists(st.integers(0, 6), min_size=n, max_size=n),  # few distinct scores: many ties
        st.lists(st.integers(0, 3), min_size=n, max_size=n),
    )
)


@given(score_strategy, st.booleans(), st.booleans())
def test_curves_match_sklearn(data, weighted, drop_intermediate):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, score, w = np.array(data[0]), np.array(data[1]) / 6.0, np.array(data[2], dtype=float)
    w = w if weighted and w.sum() > 0 else None
    for ours, theirs in [
        (_quiet(metrics.roc_curve, y_true, score, sample_weight=w, drop_intermediate=drop_intermediate),
         _quiet(sk.roc_curve, y_true, score, sample_weight=w, drop_intermediate=drop_intermediate)),
        (_quiet(metrics.precision_recall_curve, y_true, score, sample_weight=w, drop_intermediate=drop_intermediate),
         _quiet(sk.precision_recall_curve, y_true, score, sample_weight=w, drop_intermediate=drop_intermediate)),
    ]:
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_quiet(metrics.roc_auc_score, y_true, score, sample_weight=w),
                               _quiet(sk.roc_auc_score, y_true, score, sample_weight=w), rtol=1e-12)
    np.testing.assert_allclose(_quiet(metrics.average_precision_score, y_true, score, sample_weight=w),
                               _quiet(sk.average_precision_score, y_true, score, sample_weight=w), rtol=1e-12)
    if len(np.unique(y_true)) == 2:
        expected = sk.roc_auc_score(y_true, score, max_fpr=0.3)
        assert metrics.roc_auc_score(y_true, score, max_fpr=0.3) == pytest.approx(expected, rel=1e-12)


@given(st.integers(3, 4).flatmap(lambda k: st.integers(2 * k, 30).flatmap(
    lambda n: st.tuples(st.just(k), st.permutations(list(range(k)) * 2 + [0] * (n - 2 * k)),
                        st.lists(st.lists(st.integers(1, 5), min_size=k, max_size=k), min_size=n, max_size=n)))),
       st.sampled_from(["ovr", "ovo"]), st.sampled_from(["macro", "weighted", "micro", None]))
def test_multiclass_scores_match_sklearn(data, multi_class, average):
    sk = pytest.importorskip("sklearn.metrics")
    k, y_true, raw = data
    y_true, proba = np.array(y_true), np.array(raw, dtype=float)
    proba /= proba.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(metrics.average_precision_score(y_true, proba, average=average),
                               sk.average_precision_score(y_true, proba, average=average), rtol=1e-12)
    if multi_class == "ovo" and average in ("micro", None):
        average = "macro"
    np.testing.assert_allclose(
        metrics.roc_auc_score(y_true, proba, multi_class=multi_class, average=average),
        sk.roc_auc_score(y_true, proba, multi_class=multi_class, average=average), rtol=1e-12)


def test_curves_with_string_labels_match_sklearn():
    sk = pytest.importorskip("sklearn.metrics")
    y = np.array(["benign", "malignant", "malignant", "benign", "malignant"])
    s = np.array([0.2, 0.9, 0.4, 0.4, 0.7])
    for a, b in zip(metrics.roc_curve(y, s, pos_label="malignant"), sk.roc_curve(y, s, pos_label="malignant")):
        np.testing.assert_allclose(a, b)
    assert metrics.roc_auc_score(y, s) == pytest.approx(sk.roc_auc_score(y, s))


# ----- plots ---------------------------------------------------------------------------------
def test_plot_module_imports_matplotlib_lazily():
    code = "import sys, tinymed.plot, tinymed.metrics, tinymed.optim; assert 'matplotlib' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_plots_are_saved(tmp_path):
    from matplotlib.figure import Figure

    class History:
        history = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.7, 0.6],
                   "accuracy": [0.5, 0.7, 0.9], "val_accuracy": [0.4, 0.6, 0.7]}

    y_true = np.array([0, 0, 1, 1, 0, 1, 1, 0])
    y_score = np.array([0.1, 0.4, 0.35, 0.8, 0.3, 0.9, 0.6, 0.55])
    figures = {
        "history.png": lambda p: plot.plot_history(History(), path=p),
        "cm.svg": lambda p: plot.plot_confusion_matrix(metrics.confusion_matrix(y_true, y_score > 0.5),
                                                       labels=["healthy", "sick"], normalize=True, path=p),
        "roc.png": lambda p: plot.plot_roc(y_true, y_score, path=p),
        "pr.png": lambda p: plot.plot_precision_recall(tinymed.Tensor(y_true), y_score, path=p),
    }
    for name, draw in figures.items():
        path = tmp_path / "figures" / "nested" / name
        fig = draw(path)
        assert isinstance(fig, Figure)
        assert path.exists() and path.stat().st_size > 1000, name
    fig = plot.plot_roc(y_true, y_score)
    assert "AUC = " in fig.axes[0].get_legend().get_texts()[0].get_text()
    fig = plot.plot_history(History.history, metrics=["accuracy"])
    assert [ax.get_title() for ax in fig.axes] == ["accuracy"]
    fig = plot.plot_confusion_matrix(np.array([[5, 1], [2, 7]]))
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1", "2", "5", "7"]


def test_plot_errors():
    with pytest.raises(TypeError, match="plot_history"):
        plot.plot_history({})
    with pytest.raises(ValueError, match="no curves named"):
        plot.plot_history({"loss": [1, 2]}, metrics=["auc"])
    with pytest.raises(ValueError, match="square"):
        plot.plot_confusion_matrix(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2 labels for a 3x3"):
        plot.plot_confusion_matrix(np.ones((3, 3)), labels=["a", "b"])


@pytest.mark.gpu
def test_cupy_inputs():
    if "cupy" not in tinymed.available():
        pytest.skip("needs CuPy and a CUDA device")
    import cupy

    assert metrics.f1_score(cupy.asarray(Y_TRUE), cupy.asarray(Y_PRED)) == pytest.approx(2 / 3)
    with tinymed.using("cupy"):
        y_true = tinymed.Tensor(cupy.asarray([0, 0, 1, 1]))
        assert metrics.roc_auc_score(y_true, cupy.asarray([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
