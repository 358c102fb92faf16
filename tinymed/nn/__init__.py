"""Neural-network building blocks: Modules, layers, initialisation; ``functional`` holds the ops."""

from . import functional, init
from .layers import AvgPool2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh
from .module import Module, Parameter
from .sequential import Sequential
from .training import Model
from .keras import Activation, AveragePooling2D, Conv2D, Dense, MaxPooling2D
from .losses import (BCELoss, BCEWithLogitsLoss, BinaryCrossentropy, CategoricalCrossentropy, CrossEntropyLoss,
                     MeanSquaredError, MSELoss, SparseCategoricalCrossentropy)
from .callbacks import Callback, EarlyStopping, History, LearningRateScheduler, ModelCheckpoint
from . import callbacks, losses

__all__ = [
    "functional", "init", "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
    "Flatten", "ReLU", "Sigmoid", "Tanh", "Softmax", "Dropout", "Identity", "Sequential",
    "Model", "Dense", "Conv2D", "MaxPooling2D", "AveragePooling2D", "Activation",
    "MSELoss", "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "MeanSquaredError",
    "BinaryCrossentropy", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
    "Callback", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
    "callbacks", "losses",
]
from .normalization import Embedding, LayerNorm
from .recurrent import GRU, LSTM, RNN
from .attention import MultiheadAttention, TransformerEncoderLayer
from .seq2seq import Seq2Seq

__all__ += ["LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer",
            "Seq2Seq"]
