"""BPMF: the Gaussian draw of a row, the Normal-Wishart draw, learning (backend agreement: test_kernels)."""

import numpy as np
import pytest

from tinymed.kernels.reference.recsys import bpmf_sample_rows
from tinymed.recsys import (
    BPMF,
    SVD,
    Dataset,
    Reader,
    accuracy,
    make_treatment_responses,
)
from tinymed.recsys.bpmf import sample_normal_wishart
from tinymed.recsys.model_selection import train_test_split


def test_row_draw_has_the_conditional_mean_and_covariance(rng, bpmf_rows):
    indptr, cols, values, other, precision, mean0 = bpmf_rows(rng)
    alpha = 1.7
    k = other.shape[1]
    out = np.empty((len(indptr) - 1, k))
    bpmf_sample_rows(indptr, cols, values, other, precision, precision @ mean0, alpha, np.zeros_like(out), out)
    noise = rng.normal(0, 1, out.shape)
    drawn = np.empty_like(out)
    bpmf_sample_rows(indptr, cols, values, other, precision, precision @ mean0, alpha, noise, drawn)
    for a in range(len(out)):
        O_a, v = other[cols[indptr[a]:indptr[a + 1]]], values[indptr[a]:indptr[a + 1]]
        Lam = precision + alpha * O_a.T @ O_a        # the posterior precision, written out
        m = np.linalg.solve(Lam, precision @ mean0 + alpha * O_a.T @ v)
        np.testing.assert_allclose(out[a], m, rtol=1e-10, atol=1e-12)  # zero noise: the mean
        # drawn - mean = L^-T z has covariance Lam^-1: (drawn - m)^T Lam (drawn - m) = |z|^2
        d = drawn[a] - m
        assert d @ Lam @ d == pytest.approx(noise[a] @ noise[a], rel=1e-9)


def test_normal_wishart_draws_have_the_posterior_moments():
    # E[Lambda] = nu W*, E[mu] = N x_bar / (beta0 + N) (formulas in tinymed.recsys.bpmf)
    rng = np.random.RandomState(0)
    X = rng.normal([1.0, -2.0], [0.5, 2.0], size=(40, 2))
    n, k, beta0 = 40, 2, 2.0
    x_bar = X.mean(axis=0)
    W = np.linalg.inv(np.eye(k) + (X - x_bar).T @ (X - x_bar) + beta0 * n / (beta0 + n) * np.outer(x_bar, x_bar))
    draws = [sample_normal_wishart(X, beta0, rng) for _ in range(3000)]
    mean_precision = np.mean([p for _, p in draws], axis=0)
    mean_mu = np.mean([m for m, _ in draws], axis=0)
    np.testing.assert_allclose(mean_precision, (k + n) * W, rtol=0.05, atol=0.05 * np.abs(W).max() * (k + n))
    np.testing.assert_allclose(mean_mu, n * x_bar / (beta0 + n), atol=0.03)
    assert all(np.all(np.linalg.eigvalsh(p) > 0) for _, p in draws[:50])


def test_the_prediction_averages_the_kept_draws():
    t = make_treatment_responses(60, 12, density=0.5, random_state=0).to_dataset().build_full_trainset()
    algo = BPMF(n_factors=3, n_samples=5, burn_in=2, random_state=1).fit(t)
    kept = algo.n_samples - algo.burn_in
    assert algo.P_mean.shape == (t.n_users, 3 * kept) and len(algo.alphas) == 5
    # block s holds draw s / sqrt(S): the dot product of the stacks is the mean of the draws'
    blocks_u = algo.P_mean.reshape(t.n_users, kept, 3) * np.sqrt(kept)
    blocks_i = algo.Q_mean.reshape(t.n_items, kept, 3) * np.sqrt(kept)
    per_draw = np.einsum("sk,sk->s", blocks_u[0], blocks_i[1])
    assert algo.estimate(0, 1) == pytest.approx(t.global_mean + per_draw.mean(), rel=1e-12)
    again = BPMF(n_factors=3, n_samples=5, burn_in=2, random_state=1).fit(t)
    np.testing.assert_array_equal(again.P_mean, algo.P_mean)  # seeded


def test_bpmf_learns_low_rank_responses_better_than_sgd():
    truth = make_treatment_responses(300, 40, density=0.3, noise_std=0.3, random_state=4)
    train, test = train_test_split(truth.to_dataset(), test_size=0.2, random_state=0)
    bpmf = accuracy.rmse(BPMF(n_factors=5, n_samples=60, burn_in=10, random_state=0).fit(train).test(test),
                         verbose=False)
    sgd = accuracy.rmse(SVD(n_factors=5, n_epochs=40, lr_all=0.01, reg_all=0.05, random_state=0).fit(train)
                        .test(test), verbose=False)
    assert truth.oracle_rmse(test) - 0.02 < bpmf < sgd


def test_fixed_alpha_and_bad_arguments():
    t = Dataset.load_from_triples([("a", "x", 4), ("b", "x", 2), ("a", "y", 5)], Reader()).build_full_trainset()
    algo = BPMF(n_factors=2, n_samples=3, burn_in=1, alpha=2.0, random_state=0).fit(t)
    assert algo.alphas == [2.0, 2.0, 2.0]
    for kwargs, message in (({"n_factors": 0}, "n_factors must be an integer >= 1"),
                            ({"n_samples": 5, "burn_in": 5}, "burn_in .5. must be less than n_samples .5."),
                            ({"alpha": -1}, r"alpha \(None: sampled\) must be > 0"),
                            ({"alpha": float("nan")}, r"alpha \(None: sampled\) must be a finite number"),
                            ({"beta0": 0}, "beta0 must be > 0"),
                            ({"beta0": float("inf")}, "beta0 must be a finite number")):
        with pytest.raises(ValueError, match=message):
            BPMF(**kwargs)
