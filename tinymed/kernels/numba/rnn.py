"""Recurrent layers (RNN, LSTM, GRU): Numba loops for each time step's gates, BLAS for the products.

The formulas, shapes and gate orders are in :mod:`tinymed.kernels.reference.rnn`; these
kernels compute the same numbers.  A step of any of the three layers is

1. one matrix product with the recurrent weights, ``h_{t-1} @ W_hh^T`` (forward) or
   ``delta_t @ W_hh`` (backward) -- NumPy's BLAS, written into a preallocated buffer;
2. ``@njit`` loops over the ``(N, H)`` units of the step that do the gate arithmetic in place,
   where the reference makes a dozen whole-array temporaries: one fused loop for the RNN and
   the GRU, and for the LSTM's forward step (five exponentials per unit) three loops around
   NumPy's vectorised ``exp``.

The input products (``x_t @ W_ih^T`` for every t) and the weight gradients are one large
BLAS product each, before or after the loop, exactly as in the reference.

Why this split (measured on 2 cores, float32, N=32, H=128, LSTM; see
``benchmarks/bench_sequence.py`` for the whole-layer figures):

* ``np.dot`` *inside* ``@njit`` goes through SciPy's BLAS: it needs SciPy at run time (not a
  tinymed dependency) and its ``(32, 128) @ (128, 512)`` took 91 us against NumPy's 65 us.
* A hand-written product loop inside ``@njit`` (no BLAS at all, so the whole time loop can
  be one compiled function) was 2-3x slower than BLAS for the same product.
* The Python loop over time costs two calls per step (six in the LSTM's forward), a few
  microseconds against the ~100 us of work in each step at this size.

The loops are single-threaded: BLAS already uses every core for the products, and a second
(Numba) thread pool taking turns with it on the same cores is much slower, not faster (see
:mod:`tinymed.kernels.numba.conv`).

Transcendentals: ``tanh`` and the sigmoid are written with one ``exp`` each and no branch
(both exact in their limits, see :func:`_sigmoid` and :func:`_tanh`).  Without Intel's SVML,
Numba calls the C library's scalar functions, and a loop that calls one is not vectorised: on
the benchmark machine ``expf`` took about 3.8 ns, ``expm1f`` 15 ns and ``tanhf`` 20 ns, against
1.4 ns for NumPy's vectorised float32 ``exp``.  With ``expm1``, a branch per gate and scalar
calls, the gate arithmetic of the LSTM's forward pass took longer than all its matrix
products; branch-free it took 165 us a step, split around NumPy's ``exp`` 92 us.

Large temporaries are avoided: the input term is written straight into the array that will
hold the gates (:func:`_input_term`), and the gradient of ``W_hh`` needs no copy of the shifted
states (:func:`_state_products`).  On a virtual machine every fresh multi-megabyte array costs a
page fault per 4 KB when it is first written, which at this size is as slow as the arithmetic.
"""

import numpy as np
from numba import njit

from ..reference.rnn import GRUGrads, LSTMGrads, RNNGrads


def _c(a):
    return np.ascontiguousarray(a)


def _input_term(x, w_ih, b, gates, width):
    """W_ih x_t + b for every t in one product, written into the first ``width`` columns of
    ``gates`` (T, N, *), where each step's gate values will replace it: no separate array."""
    pre = gates.reshape(-1, gates.shape[-1])[:, :width]
    np.matmul(x.reshape(-1, x.shape[-1]), w_ih.T, out=pre)
    pre += b


def _state_products(delta, h0, h):
    """dW_hh = sum_t delta_t^T h_{t-1}, without building the array (h_0, ..., h_{T-1}): steps
    2..T in one product, step 1 (which starts from h_0) on its own."""
    width = delta.shape[-1]
    total = delta[1:].reshape(-1, width).T @ h[:-1].reshape(-1, h.shape[-1])
    total += delta[0].T @ h0
    return total


_WORKSPACE = {}


