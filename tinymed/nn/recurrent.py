r"""Recurrent layers with PyTorch's constructor arguments, forward signature, return values and
parameter names, so a PyTorch state dict (converted to NumPy arrays) loads and gives the same
outputs.

``RNN`` is the article's formula F6, :math:`h_t = \tanh(W h_{t-1} + U x_t + b)`, stacked over
``num_layers`` layers and optionally run in both directions.  In PyTorch's names, for layer
``k``: ``weight_hh_lk`` is :math:`W`, ``weight_ih_lk`` is :math:`U`, and
``bias_ih_lk + bias_hh_lk`` is :math:`b` (two biases, one sum: PyTorch keeps both for
cuDNN compatibility).  The article's output layer :math:`y_t = W_{out} h_t + b_{out}` is a
``Linear(hidden_size, out)`` applied to the returned ``output``.

Each (layer, direction) is one fused Function (:func:`tinymed.nn.functional.rnn_tanh`,
``lstm``, ``gru``), whose backward is a hand-written backpropagation-through-time kernel.
"""

from __future__ import annotations

import math

from ..autograd import DEFAULT_DTYPE, Tensor
from . import _checks as C
from . import functional as F
from . import init
from .module import Module

_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


class _RecurrentBase(Module):
    """Shared by RNN, LSTM and GRU: parameters, input layouts, layers and directions."""

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype=DEFAULT_DTYPE):
        super().__init__()
        name = type(self).__name__
        self.input_size = C.positive_int(name, "input_size", input_size)
        self.hidden_size = C.positive_int(name, "hidden_size", hidden_size)
        self.num_layers = C.positive_int(name, "num_layers", num_layers)
        self.dropout = C.probability(name, "dropout", dropout)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.bidirectional = bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        gates = _GATES[self.mode] * self.hidden_size
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.hidden_size * self.num_directions
            for direction in range(self.num_directions):
                suffix = self._suffix(layer, direction)
                setattr(self, f"weight_ih{suffix}", C.new_parameter(name, (gates, layer_input), dtype))
                setattr(self, f"weight_hh{suffix}", C.new_parameter(name, (gates, self.hidden_size), dtype))
                if self.bias:
                    setattr(self, f"bias_ih{suffix}", C.new_parameter(name, (gates,), dtype))
                    setattr(self, f"bias_hh{suffix}", C.new_parameter(name, (gates,), dtype))
        self.reset_parameters()

    @staticmethod
    def _suffix(layer, direction):
        return f"_l{layer}" + ("_reverse" if direction else "")

    def reset_parameters(self):
        """PyTorch's initialisation: every weight and bias uniform in ±1/√hidden_size."""
        bound = 1 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def _weights(self, layer, direction):
        suffix = self._suffix(layer, direction)
        get = self._parameters.get
        return (get(f"weight_ih{suffix}"), get(f"weight_hh{suffix}"),
                get(f"bias_ih{suffix}"), get(f"bias_hh{suffix}"))

    # ----- input and state layouts ---------------------------------------------------------
    def _time_major(self, input):
        """Input as (T, N, input_size) and whether it came without a batch axis."""
        name = type(self).__name__
        x = input if isinstance(input, Tensor) else Tensor(input)
        if x.ndim not in (2, 3):
            layout = "(batch, seq_len, input_size)" if self.batch_first else "(seq_len, batch, input_size)"
            raise ValueError(f"{name}: input must be 3-D {layout} or 2-D (seq_len, input_size), got shape {x.shape}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{name}(input_size={self.input_size}): input's last dimension must be "
                             f"{self.input_size}, got input shape {x.shape}")
        if x.dtype != self.weight_ih_l0.dtype:
            raise TypeError(f"{name}: input has dtype {x.dtype} but the parameters have dtype "
                            f"{self.weight_ih_l0.dtype} (convert one of them, e.g. module.double())")
        x, unbatched = (x.reshape(x.shape[0], 1, x.shape[1]), True) if x.ndim == 2 else (
            x.transpose(0, 1) if self.batch_first else x, False)
        if x.shape[0] == 0:
            raise ValueError(f"{name}: the sequence must have at least one step, got input shape {tuple(input.shape)}")
        return x, unbatched

    def _initial_states(self, hx, batch, unbatched, what="hx"):
        """Split an initial state (layers*directions, N, H) into one (N, H) tensor per layer and
        direction; None means zeros."""
        count = self.num_layers * self.num_directions
        if hx is None:
            return [None] * count
        name = type(self).__name__
        h = hx if isinstance(hx, Tensor) else Tensor(hx)
        expected = (count, self.hidden_size) if unbatched else (count, batch, self.hidden_size)
        if h.shape != expected:
            raise ValueError(f"{name}: {what} must have shape {expected} (num_layers * num_directions, "
                             f"{'' if unbatched else 'batch, '}hidden_size), got {h.shape}")
        if unbatched:
            h = h.reshape(count, 1, self.hidden_size)
        return [h[i] for i in range(count)]

    def _run(self, x, states):
        """All layers and directions; returns (output (T, N, D*H), final states per index)."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                index = layer * self.num_directions + direction
                out, final = self._layer(x, states, index, direction == 1, self._weights(layer, direction))
                outputs.append(out)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else F.cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, finals

    def _finish(self, output, unbatched):
        if unbatched:
            return output.reshape(output.shape[0], output.shape[2])
        return output.transpose(0, 1) if self.batch_first else output

    def _stack_states(self, finals, unbatched):
        h = F.stack(finals, dim=0)
        return h.reshape(h.shape[0], h.shape[2]) if unbatched else h

    def forward(self, input, hx=None):
        """``(output, h_n)`` for the one-state layers (RNN, GRU); LSTM overrides it."""
        x, unbatched = self._time_major(input)
        output, finals = self._run(x, self._initial_states(hx, x.shape[1], unbatched))
        return self._finish(output, unbatched), self._stack_states(finals, unbatched)

    def extra_repr(self):
        parts = [f"{self.input_size}, {self.hidden_size}"]
        if self.num_layers != 1:
            parts.append(f"num_layers={self.num_layers}")
        for flag, default in (("bias", True), ("batch_first", False), ("bidirectional", False)):
            if getattr(self, flag) != default:
                parts.append(f"{flag}={getattr(self, flag)}")
        if self.dropout:
            parts.append(f"dropout={self.dropout}")
        return ", ".join(parts)


class RNN(_RecurrentBase):
    r"""Elman RNN (F6), :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})`.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)``; ``forward(input, hx=None)``
    returns ``(output, h_n)``: output (T, N, D*H) (batch first if ``batch_first``), h_n
    (num_layers*D, N, H).  Only ``nonlinearity='tanh'`` (the article's) is implemented.
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, dtype=DEFAULT_DTYPE):
        if nonlinearity != "tanh":
            raise ValueError(f"RNN: only nonlinearity='tanh' (formula F6) is implemented, got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)
        self.nonlinearity = nonlinearity

    def _layer(self, x, states, index, reverse, weights):
        out = F.rnn_tanh(x, states[index], *weights, reverse=reverse)
        return out, out[0] if reverse else out[-1]


class GRU(_RecurrentBase):
    """Gated recurrent unit, PyTorch's equations and gate order (r, z, n).

    Same arguments as :class:`RNN` (without ``nonlinearity``); ``forward(input, hx=None)``
    returns ``(output, h_n)``.
    """

    mode = "GRU"

    def _layer(self, x, states, index, reverse, weights):
        out = F.gru(x, states[index], *weights, reverse=reverse)
        return out, out[0] if reverse else out[-1]


class LSTM(_RecurrentBase):
    """Long short-term memory, PyTorch's equations and gate order (i, f, g, o).

    ``forward(input, hx=None)`` with ``hx = (h_0, c_0)`` or None returns
    ``(output, (h_n, c_n))``.  (``proj_size`` is not supported.)
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, dtype=DEFAULT_DTYPE):
        if proj_size:
            raise ValueError(f"LSTM: proj_size is not supported, got proj_size={proj_size}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype)

    def _layer(self, x, states, index, reverse, weights):
        h0, c0 = states[index]
        h, c = F.lstm(x, h0, c0, *weights, reverse=reverse)
        last = 0 if reverse else -1
        return h, (h[last], c[last])

    def forward(self, input, hx=None):
        x, unbatched = self._time_major(input)
        if hx is None:
            states = [(None, None)] * (self.num_layers * self.num_directions)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0) or None, got {type(hx).__name__}")
            hs = self._initial_states(hx[0], x.shape[1], unbatched, "h_0")
            cs = self._initial_states(hx[1], x.shape[1], unbatched, "c_0")
            states = list(zip(hs, cs))
        output, finals = self._run(x, states)
        h_n = self._stack_states([h for h, _ in finals], unbatched)
        c_n = self._stack_states([c for _, c in finals], unbatched)
        return self._finish(output, unbatched), (h_n, c_n)
