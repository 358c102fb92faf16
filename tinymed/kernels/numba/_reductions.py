"""Reductions over one row, shared by the row-wise kernels (attention's softmax, layer norm,
cross-entropy); called from inside their loops, one row at a time.

A running sum ``s += x[j]`` is a chain: each addition waits for the one before.  Floating-point
addition is not associative, so LLVM may not reorder the chain into SIMD lanes unless it is told
it may.  The sums here are told so, and only they: ``fastmath={"reassoc"}`` on these small
functions, not on the kernels that call them.  A row is then added in vector lanes, several
partial sums combined at the end -- 3.5-5x faster than the chain over rows of 128 to 2048 floats,
and no less accurate (partial sums are what pairwise summation does too).

The order of the additions is fixed when a function is compiled: it depends on the CPU's vector
width, never on the data, the call or the number of threads.  The same row always gives the same
bits on one machine; another CPU may round the last bit differently.  (Under
``NUMBA_DISABLE_JIT=1`` the sums run in plain order and may differ in the last bit.)

A maximum needs no such permission: it is exact in any order.  :func:`row_max` keeps eight
running maxima, independent comparisons the CPU overlaps, and takes the largest of them at the
end -- 5-6x faster than one running maximum, and bit for bit the same result.

Editing this file: Numba's on-disk cache (``cache=True``) keys each compiled kernel on its own
source file only, and the kernels that call these functions are in other files; delete
``tinymed/kernels/numba/__pycache__`` afterwards, or they keep the compiled old version.
"""

import numpy as np
from numba import njit


@njit(cache=True, fastmath={"reassoc"})
def row_sum(row):
    """sum_j row_j, in float64."""
    total = 0.0
    for j in range(row.size):
        total += row[j]
    return total


@njit(cache=True, fastmath={"reassoc"})
def row_dot(a, b):
    """sum_j a_j b_j, each product in the arrays' dtype, the sum in float64."""
    total = 0.0
    for j in range(a.size):
        total += a[j] * b[j]
    return total


@njit(cache=True, fastmath={"reassoc"})
def row_squared_deviation(row, centre):
    """sum_j (row_j - centre)^2, in float64 (centre a float64)."""
    total = 0.0
    for j in range(row.size):
        d = row[j] - centre
        total += d * d
    return total


@njit(cache=True, fastmath={"reassoc"})
def layer_norm_grad_sums(dy, x, weight, mean, rstd):
    """(sum_j g_j, sum_j g_j x̂_j) with g = dy γ and x̂ = (x - mean) rstd, both in float64."""
    g_total = 0.0
    gx_total = 0.0
    for j in range(x.size):
        g = dy[j] * weight[j]
        g_total += g
        gx_total += g * ((x[j] - mean) * rstd)
    return g_total, gx_total


@njit(cache=True)
def row_max(row):
    """max_j row_j; -inf for an empty row.  Like ``if v > top: top = v``, a NaN never wins."""
    width = row.size
    lanes_end = width - width % 8
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row.dtype.type(-np.inf)
    for j in range(0, lanes_end, 8):  # lane k sees the elements j + k
        m0 = row[j] if row[j] > m0 else m0
        m1 = row[j + 1] if row[j + 1] > m1 else m1
        m2 = row[j + 2] if row[j + 2] > m2 else m2
        m3 = row[j + 3] if row[j + 3] > m3 else m3
        m4 = row[j + 4] if row[j + 4] > m4 else m4
        m5 = row[j + 5] if row[j + 5] > m5 else m5
        m6 = row[j + 6] if row[j + 6] > m6 else m6
        m7 = row[j + 7] if row[j + 7] > m7 else m7
    top = m0
    for m in (m1, m2, m3, m4, m5, m6, m7):
        top = m if m > top else top
    for j in range(lanes_end, width):
        top = row[j] if row[j] > top else top
    return top
