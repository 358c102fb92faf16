r"""Recurrent layers over a whole sequence -- article formula F6 -- and their backward through time.

**Elman RNN, as the article writes it** (004 §3.1.2):

.. math::  h_t = \tanh(W h_{t-1} + U x_t + b), \qquad y_t = W_{out} h_t + b_{out}

``W (H, H)`` maps the previous hidden state, ``U (H, I)`` the input, ``b (H,)`` is the bias.
PyTorch's ``nn.RNN`` names the same matrices ``weight_hh_l0 = W``, ``weight_ih_l0 = U`` and
keeps two biases, ``bias_ih_l0 + bias_hh_l0 = b``.  The output layer :math:`y_t` is an
ordinary ``Linear`` applied to every :math:`h_t`, so it is not part of this kernel.

**LSTM and GRU** use PyTorch's gate equations and gate order, so its weights load unchanged::

    LSTM (gates i, f, g, o stacked in weight_ih (4H, I), weight_hh (4H, H)):
        i = σ(W_ii x + b_ii + W_hi h + b_hi)        input gate
        f = σ(W_if x + b_if + W_hf h + b_hf)        forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)     candidate cell
        o = σ(W_io x + b_io + W_ho h + b_ho)        output gate
        c' = f * c + i * g,   h' = o * tanh(c')
    GRU (gates r, z, n stacked in weight_ih (3H, I), weight_hh (3H, H)):
        r = σ(W_ir x + b_ir + W_hr h + b_hr)        reset gate
        z = σ(W_iz x + b_iz + W_hz h + b_hz)        update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   r scales the *whole* hidden term, b_hn included
        h' = (1 - z) * n + z * h

**Signatures.** All three kernels take the sequence and the states positionally and their
weights keyword-only, with PyTorch's names (``w_ih``, ``w_hh``, ``b``...), so a call reads the
same for RNN, LSTM and GRU and no caller depends on positions; the backward kernels return
named tuples (:class:`RNNGrads`, :class:`LSTMGrads`, :class:`GRUGrads`).  For F6 that means
``U = w_ih`` and ``W = w_hh``: ``rnn_tanh_forward(x, h0, w_ih=U, w_hh=W, b=b)``.

**Layout.** Time first: ``x (T, N, I)``, states ``(N, H)``, all hidden states ``h (T, N, H)``.
A reverse (bidirectional) direction is the same kernel run on the time-reversed sequence.

**Two kinds of products.**  The input term (:math:`U x_t + b`) does not depend on the
recurrence, so it is computed for every time step in *one* matrix product before the loop;
only :math:`W h_{t-1}` has to wait for the previous step.  Backward mirrors this: the loop
runs from :math:`t = T` down to 1 and only carries the gradient through :math:`W`; the
weight gradients are then one product each over all time steps.

**Backpropagation through time (BPTT).**  :math:`h_t` reaches the loss directly (``dh[t]``,
the gradient of the output) and through :math:`h_{t+1}`, so going backwards

.. math::  \bar h_t = dh_t + W^\top \delta_{t+1},\qquad
           \delta_t = \bar h_t \odot (1 - h_t^2),\qquad
           \frac{\partial L}{\partial W} = \sum_t \delta_t h_{t-1}^\top,\quad
           \frac{\partial L}{\partial U} = \sum_t \delta_t x_t^\top,\quad
           \frac{\partial L}{\partial b} = \sum_t \delta_t

where :math:`\delta_t` is the gradient of the pre-activation.  A gradient reaching back
:math:`k` steps has been multiplied by :math:`k` Jacobians :math:`\mathrm{diag}(1-h^2) W`: when
their norm is below 1 it vanishes geometrically (the "vanishing gradient" of lesson 07).
"""

from typing import NamedTuple

from ...backend import array_module
from .activations import sigmoid_forward


class RNNGrads(NamedTuple):
    """Gradients of :func:`rnn_tanh_backward`, named as the forward's inputs."""

    dx: object
    dh0: object
    dw_ih: object
    dw_hh: object
    db: object


class LSTMGrads(NamedTuple):
    """Gradients of :func:`lstm_backward`, named as the forward's inputs."""

    dx: object
    dh0: object
    dc0: object
    dw_ih: object
    dw_hh: object
    db: object


class GRUGrads(NamedTuple):
    """Gradients of :func:`gru_backward`, named as the forward's inputs."""

    dx: object
    dh0: object
    dw_ih: object
    dw_hh: object
    db_ih: object
    db_hh: object


def _previous(h0, h):
    """``(h_0, h_1, ..., h_{T-1})``: the state each step started from, ``(T, N, H)``."""
    xp = array_module(h0, h)
    return xp.concatenate([h0[None], h[:-1]], axis=0)


def _input_weight_grads(da, x, states_before, w_ih):
    """The products over all time steps: ``dx, dW_ih, dW_hh, db`` from pre-activation grads ``da``."""
    xp = array_module(da, x)
    da2 = da.reshape(-1, da.shape[-1])
    dw_ih = da2.T @ x.reshape(-1, x.shape[-1])
    dw_hh = da2.T @ states_before.reshape(-1, states_before.shape[-1])
    return da @ w_ih, dw_ih, dw_hh, xp.sum(da2, axis=0)


