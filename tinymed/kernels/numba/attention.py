"""Scaled dot-product attention: BLAS for the four batched products, one Numba pass per row
for the softmax and its gradient.

Formulas: :mod:`tinymed.kernels.reference.attention`.  The reference's softmax makes about
eight whole-array passes over the ``(..., L, S)`` scores (scale, add the mask, max, shift,
exp, sum, divide, dropout) and its backward five more; here each row of ``S`` scores is
handled in one loop that stays in the L1 cache.  The products ``Q K^T``, ``P V`` and the three
of the backward are NumPy's ``matmul`` (BLAS, one call per batch matrix).
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _softmax_rows(scores, bias, keep, scale, weights, used):
    """Per row: s = scale * scores + bias; P = softmax(s) (all-masked rows -> 0); used = P * keep."""
    rows, width = scores.shape
    zero = scores.dtype.type(0)
    for r in range(rows):
        top = -np.inf
        for j in range(width):
            s = scores[r, j] * scale + bias[r, j]
            weights[r, j] = s
            if s > top:
                top = s
        if top == -np.inf:  # every key masked: zero weights, as documented in the reference
            for j in range(width):
                weights[r, j] = zero
                used[r, j] = zero
            continue
        total = zero
        for j in range(width):
            e = np.exp(weights[r, j] - top)
            weights[r, j] = e
            total += e
        for j in range(width):
            weights[r, j] /= total
            used[r, j] = weights[r, j] * keep[r, j]


@njit(cache=True)
def _softmax_rows_grad(dused, weights, keep, dscores):
    """Per row: dP = dused * keep; dS = P (dP - sum(dP P))."""
    rows, width = weights.shape
    for r in range(rows):
        dot = 0.0
        for j in range(width):
            dot += dused[r, j] * keep[r, j] * weights[r, j]
        for j in range(width):
            dscores[r, j] = weights[r, j] * (dused[r, j] * keep[r, j] - dot)


def _full(a, shape, dtype, fill):
    """``a`` broadcast to ``shape`` as contiguous rows (a constant ``fill`` where a is None)."""
    if a is None:
        return np.full((int(np.prod(shape[:-1])), shape[-1]), fill, dtype=dtype)
    return np.ascontiguousarray(np.broadcast_to(a, shape), dtype=dtype).reshape(-1, shape[-1])


def scaled_dot_product_attention_forward(q, k, v, bias, scale, keep=None):
    scores = q @ np.swapaxes(k, -1, -2)
    shape = scores.shape
    weights = np.empty(shape, dtype=scores.dtype)
    used = np.empty_like(weights)
    _softmax_rows(scores.reshape(-1, shape[-1]), _full(bias, shape, scores.dtype, 0),
                  _full(keep, shape, scores.dtype, 1), scores.dtype.type(scale),
                  weights.reshape(-1, shape[-1]), used.reshape(-1, shape[-1]))
    return used @ v, weights


def scaled_dot_product_attention_backward(dout, q, k, v, weights, scale, keep=None):
    shape = weights.shape
    keep_rows = _full(keep, shape, weights.dtype, 1)
    used = weights if keep is None else weights * keep
    dv = np.swapaxes(used, -1, -2) @ dout
    dused = np.ascontiguousarray(dout @ np.swapaxes(v, -1, -2))
    dscores = np.empty(shape, dtype=weights.dtype)
    _softmax_rows_grad(dused.reshape(-1, shape[-1]), np.ascontiguousarray(weights).reshape(-1, shape[-1]),
                       keep_rows, dscores.reshape(-1, shape[-1]))
    dq = (dscores @ k) * scale
    dk = (np.swapaxes(dscores, -1, -2) @ q) * scale
    return dq, dk, dv, dscores
