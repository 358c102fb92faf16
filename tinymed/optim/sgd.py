r"""Gradient descent and stochastic gradient descent with momentum (article formulas F10).

:class:`GD` is the plain rule :math:`\theta \leftarrow \theta - \alpha g`; :class:`SGD` adds PyTorch's
weight decay, dampening and Nesterov momentum, and the heavy-ball momentum of the article, whose
equivalence to PyTorch's velocity form (and where the two part) :class:`SGD`'s docstring proves.
"""

from __future__ import annotations

from ._checks import number
from .optimizer import Optimizer

__all__ = ["GD", "SGD"]


class GD(Optimizer):
    r"""Gradient descent, F10: :math:`\theta_{t+1} = \theta_t - \alpha\,\nabla_\theta L(\theta_t)`.

    "Full batch": the loss is over the whole training set, so :math:`\nabla L` is the exact
    gradient (SGD uses the same rule with the gradient of a mini-batch).
    ``GD(params=None, lr=0.01)``.
    """

    def __init__(self, params=None, lr=0.01, **deprecated):
        super().__init__(params, lr, **deprecated)

    def _update(self, p, g, state):
        p.data -= self.lr * g


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, PyTorch's ``torch.optim.SGD``.

    ``SGD(params=None, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False)``.

    Weight decay adds :math:`\lambda\theta` to the gradient: :math:`g_t \leftarrow g_t + \lambda\theta_t`.
    Without momentum: :math:`\theta_{t+1} = \theta_t - \alpha g_t`.

    **Momentum** is the article's heavy-ball form (F10, 003 §4.2), with
    :math:`\theta_0 - \theta_{-1} = 0`:

    .. math:: \theta_{t+1} = \theta_t - \alpha g_t + \beta(\theta_t - \theta_{t-1})

    so the optimizer keeps :math:`\theta_{t-1}` (buffer ``previous_param``).  PyTorch writes the
    same method with a velocity :math:`v`:

    .. math:: v_t = \beta v_{t-1} + g_t,\quad v_1 = g_1,\qquad \theta_{t+1} = \theta_t - \alpha v_t .

    *Same path at constant* :math:`\alpha`: the velocity form gives
    :math:`\theta_t - \theta_{t-1} = -\alpha v_{t-1}`, hence
    :math:`\theta_{t+1} = \theta_t - \alpha g_t - \alpha\beta v_{t-1}
    = \theta_t - \alpha g_t + \beta(\theta_t - \theta_{t-1})`.
    With dampening :math:`d` PyTorch uses :math:`v_t = \beta v_{t-1} + (1-d) g_t` (but
    :math:`v_1 = g_1`), so here :math:`\alpha g_t` becomes :math:`\alpha(1-d) g_t` from the second
    step on.

    *When* :math:`\alpha` *changes* (a schedule) the two differ.  PyTorch's step

    .. math:: -\alpha_t g_t - \alpha_t\beta v_{t-1}
              = -\alpha_t g_t + \beta\frac{\alpha_t}{\alpha_{t-1}}(\theta_t - \theta_{t-1})

    rescales the whole remembered velocity to the new rate at once; the heavy-ball form keeps
    the last displacement as it was and applies the new rate only to the new gradient.
    tinymed follows the article's form, which is also Keras/TensorFlow's SGD
    (:math:`v \leftarrow \beta v - \alpha g,\ \theta \leftarrow \theta + v`, Sutskever et al. 2013).

    Because the momentum term is the displacement actually taken, changing ``p.data`` by hand
    between two steps (e.g. loading other weights) also counts as a displacement; create a new
    optimizer after replacing weights.

    **Nesterov** momentum is PyTorch's, with a velocity buffer (``momentum_buffer``):
    :math:`v_t = \beta v_{t-1} + g_t`, :math:`\theta_{t+1} = \theta_t - \alpha(g_t + \beta v_t)`;
    it needs ``momentum > 0`` and ``dampening == 0``.
    """

    _hyper = ("momentum", "dampening", "weight_decay", "nesterov")
    _buffers = ("previous_param", "momentum_buffer")

    def __init__(self, params=None, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, **deprecated):
        self.momentum = number("SGD", "momentum", momentum)
        self.dampening = number("SGD", "dampening", dampening)
        self.weight_decay = number("SGD", "weight_decay", weight_decay)
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, lr, **deprecated)

    def _update(self, p, g, state):
        if self.weight_decay != 0:
            g = g + self.weight_decay * p.data
        if self.momentum == 0:
            p.data -= self.lr * g
        elif self.nesterov:
            self._nesterov(p, g, state)
        else:
            self._heavy_ball(p, g, state)

    def _heavy_ball(self, p, g, state):
        theta = p.data
        previous = state.get("previous_param")
        if previous is None:  # first step: theta_{-1} = theta_0, and PyTorch's v_1 = g_1 (undamped)
            step = -self.lr * g
        else:
            step = -self.lr * (1 - self.dampening) * g + self.momentum * (theta - previous)
        state["previous_param"] = theta.copy()
        theta += step

    def _nesterov(self, p, g, state):
        v = state.get("momentum_buffer")
        if v is None:
            v = state["momentum_buffer"] = g.copy()
        else:
            v *= self.momentum
            v += g
        p.data -= self.lr * (g + self.momentum * v)
