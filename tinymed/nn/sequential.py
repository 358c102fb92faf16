"""``Sequential``: layers applied one after another (PyTorch's container)."""

from __future__ import annotations

from . import _deprecated
from .module import Module


class Sequential(Module):
    """``Sequential(layer1, layer2, ...)``, ``Sequential([layers])``, or empty and then ``add``.

    Layers are registered under their position (``"0"``, ``"1"``, ...), so state-dict keys
    match PyTorch's ``nn.Sequential``.  For Keras's ``compile``, ``fit``, ``evaluate`` and
    ``predict`` use :class:`tinymed.keras.models.Sequential`, which is this container plus them.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for layer in layers:
            self.add(layer)

    def add(self, layer: Module) -> None:
        """Append a layer (Keras's ``model.add``)."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.add: expected a Module (a layer), got {type(layer).__name__}")
        self.add_module(str(len(self._modules)), layer)

    append = add

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        layers = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(layers[index])
        return layers[index]

    def forward(self, x):
        for layer in self._modules.values():
            x = layer(x)
        return x

    def __getattr__(self, name):
        if name in _deprecated.KERAS_METHODS:
            return _deprecated.keras_method(self, name)
        return super().__getattr__(name)