def _workspace(name, shape, dtype):
    """A scratch array for a backward pass, kept between calls of the same shape.

    The per-step gradients (T, N, 4H for the LSTM) are megabytes that never leave the
    kernel; a fresh array costs a page fault per 4 KB the first time each page is written,
    which at benchmark sizes took as long as the arithmetic.  One array per name is kept.
    """
    key = (name, shape, np.dtype(dtype))
    if key not in _WORKSPACE:
        for old in [k for k in _WORKSPACE if k[0] == name]:
            del _WORKSPACE[old]
        _WORKSPACE[key] = np.empty(shape, dtype=dtype)
    return _WORKSPACE[key]


@njit(cache=True, inline="always")
def _sigmoid(x, one):
    """σ(x) = 1/(1 + e^{-x}).

    No branch is needed for stability: for x < -88 (float32) e^{-x} overflows to inf and
    1/(1 + inf) = 0, the correct limit.  (Only with NUMBA_DISABLE_JIT does NumPy warn about
    that overflow.)
    """
    return one / (one + np.exp(-x))


@njit(cache=True, inline="always")
def _tanh(x, one, two):
    """tanh x = 1 - 2/(1 + e^{2x}), exact at both ends (e^{2x} -> inf gives 1, -> 0 gives -1).

    Near 0 the subtraction cancels: the error is a few ulps *of 1*, not of tanh x, which is
    within the agreement tolerance (absolute 1e-5 in float32, 1e-12 in float64) but not
    ``np.tanh``'s relative accuracy for tiny x.
    """
    return one - two / (one + np.exp(two * x))


# ----- Elman RNN (F6) -----------------------------------------------------------------------
@njit(cache=True)
def _rnn_step(wh, h_t):
    """h_t = tanh(W h_{t-1} + [U x_t + b]); ``h_t`` holds the bracket on entry, wh = W h_{t-1}."""
    one, two = h_t.dtype.type(1), h_t.dtype.type(2)
    for n in range(h_t.shape[0]):
        for j in range(h_t.shape[1]):
            h_t[n, j] = _tanh(h_t[n, j] + wh[n, j], one, two)


@njit(cache=True)
def _rnn_step_grad(dh_t, carry, h_t, delta_t):
    """delta_t = (dh_t + W^T delta_{t+1}) * (1 - h_t^2)."""
    one = h_t.dtype.type(1)  # a literal 1 would promote float32 arithmetic to float64
    for n in range(h_t.shape[0]):
        for j in range(h_t.shape[1]):
            delta_t[n, j] = (dh_t[n, j] + carry[n, j]) * (one - h_t[n, j] * h_t[n, j])


def rnn_tanh_forward(x, h0, *, w_ih, w_hh, b):
    """F6: h_t = tanh(W h_{t-1} + U x_t + b) for t = 1..T.

    x (T, N, I), h0 (N, H), w_ih = U (H, I), w_hh = W (H, H), b (H,) -> h (T, N, H)."""
    x, h0, W, U = _c(x), _c(h0), _c(w_hh), _c(w_ih)
    h = x @ U.T  # U x_t + b for every t; each step overwrites its slice with h_t
    h += b
    wh = np.empty(h0.shape, dtype=h.dtype)
    state = h0
    for t in range(x.shape[0]):
        np.matmul(state, W.T, out=wh)
        _rnn_step(wh, h[t])
        state = h[t]
    return h


def rnn_tanh_backward(dh, x, h0, h, *, w_ih, w_hh):
    """BPTT: delta_t = (dh_t + W^T delta_{t+1}) (1 - h_t^2); dW = sum delta_t h_{t-1}^T, dU = sum delta_t x_t^T.

    Returns RNNGrads(dx (T, N, I), dh0 (N, H), dw_ih = dU (H, I), dw_hh = dW (H, H), db (H,))."""
    dh, x, h0, W, U, h = _c(dh), _c(x), _c(h0), _c(w_hh), _c(w_ih), _c(h)
    delta = _workspace("rnn_delta", h.shape, h.dtype)
    carry = np.zeros(h0.shape, dtype=h.dtype)
    for t in range(h.shape[0] - 1, -1, -1):
        _rnn_step_grad(dh[t], carry, h[t], delta[t])
        np.matmul(delta[t], W, out=carry)
    delta2 = delta.reshape(-1, delta.shape[-1])
    dW = _state_products(delta, h0, h)
    dU = delta2.T @ x.reshape(-1, x.shape[-1])
    return RNNGrads(delta @ U, carry, dU, dW, delta2.sum(axis=0))


