"""Neural networks in PyTorch's style: ``Module``, ``Parameter``, layers, initialisation, losses;
``functional`` holds the ops with ``torch.nn.functional``'s signatures.

Keras's API (``Sequential.compile/fit``, ``Dense``, ``Conv2D``, callbacks) is :mod:`tinymed.keras`.
"""

from . import functional, init, losses
from ._deprecated import MOVED as _MOVED
from ._deprecated import moved_name as _moved_name
from .attention import MultiheadAttention, TransformerEncoderLayer
from .layers import (
    GELU,
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .normalization import Embedding, LayerNorm
from .recurrent import GRU, LSTM, RNN
from .seq2seq import Seq2Seq
from .sequential import Sequential

__all__ = [
    "functional", "init", "losses", "Module", "Parameter", "Sequential",
    "Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "ReLU", "GELU", "Sigmoid", "Tanh", "Softmax",
    "Dropout", "Identity", "LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "MultiheadAttention",
    "TransformerEncoderLayer", "Seq2Seq", "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss",
]


def __getattr__(name):
    # the Keras names tinymed.nn held until this release: they still work, with a warning
    if name in _MOVED:
        return _moved_name(name)
    raise AttributeError(f"module 'tinymed.nn' has no attribute {name!r}")
