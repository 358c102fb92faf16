"""Losses as per-element (or per-row) Numba loops; the reduction is shared with the reference.

The formulas, and why each is written the way it is (log-sum-exp, the log clamp of -100,
the stable logits form), are in :mod:`tinymed.kernels.reference.losses`.  The loops run on
one thread, for the reason given in :mod:`tinymed.kernels.numba.activations`.  Cross-entropy
over many classes (a language model's vocabulary) is mostly exponentials: those, the row
maxima and the shift are NumPy's vectorised passes, and Numba loops sum each row in float64
(in SIMD lanes: :mod:`~tinymed.kernels.numba._reductions`).
"""

import numpy as np
from numba import njit

from ..reference.losses import _BCE_GRAD_EPS, _LOG_CLAMP, _reduce, _scale
from ._reductions import row_sum


@njit(cache=True)
def _squared_error(x, t, out):
    """out_i = (x_i - t_i)^2 over flat arrays."""
    for i in range(x.size):
        d = x[i] - t[i]
        out[i] = d * d


@njit(cache=True)
def _squared_error_grad(x, t, scale, dx):
    """dx_i = 2 (x_i - t_i) * scale_i (scale = upstream gradient, / n for a mean)."""
    for i in range(x.size):
        dx[i] = 2 * (x[i] - t[i]) * scale[i]


@njit(cache=True)
def _bce(p, t, out):
    """out_i = -[t_i log p_i + (1 - t_i) log(1 - p_i)], each log clamped at -100."""
    for i in range(p.size):
        log_p = max(np.log(p[i]), _LOG_CLAMP)
        log_1mp = max(np.log(1 - p[i]), _LOG_CLAMP)
        out[i] = -(t[i] * log_p + (1 - t[i]) * log_1mp)


@njit(cache=True)
def _bce_grad(p, t, scale, dp):
    """dp_i = (p_i - t_i) / max(p_i (1 - p_i), 1e-12) * scale_i."""
    for i in range(p.size):
        dp[i] = (p[i] - t[i]) / max(p[i] * (1 - p[i]), _BCE_GRAD_EPS) * scale[i]


@njit(cache=True)
def _bce_logits(z, t, out):
    """out_i = max(z_i, 0) - z_i t_i + log(1 + e^{-|z_i|}) (stable for any z)."""
    for i in range(z.size):
        out[i] = max(z[i], 0) - z[i] * t[i] + np.log1p(np.exp(-abs(z[i])))


@njit(cache=True)
def _bce_logits_grad(z, t, scale, dz):
    """dz_i = (sigmoid(z_i) - t_i) * scale_i."""
    for i in range(z.size):
        e = np.exp(-abs(z[i]))
        sig = 1 / (1 + e) if z[i] >= 0 else e / (1 + e)
        dz[i] = (sig - t[i]) * scale[i]


@njit(cache=True)
def _log_sum_minus_picked(e, picked, out):
    """out_r = log(sum_c e_rc) - picked_r, the sum in float64: with e = exp(z - m) and picked_r =
    z_r[target_r] - m this is logsumexp(z_r) - z_r[target_r], the shift cancelled exactly."""
    for r in range(e.shape[0]):
        out[r] = np.log(row_sum(e[r])) - picked[r]


@njit(cache=True)
def _normalise_rows_and_subtract_target(e, target, scale):
    """e_rc <- (e_rc / sum_c e_rc - [c = target_r]) * scale_r, in place, the sum in float64."""
    for r in range(e.shape[0]):
        s = row_sum(e[r])
        factor = scale[r] / s
        for k in range(e.shape[1]):
            e[r, k] *= factor
        e[r, target[r]] -= scale[r]


def _shifted_exponentials(z, target):
    """``(exp(z - rowmax), z[target] - rowmax)`` for logits z (N, C), targets (N,).

    Subtracting each row's maximum makes the largest exponent 0, so exp never overflows.  These
    passes are NumPy's: its row maximum, subtraction and exponential are vectorised (SIMD), where
    Numba's loops call the C library's scalar ``exp`` (see :mod:`tinymed.kernels.numba.attention`).
    """
    e = np.subtract(z, z.max(axis=1, keepdims=True, initial=-np.inf))  # initial: an empty batch has no maximum
    picked = e[np.arange(z.shape[0]), target]
    np.exp(e, out=e)
    return e, picked


