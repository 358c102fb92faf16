"""Hyper-parameter search by cross-validation: :class:`GridSearchCV`, :class:`RandomizedSearchCV`.

Surprise's arguments and results. Every combination of parameters is fitted and tested on the
same splits; then, for each measure,

* ``cv_results``: ``split<k>_test_<m>`` (one value per combination), ``mean_test_<m>``,
  ``std_test_<m>``, ``rank_test_<m>`` (1 is best), the same for ``train`` with
  ``return_train_measures``, ``mean_fit_time``, ``std_fit_time``, ``mean_test_time``,
  ``std_test_time``, ``params`` (the list of combinations) and ``param_<name>``;
* ``best_params``, ``best_score``, ``best_index``, ``best_estimator``: dicts by measure (lower is
  better for ``rmse``, ``mae``, ``mse``; higher for ``fcp``). ``best_estimator[m]`` is a fresh
  predictor built with ``best_params[m]``; with ``refit`` (True: the first measure, or a measure's
  name) it is fitted on the whole data, and ``test``/``predict`` use it.

``sim_options`` and ``bsl_options`` in a grid are dicts of lists themselves: every combination of
their values is one option dict. ``n_jobs``, ``pre_dispatch`` and ``joblib_verbose`` are accepted
for Surprise's signature; the fits run one after another.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..dataset import DatasetUserFolds
from ..rng import get_rng, randint
from .split import get_cv
from .validation import check_measures, fit_and_score

_NESTED = ("sim_options", "bsl_options")
_HIGHER_IS_BETTER = ("fcp",)


def _grid(options):
    """Every combination of a dict of lists, as a list of dicts (in ``itertools.product`` order)."""
    return [dict(zip(options, values)) for values in itertools.product(*options.values())]


class BaseSearchCV:
    """What both searches share: the measures, the refit rule, ``fit``, ``test``, ``predict``."""

    def __init__(self, algo_class, measures=("rmse", "mae"), cv=None, refit=False, return_train_measures=False,
                 n_jobs=1, pre_dispatch="2*n_jobs", joblib_verbose=0):
        where = type(self).__name__
        if not callable(algo_class):
            raise TypeError(f"{where}: algo_class must be a predictor class such as SVD, got {algo_class!r}")
        self.algo_class = algo_class
        self.measures = check_measures(measures, where)
        if isinstance(refit, str):
            if refit.lower() not in self.measures:
                raise ValueError(f"{where}: refit={refit!r} names a measure that is not in measures {self.measures}")
            self.refit = refit.lower()
        else:
            self.refit = self.measures[0] if refit is True else False
        self.cv, self.return_train_measures = cv, return_train_measures
        self.n_jobs, self.pre_dispatch, self.joblib_verbose = n_jobs, pre_dispatch, joblib_verbose

    @staticmethod
    def _parse_options(params):
        """``params`` with each nested option dict of lists turned into the list of its combinations."""
        if not isinstance(params, dict):
            raise TypeError(f"expected a dict of parameter name -> values, got {type(params).__name__}")
        return {name: _grid(values) if name in _NESTED and isinstance(values, dict) else values
                for name, values in params.items()}

    def fit(self, data):
        """Cross-validate every combination on the same splits; sets ``cv_results`` and ``best_*``."""
        where = type(self).__name__
        if self.refit and isinstance(data, DatasetUserFolds):
            raise ValueError(f"{where}: refit needs the whole data set, which a dataset loaded with "
                             "load_from_folds() does not have; use refit=False")
        cv = get_cv(self.cv)
        splits = list(cv.split(data))
        runs = [fit_and_score(self.algo_class(**params), trainset, testset, self.measures,
                              self.return_train_measures)
                for params in self.param_combinations for trainset, testset in splits]
        shape = (len(self.param_combinations), len(splits))
        self.cv_results = results = {}
        self.best_index, self.best_params, self.best_score, self.best_estimator = {}, {}, {}, {}
        for m in self.measures:
            parts = ("test", "train") if self.return_train_measures else ("test",)
            for part, position in zip(parts, (0, 1)):
                scores = np.array([run[position][m] for run in runs]).reshape(shape)
                for k in range(shape[1]):
                    results[f"split{k}_{part}_{m}"] = scores[:, k]
                results[f"mean_{part}_{m}"], results[f"std_{part}_{m}"] = scores.mean(axis=1), scores.std(axis=1)
            self._rank(m, results[f"mean_test_{m}"])
        for part, position in (("fit", 2), ("test", 3)):
            times = np.array([run[position] for run in runs]).reshape(shape)
            results[f"mean_{part}_time"], results[f"std_{part}_time"] = times.mean(axis=1), times.std(axis=1)
        results["params"] = self.param_combinations
        for name in self.param_combinations[0]:
            results[f"param_{name}"] = [params[name] for params in self.param_combinations]
        if self.refit:
            self.best_estimator[self.refit].fit(data.build_full_trainset())
        return self

    def _rank(self, m, means):
        """``rank_test_<m>`` (1 for the best mean) and the ``best_*`` of measure ``m``."""
        order = np.argsort(-means if m in _HIGHER_IS_BETTER else means, kind="stable")
        ranks = np.empty(len(means), dtype=np.int64)
        ranks[order] = np.arange(1, len(means) + 1)
        self.cv_results[f"rank_test_{m}"] = ranks
        best = int(order[0])
        self.best_index[m], self.best_score[m] = best, means[best]
        self.best_params[m] = self.param_combinations[best]
        self.best_estimator[m] = self.algo_class(**self.best_params[m])

    def _refitted(self, what):
        if not self.refit:
            raise ValueError(f"{type(self).__name__}.{what}: refit is False; build the search with refit=True "
                             "(or the name of a measure) to test or predict with the best predictor")
        if not hasattr(self, "best_estimator"):
            raise RuntimeError(f"{type(self).__name__}.{what}: call fit(data) first")
        return self.best_estimator[self.refit]

    def test(self, testset, verbose=False):
        """``best_estimator[refit].test(testset)``."""
        return self._refitted("test").test(testset, verbose)

    def predict(self, *args, **kwargs):
        """``best_estimator[refit].predict(...)``."""
        return self._refitted("predict").predict(*args, **kwargs)


class GridSearchCV(BaseSearchCV):
    """Every combination of ``param_grid`` (a dict of parameter name -> list of values)."""

    def __init__(self, algo_class, param_grid, measures=("rmse", "mae"), cv=None, refit=False,
                 return_train_measures=False, n_jobs=1, pre_dispatch="2*n_jobs", joblib_verbose=0):
        super().__init__(algo_class, measures, cv, refit, return_train_measures, n_jobs, pre_dispatch,
                         joblib_verbose)
        self.param_grid = self._parse_options(param_grid)
        self.param_combinations = _grid(self.param_grid)


class RandomizedSearchCV(BaseSearchCV):
    """``n_iter`` combinations drawn from ``param_distributions``: each value is a list (one
    element drawn uniformly) or a distribution with ``rvs(random_state=...)`` (scipy.stats'); when
    every value is a list, ``n_iter`` distinct combinations of the grid are drawn."""

    def __init__(self, algo_class, param_distributions, n_iter=10, measures=("rmse", "mae"), cv=None, refit=False,
                 return_train_measures=False, n_jobs=1, pre_dispatch="2*n_jobs", random_state=None, joblib_verbose=0):
        super().__init__(algo_class, measures, cv, refit, return_train_measures, n_jobs, pre_dispatch,
                         joblib_verbose)
        if not (isinstance(n_iter, (int, np.integer)) and n_iter >= 1):
            raise ValueError(f"RandomizedSearchCV: n_iter must be an integer >= 1, got {n_iter!r}")
        self.n_iter, self.random_state = int(n_iter), random_state
        self.param_distributions = self._parse_options(param_distributions)
        self.param_combinations = self._sample_parameters(self.param_distributions, self.n_iter, random_state)

    @staticmethod
    def _sample_parameters(param_distributions, n_iter, random_state=None):
        rng = get_rng(random_state, "RandomizedSearchCV: random_state")
        if not any(hasattr(v, "rvs") for v in param_distributions.values()):
            grid = _grid(param_distributions)
            if n_iter > len(grid):
                raise ValueError(f"RandomizedSearchCV: n_iter={n_iter} is more than the {len(grid)} combinations "
                                 "of the lists given; use GridSearchCV, or a smaller n_iter")
            return [grid[k] for k in rng.choice(len(grid), n_iter, replace=False)]
        items = sorted(param_distributions.items())
        return [{name: values.rvs(random_state=rng) if hasattr(values, "rvs") else values[randint(rng, len(values))]
                 for name, values in items} for _ in range(n_iter)]
