"""Layer norm as one loop per sample, and the embedding gradient as a scatter-add loop.

Formulas: :mod:`tinymed.kernels.reference.norm`.  The reference makes about ten whole-array
passes (mean, centring, variance, scaling, ...); here each sample's ``D`` features are read
and written in a few passes that stay in the L1 cache.  The sums over a sample's features are
:mod:`~tinymed.kernels.numba._reductions`'s, which add in SIMD lanes; the loops run on one thread
(see :mod:`tinymed.kernels.numba.activations` for why).  The γ and β gradients are sums over the
samples: each sample's row is added onto them in sample order, so their bits depend on nothing
but the data.  The embedding *lookup* is NumPy's fancy indexing in the reference, already a
tight gather, so only its backward is here: ``numpy.add.at`` handles any index pattern
generically and is several times slower than a plain loop that adds each gradient row onto its
table row.
"""

import numpy as np
from numba import njit

from ._reductions import layer_norm_grad_sums, row_squared_deviation, row_sum


@njit(cache=True)
def _layer_norm_rows(x, weight, bias, eps, y, mean, rstd):
    """Rows of x (M, D): mean, biased variance (two passes, for accuracy), then y."""
    rows, dim = x.shape
    for r in range(rows):
        mu = row_sum(x[r]) / dim
        inv = 1.0 / np.sqrt(row_squared_deviation(x[r], mu) / dim + eps)
        mean[r], rstd[r] = mu, inv
        for j in range(dim):
            y[r, j] = (x[r, j] - mu) * inv * weight[j] + bias[j]


@njit(cache=True)
def _layer_norm_rows_grad(dy, x, weight, mean, rstd, dx, dweight, dbias):
    """dx = rstd (g - mean(g) - x̂ mean(g x̂)) with g = dy γ; γ and β gradients summed over rows."""
    rows, dim = x.shape
    for r in range(rows):
        mu, inv = mean[r], rstd[r]
        g_total, gx_total = layer_norm_grad_sums(dy[r], x[r], weight, mu, inv)
        g_mean = g_total / dim
        gx_mean = gx_total / dim
        for j in range(dim):
            x_hat = (x[r, j] - mu) * inv
            dweight[j] += dy[r, j] * x_hat
            dbias[j] += dy[r, j]
            dx[r, j] = inv * (dy[r, j] * weight[j] - g_mean - x_hat * gx_mean)


def _rows(x, normalized_shape):
    dim = int(np.prod(normalized_shape))
    return np.ascontiguousarray(x).reshape(-1, dim), dim


def _stats_shape(x, normalized_shape):
    return x.shape[:x.ndim - len(normalized_shape)] + (1,) * len(normalized_shape)


def _affine(param, dim, value, dtype):
    if param is None:
        return np.full(dim, value, dtype=dtype)
    return np.ascontiguousarray(param).reshape(dim)


def layer_norm_forward(x, normalized_shape, weight, bias, eps):
    """y = gamma (x - mu) / sqrt(var + eps) + beta over the trailing ``normalized_shape`` axes.

    x (..., *normalized_shape); weight, bias of ``normalized_shape`` or None. Returns (y, mean, rstd)."""
    rows, dim = _rows(x, normalized_shape)
    y = np.empty_like(rows)
    mean = np.empty(rows.shape[0], dtype=rows.dtype)
    rstd = np.empty_like(mean)
    _layer_norm_rows(rows, _affine(weight, dim, 1, rows.dtype), _affine(bias, dim, 0, rows.dtype),
                     rows.dtype.type(eps), y, mean, rstd)
    stats = _stats_shape(x, normalized_shape)
    return y.reshape(x.shape), mean.reshape(stats), rstd.reshape(stats)


def layer_norm_backward(dy, x, normalized_shape, weight, mean, rstd):
    """With g = dy gamma: dx = rstd (g - mean(g) - x_hat mean(g x_hat)); dgamma = sum dy x_hat, dbeta = sum dy.

    dy and x (..., *normalized_shape); mean and rstd from the forward. Returns (dx, dweight, dbias)."""
    rows, dim = _rows(x, normalized_shape)
    dy_rows, _ = _rows(dy, normalized_shape)
    dx = np.empty_like(rows)
    # the γ and β sums run over many rows: accumulate them in float64
    dweight = np.zeros(dim, dtype=np.float64)
    dbias = np.zeros(dim, dtype=np.float64)
    _layer_norm_rows_grad(dy_rows, rows, _affine(weight, dim, 1, rows.dtype),
                          np.ascontiguousarray(mean).reshape(-1), np.ascontiguousarray(rstd).reshape(-1),
                          dx, dweight, dbias)
    shape = tuple(normalized_shape)
    return (dx.reshape(x.shape), dweight.astype(rows.dtype).reshape(shape),
            dbias.astype(rows.dtype).reshape(shape))


@njit(cache=True)
def _scatter_add_rows(dy, indices, dweight):
    """dweight[indices[p]] += dy[p] for every position p."""
    for p in range(indices.shape[0]):
        row = indices[p]
        for j in range(dy.shape[1]):
            dweight[row, j] += dy[p, j]


def embedding_backward(dy, indices, num_embeddings, padding_idx=None):
    """dW_i = sum of dy_p over positions p with indices_p = i (scatter-add); padding_idx's row gets 0.

    dy (..., D), indices (...) -> dweight (num_embeddings, D)."""
    dim = dy.shape[-1]
    dweight = np.zeros((num_embeddings, dim), dtype=dy.dtype)
    _scatter_add_rows(np.ascontiguousarray(dy).reshape(-1, dim),
                      np.ascontiguousarray(indices).reshape(-1).astype(np.int64), dweight)
    if padding_idx is not None:
        dweight[padding_idx] = 0
    return dweight
