"""Max and average pooling as direct loops, parallel over (image, channel) planes.

Each thread owns whole planes, so the backward scatter (``dx[...] += ...``) never races.
"""

import numpy as np
from numba import njit, prange

from ..reference.pool import pool_output_size


@njit(cache=True, parallel=True)
def _max_pool(x, kh, kw, sh, sw, ph, pw, y, argmax):
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    for nc in prange(n * c):
        ni, ci = nc // c, nc % c
        for i in range(oh):
            for j in range(ow):
                best = -np.inf
                best_tap = 0
                for p in range(kh):
                    hi = i * sh - ph + p
                    if hi < 0 or hi >= h:
                        continue
                    for q in range(kw):
                        wi = j * sw - pw + q
                        if wi < 0 or wi >= w:
                            continue
                        v = x[ni, ci, hi, wi]
                        # strict '>' keeps the first maximum, as argmax does; NaN wins and stays
                        if v > best or (np.isnan(v) and not np.isnan(best)):
                            best = v
                            best_tap = p * kw + q
                y[ni, ci, i, j] = best
                argmax[ni, ci, i, j] = best_tap


@njit(cache=True, parallel=True)
def _max_pool_grad(dy, argmax, kw, sh, sw, ph, pw, dx):
    n, c, h, w = dx.shape
    oh, ow = dy.shape[2], dy.shape[3]
    for nc in prange(n * c):
        ni, ci = nc // c, nc % c
        dx[ni, ci] = 0
        for i in range(oh):
            for j in range(ow):
                tap = argmax[ni, ci, i, j]
                hi = i * sh - ph + tap // kw
                wi = j * sw - pw + tap % kw
                if 0 <= hi < h and 0 <= wi < w:
                    dx[ni, ci, hi, wi] += dy[ni, ci, i, j]


@njit(cache=True)
def _window_count(i, j, h, w, kh, kw, sh, sw, ph, pw, include_pad):
    if include_pad:
        return kh * kw
    rows = min(i * sh - ph + kh, h) - max(i * sh - ph, 0)
    cols = min(j * sw - pw + kw, w) - max(j * sw - pw, 0)
    return rows * cols


@njit(cache=True, parallel=True)
def _avg_pool(x, kh, kw, sh, sw, ph, pw, include_pad, y):
    n, c, h, w = x.shape
    oh, ow = y.shape[2], y.shape[3]
    for nc in prange(n * c):
        ni, ci = nc // c, nc % c
        for i in range(oh):
            for j in range(ow):
                s = 0.0
                for hi in range(max(i * sh - ph, 0), min(i * sh - ph + kh, h)):
                    for wi in range(max(j * sw - pw, 0), min(j * sw - pw + kw, w)):
                        s += x[ni, ci, hi, wi]
                y[ni, ci, i, j] = s / _window_count(i, j, h, w, kh, kw, sh, sw, ph, pw, include_pad)


@njit(cache=True, parallel=True)
def _avg_pool_grad(dy, kh, kw, sh, sw, ph, pw, include_pad, dx):
    n, c, h, w = dx.shape
    oh, ow = dy.shape[2], dy.shape[3]
    for nc in prange(n * c):
        ni, ci = nc // c, nc % c
        dx[ni, ci] = 0
        for i in range(oh):
            for j in range(ow):
                share = dy[ni, ci, i, j] / _window_count(i, j, h, w, kh, kw, sh, sw, ph, pw, include_pad)
                for hi in range(max(i * sh - ph, 0), min(i * sh - ph + kh, h)):
                    for wi in range(max(j * sw - pw, 0), min(j * sw - pw + kw, w)):
                        dx[ni, ci, hi, wi] += share


def _out_shape(x_shape, kernel_size, stride, padding):
    n, c, h, w = x_shape
    return (n, c,
            pool_output_size(h, kernel_size[0], stride[0], padding[0]),
            pool_output_size(w, kernel_size[1], stride[1], padding[1]))


def max_pool2d_forward(x, kernel_size, stride, padding):
    shape = _out_shape(x.shape, kernel_size, stride, padding)
    y = np.empty(shape, dtype=x.dtype)
    argmax = np.empty(shape, dtype=np.int64)
    _max_pool(np.ascontiguousarray(x), *kernel_size, *stride, *padding, y, argmax)
    return y, argmax


def max_pool2d_backward(dy, argmax, x_shape, kernel_size, stride, padding):
    dx = np.empty(x_shape, dtype=dy.dtype)
    _max_pool_grad(np.ascontiguousarray(dy), np.ascontiguousarray(argmax), kernel_size[1],
                   *stride, *padding, dx)
    return dx


def avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad=True):
    y = np.empty(_out_shape(x.shape, kernel_size, stride, padding), dtype=x.dtype)
    _avg_pool(np.ascontiguousarray(x), *kernel_size, *stride, *padding, bool(count_include_pad), y)
    return y


def avg_pool2d_backward(dy, x_shape, kernel_size, stride, padding, count_include_pad=True):
    dx = np.empty(x_shape, dtype=dy.dtype)
    _avg_pool_grad(np.ascontiguousarray(dy), *kernel_size, *stride, *padding,
                   bool(count_include_pad), dx)
    return dx
