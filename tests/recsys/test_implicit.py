"""Implicit feedback: ALS and BPR (fitting, recommend, similar_items), the splits and the top-N
evaluation, the synthetic prescriptions, and the models against the ``implicit`` library."""

import numpy as np
import pytest

import tinymed
from tinymed.recsys import make_treatment_prescriptions
from tinymed.recsys.implicit import AlternatingLeastSquares, BayesianPersonalizedRanking, as_user_items
from tinymed.recsys.implicit import evaluation as ev
from tinymed.sparse import CSRMatrix
from tinymed.threads import limit_blas_threads


@pytest.fixture(autouse=True)
def one_blas_thread():
    """implicit's models warn (once, when first built) unless the BLAS runs on one thread."""
    with limit_blas_threads(1):
        yield


@pytest.fixture(scope="module")
def prescriptions():
    """``(data, train, test)``: 120 synthetic patients, 2 prescriptions of each held out."""
    d = make_treatment_prescriptions(120, 20, density=0.25, random_state=3)
    train, test = ev.leave_k_out_split(d.prescribed, K=2, random_state=0)
    return d, train, test


def rows_of(R, ids):
    """The rows ``ids`` of ``R`` as a matrix of their own (what ``recommend`` takes as ``user_items``)."""
    dense = R.toarray()[ids]
    rows, cols = np.nonzero(dense)
    return CSRMatrix.from_coo(rows, cols, dense[rows, cols], dense.shape)


def als(**kwargs):
    return AlternatingLeastSquares(**{"factors": 4, "regularization": 0.1, "iterations": 6, "random_state": 0,
                                      "dtype": np.float64, **kwargs})


# ----- the synthetic data and the splits -------------------------------------------------------
def test_prescriptions_are_the_responses_observation_mask():
    from tinymed.recsys import make_treatment_responses
    d = make_treatment_prescriptions(80, 12, density=0.3, random_state=9)
    r = make_treatment_responses(80, 12, density=0.3, random_state=9)
    np.testing.assert_array_equal(d.prescribed.toarray() > 0, r.observed)
    np.testing.assert_array_equal(d.true_response, r.true_response)
    # patients are given, more often, what suits them
    assert d.true_response[r.observed].mean() > d.true_response[~r.observed].mean() + 0.3


def test_leave_k_out_and_train_test_split(prescriptions):
    d, train, test = prescriptions
    R = d.prescribed
    counts, test_counts = np.diff(R.indptr), np.diff(test.indptr)
    np.testing.assert_array_equal(test_counts, np.where(counts > 2, 2, 0))
    np.testing.assert_array_equal(train.toarray() + test.toarray(), R.toarray())
    kept, _ = ev.leave_k_out_split(R, K=1, train_only_size=0.5, random_state=1)
    assert np.sum(np.diff(kept.indptr) == counts) >= np.sum(counts > 1) // 2
    a, b = ev.train_test_split(R, train_percentage=0.7, random_state=2)
    np.testing.assert_array_equal(a.toarray() + b.toarray(), R.toarray())
    assert 0.6 < a.nnz / R.nnz < 0.8
    with pytest.raises(ValueError, match="K must be an integer >= 1"):
        ev.leave_k_out_split(R, K=0)


def test_user_items_are_read_from_any_matrix():
    dense = np.array([[0, 2, 0], [1, 0, 0.0]])
    expected = CSRMatrix.from_coo([0, 1], [1, 0], [2.0, 1.0], (2, 3))
    for matrix in (dense, expected):
        got = as_user_items(matrix, "here")
        np.testing.assert_array_equal(got.toarray(), expected.toarray())
    scipy = pytest.importorskip("scipy.sparse", reason="scipy is not installed")
    np.testing.assert_array_equal(as_user_items(scipy.csr_matrix(dense), "here").toarray(), dense)
    with pytest.raises(ValueError, match="here: the interactions must be finite and >= 0"):
        as_user_items(-dense, "here")
    with pytest.raises(TypeError, match="here: expected a users x items matrix"):
        as_user_items([1, 2], "here")


