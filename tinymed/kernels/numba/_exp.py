r"""e^x for float32, in plain arithmetic that LLVM turns into SIMD instructions inside a loop.

A Numba loop that calls ``np.exp`` calls the C library's scalar ``expf`` once per element, which
no loop around it can vectorise; NumPy's own ``exp`` is vectorised but is a whole-array pass of
its own.  With :func:`exp_float32` a kernel can compute its exponentials in the same loop as the
rest of its arithmetic and pass over the data once (GELU: one pass instead of three).

The method, for :math:`x` clamped to :math:`[-87.3, 89]`: write :math:`x = n \ln 2 + r` with
:math:`n` the integer nearest to :math:`x / \ln 2`, so that :math:`|r| \le \ln 2 / 2`; then
:math:`e^x = 2^n e^r`.  Above 89 float32's :math:`e^x` is inf, and the clamp keeps it.  Below
-87.3 the result is 0: :math:`e^x` would be one of float32's subnormal numbers, below
:math:`1.2 \cdot 10^{-38}`, and arithmetic that makes subnormals is tens of times slower on
x86: over 4 million inputs of which half were -inf, computing them took 39 ms instead of 3.5.

* :math:`r = (x - n c_1) - n c_2` with :math:`c_1 + c_2 = \ln 2` and :math:`c_1` short (nine
  significant bits), so that :math:`n c_1` is exact and the subtraction loses nothing (Cody and
  Waite's reduction);
* :math:`e^r` is its Taylor polynomial to degree 7, :math:`\sum_{k \le 7} r^k / k!`, in Horner's
  form: the first term left out is below :math:`0.35^8 / 8! < 10^{-8}`, a sixth of float32's
  rounding unit;
* :math:`2^n` is built from its bits: an IEEE float32 :math:`2^m` is the integer
  :math:`(m + 127) \cdot 2^{23}` read as a float, for :math:`-126 \le m \le 127`.  :math:`n`
  runs from -126 to 128, so it is applied as two factors :math:`2^{\lfloor n/2 \rfloor}` and
  :math:`2^{n - \lfloor n/2 \rfloor}`, each in range; the second product overflows to inf
  exactly where :math:`e^x` does.

Measured over 2 million points of :math:`[-87.3, 90]` against float64's ``exp``: at most 1.2
float32 units in the last place (NumPy's own float32 ``exp``: 2.4).  NaN stays NaN.

Editing this file: Numba's on-disk cache (``cache=True``) keys each compiled kernel on its own
source file only, and the kernels that call these functions are in other files; delete
``tinymed/kernels/numba/__pycache__`` afterwards, or they keep the compiled old version.
"""

import math

import numpy as np
from numba import njit

_LOG2_E = np.float32(1 / math.log(2))
_LN2_HIGH = np.float32(0.693359375)  # 355 / 512: n * _LN2_HIGH is exact for |n| <= 2^15
_LN2_LOW = np.float32(math.log(2) - 0.693359375)
_LOWEST = np.float32(-87.3)  # e^-87.3 = 1.2e-38, just above the smallest normal float32
_HIGHEST = np.float32(89.0)  # e^89 is above the largest float32: inf
_HALF, _ZERO = np.float32(0.5), np.float32(0)
_INVERSE_FACTORIALS = tuple(np.float32(1 / math.factorial(k)) for k in range(8))


@njit(cache=True)
def _power_of_two(m):
    """2^m as a float32, for an int32 m in [-126, 127]: the bits (m + 127) << 23."""
    return np.int32((m + 127) << 23).view(np.float32)


@njit(cache=True)
def exp_float32(x):
    """e^x for a float32 x (see the module's docstring for the method)."""
    y = x if x >= _LOWEST else _LOWEST  # a NaN too, so that n is an integer; it is given back at the end
    y = _HIGHEST if y > _HIGHEST else y
    n = np.floor(y * _LOG2_E + _HALF)
    r = (y - n * _LN2_HIGH) - n * _LN2_LOW
    c = _INVERSE_FACTORIALS
    p = ((((((c[7] * r + c[6]) * r + c[5]) * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r + c[0]
    k = np.int32(n)
    half = k >> 1  # floor(k / 2)
    e = p * _power_of_two(half) * _power_of_two(k - half)
    e = _ZERO if x < _LOWEST else e
    return e if x == x else x
