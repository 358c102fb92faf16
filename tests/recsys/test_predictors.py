"""Predictors: KNN, baselines, SVD, content-based, hybrids, cold start, S5 (backend agreement: test_kernels)."""

import numpy as np
import pytest

from tinymed.recsys import (
    BPMF,
    SVD,
    ArticleHybrid,
    BaselineOnly,
    Columns,
    ContentBased,
    KNNBaseline,
    KNNBasic,
    KNNWithMeans,
    MeanFilledSVD,
    Prediction,
    WeightedHybrid,
    accuracy,
    article_hybrid,
    make_treatment_responses,
)
from tinymed.recsys.baselines import baseline_als
from tinymed.recsys.model_selection import train_test_split

# u: a=1, b=2      v: a=2, b=4, c=5      w: a=3, b=1, c=2
TRIPLES = [("u", "a", 1), ("u", "b", 2), ("v", "a", 2), ("v", "b", 4), ("v", "c", 5),
           ("w", "a", 3), ("w", "b", 1), ("w", "c", 2)]


# ----- neighbourhood methods ------------------------------------------------------------------
def test_knn_basic_hand_computed(make_trainset, backend):
    # predict u's rating of c from v (cosine 1) and w (cosine 5/sqrt(50)) who rated c
    algo = KNNBasic(sim_options={"name": "cosine"}, verbose=False).fit(make_trainset(TRIPLES))
    s_uv, s_uw = 1.0, 5 / np.sqrt(50)
    p = algo.predict("u", "c", r_ui=3)
    assert p.est == pytest.approx((s_uv * 5 + s_uw * 2) / (s_uv + s_uw), rel=1e-14)
    assert p.details == {"actual_k": 2, "was_impossible": False}
    assert isinstance(p, Prediction) and p.r_ui == 3
    one = KNNBasic(k=1, sim_options={"name": "cosine"}, verbose=False).fit(make_trainset(TRIPLES))
    assert one.predict("u", "c").est == pytest.approx(5.0)


def test_knn_with_means_and_baseline_hand_computed(make_trainset, backend):
    t = make_trainset(TRIPLES)
    means = {"u": 1.5, "v": 11 / 3, "w": 2.0}
    s_uv, s_uw = 1.0, 5 / np.sqrt(50)
    p = KNNWithMeans(sim_options={"name": "cosine"}, verbose=False).fit(t).predict("u", "c")
    expected = means["u"] + (s_uv * (5 - means["v"]) + s_uw * (2 - means["w"])) / (s_uv + s_uw)
    assert p.est == pytest.approx(expected, rel=1e-14)
    algo = KNNBaseline(sim_options={"name": "cosine"}, verbose=False).fit(t)
    bu, bi = baseline_als(t)
    mu, c = t.global_mean, t.to_inner_iid("c")
    b = lambda u: mu + bu[t.to_inner_uid(u)] + bi[c]  # noqa: E731
    expected = b("u") + (s_uv * (5 - b("v")) + s_uw * (2 - b("w"))) / (s_uv + s_uw)
    assert algo.predict("u", "c").est == pytest.approx(expected, rel=1e-13)


def test_knn_not_enough_neighbours_and_cold_start(make_trainset):
    t = make_trainset(TRIPLES)
    algo = KNNBasic(min_k=3, sim_options={"name": "cosine"}, verbose=False).fit(t)
    p = algo.predict("u", "c")
    assert p.details == {"was_impossible": True, "reason": "Not enough neighbors."}
    assert p.est == pytest.approx(t.global_mean)
    q = algo.predict("newcomer", "a")
    assert q.details["was_impossible"] and "unknown" in q.details["reason"] and q.est == pytest.approx(t.global_mean)
    base = KNNBaseline(verbose=False).fit(t)
    r = base.predict("newcomer", "a")
    assert r.details["was_impossible"] and "mu + b_i" in r.details["reason"]
    assert r.est == pytest.approx(t.global_mean + base.bi[t.to_inner_iid("a")])


def test_item_based_and_neighbours(make_trainset, backend):
    t = make_trainset(TRIPLES)
    algo = KNNBasic(sim_options={"name": "msd", "user_based": False}, verbose=False).fit(t)
    assert algo.sim.shape == (3, 3)
    # u rated a and b; both neighbours of c
    s_ca, s_cb = algo.sim[2, 0], algo.sim[2, 1]
    assert algo.predict("u", "c").est == pytest.approx((s_ca * 1 + s_cb * 2) / (s_ca + s_cb))
    assert algo.get_neighbors(2, k=1) == [int(np.argmax([s_ca, s_cb]))]


