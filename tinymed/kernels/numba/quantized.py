"""Int8 inference in compiled loops (the reference, ``kernels/reference/quantized.py``, has the formulas).

NumPy has no BLAS for integers: ``int32 @ int32`` runs a plain triple loop in C, one thread.
Here the loops run on every core (``prange`` over rows or images; no BLAS runs inside them, so
no second thread pool competes) and the innermost loop walks contiguous memory, which LLVM
turns into SIMD integer multiply-adds.  The sums are exact integers, so the results equal the
reference's bit for bit.
"""

import numpy as np
from numba import njit, prange

from ..reference.conv import im2col

__all__ = ["int8_linear_forward", "int8_conv2d_forward"]


@njit(cache=True, parallel=True)
def _dot_rows(a, b, out):
    """``out[m, j] = sum_k a[m, k] * b[j, k]`` in int32; a int16 (M, K), b int8 (J, K)."""
    m_rows, k_len = a.shape
    for m in prange(m_rows):
        for j in range(b.shape[0]):
            acc = np.int32(0)
            for k in range(k_len):
                acc += np.int32(a[m, k]) * np.int32(b[j, k])
            out[m, j] = acc


@njit(cache=True, parallel=True)
def _filters_times_patches(w, cols, out):
    """``out[n, j, o] = sum_k w[j, k] * cols[n, k, o]`` in int32; w int8 (J, K), cols int16 (N, K, L).

    For each image and filter, one tap at a time adds ``w[j, k] * cols[n, k, :]`` onto the
    output row: the inner loop runs along contiguous positions ``o``.
    """
    n_images, k_len, length = cols.shape
    for n in prange(n_images):
        for j in range(w.shape[0]):
            row = out[n, j]
            for k in range(k_len):
                weight = np.int32(w[j, k])
                patch = cols[n, k]
                for o in range(length):
                    row[o] += weight * np.int32(patch[o])


def int8_linear_forward(qx, x_zero_point, qw):
    """Same as the reference: qx int8 (M, K), qw int8 (J, K) -> int32 (M, J)."""
    shifted = np.ascontiguousarray(qx, dtype=np.int16) - np.int16(x_zero_point)
    out = np.empty((qx.shape[0], qw.shape[0]), dtype=np.int32)
    _dot_rows(shifted, np.ascontiguousarray(qw), out)
    return out


def int8_conv2d_forward(qx, x_zero_point, qw, stride, padding, dilation):
    """Same as the reference: qx int8 (N, C, H, W), qw int8 (J, C, KH, KW) -> int32 (N, J, OH, OW)."""
    n = qx.shape[0]
    j, c, kh, kw = qw.shape
    shifted = np.asarray(qx, dtype=np.int16) - np.int16(x_zero_point)
    cols = im2col(shifted, kh, kw, stride, padding, dilation)
    oh, ow = cols.shape[-2:]
    out = np.zeros((n, j, oh * ow), dtype=np.int32)
    _filters_times_patches(np.ascontiguousarray(qw.reshape(j, c * kh * kw)),
                           cols.reshape(n, c * kh * kw, oh * ow), out)
    return out.reshape(n, j, oh, ow)
