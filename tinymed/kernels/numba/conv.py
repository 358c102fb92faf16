"""conv2d as im2col + BLAS matrix products (see the reference for the derivation of F3).

For a block of ``n`` images, zero-padded once into ``xpad (n, C, Hp, Wp)``, the patch matrix
is ``cols (C*KH*KW, n*OH*G)``: one row per kernel tap ``(c, p, q)``, one column per position
of an output *grid* ``(m, i, j)`` with ``OH`` rows of width ``G``:

    cols[(c, p, q), (m, i, j)] = xpad[m, c, i*sh + p*dh, j*sw + q*dw]

Then ``Y = W @ cols`` (forward), ``dW = dY @ cols.T`` and ``dcols = W.T @ dY`` (backward),
each one BLAS call per block, and col2im adds ``dcols`` back onto the padded input gradient.

The grid width ``G`` is ``OW`` in general.  With stride 1 it is ``Wp``, the padded width: the
``G - OW`` extra columns of each grid row are outputs that run off the right edge (they are
dropped from ``Y``, and ``dY`` is zero there), but then a tap's pixels for *all* grid rows sit
back to back in ``xpad`` just as in ``cols``, so im2col and col2im move each tap's row in one
long copy instead of ``OH`` short ones -- 3-4x faster, for a few percent more multiply-adds.

Why blocks: a whole batch's ``cols`` is many megabytes; a block's stays in the CPU cache
between the loop that writes it and the product that reads it.

Why the loops run on one thread: BLAS already runs each product on every core.  Numba's
parallel loops use a second pool of threads, and two pools taking turns on the same cores
keep spinning while the other works -- measured up to 10x slower, not 2x faster.
"""

import numpy as np
from numba import njit

from ..reference.conv import conv2d_output_size

# A block's patch matrix should fit in a core's L2 cache (1-2 MB on current x86 CPUs).
_BLOCK_BYTES = 1 << 20


# The three helpers below index with unsigned integers.  Numba treats a signed index as
# possibly negative (counting from the end, as in Python) and checks every one; that check
# keeps LLVM from turning the loop into SIMD instructions and makes these copies ~5x slower.
# ``inline="always"`` makes them part of the calling loop, as if written out there.

@njit(cache=True, inline="always")
def _copy(dst, start, src, src_start, src_step, count):
    """``dst[start + t] = src[src_start + t*src_step]`` for ``t < count`` (1-D arrays)."""
    d, s, step = np.uint64(start), np.uint64(src_start), np.uint64(src_step)
    for t in range(np.uint64(count)):
        dst[d + t] = src[s + t * step]


@njit(cache=True, inline="always")
def _add(dst, start, step, src, src_start, count):
    """``dst[start + t*step] += src[src_start + t]`` for ``t < count`` (1-D arrays)."""
    d, step, s = np.uint64(start), np.uint64(step), np.uint64(src_start)
    for t in range(np.uint64(count)):
        dst[d + t * step] += src[s + t]


@njit(cache=True, inline="always")
def _copy_add(dst, start, src, src_start, count, bias):
    """``dst[start + t] = src[src_start + t] + bias`` for ``t < count`` (1-D arrays)."""
    d, s = np.uint64(start), np.uint64(src_start)
    for t in range(np.uint64(count)):
        dst[d + t] = src[s + t] + bias


@njit(cache=True)
def _im2col(xpad, kh, kw, sh, sw, dh, dw, oh, ow, g, cols):
    """``xpad (n, C, Hp, Wp)`` -> ``cols (C*KH*KW, n*OH*G)`` (see the module docstring)."""
    n, c, hp, wp = xpad.shape
    flat = xpad.reshape(-1)
    whole_rows = sh == 1 and sw == 1 and g == wp
    for r in range(c * kh * kw):
        ci, p, q = r // (kh * kw), (r // kw) % kh, r % kw
        row = cols[r]
        for m in range(n):
            src = ((m * c + ci) * hp + p * dh) * wp + q * dw
            dst = m * oh * g
            if whole_rows:  # the OH grid rows are contiguous in xpad and in cols
                _copy(row, dst, flat, src, 1, (oh - 1) * g + ow)
            else:
                for i in range(oh):
                    _copy(row, dst + i * g, flat, src + i * sh * wp, sw, ow)


@njit(cache=True)
def _col2im(dcols, kh, kw, sh, sw, dh, dw, oh, ow, g, dxpad):
    """Adjoint of :func:`_im2col`: ``dcols (C*KH*KW, n*OH*G)`` -> ``dxpad (n, C, Hp, Wp)``.

    Pixels under several patches collect several contributions.  With whole-row copies the
    extra grid columns are added too; they are exactly 0, since ``dY`` is 0 there.
    """
    n, c, hp, wp = dxpad.shape
    flat = dxpad.reshape(-1)
    flat[:] = 0
    whole_rows = sh == 1 and sw == 1 and g == wp
    for r in range(c * kh * kw):
        ci, p, q = r // (kh * kw), (r // kw) % kh, r % kw
        row = dcols[r]
        for m in range(n):
            dst = ((m * c + ci) * hp + p * dh) * wp + q * dw
            src = m * oh * g
            if whole_rows:
                _add(flat, dst, 1, row, src, (oh - 1) * g + ow)
            else:
                for i in range(oh):
                    _add(flat, dst + i * sh * wp, sw, row, src + i * g, ow)


@njit(cache=True)
def _grid_to_nchw(yg, b, g, y):
    """``y[m, k, i, j] = yg[k, (m*OH + i)*G + j] + b[k]``: drop the extra grid columns, add the bias."""
    n, k, oh, ow = y.shape
    for m in range(n):
        for ki in range(k):
            out = y[m, ki].reshape(-1)
            for i in range(oh):
                _copy_add(out, i * ow, yg[ki], (m * oh + i) * g, ow, b[ki])


