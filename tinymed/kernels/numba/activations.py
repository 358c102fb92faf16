"""Activations as fused loops over a flat view of the array.

The loops run on one thread on purpose.  They are limited by memory bandwidth, so more threads
gain little, while Numba's thread pool and the BLAS pool that runs the layers around them
spin against each other on the same cores (see :mod:`tinymed.kernels.numba.conv`); on a busy
2-core machine a parallel ReLU of a LeNet batch took 7 ms instead of well under 1 ms.  Measured
again on an idle 2-core machine, with GPT's GELU between the two BLAS products around it: a
``prange`` loop made the three together 1.7-1.9x slower than the loop on one thread.

What makes a loop fast is SIMD: LLVM computes 8 or 16 elements per instruction where it can.
A division stops it under Numba's default error model, which checks every divisor for zero to
raise ``ZeroDivisionError`` as Python would; the GELU loops that divide are compiled with
``error_model="numpy"`` (a zero divisor gives inf or NaN, as in NumPy -- theirs never is zero),
which makes them 4-5x faster and changes no result.

GELU's tanh form (GPT-2's) needs an exponential per element.  In float64 it is NumPy's vectorised
``exp``, a whole-array pass between two Numba passes.  In float32 each loop computes it with
:func:`~tinymed.kernels.numba._exp.exp_float32` and passes over the data once, with no array of
exponentials: inside a GPT-2 training step the forward and backward take 14 ms instead of 21
(4 layers of (16, 128, 512)).  The float32 loops compute in float32 throughout, as the NumPy
reference does.
"""

import math

import numpy as np
from numba import njit

from ._exp import exp_float32


def _flat(a):
    return np.ascontiguousarray(a).reshape(-1)


@njit(cache=True)
def _relu(x, y):
    """y_i = max(x_i, 0) over flat arrays x, y of equal size."""
    for i in range(x.size):
        y[i] = 0 if x[i] < 0 else x[i]


@njit(cache=True)
def _relu_grad(dy, x, dx):
    """dx_i = dy_i where x_i > 0, else 0."""
    for i in range(x.size):
        dx[i] = dy[i] if x[i] > 0 else 0


@njit(cache=True)
def _sigmoid(x, y):
    """y_i = 1/(1+e^{-x_i}), written so exp never sees a positive argument."""
    for i in range(x.size):
        e = np.exp(-abs(x[i]))
        y[i] = 1 / (1 + e) if x[i] >= 0 else e / (1 + e)


@njit(cache=True)
def _sigmoid_grad(dy, y, dx):
    """dx_i = dy_i * y_i * (1 - y_i), from the output y."""
    for i in range(y.size):
        dx[i] = dy[i] * y[i] * (1 - y[i])


@njit(cache=True)
def _tanh(x, y):
    """y_i = tanh(x_i)."""
    for i in range(x.size):
        y[i] = np.tanh(x[i])


@njit(cache=True)
def _tanh_grad(dy, y, dx):
    """dx_i = dy_i * (1 - y_i^2), from the output y."""
    for i in range(y.size):
        dx[i] = dy[i] * (1 - y[i] * y[i])


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2 = 1 / math.sqrt(2)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_CUBIC = 0.044715


@njit(cache=True)
def _gelu_erf(x, y):
    """y_i = x_i Phi(x_i), Phi(x) = (1 + erf(x / sqrt 2)) / 2."""
    for i in range(x.size):
        y[i] = x[i] * 0.5 * (1 + math.erf(x[i] * _INV_SQRT_2))


@njit(cache=True)
def _gelu_erf_grad(dy, x, dx):
    """dx_i = dy_i (Phi(x_i) + x_i phi(x_i)), phi the standard normal density."""
    for i in range(x.size):
        v = x[i]
        dx[i] = dy[i] * (0.5 * (1 + math.erf(v * _INV_SQRT_2)) + v * math.exp(-0.5 * v * v) * _INV_SQRT_2PI)


@njit(cache=True)
def _minus_two_u(x, e):
    """e_i = -2 u_i, u = sqrt(2/pi) (x + 0.044715 x^3): the exponent of the tanh form written as a sigmoid."""
    for i in range(x.size):
        v = x[i]
        e[i] = -2 * _SQRT_2_OVER_PI * (v + _TANH_CUBIC * v * v * v)


