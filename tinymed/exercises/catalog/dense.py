r"""Exercises on the first layer of the course: the mean squared error (F12) and a dense layer's
backward pass (F1, F5)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes


# ----- the mean squared error (F12) -------------------------------------------------------------
def mse_loss_forward(input, target):
    return reference.mse_loss_forward(input, target)


def mse_loss_backward(input, target):
    return reference.mse_loss_backward(1.0, input, target)[0]


def _mse_cases():
    shapes = hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)
    return shapes.flatmap(lambda shape: st.tuples(arrays(shape), arrays(shape)))


def _mse_examples():
    return [tuple(normal(0, (4, 3), (4, 3))), tuple(normal(1, (5,), (5,)))]


def _mse_factors(input, target):
    return {"n (the number of elements)": input.size}


_MSE_EDGES = (
    EdgeCase("a perfect prediction has zero loss and zero gradient", lambda: (np.ones((2, 3)), np.ones((2, 3)))),
    EdgeCase("one element", lambda: (np.array([2.5]), np.array([-1.0]))),
    EdgeCase("errors of a million", lambda: (np.array([1e6, -2e6, 0.0]), np.array([0.0, 1e6, -1e6]))),
)

MSE_LOSS = Exercise(
    name="mse_loss",
    title="the mean squared error and its gradient (F12)",
    lesson="lesson 04, Losses and optimizers (tinymed lesson 4)",
    formula=r"L = \frac{1}{n} \sum_{i=1}^{n} (\hat y_i - y_i)^2",
    intro="Write the mean squared error of n predictions and its derivative with respect to the predictions.",
    source="tinymed/kernels/reference/losses.py (mse_loss_forward, mse_loss_backward)",
    tasks=(
        Task(
            name="mse_loss_forward", params=("input", "target"), outputs=("loss",),
            doc=r"""The mean squared error :math:`L = \frac1n \sum_i (\hat y_i - y_i)^2` (article formula F12).

    input (any shape): the predictions :math:`\hat y`; target (the same shape): the true values :math:`y`.
    Returns the loss :math:`L`, one number.""",
            reference=mse_loss_forward, cases=_mse_cases, examples=_mse_examples, edge_cases=_MSE_EDGES,
            factors=_mse_factors,
        ),
        Task(
            name="mse_loss_backward", params=("input", "target"), outputs=("grad",),
            doc=r"""The gradient :math:`\partial L / \partial \hat y_i` of :func:`mse_loss_forward`.

    Article 003 §4.1 writes this derivative as :math:`2(y - \hat y)`. Is it right?
    input, target: as for :func:`mse_loss_forward`. Returns an array shaped like ``input``.""",
            reference=mse_loss_backward, cases=_mse_cases, examples=_mse_examples, edge_cases=_MSE_EDGES,
            gradient=Gradient(forward=mse_loss_forward, backward=lambda fn, dy, input, target: dy * fn(input, target),
                              examples=_mse_examples, names=("input", "target"), wrt=("input",)),
            mistakes=(Mistake("article_derivative",
                              "this is the article's 2(y - y_hat): the derivative with respect to the prediction "
                              "is (2/n)(y_hat - y), so the sign is flipped and the 1/n of the mean is missing",
                              lambda input, target: 2 * (target - input)),),
            factors=_mse_factors,
        ),
    ),
)


# ----- a dense layer's backward pass (F1, F5) -------------------------------------------------------
def linear_backward(dy, x, w):
    return reference.linear_backward(dy, x, w)


def _linear_cases():
    def build(n, fan_in, fan_out):
        return st.tuples(arrays((n, fan_out)), arrays((n, fan_in)), arrays((fan_out, fan_in)))

    return st.tuples(sizes(1, 4), sizes(1, 3), sizes(1, 3)).flatmap(lambda s: build(*s))


def _linear_examples():
    return [tuple(normal(2, (4, 2), (4, 3), (2, 3))), tuple(normal(3, (3, 5), (3, 2), (5, 2)))]


def _last_sample_only(dy, x, w):
    dx, _, _ = reference.linear_backward(dy, x, w)
    return dx, np.outer(dy[-1], x[-1]), dy[-1]


LINEAR_BACKWARD = Exercise(
    name="linear_backward",
    title="the backward pass of a dense layer (F1, F5)",
    lesson="lesson 01, Gradients and backpropagation (tinymed lesson 1)",
    formula=r"y_{nj} = \sum_i x_{ni} w_{ji} + b_j \qquad (Y = X W^\top + b)",
    intro="A dense layer maps each of N inputs x_n to y_n = W x_n + b. Given the gradient of the loss with "
          "respect to its output, compute the gradients with respect to its input, its weight and its bias.",
    source="tinymed/kernels/reference/linear.py (linear_backward)",
    tasks=(Task(
        name="linear_backward", params=("dy", "x", "w"), outputs=("dx", "dw", "db"),
        doc=r"""Gradients of a dense layer :math:`y = x w^\top + b` (article formulas F1, F5).

    dy (N, out): :math:`\partial L/\partial y`; x (N, in): the layer's input; w (out, in): its weight,
    in PyTorch's layout. Returns ``(dx, dw, db)``: :math:`\partial L/\partial x` (N, in),
    :math:`\partial L/\partial w` (out, in) and :math:`\partial L/\partial b` (out,).""",
        reference=linear_backward, cases=_linear_cases, examples=_linear_examples,
        edge_cases=(
            EdgeCase("an empty batch (N = 0): zero weight and bias gradients",
                     lambda: (np.zeros((0, 2)), np.zeros((0, 3)), np.ones((2, 3)))),
            EdgeCase("one input feature", lambda: tuple(normal(4, (3, 2), (3, 1), (2, 1)))),
            EdgeCase("a batch of one", lambda: tuple(normal(5, (1, 3), (1, 2), (3, 2)))),
        ),
        gradient=Gradient(forward=reference.linear_forward, backward=lambda fn, dy, x, w, b: fn(dy, x, w),
                          examples=lambda: [tuple(normal(6, (3, 4), (2, 4), (2,)))], names=("x", "w", "b")),
        mistakes=(
            Mistake("missing_bias_gradient", "the bias gradient is missing: db_j = sum over n of dy_nj",
                    lambda dy, x, w: reference.linear_backward(dy, x, w)[:2] + (np.zeros(w.shape[0]),)),
            Mistake("last_sample_only", "only the last sample's gradient: in the loop over the batch, each "
                                        "sample's gradient must be added (+=), not assigned (=)", _last_sample_only),
        ),
        factors=lambda dy, x, w: {"N (the batch size)": x.shape[0]},
    ),),
)
