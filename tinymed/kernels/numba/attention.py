"""Scaled dot-product attention: BLAS for the batched products, Numba passes over the rows for
the softmax and its gradient.

Formulas: :mod:`tinymed.kernels.reference.attention`.  The reference's softmax makes about
eight whole-array passes over the ``(..., L, S)`` scores and allocates a new array in most of
them; here

* the scale and the additive mask are applied *in place* to the fresh ``Q K^T`` (NumPy
  broadcasts a ``(L, S)`` or ``(N, 1, 1, S)`` mask without copying it to the full shape);
* the softmax then overwrites the scores with the weights: a Numba pass subtracts each row's
  maximum, NumPy's vectorised ``exp`` runs over the whole array in place, and a second Numba
  pass divides each row by its sum;
* without dropout the weights themselves multiply ``V`` -- no ``P * keep`` copy.

The backward mirrors it: ``dP = dO V^T`` is turned into ``dS`` in place, row by row.  The
products ``Q K^T``, ``P V`` and the three of the backward are NumPy's ``matmul`` (BLAS).
Fewer large temporaries matter beyond the arithmetic: every fresh multi-megabyte array costs
page faults when it is first written.

Each row's maximum, sum and dot product are :mod:`~tinymed.kernels.numba._reductions`'s, which
work in SIMD lanes (a row's sum in float64); the passes run on one thread, for the reason given
in :mod:`tinymed.kernels.numba.activations`.
"""

import numpy as np
from numba import njit

from ._reductions import row_dot, row_max, row_sum


@njit(cache=True)
def _shift_rows_by_max(scores):
    """Subtract each row's maximum (so exp never overflows); a row that is -inf everywhere
    (every key masked) stays -inf, and exp turns it into zeros."""
    rows, width = scores.shape
    for r in range(rows):
        top = row_max(scores[r])
        if top == -np.inf:
            continue
        for j in range(width):
            scores[r, j] -= top


@njit(cache=True)
def _normalise_rows(e):
    """Divide each row by its sum (taken in float64); a row of zeros (every key masked) stays zero."""
    rows, width = e.shape
    for r in range(rows):
        total = row_sum(e[r])
        if total == 0:
            continue
        inverse = 1.0 / total
        for j in range(width):
            e[r, j] *= inverse


def _softmax_rows_inplace(scores):
    """Row-wise softmax of ``scores`` (rows, S), in place; all-masked rows become zeros.

    The exponential is NumPy's: it is vectorised (SIMD), where Numba calls the C library's
    scalar ``exp`` -- 1.4 against 3.8 ns per float32 on the benchmark machine.
    """
    _shift_rows_by_max(scores)
    np.exp(scores, out=scores)
    _normalise_rows(scores)


@njit(cache=True)
def _softmax_rows_grad_inplace(dweights, weights):
    """Per row: dS = P (dP - sum(dP P)), written over ``dweights`` (rows, S)."""
    rows, width = weights.shape
    for r in range(rows):
        dot = row_dot(dweights[r], weights[r])
        for j in range(width):
            dweights[r, j] = weights[r, j] * (dweights[r, j] - dot)


def _rows(a):
    """A contiguous array as a 2-D view (rows, last axis)."""
    return a.reshape(-1, a.shape[-1])


def scaled_dot_product_attention_forward(q, k, v, bias, scale, keep=None):
    """O = dropout(softmax(scale Q K^T + bias)) V; returns (O, P) with P the weights before dropout.

    q (..., L, E), k (..., S, E), v (..., S, Ev), bias broadcastable to (..., L, S) or None,
    keep (..., L, S) dropout mask already scaled by 1/(1-p), or None -> O (..., L, Ev), P (..., L, S)."""
    scores = np.ascontiguousarray(q @ np.swapaxes(k, -1, -2))
    scores *= scale
    if bias is not None:
        scores += bias
    _softmax_rows_inplace(_rows(scores))
    weights = scores
    used = weights if keep is None else weights * keep
    return used @ v, weights


def scaled_dot_product_attention_backward(dout, q, k, v, weights, scale, keep=None):
    """dV = P~^T dO, dP = (dO V^T) * keep, dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q.

    Shapes as in :func:`scaled_dot_product_attention_forward`; returns (dq, dk, dv, dscores),
    dscores (..., L, S) also being the gradient of an additive float mask."""
    used = weights if keep is None else weights * keep
    dv = np.swapaxes(used, -1, -2) @ dout
    dscores = np.ascontiguousarray(dout @ np.swapaxes(v, -1, -2))   # dP, turned into dS in place
    if keep is not None:
        dscores *= keep
    _softmax_rows_grad_inplace(_rows(dscores), _rows(np.ascontiguousarray(weights)))
    dq = dscores @ k
    dq *= scale
    dk = np.swapaxes(dscores, -1, -2) @ q
    dk *= scale
    return dq, dk, dv, dscores