# ----- Elman RNN (F6) ------------------------------------------------------------------------
def rnn_tanh_forward(x, h0, *, w_ih, w_hh, b):
    r"""F6 over a sequence: :math:`h_t = \tanh(W h_{t-1} + U x_t + b)` for ``t = 1..T``.

    x (T, N, I), h0 (N, H), w_ih = U (H, I), w_hh = W (H, H), b (H,) -> h (T, N, H), every
    hidden state.  (PyTorch's ``b`` is ``bias_ih + bias_hh``.)
    """
    U, W = w_ih, w_hh
    xp = array_module(x, h0, W, U, b)
    ux = x @ U.T + b  # U x_t + b for every t at once: (T, N, H)
    h = xp.empty(ux.shape, dtype=ux.dtype)
    state = h0
    for t in range(x.shape[0]):
        state = xp.tanh(state @ W.T + ux[t])
        h[t] = state
    return h


def rnn_tanh_backward(dh, x, h0, h, *, w_ih, w_hh):
    r"""BPTT for :func:`rnn_tanh_forward` (formulas in the module docstring).

    dh (T, N, H) is the gradient of the loss with respect to every :math:`h_t` as it leaves
    the layer, h (T, N, H) the forward's output.  Returns :class:`RNNGrads`
    ``(dx (T, N, I), dh0 (N, H), dw_ih = dU (H, I), dw_hh = dW (H, H), db (H,))``.
    """
    U, W = w_ih, w_hh
    xp = array_module(dh, x, h0, W, h)
    delta = xp.empty(h.shape, dtype=h.dtype)
    through_time = xp.zeros(h0.shape, dtype=h.dtype)  # W^T delta_{t+1}: what h_t passes on to h_{t+1}
    for t in range(h.shape[0] - 1, -1, -1):
        delta[t] = (dh[t] + through_time) * (1 - h[t] * h[t])
        through_time = delta[t] @ W
    dx, dU, dW, db = _input_weight_grads(delta, x, _previous(h0, h), U)
    return RNNGrads(dx, through_time, dU, dW, db)


# ----- LSTM -------------------------------------------------------------------------------------
def lstm_forward(x, h0, c0, *, w_ih, w_hh, b):
    """PyTorch's LSTM over a sequence (equations in the module docstring).

    x (T, N, I), h0 and c0 (N, H), w_ih (4H, I), w_hh (4H, H), b (4H,) = ``bias_ih + bias_hh``.
    Returns ``h (T, N, H)`` and ``c (T, N, H)`` (every hidden and cell state) and what the
    backward needs, ``gates (T, N, 5H)`` = ``[i, f, g, o, tanh c_t]``.
    """
    xp = array_module(x, h0, c0, w_ih, w_hh, b)
    n_hidden = h0.shape[-1]
    xw = x @ w_ih.T + b
    h = xp.empty(xw.shape[:2] + (n_hidden,), dtype=xw.dtype)
    c = xp.empty_like(h)
    gates = xp.empty(xw.shape[:2] + (5 * n_hidden,), dtype=xw.dtype)
    h_t, c_t = h0, c0
    for t in range(x.shape[0]):
        a = xw[t] + h_t @ w_hh.T
        i, f, o = (sigmoid_forward(a[:, k * n_hidden:(k + 1) * n_hidden]) for k in (0, 1, 3))
        g = xp.tanh(a[:, 2 * n_hidden:3 * n_hidden])
        c_t = f * c_t + i * g
        tanh_c = xp.tanh(c_t)
        h_t = o * tanh_c
        h[t], c[t] = h_t, c_t
        gates[t] = xp.concatenate([i, f, g, o, tanh_c], axis=1)
    return h, c, gates


def lstm_backward(dh, dc, x, h0, c0, h, c, gates, *, w_ih, w_hh):
    r"""BPTT for :func:`lstm_forward`.

    dh, dc (T, N, H): gradients with respect to every :math:`h_t` and :math:`c_t` as they leave
    the layer.  Going backwards, with :math:`\bar h_t, \bar c_t` the total gradients::

        c̄_t += h̄_t * o * (1 - tanh² c_t)
        δi = c̄_t * g * i(1-i),   δf = c̄_t * c_{t-1} * f(1-f),
        δg = c̄_t * i * (1-g²),   δo = h̄_t * tanh c_t * o(1-o)
        h̄_{t-1} = dh_{t-1} + W_hh^T δ,   c̄_{t-1} = dc_{t-1} + c̄_t * f

    h, c, gates are the forward's outputs.  Returns :class:`LSTMGrads`
    ``(dx, dh0, dc0, dw_ih, dw_hh, db)``.
    """
    xp = array_module(dh, dc, x, h0, w_hh, h)
    n_hidden = h0.shape[-1]
    delta = xp.empty(h.shape[:2] + (4 * n_hidden,), dtype=h.dtype)
    h_carry = xp.zeros(h0.shape, dtype=h.dtype)
    c_carry = xp.zeros(h0.shape, dtype=h.dtype)
    for t in range(h.shape[0] - 1, -1, -1):
        i, f, g, o, tanh_c = (gates[t][:, k * n_hidden:(k + 1) * n_hidden] for k in range(5))
        c_before = c[t - 1] if t > 0 else c0
        h_bar = dh[t] + h_carry
        c_bar = dc[t] + c_carry + h_bar * o * (1 - tanh_c * tanh_c)
        delta[t] = xp.concatenate([
            c_bar * g * i * (1 - i),
            c_bar * c_before * f * (1 - f),
            c_bar * i * (1 - g * g),
            h_bar * tanh_c * o * (1 - o),
        ], axis=1)
        h_carry = delta[t] @ w_hh
        c_carry = c_bar * f
    dx, dw_ih, dw_hh, db = _input_weight_grads(delta, x, _previous(h0, h), w_ih)
    return LSTMGrads(dx, h_carry, c_carry, dw_ih, dw_hh, db)


