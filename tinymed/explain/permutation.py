r"""Permutation feature importance (Breiman, 2001), with scikit-learn's name, arguments and result.

Shuffle one column of the data -- breaking its link with the outcome while keeping its
distribution -- and see how much the model's score drops:

.. math:: I_j = s(X, y) - \frac1K \sum_{k=1}^{K} s(X^{(j,k)}, y)

where :math:`X^{(j,k)}` is :math:`X` with column :math:`j` permuted (the :math:`k`-th of
``n_repeats`` random permutations) and :math:`s` a score, higher is better.  A feature the model
ignores scores :math:`I_j = 0` exactly; a negative :math:`I_j` means shuffling happened to help
(noise).  It explains the *model* on these data, not the disease: of two correlated features a
model may lean on either, and shuffling one lets the other stand in for it.
"""

from __future__ import annotations

import numpy as np

from ..random import generator


class Bunch(dict):
    """A dict whose keys are also attributes (scikit-learn's ``Bunch``): ``result.importances_mean``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def permutation_importance(estimator, X, y, *, scoring=None, n_repeats: int = 5, n_jobs=None,
                           random_state=None) -> Bunch:
    """``permutation_importance(estimator, X, y, *, scoring=None, n_repeats=5, n_jobs=None, random_state=None)``.

    ``X (n_samples, n_features)``; ``scoring`` None (``estimator.score(X, y)``) or a callable
    ``scoring(estimator, X, y) -> float``, higher is better (scikit-learn's scorer signature);
    ``random_state`` None (tinymed's generator, :func:`tinymed.manual_seed`), an int, or a NumPy
    ``Generator``.  ``n_jobs`` is accepted for scikit-learn's signature; the repeats run in this
    process.  Returns a :class:`Bunch` with ``importances (n_features, n_repeats)``,
    ``importances_mean`` and ``importances_std`` ``(n_features,)``, as scikit-learn's.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"permutation_importance: X must be 2-D (n_samples, n_features), got shape {X.shape}")
    if len(y) != len(X):
        raise ValueError(f"permutation_importance: X has {len(X)} rows but y has {len(y)}")
    if not isinstance(n_repeats, (int, np.integer)) or isinstance(n_repeats, bool) or n_repeats < 1:
        raise ValueError(f"permutation_importance: n_repeats must be a positive integer, got {n_repeats!r}")
    score = _scorer(estimator, scoring)
    rng = _generator(random_state)
    baseline = score(estimator, X, y)
    importances = np.empty((X.shape[1], n_repeats))
    for j in range(X.shape[1]):
        shuffled = X.copy()
        for k in range(n_repeats):
            shuffled[:, j] = X[rng.permutation(len(X)), j]
            importances[j, k] = baseline - score(estimator, shuffled, y)
    return Bunch(importances_mean=importances.mean(axis=1), importances_std=importances.std(axis=1),
                 importances=importances)


def _scorer(estimator, scoring):
    if scoring is None:
        if not callable(getattr(estimator, "score", None)):
            raise TypeError(f"permutation_importance: {type(estimator).__name__} has no score(X, y) method; "
                            "pass scoring=lambda estimator, X, y: ... (higher is better)")
        return lambda est, X, y: float(est.score(X, y))
    if not callable(scoring):
        raise TypeError(f"permutation_importance: scoring must be None or a callable scoring(estimator, X, y), "
                        f"got {scoring!r}")
    return lambda est, X, y: float(scoring(est, X, y))


def _generator(random_state) -> np.random.Generator:
    if random_state is None:
        return generator()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(f"permutation_importance: random_state must be None, an int or a numpy Generator, "
                    f"got {random_state!r}")
