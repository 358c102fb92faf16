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

KERNELS = ("row_similarities", "baseline_sgd_epochs", "svd_sgd_epochs", "bpmf_sample_rows", "svdpp_sgd_epochs",
           "nmf_epochs", "slope_one_deviations", "co_cluster_averages", "co_clustering_epochs",
           "als_least_squares_rows", "als_conjugate_gradient_rows", "bpr_sgd_epoch")
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


# ----- SVD++, NMF, Slope One, co-clustering --------------------------------------------------------
@st.composite
def user_rows(draw, integer=False):
    """``(indptr, items, ratings, n_items)``: each user's ratings in any order (CSR by user)."""
    n_users, n_items = draw(st.integers(1, 6)), draw(st.integers(1, 6))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n_users * n_items, max_size=n_users * n_items)))
    rows, cols = np.nonzero(mask.reshape(n_users, n_items))
    order = np.array(draw(st.permutations(range(len(rows))))) if len(rows) else np.zeros(0, np.int64)
    order = order[np.argsort(rows[order], kind="stable")] if len(rows) else order  # grouped by user, any item order
    values = draw(st.lists(st.integers(1, 5) if integer else st.floats(1, 5), min_size=len(rows), max_size=len(rows)))
    return indptr_from_rows(rows, n_users), cols[order], np.array(values, dtype=np.float64), n_items


def run_on_both(name, *args):
    """``{backend: (result, args after the call)}``: kernel ``name`` on copies of ``args``."""
    out = {}
    for b in ("numpy", "numba"):
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        out[b] = (kernel(name, b)(*copies), copies)
    return out


@needs_numba
@given(data=user_rows(), k=st.integers(0, 3), n_epochs=st.integers(0, 2), seed=seeds,
       lrs=st.lists(rates, min_size=5, max_size=5), regs=st.lists(regularisations, min_size=5, max_size=5))
def test_svdpp_sgd_epochs_numba_agrees_with_reference(data, k, n_epochs, seed, lrs, regs):
    indptr, items, ratings, n_items = data
    rng = np.random.default_rng(seed)
    n_users = len(indptr) - 1
    out = run_on_both("svdpp_sgd_epochs", indptr, items, ratings, 3.0, np.zeros(n_users), np.zeros(n_items),
                      rng.normal(0, .1, (n_users, k)), rng.normal(0, .1, (n_items, k)), rng.normal(0, .1, (n_items, k)),
                      n_epochs, *lrs, *regs)
    for actual, expected in zip(out["numba"][1][4:9], out["numpy"][1][4:9]):
        assert_agree(actual, expected)


@needs_numba
@given(data=user_rows(), k=st.integers(1, 3), n_epochs=st.integers(0, 3), biased=st.booleans(), seed=seeds)
def test_nmf_epochs_numba_agrees_with_reference(data, k, n_epochs, biased, seed):
    indptr, items, ratings, n_items = data
    rng = np.random.default_rng(seed)
    n_users = len(indptr) - 1
    pu, qi = rng.uniform(0, 1, (n_users, k)), rng.uniform(0, 1, (n_items, k))
    pu[rng.random(pu.shape) < 0.2] = 0.0  # a factor at 0 stays 0
    out = run_on_both("nmf_epochs", indptr, items, ratings, 3.0 if biased else 0.0, np.zeros(n_users),
                      np.zeros(n_items), pu, qi, n_epochs, biased, 0.01, 0.02, 0.06, 0.05, 0.02, 0.03)
    for actual, expected in zip(out["numba"][1][4:8], out["numpy"][1][4:8]):
        assert_agree(actual, expected)
    assert (out["numba"][1][6][pu == 0] == 0).all()


@needs_numba
@given(data=user_rows())
def test_slope_one_deviations_numba_agrees_with_reference(data):
    indptr, items, ratings, n_items = data
    out = run_on_both("slope_one_deviations", indptr, items, ratings, n_items)
    np.testing.assert_array_equal(out["numba"][0][0], out["numpy"][0][0])
    assert_agree(out["numba"][0][1], out["numpy"][0][1])
    dev = out["numba"][0][1]
    np.testing.assert_array_equal(dev, -dev.T)


def test_slope_one_deviations_hand_computed(backend):
    # u0 rates a=5, b=3; u1 rates a=4, b=2, c=1; u2 rates c=3
    indptr, items, ratings = np.array([0, 2, 5, 6]), np.array([0, 1, 0, 1, 2, 2]), np.array([5., 3, 4, 2, 1, 3])
    freq, dev = kernel("slope_one_deviations")(indptr, items, ratings, 3)
    np.testing.assert_array_equal(freq, [[2, 2, 1], [2, 2, 1], [1, 1, 2]])
    np.testing.assert_allclose(dev, [[0, 2, 3], [-2, 0, 1], [-3, -1, 0]], rtol=0, atol=1e-15)


@needs_numba
@given(data=user_rows(integer=True), n_cltr=st.tuples(st.integers(1, 3), st.integers(1, 3)), seed=seeds,
       n_epochs=st.integers(0, 3))
