"""Numba loops for implicit feedback: ALS row solves and BPR's epoch (formulas, shapes and
conventions: the reference twins in :mod:`tinymed.kernels.reference.implicit`).

The ALS rows are independent: groups of rows run on threads at once (a ``nogil`` kernel, as
:func:`tinymed.kernels.numba.recsys.row_similarities` does), each writing its own rows, so the
result does not depend on the thread count. BPR's updates touch shared item rows: it runs on
one thread, and its result is reproducible.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .recsys import back_substitution, cholesky_lower, forward_substitution

# The conjugate-gradient inner products may be added in any order, so that LLVM turns them into
# vector instructions (about 4x faster); only the order of the additions changes (NaN and inf
# stay as they are), well within the agreement with the reference, and the result does not
# depend on the thread count.
_REORDER_SUMS = {"reassoc"}


def _on_threads(kernel, n_rows, n_threads, *args):
    """``kernel(*args, first, last)`` over ``[0, n_rows)``, cut into a few tasks per thread."""
    n_tasks = max(1, min(n_rows, 4 * n_threads if n_threads > 1 else 1))
    bounds = [t * n_rows // n_tasks for t in range(n_tasks + 1)]
    if n_tasks == 1:
        kernel(*args, 0, n_rows)
        return
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        list(pool.map(lambda t: kernel(*args, bounds[t], bounds[t + 1]), range(n_tasks)))


def als_least_squares_rows(indptr, indices, confidence, X, Y, gram, n_threads=1):
    """Exact ALS solve of every row of ``X`` (Cholesky), on ``n_threads`` threads."""
    _on_threads(_least_squares, len(X), n_threads, indptr, indices, confidence, X, Y, gram)


def als_conjugate_gradient_rows(indptr, indices, confidence, X, Y, gram, cg_steps, n_threads=1):
    """``cg_steps`` conjugate-gradient steps for every row of ``X``, on ``n_threads`` threads."""
    _on_threads(_conjugate_gradient, len(X), n_threads, indptr, indices, confidence, X, Y, gram, cg_steps)


@njit(cache=True, nogil=True, fastmath=_REORDER_SUMS)
def _apply_normal_matrix(indices, confidence, lo, hi, Y, gram, v, out):
    """``out = gram v + Y_u^T (C_u - I) Y_u v`` without forming the matrix."""
    k = len(v)
    for s in range(k):
        total = 0.0
        for t in range(k):
            total += gram[s, t] * v[t]
        out[s] = total
    for p in range(lo, hi):
        y = Y[indices[p]]
        dot = 0.0
        for s in range(k):
            dot += y[s] * v[s]
        scale = (confidence[p] - 1.0) * dot
        for s in range(k):
            out[s] += scale * y[s]


@njit(cache=True, nogil=True)
def _least_squares(indptr, indices, confidence, X, Y, gram, first, last):
    k = X.shape[1]
    for u in range(first, last):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            X[u, :] = 0.0
            continue
        A = gram.copy()
        b = np.zeros(k)
        for p in range(lo, hi):
            y, c = Y[indices[p]], confidence[p]
            for s in range(k):
                b[s] += c * y[s]
                for t in range(s + 1):
                    A[s, t] += (c - 1.0) * y[s] * y[t]
        cholesky_lower(A)
        forward_substitution(A, b)
        back_substitution(A, b)
        for s in range(k):
            X[u, s] = b[s]


@njit(cache=True, nogil=True, error_model="numpy")
def _conjugate_gradient(indptr, indices, confidence, X, Y, gram, cg_steps, first, last):
    k = X.shape[1]
    x, r, d, Ad = np.empty(k), np.empty(k), np.empty(k), np.empty(k)
    for u in range(first, last):
        lo, hi = indptr[u], indptr[u + 1]
        if lo == hi:
            X[u, :] = 0.0
            continue
        for s in range(k):
            x[s] = X[u, s]
        _apply_normal_matrix(indices, confidence, lo, hi, Y, gram, x, Ad)
        for s in range(k):
            total = 0.0
            for p in range(lo, hi):
                total += Y[indices[p], s] * confidence[p]
            r[s] = total - Ad[s]
            d[s] = r[s]
        rs_old = _dot(r, r)
        for _ in range(cg_steps if rs_old >= 1e-20 else 0):
            _apply_normal_matrix(indices, confidence, lo, hi, Y, gram, d, Ad)
            alpha = rs_old / _dot(d, Ad)
            for s in range(k):
                x[s] += alpha * d[s]
                r[s] -= alpha * Ad[s]
            rs_new = _dot(r, r)
            if rs_new < 1e-20:
                break
            for s in range(k):
                d[s] = r[s] + (rs_new / rs_old) * d[s]
            rs_old = rs_new
        for s in range(k):
            X[u, s] = x[s]


@njit(cache=True, nogil=True, fastmath=_REORDER_SUMS)
def _dot(a, b):
    total = 0.0
    for s in range(len(a)):
        total += a[s] * b[s]
    return total


@njit(cache=True)
def bpr_sgd_epoch(users, items, indptr, X, Y, samples, learning_rate, reg, verify_negative_samples):
    """One BPR epoch by SGD over the drawn ``samples``; returns ``(correct, skipped)``."""
    k = X.shape[1] - 1
    correct = skipped = 0
    for s in range(len(samples)):
        liked, disliked = samples[s, 0], samples[s, 1]
        u, i, j = users[liked], items[liked], items[disliked]
        if verify_negative_samples and _rated(items, indptr[u], indptr[u + 1], j):
            skipped += 1
            continue
        score = 0.0
        for f in range(k + 1):
            score += np.float64(X[u, f]) * (np.float64(Y[i, f]) - np.float64(Y[j, f]))
        z = 1.0 / (1.0 + np.exp(score))
        if z < 0.5:
            correct += 1
        for f in range(k):
            x_f = np.float64(X[u, f])
            X[u, f] = x_f + learning_rate * (z * (np.float64(Y[i, f]) - np.float64(Y[j, f])) - reg * x_f)
            Y[i, f] = Y[i, f] + learning_rate * (z * x_f - reg * np.float64(Y[i, f]))
            Y[j, f] = Y[j, f] + learning_rate * (-z * x_f - reg * np.float64(Y[j, f]))
        Y[i, k] = Y[i, k] + learning_rate * (z - reg * np.float64(Y[i, k]))
        Y[j, k] = Y[j, k] + learning_rate * (-z - reg * np.float64(Y[j, k]))
    return correct, skipped


@njit(cache=True)
def _rated(items, lo, hi, j):
    """Whether ``j`` is among the ascending ``items[lo:hi]`` (binary search)."""
    end = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < j:
            lo = mid + 1
        else:
            hi = mid
    return lo < end and items[lo] == j
