"""Wrong solutions a student might write for the sequence exercises (RNN, LSTM cell, attention, layer
norm): each loses marks and is told which mistake it made."""

import numpy as np
import pytest


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ----- rnn_bptt ----------------------------------------------------------------------------------------
def _rnn(x, h0, U, W, b, transpose_w=False, nonlinear=True):
    h, state = [], h0
    for x_t in x:
        a = state @ (W if transpose_w else W.T) + x_t @ U.T + b
        state = np.tanh(a) if nonlinear else a
        h.append(state)
    return np.array(h).reshape(x.shape[:2] + h0.shape[1:])


def rnn_w_not_transposed(x, h0, U, W, b):
    return _rnn(x, h0, U, W, b, transpose_w=True)


def rnn_without_tanh(x, h0, U, W, b):
    return _rnn(x, h0, U, W, b, nonlinear=False)


def _bptt(dh, x, h0, h, U, W, carry=True, carry_w_t=False, previous_state=True, tanh_derivative=True):
    dx, dU, dW, db = np.zeros_like(x), np.zeros_like(U), np.zeros_like(W), np.zeros(U.shape[0])
    from_later = np.zeros_like(h0)
    for t in reversed(range(len(x))):
        total = dh[t] + from_later
        delta = total * (1 - h[t] ** 2) if tanh_derivative else total
        before = (h[t - 1] if t > 0 else h0) if previous_state else h[t]
        dx[t] = delta @ U
        dU += delta.T @ x[t]
        dW += delta.T @ before
        db += delta.sum(axis=0)
        from_later = delta @ (W.T if carry_w_t else W) if carry else np.zeros_like(h0)
    dh0 = delta @ W if len(x) else np.zeros_like(h0)
    return dx, dh0, dU, dW, db


def bptt_truncated(dh, x, h0, h, U, W):
    return _bptt(dh, x, h0, h, U, W, carry=False)


def bptt_carry_with_w_transposed(dh, x, h0, h, U, W):
    return _bptt(dh, x, h0, h, U, W, carry_w_t=True)


def bptt_pairs_delta_with_h_t(dh, x, h0, h, U, W):
    return _bptt(dh, x, h0, h, U, W, previous_state=False)


def bptt_without_tanh_derivative(dh, x, h0, h, U, W):
    return _bptt(dh, x, h0, h, U, W, tanh_derivative=False)


# ----- lstm_cell -----------------------------------------------------------------------------------------
def _gates(x, h, w_ih, w_hh, b, order="ifgo"):
    a = x @ w_ih.T + h @ w_hh.T + b
    gates = dict(zip(order, np.split(a, 4, axis=1)))
    return _sigmoid(gates["i"]), _sigmoid(gates["f"]), np.tanh(gates["g"]), _sigmoid(gates["o"])


def lstm_forget_gate_first(x, h, c, w_ih, w_hh, b):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b, order="figo")
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next


def lstm_h_without_tanh(x, h, c, w_ih, w_hh, b):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b)
    c_next = f * c + i * g
    return o * c_next, c_next


def _cell_backward(dh_next, dc_next, x, h, c, w_ih, w_hh, b, h_path=True, forget=True, bias=True):
    i, f, g, o = _gates(x, h, w_ih, w_hh, b)
    tanh_c = np.tanh(f * c + i * g)
    dc_total = dc_next + (dh_next * o * (1 - tanh_c ** 2) if h_path else 0)
    da = np.concatenate([dc_total * g * i * (1 - i), dc_total * c * f * (1 - f), dc_total * i * (1 - g ** 2),
                         dh_next * tanh_c * o * (1 - o)], axis=1)
    db = da.sum(axis=0) if bias else np.zeros_like(b)
    return da @ w_ih, da @ w_hh, dc_total * f if forget else dc_total, da.T @ x, da.T @ h, db


def lstm_backward_without_the_h_path(dh_next, dc_next, x, h, c, w_ih, w_hh, b):
    return _cell_backward(dh_next, dc_next, x, h, c, w_ih, w_hh, b, h_path=False)


def lstm_backward_without_the_forget_gate(dh_next, dc_next, x, h, c, w_ih, w_hh, b):
    return _cell_backward(dh_next, dc_next, x, h, c, w_ih, w_hh, b, forget=False)


def lstm_backward_without_the_bias(dh_next, dc_next, x, h, c, w_ih, w_hh, b):
    return _cell_backward(dh_next, dc_next, x, h, c, w_ih, w_hh, b, bias=False)


# ----- attention -----------------------------------------------------------------------------------------
def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_mask_after_softmax(q, k, v, mask):
    p = _softmax(q @ k.swapaxes(1, 2) / np.sqrt(q.shape[-1])) * mask
    return p @ v


def attention_mask_as_zero(q, k, v, mask):
    s = q @ k.swapaxes(1, 2) / np.sqrt(q.shape[-1])
    return _softmax(s * mask) @ v


def attention_unscaled(q, k, v, mask):
    s = np.where(mask, q @ k.swapaxes(1, 2), -np.inf)
    return _softmax(s) @ v


