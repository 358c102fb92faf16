"""Names that left tinymed.optim, reached through its module ``__getattr__`` for one more release.

``optim.get(identifier)`` -> ``tinymed.keras.optimizers.get(identifier)``.  It keeps its old
behaviour exactly, with a ``DeprecationWarning``; it needs nothing from tinymed.keras.  (The
deprecated keywords and attributes of the optimizers are in ``_deprecated_keywords.py``.)  Delete
this file, and the ``__getattr__`` of ``tinymed.optim``, in the next release.
"""

from __future__ import annotations

from ._deprecated_keywords import KERAS, warn
from .adaptive import AdaGrad, Adam, AdamW, RMSprop
from .optimizer import Optimizer
from .sgd import GD, SGD

# the old table: Keras's default learning rate for each name; the classes keep PyTorch's other defaults
_BY_NAME = {"sgd": (SGD, 0.01), "gd": (GD, 0.01), "adam": (Adam, 0.001), "adamw": (AdamW, 0.001),
            "rmsprop": (RMSprop, 0.001), "adagrad": (AdaGrad, 0.001)}


def get(identifier, **kwargs):
    """Deprecated: use ``tinymed.keras.optimizers.get``.

    Behaves as before: an optimizer object is returned as it is, a class is called with
    ``kwargs``, and a name (``"sgd"``, ``"gd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``,
    ``"adagrad"``, any case) builds the ``tinymed.optim`` class with Keras's default learning
    rate (0.01 for sgd and gd, 0.001 for the others) and PyTorch's other defaults.
    ``tinymed.keras.optimizers.get`` builds Keras's classes, with all of Keras's defaults.
    """
    warn(f"tinymed.optim.get is deprecated: use {KERAS}.get (Keras's classes, with all of Keras's defaults)")
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise TypeError(f"optim.get: keyword arguments {sorted(kwargs)} cannot be applied to an existing optimizer")
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier(**kwargs)
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        cls, keras_lr = _BY_NAME[identifier.lower()]
        if "lr" not in kwargs and "learning_rate" not in kwargs:
            kwargs["lr"] = keras_lr
        return cls(**kwargs)
    raise ValueError(
        f"optim.get: unknown optimizer {identifier!r}; expected one of "
        f"{', '.join(repr(n) for n in _BY_NAME)} (any case) or an Optimizer"
    )
