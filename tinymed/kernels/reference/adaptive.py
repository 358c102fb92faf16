r"""The step of Adam and AdamW (article formula F9) on raw arrays.

:class:`tinymed.optim.Adam` and :class:`~tinymed.optim.AdamW` keep the state (the step count,
the two running averages) and the hyperparameters; the arithmetic of one step is this kernel,
which updates the parameter and the averages in place.  Written with NumPy's (or CuPy's)
whole-array operations, it makes about ten passes over each parameter; the Numba twin makes one.
"""

import math

from ...backend import array_module


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                weight_decay, decoupled):
    r"""One Adam step, in place on ``param`` (:math:`\theta`), ``exp_avg`` (:math:`m`),
    ``exp_avg_sq`` (:math:`v`) and, with amsgrad, ``max_exp_avg_sq`` (:math:`\hat v`; else None):

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \quad\text{(Adam)}, \qquad
            \theta_t \leftarrow \theta_t (1 - \alpha\lambda) \quad\text{(AdamW: decoupled)} \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)}, \quad\text{else } v_t \\
        \theta_{t+1} &= \theta_t - \frac{\alpha}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    ``step`` is :math:`t`, counted from 1; ``grad`` has the parameter's shape and is not changed.
    """
    xp = array_module(param)
    if weight_decay != 0:
        if decoupled:  # AdamW: shrink theta directly, outside the adaptive scaling
            param *= 1 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    exp_avg *= beta1
    exp_avg += (1 - beta1) * grad
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    v = exp_avg_sq
    if max_exp_avg_sq is not None:
        v = xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    denom = xp.sqrt(v) / math.sqrt(bias_correction2) + eps
    param -= (lr / bias_correction1) * (exp_avg / denom)