def test_knn_predictions_stay_in_scale_and_improve_on_the_mean(backend, treatments):
    _, t = treatments
    for algo in (KNNBasic(verbose=False), KNNWithMeans(verbose=False),
                 KNNBaseline(sim_options={"name": "pearson_baseline", "user_based": False}, verbose=False)):
        preds = algo.fit(t).test(t.build_testset())
        est = np.array([p.est for p in preds])
        assert est.min() >= 1 and est.max() <= 5
        mean_rmse = np.sqrt(np.mean((t.ratings - t.global_mean) ** 2))
        assert accuracy.rmse(preds, verbose=False) < 0.9 * mean_rmse


def test_bad_options_raise(make_trainset):
    with pytest.raises(ValueError, match="unknown similarity 'jacard'"):
        KNNBasic(sim_options={"name": "jacard"})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['min_suport'\]"):
        KNNBasic(sim_options={"min_suport": 3})
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        KNNBasic(k=0)
    with pytest.raises(ValueError, match="invalid method 'newton'"):
        BaselineOnly(bsl_options={"method": "newton"})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['reg'\] for method 'als'"):
        BaselineOnly(bsl_options={"reg": 1})
    with pytest.raises(RuntimeError, match="call fit"):
        SVD().predict("u", "a")
    with pytest.raises(TypeError, match="expected a Trainset"):
        SVD().fit([("u", "a", 3)])
    with pytest.raises(ValueError, match="each test case must be"):
        BaselineOnly(verbose=False).fit(make_trainset(TRIPLES)).test([("u", "a")])


# ----- baselines --------------------------------------------------------------------------------
def test_als_baselines_hand_computed(make_trainset):
    t = make_trainset([("u", "a", 5), ("v", "a", 3), ("u", "b", 1)])
    mu = 3.0
    bu, bi = baseline_als(t, n_epochs=1, reg_u=1, reg_i=1)
    # first the items with bu = 0, then the users with the new bi
    bi_expected = np.array([((5 - mu) + (3 - mu)) / (1 + 2), (1 - mu) / (1 + 1)])
    bu_expected = np.array([((5 - mu - bi_expected[0]) + (1 - mu - bi_expected[1])) / 3,
                            (3 - mu - bi_expected[0]) / 2])
    np.testing.assert_allclose(bi, bi_expected, rtol=1e-15)
    np.testing.assert_allclose(bu, bu_expected, rtol=1e-15)


def test_baseline_only_cold_start_says_so(treatments):
    _, t = treatments
    algo = BaselineOnly(verbose=False).fit(t)
    p = algo.predict("P0001", "no such treatment")
    assert p.details["was_impossible"] and "unknown item" in p.details["reason"]
    assert p.est == pytest.approx(t.global_mean + algo.bu[t.to_inner_uid("P0001")])


# ----- SVD ---------------------------------------------------------------------------------------
def test_svd_update_rules_by_hand(make_trainset):
    # one rating, one factor, one epoch: the four updates written out
    t = make_trainset([("u", "a", 4)])
    algo = SVD(n_factors=1, n_epochs=1, lr_all=0.1, reg_all=0.5, random_state=0).fit(t)
    p0, q0 = np.random.RandomState(0).normal(0, 0.1, size=2)
    err = 4 - (4 + 0 + 0 + p0 * q0)
    assert algo.bu[0] == pytest.approx(0.1 * err) and algo.bi[0] == pytest.approx(0.1 * err)
    assert algo.pu[0, 0] == pytest.approx(p0 + 0.1 * (err * q0 - 0.5 * p0))
    assert algo.qi[0, 0] == pytest.approx(q0 + 0.1 * (err * p0 - 0.5 * q0))


