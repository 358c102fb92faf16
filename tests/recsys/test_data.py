"""Ratings data: Reader, Dataset, Trainset, the matrix R (F13), splits, synthetic treatment data."""

import numpy as np
import pytest

from tinymed.recsys import Columns, Dataset, Reader, make_treatment_responses
from tinymed.recsys.model_selection import KFold, ShuffleSplit, train_test_split

TRIPLES = [("ann", "aspirin", 4.0), ("bob", "aspirin", 2.0), ("ann", "statin", 5.0), ("cat", "insulin", 3.0)]


def small():
    return Dataset.load_from_triples(TRIPLES, Reader(rating_scale=(1, 5)))


# ----- loading ------------------------------------------------------------------------------
def test_inner_ids_follow_first_appearance_and_map_back():
    t = small().build_full_trainset()
    assert (t.n_users, t.n_items, t.n_ratings) == (3, 3, 4)
    assert [t.to_inner_uid(u) for u in ("ann", "bob", "cat")] == [0, 1, 2]
    assert [t.to_raw_iid(i) for i in range(3)] == ["aspirin", "statin", "insulin"]
    assert t.global_mean == pytest.approx(3.5)
    assert t.ur[0] == [(0, 4.0), (1, 5.0)] and t.ir[0] == [(0, 4.0), (1, 2.0)]
    assert list(t.all_ratings()) == [(0, 0, 4.0), (0, 1, 5.0), (1, 0, 2.0), (2, 2, 3.0)]
    assert t.knows_user(2) and not t.knows_user(3) and not t.knows_user("UKN__x")


def test_unknown_ids_raise_naming_the_id():
    t = small().build_full_trainset()
    with pytest.raises(ValueError, match="'dan' is not part of the trainset"):
        t.to_inner_uid("dan")
    with pytest.raises(ValueError, match="to_inner_iid: item 'x'"):
        t.to_inner_iid("x")
    with pytest.raises(ValueError, match=r"to_raw_uid: 7 is not a valid inner user id .*\[0, 3\)"):
        t.to_raw_uid(7)
    with pytest.raises(ValueError, match="to_raw_iid"):
        t.to_raw_iid(-1)


def test_rating_matrix_dense_and_sparse_agree():
    t = small().build_full_trainset()
    R = t.rating_matrix()
    expected = np.array([[4, 5, np.nan], [2, np.nan, np.nan], [np.nan, np.nan, 3]])
    np.testing.assert_array_equal(R, expected)
    csr = t.rating_matrix_csr()
    assert csr.shape == (3, 3) and csr.nnz == 4
    np.testing.assert_array_equal(csr.toarray(np.nan), expected)
    np.testing.assert_array_equal(t.rating_matrix_csr(user_based=False).toarray(np.nan), expected.T)
    np.testing.assert_array_equal(csr.T.toarray(), np.nan_to_num(expected).T)


def test_trainset_holds_r_and_its_transpose_in_arrival_order():
    # inner ids: bob 0, ann 1; statin 0, aspirin 1. Rows keep the ratings' arrival order, not column order.
    t = Dataset.load_from_triples([("bob", "statin", 1.0), ("ann", "aspirin", 4.0), ("bob", "aspirin", 2.0),
                                   ("ann", "statin", 5.0)], Reader()).build_full_trainset()
    R = t.rating_matrix()
    np.testing.assert_array_equal(t.ratings_by_user.toarray(np.nan), R)
    np.testing.assert_array_equal(t.ratings_by_item.toarray(np.nan), R.T)
    items, ratings = t.user_ratings(t.to_inner_uid("ann"))
    assert items.tolist() == [1, 0] and ratings.tolist() == [4.0, 5.0]  # aspirin came before statin
    users, ratings = t.item_ratings(t.to_inner_iid("aspirin"))
    assert users.tolist() == [1, 0] and ratings.tolist() == [4.0, 2.0]  # ann came before bob
    assert list(t.all_ratings()) == [(0, 0, 1.0), (0, 1, 2.0), (1, 1, 4.0), (1, 0, 5.0)]


