"""Exercise on max pooling's backward pass (F4)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes


def max_pool2d_backward(dy, x, kernel_size, stride, padding):
    k, s, p = (kernel_size, kernel_size), (stride, stride), (padding, padding)
    _, argmax = reference.max_pool2d_forward(x, k, s, p)
    return reference.max_pool2d_backward(dy, argmax, x.shape, k, s, p)


def _max_pool(x, kernel_size, stride, padding):
    return reference.max_pool2d_forward(x, (kernel_size,) * 2, (stride,) * 2, (padding,) * 2)[0]


@st.composite
def _geometry(draw):
    kernel, stride = draw(sizes(1, 3)), draw(sizes(1, 3))
    padding = draw(st.integers(0, kernel // 2))
    shape = (draw(sizes(1, 2)), draw(sizes(1, 2)), draw(st.integers(kernel, 5)), draw(st.integers(kernel, 5)))
    out = [reference.pool_output_size(size, kernel, stride, padding) for size in shape[2:]]
    return shape, (*shape[:2], *out), kernel, stride, padding


def _distinct_values(shape):
    """Float arrays of ``shape`` whose values differ pairwise (a tie is an edge case of its own):
    a shuffle of 0, 1, 2, ..., which shrinks towards the values in order."""
    size = int(np.prod(shape))
    return st.permutations(range(size)).map(lambda p: np.array(p, dtype=np.float64).reshape(shape) - size // 2)


def _cases():
    return _geometry().flatmap(lambda g: st.tuples(arrays(g[1]), _distinct_values(g[0]), st.just(g[2]), st.just(g[3]),
                                                   st.just(g[4])))


def _distinct(seed, shape):
    """Values a tenth apart, shuffled: no ties, and no two within a central difference's reach."""
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 10.0


def _examples():
    x = _distinct(20, (2, 2, 5, 6))
    return [(normal(21, (2, 2, 5, 6))[0], x, 3, 1, 1), (normal(22, (2, 2, 2, 3))[0], x, 2, 2, 0)]


def _window_loops(dy, x, kernel_size, stride, padding, rule):
    """A loop over the windows that sends each window's gradient by ``rule``: "overwrite" (= instead of
    +=), "ties" (to every maximum) or "all" (to every input of the window)."""
    n, c, h, w = x.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2), constant_values=-np.inf)
    dxpad = np.zeros_like(xpad)
    for i in range(dy.shape[2]):
        for j in range(dy.shape[3]):
            rows, cols = slice(i * stride, i * stride + kernel_size), slice(j * stride, j * stride + kernel_size)
            window = xpad[:, :, rows, cols]
            if rule == "all":
                dxpad[:, :, rows, cols] += dy[:, :, i:i + 1, j:j + 1]
                continue
            winner = window == window.max(axis=(2, 3), keepdims=True)
            if rule == "overwrite":
                flat = winner.reshape(n, c, -1)
                winner = (np.cumsum(flat, axis=2) == 1) & flat  # the first maximum, as tinymed
                dxpad[:, :, rows, cols] = np.where(winner.reshape(window.shape), dy[:, :, i:i + 1, j:j + 1],
                                                   dxpad[:, :, rows, cols])
            else:
                dxpad[:, :, rows, cols] += winner * dy[:, :, i:i + 1, j:j + 1]
    return dxpad[:, :, padding:padding + h, padding:padding + w]


def _rule(rule):
    return lambda dy, x, k, s, p: _window_loops(dy, x, k, s, p, rule)


MAX_POOL_BACKWARD = Exercise(
    name="max_pool2d_backward",
    title="max pooling's backward pass (F4)",
    lesson="lesson 03, Pooling (tinymed lesson 3)",
    formula=r"y[n, c, o_h, o_w] = \max_{0 \le p, q < k} x_{\mathrm{pad}}[n, c, o_h s + p, o_w s + q]",
    intro="Max pooling keeps the largest input of each window (article 004: y_j = max(x_1j, ..., x_nj)). Its "
          "gradient flows only to the input that won; where windows overlap, an input may win several times and "
          "collects every gradient.",
    source="tinymed/kernels/reference/pool.py (max_pool2d_forward, max_pool2d_backward)",
    tasks=(Task(
        name="max_pool2d_backward", params=("dy", "x", "kernel_size", "stride", "padding"), outputs=("dx",),
        doc=r"""Gradient of max pooling with square ``kernel_size``, ``stride`` and ``padding`` (ints; the padding
    counts as :math:`-\infty`, so it never wins).

    dy (N, C, OH, OW): :math:`\partial L/\partial y`; x (N, C, H, W): the input. Returns dx, shaped like x.
    When a window holds its maximum twice, the first in row-major order wins (as in PyTorch).""",
        reference=max_pool2d_backward, cases=_cases, examples=_examples,
        edge_cases=(
            EdgeCase("overlapping windows (3x3, stride 1): an input can win several times",
                     lambda: (normal(23, (1, 1, 3, 3))[0], _distinct(24, (1, 1, 5, 5)), 3, 1, 0)),
            EdgeCase("ties: a constant image sends each window's gradient to its first input",
                     lambda: (normal(25, (1, 2, 2, 2))[0], np.ones((1, 2, 4, 4)), 2, 2, 0)),
            EdgeCase("padding 1: the padding never wins",
                     lambda: (normal(26, (1, 1, 3, 3))[0], -_distinct(27, (1, 1, 4, 4)), 2, 2, 1)),
            EdgeCase("an empty batch", lambda: (np.zeros((0, 2, 2, 2)), np.zeros((0, 2, 4, 4)), 2, 2, 0)),
        ),
        gradient=Gradient(forward=_max_pool, backward=lambda fn, dy, x, k, s, p: fn(dy, x, k, s, p),
                          examples=lambda: [e[1:] for e in _examples()],
                          names=("x", "kernel_size", "stride", "padding"), wrt=("x",)),
        mistakes=(
            Mistake("gradient_to_every_input", "the gradient goes to every input of the window: only its maximum "
                                               "gets it", _rule("all")),
            Mistake("average_pooling", "this is average pooling's backward (dy / k^2 to every input): max pooling "
                                       "sends dy to the maximum only",
                    lambda dy, x, k, s, p: reference.avg_pool2d_backward(dy, x.shape, (k, k), (s, s), (p, p))),
            Mistake("overwritten", "where windows overlap, a window's gradient overwrites the last one's: add (+=)",
                    _rule("overwrite")),
            Mistake("ties_to_every_maximum", "a tie sends the gradient to every maximum of the window: only the "
                                             "first (row-major order) gets it, as in PyTorch", _rule("ties")),
        ),
    ),),
)
