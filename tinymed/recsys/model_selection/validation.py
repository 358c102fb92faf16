"""Cross-validation: fit a predictor on each trainset of a splitter and measure it on the testset.

:func:`cross_validate` returns Surprise's dict: arrays ``test_rmse``, ``test_mae``, ... (and
``train_*`` on request), tuples ``fit_time``, ``test_time``. Folds run one after another.
"""

from __future__ import annotations

import time

import numpy as np

from .. import accuracy
from ..dataset import Dataset, DatasetUserFolds
from .split import get_cv

MEASURES = ("rmse", "mae", "mse", "fcp")


def check_measures(measures, where):
    """The measure names in lower case; each must be one of :data:`MEASURES`."""
    if isinstance(measures, str):
        raise TypeError(f"{where}: measures must be a list of names such as ['rmse', 'mae'], got the string "
                        f"{measures!r}")
    names = [str(m).lower() for m in measures]
    unknown = [m for m in names if m not in MEASURES]
    if unknown or not names:
        raise ValueError(f"{where}: unknown measure(s) {unknown or names}; expected some of {', '.join(MEASURES)}")
    return names


def fit_and_score(algo, trainset, testset, measures, return_train_measures=False):
    """Fit ``algo`` on ``trainset``, test it on ``testset``:
    ``(test measures, train measures, fit time, test time)``, the measures as dicts by name."""
    start = time.perf_counter()
    algo.fit(trainset)
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    predictions = algo.test(testset)
    test_time = time.perf_counter() - start
    test = {m: getattr(accuracy, m)(predictions, verbose=False) for m in measures}
    train = {}
    if return_train_measures:
        train_predictions = algo.test(trainset.build_testset())
        train = {m: getattr(accuracy, m)(train_predictions, verbose=False) for m in measures}
    return test, train, fit_time, test_time


def cross_validate(algo, data, measures=("rmse", "mae"), cv=None, return_train_measures=False, n_jobs=1,
                   pre_dispatch="2*n_jobs", verbose=False):
    """Fit ``algo`` on each training split and measure it on the test split.

    ``cv``: None (5-fold :class:`~tinymed.recsys.model_selection.KFold`), an int (that many
    folds) or a splitter with ``split(data)``. ``measures`` are names in
    :mod:`tinymed.recsys.accuracy` (``rmse``, ``mae``, ``mse``, ``fcp``). Folds run one after
    another; ``n_jobs`` and ``pre_dispatch`` are accepted for Surprise's signature and change
    nothing.
    """
    if not isinstance(data, (Dataset, DatasetUserFolds)):
        raise TypeError(f"cross_validate: expected a tinymed.recsys.Dataset, got {type(data).__name__}")
    measures = check_measures(measures, "cross_validate")
    try:
        cv = get_cv(cv)
    except ValueError as exc:
        raise TypeError(f"cross_validate: {exc}") from None
    runs = [fit_and_score(algo, trainset, testset, measures, return_train_measures)
            for trainset, testset in cv.split(data)]
    out = {f"test_{m}": np.asarray([run[0][m] for run in runs]) for m in measures}
    if return_train_measures:
        out.update({f"train_{m}": np.asarray([run[1][m] for run in runs]) for m in measures})
    out["fit_time"] = tuple(run[2] for run in runs)
    out["test_time"] = tuple(run[3] for run in runs)
    if verbose:
        _print_summary(algo, out, measures, return_train_measures)
    return out


def _print_summary(algo, out, measures, with_train):
    n = len(out["fit_time"])
    head = f"Evaluating {', '.join(m.upper() for m in measures)} of algorithm {type(algo).__name__} on {n} split(s)."
    print(head + "\n")
    cols = [f"Fold {k + 1}" for k in range(n)] + ["Mean", "Std"]
    print(" " * 18 + " ".join(f"{c:>8}" for c in cols))
    rows = [(f"{m.upper()} (testset)", out[f"test_{m}"], "{:.4f}") for m in measures]
    if with_train:
        rows += [(f"{m.upper()} (trainset)", out[f"train_{m}"], "{:.4f}") for m in measures]
    rows += [("Fit time", np.asarray(out["fit_time"]), "{:.2f}"), ("Test time", np.asarray(out["test_time"]), "{:.2f}")]
    for label, values, fmt in rows:
        cells = [fmt.format(v) for v in values] + [fmt.format(np.mean(values)), fmt.format(np.std(values))]
        print(f"{label:<18}" + " ".join(f"{c:>8}" for c in cells))
