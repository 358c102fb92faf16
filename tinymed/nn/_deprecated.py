"""Keras names that ``tinymed.nn`` used to hold, kept working for one release with a warning.

The Keras adapter lives in :mod:`tinymed.keras`; ``tinymed.nn`` is PyTorch's API only and never
imports it.  Old code that writes ``nn.Dense``, ``nn.EarlyStopping`` or calls ``compile`` on an
``nn.Sequential`` still runs: the first use of such a name imports it from its new place and
warns (``DeprecationWarning``) where to import it from.  This module is the one place in
``tinymed.nn`` that reaches up to ``tinymed.keras``, and only on first use of an old name; the
import-linter contract in ``pyproject.toml`` lists it as its one exception.
"""

from __future__ import annotations

import warnings

# old name in tinymed.nn -> (new module, name there); None: the module itself
MOVED = {
    "Model": ("tinymed.keras.models", "Model"),
    "Dense": ("tinymed.keras.layers", "Dense"),
    "Conv2D": ("tinymed.keras.layers", "Conv2D"),
    "MaxPooling2D": ("tinymed.keras.layers", "MaxPooling2D"),
    "AveragePooling2D": ("tinymed.keras.layers", "AveragePooling2D"),
    "Activation": ("tinymed.keras.layers", "Activation"),
    "MeanSquaredError": ("tinymed.keras.losses", "MeanSquaredError"),
    "BinaryCrossentropy": ("tinymed.keras.losses", "BinaryCrossentropy"),
    "SparseCategoricalCrossentropy": ("tinymed.keras.losses", "SparseCategoricalCrossentropy"),
    "CategoricalCrossentropy": ("tinymed.keras.losses", "CategoricalCrossentropy"),
    "Callback": ("tinymed.keras.callbacks", "Callback"),
    "History": ("tinymed.keras.callbacks", "History"),
    "EarlyStopping": ("tinymed.keras.callbacks", "EarlyStopping"),
    "ModelCheckpoint": ("tinymed.keras.callbacks", "ModelCheckpoint"),
    "LearningRateScheduler": ("tinymed.keras.callbacks", "LearningRateScheduler"),
    "callbacks": ("tinymed.keras.callbacks", None),
}

KERAS_METHODS = ("compile", "fit", "evaluate", "predict", "save_weights", "load_weights")


def _warn(old, new, stacklevel=4):
    warnings.warn(f"{old} has moved: use {new} (tinymed.nn is PyTorch's API; Keras's is tinymed.keras). "
                  "The old name will be removed in the next release.", DeprecationWarning, stacklevel=stacklevel)


def moved_name(name):
    """The object an old ``tinymed.nn.<name>`` now is, with a warning naming its new place."""
    module, attribute = MOVED[name]
    _warn(f"tinymed.nn.{name}", module if attribute is None else f"{module}.{attribute}")
    from ..keras import callbacks, layers, losses, models

    owner = {"tinymed.keras.models": models, "tinymed.keras.layers": layers,
             "tinymed.keras.losses": losses, "tinymed.keras.callbacks": callbacks}[module]
    return owner if attribute is None else getattr(owner, attribute)


def keras_method(container, name):
    """``nn.Sequential(...).compile(...)`` and friends: turn the container into the
    ``tinymed.keras.models.Sequential`` it was meant to be (same layers, same state dict), warn,
    and return the requested method."""
    _warn(f"nn.Sequential.{name}", "tinymed.keras.models.Sequential (same constructor)")
    from ..keras.models import Sequential

    container.__class__ = Sequential
    container._reset_training_state()
    return getattr(container, name)