@njit(cache=True)
def _nchw_to_grid(dy, g, dyg, db):
    """``dyg[k, (m*OH + i)*G + j] = dy[m, k, i, j]`` and ``db[k] += dy[:, k].sum()``.

    The extra grid columns of ``dyg`` are not written: they stay 0 from its allocation.
    """
    n, k, oh, ow = dy.shape
    for ki in range(k):
        # column sums, in float64: adding element-wise into a vector keeps the loop SIMD
        sums = np.zeros(ow)
        for m in range(n):
            src = dy[m, ki].reshape(-1)
            for i in range(oh):
                _copy(dyg[ki], (m * oh + i) * g, src, i * ow, 1, ow)
                _add(sums, 0, 1, src, i * ow, ow)
        db[ki] += sums.sum()


class _Plan:
    """Shapes, image blocks and work buffers of one convolution."""

    def __init__(self, x_shape, w_shape, stride, padding, dilation, dtype):
        n, c, h, wd = x_shape
        k, _, kh, kw = w_shape
        (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
        self.oh = conv2d_output_size(h, kh, sh, ph, dh)
        self.ow = conv2d_output_size(wd, kw, sw, pw, dw)
        self.padded_shape = (c, h + 2 * ph, wd + 2 * pw)
        self.g = self.padded_shape[2] if (sh, sw) == (1, 1) else self.ow
        self.geo = (kh, kw, sh, sw, dh, dw, self.oh, self.ow, self.g)
        self.crop = (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + wd)) if ph or pw else None
        self.rows, self.k, self.dtype = c * kh * kw, k, dtype
        per_image = self.rows * self.oh * self.g * np.dtype(dtype).itemsize
        size = max(1, min(n, _BLOCK_BYTES // per_image))
        self.blocks = [(s, min(s + size, n)) for s in range(0, n, size)]
        self._buffers = {}

    def buffer(self, name, shape):
        """A work array, zero-filled when first made and reused by later blocks of that size:
        the padding border and the extra grid columns are never written, so they stay 0."""
        if (name, shape) not in self._buffers:
            self._buffers[name, shape] = np.zeros(shape, self.dtype)
        return self._buffers[name, shape]

    def patches(self, x, start, stop):
        """``cols`` of images ``start:stop``, through a zero-padded copy when there is padding."""
        m = stop - start
        xpad = x[start:stop]
        if self.crop is not None:
            xpad = self.buffer("xpad", (m,) + self.padded_shape)
            xpad[self.crop] = x[start:stop]
        cols = self.buffer("cols", (self.rows, m * self.oh * self.g))
        _im2col(xpad, *self.geo, cols)
        return cols

    def add_patches(self, dcols, dx, start, stop):
        """col2im of ``dcols`` into ``dx[start:stop]``, through a padded buffer when there is padding."""
        if self.crop is None:
            _col2im(dcols, *self.geo, dx[start:stop])
        else:
            dxpad = self.buffer("dxpad", (stop - start,) + self.padded_shape)
            _col2im(dcols, *self.geo, dxpad)
            dx[start:stop] = dxpad[self.crop]


def conv2d_forward(x, w, b, stride, padding, dilation):
    """y[n, k, i, j] = b[k] + sum_{c,p,q} w[k, c, p, q] xpad[n, c, i sh + p dh, j sw + q dw] (F3 over im2col).

    x (N, C, H, W), w (K, C, KH, KW), b (K,) or None -> y (N, K, OH, OW)."""
    dtype = np.result_type(x, w)
    plan = _Plan(x.shape, w.shape, stride, padding, dilation, dtype)
    n, k = x.shape[0], w.shape[0]
    x = np.ascontiguousarray(x, dtype=dtype)
    wmat = w.reshape(k, -1).astype(dtype, copy=False)
    bias = np.zeros(k, dtype) if b is None else np.asarray(b, dtype=dtype)
    y = np.empty((n, k, plan.oh, plan.ow), dtype=dtype)
    for start, stop in plan.blocks:
        cols = plan.patches(x, start, stop)
        yg = np.matmul(wmat, cols, out=plan.buffer("grid", (k, cols.shape[1])))
        _grid_to_nchw(yg, bias, plan.g, y[start:stop])
    return y


def conv2d_backward(dy, x, w, stride, padding, dilation, input_grad=True):
    """``(dx, dw, db)``; ``dx`` is None when ``input_grad`` is false (a first layer's input)."""
    dtype = np.result_type(dy, x, w)
    plan = _Plan(x.shape, w.shape, stride, padding, dilation, dtype)
    k = w.shape[0]
    x = np.ascontiguousarray(x, dtype=dtype)
    dy = np.ascontiguousarray(dy, dtype=dtype)
    wmat_t = w.reshape(k, -1).T.astype(dtype, copy=False)
    dw_t = np.zeros((plan.rows, k), dtype)  # dW transposed: BLAS is fastest at cols @ dY.T
    db = np.zeros(k, dtype)
    dx = np.empty(x.shape, dtype=dtype) if input_grad else None
    for start, stop in plan.blocks:
        cols = plan.patches(x, start, stop)
        dyg = plan.buffer("grid", (k, cols.shape[1]))
        _nchw_to_grid(dy[start:stop], plan.g, dyg, db)
        dw_t += cols @ dyg.T
        if not input_grad:
            continue
        dcols = np.matmul(wmat_t, dyg, out=cols)  # cols is not needed any more
        plan.add_patches(dcols, dx, start, stop)
    return dx, np.ascontiguousarray(dw_t.T).reshape(w.shape), db