# ----- ALS -------------------------------------------------------------------------------------
def test_als_half_steps_solve_the_weighted_least_squares(prescriptions, backend):
    _, train, _ = prescriptions
    model = als(use_cg=False, alpha=2.0, calculate_training_loss=True).fit(train, show_progress=False)
    X, Y, lam = model.user_factors, model.item_factors, model.regularization
    R = train.toarray()
    C, P = 1 + 2.0 * R, (R > 0).astype(float)
    for i in range(len(Y)):  # the last half-step left every item optimal given the users
        gradient = X.T @ (C[:, i] * (X @ Y[i] - P[:, i])) + lam * Y[i]
        np.testing.assert_allclose(gradient, 0, atol=1e-9)
    assert all(a >= b - 1e-12 for a, b in zip(model.training_loss, model.training_loss[1:]))  # exact ALS descends


def test_als_conjugate_gradient_nears_the_exact_solve(prescriptions):
    _, train, test = prescriptions
    exact = als(use_cg=False).fit(train, show_progress=False)
    cg = als(cg_steps=4).fit(train, show_progress=False)
    assert np.abs(cg.loss(train) - exact.loss(train)) < 1e-3 * exact.loss(train)


def test_als_fit_on_both_backends_agrees(prescriptions):
    _, train, _ = prescriptions
    fitted = {}
    for name in tinymed.available():
        with tinymed.using(name):
            fitted[name] = als().fit(train, show_progress=False)
    for model in fitted.values():
        np.testing.assert_allclose(model.user_factors, fitted["numpy"].user_factors, rtol=1e-9, atol=1e-12)


def test_als_threads_do_not_change_the_result(prescriptions):
    _, train, _ = prescriptions
    one, many = als(num_threads=1).fit(train, show_progress=False), als(num_threads=3).fit(train, show_progress=False)
    np.testing.assert_array_equal(one.user_factors, many.user_factors)


def test_recalculate_item_is_the_last_half_step_and_recalculate_user_solves_its_system(prescriptions):
    _, train, _ = prescriptions
    model = als(use_cg=False).fit(train, show_progress=False)
    items = np.array([2, 7])
    np.testing.assert_allclose(model.recalculate_item(items, rows_of(train.T, items)), model.item_factors[items],
                               rtol=1e-8, atol=1e-10)
    row = CSRMatrix.from_coo([0, 0], [1, 4], [1.0, 1.0], (1, train.shape[1]))
    x, Y = model.recalculate_user(3, row), model.item_factors
    assert x.shape == (4,)
    c = np.ones(train.shape[1])
    c[[1, 4]] = 1 + model.alpha
    p = (c > 1).astype(float)
    np.testing.assert_allclose(Y.T @ (c[:, None] * Y) @ x + model.regularization * x, Y.T @ (c * p), rtol=1e-9)


# ----- recommend and similar_items -------------------------------------------------------------
def test_recommend_filters_and_ranks(prescriptions):
    _, train, _ = prescriptions
    model = als().fit(train, show_progress=False)
    row = rows_of(train, [0])
    ids, scores = model.recommend(0, row, N=5)
    liked = set(train.row(0)[0].tolist())
    assert len(ids) == 5 and not liked & set(ids.tolist())
    assert (np.diff(scores) <= 0).all()
    np.testing.assert_allclose(scores, model.user_factors[0] @ model.item_factors[ids].T, rtol=1e-12)
    everything, _ = model.recommend(0, row, N=100)
    assert len(everything) == train.shape[1] - len(liked)  # only what can be recommended
    unfiltered, _ = model.recommend(0, None, N=3, filter_already_liked_items=False)
    np.testing.assert_array_equal(unfiltered, np.argsort(-(model.user_factors[0] @ model.item_factors.T),
                                                         kind="stable")[:3])
    kept, _ = model.recommend(0, row, N=3, items=[1, 2, 3, 4, 5, 6])
    assert set(kept.tolist()) <= {1, 2, 3, 4, 5, 6} - liked
    dropped, _ = model.recommend(0, row, N=3, filter_items=ids[:2])
    assert not set(ids[:2].tolist()) & set(dropped.tolist())
    batch, batch_scores = model.recommend(np.array([0, 1]), rows_of(train, [0, 1]), N=5)
    assert batch.shape == batch_scores.shape == (2, 5)
    np.testing.assert_array_equal(batch[0], ids)


