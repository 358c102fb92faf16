"""Keras's keywords and attributes in tinymed.optim's base class, deprecated for one release.

``optim.X(..., learning_rate=a)`` (-> ``lr=a``), ``optim.X(..., clipnorm=c)`` (or ``clipvalue``,
``global_clipnorm``; -> ``tinymed.keras.optimizers.X(clipnorm=c)`` or ``optim.clip_grad_norm_`` /
``clip_grad_value_`` between ``backward()`` and ``step()``), and the attributes
``opt.learning_rate`` (-> ``opt.lr``), ``opt.clipnorm``, ``opt.clipvalue``, ``opt.global_clipnorm``
keep working exactly as before, with a ``DeprecationWarning`` that names the new place.  Clipping
inside the step stays, as the base class's mechanism (tinymed.keras.optimizers sets it); only these
spellings go.  Nothing here imports tinymed.keras, nor any other part of tinymed.optim.  Delete
this file, and the lines of ``optimizer.py`` that name it, in the next release.
"""

from __future__ import annotations

import os
import sys
import warnings

_CLIPPING = ("clipnorm", "clipvalue", "global_clipnorm")
_PACKAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
KERAS = "tinymed.keras.optimizers"
_KERAS_CLASS = {"GD": "SGD", "AdaGrad": "Adagrad"}  # the Keras class of a rule, where its name differs


def warn(message):
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
    keras_class = f"{KERAS}.{_KERAS_CLASS.get(owner, owner)}"
    if "learning_rate" in options:
        warn(f"{owner}(learning_rate=...) is deprecated in tinymed.optim: write {owner}(params, lr=...), "
             f"or use {keras_class}(learning_rate=...) for Keras style")
        lr = options["learning_rate"]
    clips = {k: options[k] for k in _CLIPPING if options.get(k) is not None}
    if len(clips) > 1:
        raise ValueError(f"{owner}: give at most one of clipnorm, clipvalue, global_clipnorm; got {sorted(clips)}")
    if not clips:
        return lr, None
    (rule, bound), = clips.items()
    helper = "clip_grad_value_" if rule == "clipvalue" else "clip_grad_norm_"
    warn(f"{owner}({rule}=...) is deprecated in tinymed.optim: use {keras_class}({rule}=...), "
         f"or call tinymed.optim.{helper} between backward() and step()")
    return lr, (rule, bound)


def renamed_attribute(old, new):
    """A property ``old`` that reads and writes ``new``, warning each time."""

    def message(self):
        return f"{type(self).__name__}.{old} is deprecated in tinymed.optim: use .{new} ({KERAS} keeps .{old})"

    def fget(self):
        warn(message(self))
        return getattr(self, new)

    def fset(self, value):
        warn(message(self))
        setattr(self, new, value)

    return property(fget, fset, doc=f"Deprecated: use ``{new}``.")


def clipping_attribute(rule):
    """A property for the bound of one clipping rule (``None`` when it is not the one in use)."""

    def message(self):
        return f"{type(self).__name__}.{rule} is deprecated in tinymed.optim: use {KERAS}"

    def fget(self):
        warn(message(self))
        return self._clip_bound(rule)

    def fset(self, value):
        warn(message(self))
        self._set_clipping(rule, value)

    return property(fget, fset, doc=f"Deprecated: {KERAS} optimizers take ``{rule}``.")