def test_testset_and_anti_testset():
    t = small().build_full_trainset()
    assert t.build_testset() == [("ann", "aspirin", 4.0), ("ann", "statin", 5.0), ("bob", "aspirin", 2.0),
                                 ("cat", "insulin", 3.0)]
    anti = t.build_anti_testset()
    assert len(anti) == 9 - 4
    assert ("ann", "insulin", 3.5) in anti and ("bob", "statin", 3.5) in anti
    assert all(r == 0.0 for *_, r in t.build_anti_testset(fill=0))


def test_load_from_mapping_of_columns_and_rows_and_file(tmp_path):
    reader = Reader(rating_scale=(1, 5))
    cols = {"user_id": ["ann", "bob"], "item_id": ["a", "a"], "rating": [4, 2], "ignored": [0, 0]}
    rows = [("ann", "a", 4), ("bob", "a", 2)]
    assert Dataset.load_from_df(cols, reader).raw_ratings == Dataset.load_from_df(rows, reader).raw_ratings
    path = tmp_path / "r.csv"
    path.write_text("user,item,rating\nann,a,4\nbob,a,2\n")
    data = Dataset.load_from_file(path, Reader(line_format="user item rating", sep=",", skip_lines=1))
    assert data.raw_ratings == [("ann", "a", 4.0, None), ("bob", "a", 2.0, None)]


def test_load_from_pandas_dataframe():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"user_id": [1, 1, 2], "item_id": [10, 11, 10], "rating": [1, 5, 3]})
    data = Dataset.load_from_df(df[["user_id", "item_id", "rating"]], Reader(rating_scale=(1, 5)))
    assert [r[:3] for r in data.raw_ratings] == [(1, 10, 1.0), (1, 11, 5.0), (2, 10, 3.0)]


@pytest.mark.parametrize("rows, message", [
    ([], "no ratings"),
    ([("a", "x", 6)], r"outside the rating scale \[1, 5\]"),
    ([("a", "x", 0.5)], "outside the rating scale"),
    ([("a", "x", float("nan"))], "outside the rating scale"),
    ([("a", "x", "good")], "a rating must be a number"),
    ([("a", "x", 3), ("a", "x", 4)], "rates item 'x' more than once"),
    ([("a", "x")], "must be"),
])
def test_bad_ratings_raise(rows, message):
    with pytest.raises(ValueError, match=message):
        Dataset.load_from_triples(rows, Reader(rating_scale=(1, 5)))


def test_bad_reader_and_table():
    with pytest.raises(ValueError, match="lowest < highest"):
        Reader(rating_scale=(5, 1))
    with pytest.raises(ValueError, match="unknown built-in format 'netflix'; expected one of ml-100k, ml-1m, jester"):
        Reader("netflix")
    with pytest.raises(ValueError, match="line_format"):
        Reader(line_format="user rating")
    with pytest.raises(ValueError, match="columns differ in length"):
        Dataset.load_from_df({"u": [1, 2], "i": [1], "r": [3, 3]}, Reader())
    with pytest.raises(TypeError, match="expected a tinymed.recsys.Reader"):
        Dataset([("a", "b", 3)], reader=(1, 5))


# ----- splits -------------------------------------------------------------------------------
def ratings_data(n=50):
    return Dataset.load_from_triples([(f"u{k % 7}", f"i{k}", 1 + k % 5) for k in range(n)], Reader())


def test_train_test_split_sizes_and_seed():
    data = ratings_data(50)
    train, test = train_test_split(data, test_size=0.2, random_state=1)
    assert train.n_ratings == 40 and len(test) == 10
    assert train_test_split(data, test_size=0.2, random_state=1)[1] == test
    _, test7 = train_test_split(data, test_size=7, random_state=1)
    assert len(test7) == 7
    train_small, test_small = train_test_split(data, test_size=0.1, train_size=0.5, random_state=0)
    assert (train_small.n_ratings, len(test_small)) == (25, 5)
    _, test_plain = train_test_split(data, test_size=10, shuffle=False)
    assert [r[1] for r in test_plain] == [f"i{k}" for k in range(40, 50)]
    with pytest.raises(ValueError, match="less than the number of ratings"):
        train_test_split(data, test_size=50)
    with pytest.raises(ValueError, match="more than the number"):
        train_test_split(data, test_size=30, train_size=30)