def _flat(a, dtype):
    return np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def _pointwise(kernel, x, t, reduction):
    out = np.empty(x.shape, dtype=x.dtype)
    kernel(_flat(x, x.dtype), _flat(t, x.dtype), out.reshape(-1))
    return _reduce(out, reduction)


def _pointwise_grad(kernel, dout, x, t, reduction):
    scale = np.broadcast_to(np.asarray(_scale(dout, x.size, reduction), dtype=x.dtype), x.shape)
    dx = np.empty(x.shape, dtype=x.dtype)
    kernel(_flat(x, x.dtype), _flat(t, x.dtype), _flat(scale, x.dtype), dx.reshape(-1))
    return dx


def mse_loss_forward(input, target, reduction="mean"):
    """L = reduce((input - target)^2); input and target of one shape."""
    return _pointwise(_squared_error, input, target, reduction)


def mse_loss_backward(dout, input, target, reduction="mean"):
    """(d input, d target) = (g, -g) with g = dout * 2 (input - target), divided by the count for 'mean'."""
    d_input = _pointwise_grad(_squared_error_grad, dout, input, target, reduction)
    return d_input, -d_input


def binary_cross_entropy_forward(input, target, reduction="mean"):
    """L = reduce(-[y log p + (1 - y) log(1 - p)]), logs clamped at -100 as PyTorch; p = input in [0, 1]."""
    return _pointwise(_bce, input, target, reduction)


def binary_cross_entropy_backward(dout, input, target, reduction="mean"):
    """d p = dout * (p - y) / max(p (1 - p), 1e-12), divided by the count for 'mean'."""
    return _pointwise_grad(_bce_grad, dout, input, target, reduction)


def binary_cross_entropy_with_logits_forward(logits, target, reduction="mean"):
    """L = reduce(max(z, 0) - z y + log(1 + e^{-|z|})): stable for any logit z."""
    return _pointwise(_bce_logits, logits, target, reduction)


def binary_cross_entropy_with_logits_backward(dout, logits, target, reduction="mean"):
    """d z = dout * (sigmoid(z) - y), divided by the count for 'mean'."""
    return _pointwise_grad(_bce_logits_grad, dout, logits, target, reduction)


def cross_entropy_forward(logits, target, reduction="mean"):
    """L_n = log sum_c e^{z_nc} - z_{n,t_n}; logits (N, C), integer targets (N,) in [0, C)."""
    z, t = np.ascontiguousarray(logits), np.ascontiguousarray(target, dtype=np.int64)
    e, picked = _shifted_exponentials(z, t)
    out = np.empty(z.shape[0], dtype=z.dtype)
    _log_sum_minus_picked(e, picked, out)
    return _reduce(out, reduction)


def cross_entropy_backward(dout, logits, target, reduction="mean"):
    """d z_nc = dout * (softmax(z_n)_c - [c = t_n]), divided by N for 'mean'; logits (N, C).

    A row weighted 0 -- an ignored label, such as every unmasked token of a masked-LM batch --
    has gradient 0 whatever its logits (PyTorch's too), so only the other rows are computed."""
    n = logits.shape[0]
    scale = np.ascontiguousarray(np.broadcast_to(np.asarray(_scale(dout, n, reduction), dtype=logits.dtype), (n,)))
    z, t = np.ascontiguousarray(logits), np.ascontiguousarray(target, dtype=np.int64)
    weighted = np.flatnonzero(scale)
    if 2 * weighted.size >= n:   # most rows count: compute them all, then zero the others
        dz, _ = _shifted_exponentials(z, t)
        _normalise_rows_and_subtract_target(dz, t, scale)
        dz[scale == 0] = 0
        return dz
    dz = np.zeros_like(z)
    e, _ = _shifted_exponentials(z[weighted], t[weighted])
    _normalise_rows_and_subtract_target(e, t[weighted], scale[weighted])
    dz[weighted] = e
    return dz
