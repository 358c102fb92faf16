r"""Cleaning and normalisation of tabular data (article 003 §3.2.1, F20).

The article's first two preprocessing steps:

1. **cleaning** -- remove outliers, missing values and incomplete records;
2. **normalisation** -- bring every feature to the same scale so that training is easier.

Both *learn* something from data (fill values, outlier bounds, means, ranges).  They must
learn it from the **training split only** and then apply the same numbers to validation
and test data; computing them on all data lets test information leak into the model::

    cleaner = Cleaner(missing="median", outliers="clip").fit(X_train)
    X_train = cleaner.transform(X_train)
    X_test = cleaner.transform(X_test)          # the training medians and bounds
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

Formulas (per feature column :math:`j`, statistics over the training rows):

* z-score (:class:`StandardScaler`): :math:`x' = (x - \mu_j) / \sigma_j`
  (:math:`\sigma_j` the population standard deviation; a constant column keeps
  :math:`\sigma_j = 1`);
* min-max (:class:`MinMaxScaler`) to ``feature_range = (a, b)``:
  :math:`x' = a + (x - \min_j)\,(b - a) / (\max_j - \min_j)`;
* outlier (:class:`Cleaner`): an observed value with :math:`|x - \mu_j| > z\,\sigma_j`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Cleaner", "CleaningReport", "clean", "StandardScaler", "MinMaxScaler"]

_MISSING = ("median", "mean", "drop", "error")
_OUTLIERS = ("clip", "drop", "keep")


def _table(op, X):
    """``X`` as a 2-D float array (rows = samples, columns = features); float32 and float64
    are kept (results come back in the same dtype), other numbers become float64."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{op}: expected a 2-D array (samples, features), got shape {X.shape}")
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{op}: expected numeric data, got dtype {X.dtype}")
    return X.astype(np.float64) if X.dtype.kind != "f" else X


def _check_fitted(op, attribute, obj):
    if getattr(obj, attribute, None) is None:
        raise ValueError(f"{op} is not fitted yet: call fit(X_train) first")


def _check_features(op, X, n_features):
    if X.shape[1] != n_features:
        raise ValueError(f"{op}: X has {X.shape[1]} features, but was fitted on {n_features}")


class CleaningReport:
    """What :class:`Cleaner` did to one table.

    Per-column counts (arrays of length n_features): ``missing`` (missing values found),
    ``filled`` (missing values replaced), ``outliers`` (outliers found among the observed
    values), ``clipped`` (outliers clipped to the bounds).  Row counts: ``n_rows_in``,
    ``n_rows_out``, ``rows_dropped_missing``, ``rows_dropped_outliers``; ``kept`` is the
    boolean mask of the rows that remain (index other arrays with it).
    """

    def __init__(self, feature_names, missing, filled, outliers, clipped, kept,
                 rows_dropped_missing, rows_dropped_outliers):
        self.feature_names = list(feature_names)
        self.missing, self.filled = missing, filled
        self.outliers, self.clipped = outliers, clipped
        self.kept = kept
        self.n_rows_in, self.n_rows_out = len(kept), int(kept.sum())
        self.rows_dropped_missing = rows_dropped_missing
        self.rows_dropped_outliers = rows_dropped_outliers

    def __str__(self):
        lines = [
            f"rows: {self.n_rows_in} in, {self.n_rows_out} out "
            f"({self.rows_dropped_missing} dropped for missing values, "
            f"{self.rows_dropped_outliers} for outliers)",
            f"{'feature':<24}{'missing':>9}{'filled':>9}{'outliers':>10}{'clipped':>9}",
        ]
        for j, name in enumerate(self.feature_names):
            counts = (self.missing[j], self.filled[j], self.outliers[j], self.clipped[j])
            if any(counts):
                lines.append(f"{name:<24}" + "".join(f"{int(c):>{w}}" for c, w in zip(counts, (9, 9, 10, 9))))
        if len(lines) == 2:
            lines.append("(nothing to clean)")
        return "\n".join(lines)

    __repr__ = __str__


