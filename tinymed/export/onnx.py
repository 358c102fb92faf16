"""Export a tinymed model to ONNX (article 003 §3.2.4: convert the trained model to a format the
target device runs, F21).

ONNX is a file format for a computation graph -- operators, their wiring, and the weights --
that runtimes on servers, phones and browsers execute without the library that trained the
model.  :func:`to_onnx` walks the model's layers, writes each as the ONNX operators that
compute the same thing (``tinymed/export/layers.py``, ``recurrent.py``, ``attention.py``,
``models.py`` for GPT and BERT), checks the graph with ``onnx.checker``, runs it once on the
example input to compare with the model, and saves it.  It needs the ``onnx`` package
(``pip install 'tinymed[export]'``); running the file needs a runtime, e.g. ``onnxruntime``::

    import onnxruntime as ort
    session = ort.InferenceSession("model.onnx")
    (logits,) = session.run(None, {"input": images})
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path

import numpy as np

from .. import nn
from ..autograd import Tensor, no_grad
from .attention import multihead_attention, transformer_encoder_layer
from .graph import Graph, Value
from .layers import (
    avg_pool2d,
    conv2d,
    elementwise,
    embedding,
    flatten,
    gelu,
    identity,
    layer_norm,
    linear,
    max_pool2d,
    softmax,
)
from .models import CONVERTERS as MODEL_CONVERTERS
from .recurrent import recurrent

CONVERTERS = {
    nn.Linear: linear, nn.Conv2d: conv2d, nn.MaxPool2d: max_pool2d, nn.AvgPool2d: avg_pool2d,
    nn.ReLU: elementwise("Relu"), nn.Sigmoid: elementwise("Sigmoid"), nn.Tanh: elementwise("Tanh"),
    nn.Softmax: softmax, nn.GELU: gelu, nn.Flatten: flatten, nn.Dropout: identity, nn.Identity: identity,
    nn.LayerNorm: layer_norm, nn.Embedding: embedding, nn.RNN: recurrent, nn.LSTM: recurrent, nn.GRU: recurrent,
    nn.MultiheadAttention: multihead_attention, nn.TransformerEncoderLayer: transformer_encoder_layer,
    **MODEL_CONVERTERS,
}
"""The layer types :func:`to_onnx` knows, each with the function that writes its operators."""

MIN_OPSET = 13  # Softmax over one axis and Reshape/Unsqueeze with shape inputs, as used here


def _converter(module: nn.Module, where: str):
    """The converter of ``module``'s type, or of the nearest base type it inherits ``forward`` from
    (a Keras ``Flatten`` is an ``nn.Flatten``); an unknown layer is refused by name."""
    if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
        return functools.partial(_sequential, where=where)
    for cls in type(module).__mro__:
        if cls in CONVERTERS and type(module).forward is cls.forward:
            return CONVERTERS[cls]
    known = ", ".join(sorted(c.__name__ for c in CONVERTERS))
    raise TypeError(f"to_onnx: cannot export {type(module).__name__} (at {where}): tinymed exports Sequential models "
                    f"of {known}; a Module with its own forward() must be rebuilt from them")


def _sequential(graph: Graph, module, x: Value, where: str):
    for name, layer in module.named_children():
        if isinstance(x, tuple):
            raise ValueError(f"to_onnx: the layer before {name} in {where} returns a tuple (RNN, LSTM and GRU return "
                             "(output, state)), which no following layer can take")
        inner = name if where == "the model" else f"{where}.{name}"
        x = _converter(layer, inner)(graph, layer, x)
    return x


def _outputs(result) -> list:
    """The graph's output values, nested tuples (``(output, (h_n, c_n))``) flattened in order."""
    if isinstance(result, Value):
        return [result]
    return [v for part in result for v in _outputs(part)]


def _batch_axis(model: nn.Module) -> int:
    """Which axis of the input is the batch: 1 for a sequence model that is not ``batch_first``."""
    first = model
    while isinstance(first, nn.Sequential) and len(first):
        first = first[0]
    layer = getattr(first, "self_attn", first)
    return 1 if getattr(layer, "batch_first", True) is False else 0


def _inputs(example_input) -> list:
    examples = list(example_input) if isinstance(example_input, (tuple, list)) else [example_input]
    arrays = []
    for i, example in enumerate(examples):
        array = example.numpy() if isinstance(example, Tensor) else np.asarray(example)
        if array.dtype.kind not in "fiu" or array.ndim == 0:
            raise TypeError(f"to_onnx: example_input {i} must be an array or Tensor with a batch axis, "
                            f"got {type(example).__name__} of dtype {array.dtype} and shape {array.shape}")
        arrays.append(array)
    return arrays


def _float_dtype(model: nn.Module, arrays: list):
    """The model's floating-point type: its parameters', or, without any, its float input's."""
    dtypes = {p.dtype for p in model.parameters()} or {a.dtype for a in arrays if a.dtype.kind == "f"}
    if len(dtypes) > 1:
        raise TypeError(f"to_onnx: the model mixes dtypes {sorted(map(str, dtypes))}; convert it with "
                        "model.float() or model.double()")
    return dtypes.pop() if dtypes else np.dtype(np.float32)


