"""The Keras adapter: the articles' Keras code runs with ``tensorflow.keras`` replaced by
``tinymed.keras`` in its import lines and nothing else.

Laid out like ``tf.keras``: :mod:`~tinymed.keras.models` (``Sequential``, ``Model``),
:mod:`~tinymed.keras.layers` (``Dense``, ``Conv2D``, ``MaxPooling2D``, ``Flatten``, ...),
:mod:`~tinymed.keras.optimizers`, :mod:`~tinymed.keras.losses`, :mod:`~tinymed.keras.callbacks`
and :mod:`~tinymed.keras.metrics`.  Everything here is built on tinymed's PyTorch-style core:
the layers are ``tinymed.nn`` Modules, the optimizers ``tinymed.optim``'s update rules, and
``fit`` is the usual loop of forward, ``loss.backward()`` and ``optimizer.step()``.
"""

from . import callbacks, layers, losses, metrics, models, optimizers
from .models import Model, Sequential

__all__ = ["callbacks", "layers", "losses", "metrics", "models", "optimizers", "Model", "Sequential"]
