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

from ._validation import UndefinedMetricWarning
from .classification import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    f1_score,
    fbeta_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    sensitivity_score,
    specificity_score,
)
from .ranking import auc, average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

__all__ = [
    "UndefinedMetricWarning", "accuracy_score", "confusion_matrix", "precision_recall_fscore_support",
    "precision_score", "recall_score", "sensitivity_score", "specificity_score", "f1_score",
    "fbeta_score", "classification_report", "roc_curve", "auc", "roc_auc_score",
    "precision_recall_curve", "average_precision_score",
]
