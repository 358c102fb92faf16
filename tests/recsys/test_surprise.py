"""Cross-checks against Surprise (scikit-surprise), skipped when it is not installed.

Same raw ratings, same seeds: the splits must be the same, and every estimate the same to
float rounding (SVD and the baselines to the last bit). One documented difference: for an
unknown user or item, SVD / BaselineOnly / KNNBaseline predict the same partial baseline as
Surprise, but tinymed also marks it ``was_impossible`` with a reason.
"""

import numpy as np
import pytest

import tinymed
import tinymed.recsys as tr

surprise = pytest.importorskip("surprise", reason="scikit-surprise is not installed")
from surprise import model_selection as sms  # noqa: E402

# Responses rounded to half stars: every similarity sum is then exact in float64, so
# near-ties between neighbours break the same way whichever order a library adds in
# (the NumPy reference adds by matrix products, Surprise and the numba kernel pair by pair).
RATINGS = [(u, i, round(2 * r) / 2)
           for u, i, r in tr.make_treatment_responses(120, 25, density=0.25, random_state=11).ratings]


class _Frame:
    """Surprise's load_from_df reads df.itertuples(index=False): give it that without pandas."""

    def __init__(self, rows):
        self.rows, self.columns = rows, ["user", "item", "rating"]

    def itertuples(self, index=False):
        return iter(self.rows)


@pytest.fixture(scope="module")
def split():
    s_data = surprise.Dataset.load_from_df(_Frame(RATINGS), surprise.Reader(rating_scale=(1, 5)))
    t_data = tr.Dataset.load_from_triples(RATINGS, tr.Reader(rating_scale=(1, 5)))
    s_train, s_test = sms.train_test_split(s_data, test_size=0.25, random_state=3)
    t_train, t_test = tr.model_selection.train_test_split(t_data, test_size=0.25, random_state=3)
    # a cold-start case of each kind
    extra = [("P0001", "new drug", 3.0), ("new patient", "T001", 4.0), ("new patient", "new drug", 2.0)]
    return s_data, t_data, s_train, s_test + extra, t_train, t_test + extra


def test_same_splits(split):
    s_data, t_data, s_train, s_test, t_train, t_test = split
    assert [tuple(r) for r in s_test] == [tuple(r) for r in t_test]
    assert list(s_train.all_ratings()) == list(t_train.all_ratings())
    for (s_tr, s_te), (t_tr, t_te) in zip(sms.KFold(4, random_state=2).split(s_data),
                                          tr.model_selection.KFold(4, random_state=2).split(t_data)):
        assert [tuple(r) for r in s_te] == [tuple(r) for r in t_te]
        assert list(s_tr.all_ratings()) == list(t_tr.all_ratings())
    assert s_train.global_mean == t_train.global_mean
    assert t_train.build_anti_testset() == s_train.build_anti_testset()


def _compare(split, make, rtol=1e-12):
    _, _, s_train, s_test, t_train, t_test = split
    for backend in tinymed.available():
        with tinymed.using(backend):
            s_pred = make(surprise).fit(s_train).test(s_test)
            t_pred = make(tr).fit(t_train).test(t_test)
        for s, t in zip(s_pred, t_pred):
            assert (s.uid, s.iid, s.r_ui) == (t.uid, t.iid, t.r_ui)
            assert t.est == pytest.approx(s.est, rel=rtol, abs=rtol), (backend, s, t)
            assert s.details.get("actual_k") == t.details.get("actual_k")
            if s.details["was_impossible"]:
                assert t.details["was_impossible"]
                # Surprise's unbiased SVD says "User and item are unknown." when only one is
                assert t.details["reason"] == s.details["reason"] or "unknown" in t.details["reason"]
    return s_pred, t_pred


@pytest.mark.parametrize("name", ["cosine", "msd", "pearson", "pearson_baseline"])
@pytest.mark.parametrize("user_based", [True, False])
def test_knn_basic(split, name, user_based):
    options = {"name": name, "user_based": user_based, "min_support": 2}
    _compare(split, lambda lib: lib.KNNBasic(k=10, sim_options=dict(options), verbose=False), rtol=1e-9)


@pytest.mark.parametrize("algo", ["KNNWithMeans", "KNNBaseline"])
def test_knn_with_means_and_baseline(split, algo):
    options = {"name": "pearson_baseline", "shrinkage": 50}
    _compare(split, lambda lib: getattr(lib, algo)(k=20, min_k=2, sim_options=dict(options), verbose=False),
             rtol=1e-9)
    bsl = {"method": "sgd", "n_epochs": 5}
    _compare(split, lambda lib: getattr(lib, algo)(sim_options={"user_based": False}, bsl_options=dict(bsl),
                                                   verbose=False), rtol=1e-9)


@pytest.mark.parametrize("bsl", [{}, {"method": "als", "reg_u": 5, "n_epochs": 3},
                                 {"method": "sgd", "learning_rate": 0.01, "n_epochs": 4}])
def test_baseline_only(split, bsl):
    _compare(split, lambda lib: lib.BaselineOnly(bsl_options=dict(bsl), verbose=False), rtol=0)


def test_svd_identical_factors_and_predictions(split):
    _, _, s_train, _, t_train, _ = split
    for backend in tinymed.available():
        with tinymed.using(backend):
            s = surprise.SVD(n_factors=20, n_epochs=5, random_state=0).fit(s_train)
            t = tr.SVD(n_factors=20, n_epochs=5, random_state=0).fit(t_train)
        for attr in ("pu", "qi", "bu", "bi"):
            np.testing.assert_array_equal(getattr(t, attr), getattr(s, attr))
    _compare(split, lambda lib: lib.SVD(random_state=1), rtol=0)
    _compare(split, lambda lib: lib.SVD(n_factors=5, biased=False, lr_pu=0.01, reg_qi=0.1, random_state=2), rtol=0)


def test_accuracy_measures_agree(split):
    s_pred, _ = _compare(split, lambda lib: lib.KNNWithMeans(verbose=False), rtol=1e-9)
    for m in ("rmse", "mae", "mse", "fcp"):
        assert getattr(tr.accuracy, m)(s_pred, verbose=False) == getattr(surprise.accuracy, m)(s_pred, verbose=False)


def test_cross_validate_agrees(split):
    s_data, t_data, *_ = split
    s = sms.cross_validate(surprise.BaselineOnly(verbose=False), s_data, cv=sms.KFold(3, random_state=0))
    t = tr.model_selection.cross_validate(tr.BaselineOnly(verbose=False), t_data,
                                          cv=tr.model_selection.KFold(3, random_state=0))
    assert set(s) == set(t)
    np.testing.assert_array_equal(t["test_rmse"], s["test_rmse"])
    np.testing.assert_array_equal(t["test_mae"], s["test_mae"])
