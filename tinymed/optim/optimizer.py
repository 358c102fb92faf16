"""The base class of every optimizer: parameters, ``step``, ``zero_grad`` and state dicts.

A subclass says what its hyperparameters and per-parameter buffers are called and how one
parameter moves (``_update``); checking and binding the parameters, skipping those without a
gradient, counting steps and saving and restoring state are done here, once.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..backend import array_module, to_numpy
from . import _deprecated_keywords
from ._checks import number, scalar
from .clip import clip_by_global_norm, clip_by_norm, clip_by_value

__all__ = ["Optimizer"]

# Clipping inside the step, by the key a state dict stores it under.  The keys are Keras's
# argument names: tinymed.keras.optimizers takes them, and checkpoints have always used them.
_CLIPPING = {"clipvalue": clip_by_value, "clipnorm": clip_by_norm, "global_clipnorm": clip_by_global_norm}


# ----- the base class ----------------------------------------------------------------------
class Optimizer:
    """Base class: parameter binding, ``step``, ``zero_grad`` and state dicts.

    A subclass lists its hyperparameters in ``_hyper`` and its per-parameter buffers in
    ``_buffers``, and implements ``_update(p, g, state)``: the update of one parameter ``p``
    in place, from its gradient ``g`` and its state dict (empty on its first step).

    ``lr`` may be changed at any time (the schedules of :mod:`tinymed.optim.lr_scheduler` do
    exactly that); every assignment is checked.

    **Late binding.**  ``params`` may be left out (``SGD(lr=0.1)``) and given later with
    :meth:`bind`.  PyTorch has no such step: it is the mechanism :mod:`tinymed.keras.optimizers`
    builds on, because a Keras optimizer is made before the model's weights exist and is bound
    to them by ``compile``.  A state dict loaded before binding waits for :meth:`bind`.

    **Clipping inside the step.**  ``_clipping`` is ``None`` or a pair ``(rule, bound)``, the
    rule one of ``"clipvalue"``, ``"clipnorm"``, ``"global_clipnorm"`` (see
    :mod:`tinymed.optim.clip`): the gradients the update uses are clipped, ``p.grad`` is left
    as it is.  This is Keras's way, and :mod:`tinymed.keras.optimizers` sets it from the
    arguments of those names; PyTorch code calls :func:`~tinymed.optim.clip_grad_norm_` between
    ``backward()`` and ``step()`` instead.
    """

    _hyper: tuple = ()
    _buffers: tuple = ()

    def __init__(self, params=None, lr=1e-3, **deprecated):
        name = type(self).__name__
        clipping = None
        if deprecated:  # Keras's keywords, accepted for one more release
            lr, clipping = _deprecated_keywords.keras_keywords(name, ("params", "lr") + self._hyper, lr, deprecated)
        self.lr = lr
        self._clipping = None
        if clipping is not None:
            self._set_clipping(*clipping)
        self.iterations = 0
        self.state: dict = {}
        self._params = None
        self._pending_state = None
        if params is not None:
            self.bind(params)

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = number(type(self).__name__, "lr", value)

    # Keras's names of lr and of the clipping bounds: deprecated here, kept by tinymed.keras
    learning_rate = _deprecated_keywords.renamed_attribute("learning_rate", "lr")
    clipnorm = _deprecated_keywords.clipping_attribute("clipnorm")
    clipvalue = _deprecated_keywords.clipping_attribute("clipvalue")
    global_clipnorm = _deprecated_keywords.clipping_attribute("global_clipnorm")

    @property
    def params(self) -> list:
        return [] if self._params is None else list(self._params)

    def bind(self, params):
        """Attach the parameters to optimize; returns the optimizer (see *Late binding* above).

        Binding the same parameters again keeps the optimizer's state; other parameters
        start it afresh.
        """
        name = type(self).__name__
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (int, float)):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors, got the number {params!r}; "
                f"the learning rate is the keyword lr: {name}(params, lr={params!r}) "
                f"(tinymed.keras.optimizers takes it first, as Keras does)"
            )
        try:
            params = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors, got {type(params).__name__}") from None
        if not params:
            raise ValueError(f"{name}: got an empty parameter list")
        for i, p in enumerate(params):
            if isinstance(p, dict):
                raise TypeError(f"{name}: parameter groups (dicts) are not supported; pass one iterable of Tensors")
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameter {i} is a {type(p).__name__}, expected a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"{name}: parameter {i} must be floating point, got dtype {p.dtype}")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: the same parameter appears more than once in params")
        same = self._params is not None and [id(p) for p in params] == [id(p) for p in self._params]
        if not same:
            self.state = {}
        self._params = params
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self._load_buffers(pending)
        return self

    def _require_params(self, what):
        if self._params is None:
            name = type(self).__name__
            raise RuntimeError(
                f"{name}.{what}: no parameters are bound to this optimizer; build it as "
                f"{name}(model.parameters(), ...) or call .bind(params) (compile does)"
            )
        return self._params

    def zero_grad(self, set_to_none: bool = True):
        """Forget the gradients: set every ``p.grad`` to ``None`` (or to zeros)."""
        for p in self._require_params("zero_grad"):
            if p.grad is not None:
                p.grad = None if set_to_none else array_module(p.grad).zeros_like(p.grad)

    def step(self, closure=None):
        """One update of every bound parameter that has a gradient.

        ``closure``, if given, is called first (it should recompute the loss and call
        ``backward``); its result is returned, as in PyTorch.
        """
        params = self._require_params("step")
        loss = closure() if closure is not None else None
        for i, (p, g) in enumerate(zip(params, self._gradients(params))):
            if g is not None:
                self._update(p, g, self.state.setdefault(i, {}))
        self.iterations += 1
        return loss

    def _update(self, p, g, state):
        raise NotImplementedError(f"{type(self).__name__}._update")

    def _gradients(self, params):
        """Each parameter's gradient (``None`` where it has none), clipped if a rule is set."""
        name = type(self).__name__
        grads = []
        for i, p in enumerate(params):
            if p.grad is not None and tuple(p.grad.shape) != p.shape:
                raise ValueError(
                    f"{name}: parameter {i} has shape {p.shape} but its grad has shape {tuple(p.grad.shape)}"
                )
            grads.append(p.grad)
        if self._clipping is None:
            return grads
        rule, bound = self._clipping
        return _CLIPPING[rule](grads, bound)

    # ----- clipping inside the step --------------------------------------------------------
    def _clip_bound(self, rule):
        """The bound of ``rule`` if it is the clipping in use, else ``None``."""
        return self._clipping[1] if self._clipping is not None and self._clipping[0] == rule else None

    def _set_clipping(self, rule, bound):
        """Clip by ``rule`` with ``bound`` inside each step; ``bound=None`` turns ``rule`` off."""
        if bound is None:
            if self._clip_bound(rule) is not None:
                self._clipping = None
            return
        if self._clipping is not None and self._clipping[0] != rule:
            raise ValueError(
                f"{type(self).__name__}: give at most one of clipnorm, clipvalue, global_clipnorm; "
                f"{self._clipping[0]} is set already"
            )
        self._clipping = (rule, number(type(self).__name__, rule, bound))

    # ----- state dicts ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """A flat dict of NumPy arrays and Python numbers: hyperparameters, counters, buffers.

        Keys: ``"lr"``, ``"iterations"``, each hyperparameter (``"momentum"``, ``"betas"``,
        ...), the clipping in use (``"clipnorm"``, ...), ``"num_params"`` once bound, and
        ``"state.<i>.<buffer>"`` for parameter ``i`` (e.g. ``"state.0.exp_avg"``,
        ``"state.0.step"``).  It can be written with ``numpy.savez``.
        """
        d = {"lr": self.lr, "iterations": self.iterations}
        for key in self._hyper:
            value = getattr(self, key)
            d[key] = np.array(value, dtype=np.float64) if isinstance(value, tuple) else value
        if self._clipping is not None:
            rule, bound = self._clipping
            d[rule] = bound
        if self._params is not None:
            d["num_params"] = len(self._params)
        for i in sorted(self.state):
            for key, value in self.state[i].items():
                d[f"state.{i}.{key}"] = np.array(to_numpy(value)) if hasattr(value, "shape") else value
        return d

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters, counters and buffers saved by :meth:`state_dict`.

        Training then continues bit for bit as if it had never stopped.  If no parameters are
        bound yet, the buffers are kept and checked at :meth:`bind`.
        """
        name = type(self).__name__
        d = dict(state_dict)
        buffers, unknown = {}, []
        for key in list(d):
            parts = key.split(".")
            if parts[0] == "state":
                if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in self._buffers:
                    unknown.append(key)
                else:
                    buffers.setdefault(int(parts[1]), {})[parts[2]] = d.pop(key)
        required = ("lr", "iterations") + self._hyper
        known = set(required) | set(_CLIPPING) | {"num_params"}
        unknown += [k for k in d if k not in known]
        missing = [k for k in required if k not in d]
        if unknown or missing:
            raise ValueError(
                f"{name}.load_state_dict: this is not a {name} state dict "
                f"(unexpected keys {sorted(unknown)}, missing keys {missing})"
            )
        num_params = scalar(d.get("num_params", None))
        if num_params is not None and self._params is not None and num_params != len(self._params):
            raise ValueError(
                f"{name}.load_state_dict: the state dict is for {num_params} parameters, "
                f"this optimizer has {len(self._params)}"
            )
        hyper = {key: tuple(float(v) for v in d[key]) if np.ndim(d[key]) == 1 else scalar(d[key])
                 for key in self._hyper}
        # the values go through the constructor of the class that holds the update rule: the one
        # place where hyperparameters are checked
        rule = next(c for c in type(self).__mro__ if "_update" in vars(c))
        rule(None, lr=scalar(d["lr"]), **hyper)
        before = dict(self.__dict__)  # all or nothing: a bad value anywhere leaves the optimizer as it was
        try:
            self.lr = scalar(d["lr"])
            self.iterations = int(scalar(d["iterations"]))
            for key, value in hyper.items():
                setattr(self, key, value)
            self._clipping = None
            for rule in _CLIPPING:
                if rule in d:
                    self._set_clipping(rule, float(scalar(d[rule])))
            if self._params is None:
                self._pending_state = buffers
            else:
                self._load_buffers(buffers)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise

    def _load_buffers(self, buffers):
        name = type(self).__name__
        state = {}
        for i, saved in buffers.items():
            if i >= len(self._params):
                raise ValueError(
                    f"{name}.load_state_dict: state for parameter {i}, but only {len(self._params)} are bound"
                )
            p = self._params[i]
            state[i] = {}
            for key, value in saved.items():
                if key == "step":
                    state[i][key] = int(scalar(value))
                    continue
                value = np.asarray(value)
                if value.shape != p.shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state.{i}.{key} has shape {value.shape}, "
                        f"parameter {i} has shape {p.shape}"
                    )
                state[i][key] = array_module(p.data).asarray(value, dtype=p.dtype).copy()
        self.state = state

    def __repr__(self):
        args = [f"lr={self.lr}"] + [f"{k}={getattr(self, k)!r}" for k in self._hyper]
        if self._clipping is not None:
            args.append("{}={}".format(*self._clipping))
        return f"{type(self).__name__}({', '.join(args)})"