# ----- LSTM -------------------------------------------------------------------------------------
# A forward step is split into three small loops around NumPy's vectorised ``exp`` (see the
# module docstring): the loops themselves contain no function call, so LLVM vectorises them,
# divisions included.  The gates use  σ(u) = 1/(1 + e^{-u})  and  tanh u = 1 - 2/(1 + e^{2u}).
@njit(cache=True)
def _lstm_exp_arguments(a, gates_t):
    """a = W_hh h_{t-1} on entry, the first 4H columns of ``gates_t`` = W_ih x_t + b.  On exit
    ``a`` holds the exponents of the gates: -u for the sigmoid gates i, f, o and 2u for g."""
    hidden = a.shape[1] // 4
    two = a.dtype.type(2)
    for n in range(a.shape[0]):
        for k in range(2 * hidden):                     # i, f
            a[n, k] = -(a[n, k] + gates_t[n, k])
        for k in range(2 * hidden, 3 * hidden):         # g
            a[n, k] = two * (a[n, k] + gates_t[n, k])
        for k in range(3 * hidden, 4 * hidden):         # o
            a[n, k] = -(a[n, k] + gates_t[n, k])


@njit(cache=True)
def _lstm_cell(e, c_prev, c_t, gates_t):
    """From e = exp(exponents): the gates i, f, g, o into ``gates_t``, c_t = f c_{t-1} + i g,
    and 2 c_t (the exponent of tanh c_t) into the last H columns of ``gates_t``."""
    hidden = c_t.shape[1]
    one, two = e.dtype.type(1), e.dtype.type(2)
    for n in range(e.shape[0]):
        for j in range(hidden):
            i = one / (one + e[n, j])
            f = one / (one + e[n, hidden + j])
            g = one - two / (one + e[n, 2 * hidden + j])
            o = one / (one + e[n, 3 * hidden + j])
            c = f * c_prev[n, j] + i * g
            c_t[n, j] = c
            gates_t[n, j] = i
            gates_t[n, hidden + j] = f
            gates_t[n, 2 * hidden + j] = g
            gates_t[n, 3 * hidden + j] = o
            gates_t[n, 4 * hidden + j] = two * c


@njit(cache=True)
def _lstm_output(gates_t, h_t):
    """The last H columns of ``gates_t`` hold e^{2 c_t} on entry and tanh c_t on exit; h_t = o tanh c_t."""
    hidden = h_t.shape[1]
    one, two = gates_t.dtype.type(1), gates_t.dtype.type(2)
    for n in range(h_t.shape[0]):
        for j in range(hidden):
            tanh_c = one - two / (one + gates_t[n, 4 * hidden + j])
            gates_t[n, 4 * hidden + j] = tanh_c
            h_t[n, j] = gates_t[n, 3 * hidden + j] * tanh_c


@njit(cache=True)
def _lstm_step_grad(dh_t, dc_t, h_carry, c_carry, gates_t, c_prev, delta_t):
    """Pre-activation gradients of one step; ``c_carry`` becomes the gradient passed to c_{t-1}."""
    hidden = dh_t.shape[1]
    one = gates_t.dtype.type(1)  # a literal 1 would promote float32 arithmetic to float64
    for n in range(dh_t.shape[0]):
        for j in range(hidden):
            i, f = gates_t[n, j], gates_t[n, hidden + j]
            g, o = gates_t[n, 2 * hidden + j], gates_t[n, 3 * hidden + j]
            tanh_c = gates_t[n, 4 * hidden + j]
            h_bar = dh_t[n, j] + h_carry[n, j]
            c_bar = dc_t[n, j] + c_carry[n, j] + h_bar * o * (one - tanh_c * tanh_c)
            delta_t[n, j] = c_bar * g * i * (one - i)
            delta_t[n, hidden + j] = c_bar * c_prev[n, j] * f * (one - f)
            delta_t[n, 2 * hidden + j] = c_bar * i * (one - g * g)
            delta_t[n, 3 * hidden + j] = h_bar * tanh_c * o * (one - o)
            c_carry[n, j] = c_bar * f


