"""Exercises on recurrent networks: the article's RNN forward and backpropagation through time (F6),
and one LSTM cell's backward pass."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ...kernels import reference
from ..exercise import EdgeCase, Exercise, Gradient, Mistake, Task
from ..strategies import arrays, normal, sizes


# ----- the RNN of F6 --------------------------------------------------------------------------------
def rnn_forward(x, h0, U, W, b):
    return reference.rnn_tanh_forward(x, h0, w_ih=U, w_hh=W, b=b)


def rnn_backward(dh, x, h0, h, U, W):
    return reference.rnn_tanh_backward(dh, x, h0, h, w_ih=U, w_hh=W)


@st.composite
def _rnn_inputs(draw):
    """``(x, h0, U, W, b)`` of a short sequence; weights in [-1, 1] so the states stay off saturation."""
    t, n, i, hidden = draw(sizes(1, 3)), draw(sizes(1, 2)), draw(sizes(1, 2)), draw(sizes(1, 2))
    return (draw(arrays((t, n, i))), draw(arrays((n, hidden), -1, 1)), draw(arrays((hidden, i), -1, 1)),
            draw(arrays((hidden, hidden), -1, 1)), draw(arrays((hidden,), -1, 1)))


def _backward_args(dh, x, h0, U, W, b):
    return dh, x, h0, rnn_forward(x, h0, U, W, b), U, W


def _rnn_backward_cases():
    return _rnn_inputs().flatmap(
        lambda a: arrays((a[0].shape[0], a[0].shape[1], a[1].shape[1])).map(lambda dh: _backward_args(dh, *a)))


def _rnn_examples():
    x, h0, U, W, b = normal(30, (4, 3, 2), (3, 3), (3, 2), (3, 3), (3,))
    return [(x, h0, 0.6 * U, 0.6 * W, b)]


def _bptt(dh, x, h0, h, U, W, through_time=True, transposed=False, shifted=True, tanh_derivative=True):
    """Backpropagation through time with one of its steps done wrong (the known mistakes)."""
    delta, carry = np.zeros_like(h), np.zeros_like(h0)
    for t in range(h.shape[0] - 1, -1, -1):
        h_bar = dh[t] + carry
        delta[t] = h_bar * (1 - h[t] ** 2) if tanh_derivative else h_bar
        carry = (delta[t] @ (W.T if transposed else W)) if through_time else 0 * carry
    before = np.concatenate([h0[None], h[:-1]]) if shifted else h
    d2 = delta.reshape(-1, delta.shape[-1])
    return (delta @ U, delta[0] @ W, d2.T @ x.reshape(-1, x.shape[-1]),
            d2.T @ before.reshape(-1, before.shape[-1]), d2.sum(axis=0))


def _bptt_mistake(name, message, **wrong):
    return Mistake(name, message, lambda dh, x, h0, h, U, W: _bptt(dh, x, h0, h, U, W, **wrong))


def _no_tanh(x, h0, U, W, b):
    h, state = np.empty(x.shape[:2] + h0.shape[1:]), h0
    for t in range(len(x)):
        state = state @ W.T + x[t] @ U.T + b
        h[t] = state
    return h


def _rnn_edge(label, seed, t, n, i, hidden):
    def args():
        x, h0, U, W, b, dh = normal(seed, (t, n, i), (n, hidden), (hidden, i), (hidden, hidden), (hidden,),
                                    (t, n, hidden))
        return _backward_args(dh, x, h0, U, W, b)
    return EdgeCase(label, args)


RNN_BPTT = Exercise(
    name="rnn_bptt",
    title="the article's RNN over a sequence, and backpropagation through time (F6)",
    lesson="lesson 07, Recurrent networks and backpropagation through time (tinymed lesson 7)",
    formula=r"h_t = \tanh(W h_{t-1} + U x_t + b), \qquad t = 1, \dots, T",
    intro="Article 004 §3.1.2 writes a recurrent network as h_t = tanh(W h_{t-1} + U x_t + b). Run it over a "
          "sequence, then backpropagate through time: h_t reaches the loss directly (dh[t]) and through every "
          "later state, so walk backwards from t = T and carry the gradient through W.",
    source="tinymed/kernels/reference/rnn.py (rnn_tanh_forward, rnn_tanh_backward)",
    tasks=(
        Task(name="rnn_forward", params=("x", "h0", "U", "W", "b"), outputs=("h",),
             doc=r"""Every hidden state of :math:`h_t = \tanh(W h_{t-1} + U x_t + b)`, time first.

    x (T, N, I): the sequence (N sequences at once); h0 (N, H): the initial state; U (H, I); W (H, H); b (H,).
    Returns h (T, N, H): :math:`h_1, \dots, h_T`. In the batch layout, :math:`W h_{t-1}` is ``h_prev @ W.T``.""",
             reference=rnn_forward, cases=_rnn_inputs, examples=_rnn_examples,
             edge_cases=(EdgeCase("a sequence of length 1", lambda: tuple(normal(31, (1, 2, 3), (2, 2), (2, 3),
                                                                                 (2, 2), (2,)))),
                         EdgeCase("an empty batch", lambda: (np.zeros((3, 0, 2)), np.zeros((0, 2)),
                                                             *normal(32, (2, 2), (2, 2), (2,))))),
             mistakes=(Mistake("w_transposed", "W acts transposed: W h_{t-1} is h_prev @ W.T in the batch layout",
                               lambda x, h0, U, W, b: rnn_forward(x, h0, U, W.T, b)),
                       Mistake("missing_tanh", "the tanh is missing: h_t = tanh(W h_{t-1} + U x_t + b)", _no_tanh),
                       Mistake("h0_ignored", "the initial state h0 is ignored (started from zeros)",
                               lambda x, h0, U, W, b: rnn_forward(x, 0 * h0, U, W, b)))),
        Task(name="rnn_backward", params=("dh", "x", "h0", "h", "U", "W"), outputs=("dx", "dh0", "dU", "dW", "db"),
             doc=r"""Backpropagation through time for :func:`rnn_forward`.

    dh (T, N, H): :math:`\partial L/\partial h_t` where :math:`h_t` leaves the layer (the loss's direct
    dependence); x, h0, U, W: the forward's inputs; h (T, N, H): its output. Returns
    ``(dx, dh0, dU, dW, db)``, shaped like x, h0, U, W and b.""",
             reference=rnn_backward, cases=_rnn_backward_cases,
             examples=lambda: [_backward_args(normal(33, (4, 3, 3))[0], *_rnn_examples()[0])],
             edge_cases=(_rnn_edge("a sequence of length 1", 34, 1, 2, 3, 2),
                         _rnn_edge("a batch of one", 35, 3, 1, 2, 3),
                         EdgeCase("an empty batch: zero weight gradients",
                                  lambda: (np.zeros((3, 0, 2)), np.zeros((3, 0, 2)), np.zeros((0, 2)),
                                           np.zeros((3, 0, 2)), *normal(36, (2, 2), (2, 2))))),
             gradient=Gradient(forward=rnn_forward, examples=_rnn_examples, names=("x", "h0", "U", "W", "b"),
                               backward=lambda fn, dy, x, h0, U, W, b: fn(dy, x, h0, rnn_forward(x, h0, U, W, b),
                                                                          U, W)),
             mistakes=(
                 _bptt_mistake("truncated", "no gradient flows back through time: h_t also reaches the loss through "
                                            "h_{t+1}, so add W^T delta_{t+1} to dh[t] (delta @ W in the batch layout)",
                               through_time=False),
                 _bptt_mistake("carry_transposed", "the gradient through time is multiplied by W where W^T belongs "
                                                   "(delta @ W in the batch layout)", transposed=True),
                 _bptt_mistake("states_not_shifted", "dW pairs delta_t with h_t: it must pair it with the state the "
                                                     "step started from, h_{t-1} (h0 at the first step)",
                               shifted=False),
                 _bptt_mistake("missing_tanh_derivative", "the derivative of tanh, 1 - h_t^2, is missing",
                               tanh_derivative=False),
             )),
    ),
)


# ----- one LSTM cell --------------------------------------------------------------------------------
def lstm_cell_forward(x, h, c, w_ih, w_hh, b):
    hs, cs, _ = reference.lstm_forward(x[None], h, c, w_ih=w_ih, w_hh=w_hh, b=b)
    return hs[0], cs[0]


def lstm_cell_backward(dh_next, dc_next, x, h, c, w_ih, w_hh, b):
    hs, cs, gates = reference.lstm_forward(x[None], h, c, w_ih=w_ih, w_hh=w_hh, b=b)
    g = reference.lstm_backward(dh_next[None], dc_next[None], x[None], h, c, hs, cs, gates, w_ih=w_ih, w_hh=w_hh)
    return g.dx[0], g.dh0, g.dc0, g.dw_ih, g.dw_hh, g.db


@st.composite
def _cell_inputs(draw):
    """``(x, h, c, w_ih, w_hh, b)`` of one cell."""
    n, i, hidden = draw(sizes(1, 2)), draw(sizes(1, 2)), draw(sizes(1, 2))
    return (draw(arrays((n, i))), draw(arrays((n, hidden), -1, 1)), draw(arrays((n, hidden))),
            draw(arrays((4 * hidden, i), -1, 1)), draw(arrays((4 * hidden, hidden), -1, 1)),
            draw(arrays((4 * hidden,), -1, 1)))


def _cell_backward_cases():
    return _cell_inputs().flatmap(lambda a: st.tuples(arrays(a[1].shape), arrays(a[1].shape)).map(lambda d: d + a))


def _cell_examples():
    x, h, c, w_ih, w_hh, b = normal(40, (3, 2), (3, 3), (3, 3), (12, 2), (12, 3), (12,))
    return [(x, h, c, 0.7 * w_ih, 0.7 * w_hh, b)]


def _swap_input_and_forget(a):
    """Rows of a stacked gate weight in the order f, i, g, o."""
    i, f, g, o = np.split(a, 4, axis=0)
    return np.concatenate([f, i, g, o], axis=0)


def _h_without_tanh(x, h, c, w_ih, w_hh, b):
    o = reference.sigmoid_forward(np.split(x @ w_ih.T + h @ w_hh.T + b, 4, axis=1)[3])
    _, c_next = lstm_cell_forward(x, h, c, w_ih, w_hh, b)
    return o * c_next, c_next


def _cell_backward(dh_next, dc_next, x, h, c, w_ih, w_hh, b, through_h=True, forget=True):
    """One cell's backward with the cell state's gradient done wrong (the known mistakes)."""
    a = x @ w_ih.T + h @ w_hh.T + b
    i, f, g, o = np.split(a, 4, axis=1)
    i, f, o, g = reference.sigmoid_forward(i), reference.sigmoid_forward(f), reference.sigmoid_forward(o), np.tanh(g)
    tanh_c = np.tanh(f * c + i * g)
    c_bar = dc_next + (dh_next * o * (1 - tanh_c ** 2) if through_h else 0)
    delta = np.concatenate([c_bar * g * i * (1 - i), c_bar * c * f * (1 - f), c_bar * i * (1 - g * g),
                            dh_next * tanh_c * o * (1 - o)], axis=1)
    return (delta @ w_ih, delta @ w_hh, c_bar * f if forget else c_bar, delta.T @ x, delta.T @ h, delta.sum(axis=0))


def _cell_edge(label, seed, n, i, hidden, scale=1.0):
    def args():
        x, h, c, w_ih, w_hh, b, dh, dc = normal(seed, (n, i), (n, hidden), (n, hidden), (4 * hidden, i),
                                                (4 * hidden, hidden), (4 * hidden,), (n, hidden), (n, hidden))
        return dh, dc, x, h, c, scale * w_ih, scale * w_hh, b
    return EdgeCase(label, args)


LSTM_CELL = Exercise(
    name="lstm_cell",
    title="one LSTM cell, forward and backward",
    lesson="lesson 07, Recurrent networks and backpropagation through time (tinymed lesson 7)",
    formula=r"\begin{aligned} i, f, o &= \sigma(\cdot),\ g = \tanh(\cdot) \text{ of } W_{ih} x + W_{hh} h + b "
            r"\text{ (rows i, f, g, o)} \\ c' &= f \odot c + i \odot g, \qquad h' = o \odot \tanh c' \end{aligned}",
    intro="An LSTM cell keeps a cell state c that its gates update: the forget gate f keeps part of it, the input "
          "gate i adds a candidate g, the output gate o decides what leaves as h. Write one step with PyTorch's "
          "gate order (i, f, g, o, stacked in the rows of the weights), then its backward pass: the cell state "
          "receives gradient both directly (dc) and through h' = o tanh(c').",
    source="tinymed/kernels/reference/rnn.py (lstm_forward, lstm_backward)",
    tasks=(
        Task(name="lstm_cell_forward", params=("x", "h", "c", "w_ih", "w_hh", "b"), outputs=("h_next", "c_next"),
             doc=r"""One LSTM step, PyTorch's equations and gate order.

    x (N, I); h, c (N, H): the state; w_ih (4H, I), w_hh (4H, H), b (4H,): the gates i, f, g, o stacked in
    that order. Returns ``(h_next, c_next)``, both (N, H).""",
             reference=lstm_cell_forward, cases=_cell_inputs, examples=_cell_examples,
             edge_cases=(EdgeCase("a zero state", lambda: (normal(41, (2, 3))[0], np.zeros((2, 2)), np.zeros((2, 2)),
                                                            *normal(42, (8, 3), (8, 2), (8,)))),),
             mistakes=(Mistake("gate_order", "the gates are taken in the wrong order: PyTorch stacks them i, f, g, o "
                                             "(input, forget, cell candidate, output) in the rows of the weights",
                               lambda x, h, c, w_ih, w_hh, b: lstm_cell_forward(
                                   x, h, c, _swap_input_and_forget(w_ih), _swap_input_and_forget(w_hh),
                                   _swap_input_and_forget(b))),
                       Mistake("h_without_tanh", "h' = o * tanh(c'): the tanh of the new cell state is missing",
                               _h_without_tanh))),
        Task(name="lstm_cell_backward", params=("dh_next", "dc_next", "x", "h", "c", "w_ih", "w_hh", "b"),
             outputs=("dx", "dh", "dc", "dw_ih", "dw_hh", "db"),
             doc=r"""Gradients of :func:`lstm_cell_forward`.

    dh_next, dc_next (N, H): the gradients of the loss with respect to its two outputs; the rest: its inputs.
    Returns ``(dx, dh, dc, dw_ih, dw_hh, db)``, shaped like x, h, c, w_ih, w_hh and b.""",
             reference=lstm_cell_backward, cases=_cell_backward_cases,
             examples=lambda: [tuple(normal(43, (3, 3), (3, 3))) + _cell_examples()[0]],
             edge_cases=(_cell_edge("a batch of one", 44, 1, 2, 3),
                         _cell_edge("saturated gates (large weights)", 45, 2, 2, 2, scale=8.0)),
             gradient=Gradient(forward=lstm_cell_forward, examples=_cell_examples,
                               names=("x", "h", "c", "w_ih", "w_hh", "b"),
                               backward=lambda fn, dy, *inputs: fn(dy[0], dy[1], *inputs)),
             mistakes=(
                 Mistake("cell_gradient_misses_h", "the cell state's gradient misses its path through h' = o tanh(c'): "
                                                   "add dh_next * o * (1 - tanh(c')^2) to dc_next",
                         lambda *a: _cell_backward(*a, through_h=False)),
                 Mistake("dc_misses_forget_gate", "dc = c_bar * f: the gradient reaching the previous cell state "
                                                  "passes through the forget gate",
                         lambda *a: _cell_backward(*a, forget=False)),
                 Mistake("missing_bias_gradient", "the bias gradient is missing: db = the gates' gradients summed "
                                                  "over the batch",
                         lambda *a: lstm_cell_backward(*a)[:5] + (np.zeros_like(a[-1]),)),
             )),
    ),
)