def test_recommend_errors(prescriptions):
    _, train, _ = prescriptions
    model = als().fit(train, show_progress=False)
    with pytest.raises(ValueError, match="user_items has 120 row.s. for 1 user id.s.; pass the users' own rows"):
        model.recommend(0, train)
    with pytest.raises(ValueError, match="user_items is needed to filter liked items"):
        model.recommend(0, None)
    with pytest.raises(ValueError, match=r"userid must be in \[0, 120\)"):
        model.recommend(500, None, filter_already_liked_items=False)
    with pytest.raises(RuntimeError, match="call fit"):
        als().recommend(0, None, filter_already_liked_items=False)
    with pytest.raises(NotImplementedError, match="recalculate_user"):
        BayesianPersonalizedRanking(factors=2, iterations=1).fit(train, show_progress=False).recommend(
            0, CSRMatrix.from_coo([0], [0], [1.0], (1, train.shape[1])), recalculate_user=True)


def test_similar_items_are_cosines_of_the_factors_the_item_first(prescriptions):
    _, train, _ = prescriptions
    model = als().fit(train, show_progress=False)
    ids, scores = model.similar_items(3, N=4)
    Y = model.item_factors / np.linalg.norm(model.item_factors, axis=1, keepdims=True)
    assert ids[0] == 3 and scores[0] == pytest.approx(1.0)
    np.testing.assert_allclose(scores, Y[ids] @ Y[3], rtol=1e-12)
    assert scores[1] == np.max(np.delete(Y @ Y[3], 3))
    users, _ = model.similar_users(7, N=3)
    assert users[0] == 7


# ----- BPR -------------------------------------------------------------------------------------
def test_bpr_learns_to_rank_and_is_reproducible(prescriptions):
    _, train, test = prescriptions
    model = BayesianPersonalizedRanking(factors=6, learning_rate=0.05, iterations=40, random_state=1,
                                        dtype=np.float64).fit(train, show_progress=False)
    assert model.train_auc[-1] > 0.75 > model.train_auc[0] - 0.2
    np.testing.assert_array_equal(model.user_factors[:, -1], 1.0)
    again = BayesianPersonalizedRanking(factors=6, learning_rate=0.05, iterations=40, random_state=1,
                                        dtype=np.float64).fit(train, show_progress=False)
    np.testing.assert_array_equal(again.item_factors, model.item_factors)
    assert ev.ranking_metrics_at_k(model, train, test, 5)["ndcg"] > 0.15


def test_bpr_fit_on_both_backends_agrees(prescriptions):
    _, train, _ = prescriptions
    fitted = {}
    for name in tinymed.available():
        with tinymed.using(name):
            fitted[name] = BayesianPersonalizedRanking(factors=3, iterations=2, random_state=0,
                                                       dtype=np.float64).fit(train, show_progress=False)
    for model in fitted.values():
        np.testing.assert_allclose(model.item_factors, fitted["numpy"].item_factors, rtol=1e-10, atol=1e-12)


# ----- evaluation ------------------------------------------------------------------------------
class Oracle:
    """Recommends the items of a fixed matrix first: a model that knows the test set."""

    def __init__(self, truth):
        self.truth = truth

    def recommend(self, users, rows, N=10, filter_already_liked_items=True):
        ranked = [np.argsort(-self.truth[u], kind="stable")[:N] for u in users]
        return np.array(ranked), None