def lstm_forward(x, h0, c0, *, w_ih, w_hh, b):
    """PyTorch's LSTM: [i f g o] = [s s tanh s](W_ih x_t + W_hh h_{t-1} + b), c_t = f c_{t-1} + i g, h_t = o tanh c_t.

    x (T, N, I), h0, c0 (N, H), w_ih (4H, I), w_hh (4H, H), b (4H,) ->
    h, c (T, N, H) and gates (T, N, 5H) = i, f, g, o, tanh c_t for the backward."""
    x, h0, c0, w_ih, w_hh = _c(x), _c(h0), _c(c0), _c(w_ih), _c(w_hh)
    steps, batch, hidden = x.shape[0], x.shape[1], h0.shape[1]
    h = np.empty((steps, batch, hidden), dtype=x.dtype)
    c = np.empty_like(h)
    gates = np.empty((steps, batch, 5 * hidden), dtype=x.dtype)
    _input_term(x, w_ih, b, gates, 4 * hidden)
    a = np.empty((batch, 4 * hidden), dtype=x.dtype)
    h_prev, c_prev = h0, c0
    with np.errstate(over="ignore"):  # e^{-u} = inf for u < -88 (float32) gives exactly σ = 0
        for t in range(steps):
            np.matmul(h_prev, w_hh.T, out=a)
            _lstm_exp_arguments(a, gates[t])
            np.exp(a, out=a)
            _lstm_cell(a, c_prev, c[t], gates[t])
            tanh_exponent = gates[t][:, 4 * hidden:]
            np.exp(tanh_exponent, out=tanh_exponent)
            _lstm_output(gates[t], h[t])
            h_prev, c_prev = h[t], c[t]
    return h, c, gates


def lstm_backward(dh, dc, x, h0, c0, h, c, gates, *, w_ih, w_hh):
    """BPTT for :func:`lstm_forward` (formulas in the reference); dh, dc (T, N, H).

    Returns LSTMGrads(dx (T, N, I), dh0, dc0 (N, H), dw_ih (4H, I), dw_hh (4H, H), db (4H,))."""
    dh, dc, x, h0, c0 = _c(dh), _c(dc), _c(x), _c(h0), _c(c0)
    w_ih, w_hh, h, c, gates = _c(w_ih), _c(w_hh), _c(h), _c(c), _c(gates)
    delta = _workspace("lstm_delta", (h.shape[0], h.shape[1], 4 * h.shape[2]), h.dtype)
    h_carry = np.zeros(h0.shape, dtype=h.dtype)
    c_carry = np.zeros(h0.shape, dtype=h.dtype)
    for t in range(h.shape[0] - 1, -1, -1):
        _lstm_step_grad(dh[t], dc[t], h_carry, c_carry, gates[t], c[t - 1] if t > 0 else c0, delta[t])
        np.matmul(delta[t], w_hh, out=h_carry)
    delta2 = delta.reshape(-1, delta.shape[-1])
    dw_ih = delta2.T @ x.reshape(-1, x.shape[-1])
    dw_hh = _state_products(delta, h0, h)
    return LSTMGrads(delta @ w_ih, h_carry, c_carry, dw_ih, dw_hh, delta2.sum(axis=0))


# ----- GRU ----------------------------------------------------------------------------------------
@njit(cache=True)
def _gru_step(a, b_hh, h_prev, h_t, gates_t):
    """One GRU step for every unit: a = W_hh h_{t-1} (no bias yet); the first 3H columns of
    ``gates_t`` hold W_ih x_t + b_ih on entry and r, z, n on exit, the last H columns hn."""
    one, two = a.dtype.type(1), a.dtype.type(2)
    hidden = h_t.shape[1]
    for n in range(a.shape[0]):
        for j in range(hidden):
            r = _sigmoid(gates_t[n, j] + a[n, j] + b_hh[j], one)
            z = _sigmoid(gates_t[n, hidden + j] + a[n, hidden + j] + b_hh[hidden + j], one)
            hn = a[n, 2 * hidden + j] + b_hh[2 * hidden + j]
            cand = _tanh(gates_t[n, 2 * hidden + j] + r * hn, one, two)
            h_t[n, j] = (one - z) * cand + z * h_prev[n, j]
            gates_t[n, j] = r
            gates_t[n, hidden + j] = z
            gates_t[n, 2 * hidden + j] = cand
            gates_t[n, 3 * hidden + j] = hn


