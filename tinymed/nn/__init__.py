"""Neural-network building blocks: Modules, layers, initialisation; ``functional`` holds the ops."""

from . import functional, init
from .layers import AvgPool2d, Conv2d, Dropout, Flatten, Identity, Linear, MaxPool2d, ReLU, Sigmoid, Softmax, Tanh
from .module import Module, Parameter
from .sequential import Sequential

__all__ = [
    "functional", "init", "Module", "Parameter", "Linear", "Conv2d", "MaxPool2d", "AvgPool2d",
    "Flatten", "ReLU", "Sigmoid", "Tanh", "Softmax", "Dropout", "Identity", "Sequential",
]
