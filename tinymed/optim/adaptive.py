r"""Optimizers with an adaptive learning rate per element (article formula F9).

:class:`AdaGrad` divides by the root of the sum of all past squared gradients, :class:`RMSprop` by
the root of their running mean, :class:`Adam` adds momentum and bias correction to RMSprop, and
:class:`AdamW` decouples the weight decay from it.  PyTorch's rules and defaults, one formula each.
Adam's and AdamW's step is a kernel, ``adam_update`` (:mod:`tinymed.kernels.reference.adaptive`),
which the Numba backend makes one pass over each parameter instead of about ten.
"""

from __future__ import annotations

from ..backend import array_module, kernel
from ._checks import number
from .optimizer import Optimizer

__all__ = ["AdaGrad", "Adagrad", "RMSprop", "Adam", "AdamW"]


class AdaGrad(Optimizer):
    r"""AdaGrad (Duchi et al. 2011), PyTorch's ``torch.optim.Adagrad``: an adaptive rate per element.

    ``AdaGrad(params=None, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10)``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \\
        \alpha_t &= \frac{\alpha}{1 + (t-1)\,\eta} \qquad (\eta = \text{lr\_decay}) \\
        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_{t+1} &= \theta_t - \alpha_t \frac{g_t}{\sqrt{s_t} + \epsilon}

    Elements with a history of large gradients take smaller steps (F9, adaptive learning rate).
    """

    _hyper = ("lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _buffers = ("step", "sum")

    def __init__(self, params=None, lr=0.01, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, **deprecated):
        name = type(self).__name__
        self.lr_decay = number(name, "lr_decay", lr_decay)
        self.weight_decay = number(name, "weight_decay", weight_decay)
        self.initial_accumulator_value = number(name, "initial_accumulator_value", initial_accumulator_value)
        self.eps = number(name, "eps", eps)
        super().__init__(params, lr, **deprecated)

    def _update(self, p, g, state):
        xp = array_module(p.data)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p.data, self.initial_accumulator_value)
        state["step"] += 1
        t = state["step"]
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        lr_t = self.lr / (1 + (t - 1) * self.lr_decay)
        s = state["sum"]
        s += g * g
        p.data -= lr_t * (g / (xp.sqrt(s) + self.eps))


Adagrad = AdaGrad  # PyTorch's and Keras's spelling


class RMSprop(Optimizer):
    r"""RMSprop (Hinton 2012), PyTorch's ``torch.optim.RMSprop``.

    ``RMSprop(params=None, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False)``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \\
        s_t &= \alpha_s s_{t-1} + (1-\alpha_s) g_t^2 \qquad (\alpha_s = \text{alpha},\ s_0 = 0) \\
        \bar g_t &= \alpha_s \bar g_{t-1} + (1-\alpha_s) g_t \qquad \text{(centered only)} \\
        d_t &= \sqrt{s_t} + \epsilon \quad\text{or, centered,}\quad \sqrt{s_t - \bar g_t^2} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / d_t, \quad \theta_{t+1} = \theta_t - \alpha b_t \qquad (\mu > 0) \\
        \theta_{t+1} &= \theta_t - \alpha\, g_t / d_t \qquad (\mu = 0)

    Dividing by the running root-mean-square of recent gradients is AdaGrad with a memory
    that fades, so the step size does not shrink to zero.
    """

    _hyper = ("alpha", "eps", "weight_decay", "momentum", "centered")
    _buffers = ("step", "square_avg", "grad_avg", "momentum_buffer")

    def __init__(self, params=None, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, **deprecated):
        self.alpha = number("RMSprop", "alpha", alpha)
        self.eps = number("RMSprop", "eps", eps)
        self.weight_decay = number("RMSprop", "weight_decay", weight_decay)
        self.momentum = number("RMSprop", "momentum", momentum)
        self.centered = bool(centered)
        super().__init__(params, lr, **deprecated)

    def _update(self, p, g, state):
        xp = array_module(p.data)
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            if self.centered:
                state["grad_avg"] = xp.zeros_like(p.data)
            if self.momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
        state["step"] += 1
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        s = state["square_avg"]
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        if self.centered:
            g_avg = state["grad_avg"]
            g_avg *= self.alpha
            g_avg += (1 - self.alpha) * g
            denom = xp.sqrt(s - g_avg * g_avg) + self.eps
        else:
            denom = xp.sqrt(s) + self.eps
        if self.momentum > 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += g / denom
            p.data -= self.lr * b
        else:
            p.data -= self.lr * (g / denom)


class Adam(Optimizer):
    r"""Adam (Kingma & Ba 2015), PyTorch's ``torch.optim.Adam``.

    ``Adam(params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``.

    .. math::
        g_t &\leftarrow g_t + \lambda\theta_t \\
        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t \qquad (m_0 = 0) \\
        v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \qquad (v_0 = 0) \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \ \text{(amsgrad)}, \quad\text{else } v_t \\
        \theta_{t+1} &= \theta_t - \frac{\alpha}{1-\beta_1^t}\,
            \frac{m_t}{\sqrt{\hat v_t}/\sqrt{1-\beta_2^t} + \epsilon}

    :math:`m_t` is momentum on the gradient, :math:`v_t` RMSprop's running mean square; the
    factors :math:`1-\beta^t` undo the bias of starting both at zero.
    """

    _hyper = ("betas", "eps", "weight_decay", "amsgrad")
    _buffers = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _decoupled = False

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, **deprecated):
        name = type(self).__name__
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {betas!r}") from None
        self.betas = (number(name, "betas[0]", beta1, below=1.0), number(name, "betas[1]", beta2, below=1.0))
        self.eps = number(name, "eps", eps)
        self.weight_decay = number(name, "weight_decay", weight_decay)
        self.amsgrad = bool(amsgrad)
        super().__init__(params, lr, **deprecated)

    def _update(self, p, g, state):
        xp = array_module(p.data)
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p.data)
            state["exp_avg_sq"] = xp.zeros_like(p.data)
            if self.amsgrad:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        beta1, beta2 = self.betas
        # the formula above, in place on p, m, v (and v-hat, amsgrad): kernels/reference/adaptive.py
        kernel("adam_update")(p.data, g, state["exp_avg"], state["exp_avg_sq"],
                              state["max_exp_avg_sq"] if self.amsgrad else None, state["step"], self.lr,
                              beta1, beta2, self.eps, self.weight_decay, self._decoupled)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter 2019), PyTorch's ``torch.optim.AdamW``.

    ``AdamW(params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False)``.

    Adam's update with :math:`\lambda = 0`, after first shrinking the parameter:
    :math:`\theta_t \leftarrow \theta_t(1 - \alpha\lambda)`.  In Adam, :math:`\lambda\theta` is added
    to the gradient and then divided by :math:`\sqrt{\hat v}`, so weights with large gradients
    are barely decayed; AdamW decays every weight at the same rate.
    """

    _decoupled = True

    def __init__(self, params=None, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                 amsgrad=False, **deprecated):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **deprecated)