@njit(cache=True)
def _gru_step_grad(dh_t, carry, gates_t, h_prev, delta_in_t, delta_hid_t):
    """Pre-activation gradients of one step; ``carry`` becomes the direct part h̄_t z of h̄_{t-1}."""
    hidden = dh_t.shape[1]
    one = gates_t.dtype.type(1)
    for n in range(dh_t.shape[0]):
        for j in range(hidden):
            r, z = gates_t[n, j], gates_t[n, hidden + j]
            cand, hn = gates_t[n, 2 * hidden + j], gates_t[n, 3 * hidden + j]
            h_bar = dh_t[n, j] + carry[n, j]
            dn = h_bar * (one - z) * (one - cand * cand)
            dz = h_bar * (h_prev[n, j] - cand) * z * (one - z)
            dr = dn * hn * r * (one - r)
            delta_in_t[n, j] = delta_hid_t[n, j] = dr
            delta_in_t[n, hidden + j] = delta_hid_t[n, hidden + j] = dz
            delta_in_t[n, 2 * hidden + j] = dn
            delta_hid_t[n, 2 * hidden + j] = dn * r
            carry[n, j] = h_bar * z


def gru_forward(x, h0, *, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's GRU: r, z = s(W_i x + b_i + W_h h + b_h), n = tanh(W_in x + b_in + r (W_hn h + b_hn)),
    h_t = (1 - z) n + z h_{t-1}.

    x (T, N, I), h0 (N, H), w_ih, w_hh (3H, *), b_ih, b_hh (3H,) -> h (T, N, H), gates (T, N, 4H)."""
    x, h0, w_ih, w_hh, b_hh = _c(x), _c(h0), _c(w_ih), _c(w_hh), _c(b_hh)
    steps, batch, hidden = x.shape[0], x.shape[1], h0.shape[1]
    h = np.empty((steps, batch, hidden), dtype=x.dtype)
    gates = np.empty((steps, batch, 4 * hidden), dtype=x.dtype)
    _input_term(x, w_ih, b_ih, gates, 3 * hidden)
    a = np.empty((batch, 3 * hidden), dtype=x.dtype)
    h_prev = h0
    for t in range(steps):
        np.matmul(h_prev, w_hh.T, out=a)
        _gru_step(a, b_hh, h_prev, h[t], gates[t])
        h_prev = h[t]
    return h, gates


def gru_backward(dh, x, h0, h, gates, *, w_ih, w_hh):
    """BPTT for :func:`gru_forward` (formulas in the reference); dh (T, N, H).

    Returns GRUGrads(dx (T, N, I), dh0 (N, H), dw_ih (3H, I), dw_hh (3H, H), db_ih, db_hh (3H,))."""
    dh, x, h0, w_ih, w_hh, h, gates = _c(dh), _c(x), _c(h0), _c(w_ih), _c(w_hh), _c(h), _c(gates)
    steps, batch, hidden = h.shape
    delta_in = _workspace("gru_delta_in", (steps, batch, 3 * hidden), h.dtype)
    delta_hid = _workspace("gru_delta_hid", (steps, batch, 3 * hidden), h.dtype)
    carry = np.zeros(h0.shape, dtype=h.dtype)
    through_w = np.empty_like(carry)
    for t in range(steps - 1, -1, -1):
        _gru_step_grad(dh[t], carry, gates[t], h[t - 1] if t > 0 else h0, delta_in[t], delta_hid[t])
        np.matmul(delta_hid[t], w_hh, out=through_w)
        carry += through_w
    d_in2 = delta_in.reshape(-1, 3 * hidden)
    d_hid2 = delta_hid.reshape(-1, 3 * hidden)
    dw_ih = d_in2.T @ x.reshape(-1, x.shape[-1])
    dw_hh = _state_products(delta_hid, h0, h)
    return GRUGrads(delta_in @ w_ih, carry, dw_ih, dw_hh, d_in2.sum(axis=0), d_hid2.sum(axis=0))