def surprise_svd_epoch_in_plain_python(trainset, n_factors, lr, reg, seed):
    """Surprise's SVD.sgd for one epoch, transcribed with Python floats and lists (no NumPy
    arithmetic): the same operations in the same order, so the same rounding."""
    rng = np.random.RandomState(seed)
    pu = rng.normal(0, 0.1, (trainset.n_users, n_factors)).tolist()
    qi = rng.normal(0, 0.1, (trainset.n_items, n_factors)).tolist()
    bu, bi = [0.0] * trainset.n_users, [0.0] * trainset.n_items
    global_mean = trainset.global_mean
    for u, i, r in trainset.all_ratings():
        dot = 0.0
        for f in range(n_factors):
            dot += qi[i][f] * pu[u][f]
        err = r - (global_mean + bu[u] + bi[i] + dot)
        bu[u] += lr * (err - reg * bu[u])
        bi[i] += lr * (err - reg * bi[i])
        for f in range(n_factors):
            puf, qif = pu[u][f], qi[i][f]
            pu[u][f] += lr * (err * qif - reg * puf)
            qi[i][f] += lr * (err * puf - reg * qif)
    return bu, bi, pu, qi


def test_svd_one_epoch_is_surprises_update_rule_exactly(make_trainset, backend):
    # a tiny data set whose ratings arrive out of user order, so the user-by-user sweep matters
    triples = [("w", "c", 2.0), ("u", "a", 1.0), ("v", "b", 4.0), ("u", "b", 2.0), ("v", "a", 2.0),
               ("w", "a", 3.0), ("v", "c", 5.0), ("u", "c", 4.5)]
    t = make_trainset(triples)
    algo = SVD(n_factors=3, n_epochs=1, lr_all=0.05, reg_all=0.1, random_state=4).fit(t)
    bu, bi, pu, qi = surprise_svd_epoch_in_plain_python(t, 3, 0.05, 0.1, seed=4)
    np.testing.assert_array_equal(algo.bu, bu)
    np.testing.assert_array_equal(algo.bi, bi)
    np.testing.assert_array_equal(algo.pu, pu)
    np.testing.assert_array_equal(algo.qi, qi)
    # and the sweep really moved everything away from its start
    start = np.random.RandomState(4).normal(0, 0.1, (3, 3))
    assert not np.any(algo.pu == start) and np.all(algo.bu != 0)


def test_svd_learns_a_noiseless_low_rank_matrix(make_trainset):
    rng = np.random.default_rng(0)
    P, Q = rng.normal(0, 0.8, (40, 2)), rng.normal(0, 0.8, (15, 2))
    R = np.clip(3 + P @ Q.T, 1, 5)
    triples = [(u, i, R[u, i]) for u in range(40) for i in range(15) if rng.random() < 0.7]
    t = make_trainset(triples)
    algo = SVD(n_factors=2, n_epochs=200, lr_all=0.02, reg_all=0.0, random_state=1).fit(t)
    assert accuracy.rmse(algo.test(t), verbose=False) < 0.05


def test_svd_cold_start_and_clipping(treatments):
    _, t = treatments
    algo = SVD(n_factors=5, n_epochs=5, random_state=0).fit(t)
    p = algo.predict("new patient", "T001")
    assert p.details["was_impossible"] and "unknown user" in p.details["reason"]
    assert p.est == pytest.approx(t.global_mean + algo.bi[t.to_inner_iid("T001")])
    assert algo.predict("x", "y").est == pytest.approx(t.global_mean)
    algo.bu[:] = 100.0
    assert algo.predict("P0001", "T001").est == 5 and algo.predict("P0001", "T001", clip=False).est > 100
    unbiased = SVD(n_factors=2, n_epochs=1, biased=False, random_state=0).fit(t)
    q = unbiased.predict("new patient", "T001")
    assert q.details["was_impossible"] and q.est == pytest.approx(t.global_mean)


def test_svd_is_seeded(treatments):
    _, t = treatments
    a = SVD(n_factors=4, n_epochs=2, random_state=3).fit(t)
    b = SVD(n_factors=4, n_epochs=2, random_state=3).fit(t)
    np.testing.assert_array_equal(a.pu, b.pu)
    np.random.seed(11)
    c = SVD(n_factors=4, n_epochs=2).fit(t)
    np.random.seed(11)
    np.testing.assert_array_equal(c.qi, SVD(n_factors=4, n_epochs=2).fit(t).qi)


def test_mean_filled_svd_full_rank_reproduces_ratings_and_low_rank_smooths(treatments):
    _, t = treatments
    full = MeanFilledSVD(n_factors=min(t.n_users, t.n_items)).fit(t)
    preds = full.test(t)
    assert accuracy.rmse(preds, verbose=False) < 1e-10
    low = MeanFilledSVD(n_factors=3).fit(t)
    assert accuracy.rmse(low.test(t), verbose=False) > 0.1
    p = low.predict("nobody", "T002")
    assert p.details["was_impossible"] and p.est == pytest.approx(low.item_means[t.to_inner_iid("T002")])
    with pytest.raises(ValueError, match="fill must be one of"):
        MeanFilledSVD(fill="median")


