"""Exercise on the nonlinearities' backward passes: ReLU, sigmoid and tanh (F1)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, away_from_zero, floats, normal


def relu_backward(dy, x):
    return reference.relu_backward(dy, x)


def sigmoid_backward(dy, y):
    return reference.sigmoid_backward(dy, y)


def tanh_backward(dy, y):
    return reference.tanh_backward(dy, y)


def _cases(second):
    """``(dy, x or y)`` of one drawn shape, the second drawn from ``second``."""
    shapes = hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)
    return lambda: shapes.flatmap(lambda s: st.tuples(arrays(s), arrays(s, elements=second)))


def _examples(transform):
    dy, x = normal(7, (3, 4), (3, 4))
    return lambda: [(dy, transform(x + np.sign(x) * 0.05))]


def _gradient(forward, from_output):
    """Gradient check of a backward that takes ``(dy, y)`` (``from_output``) or ``(dy, x)``."""
    def backward(fn, dy, x):
        return fn(dy, forward(x) if from_output else x)

    return Gradient(forward=forward, backward=backward, names=("x",),
                    examples=lambda: [tuple(x + np.sign(x) * 0.05 for x in normal(8, (2, 5)))])


def _local_only(local):
    return Mistake("local_derivative_only", "only the local derivative: the chain rule multiplies it by dy, "
                                            "the gradient arriving from above", lambda dy, v: local(v))


_EMPTY = EdgeCase("an empty array", lambda: (np.zeros((0, 3)), np.zeros((0, 3))))

ACTIVATIONS = Exercise(
    name="activations",
    title="the backward passes of ReLU, sigmoid and tanh (F1)",
    lesson="lesson 01, Gradients and backpropagation (tinymed lesson 1)",
    formula=r"\mathrm{relu}(x) = \max(x, 0), \qquad \sigma(x) = \frac{1}{1 + e^{-x}}, \qquad "
            r"\tanh x = \frac{e^x - e^{-x}}{e^x + e^{-x}}",
    intro="Each function gets dy, the gradient of the loss with respect to the activation's output, and returns "
          "the gradient with respect to its input (the chain rule). Sigmoid and tanh get their own output y, "
          "from which their derivative is cheapest.",
    source="tinymed/kernels/reference/activations.py (relu_backward, sigmoid_backward, tanh_backward)",
    tasks=(
        Task(name="relu_backward", params=("dy", "x"), outputs=("dx",),
             doc=r"""Gradient of :math:`y = \max(x, 0)`: :math:`dx = dy \cdot \partial y/\partial x`.

    dy and x: arrays of one shape. At the kink :math:`x = 0` use 0, as PyTorch does.
    Returns dx, shaped like x.""",
             reference=relu_backward, cases=_cases(away_from_zero()), examples=_examples(lambda x: x),
             edge_cases=(EdgeCase("the kink x = 0 passes no gradient",
                                  lambda: (np.ones((2, 3)), np.array([[-1.0, 0.0, 2.0], [0.0, 0.0, 1e-300]]))),
                         _EMPTY),
             gradient=_gradient(reference.relu_forward, from_output=False),
             mistakes=(Mistake("gradient_everywhere", "the gradient passes where x < 0 too: ReLU's derivative "
                                                      "is 0 there", lambda dy, x: dy),
                       Mistake("kink", "at x = 0 the gradient must be 0 (PyTorch's convention): use x > 0, "
                                       "not x >= 0", lambda dy, x: dy * (x >= 0)),
                       _local_only(lambda x: (x > 0) * 1.0))),
        Task(name="sigmoid_backward", params=("dy", "y"), outputs=("dx",),
             doc=r"""Gradient of :math:`y = \sigma(x)` from its output: :math:`\sigma'(x)` in terms of y.

    dy and y = sigmoid(x): arrays of one shape. Returns dx, shaped like y.""",
             reference=sigmoid_backward, cases=_cases(floats(0.0, 1.0)), examples=_examples(reference.sigmoid_forward),
             edge_cases=(EdgeCase("saturated outputs 0 and 1 pass no gradient",
                                  lambda: (np.ones(3), np.array([0.0, 1.0, 0.5]))), _EMPTY),
             gradient=_gradient(reference.sigmoid_forward, from_output=True),
             mistakes=(Mistake("derivative_of_y", "sigmoid applied to y again: y is already sigmoid(x), so the "
                                                  "derivative is y(1 - y)",
                               lambda dy, y: dy * reference.sigmoid_forward(y) * (1 - reference.sigmoid_forward(y))),
                       Mistake("missing_one_minus_y", "a factor is missing: sigmoid' = y(1 - y)", lambda dy, y: dy * y),
                       _local_only(lambda y: y * (1 - y)))),
        Task(name="tanh_backward", params=("dy", "y"), outputs=("dx",),
             doc=r"""Gradient of :math:`y = \tanh x` from its output: :math:`\tanh'(x)` in terms of y.

    dy and y = tanh(x): arrays of one shape. Returns dx, shaped like y.""",
             reference=tanh_backward, cases=_cases(floats(-1.0, 1.0)), examples=_examples(np.tanh),
             edge_cases=(EdgeCase("saturated outputs -1 and 1 pass no gradient",
                                  lambda: (np.ones(3), np.array([-1.0, 1.0, 0.0]))), _EMPTY),
             gradient=_gradient(reference.tanh_forward, from_output=True),
             mistakes=(Mistake("y_not_squared", "tanh' = 1 - tanh^2: y must be squared", lambda dy, y: dy * (1 - y)),
                       Mistake("derivative_of_y", "tanh applied to y again: y is already tanh(x), so the "
                                                  "derivative is 1 - y^2", lambda dy, y: dy * (1 - np.tanh(y) ** 2)),
                       _local_only(lambda y: 1 - y * y))),
    ),
)
