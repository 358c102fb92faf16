"""The base class of every optimizer: parameters and parameter groups, ``step``, ``zero_grad``, state dicts.

A subclass says what its hyperparameters and per-parameter buffers are called and how one
parameter moves (``_update``); checking and binding the parameters, grouping them, skipping those
without a gradient, counting steps and saving and restoring state are done here, once.
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
    """Base class: parameters and parameter groups, ``step``, ``zero_grad`` and state dicts.

    A subclass lists its hyperparameters in ``_hyper`` and its per-parameter buffers in
    ``_buffers``, and implements ``_update(p, g, state)``: the update of one parameter ``p``
    in place, from its gradient ``g`` and its state dict (empty on its first step), reading its
    hyperparameters as attributes (``self.lr``, ``self.momentum``, ...).

    **Parameter groups**, as in PyTorch: ``params`` is an iterable of Tensors or of dicts, each
    ``{"params": tensors, **options}`` with options among ``lr`` and the hyperparameters, e.g.
    ``AdamW([{"params": matrices, "weight_decay": 0.1}, {"params": biases, "weight_decay": 0.0}],
    lr=3e-4)``.  ``param_groups`` lists the groups, each a dict of its ``"params"`` and every
    hyperparameter (an option it does not give is the constructor's, kept in ``defaults``); a
    schedule or the user may change a group's values at any time.  During a step, ``_update``
    reads the values of the group of the parameter it moves.

    ``opt.lr`` (and ``opt.momentum``, ...) is the value shared by every group; assigning it sets
    it in every group and in ``defaults`` (``lr`` is checked on every assignment).  Reading it
    while the groups hold different values is an error that says to read ``param_groups``.

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
        self.param_groups: list = []
        self._params = None
        self._active_group = None
        self._pending_state = None
        if params is not None:
            self.bind(params)

    # ----- hyperparameters: the constructor's in ``defaults``, each group's in its dict ----------
    @classmethod
    def _options(cls) -> tuple:
        return ("lr",) + cls._hyper

    def __setattr__(self, name, value):
        if name not in self._options():
            object.__setattr__(self, name, value)
            return
        if name == "lr":
            value = number(type(self).__name__, "lr", value)
        # subclasses set their hyperparameters before Optimizer.__init__ runs: defaults come first
        self.__dict__.setdefault("defaults", {})[name] = value
        for group in self.__dict__.get("param_groups", ()):
            group[name] = value

    def __getattr__(self, name):
        # only called when normal lookup fails, which it always does for a hyperparameter
        if name not in self._options() or "defaults" not in self.__dict__:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        if self.__dict__.get("_active_group") is not None:
            return self._active_group[name]
        groups = self.__dict__.get("param_groups") or [self.defaults]
        values = [group[name] for group in groups]
        if any(v != values[0] for v in values[1:]):
            raise ValueError(f"{type(self).__name__}.{name}: the parameter groups hold different values {values}; "
                             f"read optimizer.param_groups[i][{name!r}]")
        return values[0]

    def _checked_options(self, owner, options: dict) -> dict:
        """``defaults`` updated by ``options``, every value checked by the constructor of the
        class that holds the update rule (the one place where hyperparameters are checked)."""
        unknown = sorted(set(options) - set(self._options()))
        if unknown:
            raise ValueError(f"{owner}: unknown option(s) {unknown}; the options are {list(self._options())}")
        rule = next(c for c in type(self).__mro__ if "_update" in vars(c))
        try:
            checked = rule(None, **{**self.defaults, **options})
        except (TypeError, ValueError) as exc:  # the rule's message, said of this group or state dict
            raise type(exc)(f"{owner}: {str(exc).removeprefix(f'{rule.__name__}: ')}") from None
        return {key: checked.defaults[key] for key in self._options()}

    # Keras's names of lr and of the clipping bounds: deprecated here, kept by tinymed.keras
    learning_rate = _deprecated_keywords.renamed_attribute("learning_rate", "lr")
    clipnorm = _deprecated_keywords.clipping_attribute("clipnorm")
    clipvalue = _deprecated_keywords.clipping_attribute("clipvalue")
    global_clipnorm = _deprecated_keywords.clipping_attribute("global_clipnorm")

    # ----- parameters ----------------------------------------------------------------------
    @property
    def params(self) -> list:
        """Every bound parameter, group after group."""
        return [] if self._params is None else list(self._params)

    def bind(self, params):
        """Attach the parameters to optimize -- Tensors or parameter groups (dicts); returns the
        optimizer (see *Late binding* above).

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
        if all(isinstance(p, dict) for p in params):
            groups = [self._new_group(g, f"{name}: parameter group {j}") for j, g in enumerate(params)]
        elif any(isinstance(p, dict) for p in params):
            raise TypeError(f"{name}: params must be all Tensors or all parameter groups (dicts), not a mix")
        else:
            groups = [self._new_group({"params": params}, name)]
        flat = [p for group in groups for p in group["params"]]
        if not flat:
            raise ValueError(f"{name}: got an empty parameter list")
        self._check_distinct(flat)
        same = self._params is not None and [id(p) for p in flat] == [id(p) for p in self._params]
        if not same:
            self.state = {}
        self._params, self.param_groups = flat, groups
        if self._pending_state is not None:
            pending, self._pending_state = self._pending_state, None
            self._load_groups_and_buffers(*pending)
        return self

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (PyTorch's), e.g. layers unfrozen while
        fine-tuning.  Its parameters must not be in the optimizer already."""
        name = type(self).__name__
        self._require_params("add_param_group")
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}.add_param_group: expected a dict {{'params': tensors, ...}}, "
                            f"got {type(param_group).__name__}")
        group = self._new_group(param_group, f"{name}.add_param_group")
        self._check_distinct(self._params + group["params"])
        self._params = self._params + group["params"]
        self.param_groups.append(group)

    def _new_group(self, spec: dict, owner) -> dict:
        """A parameter group from ``{"params": ..., **options}``: its tensors, checked, and every option."""
        if "params" not in spec:
            raise ValueError(f"{owner}: a parameter group needs the key 'params', got keys {sorted(spec)}")
        params = spec["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{owner}: parameter {i} is a {type(p).__name__}, expected a Tensor")
            if p.dtype.kind != "f":
                raise TypeError(f"{owner}: parameter {i} must be floating point, got dtype {p.dtype}")
        options = {k: v for k, v in spec.items() if k != "params"}
        return {"params": params, **self._checked_options(owner, options)}

    def _check_distinct(self, params):
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: the same parameter appears more than once in params")

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
        """One update of every bound parameter that has a gradient, with its group's hyperparameters.

        ``closure``, if given, is called first (it should recompute the loss and call
        ``backward``); its result is returned, as in PyTorch.
        """
        params = self._require_params("step")
        loss = closure() if closure is not None else None
        grads = iter(enumerate(self._gradients(params)))
        for group in self.param_groups:
            self._active_group = group
            try:
                for p, (i, g) in zip(group["params"], grads):
                    if g is not None:
                        self._update(p, g, self.state.setdefault(i, {}))
            finally:
                self._active_group = None
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
    def _groups_are_defaults(self) -> bool:
        """One group, holding the constructor's values: a state dict then needs no group keys."""
        return len(self.param_groups) <= 1 and all(
            group[key] == self.defaults[key] for group in self.param_groups for key in self._options())

    def state_dict(self) -> dict:
        """A flat dict of NumPy arrays and Python numbers: hyperparameters, groups, counters, buffers.

        Keys: ``"lr"``, ``"iterations"``, each hyperparameter (``"momentum"``, ``"betas"``,
        ...) as the constructor set it, the clipping in use (``"clipnorm"``, ...),
        ``"num_params"`` once bound, and ``"state.<i>.<buffer>"`` for parameter ``i`` counted
        across the groups (e.g. ``"state.0.exp_avg"``, ``"state.0.step"``).  Unless the
        optimizer has a single group with the constructor's values, ``"param_groups.<j>.num_params"``
        and ``"param_groups.<j>.<option>"`` give each group's size and values.  It can be written
        with ``numpy.savez``.
        """
        d = {key: _flat_value(self.defaults[key]) for key in self._options()}
        d["iterations"] = self.iterations
        if self._clipping is not None:
            rule, bound = self._clipping
            d[rule] = bound
        if self._params is not None:
            d["num_params"] = len(self._params)
        if not self._groups_are_defaults():
            for j, group in enumerate(self.param_groups):
                d[f"param_groups.{j}.num_params"] = len(group["params"])
                d.update({f"param_groups.{j}.{key}": _flat_value(group[key]) for key in self._options()})
        for i in sorted(self.state):
            for key, value in self.state[i].items():
                d[f"state.{i}.{key}"] = np.array(to_numpy(value)) if hasattr(value, "shape") else value
        return d

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore hyperparameters, groups, counters and buffers saved by :meth:`state_dict`.

        Training then continues bit for bit as if it had never stopped.  If no parameters are
        bound yet, the groups and buffers are kept and checked at :meth:`bind`.  A state dict
        that does not fit changes nothing.
        """
        name = type(self).__name__
        d = dict(state_dict)
        buffers, groups, unknown = {}, {}, []
        for key in list(d):
            parts = key.split(".")
            if parts[0] == "state":
                if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in self._buffers:
                    unknown.append(key)
                else:
                    buffers.setdefault(int(parts[1]), {})[parts[2]] = d.pop(key)
            elif parts[0] == "param_groups":
                if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in self._options() + ("num_params",):
                    unknown.append(key)
                else:
                    groups.setdefault(int(parts[1]), {})[parts[2]] = _restored_value(d.pop(key))
        required = self._options() + ("iterations",)
        known = set(required) | set(_CLIPPING) | {"num_params"}
        unknown += [k for k in d if k not in known]
        missing = [k for k in required if k not in d]
        missing += [f"param_groups.{j}.{k}" for j, g in groups.items() for k in self._options() + ("num_params",)
                    if k not in g]
        if unknown or missing or sorted(groups) != list(range(len(groups))):
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
        defaults = self._checked_options(f"{name}.load_state_dict", {k: _restored_value(d[k]) for k in self._options()})
        saved_groups = [groups[j] for j in range(len(groups))]
        before = dict(self.__dict__)  # all or nothing: a bad value anywhere leaves the optimizer as it was
        before_groups = [dict(group) for group in self.param_groups]
        try:
            self.defaults = defaults
            self.iterations = int(scalar(d["iterations"]))
            self._clipping = None
            for rule in _CLIPPING:
                if rule in d:
                    self._set_clipping(rule, float(scalar(d[rule])))
            if self._params is None:
                self._pending_state = (saved_groups, buffers)
            else:
                self._load_groups_and_buffers(saved_groups, buffers)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            for group, saved in zip(self.param_groups, before_groups):
                group.clear()
                group.update(saved)
            raise

    def _load_groups_and_buffers(self, saved_groups, buffers):
        """Each group's values (or, for a state dict without groups, the defaults in every group),
        then each parameter's buffers."""
        name = type(self).__name__
        saved_groups = saved_groups or [{"num_params": len(self._params)}]
        sizes = [int(scalar(g["num_params"])) for g in saved_groups]
        if sizes != [len(g["params"]) for g in self.param_groups]:
            raise ValueError(
                f"{name}.load_state_dict: the state dict is for parameter groups of sizes {sizes}, this optimizer's "
                f"groups have sizes {[len(g['params']) for g in self.param_groups]}"
            )
        values = [self._checked_options(f"{name}.load_state_dict",
                                        {k: v for k, v in g.items() if k != "num_params"}) for g in saved_groups]
        self._load_buffers(buffers)
        for group, value in zip(self.param_groups, values):
            group.update(value)

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
        args = [f"{k}={self.defaults[k]!r}" for k in self._options()]
        if len(self.param_groups) > 1:
            args.append(f"param_groups={len(self.param_groups)}")
        if self._clipping is not None:
            args.append("{}={}".format(*self._clipping))
        return f"{type(self).__name__}({', '.join(args)})"


def _flat_value(value):
    """A hyperparameter as a state dict stores it: a tuple (``betas``) as a float64 array."""
    return np.array(value, dtype=np.float64) if isinstance(value, tuple) else value


def _restored_value(value):
    """A stored hyperparameter back as a number, or a tuple where it was one."""
    return tuple(float(v) for v in value) if np.ndim(value) == 1 else scalar(value)
