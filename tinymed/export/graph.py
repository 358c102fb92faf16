"""The ONNX graph under construction: named values, constants (the weights) and nodes.

An ONNX model is a list of *nodes* (operators such as ``Conv`` or ``MatMul``), each reading
and writing *values* by name; the weights are *initializers*, constants stored in the file.
:class:`Graph` hands out unique names and keeps both lists; :class:`Value` is one value
being built, with the array it holds for the example input, so a converter can read shapes.
The ``onnx`` package's helpers turn the lists into the protobuf (no protobuf by hand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Value:
    """A value of the graph: its ``name``, what it holds for the example input, and which of its
    axes is the batch (None where there is none: a weight, a shape)."""

    name: str
    example: np.ndarray
    batch_axis: int | None = 0

    @property
    def shape(self):
        return self.example.shape


class Graph:
    """Nodes and initializers of an ONNX graph being built, with unique names."""

    def __init__(self, onnx_module, opset: int, dtype):
        self.onnx, self.opset, self.dtype = onnx_module, opset, np.dtype(dtype)
        self.nodes, self.initializers, self.used = [], [], set()

    def name(self, hint: str) -> str:
        """``hint``, made unique in this graph (``hint``, ``hint_1``, ...)."""
        name, k = hint, 0
        while name in self.used:
            k += 1
            name = f"{hint}_{k}"
        self.used.add(name)
        return name

    def constant(self, hint: str, array, dtype=None) -> str:
        """Store ``array`` as an initializer (in ``dtype``, by default the model's float type)."""
        array = np.asarray(array, dtype=self.dtype if dtype is None else dtype)
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def int64s(self, hint: str, values) -> str:
        """A 1-D int64 constant: the shapes, axes and permutations that some operators read as inputs."""
        return self.constant(hint, np.asarray(values, dtype=np.int64).reshape(-1), dtype=np.int64)

    def node(self, op_type: str, inputs, hint: str, outputs: int = 1, **attributes):
        """Add a node reading ``inputs`` (names; ``""`` for an omitted optional input); returns the
        name of its output, or a list of names when it has several."""
        names = [self.name(hint if k == 0 else f"{hint}_{k}") for k in range(outputs)]
        self.nodes.append(self.onnx.helper.make_node(op_type, list(inputs), names, name=self.name(f"{hint}/node"),
                                                     **attributes))
        return names[0] if outputs == 1 else names