# ----- GRU ----------------------------------------------------------------------------------------
def gru_forward(x, h0, *, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's GRU over a sequence (equations in the module docstring).

    x (T, N, I), h0 (N, H), w_ih (3H, I), w_hh (3H, H), b_ih and b_hh (3H,) -- kept apart,
    because the reset gate multiplies ``W_hn h + b_hn`` but not ``b_in``.
    Returns ``h (T, N, H)`` and ``gates (T, N, 4H)`` = ``[r, z, n, W_hn h_{t-1} + b_hn]``.
    """
    xp = array_module(x, h0, w_ih, w_hh, b_ih, b_hh)
    n_hidden = h0.shape[-1]
    xw = x @ w_ih.T + b_ih
    h = xp.empty(xw.shape[:2] + (n_hidden,), dtype=xw.dtype)
    gates = xp.empty(xw.shape[:2] + (4 * n_hidden,), dtype=xw.dtype)
    h_t = h0
    for t in range(x.shape[0]):
        hw = h_t @ w_hh.T + b_hh
        r = sigmoid_forward(xw[t][:, :n_hidden] + hw[:, :n_hidden])
        z = sigmoid_forward(xw[t][:, n_hidden:2 * n_hidden] + hw[:, n_hidden:2 * n_hidden])
        hn = hw[:, 2 * n_hidden:]
        n = xp.tanh(xw[t][:, 2 * n_hidden:] + r * hn)
        h_t = (1 - z) * n + z * h_t
        h[t] = h_t
        gates[t] = xp.concatenate([r, z, n, hn], axis=1)
    return h, gates


def gru_backward(dh, x, h0, h, gates, *, w_ih, w_hh):
    r"""BPTT for :func:`gru_forward`.

    dh (T, N, H): gradient with respect to every :math:`h_t` as it leaves the layer.  With
    :math:`\bar h_t` the total gradient and ``hn = W_hn h_{t-1} + b_hn``::

        δn = h̄_t (1-z)(1-n²),   δz = h̄_t (h_{t-1} - n) z(1-z),   δr = δn * hn * r(1-r)
        input side  (x_t):     [δr, δz, δn]
        hidden side (h_{t-1}): [δr, δz, δn * r]
        h̄_{t-1} = dh_{t-1} + h̄_t z + W_hh^T [δr, δz, δn r]

    h, gates are the forward's outputs.  Returns :class:`GRUGrads`
    ``(dx, dh0, dw_ih, dw_hh, db_ih, db_hh)``.
    """
    xp = array_module(dh, x, h0, w_hh, h)
    n_hidden = h0.shape[-1]
    delta_in = xp.empty((h.shape[0], h.shape[1], 3 * n_hidden), dtype=h.dtype)
    delta_hid = xp.empty_like(delta_in)
    carry = xp.zeros(h0.shape, dtype=h.dtype)
    for t in range(h.shape[0] - 1, -1, -1):
        r, z, n, hn = (gates[t][:, k * n_hidden:(k + 1) * n_hidden] for k in range(4))
        h_before = h[t - 1] if t > 0 else h0
        h_bar = dh[t] + carry
        dn = h_bar * (1 - z) * (1 - n * n)
        dz = h_bar * (h_before - n) * z * (1 - z)
        dr = dn * hn * r * (1 - r)
        delta_in[t] = xp.concatenate([dr, dz, dn], axis=1)
        delta_hid[t] = xp.concatenate([dr, dz, dn * r], axis=1)
        carry = h_bar * z + delta_hid[t] @ w_hh
    d2 = delta_hid.reshape(-1, 3 * n_hidden)
    dw_hh = d2.T @ _previous(h0, h).reshape(-1, n_hidden)
    di2 = delta_in.reshape(-1, 3 * n_hidden)
    dw_ih = di2.T @ x.reshape(-1, x.shape[-1])
    return GRUGrads(delta_in @ w_ih, carry, dw_ih, dw_hh, xp.sum(di2, axis=0), xp.sum(d2, axis=0))
