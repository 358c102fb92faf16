"""Exercise on scaled dot-product attention with a mask, forward and backward (F7)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes


def attention_forward(q, k, v, mask):
    bias = np.where(mask, 0.0, -np.inf)
    return reference.scaled_dot_product_attention_forward(q, k, v, bias, 1 / np.sqrt(q.shape[-1]))[0]


def attention_backward(dout, q, k, v, mask):
    bias, scale = np.where(mask, 0.0, -np.inf), 1 / np.sqrt(q.shape[-1])
    _, weights = reference.scaled_dot_product_attention_forward(q, k, v, bias, scale)
    return reference.scaled_dot_product_attention_backward(dout, q, k, v, weights, scale)[:3]


@st.composite
def _inputs(draw):
    """``(q, k, v, mask)``; every query may look at one key at least (a query that may look at none is an
    edge case of its own)."""
    b, length, source = draw(sizes(1, 2)), draw(sizes(1, 3)), draw(sizes(1, 3))
    e, ev = draw(sizes(1, 2)), draw(sizes(1, 2))
    mask = draw(hnp.arrays(bool, (length, source)))
    mask[~mask.any(axis=1)] = True
    return draw(arrays((b, length, e))), draw(arrays((b, source, e))), draw(arrays((b, source, ev))), mask


def _backward_cases():
    return _inputs().flatmap(lambda a: arrays(a[0].shape[:2] + a[2].shape[2:]).map(lambda d: (d, *a)))


def _examples():
    q, k, v = normal(50, (2, 3, 4), (2, 5, 4), (2, 5, 2))
    mask = np.array([[1, 1, 0, 1, 0], [1, 0, 1, 1, 1], [0, 1, 1, 0, 1]], dtype=bool)
    return [(q, k, v, mask)]


def _backward_examples():
    (q, k, v, mask), = _examples()
    return [(normal(51, (2, 3, 2))[0], q, k, v, mask)]


def _weights(q, k, mask, where):
    """The attention weights with the mask applied ``where``: "before" the softmax (as -inf), "after" it
    (multiplied, not renormalised), as a "zero" score, or "unscaled" (no 1/sqrt(E))."""
    scores = q @ k.swapaxes(-1, -2) / (1.0 if where == "unscaled" else np.sqrt(q.shape[-1]))
    if where == "zero":
        scores = np.where(mask, scores, 0.0)
    elif where != "after":
        scores = np.where(mask, scores, -np.inf)
    p = reference.softmax_forward(scores, -1)
    return p * mask if where == "after" else p


def _wrong_forward(where):
    return lambda q, k, v, mask: _weights(q, k, mask, where) @ v


def _wrong_backward(where, softmax_sum=True):
    def backward(dout, q, k, v, mask):
        p, scale = _weights(q, k, mask, where), 1 / np.sqrt(q.shape[-1])
        dp = dout @ v.swapaxes(-1, -2)
        ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True) if softmax_sum else dp)
        return ds @ k * scale, ds.swapaxes(-1, -2) @ q * scale, p.swapaxes(-1, -2) @ dout
    return backward


def _masked_row_edge(backward):
    def args():
        (q, k, v, mask), = _examples()
        mask = mask.copy()
        mask[1] = False
        return ((normal(52, (2, 3, 2))[0],) if backward else ()) + (q, k, v, mask)
    return EdgeCase("a query whose keys are all masked gets a zero output (and no gradient)", args)


def _large_scores_edge(backward):
    def args():
        (q, k, v, mask), = _examples()
        return ((normal(53, (2, 3, 2))[0],) if backward else ()) + (40 * q, 40 * k, v, mask)
    return EdgeCase("large scores (exp overflows unless each row's maximum is subtracted)", args)


def _single_key_edge(backward):
    def args():
        q, k, v = normal(54, (1, 2, 3), (1, 1, 3), (1, 1, 2))
        return ((normal(55, (1, 2, 2))[0],) if backward else ()) + (q, k, v, np.ones((2, 1), dtype=bool))
    return EdgeCase("a single key takes all the weight", args)


_AFTER = "the mask is applied after the softmax: the weights left no longer sum to 1; add -inf to the masked " \
         "scores before the softmax"
_ZERO = "masked scores are set to 0, not -inf: exp(0) = 1 still gives those keys weight"
_UNSCALED = "the scores are not scaled by 1/sqrt(E)"

ATTENTION = Exercise(
    name="attention",
    title="scaled dot-product attention with a mask, forward and backward (F7)",
    lesson="lesson 08, Attention (tinymed lesson 8)",
    formula=r"S = \frac{Q K^\top}{\sqrt{E}} + M, \qquad P = \mathrm{softmax}_{\text{row}}(S), \qquad O = P V",
    intro="The articles' attention (004 §3.1.3) weighs every position by a softmax of inner products. Write the "
          "standard, scaled form with a mask -- M is 0 where a query may look at a key and -inf where it may not -- "
          "then its backward pass, which goes through the softmax.",
    source="tinymed/kernels/reference/attention.py (scaled_dot_product_attention_forward and _backward)",
    tasks=(
        Task(name="attention_forward", params=("q", "k", "v", "mask"), outputs=("out",),
             doc=r"""Scaled dot-product attention with a boolean mask.

    q (B, L, E), k (B, S, E), v (B, S, Ev); mask (L, S) bool: True where query l may look at key s.
    Returns out (B, L, Ev). A query that may look at no key gets a zero output (as PyTorch's
    ``F.scaled_dot_product_attention``).""",
             reference=attention_forward, cases=_inputs, examples=_examples,
             edge_cases=(_masked_row_edge(False), _large_scores_edge(False), _single_key_edge(False)),
             mistakes=(Mistake("mask_after_softmax", _AFTER, _wrong_forward("after")),
                       Mistake("mask_as_zero_score", _ZERO, _wrong_forward("zero")),
                       Mistake("unscaled_scores", _UNSCALED, _wrong_forward("unscaled")))),
        Task(name="attention_backward", params=("dout", "q", "k", "v", "mask"), outputs=("dq", "dk", "dv"),
             doc=r"""Gradients of :func:`attention_forward`.

    dout (B, L, Ev): :math:`\partial L/\partial O`; q, k, v, mask: as for :func:`attention_forward`.
    Returns ``(dq, dk, dv)``, shaped like q, k and v.""",
             reference=attention_backward, cases=_backward_cases, examples=_backward_examples,
             edge_cases=(_masked_row_edge(True), _large_scores_edge(True), _single_key_edge(True)),
             gradient=Gradient(forward=attention_forward, backward=lambda fn, dy, q, k, v, mask: fn(dy, q, k, v, mask),
                               examples=_examples, names=("q", "k", "v", "mask"), wrt=("q", "k", "v")),
             mistakes=(Mistake("softmax_backward_without_sum", "the softmax's backward misses its second term: "
                                                               "dS = P * (dP - sum_k dP_k P_k), row by row",
                               _wrong_backward("before", softmax_sum=False)),
                       Mistake("mask_after_softmax", _AFTER, _wrong_backward("after")),
                       Mistake("unscaled_scores", _UNSCALED, _wrong_backward("unscaled"))),
             factors=lambda dout, q, k, v, mask: {"sqrt(E)": np.sqrt(q.shape[-1])}),
    ),
)