def test_kfold_tests_every_rating_once():
    data = ratings_data(23)
    seen = []
    for trainset, testset in KFold(n_splits=4, random_state=0).split(data):
        assert trainset.n_ratings + len(testset) == 23
        seen += [r[1] for r in testset]
    assert sorted(seen) == sorted(f"i{k}" for k in range(23))
    sizes = [len(test) for _, test in KFold(4, shuffle=False).split(data)]
    assert sizes == [6, 6, 6, 5]
    with pytest.raises(ValueError, match="n_splits must be an integer in"):
        next(KFold(n_splits=1).split(data))
    assert ShuffleSplit(n_splits=3).get_n_folds() == 3


# ----- synthetic treatment responses ---------------------------------------------------------
def test_treatment_responses_are_seeded_and_documented():
    a = make_treatment_responses(120, 20, random_state=3)
    b = make_treatment_responses(120, 20, random_state=3)
    assert a.ratings == b.ratings and a.ratings != make_treatment_responses(120, 20, random_state=4).ratings
    assert "no clinical meaning" in a.description and "noise sd 0.5" in a.description
    assert a.true_response.shape == (120, 20) and a.observed.sum() == len(a.ratings)
    assert a.patient_features.shape == (120, 8) and a.treatment_features.shape[0] == 20
    values = np.array([r for *_, r in a.ratings])
    assert values.min() >= 1 and values.max() <= 5
    data = a.to_dataset()
    assert len(data) == len(a.ratings)
    assert set(a.item_features()) == set(a.treatments)


def test_noise_level_is_what_the_oracle_sees():
    d = make_treatment_responses(400, 30, noise_std=0.4, density=0.3, random_state=0)
    oracle = d.oracle_rmse(d.ratings)
    # clipping the noisy value into [1, 5] can only shrink the error
    assert 0.3 < oracle <= 0.4 + 0.02
    noiseless = make_treatment_responses(50, 10, noise_std=0.0, random_state=0)
    assert noiseless.oracle_rmse(noiseless.ratings) == 0.0


def test_missing_not_at_random_favours_good_responses():
    d = make_treatment_responses(600, 40, density=0.2, missing="mnar", random_state=1)
    assert abs(d.observed.mean() - 0.2) < 0.02
    assert d.true_response[d.observed].mean() > d.true_response[~d.observed].mean() + 0.3
    mcar = make_treatment_responses(600, 40, density=0.2, missing="mcar", random_state=1)
    assert abs(mcar.true_response[mcar.observed].mean() - mcar.true_response[~mcar.observed].mean()) < 0.05


def test_truth_is_low_rank_plus_clipping():
    d = make_treatment_responses(200, 30, n_factors=2, random_state=2)
    inside = (d.true_response > 1) & (d.true_response < 5)
    assert inside.mean() > 0.9
    s = np.linalg.svd(d.true_response - 3.0, compute_uv=False)
    assert s[4] / s[0] < 0.15  # biases + rank 2, plus the clipped tails


def test_generator_rejects_bad_arguments():
    with pytest.raises(ValueError, match="density must be in"):
        make_treatment_responses(density=0)
    with pytest.raises(ValueError, match="missing must be"):
        make_treatment_responses(missing="random")
    with pytest.raises(ValueError, match="n_patients must be an integer"):
        make_treatment_responses(n_patients=1)
    with pytest.raises(ValueError, match="unknown patient or treatment"):
        make_treatment_responses(20, 5).true_rating("P9999", "T001")


def test_columns_select_like_a_dataframe():
    table = Columns(user_id=["ann", "bob"], item_id=["a", "b"], rating=[4, 2], note=["x", "y"])
    picked = table[["user_id", "item_id", "rating"]]
    assert list(picked) == ["user_id", "item_id", "rating"] and table["note"] == ["x", "y"]
    assert Dataset.load_from_df(picked, Reader()).raw_ratings == [("ann", "a", 4.0, None), ("bob", "b", 2.0, None)]
    with pytest.raises(KeyError, match=r"no column\(s\) \['score'\]"):
        table[["user_id", "score"]]


def test_csr_converts_to_scipy():
    pytest.importorskip("scipy", reason="scipy is not installed")
    t = small().build_full_trainset()
    np.testing.assert_array_equal(t.rating_matrix_csr().to_scipy().toarray(), np.nan_to_num(t.rating_matrix()))
