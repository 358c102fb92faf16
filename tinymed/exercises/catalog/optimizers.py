"""Exercises on optimizer steps: the article's heavy-ball momentum (F10) and Adam (F9)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ... import optim
from ...autograd import Tensor
from ..exercise import EdgeCase, Exercise, Mistake, Task
from ..strategies import arrays, floats, normal


def sgd_momentum_step(theta, previous, grad, lr, momentum):
    param = Tensor(theta.copy(), requires_grad=True)
    param.grad = grad
    optimizer = optim.SGD([param], lr=lr, momentum=momentum)
    optimizer.state[0] = {"previous_param": previous.copy()}
    optimizer.step()
    return param.data


def adam_step(theta, grad, m, v, t, lr, beta1, beta2, eps):
    param = Tensor(theta.copy(), requires_grad=True)
    param.grad = grad
    optimizer = optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)
    optimizer.state[0] = {"step": t - 1, "exp_avg": m.copy(), "exp_avg_sq": v.copy()}
    optimizer.step()
    return param.data, optimizer.state[0]["exp_avg"], optimizer.state[0]["exp_avg_sq"]


def _same_shape(count):
    return hnp.array_shapes(min_dims=1, max_dims=2, max_side=3).flatmap(lambda s: st.tuples(*[arrays(s)] * count))


def _sgd_cases():
    return st.tuples(_same_shape(3), floats(0.0, 1.0), floats(0.0, 0.99)).map(lambda a: (*a[0], a[1], a[2]))


def _sgd_examples():
    theta, previous, grad = normal(70, (3, 2), (3, 2), (3, 2))
    return [(theta, theta - 0.1 * previous, grad, 0.1, 0.9)]


def _heavy_ball(sign=1.0, lr_on_momentum=False, descend=True):
    def step(theta, previous, grad, lr, momentum):
        moved = momentum * (theta - previous) * (lr if lr_on_momentum else 1.0)
        return theta + (-lr if descend else lr) * grad + sign * moved
    return step


def _adam_cases():
    def build(theta, grad, m, v):
        return st.tuples(st.integers(1, 20), floats(1e-3, 0.1), floats(0.0, 0.99), floats(0.5, 0.999)).map(
            lambda h: (theta, grad, m, np.abs(v), h[0], h[1], h[2], h[3], 1e-8))
    return _same_shape(4).flatmap(lambda a: build(*a))


def _adam_examples():
    theta, grad, m, v = normal(71, (2, 3), (2, 3), (2, 3), (2, 3))
    return [(theta, grad, 0.1 * m, 0.01 * v * v, 5, 0.01, 0.9, 0.999, 1e-8)]


def _adam(bias_correction=True, eps_inside=False, square=True, t_shift=0, betas_swapped=False):
    """Adam with one of its lines done wrong (the known mistakes)."""
    def step(theta, grad, m, v, t, lr, beta1, beta2, eps):
        keep1, keep2 = (1 - beta1, 1 - beta2) if betas_swapped else (beta1, beta2)
        m = keep1 * m + (1 - keep1) * grad
        v = keep2 * v + (1 - keep2) * (grad * grad if square else np.abs(grad))
        m_hat, v_hat = m, v
        if bias_correction:
            m_hat, v_hat = m / (1 - beta1 ** (t + t_shift)), v / (1 - beta2 ** (t + t_shift))
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        return theta - lr * m_hat / denom, m, v
    return step


SGD_MOMENTUM = Exercise(
    name="sgd_momentum",
    title="a gradient-descent step with the article's heavy-ball momentum (F10)",
    lesson="lesson 04, Losses and optimizers (tinymed lesson 4)",
    formula=r"\theta_{t+1} = \theta_t - \alpha \nabla L(\theta_t) + \beta (\theta_t - \theta_{t-1})",
    intro="Article 003 §4.2 writes momentum as a heavy ball: the new step is the gradient step plus beta times "
          "the step just taken. (PyTorch's velocity form takes the same path at a constant learning rate.)",
    source="tinymed/optim/sgd.py (SGD with momentum)",
    tasks=(Task(
        name="sgd_momentum_step", params=("theta", "previous", "grad", "lr", "momentum"), outputs=("theta_next",),
        doc=r"""One heavy-ball step :math:`\theta_{t+1} = \theta_t - \alpha g + \beta(\theta_t - \theta_{t-1})`.

    theta: :math:`\theta_t`; previous: :math:`\theta_{t-1}` (equal to theta at the first step); grad: the
    gradient g at theta (all three one shape); lr: :math:`\alpha`; momentum: :math:`\beta`. Returns
    :math:`\theta_{t+1}`.""",
        reference=sgd_momentum_step, cases=_sgd_cases, examples=_sgd_examples,
        edge_cases=(
            EdgeCase("momentum 0 is plain gradient descent", lambda: (*normal(72, (3,), (3,), (3,)), 0.5, 0.0)),
            EdgeCase("the first step: theta_{t-1} = theta_t",
                     lambda: (np.ones(3), np.ones(3), np.arange(3.0), 0.1, 0.9)),
            EdgeCase("a zero learning rate keeps only the momentum", lambda: (*normal(73, (2,), (2,), (2,)), 0.0, 0.5)),
        ),
        mistakes=(Mistake("momentum_sign", "the momentum term has the wrong sign: it continues the last step, "
                                           "+beta (theta_t - theta_{t-1})", _heavy_ball(sign=-1.0)),
                  Mistake("lr_on_momentum", "the learning rate scales the momentum term too: only the gradient is "
                                            "multiplied by alpha", _heavy_ball(lr_on_momentum=True)),
                  Mistake("gradient_ascent", "the step climbs the gradient: subtract alpha * g",
                          _heavy_ball(descend=False)),
                  Mistake("momentum_missing", "the momentum term beta (theta_t - theta_{t-1}) is missing",
                          _heavy_ball(sign=0.0))),
    ),),
)

ADAM = Exercise(
    name="adam",
    title="one step of Adam (F9)",
    lesson="lesson 04, Losses and optimizers (tinymed lesson 4)",
    formula=r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1-\beta_1) g, \quad v_t = \beta_2 v_{t-1} + (1-\beta_2) g^2 \\ "
            r"\theta_{t+1} &= \theta_t - \alpha \frac{m_t / (1-\beta_1^t)}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon} "
            r"\end{aligned}",
    intro="Adam keeps two running averages per weight: of the gradient (momentum) and of its square (its scale). "
          "Both start at 0, so early on they are too small; dividing by 1 - beta^t corrects that bias.",
    source="tinymed/kernels/reference/adaptive.py (adam_update; Adam in tinymed/optim/adaptive.py keeps its state)",
    tasks=(Task(
        name="adam_step", params=("theta", "grad", "m", "v", "t", "lr", "beta1", "beta2", "eps"),
        outputs=("theta_next", "m_next", "v_next"),
        doc=r"""Step number ``t`` of Adam (Kingma & Ba 2015; PyTorch's ``torch.optim.Adam``).

    theta, grad, m, v: the weights, their gradient and the two running averages before the step (one
    shape; at the first step, t = 1, m = v = 0); lr, beta1, beta2, eps: the hyperparameters.
    Returns ``(theta_next, m_next, v_next)``.""",
        reference=adam_step, cases=_adam_cases, examples=_adam_examples,
        edge_cases=(
            EdgeCase("the first step moves every weight by about lr", lambda: (
                np.zeros(3), np.array([0.5, -2.0, 1e-3]), np.zeros(3), np.zeros(3), 1, 0.01, 0.9, 0.999, 1e-8)),
            EdgeCase("a zero gradient after some steps", lambda: (
                *normal(74, (3,)), np.zeros(3), *normal(75, (3,)), np.full(3, 0.5), 10, 0.01, 0.9, 0.999, 1e-8)),
            EdgeCase("beta1 = 0: no momentum", lambda: (*normal(76, (2,), (2,), (2,)), np.ones(2), 3, 0.1, 0.0, 0.99,
                                                        1e-8)),
        ),
        mistakes=(Mistake("no_bias_correction", "the bias correction is missing: divide m by 1 - beta1^t and v by "
                                                "1 - beta2^t", _adam(bias_correction=False)),
                  Mistake("eps_inside_sqrt", "eps goes outside the root: sqrt(v_hat) + eps", _adam(eps_inside=True)),
                  Mistake("abs_not_square", "v averages the gradient's square, not its absolute value",
                          _adam(square=False)),
                  Mistake("step_off_by_one", "the bias correction uses t + 1: t is the number of this step, 1 at the "
                                             "first", _adam(t_shift=1)),
                  Mistake("betas_swapped", "the averages weigh the new gradient by beta instead of 1 - beta",
                          _adam(betas_swapped=True))),
    ),),
)