@njit(cache=True, error_model="numpy")  # 1 + e_i >= 1: the division never sees zero
def _gelu_tanh_from_exp(x, e, y):
    """y_i = x_i / (1 + e_i), e = exp(-2u): (1 + tanh u)/2 is the sigmoid of 2u."""
    for i in range(x.size):
        y[i] = x[i] / (1 + e[i])


@njit(cache=True, error_model="numpy")  # 1 + e_i >= 1: the division never sees zero
def _gelu_tanh_grad_from_exp(dy, x, e, dx):
    """dx_i = dy_i (s + 2 x s (1 - s) u'), s = 1/(1 + e_i), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)."""
    for i in range(x.size):
        v = x[i]
        s = 1 / (1 + e[i])
        dx[i] = dy[i] * (s + 2 * v * s * (1 - s) * _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * v * v))


# The tanh form's constants in float32, for the float32 loops below: a float64 constant would
# make Numba compute in float64, with half as many SIMD lanes
_MINUS_TWO_SQRT_2_OVER_PI_F32 = np.float32(-2 * _SQRT_2_OVER_PI)
_SQRT_2_OVER_PI_F32 = np.float32(_SQRT_2_OVER_PI)
_TANH_CUBIC_F32 = np.float32(_TANH_CUBIC)
_THREE_TANH_CUBIC_F32 = np.float32(3 * _TANH_CUBIC)
_ONE_F32, _TWO_F32 = np.float32(1), np.float32(2)


@njit(cache=True, error_model="numpy")  # 1 + e_i >= 1: the division never sees zero
def _gelu_tanh_float32(x, y):
    """y_i = x_i / (1 + e_i), e_i = exp(-2 u_i), all in float32, the exponential computed here."""
    for i in range(x.size):
        v = x[i]
        e = exp_float32(_MINUS_TWO_SQRT_2_OVER_PI_F32 * (v + _TANH_CUBIC_F32 * v * v * v))
        y[i] = v / (_ONE_F32 + e)


@njit(cache=True, error_model="numpy")  # 1 + e_i >= 1: the division never sees zero
def _gelu_tanh_grad_float32(dy, x, dx):
    """dx_i = dy_i (s + 2 x s (1 - s) u'), s = 1/(1 + e_i), all in float32, the exponential computed here."""
    for i in range(x.size):
        v = x[i]
        e = exp_float32(_MINUS_TWO_SQRT_2_OVER_PI_F32 * (v + _TANH_CUBIC_F32 * v * v * v))
        s = _ONE_F32 / (_ONE_F32 + e)
        dx[i] = dy[i] * (s + _TWO_F32 * v * s * (_ONE_F32 - s) * _SQRT_2_OVER_PI_F32
                         * (_ONE_F32 + _THREE_TANH_CUBIC_F32 * v * v))


def _tanh_form_exponentials(x):
    """exp(-2u) for every element of x, flat.  NumPy's exp is vectorised (SIMD); the C library's
    scalar exp and tanh that a Numba loop calls are several times slower (see the attention kernels)."""
    flat = _flat(x)
    e = np.empty(flat.shape, dtype=flat.dtype)
    _minus_two_u(flat, e)
    with np.errstate(over="ignore"):  # exp(-2u) = inf for very negative x: then y = x / inf = 0, as it should
        return flat, np.exp(e, out=e)


def _elementwise(kernel, *arrays):
    out = np.empty(arrays[0].shape, dtype=np.result_type(*arrays))
    kernel(*[_flat(a) for a in arrays], out.reshape(-1))
    return out


def relu_forward(x):
    """y = max(x, 0), elementwise; any shape."""
    return _elementwise(_relu, x)


def relu_backward(dy, x):
    """dx = dy * [x > 0]; dy and x of one shape."""
    return _elementwise(_relu_grad, dy, x)


def sigmoid_forward(x):
    """y = 1 / (1 + e^{-x}), elementwise, never overflowing; any shape."""
    return _elementwise(_sigmoid, x)


def sigmoid_backward(dy, y):
    """dx = dy * y (1 - y), from the forward output y; one shape."""
    return _elementwise(_sigmoid_grad, dy, y)


def tanh_forward(x):
    """y = tanh x, elementwise; any shape."""
    return _elementwise(_tanh, x)


