r"""``RNN``, ``LSTM`` and ``GRU`` as ONNX's operators of the same names, one node per layer.

ONNX stacks the weights of both directions, ``W (D, G·H, input)``, ``R (D, G·H, H)`` and
``B (D, 2·G·H)`` = the input biases then the recurrent ones, and orders the gates differently
from PyTorch (and tinymed):

=========  =====================  =================  ====================================
layer      tinymed / PyTorch      ONNX               note
=========  =====================  =================  ====================================
``RNN``    one block              one block          ``Tanh``
``LSTM``   i, f, g, o             i, o, f, c         ``c`` is PyTorch's ``g``
``GRU``    r, z, n                z, r, h            ``linear_before_reset=1``: PyTorch's
                                                     :math:`r \odot (W_{hn} h + b_{hn})`
=========  =====================  =================  ====================================

The operator's output ``Y (T, D, N, H)`` becomes the next layer's input
``(T, N, D·H)`` by a ``Transpose`` and a ``Reshape``; the final states of all layers are
concatenated into ``h_n (layers·D, N, H)`` (and ``c_n``), in PyTorch's order.  The initial
states are zeros (``hx=None``), as the exported forward is called with the input alone.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, no_grad
from .graph import Graph, Value

# position of each ONNX gate block in tinymed's weight rows
_GATE_ORDER = {"RNN": [0], "LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


def _reordered(weight: np.ndarray, mode: str, hidden: int) -> np.ndarray:
    blocks = [weight[k * hidden:(k + 1) * hidden] for k in range(len(_GATE_ORDER[mode]))]
    return np.concatenate([blocks[k] for k in _GATE_ORDER[mode]])


def _layer_weights(module, layer: int):
    """``W, R, B`` of one layer, both directions stacked, gates in ONNX's order."""
    mode, hidden = module.mode, module.hidden_size
    ws, rs, bs = [], [], []
    for direction in range(module.num_directions):
        w_ih, w_hh, b_ih, b_hh = module._weights(layer, direction)
        ws.append(_reordered(w_ih.numpy(), mode, hidden))
        rs.append(_reordered(w_hh.numpy(), mode, hidden))
        gates = len(_GATE_ORDER[mode]) * hidden
        if b_ih is None:
            bs.append(np.zeros(2 * gates, dtype=ws[-1].dtype))
        else:
            bs.append(np.concatenate([_reordered(b_ih.numpy(), mode, hidden), _reordered(b_hh.numpy(), mode, hidden)]))
    return np.stack(ws), np.stack(rs), np.stack(bs)


def recurrent(graph: Graph, module, x: Value):
    """The converter of RNN, LSTM and GRU: ``(output, h_n)``, or ``(output, (h_n, c_n))`` for LSTM."""
    name = type(module).__name__
    if x.example.ndim != 3:
        raise ValueError(f"to_onnx: {name} is exported for batched sequences (3-D input); the example input "
                         f"reaches it with shape {x.shape}")
    mode, hidden = module.mode, module.hidden_size
    sequence = graph.node("Transpose", [x.name], "time_major", perm=[1, 0, 2]) if module.batch_first else x.name
    attributes = dict(hidden_size=hidden, direction="bidirectional" if module.bidirectional else "forward")
    if mode == "GRU":
        attributes["linear_before_reset"] = 1
    finals_h, finals_c = [], []
    for layer in range(module.num_layers):
        w, r, b = _layer_weights(module, layer)
        hint = f"{mode.lower()}_l{layer}"
        inputs = [sequence, graph.constant(f"{hint}.W", w), graph.constant(f"{hint}.R", r),
                  graph.constant(f"{hint}.B", b)]
        outputs = graph.node(mode, inputs, hint, outputs=3 if mode == "LSTM" else 2, **attributes)
        finals_h.append(outputs[1])
        if mode == "LSTM":
            finals_c.append(outputs[2])
        by_batch = graph.node("Transpose", [outputs[0]], f"{hint}_y", perm=[0, 2, 1, 3])
        sequence = graph.node("Reshape", [by_batch, graph.int64s(f"{hint}.shape", [0, 0, -1])], f"{hint}_out")
    output = graph.node("Transpose", [sequence], "batch_major", perm=[1, 0, 2]) if module.batch_first else sequence
    example = run_recurrent(module, x)
    h_n = _concat(graph, finals_h, "h_n")
    result = Value(output, example[0], 0 if module.batch_first else 1)
    if mode == "LSTM":
        return result, (Value(h_n, example[1][0], 1), Value(_concat(graph, finals_c, "c_n"), example[1][1], 1))
    return result, Value(h_n, example[1], 1)


def run_recurrent(module, x: Value):
    """The tinymed module's ``(output, h_n)`` or ``(output, (h_n, c_n))`` for the example, as arrays."""
    with no_grad():
        output, state = module(Tensor(x.example))
    if isinstance(state, tuple):
        return output.numpy(), (state[0].numpy(), state[1].numpy())
    return output.numpy(), state.numpy()


def _concat(graph: Graph, names: list, hint: str) -> str:
    if len(names) == 1:
        return graph.node("Identity", names, hint)
    return graph.node("Concat", names, hint, axis=0)