class Cleaner:
    """Missing values and outliers, with rules learnt on the training data.

    ``missing``: what to do with missing values (NaN, and +-inf, which no measurement gives)

    - ``"median"`` / ``"mean"``: fill with the training median / mean of the column;
    - ``"drop"``: drop the rows that have any;
    - ``"error"``: raise ``ValueError`` naming the columns.

    ``outliers``: observed values farther than ``z`` training standard deviations from the
    training mean -- ``"clip"`` them to :math:`\\mu_j \\pm z\\sigma_j`, ``"drop"`` their rows,
    or ``"keep"`` them (they are still counted).  Note that extreme outliers in the training
    data inflate :math:`\\sigma_j` themselves; with few rows a large ``z`` flags nothing.

    ``fit(X_train)`` learns the per-column fill values and bounds; ``transform(X, y=None)``
    applies them and returns the cleaned ``X`` (or ``(X, y)`` with the same rows kept); the
    report of the last transform is ``report_``.
    """

    def __init__(self, missing="median", outliers="clip", z=4.0, feature_names=None):
        if missing not in _MISSING:
            raise ValueError(f"Cleaner: missing must be one of {_MISSING}, got {missing!r}")
        if outliers not in _OUTLIERS:
            raise ValueError(f"Cleaner: outliers must be one of {_OUTLIERS}, got {outliers!r}")
        if not z > 0:
            raise ValueError(f"Cleaner: z must be > 0, got {z}")
        self.missing, self.outliers, self.z = missing, outliers, float(z)
        self.feature_names = feature_names
        self.fill_ = self.lower_ = self.upper_ = None
        self.report_ = None

    def fit(self, X, y=None):
        X = _table("Cleaner.fit", X)
        observed = np.where(np.isfinite(X), X, np.nan)
        empty = np.flatnonzero(np.all(np.isnan(observed), axis=0))
        if empty.size:
            raise ValueError(f"Cleaner.fit: columns {self._names(empty, X.shape[1])} have no observed values")
        mean = np.nanmean(observed, axis=0)
        std = np.nanstd(observed, axis=0)
        self.fill_ = np.nanmedian(observed, axis=0) if self.missing == "median" else mean
        self.lower_, self.upper_ = mean - self.z * std, mean + self.z * std
        return self

    def transform(self, X, y=None):
        _check_fitted("Cleaner", "fill_", self)
        X = _table("Cleaner.transform", X)
        dtype = X.dtype
        _check_features("Cleaner.transform", X, len(self.fill_))
        if y is not None and len(y) != len(X):
            raise ValueError(f"Cleaner.transform: X has {len(X)} rows but y has {len(y)}")
        missing = ~np.isfinite(X)
        observed = np.where(missing, 0.0, X)
        outlier = ~missing & ((observed < self.lower_) | (observed > self.upper_))
        kept = np.ones(len(X), dtype=bool)
        filled = np.zeros(X.shape[1], dtype=np.int64)
        clipped = np.zeros(X.shape[1], dtype=np.int64)

        if self.missing == "error" and missing.any():
            cols = np.flatnonzero(missing.any(axis=0))
            raise ValueError(f"Cleaner.transform: missing values in columns {self._names(cols, X.shape[1])} "
                             f"({int(missing.sum())} in all); choose missing='median', 'mean' or 'drop'")
        if self.missing == "drop":
            kept &= ~missing.any(axis=1)
        rows_dropped_missing = int((~kept).sum())
        if self.outliers == "drop":
            kept &= ~outlier.any(axis=1)
        rows_dropped_outliers = len(X) - rows_dropped_missing - int(kept.sum())

        if self.missing in ("median", "mean"):
            X = np.where(missing, self.fill_, X)
            filled = (missing & kept[:, None]).sum(axis=0)
        if self.outliers == "clip":
            X = np.clip(X, self.lower_, self.upper_)
            clipped = (outlier & kept[:, None]).sum(axis=0)
        X = X[kept].astype(dtype, copy=False)
        self.report_ = CleaningReport(
            self._all_names(X.shape[1]), missing.sum(axis=0), filled, outlier.sum(axis=0), clipped, kept,
            rows_dropped_missing, rows_dropped_outliers,
        )
        return X if y is None else (X, np.asarray(y)[kept])

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X, y)

    def _all_names(self, n):
        return list(self.feature_names) if self.feature_names is not None else [f"x{j}" for j in range(n)]

    def _names(self, columns, n):
        names = self._all_names(n)
        return ", ".join(names[j] for j in columns)


