"""Scaled dot-product attention: BLAS for the batched products, Numba passes over the rows for
the softmax and its gradient.

Formulas: :mod:`tinymed.kernels.reference.attention`.  The reference's softmax makes about
eight whole-array passes over the ``(..., L, S)`` scores and allocates a new array in most of
them; here

* the softmax overwrites the fresh ``Q K^T`` with the weights: one Numba pass scales each row,
  adds its row of the mask and subtracts the row's maximum, NumPy's vectorised ``exp`` runs
  over the whole array in place, and a second Numba pass divides each row by its sum;
* a mask shared by every batch and head -- ``(L, S)``, a causal mask, or a row ``(S,)`` -- is
  read as it is, row ``r`` of the scores taking its row ``r mod L``; one that differs between
  them, such as a ``(N, 1, 1, S)`` padding mask, is added by NumPy first (which broadcasts it
  without copying it to the full shape);
* without dropout the weights themselves multiply ``V`` -- no ``P * keep`` copy.

The backward mirrors it: ``dP = dO V^T`` is turned into ``dS`` in place, row by row.  The
products ``Q K^T``, ``P V`` and the three of the backward are NumPy's ``matmul`` (BLAS).
Fewer large temporaries matter beyond the arithmetic: every fresh multi-megabyte array costs
page faults when it is first written.

Each row's maximum, sum and dot product are :mod:`~tinymed.kernels.numba._reductions`'s, which
work in SIMD lanes (a row's sum in float64); the passes run on one thread, for the reason given
in :mod:`tinymed.kernels.numba.activations`.
"""

import math

import numpy as np
from numba import njit

from ._reductions import row_dot, row_max, row_sum


@njit(cache=True)
def _scale_mask_and_shift_rows(scores, scale, mask):
    """Per row r of ``scores`` (rows, S): s = scale s + mask[r mod L] (mask (L, S), or None),
    then subtract the row's maximum, so exp never overflows.  A row that is -inf everywhere
    (every key masked) stays -inf, and exp turns it into zeros.  The same operations as NumPy's
    ``scores *= scale; scores += mask``, in the same order: the same bits."""
    rows, width = scores.shape
    for r in range(rows):
        if mask is not None:
            bias = mask[r % mask.shape[0]]
            for j in range(width):
                scores[r, j] = scores[r, j] * scale + bias[j]
        else:
            for j in range(width):
                scores[r, j] *= scale
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


def _shared_mask(bias, shape):
    """``bias`` as an (L, S) array (a view) when it is the same for every batch and head of
    scores of ``shape`` (..., L, S); None when it differs between them."""
    bias = np.asarray(bias)
    if math.prod(bias.shape[:-2]) != 1:
        return None
    return np.broadcast_to(bias.reshape(bias.shape[-2:]), shape[-2:])


def _softmax_inplace(scores, scale, bias):
    """softmax(scale S + bias) over the last axis of ``scores``, in place; rows whose keys are
    all masked become zeros.

    The exponential is NumPy's: it is vectorised (SIMD), where Numba calls the C library's
    scalar ``exp`` -- 1.4 against 3.8 ns per float32 on the benchmark machine.
    """
    scale = scores.dtype.type(scale)  # rounded to the scores' dtype, as NumPy does with a Python float
    mask = None if bias is None else _shared_mask(bias, scores.shape)
    if bias is not None and mask is None:  # differs between batches or heads: NumPy broadcasts it
        scores *= scale
        scores += bias
        scale = scores.dtype.type(1)
    rows = _rows(scores)
    _scale_mask_and_shift_rows(rows, scale, mask)
    np.exp(rows, out=rows)
    _normalise_rows(rows)


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
    _softmax_inplace(scores, scale, bias)
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
