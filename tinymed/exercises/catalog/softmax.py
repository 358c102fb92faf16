"""Exercise on the numerically stable softmax and the cross-entropy with its gradient (F7, F12)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes


def softmax(z):
    return reference.softmax_forward(z, 1)


def cross_entropy(z, target):
    return reference.cross_entropy_forward(z, target)


def cross_entropy_backward(z, target):
    return reference.cross_entropy_backward(1.0, z, target)


def _logits_and_targets(n, c):
    return st.tuples(arrays((n, c), -8.0, 8.0), hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))


def _cases():
    return st.tuples(sizes(1, 4), sizes(1, 4)).flatmap(lambda s: _logits_and_targets(*s))


def _examples():
    (z,) = normal(9, (4, 3))
    return [(3 * z, np.array([0, 2, 1, 2]))]


def _naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _rows(z, target):
    return np.arange(len(target)), target


_EXTREME = EdgeCase("logits of +-1000 (exp overflows unless the row's maximum is subtracted first)",
                    lambda: (np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]]), np.array([1, 2])))
_ONE_CLASS = EdgeCase("one class: the loss and the gradient are 0",
                      lambda: (np.array([[2.0], [-3.0]]), np.array([0, 0])))
_EQUAL = EdgeCase("equal logits: the loss is log C", lambda: (np.zeros((3, 4)), np.array([0, 3, 1])))


def _batch_size(z, target):
    return {"N (the batch size)": z.shape[0]}


SOFTMAX_CROSS_ENTROPY = Exercise(
    name="softmax_cross_entropy",
    title="a numerically stable softmax, the cross-entropy and its gradient (F7, F12)",
    lesson="lesson 04, Losses and optimizers (tinymed lesson 4); the softmax of attention in lesson 08",
    formula=r"p_{nc} = \frac{e^{z_{nc}}}{\sum_k e^{z_{nk}}}, \qquad L = -\frac1N \sum_n \log p_{n, t_n}",
    intro="A classifier's logits z (N samples, C classes) become probabilities by the softmax of each row, and the "
          "cross-entropy is the mean negative log-probability of the true classes t. Write both so that logits "
          "of any size give finite numbers, and the gradient of the loss with respect to the logits.",
    source="tinymed/kernels/reference/activations.py (softmax_forward, log_softmax_forward) and losses.py "
           "(cross_entropy_forward, cross_entropy_backward)",
    tasks=(
        Task(name="softmax", params=("z",), outputs=("p",),
             doc=r"""Softmax of every row: :math:`p_{nc} = e^{z_{nc}} / \sum_k e^{z_{nk}}`, without overflow.

    z (N, C): logits. Returns p (N, C), each row non-negative and summing to 1.""",
             reference=softmax, cases=lambda: _cases().map(lambda a: a[:1]),
             examples=lambda: [e[:1] for e in _examples()],
             edge_cases=(EdgeCase(_EXTREME.label, lambda: _EXTREME.args()[:1]),
                         EdgeCase("one class: every probability is 1", lambda: (np.array([[2.0], [-3.0]]),))),
             mistakes=(Mistake("unstable_softmax", "exp(z) overflows for large logits: subtract each row's maximum "
                                                   "before exp (the result is the same)", _naive_softmax),
                       Mistake("softmax_over_batch", "the softmax runs over the batch (axis 0): each row, one "
                                                     "sample's logits, must sum to 1",
                               lambda z: reference.softmax_forward(z, 0)))),
        Task(name="cross_entropy", params=("z", "target"), outputs=("loss",),
             doc=r"""Mean cross-entropy :math:`L = -\frac1N \sum_n \log \mathrm{softmax}(z_n)_{t_n}`, finite for
    any logits.

    z (N, C): logits; target (N,): integer classes in [0, C). Returns L, one number.""",
             reference=cross_entropy, cases=_cases, examples=_examples, edge_cases=(_EXTREME, _ONE_CLASS, _EQUAL),
             mistakes=(Mistake("log_of_softmax", "the log of a probability that underflows to 0 is -inf: compute "
                                                 "log-softmax directly, z - max - log(sum(exp(z - max)))",
                               lambda z, t: -np.log(softmax(z)[_rows(z, t)]).mean()),
                       Mistake("unstable_softmax", "exp(z) overflows for large logits: subtract each row's maximum "
                                                   "before exp",
                               lambda z, t: -np.log(_naive_softmax(z)[_rows(z, t)]).mean())),
             factors=_batch_size),
        Task(name="cross_entropy_backward", params=("z", "target"), outputs=("dz",),
             doc=r"""Gradient :math:`\partial L/\partial z` of :func:`cross_entropy`.

    z (N, C), target (N,): as for :func:`cross_entropy`. Returns dz (N, C).""",
             reference=cross_entropy_backward, cases=_cases, examples=_examples,
             edge_cases=(_EXTREME, _ONE_CLASS, _EQUAL),
             gradient=Gradient(forward=cross_entropy, backward=lambda fn, dy, z, t: dy * fn(z, t), examples=_examples,
                               names=("z", "target"), wrt=("z",)),
             mistakes=(Mistake("missing_one_hot", "the one-hot target is not subtracted: dz = (softmax(z) - "
                                                  "onehot(t)) / N", lambda z, t: softmax(z) / len(t)),
                       Mistake("unstable_softmax", "exp(z) overflows for large logits: subtract each row's maximum "
                                                   "before exp",
                               lambda z, t: (_naive_softmax(z) - np.eye(z.shape[1])[t]) / len(t))),
             factors=_batch_size),
    ),
)
