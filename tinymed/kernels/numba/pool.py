"""Max and average pooling as loops over the (image, channel) planes.

Max pooling follows the reference: gather the pixels each window tap sees into a row of a
small ``windows (KH*KW, OH*OW)`` array (the patches of one plane, -inf in the padding), then
reduce over the taps.  The reduction runs tap by tap over whole contiguous rows without
branches, which LLVM turns into SIMD instructions; a loop per output over its few taps
would instead mispredict a branch on every comparison of random data.  One plane's windows
stay in the L1 cache.
"""

import numpy as np
from numba import njit, prange

from ..reference.pool import pool_output_size
from .conv import _copy


@njit(cache=True)
def _inside(out_len, in_len, stride, offset):
    """Range ``[j0, j1)`` of output positions ``j`` whose input ``j*stride + offset`` is in ``[0, in_len)``."""
    j0 = min(max(0, -(offset // stride)), out_len)
    j1 = max(min(out_len, (in_len - 1 - offset) // stride + 1), j0)
    return j0, j1


@njit(cache=True, inline="always")
def _fill(dst, start, count, value):
    """``dst[start:start+count] = value`` (unsigned index: see conv._copy)."""
    d = np.uint64(start)
    for t in range(np.uint64(count)):
        dst[d + t] = value


@njit(cache=True)
def _gather_windows(plane, kh, kw, sh, sw, ph, pw, oh, ow, windows):
    """``windows[p*KW + q, i*OW + j] = plane[i*sh - ph + p, j*sw - pw + q]``, -inf in the padding."""
    h, w = plane.shape
    src = plane.reshape(-1)
    for p in range(kh):
        for q in range(kw):
            row = windows[p * kw + q]
            j0, j1 = _inside(ow, w, sw, q - pw)
            for i in range(oh):
                hi = i * sh - ph + p
                if 0 <= hi < h:
                    _fill(row, i * ow, j0, -np.inf)
                    _copy(row, i * ow + j0, src, hi * w + j0 * sw + q - pw, sw, j1 - j0)
                    _fill(row, i * ow + j1, ow - j1, -np.inf)
                else:
                    _fill(row, i * ow, ow, -np.inf)


@njit(cache=True, inline="always")
def _max_tap(y, arg, v, tap):
    """Where ``v`` beats ``y`` -- strictly, so the first maximum keeps its tap as in ``argmax``;
    a NaN wins once and stays -- it becomes the new maximum and ``tap`` the new ``arg``."""
    for t in range(np.uint64(y.size)):  # unsigned index: see conv._copy
        wins = (v[t] > y[t]) | ((v[t] != v[t]) & (y[t] == y[t]))  # '|', '&': no branches
        y[t] = v[t] if wins else y[t]
        arg[t] = tap if wins else arg[t]


@njit(cache=True)
def _max_pool(x, kh, kw, sh, sw, ph, pw, y, argmax):
    """``y[m, c, i, j]`` = max over the window, ``argmax`` = the winning tap ``p*KW + q``."""
    n, c = x.shape[:2]
    oh, ow = y.shape[2], y.shape[3]
    windows = np.empty((kh * kw, oh * ow), dtype=x.dtype)
    for plane in range(n * c):
        m, ci = plane // c, plane % c
        _gather_windows(x[m, ci], kh, kw, sh, sw, ph, pw, oh, ow, windows)
        out, arg = y[m, ci].reshape(-1), argmax[m, ci].reshape(-1)
        out[:] = windows[0]
        arg[:] = 0
        for tap in range(1, kh * kw):
            _max_tap(out, arg, windows[tap], tap)


@njit(cache=True)
def _max_pool_grad(dy, argmax, kh, kw, sh, sw, ph, pw, dx):
    """Each output's gradient goes to the one input its maximum came from (none if padding)."""
    n, c, h, w = dx.shape
    oh, ow = dy.shape[2], dy.shape[3]
    tap_row, tap_col = np.arange(kh * kw) // kw, np.arange(kh * kw) % kw  # no division per pixel
    for plane in range(n * c):
        m, ci = plane // c, plane % c
        g, arg, d = dy[m, ci].reshape(-1), argmax[m, ci].reshape(-1), dx[m, ci]
        d[:, :] = 0
        for i in range(oh):
            for j in range(ow):
                tap = arg[i * ow + j]
                hi = i * sh - ph + tap_row[tap]
                wi = j * sw - pw + tap_col[tap]
                if 0 <= hi < h and 0 <= wi < w:
                    d[hi, wi] += g[i * ow + j]


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
    """F4: y[n, c, o] = max over window(o) of x[n, c, t] (padding is -inf); returns (y, argmax).

    x (N, C, H, W) -> y and argmax (N, C, OH, OW); argmax = p KW + q, the winning tap of the window."""
    shape = _out_shape(x.shape, kernel_size, stride, padding)
    y = np.empty(shape, dtype=x.dtype)
    argmax = np.empty(shape, dtype=np.int64)
    _max_pool(np.ascontiguousarray(x), *kernel_size, *stride, *padding, y, argmax)
    return y, argmax


def max_pool2d_backward(dy, argmax, x_shape, kernel_size, stride, padding):
    """dx[n, c, t] = sum of dy[n, c, o] over the windows o whose winning tap is t; dy (N, C, OH, OW) -> dx x_shape."""
    dx = np.empty(x_shape, dtype=dy.dtype)
    _max_pool_grad(np.ascontiguousarray(dy), np.ascontiguousarray(argmax), *kernel_size,
                   *stride, *padding, dx)
    return dx


def avg_pool2d_forward(x, kernel_size, stride, padding, count_include_pad=True):
    """y[n, c, o] = mean of x[n, c, t] over window(o) (padding counted if ``count_include_pad``).

    x (N, C, H, W) -> y (N, C, OH, OW)."""
    y = np.empty(_out_shape(x.shape, kernel_size, stride, padding), dtype=x.dtype)
    _avg_pool(np.ascontiguousarray(x), *kernel_size, *stride, *padding, bool(count_include_pad), y)
    return y


def avg_pool2d_backward(dy, x_shape, kernel_size, stride, padding, count_include_pad=True):
    """dx[n, c, t] = sum over windows o containing t of dy[n, c, o] / |window(o)|; dy (N, C, OH, OW) -> dx x_shape."""
    dx = np.empty(x_shape, dtype=dy.dtype)
    _avg_pool_grad(np.ascontiguousarray(dy), *kernel_size, *stride, *padding,
                   bool(count_include_pad), dx)
    return dx
