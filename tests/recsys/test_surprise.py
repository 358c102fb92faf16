"""Cross-checks against Surprise (scikit-surprise), skipped when it is not installed.

Same raw ratings, same seeds: the splits must be the same, and every estimate the same to
float rounding (the factorisations, the baselines, Slope One and co-clustering to the last
bit). One documented difference: for an unknown user or item, SVD / SVDpp / NMF /
BaselineOnly / KNNBaseline / CoClustering predict what Surprise predicts, but tinymed also
marks it ``was_impossible`` with a reason.
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


# ----- the algorithms Surprise has beside those -----------------------------------------------------
# Surprise's SlopeOne and CoClustering turn ratings into integers inside their loops: on integer
# ratings the two libraries compute the same numbers.
INTEGER_RATINGS = [(u, i, float(round(r))) for u, i, r in RATINGS]


@pytest.fixture(scope="module")
def integer_split():
    s_data = surprise.Dataset.load_from_df(_Frame(INTEGER_RATINGS), surprise.Reader(rating_scale=(1, 5)))
    t_data = tr.Dataset.load_from_triples(INTEGER_RATINGS, tr.Reader(rating_scale=(1, 5)))
    s_train, s_test = sms.train_test_split(s_data, test_size=0.25, random_state=5)
    t_train, t_test = tr.model_selection.train_test_split(t_data, test_size=0.25, random_state=5)
    extra = [("P0001", "new drug", 3.0), ("new patient", "T001", 4.0), ("new patient", "new drug", 2.0)]
    return s_data, t_data, s_train, s_test + extra, t_train, t_test + extra


@pytest.mark.parametrize("name", ["msd", "pearson_baseline"])
@pytest.mark.parametrize("user_based", [True, False])
def test_knn_with_z_score(split, name, user_based):
    options = {"name": name, "user_based": user_based}
    # the reference similarity kernel adds by matrix products: the last bit may differ on numpy
    _compare(split, lambda lib: lib.KNNWithZScore(k=15, min_k=2, sim_options=dict(options), verbose=False), rtol=1e-12)


def test_svdpp_identical_factors_and_predictions(split):
    _, _, s_train, _, t_train, _ = split
    for backend in tinymed.available():
        with tinymed.using(backend):
            s = surprise.SVDpp(n_factors=6, n_epochs=3, random_state=0).fit(s_train)
            t = tr.SVDpp(n_factors=6, n_epochs=3, random_state=0).fit(t_train)
        for attr in ("pu", "qi", "yj", "bu", "bi"):
            np.testing.assert_array_equal(getattr(t, attr), getattr(s, attr))
    _compare(split, lambda lib: lib.SVDpp(n_factors=5, n_epochs=4, lr_yj=0.02, reg_bu=0.1, random_state=1), rtol=0)


@pytest.mark.parametrize("biased", [False, True])
def test_nmf_identical_factors_and_predictions(split, biased):
    _, _, s_train, _, t_train, _ = split
    for backend in tinymed.available():
        with tinymed.using(backend):
            s = surprise.NMF(n_factors=4, n_epochs=6, biased=biased, random_state=2).fit(s_train)
            t = tr.NMF(n_factors=4, n_epochs=6, biased=biased, random_state=2).fit(t_train)
        for attr in ("pu", "qi", "bu", "bi"):
            np.testing.assert_array_equal(getattr(t, attr), getattr(s, attr))
    _compare(split, lambda lib: lib.NMF(n_factors=3, n_epochs=5, biased=biased, init_low=0.2, random_state=3), rtol=0)


def test_slope_one(integer_split):
    _compare(integer_split, lambda lib: lib.SlopeOne(), rtol=0)


def test_co_clustering(integer_split):
    _, _, s_train, _, t_train, _ = integer_split
    for backend in tinymed.available():
        with tinymed.using(backend):
            s = surprise.CoClustering(n_cltr_u=4, n_cltr_i=2, n_epochs=5, random_state=6).fit(s_train)
            t = tr.CoClustering(n_cltr_u=4, n_cltr_i=2, n_epochs=5, random_state=6).fit(t_train)
        np.testing.assert_array_equal(t.cltr_u, s.cltr_u)
        np.testing.assert_array_equal(t.cltr_i, s.cltr_i)
        np.testing.assert_array_equal(t.avg_cocltr, s.avg_cocltr)
    _compare(integer_split, lambda lib: lib.CoClustering(n_epochs=4, random_state=7), rtol=0)


def test_normal_predictor_draws_the_same_numbers(split):
    _, _, s_train, s_test, t_train, t_test = split
    s = surprise.NormalPredictor().fit(s_train)
    t = tr.NormalPredictor().fit(t_train)
    assert t.sigma == s.sigma
    np.random.seed(4)
    s_pred = s.test(s_test)
    np.random.seed(4)
    assert [p.est for p in t.test(t_test)] == [p.est for p in s_pred]


# ----- splits, search, similarity functions, readers -------------------------------------------------
def _same_folds(s_folds, t_folds):
    s_folds, t_folds = list(s_folds), list(t_folds)
    assert len(s_folds) == len(t_folds)
    for (s_tr, s_te), (t_tr, t_te) in zip(s_folds, t_folds):
        assert [tuple(r) for r in s_te] == [tuple(r) for r in t_te]
        assert list(s_tr.all_ratings()) == list(t_tr.all_ratings())


def test_repeated_kfold_and_leave_one_out_draw_the_same_splits(split):
    s_data, t_data, *_ = split
    _same_folds(sms.RepeatedKFold(3, 2, random_state=1).split(s_data),
                tr.model_selection.RepeatedKFold(3, 2, random_state=1).split(t_data))
    _same_folds(sms.LeaveOneOut(3, random_state=2, min_n_ratings=2).split(s_data),
                tr.model_selection.LeaveOneOut(3, random_state=2, min_n_ratings=2).split(t_data))


def test_predefined_folds_read_the_same_files(tmp_path):
    for k, part in enumerate((RATINGS[:300], RATINGS[300:400])):
        (tmp_path / f"f{k}").write_text("header\n" + "\n".join(f"{u} {i} {r}" for u, i, r in part) + "\n")
    files = [(str(tmp_path / "f0"), str(tmp_path / "f1"))]
    s_data = surprise.Dataset.load_from_folds(files, surprise.Reader(line_format="user item rating", sep=" ",
                                                                      skip_lines=1))
    t_data = tr.Dataset.load_from_folds(files, tr.Reader(line_format="user item rating", sep=" ", skip_lines=1))
    _same_folds(sms.PredefinedKFold().split(s_data), tr.model_selection.PredefinedKFold().split(t_data))


def test_grid_search_gives_surprises_results(split):
    s_data, t_data, *_ = split
    grid = {"n_epochs": [3], "lr_all": [0.002, 0.01], "reg_all": [0.02, 0.4], "n_factors": [4], "random_state": [0]}
    s = sms.GridSearchCV(surprise.SVD, grid, measures=["rmse", "fcp"], cv=sms.KFold(3, random_state=1), refit=True)
    t = tr.model_selection.GridSearchCV(tr.SVD, grid, measures=["rmse", "fcp"],
                                        cv=tr.model_selection.KFold(3, random_state=1), refit=True)
    s.fit(s_data)
    t.fit(t_data)
    assert t.param_combinations == s.param_combinations
    for key, value in s.cv_results.items():
        if "time" not in key and key != "params":
            np.testing.assert_array_equal(np.asarray(t.cv_results[key]), np.asarray(value), err_msg=key)
    assert t.best_params == s.best_params and t.best_index == s.best_index and t.best_score == s.best_score
    assert t.predict("P0002", "T003").est == s.predict("P0002", "T003").est


def test_similarity_functions_agree_with_surprises():
    from surprise import similarities as s_sims
    rng = np.random.default_rng(3)
    yr = {y: [(int(x), float(r)) for x, r in zip(rng.choice(9, 5, replace=False), rng.integers(1, 11, 5) / 2)]
          for y in rng.permutation(12)}  # keys in no particular order
    x_biases, y_biases = rng.normal(0, 1, 9), rng.normal(0, 1, 12)
    for name in ("cosine", "msd", "pearson"):
        for min_support in (1, 3):
            np.testing.assert_array_equal(getattr(tr.similarities, name)(9, yr, min_support),
                                          getattr(s_sims, name)(9, yr, min_support), err_msg=name)
    np.testing.assert_allclose(tr.similarities.pearson_baseline(9, yr, 2, 3.0, x_biases, y_biases, 20),
                               s_sims.pearson_baseline(9, yr, 2, 3.0, x_biases, y_biases, 20), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["ml-100k", "ml-1m", "jester"])
def test_builtin_reader_formats(name):
    s, t = surprise.Reader(name), tr.Reader(name)
    assert (t.sep, t.rating_scale) == (s.sep, s.rating_scale)
    line = {"ml-100k": "196\t242\t3\t881250949", "ml-1m": "1::1193::5::978300760", "jester": "1 5 -7.82"}[name]
    assert t.parse_line(line) == s.parse_line(line)


def test_trainset_lists_and_defaults_as_surprises(split):
    _, _, s_train, _, t_train, _ = split
    assert dict(t_train.ur) == dict(s_train.ur) and dict(t_train.ir) == dict(s_train.ir)
    assert t_train.ur[10**6] == s_train.ur[10**6] == []


@pytest.fixture(scope="module")
def movielens_slice():
    """The first 10,000 ratings of MovieLens-100k, as both libraries' Datasets."""
    try:
        raw = tr.load_movielens_100k().raw_ratings[:10_000]
    except FileNotFoundError:
        pytest.skip("no copy of MovieLens-100k on this machine (pip install --no-deps recbole)")
    rows = [(u, i, r) for u, i, r, _ in raw]
    return (surprise.Dataset.load_from_df(_Frame(rows), surprise.Reader(rating_scale=(1, 5))),
            tr.Dataset.load_from_triples(rows, tr.Reader(rating_scale=(1, 5))))


@pytest.mark.parametrize("make", [
    lambda lib: lib.SVDpp(random_state=0), lambda lib: lib.NMF(random_state=0), lambda lib: lib.SlopeOne(),
    lambda lib: lib.CoClustering(random_state=0), lambda lib: lib.KNNWithZScore(verbose=False),
    lambda lib: lib.SVD(random_state=0), lambda lib: lib.KNNBaseline(verbose=False),
], ids=["SVDpp", "NMF", "SlopeOne", "CoClustering", "KNNWithZScore", "SVD", "KNNBaseline"])
def test_rmse_on_movielens_equals_surprises(movielens_slice, make):
    s_data, t_data = movielens_slice
    s_train, s_test = next(sms.KFold(5, random_state=0).split(s_data))
    t_train, t_test = next(tr.model_selection.KFold(5, random_state=0).split(t_data))
    s_rmse = surprise.accuracy.rmse(make(surprise).fit(s_train).test(s_test), verbose=False)
    assert tr.accuracy.rmse(make(tr).fit(t_train).test(t_test), verbose=False) == s_rmse