def to_onnx(model: nn.Module, example_input, path, opset: int = 17, dynamic_batch: bool = True,
            input_names=None, output_names=None, verify: bool = True):
    """Write ``model`` as an ONNX file at ``path`` and return the ``onnx.ModelProto``.

    ``example_input``: an array or Tensor shaped like a batch the model takes (a tuple of them
    for ``MultiheadAttention``'s query, key and value); it fixes every size but the batch,
    which stays free when ``dynamic_batch``.  The model is exported in eval mode (dropout off;
    its mode is restored afterwards).  Inputs are named ``input``, ``input_1``, ...; outputs
    ``output``, ``output_1``, ... (an LSTM's ``(output, (h_n, c_n))`` gives three), unless
    ``input_names``/``output_names`` say otherwise.  ``opset``: the ONNX operator-set version,
    13 or more (17 or more with LayerNorm).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"to_onnx: model must be a tinymed Module, got {type(model).__name__}")
    onnx = _require_onnx()
    if not isinstance(opset, (int, np.integer)) or not MIN_OPSET <= opset <= onnx.defs.onnx_opset_version():
        raise ValueError(f"to_onnx: opset must be an int from {MIN_OPSET} to {onnx.defs.onnx_opset_version()} "
                         f"(this onnx package's newest), got {opset!r}")
    arrays = _inputs(example_input)
    graph = Graph(onnx, int(opset), _float_dtype(model, arrays))
    axis = _batch_axis(model) if dynamic_batch else None
    inputs = [Value(graph.name(name), a, axis) for name, a in zip(_names(input_names, "input", len(arrays)), arrays)]
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        outputs = _outputs(_converter(model, "the model")(graph, model, *inputs))
        with no_grad():
            expected = model(*(Tensor(a) for a in arrays))
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)
    proto = _model_proto(onnx, graph, inputs, outputs, _names(output_names, "output", len(outputs)))
    onnx.checker.check_model(proto, full_check=True)
    if verify:
        _verify(onnx, proto, inputs, expected)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(path))
    return proto


def _names(given, stem: str, count: int) -> list:
    names = [stem] + [f"{stem}_{k}" for k in range(1, count)] if given is None else list(given)
    if len(names) != count or len(set(names)) != count:
        raise ValueError(f"to_onnx: {stem}_names must be {count} different names, got {given!r}")
    return names


def _value_info(onnx, name: str, example: np.ndarray, batch_axis):
    shape = ["batch" if axis == batch_axis else size for axis, size in enumerate(example.shape)]
    return onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(example.dtype), shape)


def _model_proto(onnx, graph: Graph, inputs: list, outputs: list, output_names: list):
    """The graph with its inputs and outputs declared; each output renamed by an ``Identity``."""
    for value, name in zip(outputs, output_names):
        if name in graph.used:
            raise ValueError(f"to_onnx: output name {name!r} is already the name of a value inside the graph; "
                             "choose another")
        graph.nodes.append(onnx.helper.make_node("Identity", [value.name], [name], name=graph.name(f"{name}/node")))
    proto = onnx.helper.make_graph(
        graph.nodes, "tinymed", [_value_info(onnx, v.name, v.example, v.batch_axis) for v in inputs],
        [_value_info(onnx, name, v.example, v.batch_axis if inputs[0].batch_axis is not None else None)
         for v, name in zip(outputs, output_names)],
        graph.initializers)
    model = onnx.helper.make_model(proto, producer_name="tinymed",
                                   opset_imports=[onnx.helper.make_opsetid("", graph.opset)])
    model.ir_version = min(model.ir_version, 10)  # runtimes a year old read IR 10
    return model


def _verify(onnx, proto, inputs: list, expected) -> None:
    """Run the graph on the example input: each output must be the model's, to float rounding.  A
    layer whose weights or hooks the converters misread is caught here, not after deployment.

    The runner is ONNX Runtime where it is installed -- what deployments use -- and otherwise the
    reference evaluator of the ``onnx`` package (plain NumPy).  That evaluator, in onnx 1.23, reads
    the padding of a stride-1 pooling as (top, bottom, left, right) instead of ONNX's (top, left,
    bottom, right), so a pooling padded differently in height and width fails there although the
    file is right: install onnxruntime, or pass ``verify=False``.
    """
    feeds = {v.name: v.example for v in inputs}
    try:
        runtime = importlib.import_module("onnxruntime")
    except ImportError:
        runner = "onnx's reference evaluator"
        got = importlib.import_module("onnx.reference").ReferenceEvaluator(proto).run(None, feeds)
    else:
        runner = "ONNX Runtime"
        session = runtime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
        got = session.run(None, feeds)
    wanted = [t.numpy() for t in _tensors(expected)]
    tolerance = dict(rtol=1e-4, atol=1e-5) if wanted[0].dtype == np.float32 else dict(rtol=1e-9, atol=1e-12)
    for k, (a, b) in enumerate(zip(got, wanted)):
        scale = max(1.0, float(np.abs(b).max(initial=0.0)))
        if a.shape != b.shape or not np.allclose(a, b, rtol=tolerance["rtol"], atol=tolerance["atol"] * scale):
            difference = f"largest difference {np.abs(a - b).max()}" if a.shape == b.shape else f"shape {a.shape}"
            raise RuntimeError(f"to_onnx: output {k} of the exported graph, run by {runner}, differs from the model's "
                               f"on the example input ({difference} instead of {b.shape}); does the model run hooks "
                               "or a forward() that its layers do not show?")


def _tensors(result) -> list:
    """The Tensors of a model's result, nested tuples flattened in order (None skipped)."""
    if isinstance(result, Tensor):
        return [result]
    return [t for part in result if part is not None for t in _tensors(part)]


def _require_onnx():
    try:
        return importlib.import_module("onnx")
    except ImportError:
        raise ImportError("to_onnx needs the onnx package: pip install 'tinymed[export]' "
                          "(or pip install onnx)") from None