def test_a_model_that_knows_the_test_set_scores_one(prescriptions):
    _, train, test = prescriptions
    metrics = ev.ranking_metrics_at_k(Oracle(test.toarray()), train, test, K=2)
    assert metrics == {"precision": 1.0, "recall": 1.0, "map": 1.0, "ndcg": 1.0}
    assert ev.precision_at_k(Oracle(test.toarray()), train, test, K=4) == 0.5  # 2 relevant items in 4


# ----- against the implicit library ---------------------------------------------------------------
implicit = pytest.importorskip("implicit", reason="the implicit library is not installed (pip install implicit)")


def _scipy(R):
    sp = pytest.importorskip("scipy.sparse", reason="scipy is not installed")
    return sp.csr_matrix((R.data.astype(np.float32), R.indices, R.indptr), shape=R.shape)


@pytest.mark.parametrize("use_cg", [True, False])
def test_als_learns_implicits_factors(prescriptions, use_cg):
    from implicit.cpu.als import AlternatingLeastSquares as ImplicitALS
    _, train, _ = prescriptions
    ours = als(alpha=3.0, use_cg=use_cg).fit(train, show_progress=False)
    theirs = ImplicitALS(factors=4, regularization=0.1, alpha=4.0, iterations=6, use_cg=use_cg, dtype=np.float64,
                         num_threads=1)  # implicit's confidence alpha * r is tinymed's 1 + alpha * r on 0/1 data
    rng = np.random.RandomState(0)  # the factors tinymed started from
    theirs.user_factors, theirs.item_factors = rng.random((120, 4)) * 0.01, rng.random((20, 4)) * 0.01
    theirs.fit(_scipy(train), show_progress=False)
    np.testing.assert_allclose(ours.user_factors, theirs.user_factors, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours.item_factors, theirs.item_factors, rtol=1e-6, atol=1e-6)


def test_bpr_ranks_as_well_as_implicits(prescriptions):
    from implicit.cpu.bpr import BayesianPersonalizedRanking as ImplicitBPR
    _, train, test = prescriptions
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    ours, theirs = [], []
    for seed in range(8):  # a BPR model varies with its draws (sd of NDCG@5 ~0.03 here): compare means over seeds
        settings = dict(factors=6, learning_rate=0.05, regularization=0.01, iterations=40, random_state=seed)
        ours.append(ev.ranking_metrics_at_k(BayesianPersonalizedRanking(**settings).fit(train, show_progress=False),
                                            train, test, 5)["ndcg"])
        model = ImplicitBPR(**settings, num_threads=1)
        model.fit(_scipy(train), show_progress=False)
        ids, _ = model.recommend(users, _scipy(train)[users], N=5)
        theirs.append(ev.ranking_metrics_of({int(u): row.tolist() for u, row in zip(users, ids)}, test, 5)["ndcg"])
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.04


def test_map_and_ndcg_are_implicits(prescriptions):
    from implicit.cpu.als import AlternatingLeastSquares as ImplicitALS
    from implicit.evaluation import mean_average_precision_at_k, ndcg_at_k
    _, train, test = prescriptions
    model = ImplicitALS(factors=4, iterations=3, random_state=0, num_threads=1)
    model.fit(_scipy(train), show_progress=False)
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    ids, _ = model.recommend(users, _scipy(train)[users], N=5)
    ours = ev.ranking_metrics_of({int(u): row.tolist() for u, row in zip(users, ids)}, test, 5)
    assert ours["ndcg"] == pytest.approx(ndcg_at_k(model, _scipy(train), _scipy(test), K=5, show_progress=False))
    assert ours["map"] == pytest.approx(mean_average_precision_at_k(model, _scipy(train), _scipy(test), K=5,
                                                                   show_progress=False))
