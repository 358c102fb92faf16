"""Splitting ratings, cross-validating predictors and searching hyper-parameters, with Surprise's
names, defaults and results (its ``surprise.model_selection``):

* :mod:`.split` -- :func:`train_test_split`, :class:`KFold`, :class:`RepeatedKFold`,
  :class:`ShuffleSplit`, :class:`LeaveOneOut`, :class:`PredefinedKFold`, :func:`get_cv`;
* :mod:`.validation` -- :func:`cross_validate`;
* :mod:`.search` -- :class:`GridSearchCV`, :class:`RandomizedSearchCV`.
"""

from .search import GridSearchCV, RandomizedSearchCV
from .split import KFold, LeaveOneOut, PredefinedKFold, RepeatedKFold, ShuffleSplit, get_cv, train_test_split
from .validation import cross_validate

__all__ = ["KFold", "RepeatedKFold", "ShuffleSplit", "LeaveOneOut", "PredefinedKFold", "train_test_split",
           "get_cv", "cross_validate", "GridSearchCV", "RandomizedSearchCV"]
