r"""Fused differentiable operations: one :class:`~tinymed.autograd.Function` per operation whose
forward and backward are hand-written kernels of the active backend.

One family per file, named as its kernels in ``tinymed/kernels/reference/``: ``linear``,
``conv``, ``pool``, ``losses``, ``rnn``, ``attention``, ``norm`` (layer norm and embedding), plus
``shape`` (concatenation, which needs no kernel).  The activations that are ``Tensor`` methods
(ReLU, sigmoid, tanh, softmax) have their Functions in :mod:`tinymed.autograd` beside ``exp``
and ``log``; ``activations`` holds the one that is not (GELU).

Each Function's docstring states the formula of its forward and backward and names its kernels.
Functions take arguments that are already checked: :mod:`tinymed.nn.functional` checks them
(shapes, dtypes, geometry) and then calls ``Op.apply``, so this layer stays as short as the maths.
"""

from .activations import GELUFunction
from .attention import ScaledDotProductAttentionFunction
from .conv import Conv2dFunction
from .linear import LinearFunction
from .losses import (
    BCELossFunction,
    BCEWithLogitsLossFunction,
    CrossEntropyLossFunction,
    MSELossFunction,
)
from .norm import EmbeddingFunction, LayerNormFunction
from .pool import AvgPool2dFunction, MaxPool2dFunction
from .rnn import GRUFunction, LSTMFunction, RNNTanhFunction
from .shape import ConcatenateFunction

__all__ = [
    "LinearFunction", "Conv2dFunction", "MaxPool2dFunction", "AvgPool2dFunction",
    "MSELossFunction", "BCELossFunction", "BCEWithLogitsLossFunction", "CrossEntropyLossFunction",
    "RNNTanhFunction", "LSTMFunction", "GRUFunction", "ScaledDotProductAttentionFunction",
    "LayerNormFunction", "EmbeddingFunction", "ConcatenateFunction", "GELUFunction",
]
