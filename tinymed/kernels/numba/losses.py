"""Losses as per-element (or per-row) Numba loops; the reduction is shared with the reference.

The formulas, and why each is written the way it is (log-sum-exp, the log clamp of -100,
the stable logits form), are in :mod:`tinymed.kernels.reference.losses`.  The loops run on
one thread, for the reason given in :mod:`tinymed.kernels.numba.activations`.  Cross-entropy
over many classes (a language model's vocabulary) is mostly exponentials: those are NumPy's
vectorised pass, and Numba loops shift each row by its maximum and sum it in float64 (in SIMD
lanes: :mod:`~tinymed.kernels.numba._reductions`), block by block of rows that stay in the cache.
"""

import numpy as np
from numba import njit

from ..reference.losses import _BCE_GRAD_EPS, _LOG_CLAMP, _reduce, _scale
from ._reductions import row_max, row_sum


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


@njit(cache=True)
def _shift_rows_by_max(z, e):
    """e_rc = z_rc - max_c z_rc: each row moved so that its largest entry is 0, and exp of it can
    never overflow."""
    for r in range(z.shape[0]):
        top = row_max(z[r])
        for k in range(z.shape[1]):
            e[r, k] = z[r, k] - top


# Rows are taken in blocks of about 256 KB.  A block's shifted logits are written, exponentiated
# and summed while they are still in the core's L2 cache, where three passes over all the logits
# at once (16 MB for 2048 tokens over a 2048-token vocabulary) would each go out to memory.
_BLOCK_BYTES = 1 << 18


def _shifted_exponentials(z, target, out=None):
    """For logits z (N, C) and targets (N,), block by block of rows: yield ``(rows, e, picked)``,
    ``e = exp(z[rows] - rowmax)`` and ``picked = z[rows, target] - rowmax``.

    ``e`` is ``out[rows]`` where ``out`` is given (the backward keeps every row), else a view of
    one block-sized buffer that the next block overwrites (the forward needs only the row sums).
    The exponential is NumPy's: it is vectorised (SIMD), where a Numba loop calls the C library's
    scalar ``exp`` (see :mod:`tinymed.kernels.numba.attention`).
    """
    n, c = z.shape
    block = max(1, min(n, _BLOCK_BYTES // max(1, c * z.itemsize)))
    buffer = np.empty((block, c), dtype=z.dtype) if out is None else None
    for start in range(0, n, block):
        rows = slice(start, min(start + block, n))
        e = out[rows] if out is not None else buffer[:rows.stop - start]
        _shift_rows_by_max(z[rows], e)
        picked = e[np.arange(e.shape[0]), target[rows]]
        np.exp(e, out=e)
        yield rows, e, picked


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
    out = np.empty(z.shape[0], dtype=z.dtype)
    for rows, e, picked in _shifted_exponentials(z, t):
        _log_sum_minus_picked(e, picked, out[rows])
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
        dz = np.empty_like(z)
        for rows, e, _ in _shifted_exponentials(z, t, out=dz):
            _normalise_rows_and_subtract_target(e, t[rows], scale[rows])
        dz[scale == 0] = 0
        return dz
    dz = np.zeros_like(z)
    counted, counted_t, counted_scale = z[weighted], t[weighted], scale[weighted]
    for rows, e, _ in _shifted_exponentials(counted, counted_t):
        _normalise_rows_and_subtract_target(e, counted_t[rows], counted_scale[rows])
        dz[weighted[rows]] = e
    return dz
