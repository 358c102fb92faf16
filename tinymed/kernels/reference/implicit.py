r"""Implicit-feedback kernels: ALS row solves (exact, or by conjugate gradient) and BPR's SGD epoch.

Implicit data say only what a patient was given (a count, or 1), never how well it went. A
user's row of the CSR matrix (``indptr``, ``indices``, ``values``) lists the items seen; every
other item is a weak "no". The factors are ``X (n_rows, k)`` for the side being solved and
``Y (n_cols, k)`` for the other, float32 or float64; every kernel computes in float64 and
writes its results into ``X`` (and, for BPR, ``Y``) in place.
:mod:`tinymed.kernels.numba.implicit` compiles the same loops and gives the same numbers.
"""

import numpy as np

from .recsys import dot_left_to_right


def als_normal_terms(Yu, c, v):
    r""":math:`Y_u^\top (C_u - I) Y_u v` for the rows ``Yu (n, k)`` of a user's items and their
    confidences ``c (n,)``: the part of the normal matrix that only the user's items add."""
    return Yu.T @ ((c - 1.0) * (Yu @ v))


def als_least_squares_rows(indptr, indices, confidence, X, Y, gram, n_threads=1):
    r"""Every row :math:`x_u` of ``X`` set to the exact minimiser of Hu, Koren & Volinsky's loss
    given ``Y``: with :math:`p_{ui} = 1` for the stored items (0 elsewhere), confidences
    :math:`c_{ui}` (``confidence``, aligned with ``indices``; 1 elsewhere) and
    ``gram`` :math:`= Y^\top Y + \lambda I` (``(k, k)``),

    .. math:: \big(Y^\top Y + \lambda I + Y_u^\top (C_u - I) Y_u\big)\, x_u = Y_u^\top C_u\, p_u

    where :math:`Y_u` are the rows of ``Y`` the user has: the other items all have
    :math:`c = 1`, :math:`p = 0`, so :math:`Y^\top Y` stands for them, computed once for all
    users. A row without items is set to 0.
    """
    for u in range(len(X)):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            X[u] = 0.0
            continue
        Yu, c = Y[indices[lo:hi]].astype(np.float64), confidence[lo:hi].astype(np.float64)
        A = gram + Yu.T @ ((c - 1.0)[:, None] * Yu)
        X[u] = np.linalg.solve(A, Yu.T @ c)


def als_conjugate_gradient_rows(indptr, indices, confidence, X, Y, gram, cg_steps, n_threads=1):
    r"""Every row of ``X`` moved ``cg_steps`` conjugate-gradient steps towards the solution of
    the system of :func:`als_least_squares_rows`, starting from where it is (Takács, Pilászy &
    Tikk 2011; the fast path of the ``implicit`` library). With
    :math:`A = \mathrm{gram} + Y_u^\top (C_u - I) Y_u` never formed, only applied:

    .. math::
        r &= Y_u^\top C_u p_u - A x, \quad d = r; \quad \text{then } \texttt{cg\_steps} \text{ times:} \\
        \alpha &= \frac{r^\top r}{d^\top A d}, \quad x \leftarrow x + \alpha d, \quad
        r' = r - \alpha A d, \quad d \leftarrow r' + \frac{r'^\top r'}{r^\top r} d

    stopping early once :math:`r^\top r < 10^{-20}`. A few steps from the last iteration's
    :math:`x` are nearly as good as the exact solve, at :math:`O(n_u k)` instead of
    :math:`O(n_u k^2 + k^3)` per row.
    """
    for u in range(len(X)):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            X[u] = 0.0
            continue
        Yu, c = Y[indices[lo:hi]].astype(np.float64), confidence[lo:hi].astype(np.float64)
        x = X[u].astype(np.float64)
        r = Yu.T @ c - gram @ x - als_normal_terms(Yu, c, x)
        d = r.copy()
        rs_old = r @ r
        for _ in range(cg_steps if rs_old >= 1e-20 else 0):
            Ad = gram @ d + als_normal_terms(Yu, c, d)
            with np.errstate(divide="ignore", invalid="ignore"):  # a singular system: inf or NaN, reported by the model
                alpha = rs_old / (d @ Ad)
            x += alpha * d
            r -= alpha * Ad
            rs_new = r @ r
            if rs_new < 1e-20:
                break
            d = r + (rs_new / rs_old) * d
            rs_old = rs_new
        X[u] = x


def bpr_sgd_epoch(users, items, indptr, X, Y, samples, learning_rate, reg, verify_negative_samples):
    r"""One epoch of Bayesian personalised ranking (Rendle et al. 2009) by SGD; returns
    ``(correct, skipped)``.

    ``users, items (nnz,)``: the stored (user, item) pairs, by user, items ascending within a
    user (``indptr`` their rows); ``X (n_users, k + 1)`` whose last column is 1 and
    ``Y (n_items, k + 1)`` whose last column is the item's bias. ``samples (n, 2)`` are drawn
    indices into the pairs: the first gives a user *u* and an item *i* it has, the second an
    item *j* (so negatives are drawn as often as items are stored, i.e. by popularity). A *j*
    that *u* has is skipped when ``verify_negative_samples``. For the others, with
    :math:`s = x_u^\top (y_i - y_j)` and :math:`z = \sigma(-s) = 1/(1 + e^{s})`, the
    gradient of :math:`\ln \sigma(s)` gives

    .. math::
        x_u &\leftarrow x_u + \eta\,(z\,(y_i - y_j) - \lambda x_u) \\
        y_i &\leftarrow y_i + \eta\,(z\,x_u - \lambda y_i), \qquad
        y_j \leftarrow y_j + \eta\,(-z\,x_u - \lambda y_j)

    with :math:`x_u` from before its update, and the last (bias) column of ``X`` kept at 1.
    ``correct`` counts the pairs already ordered right (:math:`z < 1/2`).
    """
    k = X.shape[1] - 1
    correct = skipped = 0
    for liked, disliked in samples:
        u, i, j = users[liked], items[liked], items[disliked]
        if verify_negative_samples and j in items[indptr[u]:indptr[u + 1]]:
            skipped += 1
            continue
        x, yi, yj = X[u].astype(np.float64), Y[i].astype(np.float64), Y[j].astype(np.float64)
        z = 1.0 / (1.0 + np.exp(dot_left_to_right(x, yi - yj)))
        correct += z < 0.5
        X[u, :k] = x[:k] + learning_rate * (z * (yi[:k] - yj[:k]) - reg * x[:k])
        Y[i, :k] = yi[:k] + learning_rate * (z * x[:k] - reg * yi[:k])
        Y[i, k] = yi[k] + learning_rate * (z - reg * yi[k])
        yj = Y[j].astype(np.float64)  # the same row as y_i when j == i (without verification)
        Y[j, :k] = yj[:k] + learning_rate * (-z * x[:k] - reg * yj[:k])
        Y[j, k] = yj[k] + learning_rate * (-z - reg * yj[k])
    return int(correct), int(skipped)
