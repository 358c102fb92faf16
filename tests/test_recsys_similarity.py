"""Similarities: hand-computed values, the article's F14, properties, numba vs reference."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tinymed.recsys import Dataset, Reader, article_euclidean, feature_similarity
from tinymed.recsys.baseline import fit_baselines
from tinymed.recsys.similarities import (
    SIMILARITIES,
    pairwise_similarity,
    pairwise_similarity_reference,
    rows_for_similarity,
    similarity_matrix,
)

from .conftest import BACKENDS, assert_agree

# u: a=1, b=2      v: a=2, b=4, c=5      w: a=3, b=1      z: c=1 (nothing in common with u)
TRIPLES = [("u", "a", 1), ("u", "b", 2), ("v", "a", 2), ("v", "b", 4), ("v", "c", 5),
           ("w", "a", 3), ("w", "b", 1), ("z", "c", 1)]


def trainset():
    return Dataset.load_from_triples(TRIPLES, Reader(rating_scale=(1, 5))).build_full_trainset()


@pytest.mark.parametrize("name, uv, uw", [
    ("cosine", 1.0, 5 / np.sqrt(50)),
    ("msd", 1 / 3.5, 1 / 3.5),
    ("pearson", 1.0, -1.0),
    ("article_euclidean", 1 - np.sqrt(5) / 10, 1 - np.sqrt(5) / np.sqrt(50)),
])
def test_hand_computed_user_similarities(backend, name, uv, uw):
    sim = similarity_matrix(trainset(), name)
    assert sim[0, 1] == pytest.approx(uv, rel=1e-14) and sim[0, 2] == pytest.approx(uw, rel=1e-14)
    assert sim[0, 3] == 0.0  # no common item
    np.testing.assert_array_equal(np.diag(sim), 1.0)


def test_min_support_zeroes_thin_pairs(backend):
    sim = similarity_matrix(trainset(), "cosine", min_support=3)
    assert sim[0, 1] == 0.0 and sim[1, 1] == 1.0
    item_sim = similarity_matrix(trainset(), "msd", user_based=False)  # items a, b, c
    # a and b share u (1,2), v (2,4), w (3,1): squared differences 1, 4, 4
    assert item_sim[0, 1] == pytest.approx(1 / (9 / 3 + 1), rel=1e-14)


def test_pearson_baseline_is_shrunk_cosine_of_residuals(backend):
    t = trainset()
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


def test_bad_similarity_names():
    with pytest.raises(ValueError, match="unknown similarity 'jaccard'"):
        similarity_matrix(trainset(), "jaccard")
    with pytest.raises(ValueError, match="needs baselines"):
        similarity_matrix(trainset(), "pearson_baseline")


# ----- properties and agreement ----------------------------------------------------------------
@st.composite
def sparse_rows(draw, grid=True):
    """CSR rows of a random rating matrix (each row sorted by column)."""
    n_x = draw(st.integers(2, 7))
    n_y = draw(st.integers(1, 7))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n_x * n_y, max_size=n_x * n_y))).reshape(n_x, n_y)
    if grid:  # ratings on a half-star grid: every sum is exact in float64
        values = np.array(draw(st.lists(st.integers(2, 10), min_size=n_x * n_y, max_size=n_x * n_y))) / 2
    else:
        values = np.array(draw(st.lists(st.floats(1, 5), min_size=n_x * n_y, max_size=n_x * n_y)))
    values = values.reshape(n_x, n_y)
    rows, cols = np.nonzero(mask)
    indptr = np.concatenate(([0], np.cumsum(mask.sum(axis=1))))
    return indptr, cols, values[rows, cols], n_y


@pytest.mark.parametrize("name", SIMILARITIES)
@given(data=sparse_rows(), min_support=st.integers(0, 3))
def test_similarities_are_symmetric_with_unit_diagonal_and_in_range(backend, name, data, min_support):
    indptr, indices, values, n_y = data
    sim = pairwise_similarity(name, indptr, indices, values, n_y, min_support, shrinkage=10)
    np.testing.assert_array_equal(sim, sim.T)
    np.testing.assert_array_equal(np.diag(sim), 1.0)
    assert np.isfinite(sim).all()
    if name == "msd":
        assert (sim >= 0).all() and (sim <= 1).all()
    elif name != "article_euclidean":  # F14 has no lower bound (see the test above)
        assert (sim >= -1 - 1e-12).all() and (sim <= 1 + 1e-12).all()
    else:
        assert (sim <= 1).all()


@pytest.mark.skipif("numba" not in BACKENDS, reason="numba is not installed")
@pytest.mark.parametrize("name", SIMILARITIES)
@given(data=sparse_rows(), min_support=st.integers(0, 3))
def test_numba_agrees_with_reference_on_grid_ratings(name, data, min_support):
    indptr, indices, values, n_y = data
    expected = pairwise_similarity_reference(name, indptr, indices, values, n_y, min_support, 5.0)
    with tinymed.using("numba"):
        actual = pairwise_similarity(name, indptr, indices, values, n_y, min_support, 5.0)
    assert_agree(actual, expected)


@pytest.mark.skipif("numba" not in BACKENDS, reason="numba is not installed")
@pytest.mark.parametrize("name", SIMILARITIES)
@given(data=sparse_rows(grid=False))
def test_numba_agrees_with_reference_on_real_ratings(name, data):
    # The reference's matrix products add in another order, and Pearson's n*S_uu - S_u^2 and
    # the reference's S_uu + S_vv - 2 S_uv cancel digits: agreement to 1e-9, not 1e-12.
    indptr, indices, values, n_y = data
    expected = pairwise_similarity_reference(name, indptr, indices, values, n_y)
    with tinymed.using("numba"):
        actual = pairwise_similarity(name, indptr, indices, values, n_y)
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9)


@pytest.mark.skipif("numba" not in BACKENDS, reason="numba is not installed")
@pytest.mark.parametrize("n_x", [1, 64, 65, 203])
def test_numba_agrees_with_reference_across_tiles_and_tasks(n_x):
    # more rows than one 64-row tile of the mirrored triangle, and than parallel tasks
    rng = np.random.default_rng(n_x)
    mask = rng.random((n_x, 30)) < 0.3
    rows, cols = np.nonzero(mask)
    values = rng.integers(2, 11, size=len(rows)) / 2
    indptr = np.concatenate(([0], np.cumsum(mask.sum(axis=1))))
    for name in SIMILARITIES:
        expected = pairwise_similarity_reference(name, indptr, cols, values, 30, 2, 5.0)
        with tinymed.using("numba"):
            actual = pairwise_similarity(name, indptr, cols, values, 30, 2, 5.0)
        assert_agree(actual, expected)


def test_residual_rows_use_the_baselines():
    t = trainset()
    bu, bi = np.arange(4.0), np.arange(3.0) / 10
    _, _, values = rows_for_similarity(t, True, baselines=(bu, bi))
    _, _, ratings = rows_for_similarity(t, True)
    # row u (inner 0): items a (0), b (1)
    np.testing.assert_allclose(values[:2], ratings[:2] - (t.global_mean + bu[0] + bi[:2]))
