"""Adam's and AdamW's step as one loop over the parameter's elements.

Formula: :mod:`tinymed.kernels.reference.adaptive`.  The reference makes about ten whole-array
passes over each parameter and allocates a temporary in most of them; here each element of the
parameter, its gradient and its two running averages is read once and written once.

The same numbers as the reference, bit for bit: every hyperparameter is first rounded to the
parameter's dtype, as NumPy does with a Python float in ``param *= beta``, and each element goes
through the same operations in the same order (Numba contracts no product and sum into one
fused multiply-add unless told to).  Compiled with ``error_model="numpy"``: the division is not
checked for a zero divisor, a check that would keep LLVM from SIMD, and a zero divisor (only
with ``eps=0``) gives inf or NaN as NumPy's does.  The loop runs on one thread: the step
follows the backward's BLAS products, whose threads still spin on the other cores (see
:mod:`tinymed.kernels.numba.activations`).

Arrays it cannot take -- parameters of another dtype than float32 or float64, a gradient of
another dtype than its parameter, parameters or averages not C-contiguous -- take the
reference's step instead.
"""

import math

import numpy as np
from numba import njit

from ..reference import adaptive as reference


@njit(cache=True, error_model="numpy")
def _adam_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, decay, l2, beta1, one_minus_beta1,
               beta2, one_minus_beta2, sqrt_bias_correction2, eps, step_size):
    """Per element i, over flat arrays: theta = theta * decay (AdamW) or g = g + l2 theta (Adam);
    m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g g; v_hat = max(v_hat, v) (amsgrad);
    theta = theta - step_size m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)."""
    for i in range(param.size):
        theta = param[i] * decay  # decay is exactly 1 without decoupled weight decay
        g = grad[i]
        if l2 != 0:
            g = g + l2 * param[i]
        m = exp_avg[i] * beta1 + one_minus_beta1 * g
        v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g
        exp_avg[i] = m
        exp_avg_sq[i] = v
        if max_exp_avg_sq is not None:  # amsgrad; decided when the loop is compiled
            top = max_exp_avg_sq[i]
            if v > top or v != v:  # np.maximum: a NaN on either side wins
                top = v
            max_exp_avg_sq[i] = top
            v = top
        param[i] = theta - step_size * (m / (np.sqrt(v) / sqrt_bias_correction2 + eps))


def _fused_step_takes(param, grad, buffers):
    arrays = (param, grad, *buffers)
    if not all(isinstance(a, np.ndarray) and a.dtype == param.dtype and a.shape == param.shape for a in arrays):
        return False
    return param.dtype in (np.float32, np.float64) and all(
        a.flags.c_contiguous and a.flags.writeable for a in (param, *buffers))


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, decoupled):
    """One Adam (or, ``decoupled``, AdamW) step, in place on ``param``, ``exp_avg``, ``exp_avg_sq``
    and ``max_exp_avg_sq`` (amsgrad; else None); ``step`` counted from 1."""
    buffers = (exp_avg, exp_avg_sq) + (() if max_exp_avg_sq is None else (max_exp_avg_sq,))
    if not _fused_step_takes(param, grad, buffers):
        return reference.adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1,
                                     beta2, eps, weight_decay, decoupled)
    cast = param.dtype.type
    decay = cast(1 - lr * weight_decay) if decoupled and weight_decay != 0 else cast(1)
    l2 = cast(0) if decoupled else cast(weight_decay)
    flat = [a.reshape(-1) for a in (param, np.ascontiguousarray(grad), exp_avg, exp_avg_sq)]
    _adam_step(*flat, None if max_exp_avg_sq is None else max_exp_avg_sq.reshape(-1),
               decay, l2, cast(beta1), cast(1 - beta1), cast(beta2), cast(1 - beta2),
               cast(math.sqrt(1 - beta2**step)), cast(eps), cast(lr / (1 - beta1**step)))
