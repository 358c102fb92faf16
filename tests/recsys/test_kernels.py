"""The recommender kernels (tinymed.kernels.{reference,numba}.recsys): every numba kernel against
its reference twin on hypothesis-drawn inputs, whole fits on both backends, and the properties of
the similarity kernel on every backend."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinymed
from tests.helpers import assert_agree
from tests.strategies import seeds
from tinymed.backend import kernel
from tinymed.recsys import BPMF, SVD, make_treatment_responses
from tinymed.recsys.baselines import fit_baselines
from tinymed.recsys.similarities import SIMILARITIES, pairwise_similarity
from tinymed.sparse import indptr_from_rows

KERNELS = ("row_similarities", "baseline_sgd_epochs", "svd_sgd_epochs", "bpmf_sample_rows")
needs_numba = pytest.mark.skipif("numba" not in tinymed.available(), reason="numba is not installed")


@needs_numba
def test_numba_overrides_every_recsys_kernel():
    for name in KERNELS:
        assert kernel(name, "numba") is not kernel(name, "numpy"), name


# ----- similarities ------------------------------------------------------------------------------
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
    return indptr_from_rows(rows, n_x), cols, values[rows, cols], n_y


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
    elif name != "article_euclidean":  # F14 has no lower bound (see test_similarities)
        assert (sim >= -1 - 1e-12).all() and (sim <= 1 + 1e-12).all()
    else:
        assert (sim <= 1).all()


@needs_numba
@pytest.mark.parametrize("name", SIMILARITIES)
@given(data=sparse_rows(), min_support=st.integers(0, 3))
def test_numba_agrees_with_reference_on_grid_ratings(name, data, min_support):
    indptr, indices, values, n_y = data
    expected = kernel("row_similarities", "numpy")(name, indptr, indices, values, n_y, min_support, 5.0)
    actual = kernel("row_similarities", "numba")(name, indptr, indices, values, n_y, min_support, 5.0)
    assert_agree(actual, expected)


@needs_numba
@pytest.mark.parametrize("name", SIMILARITIES)
@given(data=sparse_rows(grid=False))
def test_numba_agrees_with_reference_on_real_ratings(name, data):
    # The reference's matrix products add in another order, and Pearson's n*S_uu - S_u^2 and
    # the reference's S_uu + S_vv - 2 S_uv cancel digits: agreement to 1e-9, not 1e-12.
    indptr, indices, values, n_y = data
    expected = kernel("row_similarities", "numpy")(name, indptr, indices, values, n_y)
    actual = kernel("row_similarities", "numba")(name, indptr, indices, values, n_y)
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-9)


@needs_numba
@pytest.mark.parametrize("n_x", [1, 64, 65, 203])
def test_numba_agrees_with_reference_across_tiles_and_tasks(n_x):
    # more rows than one 64-row tile of the mirrored triangle, and than parallel tasks
    rng = np.random.default_rng(n_x)
    rows, cols = np.nonzero(rng.random((n_x, 30)) < 0.3)
    values = rng.integers(2, 11, size=len(rows)) / 2
    indptr = indptr_from_rows(rows, n_x)
    for name in SIMILARITIES:
        expected = kernel("row_similarities", "numpy")(name, indptr, cols, values, 30, 2, 5.0)
        actual = kernel("row_similarities", "numba")(name, indptr, cols, values, 30, 2, 5.0)
        assert_agree(actual, expected)


# ----- the SGD sweeps ----------------------------------------------------------------------------
@st.composite
def rating_sweeps(draw):
    """``(users, items, ratings, n_users, n_items)``: a few ratings in any order, repeats allowed."""
    n_users, n_items, n = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 20))
    users = np.array(draw(st.lists(st.integers(0, n_users - 1), min_size=n, max_size=n)), dtype=np.int64)
    items = np.array(draw(st.lists(st.integers(0, n_items - 1), min_size=n, max_size=n)), dtype=np.int64)
    ratings = np.array(draw(st.lists(st.floats(1, 5), min_size=n, max_size=n)))
    return users, items, ratings, n_users, n_items


rates = st.floats(1e-3, 0.1)
regularisations = st.floats(0.0, 0.5)


@needs_numba
@given(data=rating_sweeps(), n_epochs=st.integers(0, 3), lr=rates, reg=regularisations)
def test_baseline_sgd_epochs_numba_agrees_with_reference(data, n_epochs, lr, reg):
    users, items, ratings, n_users, n_items = data
    biases = {}
    for name in ("numpy", "numba"):
        bu, bi = np.zeros(n_users), np.zeros(n_items)
        kernel("baseline_sgd_epochs", name)(users, items, ratings, ratings.mean(), bu, bi, n_epochs, lr, reg)
        biases[name] = bu, bi
    for actual, expected in zip(biases["numba"], biases["numpy"]):
        assert_agree(actual, expected)


@needs_numba
@given(data=rating_sweeps(), k=st.integers(0, 4), n_epochs=st.integers(0, 3), biased=st.booleans(),
       lrs=st.lists(rates, min_size=4, max_size=4), regs=st.lists(regularisations, min_size=4, max_size=4),
       seed=seeds)
def test_svd_sgd_epochs_numba_agrees_with_reference(data, k, n_epochs, biased, lrs, regs, seed):
    users, items, ratings, n_users, n_items = data
    rng = np.random.default_rng(seed)
    pu0, qi0 = rng.normal(0, 0.1, (n_users, k)), rng.normal(0, 0.1, (n_items, k))
    mu = ratings.mean() if biased else 0.0
    factors = {}
    for name in ("numpy", "numba"):
        bu, bi, pu, qi = np.zeros(n_users), np.zeros(n_items), pu0.copy(), qi0.copy()
        kernel("svd_sgd_epochs", name)(users, items, ratings, mu, bu, bi, pu, qi, n_epochs, biased, *lrs, *regs)
        factors[name] = bu, bi, pu, qi
    for actual, expected in zip(factors["numba"], factors["numpy"]):
        assert_agree(actual, expected)


def test_svd_reference_loop_with_zero_factors():
    bu, bi = np.zeros(1), np.zeros(1)
    pu, qi = np.zeros((1, 0)), np.zeros((1, 0))
    kernel("svd_sgd_epochs", "numpy")(np.array([0]), np.array([0]), np.array([3.0]), 2.0, bu, bi, pu, qi, 1, True,
                                      0.5, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0)
    assert bu[0] == 0.5 and bi[0] == 0.5


# ----- BPMF's row draws --------------------------------------------------------------------------
@needs_numba
@given(seed=seeds, n_rows=st.integers(1, 12), n_other=st.integers(1, 8), k=st.integers(1, 7),
       density=st.floats(0.0, 1.0), alpha=st.floats(0.1, 3.0))
def test_bpmf_sample_rows_numba_agrees_with_reference(bpmf_rows, seed, n_rows, n_other, k, density, alpha):
    rng = np.random.default_rng(seed)
    indptr, cols, values, other, precision, mean0 = bpmf_rows(rng, n_rows, n_other, k, density)
    noise = rng.normal(0, 1, (n_rows, k))
    drawn = {}
    for name in ("numpy", "numba"):
        drawn[name] = np.empty((n_rows, k))
        kernel("bpmf_sample_rows", name)(indptr, cols, values, other, precision, precision @ mean0, alpha, noise,
                                         drawn[name])
    assert_agree(drawn["numba"], drawn["numpy"])


# ----- whole fits on both backends ---------------------------------------------------------------
@needs_numba
def test_sgd_baselines_numba_agree_with_reference(treatments):
    _, t = treatments
    options = {"method": "sgd", "n_epochs": 7, "learning_rate": 0.01}
    with tinymed.using("numpy"):
        expected = fit_baselines(t, options)
    with tinymed.using("numba"):
        actual = fit_baselines(t, options)
    assert_agree(actual[0], expected[0])
    assert_agree(actual[1], expected[1])


@needs_numba
@pytest.mark.parametrize("biased", [True, False])
def test_svd_numba_agrees_with_reference_loop(treatments, biased):
    _, t = treatments
    fitted = {}
    for name in ("numpy", "numba"):
        with tinymed.using(name):
            fitted[name] = SVD(n_factors=8, n_epochs=3, biased=biased, random_state=7).fit(t)
    for attr in ("pu", "qi", "bu", "bi"):
        assert_agree(getattr(fitted["numba"], attr), getattr(fitted["numpy"], attr))


@needs_numba
def test_bpmf_fit_on_numba_and_numpy_agree():
    t = make_treatment_responses(80, 15, density=0.4, random_state=2).to_dataset().build_full_trainset()
    fits = {}
    for name in ("numpy", "numba"):
        with tinymed.using(name):
            fits[name] = BPMF(n_factors=4, n_samples=6, burn_in=2, random_state=3).fit(t)
    np.testing.assert_allclose(fits["numba"].P_mean, fits["numpy"].P_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fits["numba"].alphas, fits["numpy"].alphas, rtol=1e-10)
