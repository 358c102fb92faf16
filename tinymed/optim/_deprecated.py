"""Keras's vocabulary, which leaves tinymed.optim after this release, and where it went.

``tinymed.optim`` speaks PyTorch; Keras's names live in :mod:`tinymed.keras.optimizers`.  For one
release the old spellings keep working here, exactly as before, with a ``DeprecationWarning``
that names the new place:

* ``optim.X(..., learning_rate=a)`` -> ``optim.X(..., lr=a)``, or
  ``tinymed.keras.optimizers.X(learning_rate=a)``;
* ``optim.X(..., clipnorm=c)`` (or ``clipvalue``, ``global_clipnorm``) ->
  ``tinymed.keras.optimizers.X(clipnorm=c)``, or ``optim.clip_grad_norm_`` /
  ``optim.clip_grad_value_`` between ``backward()`` and ``step()``;
* the attributes ``opt.learning_rate`` (-> ``opt.lr``) and ``opt.clipnorm``, ``opt.clipvalue``,
  ``opt.global_clipnorm`` of a ``tinymed.optim`` optimizer;
* ``optim.get(identifier)`` -> ``tinymed.keras.optimizers.get(identifier)``; reached through the
  module ``__getattr__`` of ``tinymed.optim``.

Nothing here imports ``tinymed.keras``: the old behaviour needs only ``tinymed.optim`` itself
(clipping inside the step is the base class's mechanism; only its keywords go).  Delete this
file, and the lines that name it, in the next release.
"""

from __future__ import annotations

import os
import sys
import warnings

_CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")
_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
_KERAS = "tinymed.keras.optimizers"
_KERAS_CLASS = {"GD": "SGD", "AdaGrad": "Adagrad"}  # the Keras class of a rule, where its name differs


def _warn(message):
    """A DeprecationWarning that points at the first caller outside tinymed.optim."""
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def keras_keywords(owner, valid, lr, options):
    """``(lr, clipping)`` from ``lr`` and the Keras keywords in ``options``; ``clipping`` is
    ``None`` or ``(rule, bound)``.  Unknown keywords raise ``TypeError``."""
    unknown = sorted(set(options) - {"learning_rate", *_CLIPPING})
    if unknown:
        raise TypeError(f"{owner}: unknown argument(s) {unknown}; valid ones are {list(valid)}")
    keras_class = f"{_KERAS}.{_KERAS_CLASS.get(owner, owner)}"
    if "learning_rate" in options:
        _warn(f"{owner}(learning_rate=...) is deprecated in tinymed.optim: write {owner}(params, lr=...), "
              f"or use {keras_class}(learning_rate=...) for Keras style")
        lr = options["learning_rate"]
    clips = {k: options[k] for k in _CLIPPING if options.get(k) is not None}
    if len(clips) > 1:
        raise ValueError(f"{owner}: give at most one of clipnorm, clipvalue, global_clipnorm; got {sorted(clips)}")
    if not clips:
        return lr, None
    (rule, bound), = clips.items()
    helper = "clip_grad_value_" if rule == "clipvalue" else "clip_grad_norm_"
    _warn(f"{owner}({rule}=...) is deprecated in tinymed.optim: use {keras_class}({rule}=...), "
          f"or call tinymed.optim.{helper} between backward() and step()")
    return lr, (rule, bound)


def renamed_attribute(old, new):
    """A property ``old`` that reads and writes ``new``, warning each time."""

    def message(self):
        return f"{type(self).__name__}.{old} is deprecated in tinymed.optim: use .{new} ({_KERAS} keeps .{old})"

    def fget(self):
        _warn(message(self))
        return getattr(self, new)

    def fset(self, value):
        _warn(message(self))
        setattr(self, new, value)

    return property(fget, fset, doc=f"Deprecated: use ``{new}``.")


def clipping_attribute(rule):
    """A property for the bound of one clipping rule (``None`` when it is not the one in use)."""

    def message(self):
        return f"{type(self).__name__}.{rule} is deprecated in tinymed.optim: use {_KERAS}"

    def fget(self):
        _warn(message(self))
        return self._clip_bound(rule)

    def fset(self, value):
        _warn(message(self))
        self._set_clipping(rule, value)

    return property(fget, fset, doc=f"Deprecated: {_KERAS} optimizers take ``{rule}``.")


def get(identifier, **kwargs):
    """Deprecated: use ``tinymed.keras.optimizers.get``.

    Behaves as before: an optimizer object is returned as it is, a class is called with
    ``kwargs``, and a name (``"sgd"``, ``"gd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``,
    ``"adagrad"``, any case) builds the ``tinymed.optim`` class with Keras's default learning
    rate (0.01 for sgd and gd, 0.001 for the others) and PyTorch's other defaults.
    ``tinymed.keras.optimizers.get`` builds Keras's classes, with all of Keras's defaults.
    """
    from . import adaptive, sgd
    from .optimizer import Optimizer

    _warn(f"tinymed.optim.get is deprecated: use {_KERAS}.get (Keras's classes, with all of Keras's defaults)")
    by_name = {"sgd": (sgd.SGD, 0.01), "gd": (sgd.GD, 0.01), "adam": (adaptive.Adam, 0.001),
               "adamw": (adaptive.AdamW, 0.001), "rmsprop": (adaptive.RMSprop, 0.001),
               "adagrad": (adaptive.AdaGrad, 0.001)}
    if isinstance(identifier, Optimizer):
        if kwargs:
            raise TypeError(f"optim.get: keyword arguments {sorted(kwargs)} cannot be applied to an existing optimizer")
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier(**kwargs)
    if isinstance(identifier, str) and identifier.lower() in by_name:
        cls, keras_lr = by_name[identifier.lower()]
        if "lr" not in kwargs and "learning_rate" not in kwargs:
            kwargs["lr"] = keras_lr
        return cls(**kwargs)
    raise ValueError(
        f"optim.get: unknown optimizer {identifier!r}; expected one of "
        f"{', '.join(repr(n) for n in by_name)} (any case) or an Optimizer"
    )