# ----- cold start across predictors ---------------------------------------------------------------
def _cold_start_predictors(d):
    features = d.item_features()
    features["new drug"] = features["T001"]
    return {
        "BaselineOnly": (BaselineOnly(verbose=False), "baseline"),
        "KNNBasic": (KNNBasic(verbose=False), "global"),
        "KNNWithMeans": (KNNWithMeans(verbose=False), "global"),
        "KNNBaseline": (KNNBaseline(verbose=False), "baseline"),
        "SVD": (SVD(n_factors=4, n_epochs=3, random_state=0), "baseline"),
        "SVD unbiased": (SVD(n_factors=4, n_epochs=3, biased=False, random_state=0), "global"),
        "MeanFilledSVD": (MeanFilledSVD(n_factors=3, fill="global_mean"), "global"),
        "BPMF": (BPMF(n_factors=3, n_samples=4, burn_in=1, random_state=0), "global"),
        "ContentBased": (ContentBased(features), "global"),
    }


@pytest.mark.parametrize("name", ["BaselineOnly", "KNNBasic", "KNNWithMeans", "KNNBaseline", "SVD", "SVD unbiased",
                                  "MeanFilledSVD", "BPMF", "ContentBased"])
def test_cold_start_predicts_a_fallback_and_says_which(treatments, name):
    d, t = treatments
    algo, kind = _cold_start_predictors(d)[name]
    algo.fit(t)
    cases = [("new patient", "T001", "unknown user"), ("P0001", "new drug", "unknown item"),
             ("new patient", "new drug", "unknown user and item")]
    for uid, iid, what in cases:
        if name == "ContentBased" and what == "unknown item":
            continue  # a new item with features is what content filtering is for (tested below)
        p = algo.predict(uid, iid)
        assert p.details["was_impossible"], (name, uid, iid)
        assert what in p.details["reason"] and "predicted" in p.details["reason"], p.details
        expected = t.global_mean
        if kind == "baseline":
            bu, bi = algo.bu, algo.bi
            expected += bu[t.to_inner_uid(uid)] if uid == "P0001" else 0
            expected += bi[t.to_inner_iid(iid)] if iid == "T001" else 0
            assert ("b_u" in p.details["reason"]) == (uid == "P0001")
        else:
            assert "global mean" in p.details["reason"]
        assert p.est == pytest.approx(expected, rel=1e-12)


# ----- content-based and hybrid -------------------------------------------------------------------
def test_content_based_hand_computed_and_new_item(make_trainset, backend):
    t = make_trainset(TRIPLES)
    features = {"a": [1, 0, 1], "b": [1, 0, 0], "c": [0, 1, 1], "new": [1, 0, 1]}
    algo = ContentBased(features, sim="cosine").fit(t)
    # u rated a=1, b=2; sim(c, a) = 1/2, sim(c, b) = 0
    assert algo.predict("u", "c").est == pytest.approx(1.0)
    # a new treatment with the features of a: similar to a (1) and b (1/sqrt 2)
    p = algo.predict("u", "new")
    w = 1 / np.sqrt(2)
    assert p.est == pytest.approx((1 * 1 + w * 2) / (1 + w))
    assert p.details["new_item"] and not p.details["was_impossible"]
    assert algo.predict("u", "unheard of").details["was_impossible"]
    with pytest.raises(ValueError, match="have no feature vector"):
        ContentBased({"a": [1.0]}).fit(t)


def test_content_based_with_baseline_beats_plain_on_treatments(treatments):
    d, _ = treatments
    train, test = train_test_split(d.to_dataset(), test_size=0.25, random_state=0)
    plain = accuracy.rmse(ContentBased(d.item_features()).fit(train).test(test), verbose=False)
    based = accuracy.rmse(ContentBased(d.item_features(), baseline=True).fit(train).test(test), verbose=False)
    assert based < plain


def test_article_hybrid_as_written_collapses(make_trainset):
    ratings = np.array([4.0, 2.0, 5.0])
    for sim in (0.1, 0.7, -2.0):
        w_u, r_uv = article_hybrid(ratings, sim)
        assert w_u == pytest.approx(ratings.mean())
        assert r_uv == pytest.approx(len(ratings) * ratings.mean() ** 2)
    with pytest.raises(ValueError, match="0/0"):
        article_hybrid(ratings, 0.0)
    t = make_trainset(TRIPLES)
    p = ArticleHybrid().fit(t).predict("u", "c", clip=False)
    assert p.est == pytest.approx(2 * 1.5**2) and p.details["w_u"] == pytest.approx(1.5)
    assert ArticleHybrid().fit(t).predict("v", "a").est == 5  # n * mean^2 = 40.3, clipped