def clean(X, y=None, missing="median", outliers="clip", z=4.0, feature_names=None):
    """Clean ``X`` with rules learnt on ``X`` itself: returns ``(X_clean, report)``, or
    ``(X_clean, y_clean, report)`` when ``y`` is given.  For a train/test split fit on the
    training part instead: ``Cleaner(...).fit(X_train).transform(X_test)``."""
    cleaner = Cleaner(missing=missing, outliers=outliers, z=z, feature_names=feature_names).fit(X)
    result = cleaner.transform(X, y)
    if y is None:
        return result, cleaner.report_
    return result[0], result[1], cleaner.report_


class _Scaler:
    """fit / transform / fit_transform / inverse_transform over the rows of a 2-D array."""

    name = "Scaler"

    def fit(self, X, y=None):
        self._fit(_table(f"{self.name}.fit", X))
        self.n_features_in_ = self.scale_.shape[0]
        return self

    def _checked(self, op, X):
        _check_fitted(self.name, "scale_", self)
        X = _table(f"{self.name}.{op}", X)
        _check_features(f"{self.name}.{op}", X, self.n_features_in_)
        return X

    def fit_transform(self, X, y=None):
        return self.fit(X).transform(X)


class StandardScaler(_Scaler):
    """z-score each column: ``(x - mean_) / scale_``, the training mean and (population)
    standard deviation; ``scale_ = 1`` for a constant column.  NaNs are ignored when fitting
    and stay NaN.  Same attributes as scikit-learn: ``mean_``, ``var_``, ``scale_``."""

    name = "StandardScaler"

    def __init__(self, with_mean=True, with_std=True):
        self.with_mean, self.with_std = with_mean, with_std
        self.mean_ = self.var_ = self.scale_ = None

    def _fit(self, X):
        self.mean_ = np.nanmean(X, axis=0) if self.with_mean else np.zeros(X.shape[1])
        self.var_ = np.nanvar(X, axis=0)
        std = np.sqrt(self.var_)
        self.scale_ = np.where(std > 0, std, 1.0) if self.with_std else np.ones(X.shape[1])

    def transform(self, X):
        X = self._checked("transform", X)
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        X = self._checked("inverse_transform", X)
        return (X * self.scale_ + self.mean_).astype(X.dtype, copy=False)


class MinMaxScaler(_Scaler):
    """Map each column's training range ``[data_min_, data_max_]`` onto ``feature_range``:
    ``x * scale_ + min_`` with ``scale_ = (b - a) / (max - min)``, ``min_ = a - data_min_ * scale_``
    (scikit-learn's attributes); a constant column counts as a range of 1, so it maps to ``a``.
    Test data outside the training range map outside ``feature_range`` unless ``clip=True``.
    NaNs are ignored when fitting and stay NaN."""

    name = "MinMaxScaler"

    def __init__(self, feature_range=(0.0, 1.0), clip=False):
        a, b = feature_range
        if not a < b:
            raise ValueError("MinMaxScaler: feature_range must be (min, max) with min < max, "
                             f"got {feature_range!r}")
        self.feature_range, self.clip = (float(a), float(b)), clip
        self.data_min_ = self.data_max_ = self.data_range_ = self.scale_ = self.min_ = None

    def _fit(self, X):
        a, b = self.feature_range
        self.data_min_, self.data_max_ = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (b - a) / np.where(self.data_range_ > 0, self.data_range_, 1.0)
        self.min_ = a - self.data_min_ * self.scale_

    def transform(self, X):
        X = self._checked("transform", X)
        out = X * self.scale_ + self.min_
        if self.clip:
            out = np.clip(out, *self.feature_range)
        return out.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
        X = self._checked("inverse_transform", X)
        return ((X - self.min_) / self.scale_).astype(X.dtype, copy=False)