def test_co_clustering_numba_agrees_with_reference(data, n_cltr, seed, n_epochs):
    indptr, items, ratings, n_items = data
    n_users, rng = len(indptr) - 1, np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), np.diff(indptr))
    order = np.argsort(items, kind="stable")
    item_rows = (indptr_from_rows(items[order], n_items), users[order], ratings[order])
    user_mean = np.array([ratings[indptr[u]:indptr[u + 1]].mean() if indptr[u + 1] > indptr[u] else 3.0
                          for u in range(n_users)])
    item_mean = np.bincount(items, ratings, n_items) / np.maximum(np.bincount(items, minlength=n_items), 1)
    cltr_u, cltr_i = rng.integers(0, n_cltr[0], n_users), rng.integers(0, n_cltr[1], n_items)
    out = run_on_both("co_clustering_epochs", (indptr, items, ratings), item_rows, user_mean, item_mean, cltr_u,
                      cltr_i, *n_cltr, n_epochs, 3.0)
    np.testing.assert_array_equal(out["numba"][1][4], out["numpy"][1][4])
    np.testing.assert_array_equal(out["numba"][1][5], out["numpy"][1][5])
    averages = run_on_both("co_cluster_averages", users, items, ratings, out["numba"][1][4], out["numba"][1][5],
                           *n_cltr, 3.0)
    for actual, expected in zip(averages["numba"][0], averages["numpy"][0]):
        assert_agree(actual, expected)


# ----- implicit feedback: ALS row solves and BPR ---------------------------------------------------
@st.composite
def implicit_rows(draw):
    """``(indptr, indices, confidence, X, Y)``: rows with ascending columns, random factors."""
    n_rows, n_cols, k = draw(st.integers(1, 6)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(seeds))
    rows, cols = np.nonzero(rng.random((n_rows, n_cols)) < draw(st.floats(0, 1)))
    confidence = 1 + rng.integers(1, 5, len(rows)) * draw(st.floats(0, 10))
    return indptr_from_rows(rows, n_rows), cols, confidence, rng.random((n_rows, k)), rng.random((n_cols, k))


@needs_numba
@given(data=implicit_rows(), reg=st.floats(0.01, 1), cg_steps=st.integers(1, 4), dtype=st.sampled_from(["f8", "f4"]))
def test_als_row_solves_numba_agree_with_reference(data, reg, cg_steps, dtype):
    indptr, cols, confidence, X, Y = data
    X, Y = X.astype(dtype), Y.astype(dtype)
    gram = Y.astype(np.float64).T @ Y + reg * np.eye(Y.shape[1])
    exact = run_on_both("als_least_squares_rows", indptr, cols, confidence, X, Y, gram)
    cg = run_on_both("als_conjugate_gradient_rows", indptr, cols, confidence, X, Y, gram, cg_steps)
    for out in (exact, cg):
        np.testing.assert_allclose(out["numba"][1][3], out["numpy"][1][3], rtol=1e-9 if dtype == "f8" else 1e-5,
                                   atol=1e-9 if dtype == "f8" else 1e-5)


def test_als_conjugate_gradient_reaches_the_exact_solve(backend):
    rng = np.random.default_rng(0)
    rows, cols = np.nonzero(rng.random((20, 15)) < 0.4)
    indptr, confidence = indptr_from_rows(rows, 20), 1 + 4 * rng.random(len(rows))
    Y, gram = rng.random((15, 5)), None
    gram = Y.T @ Y + 0.1 * np.eye(5)
    exact, approx = np.zeros((20, 5)), np.zeros((20, 5))
    kernel("als_least_squares_rows")(indptr, cols, confidence, exact, Y, gram)
    kernel("als_conjugate_gradient_rows")(indptr, cols, confidence, approx, Y, gram, 5)  # k steps: exact in theory
    np.testing.assert_allclose(approx, exact, rtol=1e-8, atol=1e-10)
    for u in range(20):  # the normal equations of the weighted least squares, row by row
        c = np.ones(15)
        c[cols[indptr[u]:indptr[u + 1]]] = confidence[indptr[u]:indptr[u + 1]]
        p = (c > 1).astype(float)
        np.testing.assert_allclose(Y.T @ (c[:, None] * Y) @ exact[u] + 0.1 * exact[u], Y.T @ (c * p), rtol=1e-10,
                                   atol=1e-12)


@needs_numba
@given(data=implicit_rows(), verify=st.booleans(), dtype=st.sampled_from(["f8", "f4"]), seed=seeds)
def test_bpr_epoch_numba_agrees_with_reference(data, verify, dtype, seed):
    indptr, items, _, X, Y = data
    if len(items) == 0:
        return
    users = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    X, Y = np.c_[X - 0.5, np.ones(len(X))].astype(dtype), (Y - 0.5).astype(dtype)
    Y = np.c_[Y, np.zeros(len(Y))].astype(dtype)
    samples = np.random.default_rng(seed).integers(0, len(items), (3 * len(items), 2))
    out = run_on_both("bpr_sgd_epoch", users, items, indptr, X, Y, samples, 0.05, 0.01, verify)
    assert out["numba"][0] == out["numpy"][0]
    for position in (3, 4):
        np.testing.assert_allclose(out["numba"][1][position], out["numpy"][1][position], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out["numba"][1][3][:, -1], 1.0)