def tanh_backward(dy, y):
    """dx = dy * (1 - y^2), from the forward output y; one shape."""
    return _elementwise(_tanh_grad, dy, y)


def gelu_forward(x, approximate="none"):
    """y = x Phi(x) (exact) or x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))) / 2 ("tanh"); any shape.

    The tanh form is computed as x sigmoid(2u) = x / (1 + exp(-2u)), the same function."""
    if approximate != "tanh":
        return _elementwise(_gelu_erf, x)
    if x.dtype == np.float32:
        return _elementwise(_gelu_tanh_float32, x)
    flat, e = _tanh_form_exponentials(x)
    y = np.empty(x.shape, dtype=e.dtype)
    _gelu_tanh_from_exp(flat, e, y.reshape(-1))
    return y


def gelu_backward(dy, x, approximate="none"):
    """dx = dy * GELU'(x), from the input x, in the form ``approximate`` names; one shape."""
    if approximate != "tanh":
        return _elementwise(_gelu_erf_grad, dy, x)
    if x.dtype == np.float32 and dy.dtype == np.float32:
        return _elementwise(_gelu_tanh_grad_float32, dy, x)
    flat, e = _tanh_form_exponentials(x)
    dx = np.empty(x.shape, dtype=np.result_type(dy, x))
    _gelu_tanh_grad_from_exp(_flat(dy), flat, e, dx.reshape(-1))
    return dx


@njit(cache=True)
def _softmax_rows(x, y, log):
    """Softmax (or log-softmax) of each row of a 2-D array, max-shifted."""
    for r in range(x.shape[0]):
        m = x[r, 0]
        for k in range(1, x.shape[1]):
            if x[r, k] > m:
                m = x[r, k]
        s = 0.0
        for k in range(x.shape[1]):
            s += np.exp(x[r, k] - m)
        if log:
            lse = np.log(s)
            for k in range(x.shape[1]):
                y[r, k] = x[r, k] - m - lse
        else:
            for k in range(x.shape[1]):
                y[r, k] = np.exp(x[r, k] - m) / s


@njit(cache=True)
def _softmax_rows_grad(dy, y, dx, log):
    """Row-wise Jacobian-vector product of softmax (``log=False``) or log-softmax."""
    for r in range(y.shape[0]):
        s = 0.0
        for k in range(y.shape[1]):
            s += dy[r, k] if log else dy[r, k] * y[r, k]
        for k in range(y.shape[1]):
            if log:
                dx[r, k] = dy[r, k] - np.exp(y[r, k]) * s
            else:
                dx[r, k] = y[r, k] * (dy[r, k] - s)


def _rows(a, dim):
    """Move ``dim`` last and view as contiguous rows."""
    moved = np.moveaxis(a, dim, -1)
    return np.ascontiguousarray(moved).reshape(-1, a.shape[dim]), moved.shape


def _unrows(rows, moved_shape, dim):
    return np.moveaxis(rows.reshape(moved_shape), -1, dim)


def _softmax_forward(x, dim, log):
    rows, moved_shape = _rows(x, dim)
    out = np.empty_like(rows)
    _softmax_rows(rows, out, log)
    return _unrows(out, moved_shape, dim)


def _softmax_backward(dy, y, dim, log):
    dy_rows, moved_shape = _rows(dy, dim)
    y_rows, _ = _rows(y, dim)
    dx = np.empty_like(y_rows)
    _softmax_rows_grad(dy_rows, y_rows, dx, log)
    return _unrows(dx, moved_shape, dim)


def softmax_forward(x, dim):
    """y_i = e^{x_i - max x} / sum_k e^{x_k - max x} along ``dim``; any shape."""
    return _softmax_forward(x, dim, False)


def softmax_backward(dy, y, dim):
    """dx_i = y_i (dy_i - sum_k dy_k y_k) along ``dim``; dy and y of one shape."""
    return _softmax_backward(dy, y, dim, False)


def log_softmax_forward(x, dim):
    """y_i = x_i - max x - log sum_k e^{x_k - max x} along ``dim``; any shape."""
    return _softmax_forward(x, dim, True)


def log_softmax_backward(dy, y, dim):
    """dx_i = dy_i - e^{y_i} sum_k dy_k along ``dim`` (y is the forward output)."""
    return _softmax_backward(dy, y, dim, True)
