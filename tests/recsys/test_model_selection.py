"""Splitters, cross-validation and the searches on their own (agreement with Surprise: test_surprise)."""

from collections import Counter

import numpy as np
import pytest

import tinymed.recsys as tr
from tinymed.recsys.model_selection import (
    GridSearchCV,
    KFold,
    LeaveOneOut,
    PredefinedKFold,
    RandomizedSearchCV,
    RepeatedKFold,
    cross_validate,
    get_cv,
)


@pytest.fixture(scope="module")
def data():
    return tr.make_treatment_responses(60, 10, density=0.4, random_state=2).to_dataset()


def test_leave_one_out_keeps_one_rating_per_user_out(data):
    for trainset, testset in LeaveOneOut(n_splits=2, random_state=0, min_n_ratings=3).split(data):
        assert set(Counter(uid for uid, _, _ in testset).values()) == {1}
        assert all(len(ratings) >= 3 for ratings in trainset.ur.values())
    with pytest.raises(ValueError, match="trainset would be empty"):
        next(LeaveOneOut(min_n_ratings=1000).split(data))


def test_repeated_kfold_repeats_differently(data):
    folds = [sorted(t) for _, t in RepeatedKFold(n_splits=2, n_repeats=2, random_state=1).split(data)]
    assert len(folds) == 4 == RepeatedKFold(2, 2).get_n_folds() and folds[0] != folds[2]
    assert sorted(folds[0] + folds[1]) == sorted(folds[2] + folds[3])


def test_predefined_folds_and_what_they_refuse(tmp_path, data):
    for name, rows in (("train", data.raw_ratings[:100]), ("test", data.raw_ratings[100:120])):
        (tmp_path / name).write_text("".join(f"{u},{i},{r}\n" for u, i, r, _ in rows))
    folds = tr.Dataset.load_from_folds([(tmp_path / "train", tmp_path / "test")], tr.Reader(sep=","))
    (trainset, testset), = PredefinedKFold().split(folds)
    assert trainset.n_ratings == 100 and len(testset) == 20
    out = cross_validate(tr.BaselineOnly(verbose=False), folds, cv=PredefinedKFold())
    assert len(out["test_rmse"]) == 1
    with pytest.raises(TypeError, match="already split; use PredefinedKFold"):
        next(KFold().split(folds))
    with pytest.raises(ValueError, match="does not exist"):
        tr.Dataset.load_from_folds([(tmp_path / "train", tmp_path / "missing")], tr.Reader())
    with pytest.raises(ValueError, match="refit needs the whole data set"):
        GridSearchCV(tr.BaselineOnly, {"verbose": [False]}, refit=True).fit(folds)


def test_get_cv():
    assert isinstance(get_cv(None), KFold) and get_cv(3).n_splits == 3
    splitter = KFold(4)
    assert get_cv(splitter) is splitter
    for bad in (2.5, "bad"):
        with pytest.raises(ValueError, match="cv must be None, an int or a splitter"):
            get_cv(bad)


def test_grid_search_results_and_refit(data):
    grid = {"n_epochs": [2], "lr_all": [0.001, 0.02], "n_factors": [2], "random_state": [0],
            "bsl_options": {"method": ["als"]}}
    with pytest.raises(ValueError, match="refit='fcp' names a measure that is not in measures"):
        GridSearchCV(tr.SVD, grid, measures=["rmse"], refit="fcp")
    gs = GridSearchCV(tr.SVD, {k: v for k, v in grid.items() if k != "bsl_options"}, measures=["rmse", "mae"],
                      cv=KFold(3, random_state=0), refit="mae", return_train_measures=True).fit(data)
    assert gs.cv_results["split2_test_rmse"].shape == (2,) and gs.cv_results["mean_train_mae"].shape == (2,)
    best = int(np.argmin(gs.cv_results["mean_test_mae"]))
    assert gs.best_index["mae"] == best and gs.cv_results["rank_test_mae"][best] == 1
    assert gs.best_params["mae"] == gs.param_combinations[best] and gs.cv_results["param_lr_all"] == [0.001, 0.02]
    assert gs.predict("P0001", "T001").est == gs.best_estimator["mae"].predict("P0001", "T001").est
    parsed = GridSearchCV(tr.KNNBasic, {"sim_options": {"name": ["msd", "cosine"], "user_based": [True, False]}})
    assert len(parsed.param_combinations) == 4 and parsed.param_combinations[1]["sim_options"] == {
        "name": "msd", "user_based": False}
    no_refit = GridSearchCV(tr.SVD, {"n_epochs": [1]}, cv=2).fit(data)
    with pytest.raises(ValueError, match="refit is False"):
        no_refit.test([("P0001", "T001", 3.0)])


def test_randomized_search_draws_from_lists_and_distributions(data):
    class Uniform:  # anything with rvs(random_state=...) is a distribution
        def rvs(self, random_state):
            return float(random_state.uniform(0.001, 0.01))

    rs = RandomizedSearchCV(tr.SVD, {"lr_all": Uniform(), "n_factors": [1, 2]}, n_iter=3, random_state=0)
    assert len(rs.param_combinations) == 3 and all(0.001 <= p["lr_all"] <= 0.01 for p in rs.param_combinations)
    again = RandomizedSearchCV(tr.SVD, {"lr_all": Uniform(), "n_factors": [1, 2]}, n_iter=3, random_state=0)
    assert again.param_combinations == rs.param_combinations
    lists = RandomizedSearchCV(tr.SVD, {"n_factors": [1, 2, 3], "n_epochs": [1, 2]}, n_iter=4, random_state=1)
    assert len({tuple(sorted(p.items())) for p in lists.param_combinations}) == 4
    with pytest.raises(ValueError, match="n_iter=7 is more than the 6 combinations"):
        RandomizedSearchCV(tr.SVD, {"n_factors": [1, 2, 3], "n_epochs": [1, 2]}, n_iter=7)