def test_weighted_hybrid_blends_and_drops_impossible_components(make_trainset):
    t = make_trainset(TRIPLES)
    knn = KNNBasic(min_k=3, verbose=False)
    base = BaselineOnly(verbose=False)
    hybrid = WeightedHybrid([knn, base], weights=[0.25, 0.75]).fit(t)
    p_knn, p_base = knn.predict("v", "a", clip=False), base.predict("v", "a", clip=False)
    p = hybrid.predict("v", "a")
    if p_knn.details["was_impossible"]:
        assert p.est == pytest.approx(p_base.est)
    else:
        assert p.est == pytest.approx(0.25 * p_knn.est + 0.75 * p_base.est)
    hybrid.set_weights([1, 0])
    q = hybrid.predict("nobody", "nothing")
    assert q.details["was_impossible"] and q.est == pytest.approx(t.global_mean)


def test_weighted_hybrid_falls_back_on_a_component_without_weight(make_trainset):
    t = make_trainset(TRIPLES)
    features = {"a": [1.0, 0.0], "b": [1.0, 1.0], "c": [0.0, 1.0], "new": [0.9, 0.1]}
    svd, content = SVD(n_factors=2, n_epochs=2, random_state=0), ContentBased(features, k=2)
    hybrid = WeightedHybrid([svd, content], weights=[1.0, 0.0]).fit(t)
    p = hybrid.predict("u", "new")  # SVD has never seen the new treatment; content has its features
    assert not p.details["was_impossible"] and "averaged those that could" in p.details["fallback"]
    assert p.est == pytest.approx(content.predict("u", "new").est)
    assert hybrid.predict("u", "c").est == pytest.approx(svd.predict("u", "c").est)  # the weights where both can
    with pytest.raises(ValueError, match="non-negative weights"):
        hybrid.set_weights([1, -1])


def test_weighted_hybrid_asks_its_components_once_per_pair(make_trainset):
    class Counting(BaselineOnly):
        calls = 0

        def predict(self, *args, **kwargs):
            Counting.calls += 1
            return super().predict(*args, **kwargs)

    t = make_trainset(TRIPLES)
    hybrid = WeightedHybrid([Counting(verbose=False), SVD(n_factors=2, n_epochs=2, random_state=0)]).fit(t)
    first = [hybrid.set_weights([a, 1 - a]).predict("u", "c", clip=False).est for a in (0.0, 0.3, 1.0)]
    assert Counting.calls == 1
    base, svd = hybrid.algorithms[0].predict("u", "c", clip=False).est, hybrid.algorithms[1].predict("u", "c").est
    assert first == pytest.approx([svd, 0.3 * base + 0.7 * svd, base])
    hybrid.fit(t)  # a new fit forgets the remembered estimates
    hybrid.predict("u", "c")
    assert Counting.calls == 3


# ----- snippet S5 (article 002 §4.2) ----------------------------------------------------------------
S5 = """
from tinymed.recsys import Dataset, Reader, SVD, accuracy

# 数据预处理
data = Dataset.load_from_df(df[['user_id', 'item_id', 'rating']], Reader(rating_scale=(1, 5)))

# 模型构建
algo = SVD()

# 训练模型
trainset = data.build_full_trainset()
algo.fit(trainset)

# 推荐
predictions = algo.test(trainset)

# 评估
accuracy.rmse(predictions)
"""


def test_snippet_s5_runs_with_only_its_import_changed(capsys):
    d = make_treatment_responses(60, 12, density=0.4, random_state=0)
    users, items, ratings = zip(*d.ratings)
    df = Columns(user_id=list(users), item_id=list(items), rating=list(ratings))
    namespace = {"df": df}
    np.random.seed(0)
    exec(S5, namespace)
    assert capsys.readouterr().out.startswith("RMSE: ")
    assert len(namespace["predictions"]) == len(d.ratings)
    spread = np.std(ratings)  # the RMSE of predicting the mean for everyone
    assert accuracy.rmse(namespace["predictions"], verbose=False) < 0.8 * spread