def _attention_backward(dout, q, k, v, mask, softmax_sum=True, scale_gradients=True):
    scale = 1 / np.sqrt(q.shape[-1])
    p = _softmax(np.where(mask, q @ k.swapaxes(1, 2) * scale, -np.inf))
    dp = dout @ v.swapaxes(1, 2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True)) if softmax_sum else p * dp
    factor = scale if scale_gradients else 1.0
    return ds @ k * factor, ds.swapaxes(1, 2) @ q * factor, p.swapaxes(1, 2) @ dout


def attention_backward_without_softmax_sum(dout, q, k, v, mask):
    return _attention_backward(dout, q, k, v, mask, softmax_sum=False)


def attention_backward_forgets_the_scale(dout, q, k, v, mask):
    return _attention_backward(dout, q, k, v, mask, scale_gradients=False)


# ----- layer_norm -----------------------------------------------------------------------------------------
def _layer_norm_backward(dy, x, weight, eps, mean_path=True, variance_path=True, one_pass=False, bias=True,
                         sum_weight=True):
    mu = x.mean(axis=1, keepdims=True)
    var = (x ** 2).mean(axis=1, keepdims=True) - mu ** 2 if one_pass else ((x - mu) ** 2).mean(axis=1, keepdims=True)
    rstd = 1 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    g = dy * weight
    dx = g.copy()
    if mean_path:
        dx -= g.mean(axis=1, keepdims=True)
    if variance_path:
        dx -= xhat * (g * xhat).mean(axis=1, keepdims=True)
    dweight = (dy * xhat).sum(axis=0) if sum_weight else dy * xhat
    return rstd * dx, dweight, dy.sum(axis=0) if bias else np.zeros_like(weight)


def layer_norm_without_the_mean_path(dy, x, weight, eps):
    return _layer_norm_backward(dy, x, weight, eps, mean_path=False)


def layer_norm_without_the_variance_path(dy, x, weight, eps):
    return _layer_norm_backward(dy, x, weight, eps, variance_path=False)


def layer_norm_with_constant_statistics(dy, x, weight, eps):
    return _layer_norm_backward(dy, x, weight, eps, mean_path=False, variance_path=False)


def layer_norm_one_pass_variance(dy, x, weight, eps):
    return _layer_norm_backward(dy, x, weight, eps, one_pass=True)


def layer_norm_without_the_bias(dy, x, weight, eps):
    return _layer_norm_backward(dy, x, weight, eps, bias=False)


def layer_norm_weight_not_summed(dy, x, weight, eps):
    return _layer_norm_backward(dy, x, weight, eps, sum_weight=False)


MUTANTS = [
    ("rnn_bptt", "rnn_forward", rnn_w_not_transposed, "w_transposed"),
    ("rnn_bptt", "rnn_forward", rnn_without_tanh, "missing_tanh"),
    ("rnn_bptt", "rnn_backward", bptt_truncated, "truncated"),
    ("rnn_bptt", "rnn_backward", bptt_carry_with_w_transposed, "carry_transposed"),
    ("rnn_bptt", "rnn_backward", bptt_pairs_delta_with_h_t, "states_not_shifted"),
    ("rnn_bptt", "rnn_backward", bptt_without_tanh_derivative, "missing_tanh_derivative"),
    ("lstm_cell", "lstm_cell_forward", lstm_forget_gate_first, "gate_order"),
    ("lstm_cell", "lstm_cell_forward", lstm_h_without_tanh, "h_without_tanh"),
    ("lstm_cell", "lstm_cell_backward", lstm_backward_without_the_h_path, "cell_gradient_misses_h"),
    ("lstm_cell", "lstm_cell_backward", lstm_backward_without_the_forget_gate, "dc_misses_forget_gate"),
    ("lstm_cell", "lstm_cell_backward", lstm_backward_without_the_bias, "missing_bias_gradient"),
    ("attention", "attention_forward", attention_mask_after_softmax, "mask_after_softmax"),
    ("attention", "attention_forward", attention_mask_as_zero, "mask_as_zero_score"),
    ("attention", "attention_forward", attention_unscaled, "unscaled_scores"),
    ("attention", "attention_backward", attention_backward_without_softmax_sum, "softmax_backward_without_sum"),
    ("attention", "attention_backward", attention_backward_forgets_the_scale, "factor"),
    ("layer_norm", "layer_norm_backward", layer_norm_without_the_mean_path, "mean_path_missing"),
    ("layer_norm", "layer_norm_backward", layer_norm_without_the_variance_path, "variance_path_missing"),
    ("layer_norm", "layer_norm_backward", layer_norm_with_constant_statistics, "normalisation_treated_as_constant"),
    ("layer_norm", "layer_norm_backward", layer_norm_one_pass_variance, "one_pass_variance"),
    ("layer_norm", "layer_norm_backward", layer_norm_without_the_bias, "missing_bias_gradient"),
    ("layer_norm", "layer_norm_backward", layer_norm_weight_not_summed, "not_summed_over_batch"),
]


@pytest.mark.parametrize("exercise, function, mutant, mistake",
                         [pytest.param(*m, id=f"{m[1]}:{m[2].__name__}") for m in MUTANTS])
def test_a_wrong_solution_loses_marks_with_the_right_diagnosis(exercise, function, mutant, mistake, assert_diagnosed):
    assert_diagnosed(exercise, function, mutant, mistake)
