r"""Keras's optimizers: ``tf.keras.optimizers``' names, arguments and defaults on tinymed's update rules.

::

    from tinymed.keras import optimizers
    model.compile(optimizer=optimizers.SGD(lr=0.01, momentum=0.9), ...)   # article snippet S2 (old Keras)
    model.compile(optimizer=optimizers.Adam(learning_rate), ...)           # snippet S6
    model.compile(optimizer="adam", ...)                                    # get("adam")

Each class is the :mod:`tinymed.optim` class of the same rule (a subclass: no update rule is
written twice), built the Keras way:

* the learning rate comes first and may be given by position; old Keras's ``lr=`` is accepted
  too, and ``opt.learning_rate`` is the same attribute as ``opt.lr``;
* Keras's argument names and defaults (``beta_1``, ``rho``, ``epsilon=1e-7``, Adagrad's
  ``initial_accumulator_value=0.1``, ...);
* no parameters: ``compile`` binds the model's weights (:meth:`tinymed.optim.Optimizer.bind`);
* ``clipnorm`` (each gradient to norm at most :math:`c`), ``clipvalue`` (each element to
  :math:`[-c, c]`) or ``global_clipnorm`` (all gradients together to norm at most :math:`c`),
  at most one of them: they clip the gradients the update uses and leave ``p.grad`` unchanged
  (:mod:`tinymed.optim.clip`);
* ``weight_decay`` as Keras applies it, decoupled (:math:`\theta \leftarrow \theta - \alpha\lambda\theta`
  before the update): that is :class:`tinymed.optim.AdamW`'s rule, so Adam and AdamW take it;
  SGD, RMSprop and Adagrad refuse it, since their tinymed rules add :math:`\lambda\theta` to the
  gradient instead (PyTorch's way; use :mod:`tinymed.optim` for that).

Where Keras's formula differs from PyTorch's, which tinymed implements, in a detail, the class
says so.  A state dict is that of the :mod:`tinymed.optim` class (PyTorch's names), so a
checkpoint moves between the two styles.  Keras's learning-rate schedule objects, EMA and loss
scaling are not supported; the learning rate is a number.
"""

from __future__ import annotations

import inspect

from .. import optim
from ..optim._checks import number

__all__ = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get"]


def _clipping_attribute(rule):
    def fget(self):
        return self._clip_bound(rule)

    def fset(self, value):
        self._set_clipping(rule, value)

    return property(fget, fset, doc=f"``{rule}`` (``None`` when not in use); at most one clipping at a time.")


