"""Similarities: hand-computed values, the article's F14, options and errors (properties and
backend agreement of the similarity kernel: test_kernels)."""

import numpy as np
import pytest

from tinymed.recsys import article_euclidean, feature_similarity
from tinymed.recsys.baselines import fit_baselines
from tinymed.recsys.similarities import rows_for_similarity, similarity_matrix

# u: a=1, b=2      v: a=2, b=4, c=5      w: a=3, b=1      z: c=1 (nothing in common with u)
TRIPLES = [("u", "a", 1), ("u", "b", 2), ("v", "a", 2), ("v", "b", 4), ("v", "c", 5),
           ("w", "a", 3), ("w", "b", 1), ("z", "c", 1)]


@pytest.mark.parametrize("name, uv, uw", [
    ("cosine", 1.0, 5 / np.sqrt(50)),
    ("msd", 1 / 3.5, 1 / 3.5),
    ("pearson", 1.0, -1.0),
    ("article_euclidean", 1 - np.sqrt(5) / 10, 1 - np.sqrt(5) / np.sqrt(50)),
])
def test_hand_computed_user_similarities(make_trainset, backend, name, uv, uw):
    sim = similarity_matrix(make_trainset(TRIPLES), name)
    assert sim[0, 1] == pytest.approx(uv, rel=1e-14) and sim[0, 2] == pytest.approx(uw, rel=1e-14)
    assert sim[0, 3] == 0.0  # no common item
    np.testing.assert_array_equal(np.diag(sim), 1.0)


def test_min_support_zeroes_thin_pairs(make_trainset, backend):
    sim = similarity_matrix(make_trainset(TRIPLES), "cosine", min_support=3)
    assert sim[0, 1] == 0.0 and sim[1, 1] == 1.0
    item_sim = similarity_matrix(make_trainset(TRIPLES), "msd", user_based=False)  # items a, b, c
    # a and b share u (1,2), v (2,4), w (3,1): squared differences 1, 4, 4
    assert item_sim[0, 1] == pytest.approx(1 / (9 / 3 + 1), rel=1e-14)


def test_pearson_baseline_is_shrunk_cosine_of_residuals(make_trainset, backend):
    t = make_trainset(TRIPLES)
    bu, bi = fit_baselines(t)
    res = {(u, i): r - (t.global_mean + bu[u] + bi[i]) for u, i, r in t.all_ratings()}
    ru, rv = np.array([res[0, 0], res[0, 1]]), np.array([res[1, 0], res[1, 1]])
    rho = ru @ rv / np.sqrt((ru @ ru) * (rv @ rv))
    for shrinkage in (0, 100):
        sim = similarity_matrix(t, "pearson_baseline", shrinkage=shrinkage, baselines=(bu, bi))
        assert sim[0, 1] == pytest.approx(rho * 1 / (1 + shrinkage), rel=1e-12)
    # support 1 (v and z share only c) is below pearson_baseline's minimum of 2
    assert similarity_matrix(t, "pearson_baseline", min_support=0, baselines=(bu, bi))[1, 3] == 0.0


# ----- the article's F14 -----------------------------------------------------------------------
def test_article_f14_as_written_and_why_it_is_not_a_similarity():
    assert article_euclidean([1, 2], [2, 4]) == pytest.approx(1 - np.sqrt(5) / 10)
    # it depends on the rating scale: the same two patients, ratings doubled
    assert article_euclidean([2, 4], [4, 8]) != pytest.approx(article_euclidean([1, 2], [2, 4]))
    # it is unbounded below ...
    assert article_euclidean([0.2], [1.0]) == pytest.approx(-3.0)
    # ... and tends to 1 for long rows although every rating differs by 2
    assert article_euclidean(np.full(10_000, 2.0), np.full(10_000, 4.0)) > 0.997
    with pytest.raises(ValueError, match="zero vector"):
        article_euclidean([0, 0], [1, 2])
    with pytest.raises(ValueError, match="two vectors of one length"):
        article_euclidean([1, 2], [1, 2, 3])


def test_feature_similarity_counts_zeros_as_values(backend):
    F = np.array([[1, 0, 1], [1, 0, 0], [0, 1, 0]], dtype=float)
    cos = feature_similarity(F, "cosine")
    assert cos[0, 1] == pytest.approx(1 / np.sqrt(2)) and cos[0, 2] == 0.0 and cos[1, 2] == 0.0
    art = feature_similarity(F, "article_euclidean")
    assert art[0, 1] == pytest.approx(article_euclidean(F[0], F[1]))
    msd = feature_similarity(F, "msd")
    assert msd[0, 1] == pytest.approx(1 / (1 / 3 + 1))
    with pytest.raises(ValueError, match="unknown similarity"):
        feature_similarity(F, "pearson_baseline")
    with pytest.raises(ValueError, match="finite"):
        feature_similarity(np.array([[np.nan, 1.0]]))


def test_bad_similarity_names(make_trainset):
    with pytest.raises(ValueError, match="unknown similarity 'jaccard'"):
        similarity_matrix(make_trainset(TRIPLES), "jaccard")
    with pytest.raises(ValueError, match="needs baselines"):
        similarity_matrix(make_trainset(TRIPLES), "pearson_baseline")


def test_residual_rows_use_the_baselines(make_trainset):
    t = make_trainset(TRIPLES)
    bu, bi = np.arange(4.0), np.arange(3.0) / 10
    values = rows_for_similarity(t, True, baselines=(bu, bi)).data
    ratings = rows_for_similarity(t, True).data
    # row u (inner 0): items a (0), b (1)
    np.testing.assert_allclose(values[:2], ratings[:2] - (t.global_mean + bu[0] + bi[:2]))
