r"""Recurrent layers over a whole sequence as single Functions; kernels in ``tinymed/kernels/*/rnn.py``.

One Function per layer and direction, so the backward is one call of a hand-written
backpropagation-through-time kernel rather than T small graphs.  A reverse direction (the
second half of a bidirectional layer) runs the same kernel on the time-reversed sequence.
The kernels take one bias for the RNN and LSTM, ``b = b_ih + b_hh``; both biases then receive
the same gradient.
"""

from ..autograd import Function
from ..backend import array_module, kernel


def _time_flip(a, reverse):
    """The sequence in reverse time order (a contiguous copy), or unchanged."""
    return array_module(a).ascontiguousarray(a[::-1]) if reverse else a


def _bias_sum(b_ih, b_hh, like):
    """``b_ih + b_hh`` with absent biases as zeros (the kernels always take a bias)."""
    total = array_module(like).zeros(like.shape[0], dtype=like.dtype)
    for b in (b_ih, b_hh):
        if b is not None:
            total = total + b
    return total


class RNNTanhFunction(Function):
    r"""F6 over a sequence: :math:`h_t = \tanh(W h_{t-1} + U x_t + b)` with ``U = w_ih``,
    ``W = w_hh``, ``b = b_ih + b_hh``.  x (T, N, I), h0 (N, H) -> every h_t, (T, N, H).

    Backward (BPTT): :math:`\delta_t = (dh_t + W^\top \delta_{t+1}) \odot (1 - h_t^2)`,
    :math:`dW = \sum_t \delta_t h_{t-1}^\top`, :math:`dU = \sum_t \delta_t x_t^\top`,
    :math:`db = \sum_t \delta_t`.
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        self.reverse, self.has_bias = reverse, (b_ih is not None, b_hh is not None)
        self.x, self.h0, self.w_ih, self.w_hh = _time_flip(x, reverse), h0, w_ih, w_hh
        self.h = kernel("rnn_tanh_forward")(self.x, h0, w_ih=w_ih, w_hh=w_hh, b=_bias_sum(b_ih, b_hh, w_ih))
        return _time_flip(self.h, reverse)

    def backward(self, g):
        grads = kernel("rnn_tanh_backward")(_time_flip(g, self.reverse), self.x, self.h0, self.h,
                                            w_ih=self.w_ih, w_hh=self.w_hh)
        return (_time_flip(grads.dx, self.reverse), grads.dh0, grads.dw_ih, grads.dw_hh,
                grads.db if self.has_bias[0] else None, grads.db if self.has_bias[1] else None)


class LSTMFunction(Function):
    r"""PyTorch's LSTM over a sequence, gates ``i, f, g, o``:
    :math:`c_t = f \odot c_{t-1} + i \odot g`, :math:`h_t = o \odot \tanh c_t`.
    x (T, N, I), h0, c0 (N, H) -> every h_t and c_t stacked: (2, T, N, H).

    Backward: :math:`\bar c_t \mathrel{+}= \bar h_t\, o (1 - \tanh^2 c_t)`,
    :math:`\bar c_{t-1} = dc_{t-1} + \bar c_t f`, gate gradients as in the kernel's docstring.
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse):
        xp = array_module(x)
        self.reverse, self.has_bias = reverse, (b_ih is not None, b_hh is not None)
        self.x, self.h0, self.c0, self.w_ih, self.w_hh = _time_flip(x, reverse), h0, c0, w_ih, w_hh
        self.h, self.c, self.gates = kernel("lstm_forward")(self.x, h0, c0, w_ih=w_ih, w_hh=w_hh,
                                                            b=_bias_sum(b_ih, b_hh, w_ih))
        return xp.stack([_time_flip(self.h, reverse), _time_flip(self.c, reverse)])

    def backward(self, g):
        grads = kernel("lstm_backward")(_time_flip(g[0], self.reverse), _time_flip(g[1], self.reverse),
                                        self.x, self.h0, self.c0, self.h, self.c, self.gates,
                                        w_ih=self.w_ih, w_hh=self.w_hh)
        return (_time_flip(grads.dx, self.reverse), grads.dh0, grads.dc0, grads.dw_ih, grads.dw_hh,
                grads.db if self.has_bias[0] else None, grads.db if self.has_bias[1] else None)


class GRUFunction(Function):
    r"""PyTorch's GRU over a sequence, gates ``r, z, n``:
    :math:`n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))`,
    :math:`h_t = (1 - z) \odot n + z \odot h_{t-1}`.  x (T, N, I), h0 (N, H) -> (T, N, H).

    Backward: :math:`\delta n = \bar h (1-z)(1-n^2)`, :math:`\delta z = \bar h (h_{t-1} - n) z(1-z)`,
    :math:`\delta r = \delta n\,(W_{hn} h + b_{hn})\, r(1-r)`; the two biases get different
    gradients, because ``r`` multiplies ``b_hn`` but not ``b_in``.
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, reverse):
        zeros = array_module(x).zeros(w_ih.shape[0], dtype=w_ih.dtype)
        self.reverse, self.has_bias = reverse, (b_ih is not None, b_hh is not None)
        self.x, self.h0, self.w_ih, self.w_hh = _time_flip(x, reverse), h0, w_ih, w_hh
        self.h, self.gates = kernel("gru_forward")(self.x, h0, w_ih=w_ih, w_hh=w_hh,
                                                   b_ih=zeros if b_ih is None else b_ih,
                                                   b_hh=zeros if b_hh is None else b_hh)
        return _time_flip(self.h, reverse)

    def backward(self, g):
        grads = kernel("gru_backward")(_time_flip(g, self.reverse), self.x, self.h0, self.h, self.gates,
                                       w_ih=self.w_ih, w_hh=self.w_hh)
        return (_time_flip(grads.dx, self.reverse), grads.dh0, grads.dw_ih, grads.dw_hh,
                grads.db_ih if self.has_bias[0] else None, grads.db_hh if self.has_bias[1] else None)