class _KerasOptimizer:
    """What a Keras optimizer adds to its :mod:`tinymed.optim` rule: the learning rate first, the
    ``lr`` alias, the clipping options, ``name``."""

    learning_rate = property(lambda self: self.lr, lambda self, value: setattr(self, "lr", value),
                             doc="The learning rate (the same attribute as ``lr``).")
    clipnorm = _clipping_attribute("clipnorm")
    clipvalue = _clipping_attribute("clipvalue")
    global_clipnorm = _clipping_attribute("global_clipnorm")

    def _require_params(self, what):
        if self._params is None:
            raise RuntimeError(
                f"{type(self).__name__}.{what}: no parameters are bound to this optimizer yet; "
                f"model.compile(optimizer=...) binds the model's weights, or call .bind(params)"
            )
        return self._params

    def _learning_rate(self, learning_rate, kwargs):
        """``learning_rate``, or old Keras's ``lr`` in ``kwargs`` (no other keyword is known)."""
        owner = type(self).__name__
        lr = kwargs.pop("lr", None)
        if kwargs:
            valid = [k for k in inspect.signature(type(self).__init__).parameters if k not in ("self", "kwargs")]
            raise TypeError(f"{owner}: unknown argument(s) {sorted(kwargs)}; valid ones are {valid + ['lr']}")
        if lr is None:
            return learning_rate
        default = inspect.signature(type(self).__init__).parameters["learning_rate"].default
        if learning_rate != default:
            raise TypeError(f"{owner}: give the learning rate once, as learning_rate or as lr (old Keras's name)")
        return lr

    def _keras_options(self, name, clipnorm, clipvalue, global_clipnorm):
        given = {k: v for k, v in [("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                   ("global_clipnorm", global_clipnorm)] if v is not None}
        if len(given) > 1:
            raise ValueError(f"{type(self).__name__}: give at most one of clipnorm, clipvalue, global_clipnorm; "
                             f"got {sorted(given)}")
        for rule, bound in given.items():
            self._set_clipping(rule, bound)
        self.name = name

    def _refuse_weight_decay(self, weight_decay):
        owner = type(self).__name__
        if weight_decay is not None and weight_decay != 0:
            raise ValueError(
                f"{owner}: Keras's weight_decay (decoupled: theta <- theta - lr * weight_decay * theta before each "
                f"step) is implemented for Adam and AdamW only; tinymed.optim.{owner}(params, weight_decay=...) "
                f"adds weight_decay * theta to the gradient instead (PyTorch's rule)"
            )


class SGD(_KerasOptimizer, optim.SGD):
    r"""Keras's ``SGD``: gradient descent with optional (Nesterov) momentum.

    ``SGD(learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
    clipvalue=None, global_clipnorm=None, name="SGD")``.

    Keras's momentum :math:`v \leftarrow \beta v - \alpha g,\ \theta \leftarrow \theta + v` is
    the heavy-ball rule of :class:`tinymed.optim.SGD`, step for step, even when :math:`\alpha`
    changes.  Keras's Nesterov step :math:`v \leftarrow \beta v - \alpha g,\ \theta \leftarrow
    \theta + \beta v - \alpha g` is PyTorch's (which tinymed implements) while :math:`\alpha` is
    constant (:math:`v = -\alpha b`); after a change of rate PyTorch's buffer applies the new
    rate to the whole history, Keras's velocity keeps the old one.  ``nesterov=True`` with
    ``momentum=0`` is plain gradient descent, as in Keras.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        lr = self._learning_rate(learning_rate, kwargs)
        self._refuse_weight_decay(weight_decay)
        super().__init__(lr=lr, momentum=momentum, nesterov=bool(nesterov) and momentum != 0)
        self._keras_options(name, clipnorm, clipvalue, global_clipnorm)


class RMSprop(_KerasOptimizer, optim.RMSprop):
    r"""Keras's ``RMSprop``: divide by the root of a running mean of squared gradients.

    ``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
    weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop")``.

    ``rho`` is :class:`tinymed.optim.RMSprop`'s ``alpha`` and ``epsilon`` its ``eps``.  Where
    Keras's formula differs, tinymed keeps PyTorch's: :math:`\epsilon` is added to the root,
    :math:`\sqrt{s_t} + \epsilon` (Keras: :math:`\sqrt{s_t + \epsilon}`; centered,
    :math:`\sqrt{s_t - \bar g_t^2 + \epsilon}`), and with momentum the buffer accumulates
    :math:`g_t/d_t` and is scaled by the current :math:`\alpha` (Keras accumulates
    :math:`\alpha g_t/d_t`; the same path while :math:`\alpha` is constant).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        lr = self._learning_rate(learning_rate, kwargs)
        self._refuse_weight_decay(weight_decay)
        super().__init__(lr=lr, alpha=number("RMSprop", "rho", rho), eps=number("RMSprop", "epsilon", epsilon),
                         momentum=momentum, centered=centered)
        self._keras_options(name, clipnorm, clipvalue, global_clipnorm)


class Adagrad(_KerasOptimizer, optim.AdaGrad):
    r"""Keras's ``Adagrad``: divide by the root of the sum of all past squared gradients.

    ``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
    clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad")``.

    :class:`tinymed.optim.AdaGrad` with Keras's defaults (``epsilon`` is its ``eps``, no
    ``lr_decay``).  Keras's step is :math:`\alpha g_t / \sqrt{s_t + \epsilon}`; tinymed keeps
    PyTorch's :math:`\alpha g_t / (\sqrt{s_t} + \epsilon)`.  With :math:`s_0 = 0.1` both
    :math:`\epsilon` are negligible.
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        lr = self._learning_rate(learning_rate, kwargs)
        self._refuse_weight_decay(weight_decay)
        super().__init__(lr=lr, initial_accumulator_value=initial_accumulator_value,
                         eps=number("Adagrad", "epsilon", epsilon))
        self._keras_options(name, clipnorm, clipvalue, global_clipnorm)


class Adam(_KerasOptimizer, optim.Adam):
    r"""Keras's ``Adam``: momentum and RMSprop, both bias-corrected.

    ``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
    weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam")``.

    ``(beta_1, beta_2)`` are :class:`tinymed.optim.Adam`'s ``betas`` and ``epsilon`` its ``eps``,
    and the steps are that class's: ``Adam(learning_rate=a, epsilon=e)`` moves the weights
    exactly as ``optim.Adam(params, lr=a, eps=e)``.  Keras adds :math:`\epsilon` before the
    bias correction of :math:`v_t`,

    .. math:: \theta_{t+1} = \theta_t - \alpha\frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}\,\frac{m_t}{\sqrt{v_t} + \epsilon},

    PyTorch (and tinymed) after it, :math:`m_t/(\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon)`: Keras's
    :math:`\epsilon` acts as PyTorch's :math:`\epsilon\sqrt{1-\beta_2^t}`, smaller in the first
    steps.  The two differ only where :math:`\sqrt{\hat v}` is as small as :math:`\epsilon`.

    ``weight_decay`` is decoupled, as everywhere in Keras: the rule of :class:`tinymed.optim.AdamW`.
    """

    _decoupled = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        lr = self._learning_rate(learning_rate, kwargs)
        owner = type(self).__name__
        betas = (number(owner, "beta_1", beta_1, below=1.0), number(owner, "beta_2", beta_2, below=1.0))
        super().__init__(lr=lr, betas=betas, eps=number(owner, "epsilon", epsilon),
                         weight_decay=0.0 if weight_decay is None else weight_decay, amsgrad=amsgrad)
        self._keras_options(name, clipnorm, clipvalue, global_clipnorm)


class AdamW(Adam):
    r"""Keras's ``AdamW``: :class:`Adam` with decoupled weight decay, 0.004 by default.

    ``AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw")``.

    The rule of :class:`tinymed.optim.AdamW` (:math:`\theta \leftarrow \theta(1 - \alpha\lambda)`,
    then Adam's step) with Keras's defaults (PyTorch's ``weight_decay`` is 0.01); where
    :math:`\epsilon` enters, see :class:`Adam`.
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number, got None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name, **kwargs)


_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier, **kwargs) -> optim.Optimizer:
    """An optimizer from a Keras name, an optimizer class, or an optimizer.

    A name (``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, any case) builds the
    class of this module with Keras's defaults, ``kwargs`` being its arguments
    (``get("sgd", learning_rate=0.1, momentum=0.9)``).  A class, from here or from
    :mod:`tinymed.optim`, is called with ``kwargs``.  An optimizer object, Keras style or
    PyTorch style (``optim.Adam(lr=1e-3)``), is returned as it is.
    """
    if isinstance(identifier, optim.Optimizer):
        if kwargs:
            raise TypeError(f"get: keyword arguments {sorted(kwargs)} cannot be applied to an existing optimizer")
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, optim.Optimizer):
        return identifier(**kwargs)
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()](**kwargs)
    raise ValueError(
        f"get: unknown optimizer {identifier!r}; expected one of {', '.join(repr(n) for n in _BY_NAME)} "
        f"(any case), an optimizer class or an optimizer"
    )
