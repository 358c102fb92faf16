"""Wrong solutions a student might write for the training and recommender exercises (momentum, Adam,
F14 and k-NN, an SVD epoch, PageRank): each loses marks and is told which mistake it made."""

import numpy as np
import pytest


# ----- sgd_momentum ------------------------------------------------------------------------------------
def momentum_pulls_back(theta, previous, grad, lr, momentum):
    return theta - lr * grad - momentum * (theta - previous)


def momentum_scaled_by_lr(theta, previous, grad, lr, momentum):
    return theta - lr * (grad - momentum * (theta - previous))


def momentum_climbs(theta, previous, grad, lr, momentum):
    return theta + lr * grad + momentum * (theta - previous)


def momentum_forgotten(theta, previous, grad, lr, momentum):
    return theta - lr * grad


# ----- adam ----------------------------------------------------------------------------------------------
def _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, correct=True, eps_in_root=False, absolute=False, t0=0,
          swapped=False):
    a1, a2 = (1 - beta1, 1 - beta2) if swapped else (beta1, beta2)
    m = a1 * m + (1 - a1) * grad
    v = a2 * v + (1 - a2) * (np.abs(grad) if absolute else grad ** 2)
    m_hat = m / (1 - beta1 ** (t + t0)) if correct else m
    v_hat = v / (1 - beta2 ** (t + t0)) if correct else v
    step = m_hat / (np.sqrt(v_hat + eps) if eps_in_root else np.sqrt(v_hat) + eps)
    return theta - lr * step, m, v


def adam_without_bias_correction(theta, grad, m, v, t, lr, beta1, beta2, eps):
    return _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, correct=False)


def adam_eps_in_the_root(theta, grad, m, v, t, lr, beta1, beta2, eps):
    return _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, eps_in_root=True)


def adam_absolute_gradient(theta, grad, m, v, t, lr, beta1, beta2, eps):
    return _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, absolute=True)


def adam_counts_steps_from_zero(theta, grad, m, v, t, lr, beta1, beta2, eps):
    return _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, t0=1)


def adam_betas_swapped(theta, grad, m, v, t, lr, beta1, beta2, eps):
    return _adam(theta, grad, m, v, t, lr, beta1, beta2, eps, swapped=True)


# ----- similarity_knn ------------------------------------------------------------------------------------
def _f14(R, over="both", squared=False, norms="both"):
    n = len(R)
    rated = ~np.isnan(R)
    X = np.where(rated, R, 0.0)
    sim = np.eye(n)
    for a in range(n):
        for b in range(n):
            if a == b:
                continue
            common = rated[a] & rated[b] if over == "both" else np.ones(R.shape[1], bool)
            d2 = ((X[a] - X[b])[common] ** 2).sum()
            na = (X[a][common] ** 2).sum() if norms == "both" else (X[a] ** 2).sum()
            nb = (X[b][common] ** 2).sum() if norms == "both" else (X[b] ** 2).sum()
            if common.any() and na * nb > 0:
                sim[a, b] = 1 - (d2 if squared else np.sqrt(d2)) / np.sqrt(na * nb)
    return sim


def similarity_with_zeros_for_missing(R):
    return _f14(R, over="all")


def similarity_squared_distance(R):
    return _f14(R, squared=True)


def similarity_norms_over_everything(R):
    return _f14(R, norms="all")


def _knn(R, sim, u, i, k, weighted=True, use_k=True, positive_only=True):
    mean = np.nanmean(R)
    if np.isnan(R[u]).all():
        return mean
    candidates = [v for v in range(len(R)) if v != u and not np.isnan(R[v, i]) and (sim[u, v] > 0 or not positive_only)]
    candidates.sort(key=lambda v: -sim[u, v])
    chosen = candidates[:k] if use_k else candidates
    if not chosen:
        return mean
    w = sim[u, chosen] if weighted else np.ones(len(chosen))
    return float(np.dot(w, R[chosen, i]) / w.sum())


def knn_plain_mean(R, sim, u, i, k):
    return _knn(R, sim, u, i, k, weighted=False)


def knn_every_neighbour(R, sim, u, i, k):
    return _knn(R, sim, u, i, k, use_k=False)


def knn_negative_neighbours_too(R, sim, u, i, k):
    return _knn(R, sim, u, i, k, positive_only=False)


# ----- svd_epoch ------------------------------------------------------------------------------------------
def _svd(users, items, ratings, mu, bu, bi, pu, qi, lr, reg, fresh_p=False, flip_error=False, flip_reg=False,
         batch=False, biases=True):
    bu, bi, pu, qi = bu.copy(), bi.copy(), pu.copy(), qi.copy()
    old = bu.copy(), bi.copy(), pu.copy(), qi.copy()
    for u, i, r in zip(users, items, ratings):
        b_u, b_i, p, q = (old[0][u], old[1][i], old[2][u].copy(), old[3][i].copy()) if batch else \
            (bu[u], bi[i], pu[u].copy(), qi[i].copy())
        e = r - (mu + b_u + b_i + q @ p)
        e = -e if flip_error else e
        lam = -reg if flip_reg else reg
        if biases:
            bu[u] += lr * (e - lam * b_u)
            bi[i] += lr * (e - lam * b_i)
        pu[u] += lr * (e * q - lam * p)
        qi[i] += lr * (e * (pu[u] if fresh_p else p) - lam * q)
    return bu, bi, pu, qi


