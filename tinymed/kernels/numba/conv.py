"""conv2d as im2col + one BLAS matrix product (see the reference for the derivation of F3).

Layout chosen for large, single GEMMs: the patch matrix is ``cols (C*KH*KW, N*OH*OW)``
(one row per kernel tap, one column per output position), so

* forward:  ``Y (K, N*OH*OW) = W (K, C*KH*KW) @ cols``, then one pass to NCHW plus bias;
* backward: ``dW = dY @ cols.T``, ``dcols = W.T @ dY``, and col2im adds ``dcols`` back.

im2col / col2im are Numba loops parallel over kernel taps (resp. input channels), so no two
threads ever write the same element; padding is handled by bounds checks, not by a padded copy.
"""

import numpy as np
from numba import njit, prange

from ..reference.conv import conv2d_output_size


@njit(cache=True, parallel=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols):
    n, c, h, w = x.shape
    for r in prange(c * kh * kw):
        ci = r // (kh * kw)
        p = (r // kw) % kh
        q = r % kw
        for ni in range(n):
            base = ni * oh * ow
            for i in range(oh):
                hi = i * sh - ph + p * dh
                row_ok = 0 <= hi < h
                for j in range(ow):
                    wi = j * sw - pw + q * dw
                    if row_ok and 0 <= wi < w:
                        cols[r, base + i * ow + j] = x[ni, ci, hi, wi]
                    else:
                        cols[r, base + i * ow + j] = 0


@njit(cache=True, parallel=True)
def _col2im(dcols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, dx):
    n, c, h, w = dx.shape
    for ci in prange(c):
        for ni in range(n):
            for hi in range(h):
                for wi in range(w):
                    dx[ni, ci, hi, wi] = 0
        for p in range(kh):
            for q in range(kw):
                r = (ci * kh + p) * kw + q
                for ni in range(n):
                    base = ni * oh * ow
                    for i in range(oh):
                        hi = i * sh - ph + p * dh
                        if hi < 0 or hi >= h:
                            continue
                        for j in range(ow):
                            wi = j * sw - pw + q * dw
                            if 0 <= wi < w:
                                dx[ni, ci, hi, wi] += dcols[r, base + i * ow + j]


@njit(cache=True, parallel=True)
def _to_nchw_add_bias(y2, b, y):
    """``y[n, k, l] = y2[k, n*L + l] + b[k]``."""
    n, k, l = y.shape
    for nk in prange(n * k):
        ni, ki = nk // k, nk % k
        for li in range(l):
            y[ni, ki, li] = y2[ki, ni * l + li] + b[ki]


@njit(cache=True, parallel=True)
def _from_nchw_sum(dy, dy2, db):
    """``dy2[k, n*L + l] = dy[n, k, l]`` and ``db[k] = sum over n, l``."""
    n, k, l = dy.shape
    for ki in prange(k):
        s = 0.0
        for ni in range(n):
            for li in range(l):
                v = dy[ni, ki, li]
                dy2[ki, ni * l + li] = v
                s += v
        db[ki] = s


def _geometry(x, w, stride, padding, dilation):
    _, _, h, wd = x.shape
    _, _, kh, kw = w.shape
    oh = conv2d_output_size(h, kh, stride[0], padding[0], dilation[0])
    ow = conv2d_output_size(wd, kw, stride[1], padding[1], dilation[1])
    return (kh, kw, stride[0], stride[1], padding[0], padding[1], dilation[0], dilation[1], oh, ow)


def _cols(x, geo):
    kh, kw, *_, oh, ow = geo
    n, c = x.shape[:2]
    cols = np.empty((c * kh * kw, n * oh * ow), dtype=x.dtype)
    _im2col(np.ascontiguousarray(x), *geo, cols)
    return cols


def conv2d_forward(x, w, b, stride, padding, dilation):
    geo = _geometry(x, w, stride, padding, dilation)
    oh, ow = geo[-2:]
    n, k = x.shape[0], w.shape[0]
    y2 = w.reshape(k, -1) @ _cols(x, geo)
    y = np.empty((n, k, oh * ow), dtype=y2.dtype)
    _to_nchw_add_bias(y2, np.zeros(k, y2.dtype) if b is None else b.astype(y2.dtype, copy=False), y)
    return y.reshape(n, k, oh, ow)


def conv2d_backward(dy, x, w, stride, padding, dilation):
    geo = _geometry(x, w, stride, padding, dilation)
    n, k = x.shape[0], w.shape[0]
    dy3 = np.ascontiguousarray(dy).reshape(n, k, -1)
    dy2 = np.empty((k, dy3.shape[0] * dy3.shape[2]), dtype=dy.dtype)
    db = np.empty(k, dtype=dy.dtype)
    _from_nchw_sum(dy3, dy2, db)
    dw = (dy2 @ _cols(x, geo).T).reshape(w.shape)
    dcols = np.ascontiguousarray(w.reshape(k, -1).T) @ dy2
    dx = np.empty(x.shape, dtype=dcols.dtype)
    _col2im(dcols, *geo, dx)
    return dx, dw, db