def svd_q_with_the_new_p(*args):
    return _svd(*args, fresh_p=True)


def svd_error_upside_down(*args):
    return _svd(*args, flip_error=True)


def svd_regularisation_upside_down(*args):
    return _svd(*args, flip_reg=True)


def svd_full_batch(*args):
    return _svd(*args, batch=True)


def svd_biases_frozen(*args):
    return _svd(*args, biases=False)


# ----- pagerank ---------------------------------------------------------------------------------------------
def _pagerank(A, alpha, tol, max_iter, dangling=True, rows=True, jump=True, once=False, swap=False):
    n = len(A)
    out = A.sum(axis=1) if rows else A.sum(axis=0)
    P = np.zeros_like(A)
    for j in range(n):
        if out[j] > 0:
            if rows:
                P[j] = A[j] / out[j]
            else:
                P[:, j] = A[:, j] / out[j]
    a = 1 - alpha if swap else alpha
    x = np.ones(n) / n
    for _ in range(1 if once else max_iter):
        spread = x[A.sum(axis=1) == 0].sum() / n if dangling else 0.0
        new = a * (x @ P + spread) + ((1 - a) / n if jump else 0.0)
        if np.abs(new - x).sum() < n * tol:
            return new
        x = new
    return x


def pagerank_loses_dangling_mass(A, alpha, tol, max_iter):
    return _pagerank(A, alpha, tol, max_iter, dangling=False)


def pagerank_by_columns(A, alpha, tol, max_iter):
    return _pagerank(A, alpha, tol, max_iter, rows=False, dangling=False)


def pagerank_without_jumps(A, alpha, tol, max_iter):
    return _pagerank(A, alpha, tol, max_iter, jump=False)


def pagerank_one_step(A, alpha, tol, max_iter):
    return _pagerank(A, alpha, tol, max_iter, once=True)


def pagerank_alpha_swapped(A, alpha, tol, max_iter):
    return _pagerank(A, alpha, tol, max_iter, swap=True)


MUTANTS = [
    ("sgd_momentum", "sgd_momentum_step", momentum_pulls_back, "momentum_sign"),
    ("sgd_momentum", "sgd_momentum_step", momentum_scaled_by_lr, "lr_on_momentum"),
    ("sgd_momentum", "sgd_momentum_step", momentum_climbs, "gradient_ascent"),
    ("sgd_momentum", "sgd_momentum_step", momentum_forgotten, "momentum_missing"),
    ("adam", "adam_step", adam_without_bias_correction, "no_bias_correction"),
    ("adam", "adam_step", adam_eps_in_the_root, "eps_inside_sqrt"),
    ("adam", "adam_step", adam_absolute_gradient, "abs_not_square"),
    ("adam", "adam_step", adam_counts_steps_from_zero, "step_off_by_one"),
    ("adam", "adam_step", adam_betas_swapped, "betas_swapped"),
    ("similarity_knn", "article_similarity", similarity_with_zeros_for_missing, "missing_counted_as_zero"),
    ("similarity_knn", "article_similarity", similarity_squared_distance, "distance_not_square_rooted"),
    ("similarity_knn", "article_similarity", similarity_norms_over_everything, "norms_over_all_ratings"),
    ("similarity_knn", "knn_predict", knn_plain_mean, "unweighted_mean"),
    ("similarity_knn", "knn_predict", knn_every_neighbour, "k_ignored"),
    ("similarity_knn", "knn_predict", knn_negative_neighbours_too, "nonpositive_neighbours"),
    ("svd_epoch", "svd_epoch", svd_q_with_the_new_p, "q_uses_updated_p"),
    ("svd_epoch", "svd_epoch", svd_error_upside_down, "error_sign"),
    ("svd_epoch", "svd_epoch", svd_regularisation_upside_down, "regularisation_sign"),
    ("svd_epoch", "svd_epoch", svd_full_batch, "full_batch"),
    ("svd_epoch", "svd_epoch", svd_biases_frozen, "biases_not_learned"),
    ("pagerank", "pagerank", pagerank_loses_dangling_mass, "dangling_ignored"),
    ("pagerank", "pagerank", pagerank_by_columns, "columns_normalised"),
    ("pagerank", "pagerank", pagerank_without_jumps, "teleport_missing"),
    ("pagerank", "pagerank", pagerank_one_step, "one_step"),
    ("pagerank", "pagerank", pagerank_alpha_swapped, "alpha_swapped"),
]


@pytest.mark.parametrize("exercise, function, mutant, mistake",
                         [pytest.param(*m, id=f"{m[1]}:{m[2].__name__}") for m in MUTANTS])
def test_a_wrong_solution_loses_marks_with_the_right_diagnosis(exercise, function, mutant, mistake, assert_diagnosed):
    assert_diagnosed(exercise, function, mutant, mistake)
